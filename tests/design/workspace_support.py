"""Helpers of the designer workspace tests: a small scored definition, drafts made through
the service, and page helpers. Every person is fictional (see tests/functional/staff_support)."""

from __future__ import annotations

import copy
import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from formular.design import drafts, workspace
from formular.storage.db import db
from formular.storage.design import DesignDraft
from formular.storage.models import DefinitionVersion
from tests.functional import staff_support as s

FREQUENCY = [
    {"value": "never", "label": "Aldrig", "weight": 0},
    {"value": "sometimes", "label": "Ibland", "weight": 1},
    {"value": "often", "label": "Ofta", "weight": 2},
    {"value": "always", "label": "Alltid", "weight": 3},
]


def scored_definition(definition_id: str, title: str = "Sömn och mående") -> dict[str, Any]:
    """Two pages, two weighted questions, a score whose bands depend on the subject's age,
    a flag, and a free-text question on page 2."""
    values = [o["value"] for o in FREQUENCY]
    return {
        "formular": 1, "id": definition_id, "version": 1, "kind": "questionnaire",
        "title": title, "language": "sv", "languages": ["sv", "en"],
        "schema": {"type": "object", "additionalProperties": False,
                   "required": ["mood", "sleep"],
                   "properties": {"mood": {"enum": values}, "sleep": {"enum": values},
                                  "comment": {"type": "string", "maxLength": 500}}},
        "option_sets": {"frequency": copy.deepcopy(FREQUENCY)},
        "layout": {"pages": [
            {"id": "about", "title": "Om dig", "sections": [{"id": "questions", "items": [
                {"type": "choice", "name": "mood", "label": "Hur ofta känner du dig nedstämd?",
                 "options": "frequency"},
                {"type": "choice", "name": "sleep", "label": "Hur ofta sover du dåligt?",
                 "options": "frequency"},
            ]}]},
            {"id": "more", "title": "Övrigt", "sections": [{"id": "other", "items": [
                {"type": "textarea", "name": "comment", "label": "Något mer du vill berätta?"},
            ]}]},
        ]},
        "scores": [{
            "id": "burden", "label": "Belastning", "method": "sum",
            "items": ["mood", "sleep"],
            "band_sets": [
                {"when": {">=": [{"var": "subject.age"}, 65]}, "bands": [
                    {"id": "low-65", "min": 0, "max": 2, "label": "Låg (65 år och äldre)"},
                    {"id": "high-65", "min": 3, "max": 6, "label": "Hög (65 år och äldre)",
                     "severity": "moderate"}]},
                {"bands": [
                    {"id": "low", "min": 0, "max": 4, "label": "Låg"},
                    {"id": "high", "min": 5, "max": 6, "label": "Hög", "severity": "moderate"}]},
            ],
        }],
        "flags": [{"id": "sleeps-badly", "label": "Sover alltid dåligt",
                   "when": {"==": [{"var": "sleep"}, "always"]}}],
    }


def make_draft(app: Flask, world: s.World, document: dict[str, Any], *,
               unit: str = "A", origin: str = "blank") -> int:
    """A draft of unit A (or B) made through the service; its id."""
    with app.app_context():
        session = db.session()
        designer = world.staff["designer" if unit == "A" else "b-designer"]
        draft = drafts.create_draft(
            session, unit_id=world.unit_id if unit == "A" else world.other_unit_id,
            document=document, origin=origin, staff_user_id=designer.id)
        session.commit()
        return draft.id


def draft_row(app: Flask, draft_id: int) -> DesignDraft | None:
    with app.app_context():
        row = db.session.get(DesignDraft, draft_id)
        if row is not None:
            db.session.expunge(row)
        return row


def versions(app: Flask, definition_id: str) -> list[DefinitionVersion]:
    with app.app_context():
        rows = list(db.session.scalars(select(DefinitionVersion).where(
            DefinitionVersion.definition_id == definition_id)
            .order_by(DefinitionVersion.version)))
        for row in rows:
            db.session.expunge(row)
        return rows


def publish_via_service(app: Flask, world: s.World, draft_id: int, audience: str = "unit",
                        unit: str = "A") -> int:
    """Publish a draft as its unit's designer; the new version number."""
    with app.app_context():
        session = db.session()
        draft = session.get(DesignDraft, draft_id)
        assert draft is not None
        designer = world.staff["designer" if unit == "A" else "b-designer"]
        row = workspace.publish(session, draft, expected_revision=draft.revision,
                                audience=audience, staff_user_id=designer.id)
        session.commit()
        return row.version


_REVISION = re.compile(r'name="revision" value="(\d+)"')


def revision_on(html: str) -> str:
    found = _REVISION.search(html)
    assert found, "no revision field on the page"
    return found.group(1)


def post_publish(client: FlaskClient, draft_id: int, audience: str = "unit",
                 revision: str | None = None) -> Any:
    page = client.get(f"/design/drafts/{draft_id}/publish")
    html = s.body(page)
    data = {"csrf_token": s.csrf_of(html), "audience": audience,
            "revision": revision if revision is not None else revision_on(html)}
    return client.post(f"/design/drafts/{draft_id}/publish", data=data)
