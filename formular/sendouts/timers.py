"""Workflow timers of send-outs: automatic reminders before the deadline, the deadline, expiry.

The send-out workflow's timers hang on the send-out's own times (scheduled, deadline, expiry),
so the engine is asked once per send-out which timers are due; each due timer is then fired
for every assignment in a state it runs in, through the engine (which may still refuse one,
e.g. a reminder to an expired form). A timer's key is recorded on the send-out in the same
transaction, under a row lock on the send-out (SELECT … FOR UPDATE on PostgreSQL; SQLite
serialises writers), so a tick that runs twice, or two workers ticking at once, fire it once.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from formular.auth.permissions import ANONYMOUS
from formular.storage.sendouts import Assignment, SendOut
from formular.workflow import service as workflow

from . import transitions

#: Assignments loaded per query while firing a timer.
BATCH = 500


def _anchors(send_out: SendOut) -> dict[str, dt.datetime | None]:
    return {"scheduled_at": send_out.scheduled_at, "deadline": send_out.deadline_at,
            "expires_at": send_out.expires_at}


def tick(session: Session, now: dt.datetime) -> int:
    """Fire every due timer of every active send-out; returns how many assignments moved."""
    definition = workflow.load_builtin(transitions.WORKFLOW)
    moved = 0
    active = session.scalars(select(SendOut.id).where(SendOut.status == "sent")).all()
    for send_out_id in active:
        send_out = session.get(SendOut, send_out_id, with_for_update={"of": SendOut},
                               populate_existing=True)
        if send_out is None or send_out.status != "sent":
            session.rollback()
            continue
        settings = {"reminder_days_before": list(send_out.reminder_days_before or [])}
        due: dict[str, list[str]] = {}
        events: dict[str, str] = {}
        for state in (*transitions.OPEN_STATES, "scheduled"):
            for timer in workflow.due_timers(definition, state, _anchors(send_out), settings,
                                             now, fired=send_out.timers_fired or []):
                due.setdefault(timer.key, []).append(state)
                events[timer.key] = timer.event
        for key, states in sorted(due.items()):
            moved += _fire_for_all(session, send_out, events[key], states, now)
            send_out.timers_fired = [*(send_out.timers_fired or []), key]
        session.commit()
    return moved


def _fire_for_all(session: Session, send_out: SendOut, event: str, states: list[str],
                  now: dt.datetime) -> int:
    moved = 0
    ids = session.scalars(select(Assignment.id).where(
        Assignment.send_out_id == send_out.id, Assignment.state.in_(states))
        .order_by(Assignment.id)).all()
    for start in range(0, len(ids), BATCH):
        for assignment in session.scalars(select(Assignment).where(
                Assignment.id.in_(ids[start:start + BATCH]))):
            if transitions.fire(session, assignment, event, ANONYMOUS, now).ok:
                moved += 1
        session.flush()
    if event == "expire":
        send_out.status = "expired"
    return moved
