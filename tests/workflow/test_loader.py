"""Invalid workflow documents are reported with every problem, each at its pointer; hostile
documents give problems, never exceptions."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from formular.workflow.service import (
    InvalidWorkflow,
    check_workflow,
    check_workflow_file,
    load_workflow,
)

from .helpers import MINIMAL, minimal


def found(document: Any) -> set[tuple[str, str]]:
    return {(p.pointer, p.keyword) for p in check_workflow(document)}


def with_transition(**transition: Any) -> dict[str, Any]:
    extra = {"event": "x", "source": "draft", "target": "review", "permission": "system"}
    extra.update(transition)
    return minimal(transitions=[*MINIMAL["transitions"], extra])


def test_the_minimal_workflow_is_valid_and_builds() -> None:
    workflow = load_workflow(minimal())
    assert (workflow.id, workflow.initial.name, workflow.events) == ("tiny", "draft",
                                                                      ("submit", "approve"))
    assert workflow.final_states == {"done"}


# --- One problem at a time ----------------------------------------------------------------


def test_unreachable_state() -> None:
    states = [*MINIMAL["states"], {"name": "limbo", "label": "Limbo"}]
    transitions = [*MINIMAL["transitions"],
                   {"event": "leave", "source": "limbo", "target": "done", "permission": "system"}]
    assert found(minimal(states=states, transitions=transitions)) == {
        ("/states/3", "unreachable-state")}


def test_dead_end_state() -> None:
    transitions = [MINIMAL["transitions"][0],
                   {"event": "nudge", "source": "review", "permission": "system"}]
    assert found(minimal(transitions=transitions)) == {("/states/0", "no-way-out"),
                                                       ("/states/1", "dead-end"),
                                                       ("/states/2", "unreachable-state")}


def test_states_caught_in_a_loop_without_exit() -> None:
    states = [*MINIMAL["states"], {"name": "loop", "label": "Loop"}]
    transitions = [*MINIMAL["transitions"],
                   {"event": "spin", "source": "draft", "target": "loop", "permission": "system"},
                   {"event": "spin", "source": "loop", "target": "loop", "permission": "system"}]
    assert found(minimal(states=states, transitions=transitions)) == {
        ("/states/3", "dead-end")}
    transitions[-1] = {"event": "spin", "source": "loop", "target": "draft",
                       "permission": "system"}
    assert found(minimal(states=states, transitions=transitions)) == set()


def test_unknown_target_and_source() -> None:
    assert found(with_transition(target="nowhere")) == {("/transitions/2/target",
                                                         "unknown-state")}
    assert found(with_transition(source=["draft", "nowhere"])) == {
        ("/transitions/2/source/1", "unknown-state")}


def test_two_initial_states_and_none() -> None:
    states = [dict(s, initial=True) if s["name"] == "review" else s for s in MINIMAL["states"]]
    assert found(minimal(states=states)) == {("/states/1/initial", "several-initial")}
    states = [{k: v for k, v in s.items() if k != "initial"} for s in MINIMAL["states"]]
    assert ("/states", "no-initial") in found(minimal(states=states))


def test_a_workflow_must_end_somewhere() -> None:
    states = [{k: v for k, v in s.items() if k != "final"} for s in MINIMAL["states"]]
    assert found(minimal(states=states)) == {("/states", "no-final"), ("/states/2", "dead-end")}


def test_the_initial_state_cannot_be_final() -> None:
    states = [dict(MINIMAL["states"][0], final=True), *MINIMAL["states"][1:]]
    assert ("/states/0", "initial-final") in found(minimal(states=states))


def test_final_state_with_outgoing_transition() -> None:
    assert found(with_transition(source="done", target="draft")) == {
        ("/transitions/2/source", "final-outgoing")}


def test_a_star_source_leaves_final_states_alone() -> None:
    workflow = load_workflow(with_transition(source="*", target="done"))
    assert workflow.transitions[2].sources == ("draft", "review")


def test_duplicate_state_names() -> None:
    states = [*MINIMAL["states"], {"name": "review", "label": "Again"}]
    assert found(minimal(states=states)) == {("/states/3/name", "duplicate-state")}


def test_unknown_validator_and_action() -> None:
    assert found(with_transition(validators=["answers_valid", "looks_ok"],
                                 actions=["notify_citizen", "launch_rocket"])) == {
        ("/transitions/2/validators/1", "unknown-validator"),
        ("/transitions/2/actions/1", "unknown-action"),
    }


@pytest.mark.parametrize(("cond", "pointer", "keyword"), [
    ({"log": "x"}, "/transitions/2/cond", "logic-operator"),
    ({"==": [{"var": "password"}, 1]}, "/transitions/2/cond/==/0", "unknown-field"),
    ({"==": [{"var": "actor.id"}, 1]}, "/transitions/2/cond/==/0", "unknown-field"),
    ({"!": [1, 2]}, "/transitions/2/cond", "logic-arity"),
    ({"var": [{"var": "data.x"}]}, "/transitions/2/cond", "logic-var"),
    ({"and": [{"var": "data.x"}], "or": []}, "/transitions/2/cond", "logic-operator"),
])
def test_bad_conditions(cond: Any, pointer: str, keyword: str) -> None:
    assert (pointer, keyword) in found(with_transition(cond=cond))


def test_good_conditions_read_the_context() -> None:
    cond = {"and": [{"==": [{"var": "actor.kind"}, "staff"]},
                    {"<": [{"var": "now"}, {"var": "assignment.deadline_at"}]},
                    {"var": "settings.notify_staff_on_answer"}, {"!!": {"var": "data.x"}}]}
    assert found(with_transition(cond=cond)) == set()


def test_a_transition_hidden_behind_an_unconditional_one() -> None:
    document = with_transition(event="submit", target="done", permission="citizen:form:answer")
    assert found(document) == {("/transitions/2", "shadowed-transition")}
    conditional = with_transition(event="submit", target="done",
                                  permission="citizen:form:answer")
    conditional["transitions"][0]["cond"] = {"var": "data.quick"}
    assert found(conditional) == set()


def timer(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"name": "nudge", "on_state": ["review"],
                            "at": {"anchor": "state_entered", "offset": "P2D"}, "fires": "approve"}
    base.update(changes)
    transitions = [*MINIMAL["transitions"],
                   {"event": "approve", "source": "review", "target": "done",
                    "permission": "system"}]
    return minimal(transitions=transitions, timers=[base])


def test_timer_checks() -> None:
    assert found(timer()) == set()
    assert found(timer(on_state=["review", "limbo"])) == {("/timers/0/on_state/1",
                                                           "unknown-state")}
    assert found(timer(fires="ring")) == {("/timers/0/fires", "unknown-event")}
    assert found(timer(on_state=["draft"])) == {("/timers/0/on_state/0",
                                                 "timer-event-unavailable")}
    assert found(timer(on_state=["done"])) == {("/timers/0/on_state/0",
                                                "timer-event-unavailable")}
    assert found(timer(at={"anchor": "deadline", "from_setting": "colour"})) == {
        ("/timers/0/at/from_setting", "unknown-setting")}
    assert found(timer(at={"anchor": "deadline", "offset": "PT5H", "working_days": True})) == {
        ("/timers/0/at/offset", "bad-duration")}
    document = timer()
    document["timers"].append(dict(document["timers"][0]))
    assert found(document) == {("/timers/1/name", "duplicate-timer")}


def test_timer_events_need_a_system_transition() -> None:
    document = minimal(timers=[{"name": "nudge", "on_state": ["review"],
                                "at": {"anchor": "state_entered", "offset": "P2D"},
                                "fires": "approve"}])
    assert found(document) == {("/timers/0/on_state/0", "timer-event-unavailable")}


@pytest.mark.parametrize(("at", "pointer"), [
    ({"anchor": "deadline"}, "/timers/0/at"),
    ({"anchor": "deadline", "offset": "P1D", "from_setting": "reminder_days_before"},
     "/timers/0/at"),
    ({"anchor": "deadline", "offset": "P1M"}, "/timers/0/at/offset"),
    ({"anchor": "deadline", "offset": "PT"}, "/timers/0/at/offset"),
    ({"anchor": "deadline", "offset": "P1D", "direction": "before"}, "/timers/0/at"),
    ({"anchor": "birthday", "offset": "P1D"}, "/timers/0/at/anchor"),
])
def test_timer_schedules_the_schema_refuses(at: dict[str, Any], pointer: str) -> None:
    assert pointer in {p for p, _ in found(timer(at=at))}


# --- Every problem at once ----------------------------------------------------------------


def test_every_problem_is_reported_together() -> None:
    document = {
        "id": "broken", "version": 1, "title": "Broken",
        "states": [
            {"name": "a", "initial": True, "label": "A"},
            {"name": "b", "initial": True, "label": "B"},
            {"name": "stuck", "label": "Stuck"},
            {"name": "island", "label": "Island"},
            {"name": "end", "final": True, "label": "End"},
        ],
        "transitions": [
            {"event": "go", "source": "a", "target": "stuck", "permission": "system"},
            {"event": "go", "source": "b", "target": "end", "permission": "system",
             "validators": ["psychic"], "actions": ["teleport"],
             "cond": {"eval": "__import__('os')"}},
            {"event": "jump", "source": "a", "target": "nowhere", "permission": "system"},
            {"event": "back", "source": "end", "target": "a", "permission": "system"},
            {"event": "leave", "source": "island", "target": "end", "permission": "system"},
            {"event": "finish", "source": "a", "target": "end", "permission": "system"},
        ],
    }
    with pytest.raises(InvalidWorkflow) as caught:
        load_workflow(document)
    keywords = {p.keyword for p in caught.value.problems}
    assert keywords >= {"several-initial", "unknown-validator", "unknown-action",
                        "logic-operator", "unknown-state", "final-outgoing", "dead-end",
                        "unreachable-state"}
    assert all(p.pointer.startswith(("/states", "/transitions")) for p in caught.value.problems)
    assert str(caught.value).startswith("/states/1/initial: only one state may be initial")


def test_schema_problems_are_all_collected_with_pointers() -> None:
    document = minimal(version="one", title="", extra=1)
    document["states"][1]["name"] = "In Review"
    document["transitions"][0]["permission"] = "everyone"
    assert found(document) >= {("/version", "type"), ("/title", "minLength"),
                               ("", "additionalProperties"), ("/states/1/name", "pattern"),
                               ("/transitions/0/permission", "pattern")}


# --- Hostile documents --------------------------------------------------------------------


@pytest.mark.parametrize("document", [
    None, 5, "workflow", [], [MINIMAL], {"states": "many"}, {1: 2}, {"id": float("nan")},
    minimal(version=float("inf")), minimal(states=[None, 1, "x", [], {}]),
    minimal(transitions=[{"event": {"x": 1}, "source": [[]], "target": 3, "permission": None,
                          "cond": "yes", "validators": "all", "actions": [1, 1]}]),
    minimal(timers=[{"name": "t", "on_state": "sent", "at": "P1D", "fires": 1}]),
    minimal(states=[{"name": "a" * 10_000, "label": "b" * 10_000}]),
    minimal(id={1, 2}), minimal(title=object()),
])
def test_wrong_types_give_problems(document: Any) -> None:
    problems = check_workflow(document)
    assert problems
    assert all(len(p.message) <= 300 for p in problems)
    with pytest.raises(InvalidWorkflow):
        load_workflow(document)


def test_huge_documents_are_refused_quickly() -> None:
    many = minimal(states=[{"name": f"s{i}", "label": "S"} for i in range(5_000)])
    flood = minimal(transitions=[MINIMAL["transitions"][0]] * 50_000)
    started = time.perf_counter()
    assert ("/states", "maxItems") in found(many)
    assert found(flood) == {("", "too-large")}
    assert time.perf_counter() - started < 5


def test_deep_documents_are_refused_without_recursion() -> None:
    deep: Any = True
    for _ in range(100_000):
        deep = {"!": [deep]}
    document = with_transition()
    document["transitions"][2]["cond"] = deep  # built after the copy: deepcopy would recurse
    assert found(document) == {("", "too-deep")}
    nested: Any = True
    for _ in range(25):  # within the document's depth cap, beyond the condition's
        nested = {"!": [nested]}
    assert {keyword for pointer, keyword in found(with_transition(cond=nested))
            if pointer.startswith("/transitions/2/cond/!/0")} == {"logic-depth"}


def test_self_referencing_objects_are_refused() -> None:
    document = minimal()
    document["description"] = document
    assert found(document) == {("", "too-deep")}


def test_huge_conditions_are_capped() -> None:
    cond = {"or": [{"var": "data.x"}] * 2_000}
    assert ("/transitions/2/cond", "logic-size") in found(with_transition(cond=cond))


def test_files_are_read_with_the_definition_reader(tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps(MINIMAL), encoding="utf-8")
    assert check_workflow_file(good) == []
    duplicate = tmp_path / "duplicate.json"
    duplicate.write_text('{"id": "a", "id": "b"}', encoding="utf-8")
    assert [p.keyword for p in check_workflow_file(duplicate)] == ["duplicate-key"]
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    assert [p.keyword for p in check_workflow_file(broken)] == ["json"]
    assert [p.keyword for p in check_workflow_file(tmp_path / "missing.json")] == ["io"]
    big = tmp_path / "big.json"
    big.write_bytes(b" " * (3 * 1024 * 1024))
    assert [p.keyword for p in check_workflow_file(big)] == ["too-large"]
