"""Shared by the storage concurrency tests and the crash test: a small one-page form, citizens
with log-in cookies, and send-outs released to them through the send-out service."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from typing import Any

from flask import Flask
from sqlalchemy import select

from formular.auth.permissions import Actor
from formular.sendouts import service
from formular.sendouts.recipients import RawRow, RowVerdict
from formular.storage.base import utcnow
from formular.storage.db import db
from formular.storage.identity import Role
from formular.storage.models import DefinitionVersion
from formular.storage.sendouts import Assignment
from tests import factories
from tests.auth.support import citizen_session_cookie
from tests.functional.support import minimal_definition, store_design

FORM_ID = "storage-race"

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
REVISION = re.compile(r'name="_revision" value="(\d+)"')


def race_definition() -> dict[str, Any]:
    """Four required answers on one page, no rules: a post is either all of them or none."""
    items: list[dict[str, Any]] = [
        {"type": "text", "name": "name", "label": "Namn"},
        {"type": "integer", "name": "number", "label": "Ett tal"},
        {"type": "choice", "name": "color", "label": "Färg",
         "options": [{"value": "red", "label": "Röd"}, {"value": "green", "label": "Grön"},
                     {"value": "blue", "label": "Blå"}]},
        {"type": "yes-no", "name": "consent", "label": "Jag vill skicka in svaren"},
    ]
    properties = {
        "name": {"type": "string", "maxLength": 100},
        "number": {"type": "integer", "minimum": 0, "maximum": 1_000_000},
        "color": {"enum": ["red", "green", "blue"]},
        "consent": {"type": "boolean", "const": True},
    }
    return minimal_definition(FORM_ID, items, properties,
                              required=["name", "number", "color", "consent"],
                              kind="questionnaire", policy={"drafts": True})


def form_data(name: str, number: int, color: str = "red") -> dict[str, str]:
    """What a browser posts for these answers."""
    return {"name": name, "number": str(number), "color": color, "consent": "true"}


def answers(name: str, number: int, color: str = "red") -> dict[str, Any]:
    """What must be stored for :func:`form_data` of the same values."""
    return {"name": name, "number": number, "color": color, "consent": True}


def ensure_form(app: Flask) -> int:
    """Store the form (idempotent); returns its version id."""
    store_design(app, race_definition())
    with app.app_context():
        version_id = db.session.scalar(select(DefinitionVersion.id).where(
            DefinitionVersion.definition_id == FORM_ID))
        assert version_id is not None
        return int(version_id)


#: Birth days handed out so far: each citizen made here is born on a day of their own.
_born = itertools.count()


def citizens(app: Flask, count: int) -> list[int]:
    """``count`` new adult citizens (born from 1907 on, each on a day no other test uses)."""
    with app.app_context():
        session = db.session()
        people = [factories.citizen(session, dt.date(1907, 3, 1)
                                    + dt.timedelta(days=next(_born)))
                  for _ in range(count)]
        session.commit()
        return [p.id for p in people]


def cookies(app: Flask, citizen_ids: list[int]) -> list[str]:
    """A fresh log-in session cookie for each citizen."""
    return [citizen_session_cookie(app, citizen_id) for citizen_id in citizen_ids]


def send_out(app: Flask, citizen_ids: list[int], *, release: bool = True,
             deadline_at: dt.datetime | None = None,
             reminder_days_before: list[int] | None = None) -> int:
    """A send-out of the race form to ``citizen_ids``, its assignments inserted by the service.

    With ``release`` it is due at once and released by the insert job (the assignments are
    "sent"); without, it is due but left "scheduled" for the caller to release.
    """
    version_id = ensure_form(app)
    now = utcnow()
    with app.app_context():
        session = db.session()
        unit = factories.unit(session)
        sender = factories.staff(session, [(unit, Role.SENDER)])
        version = session.get(DefinitionVersion, version_id)
        assert version is not None
        actor = Actor(kind="staff", staff_user_id=sender.id,
                      units={unit.id: frozenset({Role.SENDER})})
        verdicts = [RowVerdict(RawRow(n + 1, ""), "ok", None, citizen_id)
                    for n, citizen_id in enumerate(citizen_ids)]
        row, job = service.create_send_out(
            session, actor, unit_id=unit.id, version=version, verdicts=verdicts,
            scheduled_at=now - dt.timedelta(seconds=1), deadline_at=deadline_at,
            expires_at=None, reminder_days_before=reminder_days_before or [],
            subject="Enkät", body="Svara gärna.")
        session.commit()
        send_out_id, job_id = row.id, job.id
        # The job releases what is due at ``now``: an hour earlier nothing of this is due yet.
        service.insert_assignments(db.session, job_id,
                                   now=now if release else now - dt.timedelta(hours=1))
        db.session.remove()
    return int(send_out_id)


def assignment_tokens(app: Flask, send_out_id: int) -> dict[int, str]:
    """citizen id → assignment token of a send-out."""
    with app.app_context():
        rows = db.session.execute(select(Assignment.citizen_id, Assignment.token).where(
            Assignment.send_out_id == send_out_id)).all()
        db.session.remove()
    return {int(citizen_id): str(token) for citizen_id, token in rows}


def page_tokens(html: str) -> tuple[str, str]:
    """(CSRF token, draft revision) of a rendered form page."""
    csrf, revision = CSRF.search(html), REVISION.search(html)
    assert csrf is not None, "no CSRF token on the page"
    return csrf.group(1), revision.group(1) if revision else "0"
