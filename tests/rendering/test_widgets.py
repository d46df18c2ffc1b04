"""One render test per item type, through the preview as a browser without JavaScript sees it.

Every page is checked by :func:`assert_accessible` (labels tied to inputs, fieldsets with
legends for groups of inputs, ``aria-describedby`` ids that exist and cover help and errors,
an error summary at the top linking to ids on the page); each test then checks what is special
about its item type, with an error where the type can have one.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from flask import Flask

from formular.storage.models import Upload
from tests.functional.support import (
    Node,
    assert_accessible,
    assert_no_raw_messages,
    by_id,
    count_rows,
    draft_answers,
    field_messages,
    minimal_definition,
    parse,
    store_design,
    summary_links,
    translate,
)


def html_of(response: Any, status: int = 200) -> str:
    assert response.status_code == status, response.status_code
    html: str = response.get_data(as_text=True)
    assert_no_raw_messages(html)
    return html


def describedby(node: Node) -> list[str]:
    return node.attrs.get("aria-describedby", "").split()


def assert_field_error(dom: Node, field_id: str, message: str | None = None,
                       invalid: bool = True) -> None:
    """The field's control (or fieldset) points at its error, and the summary links to it."""
    control = by_id(dom, field_id)
    assert f"{field_id}-error" in describedby(control)
    if invalid:
        assert control.attrs.get("aria-invalid") == "true"
    assert f"#{field_id}" in [href for href, _ in summary_links(dom)]
    if message is not None:
        assert message in field_messages(dom, field_id)[0]
        assert message in [text for href, text in summary_links(dom) if href == f"#{field_id}"]


def assert_labelled(dom: Node, field_id: str, label: str) -> Node:
    control = by_id(dom, field_id)
    labels = [n for n in dom.find_all("label") if n.attrs.get("for") == field_id]
    assert len(labels) == 1
    assert label in labels[0].text()
    return control


def assert_fieldset(dom: Node, field_id: str, legend: str) -> Node:
    fieldset = by_id(dom, field_id)
    assert fieldset.tag == "fieldset"
    first = fieldset.children[0]
    assert first.tag == "legend"
    assert legend in first.text()
    return fieldset


def count_uploads(app: Flask, form: Any) -> int:
    return count_rows(app, Upload, form)


def radios_in(node: Node) -> list[Node]:
    return [n for n in node.find_all("input") if n.attrs.get("type") == "radio"]


# --- single-line inputs ---------------------------------------------------------------------


def test_text_item(driver: Any, app: Flask) -> None:
    form = driver("showcase")
    dom = assert_accessible(html_of(form.get(0)))
    control = assert_labelled(dom, "f-name", "Namn")
    assert control.tag == "input"
    assert control.attrs["type"] == "text"
    assert control.attrs["name"] == "name"
    assert control.attrs["autocomplete"] == "name"
    assert control.attrs.get("aria-required") == "true"

    dom = assert_accessible(html_of(form.post(0, {"name": ""})))
    assert_field_error(dom, "f-name", translate(app, "Answer this question."))


def test_textarea_item(driver: Any, app: Flask) -> None:
    form = driver("showcase")
    dom = assert_accessible(html_of(form.post(4, {"other": "å" * 2001})))
    control = assert_labelled(dom, "f-other", "Något mer")
    assert control.tag == "textarea"
    assert control.attrs["maxlength"] == "2000"
    assert control.text() == "å" * 2001, "what was typed is shown again"
    assert_field_error(dom, "f-other", translate(app, "Enter at most %(limit)s characters.",
                                                 limit=2000))


def test_integer_item_with_unit(driver: Any, app: Flask) -> None:
    form = driver("showcase")
    # The number question appears after the smoking answer; the first post only shows it.
    dom = assert_accessible(html_of(form.post(1, {"smoking": "daily", "cigarettes": "0"})))
    field = by_id(dom, "f-cigarettes").parent
    assert field is not None
    assert "st" in [n.text() for n in dom.find_all("span", class_="unit")]
    control = assert_labelled(dom, "f-cigarettes", "cigaretter")
    assert control.attrs["inputmode"] == "numeric"
    dom = assert_accessible(html_of(form.post(1, {"smoking": "daily", "cigarettes": "0"})))
    assert_field_error(dom, "f-cigarettes", translate(
        app, "Enter a number of at least %(limit)s.", limit="1"))
    assert by_id(dom, "f-cigarettes").attrs["value"] == "0"


