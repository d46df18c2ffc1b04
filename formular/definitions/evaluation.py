"""Which elements are visible for a given answer document, and the calculated values.

Visibility is decided in one pass over the elements in dependency order (computed once per
version): a container before what it contains, and the item owning an answer before every
element whose condition reads it. Hidden elements' answers are dropped as the pass goes, so a
condition never sees an answer that a citizen could not have given. Calculated items are
computed in the same pass, so a condition may read a calculated value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from . import rules
from .model import ItemSpec, PageSpec

Json = dict[str, Any]

EMPTY: tuple[Any, ...] = (None, "", [], {})


def is_empty(value: Any) -> bool:
    """None, "", [] and {} are no answer (0 and False are answers)."""
    return value is None or (type(value) in (str, list, dict) and not value)


@dataclass(frozen=True)
class Element:
    """A page, section or item, as the visibility pass sees it."""

    id: str
    kind: str  # "page", "section" or "item"
    parent: str | None
    audience: str
    #: Conditions of show rules; the element is visible when any holds (or there are none).
    show: tuple[Any, ...]
    #: Conditions of skip rules that jump over this page.
    skip: tuple[Any, ...]
    #: Answer properties the element owns directly (items only).
    fields: tuple[str, ...]
    item: ItemSpec | None = None


@dataclass(frozen=True)
class Evaluation:
    """The outcome of one pass: visible answers and what was hidden."""

    #: The answer document with hidden and empty answers dropped and calculated values set.
    answers: Json
    #: Ids of hidden pages, sections and root items.
    hidden: frozenset[str]
    #: Hidden items per repetition of a group: {(group, index): {child names}}.
    hidden_in_rows: dict[tuple[str, int], frozenset[str]]
    hidden_pages: frozenset[int]

    def is_hidden(self, name: str, group: str | None = None, row: int | None = None) -> bool:
        if name in self.hidden or (group is not None and group in self.hidden):
            return True
        if group is not None and row is not None:
            return name in self.hidden_in_rows.get((group, row), frozenset())
        return False


class VisibilityPlan:
    """Compiled show/skip rules and calculations of one definition version."""

    def __init__(self, pages: tuple[PageSpec, ...], document: Json) -> None:
        show: dict[str, list[Any]] = {}
        skip: dict[int, list[Any]] = {}
        depends: dict[str, set[str]] = {}
        page_of_field: dict[str, int] = {}
        for page in pages:
            for item in page.items():
                for name in item.answer_names:
                    page_of_field[name] = page.index
        page_index = {page.id: page.index for page in pages}
        self.page_index = page_index
        for rule in document.get("rules", []):
            used = {str(v).split(".")[0] for v in rules.referenced_vars(rule["when"])}
            when = rules.prepare(rule["when"])
            for target in rule.get("show", []):
                show.setdefault(target, []).append(when)
                depends.setdefault(target, set()).update(used)
            if "skip_to" in rule:
                start = max((page_of_field.get(u, 0) for u in used), default=0)
                for index in range(start + 1, page_index[rule["skip_to"]]):
                    skip.setdefault(index, []).append(when)
                    depends.setdefault(pages[index].id, set()).update(used)
        #: Calculated items' expressions, checked and normalised once.
        self.expressions: dict[str, rules.Prepared] = {
            item.name: rules.prepare(item.raw["expression"])
            for page in pages for top in page.items() for item in (top, *top.children)
            if item.type == "calculated"
        }
        self.root: list[Element] = []
        self.children: dict[str, list[Element]] = {}
        owner: dict[str, str] = {}
        for page in pages:
            self.root.append(Element(page.id, "page", None, page.audience,
                                     tuple(show.get(page.id, ())),
                                     tuple(skip.get(page.index, ())), ()))
            for section in page.sections:
                self.root.append(Element(section.id, "section", page.id, section.audience,
                                         tuple(show.get(section.id, ())), (), ()))
                for item in section.items:
                    audience = "staff" if "staff" in (
                        item.audience, section.audience, page.audience) else "all"
                    self.root.append(Element(item.name, "item", section.id, audience,
                                             tuple(show.get(item.name, ())), (),
                                             item.answer_names, item))
                    for name in item.answer_names:
                        owner[name] = item.name
                    if item.type == "calculated":
                        depends.setdefault(item.name, set()).update(
                            str(v).split(".")[0]
                            for v in rules.referenced_vars(item.raw["expression"]))
                    self.children[item.name] = [
                        Element(child.name, "item", item.name, child.audience,
                                tuple(show.get(child.name, ())), (), child.answer_names, child)
                        for child in item.children
                    ]
                    for child in item.children:
                        owner[child.name] = item.name if child.type != "calculated" else (
                            child.name)
        self.root = _in_dependency_order(self.root, depends, owner)
        for group, elements in self.children.items():
            self.children[group] = _in_dependency_order(elements, depends, owner)

    def evaluate(self, answers: Json, audience: str = "citizen") -> Evaluation:
        data = {k: v for k, v in answers.items() if not is_empty(v)}
        hidden: set[str] = set()
        hidden_rows: dict[tuple[str, int], frozenset[str]] = {}
        for element in self.root:
            if self._hides(element, hidden, data, audience):
                hidden.add(element.id)
                for name in element.fields:
                    data.pop(name, None)
                continue
            item = element.item
            if item is None:
                continue
            if item.type == "calculated":
                _calculate(item, self.expressions[item.name], data, data)
            elif item.type == "group" and isinstance(data.get(item.name), list):
                rows = []
                for index, row in enumerate(data[item.name]):
                    kept, hidden_here = self._evaluate_row(item.name, row, data, audience)
                    rows.append(kept)
                    hidden_rows[(item.name, index)] = hidden_here
                data[item.name] = rows
        hidden_pages = frozenset(self.page_index[h] for h in hidden if h in self.page_index)
        return Evaluation(data, frozenset(hidden), hidden_rows, hidden_pages)

    def _evaluate_row(
        self, group: str, row: Any, root: Json, audience: str
    ) -> tuple[Any, frozenset[str]]:
        if not isinstance(row, dict):
            return row, frozenset()
        kept = {k: v for k, v in row.items() if not is_empty(v)}
        hidden: set[str] = set()
        for element in self.children.get(group, []):
            scope = {**root, **kept}
            if self._hides(element, hidden, scope, audience):
                hidden.add(element.id)
                for name in element.fields:
                    kept.pop(name, None)
            elif element.item is not None and element.item.type == "calculated":
                _calculate(element.item, self.expressions[element.item.name],
                           {**root, **kept}, kept)
        return kept, frozenset(hidden)

    @staticmethod
    def _hides(element: Element, hidden: set[str], data: Json, audience: str) -> bool:
        if element.parent is not None and element.parent in hidden:
            return True
        if audience == "citizen" and element.audience == "staff":
            return True
        if element.show and not any(rules.holds(c, data) for c in element.show):
            return True
        return any(rules.holds(c, data) for c in element.skip)


def _calculate(item: ItemSpec, expression: rules.Prepared, scope: Json, target: Json) -> None:
    """Set a calculated item's value, or drop it when it cannot be computed."""
    target.pop(item.name, None)
    try:
        value = rules.evaluate(expression, scope)
    except rules.LogicError:
        return
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            return
        decimals = int(item.raw.get("decimals", 1))
        value = round(value, decimals) if decimals else int(round(value))
    target[item.name] = value


def _in_dependency_order(
    elements: list[Element], depends: dict[str, set[str]], owner: dict[str, str]
) -> list[Element]:
    """Kahn's algorithm with layout order as the tie-break (the linter rejects cycles; any
    remainder is appended in layout order so evaluation still terminates)."""
    ids = {element.id for element in elements}
    before: dict[str, set[str]] = {element.id: set() for element in elements}
    for element in elements:
        if element.parent in ids:
            before[element.id].add(element.parent)
        for name in depends.get(element.id, ()):
            source = owner.get(name)
            if source in ids and source != element.id:
                before[element.id].add(source)
    ordered: list[Element] = []
    placed: set[str] = set()
    pending = list(elements)
    while pending:
        ready = [e for e in pending if before[e.id] <= placed]
        if not ready:
            ordered += pending
            break
        first = ready[0]
        ordered.append(first)
        placed.add(first.id)
        pending.remove(first)
    return ordered

