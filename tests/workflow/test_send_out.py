"""The send-out workflow through :func:`fire`: the happy path and every exceptional path."""

from __future__ import annotations

from typing import Any

import pytest

from formular.workflow.service import Context, Outcome, fire, load_builtin

from .helpers import DAY, NOW, citizen, staff, system

WORKFLOW = load_builtin("send-out")
OPEN_STATES = ["sent", "opened", "in-progress"]
UNANSWERED = ["scheduled", *OPEN_STATES]
FINAL = ["handled", "expired", "cancelled", "failed"]

VALID = {"answers_valid": True}
EXPIRED = {"expires_at": NOW - DAY}
HANDLER = staff("staff:submission:handle", "staff:submission:read")
SENDER = staff("staff:sendout:create", "staff:sendout:remind", "staff:sendout:cancel")


def go(state: str, event: str, context: Context) -> Outcome:
    outcome = fire(WORKFLOW, state, event, context)
    assert outcome.source == state
    assert outcome.event == event
    if not outcome.ok:
        assert outcome.target == state
        assert outcome.actions == ()
    return outcome


def test_happy_path_from_scheduled_to_handled() -> None:
    steps: list[tuple[str, Context, str, tuple[str, ...]]] = [
        ("send", system(), "sent", ("notify_citizen", "schedule_reminders")),
        ("open", citizen(), "opened", ()),
        ("save_draft", citizen(), "in-progress", ()),
        ("save_draft", citizen(), "in-progress", ()),
        ("submit", citizen(data=VALID), "answered", ("record_submission", "cancel_timers")),
        ("handle", HANDLER, "handled", ("mark_handled",)),
    ]
    state = WORKFLOW.initial.name
    assert state == "scheduled"
    for event, context, target, actions in steps:
        outcome = go(state, event, context)
        assert outcome.ok, (state, event, outcome.reason)
        assert (outcome.target, outcome.actions) == (target, actions)
        assert outcome.reason is None
        state = outcome.target
    assert WORKFLOW.state(state) is not None
    assert WORKFLOW.final_states >= {state}


def test_submitting_straight_after_opening_is_fine() -> None:
    assert go("opened", "submit", citizen(data=VALID)).target == "answered"


def test_saving_again_does_not_reenter_the_state() -> None:
    assert go("opened", "save_draft", citizen()).changed
    assert not go("in-progress", "save_draft", citizen()).changed


def test_staff_are_notified_of_answers_when_the_definition_asks_for_it() -> None:
    outcome = go("in-progress", "submit",
                 citizen(data=VALID, settings={"notify_staff_on_answer": True}))
    assert outcome.actions == ("record_submission", "cancel_timers", "notify_staff")
    assert outcome.transition == 4  # the conditional transition, first in document order
    quiet = go("in-progress", "submit",
               citizen(data=VALID, settings={"notify_staff_on_answer": False}))
    assert quiet.actions == ("record_submission", "cancel_timers")
    assert quiet.transition == 5


def test_a_guardian_answers_with_the_same_permission() -> None:
    guardian = Context(actor_kind="guardian", now=NOW,
                       permissions=frozenset({"citizen:form:answer"}), data=VALID)
    assert go("opened", "submit", guardian).target == "answered"


# --- Exceptional paths --------------------------------------------------------------------


def test_delivery_failure() -> None:
    outcome = go("scheduled", "fail", system())
    assert (outcome.ok, outcome.target, outcome.actions) == (True, "failed", ("notify_staff",))


def test_send_rechecks_eligibility_and_then_the_job_fails_the_assignment() -> None:
    rules = {"eligibility": {"age_min": 50, "age_max": 50, "counties": ["06"]}}
    assert go("scheduled", "send", system(settings=rules,
                                          assignment={"age": 50, "county": "06"})).ok
    for facts in ({"age": 51, "county": "06"}, {"age": 50, "county": "07"}, {"county": "06"},
                  {"age": "50", "county": "06"}, {"age": True, "county": "06"}):
        refused = go("scheduled", "send", system(settings=rules, assignment=facts))
        assert refused.reason == "not-eligible", facts
    assert go("scheduled", "fail", system()).target == "failed"


@pytest.mark.parametrize("state", UNANSWERED)
def test_staff_can_cancel_anything_unanswered(state: str) -> None:
    outcome = go(state, "cancel", SENDER)
    assert (outcome.ok, outcome.target, outcome.actions) == (True, "cancelled",
                                                             ("cancel_timers",))


