"""Answer errors are mapped to the field that caused them, with a human message chosen by the
failed keyword, never jsonschema's own English."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from flask import Flask, g

from formular.definitions.formats import parse_date_limit, today_in_stockholm
from formular.definitions.service import CompiledDefinition, FieldError, compile_definition
from formular.web.messages import describe
from tests.functional.support import (
    RAW_JSONSCHEMA,
    assert_no_raw_messages,
    fill_showcase,
    parse,
    showcase,
    summary_links,
    translate,
)

BASE: dict[str, Any] = {"name": "Tolvan Tolvansson", "birth_date": "1970-05-05",
                        "smoking": "never", "wellbeing": 5, "consent": True}
DROP = object()


@pytest.fixture(scope="module")
def compiled() -> CompiledDefinition:
    return compile_definition(showcase())


def messages(app: Flask, compiled: CompiledDefinition, answers: dict[str, Any]
             ) -> dict[str, list[tuple[str, str]]]:
    """field id -> [(keyword, message)] of every error of the answers, as the pages build
    them."""
    validation = compiled.validate(answers)
    found: dict[str, list[tuple[str, str]]] = {}
    with app.test_request_context("/"):
        g.offered_languages = ["sv"]
        for error in validation.errors:
            spec = compiled.fields.get(error.name)
            if len(error.path) == 3:
                spec = compiled.fields.get(f"{error.path[0]}/{error.path[2]}")
            found.setdefault(error.field_id, []).append((error.keyword, describe(error, spec)))
    return found


def date_text(app: Flask, limit: str) -> str:
    from flask_babel import format_date

    with app.test_request_context("/"):
        g.offered_languages = ["sv"]
        day: date = parse_date_limit(limit).resolve(today_in_stockholm())
        return str(format_date(day, format="long"))


Expect = Callable[[Flask], str]


def t(message: str, **values: Any) -> Expect:
    return lambda app: translate(app, message, **values)


MEDS = {"has_medication": True}
CASES: list[tuple[str, dict[str, Any], str, str, Expect]] = [
    ("required text", {"name": DROP}, "f-name", "required", t("Answer this question.")),
    ("required choice", {"smoking": DROP}, "f-smoking", "required", t("Choose an answer.")),
    ("required scale", {"wellbeing": DROP}, "f-wellbeing", "required", t("Choose an answer.")),
    ("required by a rule", {"smoking": "daily"}, "f-cigarettes", "required",
     t("Answer this question.")),
    ("minimum", {"smoking": "daily", "cigarettes": 0}, "f-cigarettes", "minimum",
     t("Enter a number of at least %(limit)s.", limit="1")),
    ("maximum", {"smoking": "daily", "cigarettes": 101}, "f-cigarettes", "maximum",
     t("Enter a number of at most %(limit)s.", limit="100")),
    ("exclusiveMinimum", {**MEDS, "medications": [{"drug": "Alvedon", "dose_mg": 0}]},
     "f-medications-0-dose_mg", "exclusiveMinimum",
     t("Enter a number greater than %(limit)s.", limit="0")),
    ("minLength", {"name": "T"}, "f-name", "minLength",
     t("Enter at least %(limit)s characters.", limit=2)),
    ("maxLength", {"name": "x" * 101}, "f-name", "maxLength",
     t("Enter at most %(limit)s characters.", limit=100)),
    ("format date", {"birth_date": "2020-02-30"}, "f-birth_date", "format",
     t("Enter a date as YYYY-MM-DD, for example 2026-03-31.")),
    ("format email", {"email": "inte en adress"}, "f-email", "format",
     t("Enter an e-mail address, for example namn@exempel.se.")),
    ("format personnummer", {"personnummer": "19900101-0000"}, "f-personnummer", "format",
     t("Enter a valid personal identity number as YYYYMMDD-NNNN.")),
    ("format phone", {"phone": "12"}, "f-phone", "format",
     t("Enter a phone number with 7 to 15 digits, for example 070-123 45 67.")),
    ("format postcode", {"postcode": "01234"}, "f-postcode", "format",
     t("Enter a postcode with five digits, for example 123 45.")),
    ("formatMinimum relative", {"visit_date": "2000-01-01"}, "f-visit_date", "formatMinimum",
     lambda app: translate(app, "Enter a date on or after %(date)s.",
                           date=date_text(app, "today"))),
    ("formatMaximum relative", {"birth_date": "2999-01-01"}, "f-birth_date", "formatMaximum",
     lambda app: translate(app, "Enter a date on or before %(date)s.",
                           date=date_text(app, "today"))),
    ("enum", {"smoking": "ibland-kanske"}, "f-smoking", "enum",
     t("Choose one of the options given.")),
    ("enum in a matrix row", {"symptoms": ["sleep"], "stress_1": 9}, "f-stress_1", "enum",
     t("Choose one of the options given.")),
    ("const uses the item's error text", {"consent": False}, "f-consent", "const",
     lambda app: "Du behöver bekräfta för att kunna skicka in."),
    ("maxItems of choices", {"symptoms": ["pain", "fatigue", "sleep", "worry", "none", "x"]},
     "f-symptoms", "maxItems", t("Choose at most %(limit)s.", limit=5)),
    ("maxItems of a group", {**MEDS, "medications": [{"drug": "Alvedon"}] * 6},
     "f-medications", "maxItems", t("Add at most %(limit)s.", limit=5)),
    ("maxItems of files", {"photo": [{"name": "a"}, {"name": "b"}, {"name": "c"}]},
     "f-photo", "maxItems", t("Attach at most %(limit)s files.", limit=2)),
    ("uniqueItems", {"symptoms": ["pain", "pain"], "pain_where": "rygg"}, "f-symptoms",
     "uniqueItems", t("Each choice may be given once.")),
    ("type", {"smoking": "daily", "cigarettes": "abc"}, "f-cigarettes", "type",
     t("The answer has the wrong type; enter it again.")),
    ("minLength inside a row", {**MEDS, "medications": [{"drug": "Alvedon"}, {"drug": "X"}]},
     "f-medications-1-drug", "minLength", t("Enter at least %(limit)s characters.", limit=2)),
    ("required inside a row", {**MEDS, "medications": [{"drug": "Alvedon"}, {"dose_mg": 5}]},
     "f-medications-1-drug", "required", t("Answer this question.")),
    ("required by a rule inside a row",
     {**MEDS, "medications": [{"drug": "Alvedon"}, {"drug": "Ipren", "as_needed": True}]},
     "f-medications-1-as_needed_reason", "required", t("Answer this question.")),
]


@pytest.mark.parametrize(("overrides", "field_id", "keyword", "expect"),
                         [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_error_is_mapped_to_its_field_with_a_human_message(
    app: Flask, compiled: CompiledDefinition, overrides: dict[str, Any], field_id: str,
    keyword: str, expect: Expect,
) -> None:
    answers = {k: v for k, v in {**BASE, **overrides}.items() if v is not DROP}
    found = messages(app, compiled, answers)
    assert field_id in found, found
    assert (keyword, expect(app)) in found[field_id]
    generic = translate(app, "The answer is not valid.")
    for entries in found.values():
        for _keyword, message in entries:
            assert message != generic
            assert not any(phrase in message for phrase in RAW_JSONSCHEMA), message


def test_valid_answers_have_no_errors(compiled: CompiledDefinition) -> None:
    assert compiled.validate(BASE).errors == ()


def test_only_the_failing_row_is_named(app: Flask, compiled: CompiledDefinition) -> None:
    answers = {**BASE, **MEDS, "medications": [{"drug": "Alvedon"}, {"drug": "X"},
                                               {"drug": "Ipren"}]}
    assert list(messages(app, compiled, answers)) == ["f-medications-1-drug"]


def test_errors_of_hidden_items_are_not_reported(compiled: CompiledDefinition) -> None:
    # cigarettes is hidden for non-smokers: neither its type nor its range matters.
    validation = compiled.validate({**BASE, "cigarettes": "abc"})
    assert validation.ok
    assert "cigarettes" not in validation.answers
    # A hidden row child likewise (as_needed_reason shows only when as_needed is true).
    validation = compiled.validate({**BASE, **MEDS, "medications": [
        {"drug": "Alvedon", "as_needed": False, "as_needed_reason": "x" * 500}]})
    assert validation.ok
    assert validation.answers["medications"] == [{"drug": "Alvedon", "as_needed": False}]


def test_page_filter_limits_errors_to_the_page(compiled: CompiledDefinition) -> None:
    answers = {"smoking": "daily", "email": "nope"}
    everything = {e.field_id for e in compiled.validate(answers).errors}
    assert {"f-name", "f-email", "f-cigarettes", "f-wellbeing", "f-consent"} <= everything
    page_one = compiled.validate(answers, pages={1}).errors
    assert {e.field_id for e in page_one} == {"f-cigarettes"}
    assert all(isinstance(e, FieldError) and e.page_index == 1 for e in page_one)


def test_no_page_or_review_shows_raw_validator_text(driver: Any, app: Flask) -> None:
    """Bad answers on every page, then the review: only our own sentences appear."""
    form = driver("showcase")
    bad_pages: dict[int, dict[str, Any]] = {
        0: {"name": "T", "birth_date": "1800-01-01", "email": "x", "phone": "1",
            "postcode": "0", "personnummer": "123", "visit_date": "1999-01-01"},
        1: {"smoking": "daily", "cigarettes": "1000", "weight": "5", "height": "999"},
        2: {"symptoms": ["pain", "pain"], "stress_1": "3"},
        3: {"has_medication": "true", "medications-0-drug": "X",
            "medications-0-dose_mg": "-1", "medications-0-as_needed": "true"},
        4: {"consent": "false", "other": "y" * 2001},
    }
    for page, data in bad_pages.items():
        for _ in range(2):  # the second post shows errors of questions that just appeared
            response = form.post(page, data)
            assert response.status_code == 200, (page, response.status_code)
            html = response.get_data(as_text=True)
            assert_no_raw_messages(html)
        assert summary_links(parse(html)), f"page {page} shows its errors"
    review = form.review().get_data(as_text=True)
    assert_no_raw_messages(review)
    assert "f-medications-0-drug" in review
    check = form.client.get(f"{form.base}/0?check=1").get_data(as_text=True)
    assert_no_raw_messages(check)
    assert ("#f-birth_date", translate(app, "Enter a date on or after %(date)s.",
                                       date=date_text(app, "today-P120Y"))) in summary_links(
        parse(check))


def test_review_links_each_problem_to_its_field(driver: Any) -> None:
    form = driver("showcase")
    fill_showcase(form)
    form.post(2, {"symptoms": ["pain"], "wellbeing": "5"}, action="save")
    dom = parse(form.review().get_data(as_text=True))
    summary = dom.find(id="error-summary")
    assert summary is not None
    links = [a.attrs["href"] for a in summary.find_all("a")]
    assert links == [f"{form.base}/2?check=1#f-pain_where"]
    target = parse(form.client.get(links[0].split("#")[0]).get_data(as_text=True))
    assert target.find(id="f-pain_where") is not None
    assert target.find(id="f-pain_where-error") is not None
    # Nothing can be sent while there are problems.
    assert dom.find("form", action=f"{form.base}/submit") is None
