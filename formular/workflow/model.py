"""A loaded workflow as immutable data: states, transitions, timers.

These objects are built only by :mod:`formular.workflow.loader`, after the document passed its
schema and its semantic checks, so the engine can trust them: every name a transition or timer
uses exists, ``"*"`` sources are expanded, and offsets are parsed. They carry no behaviour
beyond lookups; applying a transition is :mod:`formular.workflow.engine`'s job.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Final

from .durations import MAX_SETTING_DAYS

#: The instants a timer may be set relative to. The caller supplies their values per subject
#: (an assignment's deadline, its send time, when it entered its current state, its expiry).
ANCHORS: Final = ("deadline", "scheduled_at", "state_entered", "expires_at")

#: The permission that only the system (jobs, timers, other workflows' actions) holds.
SYSTEM: Final = "system"


@dataclass(frozen=True)
class State:
    """One state. Labels are English source texts, translated through the interface catalog."""

    name: str
    #: What staff see ("In progress").
    label: str
    initial: bool = False
    final: bool = False
    #: What the citizen sees when it differs from the staff label ("Started"); ``None``: same.
    citizen_label: str | None = None

    def label_for(self, audience: str) -> str:
        """The label for ``"citizen"`` or ``"staff"`` (anything else gets the staff label)."""
        if audience == "citizen" and self.citizen_label:
            return self.citizen_label
        return self.label


@dataclass(frozen=True)
class Transition:
    """One edge (or several, one per source) that an event may take.

    ``cond`` makes the transition *available* or not (a false condition hides the button);
    ``validators`` *refuse* an available transition with a reason the user is shown. Both see
    the same :class:`~formular.workflow.context.Context`.
    """

    event: str
    #: The states it leaves from, with ``"*"`` already expanded to every non-final state.
    sources: tuple[str, ...]
    #: Where it goes; ``None`` stays in the source state (an internal transition, which does
    #: not re-enter the state, so ``state_entered`` timers keep running).
    target: str | None
    #: ``scope:resource:action`` the actor must hold, or ``"system"``.
    permission: str
    #: A rule-language condition over the context document (``None``: always available).
    cond: Any = field(default=None, hash=False, compare=False)
    validators: tuple[str, ...] = ()
    #: Names of what the caller must do when the transition is taken, in order.
    actions: tuple[str, ...] = ()
    #: The button text, when it should differ from the event name (English source text).
    label: str | None = None
    #: Position in the document's ``transitions``, for pointers and audit records.
    index: int = 0

    def target_from(self, source: str) -> str:
        """Where this transition lands when taken from *source*."""
        return self.target if self.target is not None else source


@dataclass(frozen=True)
class Timer:
    """Something that fires an event at a time relative to an anchor, in some states.

    Either a fixed ``offset`` or a ``from_setting`` naming a definition setting that holds a
    number of days or a list of them (``reminder_days_before``), counted ``direction``
    (``-1`` before the anchor, ``+1`` after it). A timer set *before* its anchor lapses when
    the anchor passes: no "three days left" reminder is sent after the deadline.
    """

    name: str
    on_states: tuple[str, ...]
    anchor: str
    #: The event fired; the loader checks a ``system`` transition takes it from every state.
    fires: str
    offset: dt.timedelta | None = None
    from_setting: str | None = None
    direction: int = -1
    #: Count whole days as working days (Monday to Friday) instead of calendar days.
    working_days: bool = False
    index: int = 0

    def offsets(self, settings: Mapping[str, Any]) -> tuple[dt.timedelta, ...]:
        """The offsets this timer has given a definition's *settings*.

        A setting that is missing, of the wrong type or out of range gives no offsets (the
        timer then never fires) rather than an error: settings were checked when the
        definition was saved, and a job must not crash on an old one.
        """
        if self.offset is not None:
            return (self.offset,)
        value = settings.get(self.from_setting or "")
        days = [
            count for count in (value if isinstance(value, list) else [value])
            if isinstance(count, int) and not isinstance(count, bool)
            and 0 <= count <= MAX_SETTING_DAYS
        ]
        return tuple(dt.timedelta(days=self.direction * count) for count in dict.fromkeys(days))


@dataclass(frozen=True)
class Workflow:
    """A validated workflow. Build it with :func:`formular.workflow.loader.load_workflow`."""

    id: str
    version: int
    title: str
    states: tuple[State, ...]
    transitions: tuple[Transition, ...]
    timers: tuple[Timer, ...] = ()
    description: str = ""

    @cached_property
    def _states_by_name(self) -> dict[str, State]:
        return {state.name: state for state in self.states}

    @cached_property
    def _by_source_and_event(self) -> dict[tuple[str, str], tuple[Transition, ...]]:
        index: dict[tuple[str, str], list[Transition]] = {}
        for transition in self.transitions:
            for source in transition.sources:
                index.setdefault((source, transition.event), []).append(transition)
        return {key: tuple(value) for key, value in index.items()}

    @property
    def initial(self) -> State:
        """The one initial state (the loader guarantees there is exactly one)."""
        return next(state for state in self.states if state.initial)

    def state(self, name: str) -> State | None:
        """The state called *name*, or ``None``."""
        return self._states_by_name.get(name)

    def transitions_for(self, state: str, event: str) -> tuple[Transition, ...]:
        """The transitions *event* may take from *state*, in document order."""
        return self._by_source_and_event.get((state, event), ())

    def transitions_from(self, state: str) -> tuple[Transition, ...]:
        """Every transition leaving *state*, in document order."""
        return tuple(t for t in self.transitions if state in t.sources)

    @cached_property
    def events(self) -> tuple[str, ...]:
        """Every event name, in order of first appearance."""
        return tuple(dict.fromkeys(t.event for t in self.transitions))

    @cached_property
    def final_states(self) -> frozenset[str]:
        return frozenset(state.name for state in self.states if state.final)
