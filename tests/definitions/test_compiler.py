"""The compiler: the meta-schema lists every shape error with a JSON pointer, compiling raises
with every problem, and a compiled definition validates whole answer documents."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from formular.definitions.service import (
    MAX_ANSWER_BYTES,
    InvalidDefinition,
    Subject,
    answers_too_large,
    check,
    compile_cached,
    compile_definition,
    digest,
)

ROOT = Path(__file__).resolve().parents[2]
SHOWCASE: dict[str, Any] = json.loads((ROOT / "designs" / "showcase.json").read_text("utf-8"))
BASE: dict[str, Any] = {"name": "Tolvan Tolvansson", "birth_date": "1970-05-05",
                        "smoking": "never", "wellbeing": 5, "consent": True}


def showcase() -> dict[str, Any]:
    return copy.deepcopy(SHOWCASE)


def pointers(problems: list[Any]) -> list[tuple[str, str]]:
    return [(p.pointer, p.keyword) for p in problems]


# --- the meta-schema --------------------------------------------------------------------------


def test_meta_schema_errors_are_all_listed_with_pointers() -> None:
    document = showcase()
    document["colour"] = "blue"                                     # unknown key at the root
    document["version"] = "one"                                     # wrong type
    document["layout"]["pages"][0]["colour"] = "red"                # unknown key in a page
    items = document["layout"]["pages"][0]["sections"][1]["items"]
    items[0]["label"] = 5                                           # wrong type in an item
    items[1]["placeholder"] = "ÅÅÅÅMMDD-NNNN"                       # unknown key in an item
    document["rules"][0]["id"] = "Not A Slug"                       # pattern
    document["scores"][0]["method"] = "median"                      # enum
    problems = check(document)
    found = pointers(problems)
    assert ("", "additionalProperties") in found
    assert ("/version", "type") in found
    assert ("/layout/pages/0", "additionalProperties") in found
    assert ("/layout/pages/0/sections/1/items/0/label", "type") in found
    assert ("/layout/pages/0/sections/1/items/1", "unevaluatedProperties") in found
    assert ("/rules/0/id", "pattern") in found
    assert ("/scores/0/method", "enum") in found
    assert len(problems) >= 7
    assert len(set(found)) == len(found), "no problem is listed twice"
    assert "colour" in next(p.message for p in problems if p.pointer == "")


def test_missing_required_keys_are_reported_at_the_root() -> None:
    problems = check({"formular": 1, "id": "Bad Id"})
    found = pointers(problems)
    assert ("/id", "pattern") in found
    assert [k for p, k in found if p == ""].count("required") >= 1
    messages = " ".join(p.message for p in problems if p.pointer == "")
    for key in ("version", "kind", "title", "language", "schema", "layout"):
        assert key in messages


@pytest.mark.parametrize("document", [None, [], "text", 1, True])
def test_a_definition_must_be_an_object(document: Any) -> None:
    assert pointers(check(document)) == [("", "type")]


def test_meta_schema_errors_stop_before_lint() -> None:
    document = showcase()
    document["kind"] = "poem"
    del document["schema"]["properties"]["phone"]  # would be a lint problem
    assert pointers(check(document)) == [("/kind", "enum")]


def test_failed_test_cases_are_problems_at_their_pointer() -> None:
    document = showcase()
    document["tests"][1]["expect"]["errors"] = ["quit_year"]
    document["tests"][2]["expect"]["values"] = {"bmi": 99}
    problems = check(document)
    assert pointers(problems) == [("/tests/1", "test-case"), ("/tests/2", "test-case")]
    assert "quit_year" in problems[0].message
    assert "99" in problems[1].message


def test_compile_raises_with_every_problem() -> None:
    document = showcase()
    document["colour"] = "blue"
    document["version"] = 0
    with pytest.raises(InvalidDefinition) as raised:
        compile_definition(document)
    assert {p.pointer for p in raised.value.problems} == {"", "/version"}
    assert "/version" in str(raised.value)


# --- compiled structure ---------------------------------------------------------------------


def test_compiled_fields_cover_every_answer_name() -> None:
    compiled = compile_definition(showcase())
    assert set(SHOWCASE["schema"]["properties"]) <= set(compiled.fields)
    assert compiled.fields["stress_2"].type == "matrix"
    assert compiled.fields["medications/drug"].group == "medications"
    assert compiled.fields["cigarettes"].page_index == 1
    assert [p.id for p in compiled.pages] == ["about-you", "habits", "health", "medication",
                                              "finally"]
    assert compiled.fields["name"].required
    assert not compiled.fields["email"].required


def test_compile_cached_reuses_the_same_content_only() -> None:
    first = compile_cached(showcase())
    assert compile_cached(showcase()) is first
    changed = showcase()
    changed["title"] = "Ändrad titel"
    assert compile_cached(changed) is not first
    assert compile_cached(changed).title == "Ändrad titel"


def test_digest_ignores_key_order() -> None:
    document = showcase()
    reordered = dict(reversed(list(document.items())))
    assert digest(reordered) == digest(document)
    document["version"] = document["version"] + 1
    assert digest(document) != digest(reordered)


# --- validating answers -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def compiled() -> Any:
    return compile_definition(showcase())


def test_valid_answers_are_stored_with_calculated_values(compiled: Any) -> None:
    validation = compiled.validate({**BASE, "weight": 80, "height": 180, "cigarettes": 10})
    assert validation.ok
    assert validation.answers["bmi"] == 24.7
    assert "cigarettes" not in validation.answers


def test_posted_calculated_value_is_replaced(compiled: Any) -> None:
    validation = compiled.validate({**BASE, "weight": 80, "height": 180, "bmi": 1000})
    assert validation.answers["bmi"] == 24.7
    validation = compiled.validate({**BASE, "bmi": 1000})
    assert "bmi" not in validation.answers, "no calculation without its inputs"


def test_empty_answers_are_dropped(compiled: Any) -> None:
    validation = compiled.validate({**BASE, "email": "", "symptoms": [], "other": None})
    assert validation.ok
    assert not {"email", "symptoms", "other"} & set(validation.answers)


def test_staff_only_answers_are_dropped_for_citizens(compiled: Any) -> None:
    answers = {**BASE, "staff_note": "Ringt upp."}
    assert "staff_note" not in compiled.validate(answers).answers
    staff = compiled.validate(answers, audience="staff")
    assert staff.answers["staff_note"] == "Ringt upp."
    assert "staff-section" in compiled.validate(answers).evaluation.hidden
    assert "staff-section" not in staff.evaluation.hidden


def test_skip_rule_hides_pages(compiled: Any) -> None:
    validation = compiled.validate({**BASE, "birth_date": "2012-01-01", "smoking": "daily"})
    assert validation.evaluation.hidden_pages == frozenset({1, 2})
    assert "smoking" not in validation.answers
    assert validation.ok, "required answers of skipped pages are not required"


def test_subject_picks_the_band_set(compiled: Any) -> None:
    answers = {**BASE, "symptoms": ["sleep", "worry"]}
    old = compiled.validate(answers, subject=Subject(sex="female", age=70)).scoring
    young = compiled.validate(answers, subject=Subject(age=40)).scoring
    assert old.scores["symptom-count"].band.id == "few"
    assert young.scores["symptom-count"].band.id == "many"


def test_hidden_row_children_are_dropped_row_by_row(compiled: Any) -> None:
    validation = compiled.validate({**BASE, "has_medication": True, "medications": [
        {"drug": "Alvedon", "as_needed": False, "as_needed_reason": "dold"},
        {"drug": "Ipren", "as_needed": True, "as_needed_reason": "Vid värk"},
    ]})
    assert validation.ok
    assert validation.answers["medications"] == [
        {"drug": "Alvedon", "as_needed": False},
        {"drug": "Ipren", "as_needed": True, "as_needed_reason": "Vid värk"},
    ]
    assert validation.evaluation.is_hidden("as_needed_reason", "medications", 0)
    assert not validation.evaluation.is_hidden("as_needed_reason", "medications", 1)


def test_row_errors_carry_the_row_path(compiled: Any) -> None:
    validation = compiled.validate({**BASE, "has_medication": True, "medications": [
        {"drug": "Alvedon", "as_needed": True}, {"drug": "X"}]})
    assert sorted((e.path, e.keyword, e.field_id) for e in validation.errors) == [
        (("medications", 0, "as_needed_reason"), "required",
         "f-medications-0-as_needed_reason"),
        (("medications", 1, "drug"), "minLength", "f-medications-1-drug"),
    ]
    assert {e.page_index for e in validation.errors} == {3}


@pytest.mark.parametrize("answers", [
    {"name": 5}, {"smoking": ["never"]}, {"medications": "none", "has_medication": True},
    {"medications": [None, 1, "x", []], "has_medication": True},
    {"symptoms": "pain"}, {"symptoms": [{"x": 1}]}, {"photo": {"name": "x"}},
    {"weight": "80", "height": 0}, {"weight": 1e308, "height": 1e-308},
    {"birth_date": 19700505}, {"stress_1": True, "symptoms": ["pain"]},
])
def test_answers_of_wrong_shape_give_errors_not_exceptions(compiled: Any,
                                                            answers: dict[str, Any]) -> None:
    validation = compiled.validate({**BASE, **answers})
    for error in validation.errors:
        assert error.field_id.startswith("f-")


def test_answers_too_large() -> None:
    assert not answers_too_large({"other": "x" * 1000})
    assert answers_too_large({"other": "x" * (MAX_ANSWER_BYTES + 1)})
