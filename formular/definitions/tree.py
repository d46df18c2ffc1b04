"""Walking a (meta-schema valid) definition's layout tree.

Every consumer (linter, compiler, scores, extractor) needs the same walk over pages, sections
and items, with the JSON pointer of each element, so it lives here once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .problems import pointer_join

Json = dict[str, Any]


@dataclass(frozen=True)
class Placed:
    """An item with where it stands in the layout."""

    item: Json
    #: JSON pointer of the item inside the definition.
    pointer: str
    page_index: int
    page: Json
    section: Json
    #: The repeating group item this item belongs to, if any.
    group: Json | None = None


def iter_items(definition: Json) -> Iterator[Placed]:
    """Yield every item, depth first, including the items inside repeating groups."""
    for page_index, page in enumerate(definition["layout"]["pages"]):
        for section_index, section in enumerate(page["sections"]):
            base = pointer_join("layout", "pages", page_index, "sections", section_index, "items")
            yield from _walk(section["items"], base, page_index, page, section, None)


def _walk(
    items: list[Json], base: str, page_index: int, page: Json, section: Json, group: Json | None
) -> Iterator[Placed]:
    for index, item in enumerate(items):
        pointer = f"{base}/{index}"
        yield Placed(item, pointer, page_index, page, section, group)
        if item["type"] == "group":
            yield from _walk(item["items"], pointer + "/items", page_index, page, section, item)


def resolve_options(definition: Json, item: Json) -> list[Json]:
    """The option list of a choice, multi-choice or matrix item (inline or from option_sets)."""
    options = item.get("options", [])
    if isinstance(options, str):
        result: list[Json] = definition.get("option_sets", {}).get(options, [])
        return result
    return list(options)


def answer_names(item: Json) -> list[str]:
    """The answer properties an item owns: one for most items, one per row for a matrix,
    none for an information block."""
    if item["type"] == "info":
        return []
    if item["type"] == "matrix":
        return [row["name"] for row in item["rows"]]
    return [item["name"]]
