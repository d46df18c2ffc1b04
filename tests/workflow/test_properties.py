"""Properties over generated input: the engine never raises and never lands nowhere."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from formular.workflow.service import (
    ACTIONS,
    REASONS,
    Context,
    Workflow,
    builtin_names,
    due_timers,
    fire,
    load_builtin,
)

from .helpers import reachable

WORKFLOWS = {name: load_builtin(name) for name in builtin_names()}
PERMISSIONS = sorted({t.permission for w in WORKFLOWS.values() for t in w.transitions})
FACTS = ["deadline_at", "expires_at", "last_reminded_at", "age", "county", "result",
         "scheduled_at"]
DATA_KEYS = ["answers_valid", "message", "result", "score"]

instants = st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 1, 1),
                        timezones=st.sampled_from([None, dt.UTC]))
scalars = (st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
           | instants)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)
eligibility = st.fixed_dictionaries({}, optional={
    "age_min": st.integers(-5, 200) | values, "age_max": st.integers(-5, 200),
    "counties": st.lists(st.sampled_from(["06", "07", "01"]), max_size=3) | values,
})
settings_maps = st.fixed_dictionaries({}, optional={
    "eligibility": eligibility | values,
    "notify_staff_on_answer": st.booleans() | values,
    "reminder_days_before": st.lists(st.integers(-10, 5000), max_size=4) | values,
})


@st.composite
def contexts(draw: st.DrawFn) -> Context:
    return Context(
        actor_kind=draw(st.sampled_from(["citizen", "guardian", "staff", "lab", "system"])
                        | st.text(max_size=10)),
        now=draw(instants),
        permissions=frozenset(draw(st.lists(st.sampled_from(PERMISSIONS) | st.text(max_size=20),
                                            max_size=6))),
        data=draw(st.dictionaries(st.sampled_from(DATA_KEYS) | st.text(max_size=8), values,
                                  max_size=5)),
        assignment=draw(st.dictionaries(st.sampled_from(FACTS) | st.text(max_size=8), values,
                                        max_size=6)),
        settings=draw(settings_maps),
    )


def reachable_states(workflow: Workflow) -> list[str]:
    return sorted(reachable(workflow))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fire_never_raises_and_refuses_or_lands_in_an_existing_state(data: st.DataObject) -> None:
    workflow = WORKFLOWS[data.draw(st.sampled_from(sorted(WORKFLOWS)))]
    state = data.draw(st.sampled_from(reachable_states(workflow)))
    event = data.draw(st.sampled_from(workflow.events) | st.text(max_size=20))
    context = data.draw(contexts())
    outcome = fire(workflow, state, event, context)
    assert (outcome.source, outcome.event) == (state, event)
    if outcome.ok:
        assert workflow.state(outcome.target) is not None
        assert outcome.reason is None
        assert set(outcome.actions) <= set(ACTIONS)
        assert outcome.transition is not None
        assert workflow.transitions[outcome.transition].event == event
    else:
        assert outcome.reason in REASONS
        assert (outcome.target, outcome.actions) == (state, ())


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_due_timers_never_raise_and_name_events_the_system_can_take(
        data: st.DataObject) -> None:
    workflow = WORKFLOWS[data.draw(st.sampled_from(sorted(WORKFLOWS)))]
    state = data.draw(st.sampled_from(reachable_states(workflow)))
    anchors: dict[str, Any] = data.draw(st.dictionaries(
        st.sampled_from(["deadline", "scheduled_at", "state_entered", "expires_at"]),
        instants | values, max_size=4))
    now = data.draw(instants)
    due = due_timers(workflow, state, anchors, data.draw(settings_maps), now)
    assert [d.due_at for d in due] == sorted(d.due_at for d in due)
    assert len({d.timer for d in due}) == len(due)  # at most one firing per timer
    for timer in due:
        outcome = fire(workflow, state, timer.event, Context(actor_kind="system", now=now))
        assert outcome.reason not in ("no-transition", "forbidden", "unknown-state")
