"""What a transition is decided on: who acts, with what, when, on what subject.

The caller (a view, a job) builds one :class:`Context` per attempt. Conditions (``cond``) see
it as a JSON document in the rule language::

    {"actor": {"kind": "citizen"}, "data": {...}, "now": "2026-05-01T08:00:00Z",
     "assignment": {...}, "settings": {...}}

Instants become fixed-width UTC text (``YYYY-MM-DDTHH:MM:SSZ``), so ``<`` between two of them
compares times correctly in the rule language, which has no date operators.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Final

from .model import SYSTEM

#: Deeper values in the context are dropped from the condition document (they are never what
#: a workflow condition reads, and the bound keeps hostile data from exhausting the stack).
_MAX_DEPTH: Final = 32


def as_utc(value: dt.datetime) -> dt.datetime:
    """*value* as an aware UTC instant; a naive one is taken to be UTC already (what SQLite
    returns for the UTC times the storage layer writes)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def instant(value: Any) -> dt.datetime | None:
    """A datetime or ISO 8601 text as an aware UTC instant; anything else (including an
    instant that UTC cannot represent, such as year 1 at +05:00) is ``None``."""
    try:
        if isinstance(value, dt.datetime):
            return as_utc(value)
        if isinstance(value, str) and len(value) <= 40:
            return as_utc(dt.datetime.fromisoformat(value))
    except (ValueError, OverflowError):
        pass
    return None


def instant_text(value: dt.datetime) -> str:
    """The fixed-width UTC text of an instant, as conditions see it."""
    return as_utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, kw_only=True)
class Context:
    """One attempt to fire an event. Pure data: nothing here reads a clock or a database."""

    #: ``"citizen"``, ``"guardian"``, ``"staff"``, ``"lab"`` or ``"system"``.
    actor_kind: str
    #: The time of the attempt; the engine never reads the clock itself.
    now: dt.datetime
    #: Permissions the actor holds for this subject (``staff:sendout:cancel``...). Only an
    #: actor of kind ``"system"`` holds ``"system"``, whatever this set says.
    permissions: frozenset[str] = frozenset()
    #: The event's payload: answers, a message, a lab result, ``answers_valid``...
    data: Mapping[str, Any] = field(default_factory=dict)
    #: Facts about the subject: ``deadline_at``, ``expires_at``, ``last_reminded_at``,
    #: ``reminders_sent``, ``age``, ``county``, ``result``...
    assignment: Mapping[str, Any] = field(default_factory=dict)
    #: The definition's workflow settings (``schemas/workflow-settings.schema.json``).
    settings: Mapping[str, Any] = field(default_factory=dict)

    def allows(self, permission: str) -> bool:
        """Whether the actor holds *permission*."""
        if permission == SYSTEM:
            return self.actor_kind == SYSTEM
        return permission in self.permissions

    @property
    def utc_now(self) -> dt.datetime:
        return as_utc(self.now)

    @cached_property
    def document(self) -> dict[str, Any]:
        """The context as conditions read it (JSON values only)."""
        return {
            "actor": {"kind": self.actor_kind},
            "data": _jsonable(self.data, 1),
            "now": instant_text(self.now),
            "assignment": _jsonable(self.assignment, 1),
            "settings": _jsonable(self.settings, 1),
        }


def _jsonable(value: Any, depth: int) -> Any:
    """*value* with instants as UTC text, tuples and sets as lists, and anything that is not
    JSON (or nested deeper than :data:`_MAX_DEPTH`) as ``None``."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, dt.datetime):
        moment = instant(value)
        return instant_text(moment) if moment is not None else None
    if isinstance(value, dt.date):
        return value.isoformat()
    if depth > _MAX_DEPTH:
        return None
    if isinstance(value, Mapping):
        return {str(key): _jsonable(item, depth + 1) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(item, depth + 1) for item in value]
    return None
