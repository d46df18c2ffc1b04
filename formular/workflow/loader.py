"""Loading a workflow document: size guard, schema, semantic checks, then the model.

The checks follow python-statemachine's definition-time checks (one initial state, no
disconnected states, no trap states, a final state reachable from everywhere), plus what a
data document needs on top: every name a transition or timer uses resolves, validators and
actions are registered, conditions are in the rule language, and a timer's event can actually
be taken by the system in each state the timer runs in. Every problem is reported, each with
a JSON pointer; nothing here raises on bad input except :func:`load_workflow`, on purpose.

Semantic checks run only once the schema passes, so they may trust the document's shape.
"""

from __future__ import annotations

import copy
from collections import deque
from collections.abc import Iterable
from functools import cache
from itertools import islice
from typing import Any, Final

from jsonschema import Draft202012Validator
from jsonschema.protocols import Validator

from formular.definitions import metaschema
from formular.definitions.problems import Problem, pointer_join
from formular.definitions.rules import check_logic

from .durations import is_whole_days, parse_duration
from .model import SYSTEM, State, Timer, Transition, Workflow
from .registry import ACTIONS, validator_names

WORKFLOW_SCHEMA_ID: Final = "urn:formular:schema:workflow:1"
SETTINGS_SCHEMA_ID: Final = "urn:formular:schema:workflow-settings:1"

#: A document with more JSON nodes than this is refused before schema validation (the largest
#: built-in has about 600); it bounds the work hostile input can cause.
MAX_NODES: Final = 20_000
#: Deeper nesting is refused before schema validation (conditions have their own cap of 20).
MAX_DEPTH: Final = 64
#: At most this many schema problems are reported (the rest would repeat the first ones).
MAX_PROBLEMS: Final = 100
#: Longest problem message; schema messages quote the offending value, which may be huge.
_MAX_MESSAGE: Final = 300

#: The top-level names conditions may read (see :mod:`formular.workflow.context`).
CONTEXT_ROOTS: Final = frozenset({"actor", "data", "now", "assignment", "settings"})