def test_decimal_item_with_unit(driver: Any, app: Flask) -> None:
    form = driver("showcase")
    dom = assert_accessible(html_of(form.post(1, {"smoking": "never", "weight": "10",
                                                  "height": "180"})))
    control = assert_labelled(dom, "f-weight", "Vikt")
    assert control.attrs["inputmode"] == "decimal"
    wrapper = control.parent
    assert wrapper is not None
    assert wrapper.has_class("input-with-unit")
    assert [n.text() for n in wrapper.find_all("span", class_="unit")] == ["kg"]
    assert describedby(control)[0] == "f-weight-help"
    assert by_id(dom, "f-weight-help").text().startswith("Decimaler")
    assert_field_error(dom, "f-weight", translate(
        app, "Enter a number of at least %(limit)s.", limit="20"))
    # A Swedish decimal comma is accepted.
    response = form.post(1, {"smoking": "never", "weight": "72,5", "height": "180"})
    assert response.status_code == 302
    assert draft_answers(app, form)["weight"] == 72.5


def test_date_item(driver: Any, app: Flask) -> None:
    from flask_babel import format_date

    from formular.definitions.formats import today_in_stockholm

    form = driver("showcase")
    dom = assert_accessible(html_of(form.post(0, {"name": "Tolvan", "birth_date": "2999-01-01"})))
    control = assert_labelled(dom, "f-birth_date", "Födelsedatum")
    assert control.attrs["type"] == "date"
    assert control.attrs["value"] == "2999-01-01"
    assert describedby(control) == ["f-birth_date-help", "f-birth_date-error"]
    with app.test_request_context("/"):
        today = str(format_date(today_in_stockholm(), format="long"))
    assert_field_error(dom, "f-birth_date", translate(
        app, "Enter a date on or before %(date)s.", date=today))


@pytest.mark.parametrize(("name", "typed", "kind", "extra"), [
    ("personnummer", "123", "personnummer", {"inputmode": "numeric"}),
    ("email", "inte-en-adress", "email", {"type": "email", "autocomplete": "email"}),
    ("phone", "12", "phone", {"type": "tel", "autocomplete": "tel"}),
    ("postcode", "01234", "postcode", {"inputmode": "numeric",
                                       "autocomplete": "postal-code"}),
])
def test_formatted_text_items(driver: Any, app: Flask, name: str, typed: str, kind: str,
                              extra: dict[str, str]) -> None:
    from formular.web.messages import FORMAT_MESSAGES

    form = driver("showcase")
    dom = assert_accessible(html_of(form.post(0, {"name": "Tolvan", "birth_date": "1970-05-05",
                                                  name: typed})))
    control = by_id(dom, f"f-{name}")
    assert control.tag == "input"
    for attribute, value in extra.items():
        assert control.attrs.get(attribute) == value
    assert control.attrs["value"] == typed, "what was typed is shown again"
    with app.test_request_context("/"):
        from flask import g

        g.offered_languages = ["sv"]
        message = str(FORMAT_MESSAGES[kind])
    assert_field_error(dom, f"f-{name}", message)
    assert len(summary_links(dom)) == 1


def test_personnummer_is_stored_in_canonical_form(driver: Any, app: Flask) -> None:
    form = driver("showcase")
    response = form.post(0, {"name": "Tolvan", "birth_date": "1970-05-05",
                             "personnummer": "201701012393"})
    assert response.status_code == 302
    assert draft_answers(app, form)["personnummer"] == "20170101-2393"


# --- groups of inputs -----------------------------------------------------------------------


def test_yes_no_item(driver: Any) -> None:
    form = driver("showcase")
    dom = assert_accessible(html_of(form.post(4, {"consent": "false"})))
    fieldset = assert_fieldset(dom, "f-consent", "Jag har läst")
    radios = radios_in(fieldset)
    assert [r.attrs["value"] for r in radios] == ["true", "false"]
    assert [r.id for r in radios if "checked" in r.attrs] == ["f-consent-false"]
    # The item's own error text replaces the message for everything but "required".
    assert_field_error(dom, "f-consent", "Du behöver bekräfta för att kunna skicka in.")


