"""Finding things in a definition being designed, and the tree the editor shows of it.

A draft may be broken at any moment (that is what the validation panel is for), so nothing
here assumes the meta-schema holds: missing keys read as empty, odd values are skipped. Pages
and sections are found by ``id``, items (and matrix rows) by ``name``; they share one namespace
in a valid definition, and in a broken one the first match wins.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from formular.definitions.problems import pointer_join

Json = dict[str, Any]

#: Item types whose answer can feed a condition (a repeating group, a file list and an
#: information block cannot be compared with a value).
CONDITION_TYPES = frozenset({
    "text", "textarea", "integer", "decimal", "date", "yes-no", "choice", "multi-choice",
    "scale", "matrix", "personnummer", "email", "phone", "postcode", "calculated",
})
#: Item types a score can weigh (matrix rows count one by one).
SCORABLE_TYPES = frozenset({"integer", "decimal", "yes-no", "choice", "multi-choice",
                            "scale", "matrix"})


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def as_dict(value: Any) -> Json:
    return value if isinstance(value, dict) else {}


def pages(document: Json) -> list[Json]:
    return [p for p in as_list(as_dict(document.get("layout")).get("pages"))
            if isinstance(p, dict)]


def sections(page: Json) -> list[Json]:
    return [s for s in as_list(page.get("sections")) if isinstance(s, dict)]


def items(container: Json) -> list[Json]:
    return [i for i in as_list(container.get("items")) if isinstance(i, dict)]


@dataclass(frozen=True)
class Located:
    """Where one element is: its kind, the list holding it and its index in that list."""

    kind: str  # "page", "section" or "item"
    element: Json
    #: The list the element is in (the real list inside the document, for editing).
    siblings: list[Any]
    index: int
    page_index: int
    page: Json
    section: Json | None = None
    #: The repeating group holding the item, if any.
    group: Json | None = None
    pointer: str = ""

    @property
    def name(self) -> str:
        key = "id" if self.kind in ("page", "section") else "name"
        return str(self.element.get(key, ""))


def walk(document: Json) -> Iterator[Located]:
    """Every page, section and item (group children included), in document order."""
    page_list = as_list(as_dict(document.get("layout")).get("pages"))
    for page_index, page in enumerate(page_list):
        if not isinstance(page, dict):
            continue
        page_pointer = pointer_join("layout", "pages", page_index)
        yield Located("page", page, page_list, page_index, page_index, page, pointer=page_pointer)
        section_list = as_list(page.get("sections"))
        for section_index, section in enumerate(section_list):
            if not isinstance(section, dict):
                continue
            section_pointer = f"{page_pointer}/sections/{section_index}"
            yield Located("section", section, section_list, section_index, page_index, page,
                          section, pointer=section_pointer)
            yield from _walk_items(as_list(section.get("items")), f"{section_pointer}/items",
                                   page_index, page, section, None)


def _walk_items(item_list: list[Any], base: str, page_index: int, page: Json, section: Json,
                group: Json | None) -> Iterator[Located]:
    for index, item in enumerate(item_list):
        if not isinstance(item, dict):
            continue
        pointer = f"{base}/{index}"
        yield Located("item", item, item_list, index, page_index, page, section, group, pointer)
        if item.get("type") == "group" and group is None:
            yield from _walk_items(as_list(item.get("items")), pointer + "/items", page_index,
                                   page, section, item)


def find(document: Json, name: str) -> Located | None:
    """The page, section or item called ``name`` (None when there is none)."""
    for located in walk(document):
        if located.name == name:
            return located
    return None


def item_names(item: Json) -> list[str]:
    """The answer properties an item owns (a matrix: one per row; information: none)."""
    kind = item.get("type")
    if kind == "info":
        return []
    if kind == "matrix":
        return [str(row["name"]) for row in as_list(item.get("rows"))
                if isinstance(row, dict) and isinstance(row.get("name"), str)]
    name = item.get("name")
    return [name] if isinstance(name, str) else []


def taken_names(document: Json) -> set[str]:
    """Every id and name in the layout's shared namespace, plus answer properties."""
    taken: set[str] = set()
    for located in walk(document):
        taken.add(located.name)
        if located.kind == "item":
            taken.update(item_names(located.element))
    taken.update(as_dict(as_dict(document.get("schema")).get("properties")))
    return taken


def fresh_name(taken: set[str], base: str, *, slug: bool = False) -> str:
    """``base_1``, ``base_2``… (``base-1`` for slugs): the first not in ``taken``."""
    joiner = "-" if slug else "_"
    base = base.replace("_", "-") if slug else base.replace("-", "_")
    number = 1
    while f"{base}{joiner}{number}" in taken:
        number += 1
    name = f"{base}{joiner}{number}"
    taken.add(name)
    return name