class InvalidWorkflow(Exception):
    """Raised with *every* problem of a workflow document, never just the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems[:5]))


def load_workflow(document: Any) -> Workflow:
    """Check *document* and build its :class:`Workflow`.

    :raises InvalidWorkflow: with every problem found.
    """
    problems = check_workflow(document)
    if problems:
        raise InvalidWorkflow(problems)
    return _build(document)


def check_workflow(document: Any) -> list[Problem]:
    """Every problem of *document* (empty when it is a valid workflow). Never raises."""
    return _size_problems(document) or _schema_problems(document) or _semantic_problems(document)


# --- Size and schema ----------------------------------------------------------------------


def _size_problems(document: Any) -> list[Problem]:
    """Refuse documents too large or too deep to validate cheaply (iterative: no recursion)."""
    nodes, stack = 0, [(document, 1)]
    while stack:
        node, depth = stack.pop()
        nodes += 1
        if nodes > MAX_NODES:
            return [Problem("", "too-large", f"the workflow has more than {MAX_NODES} values",
                            {"limit": MAX_NODES})]
        if depth > MAX_DEPTH:
            return [Problem("", "too-deep", f"the workflow is nested more than {MAX_DEPTH} "
                            "levels deep", {"limit": MAX_DEPTH})]
        if isinstance(node, dict):
            stack.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node)
    return []


@cache
def workflow_validator() -> Validator:
    """The validator of workflow documents, from the one registry of ``schemas/``."""
    schema = metaschema.registry().contents(WORKFLOW_SCHEMA_ID)
    return Draft202012Validator(
        schema, registry=metaschema.registry(),
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


@cache
def day_settings() -> frozenset[str]:
    """Definition settings a timer may take its days from: integers or lists of integers."""
    properties = metaschema.registry().contents(SETTINGS_SCHEMA_ID).get("properties", {})
    return frozenset(
        name for name, schema in properties.items()
        if schema.get("type") == "integer"
        or (schema.get("type") == "array" and schema.get("items", {}).get("type") == "integer")
    )


def _schema_problems(document: Any) -> list[Problem]:
    errors = islice(workflow_validator().iter_errors(document), MAX_PROBLEMS)
    problems = {
        Problem(pointer_join(*error.absolute_path), str(error.validator), _short(error.message))
        for error in errors
    }
    return sorted(problems, key=lambda p: (p.pointer, p.keyword, p.message))


def _short(message: str) -> str:
    return message if len(message) <= _MAX_MESSAGE else message[: _MAX_MESSAGE - 1] + "…"


# --- Semantics ----------------------------------------------------------------------------


def _known_var(path: str) -> bool:
    """Whether a condition may read *path* of the context document."""
    root = path.split(".", 1)[0]
    if root == "actor":
        return path in ("actor", "actor.kind")
    if root == "now":
        return path == "now"
    return root in CONTEXT_ROOTS


class _Checker:
    """One pass over a schema-valid document, collecting problems."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.problems: list[Problem] = []
        self.states: dict[str, int] = {}
        self.finals: set[str] = set()
        #: state → states its transitions lead to (self-loops included)
        self.edges: dict[str, set[str]] = {}
        #: (state, event) → permissions of transitions that take the event from the state
        self.takes: dict[tuple[str, str], set[str]] = {}
        #: (state, event, permission) of transitions without a condition
        self.unconditional: set[tuple[str, str, str]] = set()

    def add(self, pointer: str, keyword: str, message: str, **params: Any) -> None:
        self.problems.append(Problem(pointer, keyword, message, params))

    def run(self) -> list[Problem]:
        initial = self.check_states()
        for index, transition in enumerate(self.document["transitions"]):
            self.check_transition(index, transition)
        self.check_graph(initial)
        for index, timer in enumerate(self.document.get("timers", [])):
            self.check_timer(index, timer)
        return self.problems

    def check_states(self) -> list[str]:
        """Check the states; return the initial ones (one, when all is well)."""
        initial: list[int] = []
        for index, state in enumerate(self.document["states"]):
            name = state["name"]
            if name in self.states:
                self.add(pointer_join("states", index, "name"), "duplicate-state",
                         f"state {name!r} is declared twice", name=name)
                continue
            self.states[name] = index
            self.edges[name] = set()
            if state.get("final"):
                self.finals.add(name)
            if state.get("initial"):
                initial.append(index)
                if state.get("final"):
                    self.add(pointer_join("states", index), "initial-final",
                             f"the initial state {name!r} cannot also be final", name=name)
        if not initial:
            self.add("/states", "no-initial", "no state is marked initial")
        for index in initial[1:]:
            self.add(pointer_join("states", index, "initial"), "several-initial",
                     "only one state may be initial")
        if not self.finals:
            self.add("/states", "no-final", "no state is marked final, so nothing ever ends")
        return [str(self.document["states"][index]["name"]) for index in initial]

    def sources(self, index: int, source: Any) -> list[str]:
        """The known, non-final source states of a transition; reports the others."""
        at = pointer_join("transitions", index, "source")
        if source == "*":
            return [name for name in self.states if name not in self.finals]
        listed = [(source, at)] if isinstance(source, str) else [
            (name, at + pointer_join(i)) for i, name in enumerate(source)]
        found = []
        for name, pointer in listed:
            if name not in self.states:
                self.add(pointer, "unknown-state", f"there is no state {name!r}", name=name)
            elif name in self.finals:
                self.add(pointer, "final-outgoing",
                         f"{name!r} is final, so no transition may leave it", name=name)
            else:
                found.append(name)
        return found

    def check_transition(self, index: int, transition: dict[str, Any]) -> None:
        at = pointer_join("transitions", index)
        sources = self.sources(index, transition["source"])
        target = transition.get("target")
        if target is not None and target not in self.states:
            self.add(at + "/target", "unknown-state", f"there is no state {target!r}",
                     name=target)
            sources = []  # an edge to nowhere leads nowhere
        known = validator_names()
        for i, name in enumerate(transition.get("validators", [])):
            if name not in known:
                self.add(at + pointer_join("validators", i), "unknown-validator",
                         f"there is no validator {name!r}", name=name, known=sorted(known))
        for i, name in enumerate(transition.get("actions", [])):
            if name not in ACTIONS:
                self.add(at + pointer_join("actions", i), "unknown-action",
                         f"there is no action {name!r}", name=name, known=sorted(ACTIONS))
        if "cond" in transition:
            self.problems += check_logic(transition["cond"], at + "/cond", _known_var)
        event, permission = transition["event"], transition["permission"]
        shadowed = False
        for source in sources:
            self.edges[source].add(target or source)
            self.takes.setdefault((source, event), set()).add(permission)
            # An earlier unconditional transition for the same source, event and permission
            # always wins, so this one could never be taken from that source.
            key = (source, event, permission)
            shadowed = shadowed or key in self.unconditional
            if "cond" not in transition:
                self.unconditional.add(key)
        if shadowed:
            self.add(at, "shadowed-transition", "an earlier transition without a condition "
                     f"always takes {event!r} with the same permission first", event=event)

    def check_graph(self, initial: list[str]) -> None:
        pointers = {name: pointer_join("states", index) for name, index in self.states.items()}
        # With several initial states (already reported) reach from all of them; with none,
        # count everything reachable rather than report every state.
        reachable = _closure(initial, self.edges) if initial else set(self.states)
        reverse: dict[str, set[str]] = {name: set() for name in self.states}
        for source, targets in self.edges.items():
            for target in targets:
                reverse[target].add(source)
        finishing = _closure(self.finals, reverse)
        for name in self.states:
            if name not in reachable:
                self.add(pointers[name], "unreachable-state",
                         f"{name!r} cannot be reached from the initial state", name=name)
            elif name in self.finals:
                continue
            elif not self.edges[name] - {name}:
                self.add(pointers[name], "dead-end", f"{name!r} is not final but no "
                         "transition leaves it", name=name)
            elif self.finals and name not in finishing:
                self.add(pointers[name], "no-way-out", f"no final state can be reached "
                         f"from {name!r}", name=name)

    def check_timer(self, index: int, timer: dict[str, Any]) -> None:
        at = pointer_join("timers", index)
        names = [t["name"] for t in self.document["timers"][:index]]
        if timer["name"] in names:
            self.add(at + "/name", "duplicate-timer", f"timer {timer['name']!r} is declared "
                     "twice", name=timer["name"])
        fires = timer["fires"]
        if not any(t["event"] == fires for t in self.document["transitions"]):
            self.add(at + "/fires", "unknown-event", f"no transition takes {fires!r}",
                     name=fires)
            fires = None
        for i, state in enumerate(timer["on_state"]):
            pointer = at + pointer_join("on_state", i)
            if state not in self.states:
                self.add(pointer, "unknown-state", f"there is no state {state!r}", name=state)
            elif fires is not None and SYSTEM not in self.takes.get((state, fires), set()):
                self.add(pointer, "timer-event-unavailable", f"no transition with permission "
                         f"'system' takes {fires!r} from {state!r}", state=state, event=fires)
        when = timer["at"]
        if "offset" in when:
            offset = parse_duration(when["offset"])
            if offset is None:
                self.add(at + "/at/offset", "bad-duration", f"{when['offset']!r} is not a "
                         "duration this engine accepts", value=when["offset"])
            elif when.get("working_days") and not is_whole_days(offset):
                self.add(at + "/at/offset", "bad-duration", "a working-day offset must be a "
                         "whole number of days", value=when["offset"])
        elif when["from_setting"] not in day_settings():
            self.add(at + "/at/from_setting", "unknown-setting", f"{when['from_setting']!r} is "
                     "not a workflow setting holding days", name=when["from_setting"],
                     known=sorted(day_settings()))


