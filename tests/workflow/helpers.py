"""Contexts and small workflow documents shared by the workflow tests."""

from __future__ import annotations

import copy
import datetime as dt
from collections import deque
from typing import Any

from formular.workflow.service import Context, Workflow

#: A Monday morning, so working-day arithmetic is easy to follow.
NOW = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def citizen(**facts: Any) -> Context:
    return Context(actor_kind="citizen", now=facts.pop("now", NOW),
                   permissions=frozenset({"citizen:form:answer", "citizen:case:reply",
                                          "citizen:case:withdraw", "citizen:order:cancel",
                                          "citizen:order:read"}), **facts)


def staff(*permissions: str, **facts: Any) -> Context:
    return Context(actor_kind="staff", now=facts.pop("now", NOW),
                   permissions=frozenset(permissions), **facts)


def system(**facts: Any) -> Context:
    return Context(actor_kind="system", now=facts.pop("now", NOW), **facts)


def lab(*permissions: str, **facts: Any) -> Context:
    return Context(actor_kind="lab", now=facts.pop("now", NOW),
                   permissions=frozenset(permissions), **facts)


MINIMAL: dict[str, Any] = {
    "id": "tiny",
    "version": 1,
    "title": "Tiny",
    "states": [
        {"name": "draft", "initial": True, "label": "Draft"},
        {"name": "review", "label": "In review"},
        {"name": "done", "final": True, "label": "Done"},
    ],
    "transitions": [
        {"event": "submit", "source": "draft", "target": "review",
         "permission": "citizen:form:answer"},
        {"event": "approve", "source": "review", "target": "done",
         "permission": "staff:submission:handle"},
    ],
}


def minimal(**changes: Any) -> dict[str, Any]:
    """A deep copy of :data:`MINIMAL` with top-level keys replaced."""
    document = copy.deepcopy(MINIMAL)
    document.update(copy.deepcopy(changes))
    return document


def reachable(workflow: Workflow) -> set[str]:
    """The states reachable from the initial one (computed here, not by the loader)."""
    seen, queue = {workflow.initial.name}, deque([workflow.initial.name])
    while queue:
        state = queue.popleft()
        for transition in workflow.transitions_from(state):
            target = transition.target_from(state)
            if target not in seen:
                seen.add(target)
                queue.append(target)
    return seen
