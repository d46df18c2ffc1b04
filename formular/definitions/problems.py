"""Problems found in a definition or an answer document, kept as data.

A problem names *where* (a JSON pointer into the document) and *what* (a keyword and its
parameters), so that the checker can print ``file:pointer: message`` and the renderer can
attach a translated message to the field that caused it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One thing wrong, at one place."""

    #: JSON pointer (RFC 6901) into the document the problem is about, "" for the root.
    pointer: str
    #: A stable, machine-readable reason, e.g. ``required``, ``unknown-field``, ``band-gap``.
    keyword: str
    #: Human-readable English explanation for designers and logs (citizens get translated text).
    message: str
    #: Keyword parameters (limits, names) for building translated messages.
    params: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def __str__(self) -> str:
        return f"{self.pointer or '/'}: {self.message}"


class InvalidDefinition(Exception):
    """Raised with *every* problem of a definition, never just the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems[:5]))


def pointer_join(*parts: str | int) -> str:
    """Build a JSON pointer from path parts, escaping ``~`` and ``/`` as RFC 6901 says."""
    escaped = (str(p).replace("~", "~0").replace("/", "~1") for p in parts)
    return "".join("/" + p for p in escaped)
