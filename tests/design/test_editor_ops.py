"""The editor's server endpoints: operations posted as forms, conflicts, bad input, "try it"."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from sqlalchemy import select

from formular.storage.audit import EventLog
from formular.storage.db import db
from formular.storage.design import DesignDraft
from tests.functional import staff_support as s

from .workspace_support import make_draft, scored_definition

WORLD_PREFIX = "deop"


def t(app: Flask, message: str, **values: Any) -> str:
    """The Swedish wording of an interface text (the test client's language), HTML-escaped."""
    from flask_babel import force_locale, gettext
    from markupsafe import escape

    with app.test_request_context("/"), force_locale("sv"):
        return str(escape(gettext(message, **values)))


def draft_of(app: Flask, draft_id: int) -> DesignDraft:
    with app.app_context():
        found = db.session.get(DesignDraft, draft_id)
        assert found is not None
        db.session.expunge(found)
        return found


def op(client: Any, draft_id: int, operation: str, revision: int, /, **data: Any) -> Any:
    return client.post(f"/design/drafts/{draft_id}/op/{operation}", data={
        "csrf_token": s.fresh_csrf(client), "revision": str(revision), **data})


def item_form(client: Any, draft_id: int, name: str) -> dict[str, Any]:
    """The item editor's form as the page renders it (every field, as a browser posts it)."""
    html = s.body(client.get(f"/design/drafts/{draft_id}/edit", query_string={"select": name}))
    form = re.search(r'<form method="post" action="[^"]*/op/update-item" id="item-form".*?</form>',
                     html, re.S)
    assert form, html[:500]
    data: dict[str, Any] = {}
    for tag in re.finditer(r"<(input|textarea|select)\b([^>]*)>(.*?)(?=<)", form.group(0), re.S):
        kind, attrs, inner = tag.groups()
        name_match = re.search(r'\bname="([^"]+)"', attrs)
        if not name_match:
            continue
        key = name_match.group(1)
        if kind == "input":
            if re.search(r'type="checkbox"', attrs) and "checked" not in attrs:
                continue
            if re.search(r'type="radio"', attrs) and "checked" not in attrs:
                continue
            value = re.search(r'\bvalue="([^"]*)"', attrs)
            data[key] = value.group(1) if value else "y"
        elif kind == "textarea":
            data[key] = inner.lstrip("\n")
        else:
            selected = re.search(
                rf'<select[^>]*name="{re.escape(key)}".*?<option[^>]*selected[^>]*value="([^"]*)"'
                rf'|<select[^>]*name="{re.escape(key)}".*?<option value="([^"]*)"[^>]*selected',
                form.group(0), re.S)
            data[key] = next((g for g in selected.groups() if g is not None), "") if selected \
                else ""
    for unwanted in ("csrf_token", "revision"):
        data.pop(unwanted, None)
    import html as html_lib

    return {k: html_lib.unescape(v) if isinstance(v, str) else v for k, v in data.items()}


def assert_anchor_exists(html: str) -> None:
    """The error summary's link leads to an element of the page."""
    summary = re.search(r'id="op-error".*?</div>', html, re.S)
    assert summary
    link = re.search(r'href="#([^"]*)"', summary.group(0))
    if link:
        assert f'id="{link.group(1)}"' in html, link.group(1)


def test_an_operation_saves_a_new_revision_and_logs_it(sapp: Flask, world: s.World,
                                                       designer: Any) -> None:
    draft_id = make_draft(sapp, world, scored_definition("deop-add"))
    response = op(designer, draft_id, "add-item", 1, item_type="integer", after="sleep")
    assert response.status_code == 303
    assert "select=integer_1" in s.location(response)
    assert "focus=item-label" in s.location(
        response)
    draft = draft_of(sapp, draft_id)
    assert draft.revision == 2
    names = [i["name"] for i in draft.document["layout"]["pages"][0]["sections"][0]["items"]]
    assert names == ["mood", "sleep", "integer_1"]
    # New texts are in the definition's language (Swedish here).
    assert draft.document["layout"]["pages"][0]["sections"][0]["items"][2]["label"] == t(
        sapp, "New question")
    with sapp.app_context():
        events = db.session.scalars(select(EventLog.event).where(
            EventLog.object_type == "design_draft", EventLog.object_id == draft_id)).all()
    assert "design.op.add-item" in events
    page = s.body(designer.get(s.location(response)))
    assert 'id="item-label"' in page
    assert "autofocus" in page


def test_the_item_form_round_trips_every_setting(sapp: Flask, world: s.World,
                                                 designer: Any) -> None:
    draft_id = make_draft(sapp, world, scored_definition("deop-item"))
    revision = 1
    for kind in ("text", "choice", "matrix", "scale", "date", "file", "calculated", "group",
                 "info", "multi-choice"):
        assert op(designer, draft_id, "add-item", revision, item_type=kind,
                  section="questions").status_code == 303
        revision += 1
    before = draft_of(sapp, draft_id).document
    for name in ("mood", "text_1", "choice_1", "matrix_1", "scale_1", "date_1", "file_1",
                 "calculated_1", "group_1", "info_1", "multi_choice_1"):
        data = item_form(designer, draft_id, name)
        response = op(designer, draft_id, "update-item", revision, **data)
        assert response.status_code == 303, (name, s.body(response)[:3000])
        revision += 1
    # Saving the unchanged form changes nothing in the document.
    assert draft_of(sapp, draft_id).document == before


def test_update_item_changes_label_required_and_limits(sapp: Flask, world: s.World,
                                                       designer: Any) -> None:
    draft_id = make_draft(sapp, world, scored_definition("deop-upd"))
    assert op(designer, draft_id, "add-item", 1, item_type="integer",
              section="other").status_code == 303
    data = item_form(designer, draft_id, "integer_1")
    data.update({"label": "Ålder", "required": "y", "value_min": "0", "value_max": "130",
                 "unit": "år"})
    response = op(designer, draft_id, "update-item", 2, **data)
    assert response.status_code == 303
    document = draft_of(sapp, draft_id).document
    assert "integer_1" in document["schema"]["required"]
    assert document["schema"]["properties"]["integer_1"] == {
        "type": "integer", "minimum": 0, "maximum": 130}


def test_bad_input_is_refused_with_the_message_at_the_field(sapp: Flask, world: s.World,
                                                            designer: Any) -> None:
    draft_id = make_draft(sapp, world, scored_definition("deop-bad"))
    data = item_form(designer, draft_id, "comment")
    data.update({"label": "Typed but not saved", "length_min": "50", "length_max": "5"})
    response = op(designer, draft_id, "update-item", 1, **data)
    assert response.status_code == 422
    html = s.body(response)
    assert 'id="item-length_max-error"' in html
    assert_anchor_exists(html)
    assert 'aria-invalid="true"' in html
    assert 'value="Typed but not saved"' in html  # the designer's input is kept
    assert draft_of(sapp, draft_id).revision == 1  # nothing saved
    for name, data in [("move-item", {"target": "mood", "direction": "up"}),
                       ("delete-item", {"target": "mood", "confirmed": "1"}),
                       ("replace-document", {"json": "{not json"}),
                       ("replace-document", {"json": '{"id": "other-id"}'}),
                       ("set-condition", {"target": "comment", "combine": "all",
                                          "rows-0-field": "nope", "rows-0-operator": "equals",
                                          "rows-0-value": "x"}),
                       ("add-item", {"item_type": "<script>"})]:
        response = op(designer, draft_id, name, 1, **data)
        assert response.status_code == 422, (name, response.status_code)
        assert 'class="error-summary"' in s.body(response)
        assert_anchor_exists(s.body(response))
    assert draft_of(sapp, draft_id).revision == 1


def test_malformed_posts_are_client_errors(sapp: Flask, world: s.World, designer: Any) -> None:
    draft_id = make_draft(sapp, world, scored_definition("deop-malformed"))
    assert op(designer, draft_id, "no-such-op", 1).status_code == 404
    assert designer.post(f"/design/drafts/{draft_id}/op/add-item", data={
        "csrf_token": s.fresh_csrf(designer), "item_type": "text"}).status_code == 400
    assert designer.post(f"/design/drafts/{draft_id}/op/add-item", data={
        "revision": "1", "item_type": "text"}).status_code == 400  # no CSRF token
    assert op(designer, draft_id, "update-item", 1).status_code == 400  # no target
    assert op(designer, draft_id, "delete-test-case", 1, index="x").status_code == 400
    assert draft_of(sapp, draft_id).revision == 1


def test_a_conflict_keeps_the_designers_values_and_saves_on_top(sapp: Flask, world: s.World,
                                                                designer: Any) -> None:
    draft_id = make_draft(sapp, world, scored_definition("deop-conflict"))
    other = s.staff_client(sapp, world.staff["designer"])
    mine = item_form(designer, draft_id, "comment")
    # Somebody else adds a page meanwhile.
    assert op(other, draft_id, "add-page", 1, item_type="yes-no").status_code == 303
    mine["label"] = "Min nya fråga"
    response = op(designer, draft_id, "update-item", 1, **mine)
    assert response.status_code == 409
    html = s.body(response)
    assert 'id="conflict"' in html
    assert "data-resave" in html
    assert 'value="Min nya fråga"' in html
    assert 'name="revision" value="2"' in html  # saving again applies on the latest version
    assert draft_of(sapp, draft_id).revision == 2
    response = op(designer, draft_id, "update-item", 2, **mine)
    assert response.status_code == 303
    document = draft_of(sapp, draft_id).document
    assert len(document["layout"]["pages"]) == 3  # the other designer's page is kept
    assert document["layout"]["pages"][1]["sections"][0]["items"][0]["label"] == "Min nya fråga"


def test_delete_asks_first(sapp: Flask, world: s.World, designer: Any) -> None:
    draft_id = make_draft(sapp, world, scored_definition("deop-delete"))
    response = op(designer, draft_id, "delete-item", 1, target="comment")
    assert response.status_code == 200
    html = s.body(response)
    assert 'role="alertdialog"' in html
    assert 'name="confirmed" value="1"' in html
    assert draft_of(sapp, draft_id).revision == 1
    response = op(designer, draft_id, "delete-item", 1, target="comment", confirmed="1")
    assert response.status_code == 303
    assert "comment" not in draft_of(sapp, draft_id).document["schema"]["properties"]
    response = op(designer, draft_id, "delete-item", 2, target="mood", confirmed="1")
    assert response.status_code == 422  # the score reads it
    assert "Belastning" in s.body(response)


def test_move_keeps_focus_on_the_moved_item(sapp: Flask, world: s.World, designer: Any) -> None:
    draft_id = make_draft(sapp, world, scored_definition("deop-move"))
    response = op(designer, draft_id, "move-item", 1, target="sleep", direction="up")
    assert response.status_code == 303
    html = s.body(designer.get(s.location(response)))
    assert re.search(r'id="move-down"[^>]*autofocus', html)  # first now: "up" is at its edge
    assert t(sapp, "Moved %(label)s to position %(position)s of %(count)s in %(place)s.",
             label="Hur ofta sover du dåligt?", position=1, count=2, place="Om dig") in html
    document = draft_of(sapp, draft_id).document
    assert [i["name"] for i in document["layout"]["pages"][0]["sections"][0]["items"]] == [
        "sleep", "mood"]


def test_condition_score_flag_policy_and_details_through_forms(sapp: Flask, world: s.World,
                                                               designer: Any) -> None:
    draft_id = make_draft(sapp, world, scored_definition("deop-panels"))
    revision = 1

    def ok(name: str, **data: Any) -> None:
        nonlocal revision
        response = op(designer, draft_id, name, revision, **data)
        assert response.status_code == 303, s.body(response)[:3000]
        revision += 1

    ok("set-condition", target="comment", combine="any",
       **{"rows-0-field": "mood", "rows-0-operator": "equals", "rows-0-choice": "mood\x1falways",
          "rows-1-field": "sleep", "rows-1-operator": "answered"})
    ok("set-score", label="Sömn", method="sum", missing_policy="no-total",
       **{"items-0-name": "sleep", "items-0-chosen": "y", "items-0-weights-0-value": "never",
          "items-0-weights-0-weight": "1",
          "band_sets-0-bands-0-min": "0", "band_sets-0-bands-0-max": "3",
          "band_sets-0-bands-0-label": "Låg", "band_sets-0-bands-1-min": "4",
          "band_sets-0-bands-1-max": "4", "band_sets-0-bands-1-label": "Hög"})
    ok("set-flag", flag_label="Mycket belastad", severity="high", combine="all",
       **{"rows-0-field": "score.burden", "rows-0-operator": "greater-or-equal",
          "rows-0-value": "5"})
    ok("update-policy", login="required", fillers=["citizen", "guardian"], age_min="12",
       drafts="y", copy_to_citizen="pdf", terms="Svaren läses av din mottagning.")
    ok("update-details", title="Sömn", contact="Sköterska Eva", languages=["sv", "en"])
    document = draft_of(sapp, draft_id).document
    assert document["rules"][-1] == {"id": "show-comment", "show": ["comment"], "when": {"or": [
        {"==": [{"var": "mood"}, "always"]}, {"!": [{"missing": ["sleep"]}]}]}}
    score = document["scores"][-1]
    assert score["id"] == "somn"
    assert score["items"] == [
        {"name": "sleep", "weights": {"never": 1}}]
    assert document["flags"][-1]["when"] == {">=": [{"var": "score.burden"}, 5]}
    assert document["policy"]["fillers"] == ["citizen", "guardian"]
    assert document["policy"]["review"] is False  # the review box was left unticked
    assert document["contact"] == "Sköterska Eva"


def test_try_it_and_save_as_test_case(sapp: Flask, world: s.World, designer: Any) -> None:
    draft_id = make_draft(sapp, world, scored_definition("deop-try"))
    sample = {"mood": "always", "sleep": "often", "sample_age": "70"}
    response = designer.post(f"/design/drafts/{draft_id}/try", data={
        "csrf_token": s.fresh_csrf(designer), "revision": "1", **sample})
    assert response.status_code == 200
    html = s.body(response)
    assert "Belastning" in html
    assert ">5<" in html
    assert "Hög (65 år och äldre)" in html
    assert draft_of(sapp, draft_id).revision == 1  # trying stores nothing
    response = designer.post(f"/design/drafts/{draft_id}/try", data={
        "csrf_token": s.fresh_csrf(designer), "revision": "1", "sample_age": "old"})
    assert response.status_code == 422
    response = op(designer, draft_id, "add-test-case", 1, case_name="Äldre, hög", **sample)
    assert response.status_code == 303
    case = draft_of(sapp, draft_id).document["tests"][0]
    assert case == {"name": "Äldre, hög", "answers": {"mood": "always", "sleep": "often"},
                    "subject": {"age": 70},
                    "expect": {"scores": {"burden": 5}, "bands": {"burden": "high-65"},
                               "flags": []}}


def test_another_units_designer_and_other_roles(sapp: Flask, world: s.World, designer: Any,
                                                designer_b: Any) -> None:
    draft_id = make_draft(sapp, world, scored_definition("deop-access"))
    assert designer_b.get(f"/design/drafts/{draft_id}/edit").status_code == 404
    assert op(designer_b, draft_id, "add-item", 1, item_type="text").status_code == 404
    sender = s.staff_client(sapp, world.staff["sender"])
    assert sender.get(f"/design/drafts/{draft_id}/edit").status_code == 403
    assert sapp.test_client().get(f"/design/drafts/{draft_id}/edit").status_code == 302
    assert draft_of(sapp, draft_id).revision == 1


def test_pages_and_sections_through_forms(sapp: Flask, world: s.World, designer: Any) -> None:
    draft_id = make_draft(sapp, world, scored_definition("deop-pages"))
    revision = 1

    def ok(name: str, **data: Any) -> Any:
        nonlocal revision
        response = op(designer, draft_id, name, revision, **data)
        assert response.status_code == 303, s.body(response)[:3000]
        revision += 1
        return response

    ok("add-page", item_type="info", after="about")
    ok("add-section", page="about", title="Mer", item_type="yes-no")
    ok("update-page", target="page-1", id="start", title="Innan du börjar", intro="Läs först",
       audience="all")
    ok("update-section", target="section-2", id="mer", title="Mer om dig", help="",
       audience="staff")
    response = ok("move-section-to", target="mer", page="more")
    assert "select=mer" in s.location(response)
    response = op(designer, draft_id, "delete-section", revision, target="other")
    assert response.status_code == 200  # asks first
    ok("delete-section", target="other", confirmed="1")
    document = draft_of(sapp, draft_id).document
    pages = document["layout"]["pages"]
    assert [p["id"] for p in pages] == ["about", "start", "more"]
    assert pages[1]["title"] == "Innan du börjar"
    assert pages[1]["sections"][0]["items"][0]["type"] == "info"
    assert [sec["id"] for sec in pages[2]["sections"]] == ["mer"]
    assert pages[2]["sections"][0]["audience"] == "staff"
    assert "comment" not in document["schema"]["properties"]
    page = s.body(designer.get(f"/design/drafts/{draft_id}/edit", query_string={
        "select": "mer"}))
    assert 'id="section-form"' in page
    assert 'id="move-to-page"' in page


def test_every_panel_shows_its_errors_with_a_working_link(sapp: Flask, world: s.World,
                                                          designer: Any) -> None:
    draft_id = make_draft(sapp, world, scored_definition("deop-links"))
    cases = [
        ("update-policy", {"login": "required", "fillers": [], "copy_to_citizen": "none"}),
        ("update-policy", {"login": "required", "fillers": ["citizen"], "age_min": "9",
                           "age_max": "3", "copy_to_citizen": "none"}),
        ("update-details", {"title": " "}),
        ("set-score", {"label": "X", "method": "sum", "missing_policy": "no-total",
                       "items-0-name": "mood", "items-1-name": "sleep"}),
        ("set-score", {"label": "X", "new_id": "Bad Id", "method": "sum",
                       "items-0-name": "mood", "items-0-chosen": "y"}),
        ("set-score", {"label": "X", "method": "sum", "items-0-name": "mood",
                       "items-0-chosen": "y", "band_sets-0-bands-0-min": "5",
                       "band_sets-0-bands-0-max": "1", "band_sets-0-bands-0-label": "B"}),
        ("set-flag", {"flag_label": "", "combine": "all"}),
        ("set-flag", {"flag_label": "F", "combine": "all", "rows-0-field": "mood",
                      "rows-0-operator": "greater", "rows-0-value": "x"}),
        ("update-item", {"target": "mood", "label": "M", "options-0-value": "a",
                         "options-0-label": "A", "options-1-value": "a",
                         "options-1-label": "B"}),
        ("add-test-case", {"case_name": ""}),
        ("set-condition", {"target": "comment", "combine": "all", "rows-0-field": "mood",
                           "rows-0-operator": "equals"}),
    ]
    for name, data in cases:
        response = op(designer, draft_id, name, 1, **data)
        assert response.status_code == 422, (name, data, s.body(response)[:2000])
        html = s.body(response)
        assert 'aria-invalid="true"' in html or 'class="field-error"' in html, (name, data)
        assert_anchor_exists(html)
    response = designer.post(f"/design/drafts/{draft_id}/try", data={
        "csrf_token": s.fresh_csrf(designer), "revision": "1", "sample_age": "-1"})
    assert response.status_code == 422
    assert_anchor_exists(s.body(response))
    assert draft_of(sapp, draft_id).revision == 1
