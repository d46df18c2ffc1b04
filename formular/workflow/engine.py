"""Applying a workflow: pure functions from (workflow, state, event, context) to an outcome.

Nothing here writes, sends or reads a clock. :func:`fire` says whether an event may be taken
and, if so, the new state and the actions the caller must perform; the service persists the
state, appends the history row and queues the actions. :func:`due_timers` says which timers
are due at a given instant; the job layer fires their events (as the system) and records
their idempotency keys so that a timer fires once even when jobs overlap or rerun.

A refusal always carries a reason key from :data:`~formular.workflow.registry.REASONS`. The
checks run in a fixed order, so the reason says the most basic thing wrong:

1. ``unknown-state``: the stored state is not in this workflow;
2. ``no-transition``: the event cannot be taken from this state at all;
3. ``forbidden``: the actor holds none of the permissions of the transitions that could take
   it (checked before conditions, so an actor learns nothing from conditions it may not use);
4. ``not-applicable``: no permitted transition's ``cond`` holds;
5. the first failing validator's reason (``expired``, ``answers-invalid``...).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from formular.definitions.rules import holds

from .context import Context, as_utc, instant
from .durations import add_working_days, format_duration
from .model import Timer, Transition, Workflow
from .registry import get_validator

__all__ = [
    "Context", "Outcome", "TimerDue", "available_events", "due_timers", "fire",
    "planned_timers",
]


@dataclass(frozen=True)
class Outcome:
    """What firing an event would do. ``target == source`` when refused."""

    ok: bool
    source: str
    target: str
    event: str
    #: Names of the actions to perform, in order (empty when refused).
    actions: tuple[str, ...] = ()
    #: Why it was refused (a key of ``REASONS``); ``None`` when ``ok``.
    reason: str | None = None
    #: Index in the workflow's ``transitions`` of the transition chosen (for the audit row);
    #: ``None`` when refused before one was chosen.
    transition: int | None = None

    @property
    def changed(self) -> bool:
        """Whether the subject enters a different state (its ``state_entered`` resets)."""
        return self.ok and self.target != self.source


def fire(workflow: Workflow, state: str, event: str, context: Context) -> Outcome:
    """Decide what *event* does to a subject in *state*. Pure; never raises on any input.

    Transitions are tried in document order: the first one the actor is permitted to take
    whose ``cond`` holds is chosen, then its validators run in order.
    """

    def refuse(reason: str, chosen: Transition | None = None) -> Outcome:
        index = chosen.index if chosen is not None else None
        return Outcome(False, state, state, event, (), reason, index)

    if workflow.state(state) is None:
        return refuse("unknown-state")
    candidates = workflow.transitions_for(state, event)
    if not candidates:
        return refuse("no-transition")
    permitted = [t for t in candidates if context.allows(t.permission)]
    if not permitted:
        return refuse("forbidden")
    chosen = next((t for t in permitted if _available(t, context)), None)
    if chosen is None:
        return refuse("not-applicable")
    for name in chosen.validators:
        check = get_validator(name)
        reason = "unknown-validator" if check is None else check(context)
        if reason is not None:
            return refuse(reason, chosen)
    return Outcome(True, state, chosen.target_from(state), event, chosen.actions, None,
                   chosen.index)


def available_events(workflow: Workflow, state: str, context: Context) -> list[str]:
    """The events the actor could take from *state* now, for buttons: permitted, with a
    ``cond`` that holds. Validators are ignored (a failing one is shown as a reason when the
    button is pressed, not by hiding it)."""
    events: dict[str, None] = {}
    for transition in workflow.transitions_from(state):
        if transition.event not in events and context.allows(transition.permission) \
                and _available(transition, context):
            events[transition.event] = None
    return list(events)


def _available(transition: Transition, context: Context) -> bool:
    return transition.cond is None or holds(transition.cond, context.document)


# --- Timers -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimerDue:
    """One firing of a timer."""

    timer: str
    #: The event to fire, as the system.
    event: str
    #: ``<timer>:<offset>`` (``reminder:-P3D``): the same for the same firing of the same
    #: subject however often it is computed. The job layer records it per subject; for timers
    #: anchored on ``state_entered`` it scopes the record to that state entry (``anchor_at``).
    key: str
    due_at: dt.datetime
    anchor: str
    anchor_at: dt.datetime
    #: Canonical ISO 8601 offset from the anchor (``-P3D``).
    offset: str


def planned_timers(
    workflow: Workflow, state: str, anchors: Mapping[str, Any], settings: Mapping[str, Any]
) -> list[TimerDue]:
    """Every firing the timers of *state* have, past or future, by due time (for showing
    "next reminder on ..." and for queueing with the job layer)."""
    return sorted((due for due, _ in _firings(workflow, state, anchors, settings)),
                  key=lambda due: (due.due_at, due.key))


def due_timers(
    workflow: Workflow,
    state: str,
    anchors: Mapping[str, Any],
    settings: Mapping[str, Any],
    now: dt.datetime,
    *,
    fired: Collection[str] = (),
) -> list[TimerDue]:
    """The timers to fire for a subject in *state* at *now*, earliest first.

    :param anchors: instants by anchor name (``deadline``, ``scheduled_at``,
        ``state_entered``, ``expires_at``); a missing or ``None`` anchor disables its timers.
        Naive datetimes are taken as UTC.
    :param settings: the definition's workflow settings, for ``from_setting`` timers.
    :param fired: idempotency keys already recorded for this subject; they are not returned.

    A timer set before its anchor lapses once the anchor has passed. When several offsets of
    one timer are due (a job that was down), only the latest is returned: one reminder, not a
    burst of them. Fire the first, then compute again from the new state: a state change may
    stop the others.
    """
    moment = as_utc(now)
    latest: dict[str, TimerDue] = {}
    for due, delta in _firings(workflow, state, anchors, settings):
        if due.due_at > moment or (delta < dt.timedelta(0) and moment >= due.anchor_at):
            continue
        if due.timer not in latest or due.due_at > latest[due.timer].due_at:
            latest[due.timer] = due
    return sorted((due for due in latest.values() if due.key not in fired),
                  key=lambda due: (due.due_at, due.key))


def _firings(
    workflow: Workflow, state: str, anchors: Mapping[str, Any], settings: Mapping[str, Any]
) -> Iterator[tuple[TimerDue, dt.timedelta]]:
    for timer in workflow.timers:
        if state not in timer.on_states:
            continue
        anchor_at = instant(anchors.get(timer.anchor))
        if anchor_at is None:
            continue
        for delta in timer.offsets(settings):
            due_at = _shift(anchor_at, delta, timer)
            if due_at is not None:
                yield TimerDue(
                    timer=timer.name, event=timer.fires,
                    key=f"{timer.name}:{format_duration(delta)}", due_at=due_at,
                    anchor=timer.anchor, anchor_at=anchor_at, offset=format_duration(delta),
                ), delta


def _shift(anchor_at: dt.datetime, delta: dt.timedelta, timer: Timer) -> dt.datetime | None:
    """*anchor_at* moved by *delta*; ``None`` past the calendar's ends."""
    try:
        if timer.working_days:
            return add_working_days(anchor_at, delta.days)
        return anchor_at + delta
    except OverflowError:
        return None
