"""Moving assignments through the send-out workflow and persisting what the engine decided.

The engine (``formular.workflow``) is pure: given a state, an event and a context it says
whether the transition is allowed, where it leads and which actions follow. This module is
the service around it: it stores the new state and a history row, and performs the actions
(inbox messages, e-mails without health data, handled-by stamps) in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, cast

from flask_babel import gettext as _
from sqlalchemy import CursorResult, Insert, Table, Update, bindparam, insert, select, update
from sqlalchemy.orm import Session

from formular.auth.permissions import Actor
from formular.definitions.service import compile_cached
from formular.storage.identity import Citizen, StaffUser, Unit
from formular.storage.models import Submission
from formular.storage.rows import is_entity, record
from formular.storage.sendouts import (
    Assignment,
    AssignmentEvent,
    InboxMessage,
    Notification,
    SendOut,
)
from formular.workflow import service as workflow

from .answering import AssignmentRow

#: An assignment as an ORM entity (staff, jobs) or a plain row (a citizen's form requests).
AnyAssignment = Assignment | AssignmentRow

WORKFLOW = "send-out"
#: States in the order follow-up lists them.
STATE_ORDER = ["scheduled", "sent", "opened", "in-progress", "answered", "handled", "expired",
               "cancelled", "failed"]
OPEN_STATES = ("sent", "opened", "in-progress")


@dataclass(frozen=True)
class Result:
    ok: bool
    reason: str | None = None
    target: str | None = None


def _context(assignment: AnyAssignment, actor: Actor, now: dt.datetime,
             data: dict[str, Any] | None) -> Any:
    send_out = assignment.send_out
    if actor.is_staff:
        permissions = {str(p) for p in actor.permissions_in(send_out.unit_id)}
    elif actor.is_citizen:
        permissions = {"citizen:form:answer"}
    else:
        permissions = {"system"}
    return workflow.Context(
        actor_kind=actor.kind if actor.kind != "anonymous" else "system",
        permissions=frozenset(permissions),
        data=data or {},
        now=now,
        assignment={
            "expires_at": _iso(send_out.expires_at),
            "deadline_at": _iso(send_out.deadline_at),
            "last_reminded_at": _iso(assignment.last_reminded_at),
        },
        settings={"reminder_days_before": list(send_out.reminder_days_before or []),
                  "notify_staff_on_answer": send_out.notify_staff_on_answer},
    )


def _iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.isoformat()


def fire(session: Session, assignment: AnyAssignment, event: str, actor: Actor,
         now: dt.datetime, data: dict[str, Any] | None = None, *,
         also: dict[str, Any] | None = None) -> Result:
    """Apply ``event`` to an assignment if the workflow allows it; nothing is written if not.

    A move is one compare-and-set UPDATE on the state the engine decided from: of two requests
    moving the same assignment (two tabs opening it, a reminder job beside a withdrawal)
    exactly one wins and writes its history row; the other is refused as "no-transition".
    ``also`` names further columns the same UPDATE writes (the draft an "open" claims, the
    submission a "submit" records), so they are claimed by the same winner.

    This runs on every page a citizen opens or sends, so the UPDATE and the history INSERT
    are prebuilt Core statements executed with parameters on the session's connection: no
    statement is constructed, no cache key computed, no ORM execution step and no unit of
    work flushed per call (the caller's pending entities are flushed at its commit).
    """
    definition = workflow.load_builtin(WORKFLOW)
    outcome = workflow.fire(definition, assignment.state, event,
                            _context(assignment, actor, now, data))
    if not outcome.ok:
        return Result(False, outcome.reason)
    needs_entity = _ENTITY_ACTIONS.intersection(outcome.actions)
    if needs_entity and not is_entity(assignment):
        # Staff and jobs make these moves with entities: a plain row's changes would not be
        # flushed. Refused before anything is written.
        raise TypeError(f"{sorted(needs_entity)[0]} needs the assignment entity")
    source = assignment.state
    target = outcome.target or source
    extra = also or {}
    connection = session.connection()
    history = {
        "assignment_id": assignment.id, "at": now, "event": event, "from_state": source,
        "to_state": target, "actor_kind": _actor_kind(actor),
        "actor_id": actor.staff_user_id if actor.is_staff else actor.citizen_id,
        "data": {k: v for k, v in (data or {}).items() if k in ("note", "answered_by")}}
    recorded = False
    if target != source or extra:
        move = {"_id": assignment.id, "_source": source, "state": target,
                "state_changed_at": now if target != source else assignment.state_changed_at,
                **extra}
        columns = tuple(sorted(extra))
        if connection.dialect.name == "postgresql":
            # One round trip: the history row is inserted from the UPDATE's RETURNING, so it
            # exists exactly when the move was made (and returns its id then).
            made = connection.execute(
                _move_and_record_statement(columns),
                {**move, **{f"_event_{key}": value for key, value in history.items()}}
            ).first() is not None
            recorded = True
        else:
            moved: CursorResult[Any] = connection.execute(_move_statement(columns), move)
            made = moved.rowcount == 1
        if not made:
            return Result(False, "no-transition")
        record(assignment, "state", target)
        if target != source:
            record(assignment, "state_changed_at", now)
        for name, value in extra.items():
            record(assignment, name, value)
    if not recorded:
        connection.execute(_RECORD_EVENT, history)
    for action in outcome.actions:
        _perform(session, action, assignment, actor, now)
    if outcome.actions:
        session.flush()
    return Result(True, None, target)


#: Actions that change the assignment entity itself (flushed with the caller's commit).
_ENTITY_ACTIONS = frozenset({"notify_citizen", "mark_handled"})

#: The tables written with prebuilt Core statements (see :func:`fire`).
_EVENTS = cast(Table, AssignmentEvent.__table__)
_ASSIGNMENTS = cast(Table, Assignment.__table__)
_RECORD_EVENT = insert(_EVENTS)
_MOVES: dict[tuple[str, ...], Update] = {}


def _move_statement(also: tuple[str, ...]) -> Update:
    """The compare-and-set UPDATE of a move writing the columns ``also`` too (built once per
    combination: none, the draft, the submission, the draft and the submission). A move that
    records a draft claims it: it wins only where no draft is recorded yet, so of two windows
    that each stored a first draft exactly one keeps it."""
    statement = _MOVES.get(also)
    if statement is None:
        statement = (update(_ASSIGNMENTS)
                     .where(_ASSIGNMENTS.c.id == bindparam("_id"),
                            _ASSIGNMENTS.c.state == bindparam("_source"))
                     .values(state=bindparam("state"),
                             state_changed_at=bindparam("state_changed_at"),
                             **{name: bindparam(name) for name in also}))
        if "draft_id" in also:
            statement = statement.where(_ASSIGNMENTS.c.draft_id.is_(None))
        _MOVES[also] = statement
    return statement


_MOVES_AND_RECORDS: dict[tuple[str, ...], Insert] = {}


def _move_and_record_statement(also: tuple[str, ...]) -> Insert:
    """PostgreSQL: the move's UPDATE … RETURNING in a CTE, and the history row inserted from
    it (``WITH moved AS (UPDATE …) INSERT INTO assignment_event … SELECT … FROM moved``). The
    history values are bound as ``_event_<column>``."""
    statement = _MOVES_AND_RECORDS.get(also)
    if statement is None:
        moved = _move_statement(also).returning(_ASSIGNMENTS.c.id).cte("moved")
        names = ("at", "event", "from_state", "to_state", "actor_kind", "actor_id", "data")
        statement = insert(_EVENTS).from_select(
            ["assignment_id", *names],
            select(moved.c.id, *(bindparam(f"_event_{name}", type_=_EVENTS.c[name].type)
                                 for name in names))).returning(_EVENTS.c.id)
        _MOVES_AND_RECORDS[also] = statement
    return statement


def _actor_kind(actor: Actor) -> str:
    if actor.is_citizen:
        return "guardian" if actor.acting_for_id else "citizen"
    return actor.kind if actor.kind in ("staff",) else "system"


def _perform(session: Session, action: str, assignment: AnyAssignment, actor: Actor,
             now: dt.datetime) -> None:
    send_out = assignment.send_out
    if action == "notify_citizen":
        assert isinstance(assignment, Assignment)
        assert isinstance(send_out, SendOut)
        assignment.reminders_sent += 1
        assignment.last_reminded_at = now
        session.add(InboxMessage(
            citizen_id=assignment.citizen_id, unit_id=send_out.unit_id,
            assignment_id=assignment.id, subject=_("Reminder: %(subject)s",
                                                   subject=send_out.message_subject),
            body=send_out.message_body, visible_from=now, created_at=now))
        citizen = session.get(Citizen, assignment.citizen_id)
        if citizen is not None and citizen.email and not citizen.protected_identity:
            unit = session.get(Unit, send_out.unit_id)
            name = unit.name if unit else ""
            session.add(Notification(
                to_address=citizen.email,
                subject=f"Påminnelse från {name} / Reminder from {name}",
                body=("Du har ett formulär som väntar på svar. Logga in för att läsa det.\n\n"
                      "A form is waiting for your answer. Log in to read it.\n")))
    elif action == "notify_staff" and send_out.notify_staff_on_answer:
        sender = session.get(StaffUser, send_out.created_by_id)
        if sender is not None and sender.email:
            session.add(Notification(
                to_address=sender.email,
                subject="Formulär: ett svar har kommit in / an answer has arrived",
                body=f"Utskick {send_out.id}: ett nytt svar. / Send-out {send_out.id}: "
                     "a new answer.\n"))
    elif action == "mark_handled":
        assert isinstance(assignment, Assignment)
        assignment.handled_by_id = actor.staff_user_id
        assignment.handled_at = now


def remind_unanswered(session: Session, send_out: SendOut, actor: Actor,
                      now: dt.datetime) -> int:
    rows = session.scalars(select(Assignment).where(
        Assignment.send_out_id == send_out.id, Assignment.state.in_(OPEN_STATES))).all()
    return sum(1 for row in rows if fire(session, row, "remind", actor, now).ok)


def cancel_send_out(session: Session, send_out: SendOut, actor: Actor, now: dt.datetime) -> int:
    rows = session.scalars(select(Assignment).where(
        Assignment.send_out_id == send_out.id,
        Assignment.state.in_(("scheduled", *OPEN_STATES)))).all()
    cancelled = sum(1 for row in rows if fire(session, row, "cancel", actor, now).ok)
    send_out.status = "cancelled"
    return cancelled


@dataclass(frozen=True)
class Review:
    pages: list[Any]
    scores: dict[str, Any]
    flags: list[Any]
    compiled: Any


def review_of(submission: Submission) -> Review:
    """A submission laid out like its form version (hidden items omitted), scores on top."""
    from formular.rendering.page import build_review

    version = submission.definition_version
    compiled = compile_cached(version.document, key=version.cache_key)
    evaluation = compiled.evaluate(submission.answers, "staff")
    return Review(build_review(compiled, "staff", evaluation),
                  submission.scores.get("scores", {}), submission.scores.get("flags", []),
                  compiled)


def event_done_text(event: str) -> str:
    return str({
        "remind": _("A reminder was sent."),
        "cancel": _("The form was withdrawn."),
        "handle": _("Marked as handled."),
    }.get(event, _("Done.")))


def refusal_text(reason: str | None) -> str:
    """Why the workflow refused, in the page's language: the engine's own reason texts are
    extracted from the workflow registry (``N_``) and translated here."""
    text = workflow.REASONS.get(reason or "")
    return str(_(text)) if text else str(_("That cannot be done now."))


def first_unanswered(session: Session, citizen_id: int) -> Assignment | None:
    return session.scalars(select(Assignment).where(
        Assignment.citizen_id == citizen_id, Assignment.state.in_(OPEN_STATES))
        .order_by(Assignment.created_at)).first()