def fresh_slug(taken: set[str], wanted: str) -> str:
    """A slug made from ``wanted`` (a name or text), numbered when it is taken."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", wanted.lower())
                    if not unicodedata.combining(c))
    slug = re.sub(r"[^a-z0-9]+", "-", plain).strip("-")[:50].strip("-") or "x"
    if slug not in taken:
        taken.add(slug)
        return slug
    return fresh_name(taken, slug, slug=True)


def display_label(element: Json, kind: str) -> str:
    """What the tree calls an element: its label or title, else the start of its text."""
    if kind == "item":
        if element.get("type") == "info":
            text = str(element.get("text") or "").strip().splitlines()
            first = text[0] if text else ""
            return first[:80] + ("…" if len(first) > 80 else "")
        return str(element.get("label") or "")
    return str(element.get("title") or "")


# -- the tree ---------------------------------------------------------------------------------


@dataclass
class Node:
    """One row of the editor's tree."""

    kind: str
    name: str
    label: str
    type: str | None
    pointer: str
    #: 1-based position among its siblings, and how many siblings there are.
    position: int
    count: int
    page_index: int
    #: Whether "move up"/"move down" can do anything (crossing into the neighbouring section).
    can_up: bool = False
    can_down: bool = False
    in_group: bool = False
    children: list[Node] = field(default_factory=list)


def tree(document: Json) -> list[Node]:
    """Pages → sections → items (→ group children), for the editor's tree view."""
    all_pages = pages(document)
    result: list[Node] = []
    flat_sections = [(pi, s) for pi, p in enumerate(all_pages) for s in sections(p)]
    for page_index, page in enumerate(all_pages):
        page_node = Node("page", str(page.get("id", "")), display_label(page, "page"), None,
                         pointer_join("layout", "pages", page_index), page_index + 1,
                         len(all_pages), page_index, can_up=page_index > 0,
                         can_down=page_index < len(all_pages) - 1)
        page_sections = sections(page)
        for section_index, section in enumerate(page_sections):
            flat_index = flat_sections.index((page_index, section))
            section_node = Node(
                "section", str(section.get("id", "")), display_label(section, "section"), None,
                f"{page_node.pointer}/sections/{section_index}", section_index + 1,
                len(page_sections), page_index, can_up=flat_index > 0,
                can_down=flat_index < len(flat_sections) - 1)
            section_items = items(section)
            for item_index, item in enumerate(section_items):
                section_node.children.append(_item_node(
                    item, f"{section_node.pointer}/items/{item_index}", item_index,
                    len(section_items), page_index,
                    can_up=item_index > 0 or flat_index > 0,
                    can_down=item_index < len(section_items) - 1
                    or flat_index < len(flat_sections) - 1))
            page_node.children.append(section_node)
        result.append(page_node)
    return result


def _item_node(item: Json, pointer: str, index: int, count: int, page_index: int, *,
               can_up: bool, can_down: bool, in_group: bool = False) -> Node:
    node = Node("item", str(item.get("name", "")), display_label(item, "item"),
                str(item.get("type", "")), pointer, index + 1, count, page_index,
                can_up=can_up, can_down=can_down, in_group=in_group)
    if item.get("type") == "group" and not in_group:
        children = items(item)
        node.children = [
            _item_node(child, f"{pointer}/items/{i}", i, len(children), page_index,
                       can_up=i > 0, can_down=i < len(children) - 1, in_group=True)
            for i, child in enumerate(children)
        ]
    return node


def section_choices(document: Json) -> list[tuple[str, str, str]]:
    """(section id, page title, section title) of every section, for "move into section"."""
    return [(str(s.get("id", "")), display_label(p, "page"), display_label(s, "section"))
            for p in pages(document) for s in sections(p)]


def resolve_selection(document: Json, wanted: str | None) -> Located | None:
    """The element a ``select`` parameter names: a name or id, or a JSON pointer into the
    layout or the answer schema (the validation panel links with pointers)."""
    if not wanted:
        return None
    if not wanted.startswith("/"):
        return find(document, wanted)
    best: Located | None = None
    for located in walk(document):
        if wanted == located.pointer or wanted.startswith(located.pointer + "/"):
            best = located  # walk is depth first, so the last match is the deepest
    if best is not None:
        return best
    parts = [p.replace("~1", "/").replace("~0", "~") for p in wanted.split("/")[1:]]
    if parts[:2] == ["schema", "properties"] and len(parts) >= 3:
        for located in walk(document):
            if located.kind == "item" and parts[2] in item_names(located.element):
                return located
    return None
