"""The compiled shape of a definition: pages, sections and items with their schemas resolved.

Built once per (id, version) by :mod:`.compiler`; the renderer and the validator read these
immutable objects instead of walking the raw JSON on every request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Json = dict[str, Any]


@dataclass(frozen=True)
class Row:
    """One question of a matrix; it owns one answer property."""

    name: str
    label: str
    required: bool


@dataclass(frozen=True)
class ItemSpec:
    """An item ready for rendering and validation."""

    name: str
    type: str
    #: The raw item as written in the definition (labels, help, widget settings).
    raw: Json
    #: The schema of the item's answer property ({} for information blocks).
    prop: Json
    options: tuple[Json, ...]
    required: bool
    page_index: int
    #: "all" or "staff": staff-only items are invisible to citizens.
    audience: str
    #: Name of the repeating group the item belongs to.
    group: str | None = None
    children: tuple[ItemSpec, ...] = ()
    rows: tuple[Row, ...] = ()

    @property
    def label(self) -> str:
        return str(self.raw.get("label", ""))

    @property
    def help(self) -> str | None:
        value = self.raw.get("help")
        return str(value) if value else None

    @property
    def answer_names(self) -> tuple[str, ...]:
        if self.type == "info":
            return ()
        if self.type == "matrix":
            return tuple(row.name for row in self.rows)
        return (self.name,)


@dataclass(frozen=True)
class SectionSpec:
    id: str
    title: str | None
    help: str | None
    audience: str
    items: tuple[ItemSpec, ...]


@dataclass(frozen=True)
class PageSpec:
    index: int
    id: str
    title: str
    intro: str | None
    audience: str
    sections: tuple[SectionSpec, ...]

    def items(self) -> tuple[ItemSpec, ...]:
        return tuple(item for section in self.sections for item in section.items)


@dataclass(frozen=True)
class FieldError:
    """A problem with one answer, as data: the renderer turns it into a translated message."""

    #: Path into the answer document: ("smoking",), ("medications", 1, "dose").
    path: tuple[str | int, ...]
    #: The JSON Schema keyword or Formulär check that failed (required, maximum, format…).
    keyword: str
    #: The keyword's parameters (limit, format, allowed values…).
    params: Json = field(default_factory=dict, compare=False, hash=False)
    #: Name of the item the error belongs to (for matrix rows: the row name).
    name: str = ""
    #: Page of the item, so a page post shows only its own errors.
    page_index: int = 0

    @property
    def field_id(self) -> str:
        """The HTML id of the input the error belongs to."""
        return "f-" + "-".join(str(part) for part in self.path)
