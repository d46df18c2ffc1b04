"""The public face of the workflow engine; other packages import from here only.

Built-in workflows live in ``formular/workflow/definitions/<name>.json``, one per workflow type
a definition's ``workflow.type`` may name (``send-out``, ``case``, ``order``,
``programme-module``). They are loaded and checked once per process and shared: a
:class:`Workflow` is immutable.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from formular.definitions.problems import Problem
from formular.definitions.service import parse_json, read_file

from .context import Context
from .engine import Outcome, TimerDue, available_events, due_timers, fire, planned_timers
from .loader import InvalidWorkflow, check_workflow, load_workflow
from .model import ANCHORS, SYSTEM, State, Timer, Transition, Workflow
from .registry import ACTIONS, REASONS, validator, validator_names

__all__ = [
    "ACTIONS", "ANCHORS", "REASONS", "SYSTEM", "Context", "InvalidWorkflow", "Outcome", "State",
    "Timer", "TimerDue", "Transition", "Workflow", "available_events", "builtin_names",
    "check_workflow", "check_workflow_file", "due_timers", "fire", "load_builtin",
    "load_workflow", "planned_timers", "validator", "validator_names",
]


def _builtin_folder() -> Any:
    return resources.files("formular.workflow").joinpath("definitions")


@cache
def builtin_names() -> tuple[str, ...]:
    """The names of the built-in workflows (their file stems), sorted."""
    return tuple(sorted(
        entry.name.removesuffix(".json") for entry in _builtin_folder().iterdir()
        if entry.name.endswith(".json")
    ))


@cache
def load_builtin(name: str) -> Workflow:
    """The built-in workflow *name*, loaded and checked once.

    :raises LookupError: when there is no built-in workflow of that name.
    :raises InvalidWorkflow: when the shipped document is broken (a test keeps that from
        happening).
    """
    if name not in builtin_names():
        raise LookupError(f"there is no built-in workflow {name!r}")
    document, problems = parse_json(_builtin_folder().joinpath(f"{name}.json").read_bytes())
    if problems:
        raise InvalidWorkflow(problems)
    return load_workflow(document)


def check_workflow_file(path: Path) -> list[Problem]:
    """Every problem of the workflow document at *path*: reading, JSON, schema, semantics."""
    document, problems = read_file(path)
    if problems:
        return problems
    return check_workflow(document)