@pytest.mark.parametrize("state", UNANSWERED)
def test_the_system_expires_anything_unanswered(state: str) -> None:
    outcome = go(state, "expire", system())
    assert (outcome.ok, outcome.target, outcome.actions) == (True, "expired", ("cancel_timers",))


@pytest.mark.parametrize("event", ["cancel", "expire", "remind", "open", "save_draft"])
def test_answers_cannot_be_cancelled_expired_or_reopened(event: str) -> None:
    context = system() if event in ("expire", "remind") else SENDER
    assert go("answered", event, context).reason == "no-transition"


@pytest.mark.parametrize("state", FINAL)
@pytest.mark.parametrize("event", ["send", "open", "submit", "handle", "cancel", "expire"])
def test_final_states_take_no_events(state: str, event: str) -> None:
    assert go(state, event, system()).reason == "no-transition"


@pytest.mark.parametrize("state", OPEN_STATES)
def test_manual_reminder_stays_in_the_state_and_notifies(state: str) -> None:
    outcome = go(state, "remind", SENDER)
    assert (outcome.ok, outcome.target, outcome.actions) == (True, state, ("notify_citizen",))
    assert not outcome.changed


def test_manual_reminders_are_not_sent_twice_a_day() -> None:
    context = staff(*SENDER.permissions, assignment={"last_reminded_at": NOW - DAY / 2})
    assert go("sent", "remind", context).reason == "reminded-recently"
    yesterday = staff(*SENDER.permissions, assignment={"last_reminded_at": NOW - DAY})
    assert go("sent", "remind", yesterday).ok


def test_automatic_reminders_ignore_the_manual_interval() -> None:
    assert go("opened", "remind", system(assignment={"last_reminded_at": NOW})).ok


@pytest.mark.parametrize(("state", "event"), [
    ("sent", "open"), ("opened", "save_draft"), ("in-progress", "submit"),
    ("sent", "remind"),
])
def test_nothing_is_answered_or_reminded_after_expiry(state: str, event: str) -> None:
    context = (staff(*SENDER.permissions, assignment=EXPIRED) if event == "remind"
               else citizen(data=VALID, assignment=EXPIRED))
    assert go(state, event, context).reason == "expired"


def test_the_deadline_is_soft_until_expiry() -> None:
    late = {"deadline_at": NOW - DAY, "expires_at": NOW + DAY}
    assert go("in-progress", "submit", citizen(data=VALID, assignment=late)).ok
    assert go("sent", "deadline_passed", system(assignment=late)).target == "sent"


@pytest.mark.parametrize("data", [{}, {"answers_valid": False}, {"answers_valid": "true"},
                                  {"answers_valid": 1}])
def test_invalid_answers_are_refused_with_a_reason(data: dict[str, Any]) -> None:
    assert go("in-progress", "submit", citizen(data=data)).reason == "answers-invalid"


def test_validators_run_in_order_and_the_first_failure_is_the_reason() -> None:
    outcome = go("in-progress", "submit", citizen(data={}, assignment=EXPIRED))
    assert outcome.reason == "expired"
    assert outcome.transition == 5


@pytest.mark.parametrize(("state", "event", "context"), [
    ("scheduled", "send", citizen()),
    ("scheduled", "send", SENDER),
    ("sent", "open", SENDER),
    ("in-progress", "submit", HANDLER),
    ("answered", "handle", SENDER),
    ("answered", "handle", citizen()),
    ("sent", "cancel", citizen()),
    ("sent", "cancel", HANDLER),
    ("sent", "expire", SENDER),
    ("sent", "remind", citizen()),
    ("sent", "deadline_passed", SENDER),
])
def test_an_actor_without_the_permission_is_refused(state: str, event: str,
                                                     context: Context) -> None:
    assert go(state, event, context).reason == "forbidden"


def test_nobody_becomes_the_system_by_holding_its_permission_name() -> None:
    impostor = Context(actor_kind="staff", now=NOW, permissions=frozenset({"system"}))
    assert go("scheduled", "send", impostor).reason == "forbidden"


@pytest.mark.parametrize(("state", "event"), [
    ("scheduled", "open"), ("sent", "submit"), ("sent", "handle"), ("sent", "send"),
    ("sent", "no-such-event"), ("opened", ""),
])
def test_events_out_of_order_are_refused(state: str, event: str) -> None:
    assert go(state, event, system()).reason == "no-transition"


def test_an_unknown_stored_state_is_refused_not_an_error() -> None:
    assert go("notified", "open", citizen()).reason == "unknown-state"
