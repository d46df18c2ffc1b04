"""Guards, validators, permissions and buttons, on small workflows and the other built-ins."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from formular.workflow import registry
from formular.workflow.service import (
    REASONS,
    Context,
    State,
    Transition,
    Workflow,
    available_events,
    fire,
    load_builtin,
    load_workflow,
    validator,
    validator_names,
)

from .helpers import DAY, NOW, citizen, lab, minimal, staff, system

SEND_OUT = load_builtin("send-out")


def guarded(cond: Any) -> Workflow:
    """draft --submit--> review, only when *cond* holds."""
    document = minimal()
    document["transitions"][0]["cond"] = cond
    document["transitions"].append(
        {"event": "withdraw", "source": "draft", "target": "done", "permission": "system"})
    return load_workflow(document)


# --- Guards -------------------------------------------------------------------------------


@pytest.mark.parametrize(("cond", "context", "holds"), [
    ({"==": [{"var": "actor.kind"}, "guardian"]},
     Context(actor_kind="guardian", now=NOW, permissions=frozenset({"citizen:form:answer"})),
     True),
    ({"==": [{"var": "actor.kind"}, "guardian"]}, citizen(), False),
    ({"<": [{"var": "now"}, {"var": "assignment.deadline_at"}]},
     citizen(assignment={"deadline_at": NOW + DAY}), True),
    ({"<": [{"var": "now"}, {"var": "assignment.deadline_at"}]},
     citizen(assignment={"deadline_at": NOW - DAY}), False),
    ({"<": [{"var": "now"}, {"var": "assignment.deadline_at"}]},
     citizen(assignment={"deadline_at": dt.datetime(2026, 5, 5, 9, 0)}), True),  # naive: UTC
    ({">=": [{"var": "data.score"}, 10]}, citizen(data={"score": 12}), True),
    ({">=": [{"var": "data.score"}, 10]}, citizen(data={"score": "lots"}), False),  # fails
    ({"in": [{"var": "assignment.county"}, ["06", "07"]]},
     citizen(assignment={"county": "06"}), True),
    ({"var": "settings.fast_track"}, citizen(), False),
])
def test_a_condition_makes_a_transition_available_or_not(cond: Any, context: Context,
                                                          holds: bool) -> None:
    workflow = guarded(cond)
    outcome = fire(workflow, "draft", "submit", context)
    assert outcome.ok is holds
    assert outcome.reason == (None if holds else "not-applicable")
    assert ("submit" in available_events(workflow, "draft", context)) is holds


def test_permission_is_checked_before_conditions() -> None:
    workflow = guarded({"==": [{"var": "data.secret"}, "yes"]})
    assert fire(workflow, "draft", "submit", staff("x:y:z")).reason == "forbidden"


def test_the_context_document_is_json_with_utc_instants() -> None:
    context = Context(actor_kind="staff", now=dt.datetime(2026, 5, 4, 11, 0,
                                                          tzinfo=dt.timezone(dt.timedelta(hours=2))),
                      data={"when": dt.date(2026, 1, 2), "tags": ("a",), "odd": object()},
                      assignment={"deadline_at": dt.datetime(2026, 5, 10)}, settings={"n": 1})
    assert context.document == {
        "actor": {"kind": "staff"}, "now": "2026-05-04T09:00:00Z",
        "data": {"when": "2026-01-02", "tags": ["a"], "odd": None},
        "assignment": {"deadline_at": "2026-05-10T00:00:00Z"}, "settings": {"n": 1},
    }


# --- Buttons ------------------------------------------------------------------------------


@pytest.mark.parametrize(("state", "context", "events"), [
    ("sent", citizen(), ["open"]),
    ("opened", citizen(), ["save_draft", "submit"]),
    ("sent", staff("staff:sendout:remind", "staff:sendout:cancel"), ["remind", "cancel"]),
    ("sent", system(), ["remind", "deadline_passed", "expire"]),
    ("scheduled", system(), ["send", "fail", "expire"]),
    ("answered", staff("staff:submission:handle"), ["handle"]),
    ("answered", citizen(), []),
    ("handled", system(), []),
    ("no-such-state", system(), []),
])
def test_available_events_are_the_buttons_an_actor_gets(state: str, context: Context,
                                                         events: list[str]) -> None:
    assert available_events(SEND_OUT, state, context) == events


def test_buttons_ignore_validators() -> None:
    expired = citizen(assignment={"expires_at": NOW - DAY})
    assert available_events(SEND_OUT, "sent", expired) == ["open"]
    assert fire(SEND_OUT, "sent", "open", expired).reason == "expired"


# --- Validators and the registry ----------------------------------------------------------


FAILING: dict[str, Context] = {
    "answers_valid": citizen(data={"answers_valid": None}),
    "not_expired": citizen(assignment={"expires_at": NOW}),
    "deadline_not_passed": citizen(assignment={"deadline_at": (NOW - DAY).isoformat()}),
    "not_reminded_recently": staff(assignment={"last_reminded_at": NOW - dt.timedelta(hours=1)}),
    "message_not_empty": staff(data={"message": " \n\t"}),
    "result_recorded": lab(data={"result": "maybe"}),
    "eligible": citizen(settings={"eligibility": {"age_min": 15}}, assignment={"age": 14}),
}
PASSING: dict[str, Context] = {
    "answers_valid": citizen(data={"answers_valid": True}),
    "not_expired": citizen(assignment={"expires_at": NOW + dt.timedelta(seconds=1)}),
    "deadline_not_passed": citizen(assignment={"deadline_at": NOW}),
    "not_reminded_recently": staff(assignment={"last_reminded_at": None}),
    "message_not_empty": staff(data={"message": "Hej!"}),
    "result_recorded": lab(data={"result": "negative"}),
    "eligible": citizen(settings={"eligibility": {"age_min": 15, "counties": ["06"]}},
                        assignment={"age": 15, "county": "06"}),
}


def test_every_registered_validator_is_tested_here() -> None:
    assert validator_names() == set(FAILING) == set(PASSING)


@pytest.mark.parametrize("name", sorted(FAILING))
def test_validators_pass_or_give_a_translatable_reason(name: str) -> None:
    check = registry.get_validator(name)
    assert check is not None
    assert check(PASSING[name]) is None
    reason = check(FAILING[name])
    assert reason in REASONS


def test_every_reason_has_english_text() -> None:
    assert all(text.strip().endswith(".") for text in REASONS.values())


def test_a_validator_name_is_registered_once() -> None:
    with pytest.raises(ValueError, match="already registered"):
        validator("answers_valid")(lambda context: None)


def test_a_workflow_built_by_hand_with_an_unknown_validator_refuses() -> None:
    workflow = Workflow(
        id="hand", version=1, title="By hand",
        states=(State("a", "A", initial=True), State("b", "B", final=True)),
        transitions=(Transition("go", ("a",), "b", "system", validators=("ghost",)),),
    )
    assert fire(workflow, "a", "go", system()).reason == "unknown-validator"


# --- The case workflow --------------------------------------------------------------------

CASE = load_builtin("case")
HANDLER = staff("staff:case:assign", "staff:case:reply", "staff:case:close")
SAY = {"message": "Please send a photo of the rash."}


def test_case_happy_path_with_a_question_to_the_citizen() -> None:
    steps = [
        ("assign", HANDLER, "assigned", ("notify_staff",)),
        ("partial_reply", staff(*HANDLER.permissions, data=SAY), "assigned",
         ("send_message", "notify_citizen")),
        ("ask_citizen", staff(*HANDLER.permissions, data=SAY), "waiting-for-citizen",
         ("send_message", "notify_citizen")),
        ("assign", HANDLER, "waiting-for-citizen", ("notify_staff",)),
        ("citizen_reply", citizen(data={"message": "Here it is."}), "assigned",
         ("send_message", "notify_staff")),
        ("answer", staff(*HANDLER.permissions, data=SAY), "answered",
         ("send_message", "notify_citizen")),
        ("close", HANDLER, "closed", ("send_message", "notify_citizen", "cancel_timers")),
    ]
    state = CASE.initial.name
    for event, context, target, actions in steps:
        outcome = fire(CASE, state, event, context)
        assert (outcome.ok, outcome.target, outcome.actions) == (True, target, actions), event
        state = target


def test_case_messages_must_say_something_and_citizens_only_reply_when_asked() -> None:
    assert fire(CASE, "assigned", "answer", HANDLER).reason == "message-empty"
    assert fire(CASE, "assigned", "citizen_reply", citizen(data=SAY)).reason == "no-transition"
    assert fire(CASE, "new", "answer", staff(*HANDLER.permissions, data=SAY)).reason == \
        "no-transition"


@pytest.mark.parametrize("state", ["new", "assigned", "waiting-for-citizen", "answered"])
def test_staff_can_close_a_case_from_any_open_state(state: str) -> None:
    assert fire(CASE, state, "close", HANDLER).target == "closed"


def test_citizens_can_withdraw_until_answered() -> None:
    assert fire(CASE, "waiting-for-citizen", "withdraw", citizen()).target == "closed"
    assert fire(CASE, "answered", "withdraw", citizen()).reason == "no-transition"


def test_answered_cases_close_by_themselves_but_only_answered_ones() -> None:
    assert fire(CASE, "answered", "close", system()).actions == ("cancel_timers",)
    assert fire(CASE, "assigned", "close", system()).reason == "forbidden"


# --- The order-with-result workflow -------------------------------------------------------

ORDER = load_builtin("order")
LAB = lab("lab:order:sample", "lab:order:result")
ELIGIBLE = {"eligibility": {"age_min": 15, "counties": ["06"]}}


@pytest.mark.parametrize(("result", "actions"), [
    ("positive", ("notify_citizen", "create_referral", "generate_document")),
    ("negative", ("notify_citizen",)),
    ("inconclusive", ("notify_citizen",)),
])
def test_order_happy_path_and_a_positive_result_comes_with_a_referral(
        result: str, actions: tuple[str, ...]) -> None:
    steps = [
        ("send_kit", system(settings=ELIGIBLE, assignment={"age": 19, "county": "06"}),
         "kit-sent"),
        ("receive_sample", LAB, "sample-received"),
        ("record_result", lab(*LAB.permissions, data={"result": result}), "result-ready"),
    ]
    state = ORDER.initial.name
    for event, context, target in steps:
        outcome = fire(ORDER, state, event, context)
        assert (outcome.ok, outcome.target) == (True, target), (event, outcome.reason)
        state = target
    delivered = fire(ORDER, state, "deliver_result", system(assignment={"result": result}))
    assert (delivered.target, delivered.actions) == ("result-delivered", actions)
    assert fire(ORDER, "result-delivered", "read_result", citizen()).target == "closed"


def test_orders_from_outside_the_county_or_too_young_are_not_forwarded() -> None:
    for facts in ({"age": 14, "county": "06"}, {"age": 30, "county": "01"}, {}):
        outcome = fire(ORDER, "ordered", "send_kit", system(settings=ELIGIBLE, assignment=facts))
        assert outcome.reason == "not-eligible", facts


def test_a_rejected_sample_sends_a_new_kit() -> None:
    context = lab(*LAB.permissions, data={"message": "The tube was empty."})
    assert fire(ORDER, "sample-received", "reject_sample", context).target == "kit-sent"


def test_a_result_must_be_recorded_and_only_by_the_lab() -> None:
    assert fire(ORDER, "sample-received", "record_result", LAB).reason == "result-missing"
    assert fire(ORDER, "sample-received", "record_result",
                citizen(data={"result": "negative"})).reason == "forbidden"


def test_citizens_cancel_before_the_sample_staff_until_the_result() -> None:
    assert fire(ORDER, "kit-sent", "cancel", citizen()).target == "cancelled"
    assert fire(ORDER, "sample-received", "cancel", citizen()).reason == "forbidden"
    assert fire(ORDER, "sample-received", "cancel",
                staff("staff:order:cancel")).target == "cancelled"


# --- The programme-module workflow --------------------------------------------------------

MODULE = load_builtin("programme-module")
THERAPIST = staff("staff:programme:open", "staff:programme:review", "staff:programme:manage")
FEEDBACK = {"message": "Well done. Try the exercise twice a day this week."}


def test_module_happy_path_opens_the_next_module() -> None:
    steps: list[tuple[str, Context, str]] = [
        ("open", THERAPIST, "open"),
        ("save_draft", citizen(), "in-progress"),
        ("submit", citizen(data={"answers_valid": True}), "submitted"),
        ("return", staff(*THERAPIST.permissions, data=FEEDBACK), "in-progress"),
        ("submit", citizen(data={"answers_valid": True}), "submitted"),
        ("review", staff(*THERAPIST.permissions, data=FEEDBACK), "reviewed"),
        ("complete", THERAPIST, "completed"),
    ]
    state = MODULE.initial.name
    outcome = None
    for event, context, target in steps:
        outcome = fire(MODULE, state, event, context)
        assert (outcome.ok, outcome.target) == (True, target), (event, outcome.reason)
        state = target
    assert outcome is not None
    assert outcome.actions == ("open_next_module",)


def test_the_next_module_is_opened_by_the_system() -> None:
    assert fire(MODULE, "locked", "open", system()).target == "open"
    assert fire(MODULE, "locked", "open", citizen()).reason == "forbidden"
    assert fire(MODULE, "locked", "submit", citizen()).reason == "no-transition"


@pytest.mark.parametrize("state", ["locked", "open", "in-progress", "submitted", "reviewed"])
def test_a_therapist_can_end_the_programme_anywhere(state: str) -> None:
    assert fire(MODULE, state, "withdraw", THERAPIST).target == "withdrawn"