def test_choice_item_as_radio(driver: Any, app: Flask) -> None:
    form = driver("showcase")
    dom = assert_accessible(html_of(form.post(1, {})))
    fieldset = assert_fieldset(dom, "f-smoking", "Röker du?")
    radios = radios_in(fieldset)
    assert [r.attrs["value"] for r in radios] == ["never", "former", "sometimes", "daily"]
    assert all(r.attrs["name"] == "smoking" for r in radios)
    assert_labelled(dom, radios[0].id or "", "Nej, har aldrig rökt")
    assert_field_error(dom, "f-smoking", translate(app, "Choose an answer."))


def test_choice_item_as_select(driver: Any) -> None:
    form = driver("showcase")
    dom = assert_accessible(html_of(form.post(0, {"name": "", "contact_way": "email"})))
    control = assert_labelled(dom, "f-contact_way", "kontaktad")
    assert control.tag == "select"
    options = control.find_all("option")
    assert [o.attrs["value"] for o in options] == ["", "phone", "email", "letter"]
    assert [o.attrs["value"] for o in options if "selected" in o.attrs] == ["email"]


def test_multi_choice_item(driver: Any, app: Flask) -> None:
    form = driver("showcase")
    dom = assert_accessible(html_of(form.post(2, {"symptoms": ["pain", "pain"],
                                                  "wellbeing": "5"})))
    fieldset = assert_fieldset(dom, "f-symptoms", "Vilka besvär")
    boxes = [n for n in fieldset.find_all("input") if n.attrs.get("type") == "checkbox"]
    assert [b.attrs["value"] for b in boxes] == ["pain", "fatigue", "sleep", "worry", "none"]
    assert [b.attrs["value"] for b in boxes if "data-exclusive" in b.attrs] == ["none"]
    assert describedby(fieldset)[0] == "f-symptoms-help"
    assert_field_error(dom, "f-symptoms", translate(app, "Each choice may be given once."))
    # "None of these" wins over the others.
    form.post(2, {"symptoms": ["pain", "none"], "wellbeing": "5"})
    assert draft_answers(app, form)["symptoms"] == ["none"]


def test_scale_item_with_end_labels(driver: Any, app: Flask) -> None:
    form = driver("showcase")
    dom = assert_accessible(html_of(form.post(2, {"symptoms": ["sleep"]})))
    fieldset = assert_fieldset(dom, "f-wellbeing", "Hur mår du just nu?")
    radios = radios_in(fieldset)
    assert [r.attrs["value"] for r in radios] == [str(n) for n in range(11)]
    ends = [n.text() for n in fieldset.find_all("span", class_="scale-end")]
    assert ends == ["0 = Mycket dåligt", "10 = Mycket bra"]
    assert_field_error(dom, "f-wellbeing", translate(app, "Choose an answer."))


def test_matrix_item(driver: Any, app: Flask) -> None:
    form = driver("showcase")
    dom = assert_accessible(html_of(form.get(2)))
    outer = assert_fieldset(dom, "f-stress", "Hur väl stämmer")
    rows = [n for n in outer.find_all("fieldset") if n.has_class("matrix-row")]
    assert [r.id for r in rows] == ["f-stress_1", "f-stress_2", "f-stress_3"]
    for row in rows:
        assert row.children[0].tag == "legend"
        radios = radios_in(row)
        assert [r.attrs["value"] for r in radios] == ["1", "2", "3", "4", "5"]
        assert {r.attrs["name"] for r in radios} == {row.id[2:] if row.id else ""}
    # Required matrix rows (PHQ-9) carry their own errors.
    phq = driver("phq-9")
    dom = assert_accessible(html_of(phq.post(0, {"phq1": "1"})))
    for number in range(2, 10):
        assert_field_error(dom, f"f-phq{number}", translate(app, "Choose an answer."))
    assert "f-phq1-error" not in {n.id for n in dom.iter()}


