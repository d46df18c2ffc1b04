"""Small case-type definitions for the service and administration tests (stored once per test
with unique ids, so tests sharing the session database never see each other's case types)."""

from __future__ import annotations

import itertools
import uuid
from typing import Any

from sqlalchemy.orm import Session

from formular.designs import store
from formular.storage.models import DefinitionVersion

_numbers = itertools.count(1)


def case_document(definition_id: str, title: str, *, terms: str = "Centrala villkor.",
                  workflow: str = "case", version: int = 1) -> dict[str, Any]:
    return {
        "formular": 1, "id": definition_id, "version": version, "kind": "case-type",
        "title": title, "description": f"Beskrivning av {title}.", "language": "sv",
        "languages": ["sv"],
        "schema": {"type": "object", "additionalProperties": False,
                   "properties": {"message": {"type": "string", "maxLength": 2000}},
                   "required": ["message"]},
        "layout": {"pages": [{"id": "page", "title": "Ditt ärende", "sections": [
            {"id": "main", "items": [{"type": "textarea", "name": "message",
                                      "label": "Ditt meddelande"}]}]}]},
        "policy": {"login": "required", "fillers": ["citizen"], "terms": terms},
        "workflow": {"type": workflow},
    }


def store_case_type(session: Session, title: str, *, owner_unit_id: int | None = None,
                    workflow: str = "case", terms: str = "Centrala villkor.",
                    definition_id: str | None = None, version: int = 1) -> DefinitionVersion:
    """Store a case type; ``owner_unit_id`` makes it a local case type of that unit."""
    slug = definition_id or f"case-test-{next(_numbers)}-{uuid.uuid4().hex[:8]}"
    row, _new = store(session, case_document(slug, title, terms=terms, workflow=workflow,
                                             version=version))
    row.owner_unit_id = owner_unit_id
    session.flush()
    return row


def matrix_objects(app: Any, world: Any) -> dict[str, Any]:
    """Objects of clinic A for the authorization matrix (tests/test_authorization_matrix.py):
    a usable case type, a standard reply and a live hand-out of a restricted case type."""
    import datetime as dt

    from formular.casetypes import service
    from formular.storage.db import db
    from formular.storage.identity import Citizen

    with app.app_context():
        session = db.session()
        restricted = store_case_type(session, "Matrisärende", owner_unit_id=world.unit_id)
        service.save_setting(session, unit_id=world.unit_id,
                             definition_id=restricted.definition_id, enabled=True,
                             attachments_enabled=False, restricted=True, terms_text=None,
                             staff_user_id=None)
        reply = service.save_standard_reply(
            session, unit_id=world.unit_id, reply_id=None, definition_id=None,
            title="Matrissvar", body="Tack!", active=True, staff_user_id=None)
        citizen = session.get(Citizen, world.citizens["adult3"].id)
        assert citizen is not None
        today = dt.date.today()
        grants = [service.grant(session, unit_id=world.unit_id,
                                definition_id=restricted.definition_id, citizen=citizen,
                                valid_until=None, today=today, staff_user_id=None)]
        session.commit()
        return {"c2_unit_id": world.unit_id, "c2_definition_id": restricted.definition_id,
                "c2_reply_id": reply.id, "c2_grant_id": grants[0].id}
