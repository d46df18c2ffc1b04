"""Creating drafts in the workspace: from blank, from a template, as a copy, and the
workspace listing of a unit (its drafts, its published forms, other units' templates)."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from sqlalchemy import select

from formular.design.problems import problems_of
from formular.storage.db import db
from formular.storage.design import DesignDraft
from formular.storage.models import DefinitionVersion
from tests.functional import staff_support as s

from .workspace_support import draft_row, make_draft, publish_via_service, scored_definition

WORLD_PREFIX = "dwc"


def _drafts_of(app: Flask, unit_id: int) -> dict[str, DesignDraft]:
    with app.app_context():
        rows = db.session.scalars(select(DesignDraft).where(DesignDraft.unit_id == unit_id))
        found = {}
        for row in rows:
            db.session.expunge(row)
            found[row.definition_id] = row
        return found


def _new_page(client: Any, unit_id: int) -> str:
    page = client.get(f"/design/new?unit={unit_id}")
    assert page.status_code == 200
    return s.body(page)


def test_the_workspace_lists_the_units_drafts(sapp: Flask, world: s.World,
                                              designer: Any) -> None:
    make_draft(sapp, world, scored_definition("dwc-listed", title="Listad blankett"))
    make_draft(sapp, world, scored_definition("dwc-b-only", title="Bara B"), unit="B")
    page = designer.get("/design/")
    assert page.status_code == 200
    html = s.body(page)
    assert "Listad blankett" in html
    assert "dwc-listed" in html
    assert "Bara B" not in html


def test_create_from_blank(sapp: Flask, world: s.World, designer: Any) -> None:
    html = _new_page(designer, world.unit_id)
    response = designer.post("/design/new/blank", data={
        "csrf_token": s.csrf_of(html), "unit": str(world.unit_id), "title": "Ryggbesvär",
        "definition_id": "dwc-back", "language": "sv"})
    assert response.status_code == 302
    draft = _drafts_of(sapp, world.unit_id)["dwc-back"]
    assert draft.origin == "blank"
    assert draft.revision == 1
    assert draft.document["title"] == "Ryggbesvär"
    assert draft.document["language"] == "sv"
    assert draft.created_by_id == world.staff["designer"].id
    with sapp.test_request_context():
        assert problems_of(draft.document) == []  # a blank form starts valid
    assert s.location(response).endswith((f"/design/drafts/{draft.id}/edit",
                                          f"/design/drafts/{draft.id}"))


def test_blank_with_a_bad_or_taken_id_is_refused(sapp: Flask, world: s.World,
                                                 designer: Any) -> None:
    make_draft(sapp, world, scored_definition("dwc-taken"))
    html = _new_page(designer, world.unit_id)
    before = set(_drafts_of(sapp, world.unit_id))
    for definition_id, message in (("Inte OK", "lower-case"), ("dwc-taken", "already has"),
                                   ("phq-9", "another unit or of Formulär")):
        response = designer.post("/design/new/blank", data={
            "csrf_token": s.csrf_of(html), "unit": str(world.unit_id), "title": "X",
            "definition_id": definition_id, "language": "sv"},
            headers={"Accept-Language": "en"})
        assert response.status_code == 400, definition_id
        assert message in s.body(response)
        assert 'class="error-summary"' in s.body(response)
    assert set(_drafts_of(sapp, world.unit_id)) == before


def test_create_from_a_template_shipped_with_formular(sapp: Flask, world: s.World,
                                                      designer: Any) -> None:
    with sapp.app_context():
        phq = db.session.scalars(select(DefinitionVersion).where(
            DefinitionVersion.definition_id == "phq-9")).first()
        assert phq is not None
        phq_id, phq_document = phq.id, phq.document
    html = _new_page(designer, world.unit_id)
    assert f'value="{phq_id}"' in html
    response = designer.post("/design/new/copy", data={
        "csrf_token": s.csrf_of(html), "unit": str(world.unit_id), "version": str(phq_id),
        "title": "PHQ-9 för vår mottagning", "definition_id": "dwc-phq"})
    assert response.status_code == 302, s.body(response)[:3000]
    draft = _drafts_of(sapp, world.unit_id)["dwc-phq"]
    assert draft.origin == "template"
    assert draft.based_on_version_id == phq_id
    assert draft.document["id"] == "dwc-phq"
    assert draft.document["version"] == 1
    assert draft.document["title"] == "PHQ-9 för vår mottagning"
    assert draft.document["layout"] == phq_document["layout"]


def test_create_as_a_copy_of_an_own_version(sapp: Flask, world: s.World,
                                            designer: Any) -> None:
    draft_id = make_draft(sapp, world, scored_definition("dwc-original", title="Original"))
    publish_via_service(sapp, world, draft_id)
    with sapp.app_context():
        version_id = db.session.scalars(select(DefinitionVersion.id).where(
            DefinitionVersion.definition_id == "dwc-original")).one()
    html = _new_page(designer, world.unit_id)
    response = designer.post("/design/new/copy", data={
        "csrf_token": s.csrf_of(html), "unit": str(world.unit_id), "version": str(version_id),
        "title": "", "definition_id": "dwc-original-kopia"})
    assert response.status_code == 302
    copy = _drafts_of(sapp, world.unit_id)["dwc-original-kopia"]
    assert copy.origin == "copy"
    assert copy.document["title"] == "Original"
    # The original draft is untouched and still open for its next version.
    original = draft_row(sapp, draft_id)
    assert original is not None
    assert original.document["id"] == "dwc-original"


def test_another_units_unshared_form_cannot_be_copied(sapp: Flask, world: s.World,
                                                      designer_b: Any) -> None:
    draft_id = make_draft(sapp, world, scored_definition("dwc-private"))
    publish_via_service(sapp, world, draft_id, audience="unit")
    with sapp.app_context():
        version_id = db.session.scalars(select(DefinitionVersion.id).where(
            DefinitionVersion.definition_id == "dwc-private")).one()
    html = _new_page(designer_b, world.other_unit_id)
    assert f'value="{version_id}"' not in html
    response = designer_b.post("/design/new/copy", data={
        "csrf_token": s.csrf_of(html), "unit": str(world.other_unit_id),
        "version": str(version_id), "definition_id": "dwc-stolen"})
    assert response.status_code == 400  # not a choice offered to unit B
    assert "dwc-stolen" not in _drafts_of(sapp, world.other_unit_id)


def test_a_designer_cannot_create_in_another_unit(sapp: Flask, world: s.World,
                                                  designer_b: Any) -> None:
    html = _new_page(designer_b, world.other_unit_id)
    response = designer_b.post("/design/new/blank", data={
        "csrf_token": s.csrf_of(html), "unit": str(world.unit_id), "title": "Intrång",
        "definition_id": "dwc-intrusion", "language": "sv"})
    assert response.status_code == 404
    assert "dwc-intrusion" not in _drafts_of(sapp, world.unit_id)
    assert designer_b.get(f"/design/?unit={world.unit_id}").status_code == 404
    assert designer_b.get(f"/design/new?unit={world.unit_id}").status_code == 404


def test_new_version_of_a_published_form_reuses_or_creates_the_draft(
        sapp: Flask, world: s.World, designer: Any) -> None:
    draft_id = make_draft(sapp, world, scored_definition("dwc-versioned"))
    publish_via_service(sapp, world, draft_id)
    html = s.body(designer.get("/design/"))
    token = s.csrf_of(html)
    # The draft stays open after publishing: "edit" opens it.
    response = designer.post("/design/definitions/dwc-versioned/next",
                             data={"csrf_token": token, "unit": str(world.unit_id)})
    assert response.status_code == 302
    assert str(draft_id) in s.location(response)
    # Without a draft, a new one starts from the latest version, numbered one higher.
    with sapp.app_context():
        db.session.delete(db.session.get(DesignDraft, draft_id))
        db.session.commit()
    response = designer.post("/design/definitions/dwc-versioned/next",
                             data={"csrf_token": token, "unit": str(world.unit_id)})
    assert response.status_code == 302
    fresh = _drafts_of(sapp, world.unit_id)["dwc-versioned"]
    assert fresh.origin == "version"
    assert fresh.document["version"] == 2
    found = re.search(r"/design/drafts/(\d+)", s.location(response))
    assert found
    assert int(found.group(1)) == fresh.id
    # Unit B cannot make versions of unit A's form.
    other = s.staff_client(sapp, world.staff["b-designer"])
    response = other.post("/design/definitions/dwc-versioned/next", data={
        "csrf_token": s.fresh_csrf(other), "unit": str(world.other_unit_id)})
    assert response.status_code == 404


def test_discarding_a_draft_keeps_published_versions(sapp: Flask, world: s.World,
                                                     designer: Any) -> None:
    draft_id = make_draft(sapp, world, scored_definition("dwc-discard"))
    publish_via_service(sapp, world, draft_id)
    page = designer.get(f"/design/drafts/{draft_id}")
    html = s.body(page)
    stale = designer.post(f"/design/drafts/{draft_id}/discard",
                          data={"csrf_token": s.csrf_of(html), "revision": "1"})
    assert stale.status_code == 302
    assert draft_row(sapp, draft_id) is not None
    response = designer.post(f"/design/drafts/{draft_id}/discard",
                             data={"csrf_token": s.csrf_of(html), "revision": "2"})
    assert response.status_code == 302
    assert draft_row(sapp, draft_id) is None
    with sapp.app_context():
        assert db.session.scalars(select(DefinitionVersion).where(
            DefinitionVersion.definition_id == "dwc-discard")).one().version == 1