def test_repeating_group_item(driver: Any, app: Flask) -> None:
    form = driver("showcase")
    html = html_of(form.post(3, {"has_medication": "true"}, action="add:medications"))
    dom = assert_accessible(html)
    assert_fieldset(dom, "f-medications", "Läkemedel")
    repetitions = [n for n in dom.find_all("fieldset", class_="repetition")]
    assert len(repetitions) == 1
    assert repetitions[0].children[0].text() == "Läkemedel 1"
    assert_labelled(dom, "f-medications-0-drug", "Läkemedlets namn")
    assert by_id(dom, "f-medications-0-drug").attrs["name"] == "medications-0-drug"
    buttons = {b.attrs.get("value"): b.text() for b in dom.find_all("button")}
    assert buttons["add:medications"] == "Lägg till ett läkemedel"
    assert buttons["remove:medications:0"].startswith("Ta bort")

    dom = assert_accessible(html_of(form.post(3, {
        "has_medication": "true", "medications-0-drug": "A", "medications-1-drug": "Alvedon",
    })))
    assert len(dom.find_all("fieldset", class_="repetition")) == 2
    assert_field_error(dom, "f-medications-0-drug", translate(
        app, "Enter at least %(limit)s characters.", limit=2))


def test_info_item_renders_sanitised_markdown(driver: Any) -> None:
    form = driver("showcase")
    dom = assert_accessible(html_of(form.get(0)))
    info = dom.find("div", data_element="intro_text")
    assert info is not None
    assert info.has_class("info-notice")
    assert info.find("strong") is not None
    link = info.find("a")
    assert link is not None
    assert link.attrs["href"] == "https://www.1177.se"
    assert "noopener" in link.attrs["rel"]


HOSTILE_MARKDOWN = (
    "**fet** text <script>alert('x')</script> <img src=x onerror=alert(1)>\n\n"
    "[klicka](javascript:alert(1)) [data](data:text/html;base64,PHNjcmlwdD4=) "
    "<a href=\"https://evil.example\" onclick=\"steal()\">html-länk</a>\n\n"
    "<iframe src=\"https://evil.example\"></iframe> [ok](https://www.1177.se \"Titel\")"
)


@pytest.fixture(scope="module")
def markdown_design(app: Flask) -> str:
    return store_design(app, minimal_definition(
        "t-render-markdown",
        [{"type": "info", "name": "hostile", "style": "warning", "text": HOSTILE_MARKDOWN},
         {"type": "text", "name": "name", "label": "Namn"}],
        {"name": {"type": "string", "maxLength": 100}}))


def test_info_item_drops_script_handlers_and_unsafe_links(driver: Any,
                                                          markdown_design: str) -> None:
    form = driver(markdown_design)
    html = html_of(form.get(0))
    dom = assert_accessible(html)
    info = dom.find("div", data_element="hostile")
    assert info is not None
    assert info.has_class("info-warning")
    tags = {n.tag for n in info.iter()} - {"div"}
    assert tags <= {"p", "strong", "em", "a", "br", "code"}, tags
    for node in info.iter():
        assert not any(name.startswith("on") for name in node.attrs), node.attrs
    hrefs = [a.attrs.get("href", "") for a in info.find_all("a")]
    assert hrefs == ["https://www.1177.se"]
    lowered = html.lower()
    # What is left of the raw HTML is text, escaped.
    assert "&lt;script&gt;alert" in lowered
    for raw in ("<script>alert", "<img", "<iframe", 'href="javascript:', 'href="data:'):
        assert raw not in lowered


def test_file_item(driver: Any, app: Flask) -> None:
    form = driver("showcase")
    dom = assert_accessible(html_of(form.get(4)))
    control = assert_labelled(dom, "f-photo", "Bifoga")
    assert control.attrs["type"] == "file"
    assert "multiple" in control.attrs
    assert control.attrs["accept"] == "image/png,image/jpeg,application/pdf"
    assert describedby(control)[0] == "f-photo-rules"
    html = html_of(form.post(4, {"photo": (io.BytesIO(b"<html>nope</html>"), "bild.png")},
                             content_type="multipart/form-data"))
    dom = assert_accessible(html)
    assert_field_error(dom, "f-photo", translate(
        app, "The file is not a PDF, PNG, JPEG or GIF file (its content was checked)."),
        invalid=False)
    assert count_uploads(app, form) == 0


def test_file_item_error_marks_input_invalid(driver: Any) -> None:
    form = driver("showcase")
    html = html_of(form.post(4, {"photo": (io.BytesIO(b""), "tom.png")},
                             content_type="multipart/form-data"))
    assert by_id(parse(html), "f-photo").attrs.get("aria-invalid") == "true"