def _closure(start: Iterable[str], edges: dict[str, set[str]]) -> set[str]:
    """Every state reachable from *start* along *edges* (the start included)."""
    seen = set(start)
    queue = deque(seen)
    while queue:
        for following in edges.get(queue.popleft(), set()):
            if following not in seen:
                seen.add(following)
                queue.append(following)
    return seen


def _semantic_problems(document: dict[str, Any]) -> list[Problem]:
    return _Checker(document).run()


# --- Building -----------------------------------------------------------------------------


def _build(document: dict[str, Any]) -> Workflow:
    states = tuple(
        State(name=s["name"], label=s["label"], initial=s.get("initial", False),
              final=s.get("final", False), citizen_label=s.get("citizen_label"))
        for s in document["states"]
    )
    open_states = tuple(state.name for state in states if not state.final)
    transitions = []
    for index, t in enumerate(document["transitions"]):
        source = t["source"]
        sources = open_states if source == "*" else (
            (source,) if isinstance(source, str) else tuple(source))
        transitions.append(Transition(
            event=t["event"], sources=sources, target=t.get("target"),
            permission=t["permission"], cond=copy.deepcopy(t.get("cond")),
            validators=tuple(t.get("validators", ())), actions=tuple(t.get("actions", ())),
            label=t.get("label"), index=index,
        ))
    timers = []
    for index, t in enumerate(document.get("timers", [])):
        when = t["at"]
        timers.append(Timer(
            name=t["name"], on_states=tuple(t["on_state"]), anchor=when["anchor"],
            fires=t["fires"],
            offset=parse_duration(when["offset"]) if "offset" in when else None,
            from_setting=when.get("from_setting"),
            direction=1 if when.get("direction") == "after" else -1,
            working_days=when.get("working_days", False), index=index,
        ))
    return Workflow(
        id=document["id"], version=document["version"], title=document["title"],
        states=states, transitions=tuple(transitions), timers=tuple(timers),
        description=document.get("description", ""),
    )
