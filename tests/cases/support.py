"""Helpers for the case tests: a world with case staff, stored case types, cases made
directly through the service (for tests that start after the citizen sent one), and clients.

Every person is fictional (see tests/functional/staff_support: test series, checked free)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy import select

from formular.auth.permissions import Actor
from formular.cases import service
from formular.casetypes import service as casetypes
from formular.definitions.service import compile_cached
from formular.storage import drafts
from formular.storage.base import utcnow
from formular.storage.cases import Case
from formular.storage.db import db
from formular.storage.identity import Role, Unit
from formular.storage.models import DefinitionVersion, Draft
from tests import factories
from tests.casetypes.support import store_case_type
from tests.functional import staff_support as s

CASE_ROLES = (Role.CASE_RECEIVER, Role.CASE_HANDLER)


def build_cases_world(app: Flask, label: str) -> s.World:
    world = s.build_world(app, label)
    names = {Role.CASE_RECEIVER: "Rut Mottagare", Role.CASE_HANDLER: "Hans Handläggare"}
    with app.app_context():
        session = db.session()
        for prefix, unit_id in (("", world.unit_id), ("b-", world.other_unit_id)):
            unit = session.get(Unit, unit_id)
            assert unit is not None
            for role in CASE_ROLES:
                key = f"{prefix}{role.value}"
                user = factories.staff(session, [(unit, role)], username=f"{label}-{key}")
                user.display_name = f"{names[role]} {prefix.upper()}{label}".strip()
                user.email = f"{label}-{key}@example.org"
                world.staff[key] = s.Person(user.id, user.display_name,
                                            username=user.username)
        session.commit()
    return world


@dataclass(frozen=True)
class StoredCaseType:
    definition_id: str
    version_id: int
    unit_id: int
    title: str


def add_case_type(app: Flask, unit_id: int, title: str, *, attachments: bool = False,
                  restricted: bool = False, enabled: bool = True,
                  owner_unit_id: int | None = -1) -> StoredCaseType:
    """Store a case type (local to ``unit_id`` unless ``owner_unit_id`` says otherwise) and
    set the unit's settings for it."""
    with app.app_context():
        session = db.session()
        owner = unit_id if owner_unit_id == -1 else owner_unit_id
        row = store_case_type(session, title, owner_unit_id=owner,
                              terms="Jag förstår att ärendet **inte** är akut.")
        casetypes.save_setting(session, unit_id=unit_id, definition_id=row.definition_id,
                               enabled=enabled, attachments_enabled=attachments,
                               restricted=restricted, terms_text=None, staff_user_id=None)
        session.commit()
        return StoredCaseType(row.definition_id, row.id, unit_id, title)


def citizen_actor(person: s.Person, acting_for: s.Person | None = None) -> Actor:
    return Actor(kind="citizen", citizen_id=person.id,
                 acting_for_id=acting_for.id if acting_for else None,
                 display_name=person.name)


def make_case(app: Flask, case_type: StoredCaseType, citizen: s.Person,
              message: str = "Jag behöver hjälp med mitt ärende.",
              files: list[tuple[str, bytes]] | None = None,
              now: dt.datetime | None = None) -> str:
    """A sent case (state "new"), made through the service as the citizen's submit does;
    returns its token."""
    now = now or utcnow()
    actor = citizen_actor(citizen)
    with app.app_context():
        session = db.session()
        version = session.get(DefinitionVersion, case_type.version_id)
        assert version is not None
        case_draft = service.start_draft(session, unit_id=case_type.unit_id, version=version,
                                         citizen_id=citizen.id,
                                         created_by_citizen_id=citizen.id, now=now)
        draft = session.get(Draft, case_draft.draft_id)
        assert draft is not None
        compiled = compile_cached(version.document, key=version.cache_key)
        validation = compiled.validate({"message": message}, audience="citizen")
        assert not validation.errors, validation.errors
        submission = drafts.submit(session, draft, validation.answers, {},
                                   citizen_id=citizen.id, answered_by_id=citizen.id,
                                   answered_by_kind="citizen")
        checked, problems = service.check_attachments(files or [],
                                                      service.CITIZEN_MAX_FILES)
        assert not problems
        case = service.create_case(session, case_draft, submission, actor, now, checked)
        token = case.token
        session.commit()
    return token


def case_row(app: Flask, token: str) -> dict[str, Any]:
    """The stored case as plain values (state, assignee, overdue, …)."""
    with app.app_context():
        case = db.session.scalars(select(Case).where(Case.token == token)).one()
        return {"id": case.id, "state": case.state, "assigned_to_id": case.assigned_to_id,
                "overdue": case.overdue, "closed_at": case.closed_at,
                "unit_id": case.unit_id, "citizen_id": case.citizen_id}


def fire_as(app: Flask, token: str, event: str, actor: Actor,
            data: dict[str, Any] | None = None) -> service.Result:
    """Fire a case event through the service and commit (for getting a case into a state)."""
    with app.app_context():
        session = db.session()
        case = service.case_by_token(session, token)
        assert case is not None
        result = service.fire(session, case, event, actor, utcnow(), data)
        session.commit()
        return service.Result(result.ok, result.reason, result.target, None)


PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def matrix_objects(app: Flask, world: s.World) -> dict[str, Any]:
    """Objects of citizen A ("adult") at clinic A for the authorization matrix (the citizen
    routes): a case type with attachments, an errand draft, a sent case with a file, a case
    waiting for the citizen's answer, and a case to withdraw."""
    case_type = add_case_type(app, world.unit_id, "Matrisärende", attachments=True)
    adult = world.citizens["adult"]
    with app.app_context():
        session = db.session()
        unit = session.get(Unit, world.unit_id)
        assert unit is not None
        handler = factories.staff(session, [(unit, Role.CASE_HANDLER)],
                                  username=f"{world.label}-c1-handler")
        receiver = factories.staff(session, [(unit, Role.CASE_RECEIVER)],
                                   username=f"{world.label}-c1-receiver")
        version = session.get(DefinitionVersion, case_type.version_id)
        assert version is not None
        draft_token = service.start_draft(session, unit_id=world.unit_id, version=version,
                                          citizen_id=adult.id, created_by_citizen_id=adult.id,
                                          now=utcnow()).token
        session.commit()
        handler_actor = Actor(kind="staff", staff_user_id=handler.id,
                              units={world.unit_id: frozenset({Role.CASE_HANDLER})})
        receiver_actor = Actor(kind="staff", staff_user_id=receiver.id,
                               units={world.unit_id: frozenset({Role.CASE_RECEIVER})})
    case_token = make_case(app, case_type, adult, files=[("intyg.pdf", PDF)])
    with app.app_context():
        session = db.session()
        case = service.case_by_token(session, case_token)
        assert case is not None
        file_token = service.attachments_of(session, case)[0].token
    reply_token = make_case(app, case_type, adult)
    assert fire_as(app, reply_token, "assign", receiver_actor,
                   {"assigned_to_id": handler_actor.staff_user_id}).ok
    assert fire_as(app, reply_token, "ask_citizen", handler_actor, {"message": "Fråga?"}).ok
    return {"c1_unit_id": world.unit_id, "c1_definition_id": case_type.definition_id,
            "c1_draft_token": draft_token, "c1_case_token": case_token,
            "c1_file_token": file_token, "c1_reply_token": reply_token,
            "c1_withdraw_token": make_case(app, case_type, adult)}
