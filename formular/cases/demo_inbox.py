"""Demo errands for the staff case inbox: a few of Vårdcentralen Norr's case types sent by the
demo citizens and left in different states (new and overdue, new, assigned, waiting for the
citizen, closed), so the inbox has something to show from the first log-in.

Each errand is made the way the citizen's "Send" makes it (a draft, a validated submission,
:func:`formular.cases.service.create_case`) and moved on through the case workflow with
:func:`formular.cases.service.fire`, as staff would. Runs after the case-type demo (which
enables the case types and creates the case staff); does nothing when they are missing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from formular.auth.permissions import Actor
from formular.definitions.service import compile_cached
from formular.storage import drafts
from formular.storage.base import utcnow
from formular.storage.cases import Case
from formular.storage.identity import Citizen, Role, StaffUser, Unit
from formular.storage.models import DefinitionVersion, Draft

from . import service, timers

#: (citizen name, case type, answers, days ago sent, what happened since)
ERRANDS: list[tuple[str, str, dict[str, Any], int, str]] = [
    ("Dag Dahlgren", "case-ask-nurse",
     {"topic": "ongoing", "question": "Jag har haft ont i ryggen i två veckor trots "
                                      "värktabletter. Behöver jag komma in?"}, 6, "new"),
    ("Bo Bengtsson", "case-renew-prescription",
     {"medicines": [{"name": "Levaxin", "strength": "50 mikrogram",
                     "dosage": "1 tablett på morgonen"}],
      "pharmacy": "any", "changes": False}, 1, "new"),
    ("Clara Cederlund", "case-ask-nurse",
     {"topic": "results", "question": "Har svaret på mitt blodprov från i tisdags kommit?"},
     2, "assigned"),
    ("Ellen Ek", "case-renew-prescription",
     {"medicines": [{"name": "Alvedon", "strength": "500 mg"}], "pharmacy": "specific",
      "pharmacy_name": "Apoteket Hjärtat, Norrstan", "changes": True,
      "change_details": "Jag tar numera bara en tablett per dag."}, 3, "waiting"),
    ("Alva Ahlström", "case-ask-nurse",
     {"topic": "medicines", "question": "Kan jag ta ipren samtidigt som penicillin?"},
     8, "closed"),
]


def _latest(session: Session, definition_id: str) -> DefinitionVersion | None:
    return session.scalars(select(DefinitionVersion).where(
        DefinitionVersion.definition_id == definition_id)
        .order_by(DefinitionVersion.version.desc())).first()


def _staff(session: Session, unit: Unit, role: Role,
           other_than: StaffUser | None = None) -> StaffUser | None:
    """The first staff member holding ``role`` at ``unit`` (preferably not ``other_than``)."""
    found = [user for user in session.scalars(select(StaffUser).order_by(StaffUser.id))
             if any(a.unit_id == unit.id and a.role == role for a in user.roles)]
    preferred = [user for user in found if user is not other_than]
    chosen = preferred or found
    return chosen[0] if chosen else None


def seed(session: Session, clinic: Unit) -> int:
    """Send the demo errands to ``clinic``; returns how many were made (0 when already there,
    or when the case types or the case staff are missing)."""
    if session.scalar(select(Case.id).where(Case.unit_id == clinic.id).limit(1)) is not None:
        return 0
    receiver = _staff(session, clinic, Role.CASE_RECEIVER)
    handler = _staff(session, clinic, Role.CASE_HANDLER, other_than=receiver)
    if receiver is None or handler is None:
        return 0
    as_receiver = Actor(kind="staff", staff_user_id=receiver.id, display_name="demo",
                        units={clinic.id: frozenset({Role.CASE_RECEIVER, Role.CASE_HANDLER})})
    as_handler = Actor(kind="staff", staff_user_id=handler.id, display_name="demo",
                       units={clinic.id: frozenset({Role.CASE_HANDLER})})
    now = utcnow()
    made = 0
    for name, definition_id, answers, days_ago, outcome in ERRANDS:
        citizen = session.scalar(select(Citizen).where(Citizen.name == name))
        version = _latest(session, definition_id)
        if citizen is None or version is None:
            continue
        validation = compile_cached(version.document, key=version.cache_key).validate(
            answers, audience="citizen")
        if validation.errors:  # the shipped form changed: leave this errand out
            continue
        sent = now - dt.timedelta(days=days_ago)
        case_draft = service.start_draft(session, unit_id=clinic.id, version=version,
                                         citizen_id=citizen.id,
                                         created_by_citizen_id=citizen.id, now=sent)
        draft = session.get(Draft, case_draft.draft_id)
        if draft is None:
            continue
        submission = drafts.submit(session, draft, validation.answers, {},
                                   citizen_id=citizen.id, answered_by_id=citizen.id,
                                   answered_by_kind="citizen")
        citizen_actor = Actor(kind="citizen", citizen_id=citizen.id, display_name=citizen.name)
        case = service.create_case(session, case_draft, submission, citizen_actor, sent)
        later = sent + dt.timedelta(hours=2)
        if outcome in ("assigned", "waiting", "closed"):
            service.fire(session, case, "assign", as_receiver, later,
                         {"assigned_to_id": handler.id})
        if outcome == "waiting":
            service.fire(session, case, "ask_citizen", as_handler, later, {
                "message": "Hej! Hur länge har du tagit en tablett per dag, och varför "
                           "ändrade du dosen?"})
        if outcome == "closed":
            service.fire(session, case, "answer", as_handler, later, {
                "message": "Hej! Det går bra att ta ipren tillsammans med penicillin, men "
                           "ta det i samband med mat. Hör av dig om du får ont i magen."})
            service.fire(session, case, "close", as_handler, later, {})
        made += 1
    session.commit()
    # The minute tick, as the worker would run it: the oldest new errand is flagged as not
    # answered in time (recorded, so the worker's own tick does not flag it again).
    timers.tick(session, now)
    return made