def test_calculated_item(driver: Any, app: Flask) -> None:
    form = driver("showcase")
    response = form.post(1, {"smoking": "never", "weight": "80", "height": "180", "bmi": "99"},
                         action="save")
    dom = assert_accessible(html_of(response))
    output = by_id(dom, "f-bmi")
    assert output.tag == "output"
    assert output.attrs["aria-labelledby"] == "f-bmi-label"
    assert output.text() in ("24,7", "24.7")
    assert "kg/m²" in [n.text() for n in dom.find_all("span", class_="unit")]
    # The posted value is ignored: the server computes it.
    assert draft_answers(app, form)["bmi"] == 24.7


def test_staff_only_items_are_invisible_to_citizens(driver: Any) -> None:
    citizen = driver("showcase")
    html = html_of(citizen.get(4))
    dom = assert_accessible(html)
    assert dom.find(id="f-staff_note") is None
    assert dom.find(data_element="staff-section") is None
    assert "staff_note" not in html.split('id="form-plan"')[0]
    assert "Fylls i av personal" not in html

    staff = driver("showcase", audience="staff")
    dom = assert_accessible(html_of(staff.get(4)))
    assert_labelled(dom, "f-staff_note", "Anteckning från personal")
    assert dom.find("section", data_element="staff-section") is not None


def test_citizen_page_source_does_not_name_staff_only_items(driver: Any) -> None:
    citizen = driver("showcase")
    html = html_of(citizen.get(0))
    assert "staff_note" not in html


# --- help texts of composite items ------------------------------------------------------------


@pytest.fixture(scope="module")
def help_design(app: Flask) -> str:
    return store_design(app, minimal_definition(
        "t-render-help",
        [
            {"type": "matrix", "name": "grid", "label": "Matris", "help": "Hjälp för matrisen",
             "options": [{"value": 1, "label": "Ja"}, {"value": 2, "label": "Nej"}],
             "rows": [{"name": "row_a", "label": "Rad A"}, {"name": "row_b", "label": "Rad B"}]},
            {"type": "group", "name": "things", "label": "Saker", "help": "Hjälp för gruppen",
             "items": [{"type": "text", "name": "thing", "label": "Sak", "help": "En sak"}]},
            {"type": "decimal", "name": "amount", "label": "Mängd", "help": "Hjälp för mängd"},
            {"type": "calculated", "name": "double", "label": "Dubbelt",
             "help": "Räknas ut", "expression": {"*": [{"var": "amount"}, 2]}},
        ],
        {
            "row_a": {"enum": [1, 2]}, "row_b": {"enum": [1, 2]},
            "things": {"type": "array", "maxItems": 3, "items": {
                "type": "object", "additionalProperties": False, "required": ["thing"],
                "properties": {"thing": {"type": "string", "maxLength": 50}}}},
            "amount": {"type": "number"}, "double": {"type": "number"},
        },
        required=["row_a", "things", "amount"]))


def _help_page(driver: Any, design: str) -> Node:
    form = driver(design)
    return parse(html_of(form.post(0, {})))


def test_help_design_errors_are_linked(driver: Any, help_design: str) -> None:
    dom = _help_page(driver, help_design)
    hrefs = [href for href, _ in summary_links(dom)]
    assert hrefs == ["#f-row_a", "#f-things", "#f-amount"]
    for href in hrefs:
        by_id(dom, href[1:])
    assert "f-row_a-error" in describedby(by_id(dom, "f-row_a"))
    assert describedby(by_id(dom, "f-amount")) == ["f-amount-help", "f-amount-error"]


def _referenced(dom: Node) -> set[str]:
    return {ref for node in dom.iter() for ref in describedby(node)}


def test_matrix_help_is_described(driver: Any, help_design: str) -> None:
    dom = _help_page(driver, help_design)
    assert "f-grid-help" in _referenced(dom)


def test_group_help_and_error_are_described(driver: Any, help_design: str) -> None:
    dom = _help_page(driver, help_design)
    assert {"f-things-help", "f-things-error"} <= _referenced(dom)


def test_calculated_help_is_described(driver: Any, help_design: str) -> None:
    dom = _help_page(driver, help_design)
    assert "f-double-help" in _referenced(dom)
