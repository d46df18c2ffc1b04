"""Exporting drafts and versions as JSON (R-08), and the diff page between versions."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask

from formular.design import drafts
from formular.storage.db import db
from formular.storage.design import DesignDraft
from tests.functional import staff_support as s

from .workspace_support import make_draft, publish_via_service, scored_definition

WORLD_PREFIX = "dver"


def _change(app: Flask, world: s.World, draft_id: int, document: dict[str, Any]) -> None:
    with app.app_context():
        session = db.session()
        row = session.get(DesignDraft, draft_id)
        assert row is not None
        drafts.save_document(session, row, document, expected_revision=row.revision,
                             staff_user_id=world.staff["designer"].id, action="op.test")
        session.commit()


def test_export_of_a_draft_round_trips(sapp: Flask, world: s.World, designer: Any,
                                       designer_b: Any) -> None:
    document = scored_definition("dver-export", title="Åäö <b>")
    draft_id = make_draft(sapp, world, document)
    response = designer.get(f"/design/drafts/{draft_id}/export")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert 'attachment; filename="dver-export-draft.json"' == \
        response.headers["Content-Disposition"]
    assert json.loads(response.get_data(as_text=True)) == document
    assert "Åäö" in response.get_data(as_text=True)  # UTF-8, not \\u escapes
    assert designer_b.get(f"/design/drafts/{draft_id}/export").status_code == 404


def test_export_of_versions_follows_who_may_use_them(sapp: Flask, world: s.World,
                                                     designer: Any, designer_b: Any) -> None:
    private = make_draft(sapp, world, scored_definition("dver-private"))
    publish_via_service(sapp, world, private)
    shared = make_draft(sapp, world, scored_definition("dver-shared"))
    publish_via_service(sapp, world, shared, audience="shared")
    url = "/design/definitions/{}/versions/1/export"
    own = designer.get(url.format("dver-private"))
    assert own.status_code == 200
    assert json.loads(own.get_data())["id"] == "dver-private"
    assert designer_b.get(url.format("dver-private")).status_code == 404
    assert designer_b.get(url.format("dver-shared")).status_code == 200
    shipped = designer_b.get("/design/definitions/phq-9/versions/2/export")
    assert shipped.status_code == 200  # shipped with Formulär
    assert designer.get("/design/definitions/dver-private/versions/9/export").status_code == 404


def test_the_diff_page_flags_meaning_changes(sapp: Flask, world: s.World,
                                             designer: Any, designer_b: Any) -> None:
    draft_id = make_draft(sapp, world, scored_definition("dver-diff"))
    publish_via_service(sapp, world, draft_id)
    changed = scored_definition("dver-diff")
    changed["schema"]["properties"]["comment"]["maxLength"] = 50
    changed["layout"]["pages"][0]["sections"][0]["items"][0]["label"] = "Ny etikett"
    _change(sapp, world, draft_id, changed)
    publish_via_service(sapp, world, draft_id)
    response = designer.get("/design/definitions/dver-diff/diff",
                            headers={"Accept-Language": "en"})
    assert response.status_code == 200
    html = s.body(response)
    assert "Version 1 → version 2" in html
    assert "1 change alters what answers mean." in html
    assert "schema:maxLength" in html
    assert "Ny etikett" in html
    same = s.body(designer.get("/design/definitions/dver-diff/diff?from=2&to=2",
                               headers={"Accept-Language": "en"}))
    assert "No differences." in same
    assert designer.get("/design/definitions/dver-diff/diff?from=7").status_code == 404
    assert designer_b.get("/design/definitions/dver-diff/diff").status_code == 404
    listing = s.body(designer.get("/design/", headers={"Accept-Language": "en"}))
    assert "/design/definitions/dver-diff/diff?to=2" in listing
