"""Workflow timers of cases, fired by the minute tick: the overdue flag (``flag_unanswered``
after N working days), the reminder to a silent citizen and the automatic close.

**Which moment a timer counts from.** The case workflow anchors its timers on
``state_entered``. A timer that runs in several states (``unanswered`` runs in ``new`` and
``assigned``) counts from when the case *entered that group of states*: handing a new case to
a colleague (new → assigned) does not restart the clinic's clock, while the citizen's reply
(waiting-for-citizen → assigned) does. That is exactly "not answered within three working days
of arriving or of the citizen's last reply". The moment is read from the case's history.

**Once only.** A firing's key is the engine's key plus that moment (``unanswered:P3D@…``),
recorded in ``Case.timers_fired`` in the same transaction as the event, under a row lock on
the case (SELECT … FOR UPDATE on PostgreSQL; SQLite serialises writers): a tick that runs
twice, or two workers ticking at once, fire it once, and a new entry into the states re-arms it.
A firing the workflow refuses is recorded too, so it is not retried every minute.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any, Final

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from formular.auth.permissions import ANONYMOUS
from formular.storage.cases import Case, CaseEvent
from formular.workflow import service as workflow
from formular.workflow.context import as_utc, instant_text

log = logging.getLogger(__name__)

WORKFLOW: Final = "case"
#: At most this many timers fire for one case in one tick (each may change the state, after
#: which the due timers are computed again).
MAX_PER_CASE: Final = 5


def timed_states(definition: workflow.Workflow) -> frozenset[str]:
    return frozenset(state for timer in definition.timers for state in timer.on_states)


def entered_group(session: Session, case: Case, group: Iterable[str]) -> dt.datetime:
    """When the case last came into ``group`` from outside it (or was created in it)."""
    names = sorted(group)
    moment = session.scalar(
        select(CaseEvent.at).where(
            CaseEvent.case_id == case.id, CaseEvent.to_state.in_(names),
            or_(CaseEvent.from_state.is_(None), CaseEvent.from_state.not_in(names)))
        .order_by(CaseEvent.at.desc(), CaseEvent.id.desc()).limit(1))
    if moment is None:
        moment = case.created_at if case.state in names else case.state_changed_at
    return moment


def settings_of(case: Case) -> dict[str, Any]:
    """The case type's workflow settings (``schemas/workflow-settings.schema.json``)."""
    settings = (case.definition_version.document or {}).get("workflow")
    return dict(settings) if isinstance(settings, dict) else {}


def due(session: Session, definition: workflow.Workflow, case: Case,
        now: dt.datetime) -> list[tuple[workflow.TimerDue, str]]:
    """The timers due for ``case`` at ``now`` with the key each firing is recorded under,
    earliest first."""
    fired = set(case.timers_fired or [])
    found: list[tuple[workflow.TimerDue, str]] = []
    groups = {frozenset(timer.on_states) for timer in definition.timers
              if case.state in timer.on_states}
    for group in sorted(groups, key=sorted):
        anchor = as_utc(entered_group(session, case, group))
        names = {timer.name for timer in definition.timers
                 if frozenset(timer.on_states) == group}
        for timer in workflow.due_timers(definition, case.state, {"state_entered": anchor},
                                         settings_of(case), now):
            key = f"{timer.key}@{instant_text(anchor)}"
            if timer.timer in names and key not in fired:
                found.append((timer, key))
    return sorted(found, key=lambda pair: (pair[0].due_at, pair[1]))


def tick(session: Session, now: dt.datetime) -> int:
    """Fire every due timer of every case in a timed state; returns how many firings the
    workflow took (refused ones are recorded, not counted). Commits once per case."""
    from formular.cases import service

    definition = workflow.load_builtin(WORKFLOW)
    states = timed_states(definition)
    taken = 0
    ids = session.scalars(select(Case.id).where(Case.state.in_(sorted(states)))
                          .order_by(Case.id)).all()
    for case_id in ids:
        case = session.get(Case, case_id, with_for_update={"of": Case}, populate_existing=True)
        if case is None or case.state not in states:
            session.rollback()
            continue
        for _round in range(MAX_PER_CASE):
            pending = due(session, definition, case, now)
            if not pending:
                break
            timer, key = pending[0]
            case.timers_fired = [*(case.timers_fired or []), key]
            outcome = service.fire(session, case, timer.event, ANONYMOUS, now, {})
            if outcome.ok:
                taken += 1
            else:
                log.info("case %s: timer %s refused (%s)", case.id, key, outcome.reason)
            session.flush()
        session.commit()
    return taken
