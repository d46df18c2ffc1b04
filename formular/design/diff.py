"""What changed between two versions of a definition, and which changes alter meaning.

Answers stay bound to the version they were given on (R-07), so a designer publishing a new
version needs to know which changes alter what an answer *means*: an item's type, its option
values, weights or codes, whether it is required, the limits of its answer property, rules,
scores and their bands. Text changes (labels, help, band labels) and presentation (widget,
position) are listed too, but not flagged. Pure functions over two documents; elements are
matched by their ids (item names, rule, score, flag, page and section ids), so a moved item is
"changed (position)", not "removed and added".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Json = dict[str, Any]

#: Item keys whose change alters what an answer means.
MEANING_ITEM_KEYS = frozenset({"type", "unit", "expression", "code", "audience", "accept",
                               "max_size", "max_count"})
#: Item keys that are wording or presentation only.
TEXT_ITEM_KEYS = frozenset({"label", "help", "error_text", "text", "min_label", "max_label",
                            "add_label", "remove_label", "widget", "style", "placeholder"})
#: Answer-property keywords that are wording only (everything else is a limit or a type).
TEXT_SCHEMA_KEYS = frozenset({"title", "description", "$comment", "examples"})


@dataclass(frozen=True)
class Change:
    #: What changed: "label", "options", "required", "schema:maximum", "position", …
    key: str
    before: Any
    after: Any
    meaning: bool


@dataclass
class ElementDiff:
    #: "item", "rule", "score", "flag", "page", "section" or "form"
    kind: str
    id: str
    #: "added", "removed" or "changed"
    status: str
    label: str = ""
    changes: list[Change] = field(default_factory=list)
    #: Set for added or removed elements that alter meaning (a removed item, a new rule…).
    alters_meaning: bool = False

    @property
    def meaning(self) -> bool:
        return self.alters_meaning or any(change.meaning for change in self.changes)


@dataclass
class DefinitionDiff:
    elements: list[ElementDiff]

    def of_status(self, status: str) -> list[ElementDiff]:
        return [e for e in self.elements if e.status == status]

    @property
    def added(self) -> list[ElementDiff]:
        return self.of_status("added")

    @property
    def removed(self) -> list[ElementDiff]:
        return self.of_status("removed")

    @property
    def changed(self) -> list[ElementDiff]:
        return self.of_status("changed")

    @property
    def meaning_changes(self) -> list[ElementDiff]:
        return [e for e in self.elements if e.meaning]

    @property
    def empty(self) -> bool:
        return not self.elements


# -- reading a document defensively (a draft may be half-valid) ----------------------------


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> Json:
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class _Placed:
    item: Json
    page: str
    section: str
    index: int
    group: str | None


def _items(document: Json) -> dict[str, _Placed]:
    found: dict[str, _Placed] = {}

    def walk(items: list[Any], page: str, section: str, group: str | None) -> None:
        for index, item in enumerate(items):
            if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                continue
            found.setdefault(item["name"], _Placed(item, page, section, index, group))
            if item.get("type") == "group":
                walk(_list(item.get("items")), page, section, item["name"])

    for page in _list(_dict(document.get("layout")).get("pages")):
        page = _dict(page)
        for section in _list(page.get("sections")):
            section = _dict(section)
            walk(_list(section.get("items")), str(page.get("id")), str(section.get("id")), None)
    return found


def _options(document: Json, item: Json) -> list[Json]:
    options = item.get("options", [])
    if isinstance(options, str):
        options = _dict(document.get("option_sets")).get(options, [])
    return [o for o in _list(options) if isinstance(o, dict)]


def _property(document: Json, placed: _Placed, name: str) -> tuple[Json, bool]:
    """The answer property of ``name`` and whether it is required."""
    schema = _dict(document.get("schema"))
    if placed.group is not None:
        group = _dict(_dict(schema.get("properties")).get(placed.group))
        schema = _dict(group.get("items"))
    prop = _dict(_dict(schema.get("properties")).get(name))
    return prop, name in _list(schema.get("required"))


def _answer_names(item: Json) -> list[str]:
    if item.get("type") == "info":
        return []
    if item.get("type") == "matrix":
        return [str(_dict(row).get("name")) for row in _list(item.get("rows"))]
    return [str(item.get("name"))]


# -- comparing -----------------------------------------------------------------------------


def diff(old: Any, new: Any) -> DefinitionDiff:
    """Every difference between two definition documents, item by item."""
    old, new = _dict(old), _dict(new)
    elements: list[ElementDiff] = []
    elements += _form_changes(old, new)
    elements += _structure(old, new)
    elements += _item_changes(old, new)
    elements += _keyed(old, new, "rules", "rule", _rule_change)
    elements += _keyed(old, new, "scores", "score", _score_change)
    elements += _keyed(old, new, "flags", "flag", _flag_change)
    return DefinitionDiff(elements)


def _form_changes(old: Json, new: Json) -> list[ElementDiff]:
    changes = []
    for key in ("title", "description", "kind", "language", "languages", "contact", "licence",
                "copyright", "owner", "tags"):
        if old.get(key) != new.get(key):
            changes.append(Change(key, old.get(key), new.get(key), key == "kind"))
    old_policy, new_policy = _dict(old.get("policy")), _dict(new.get("policy"))
    for key in sorted(set(old_policy) | set(new_policy)):
        if old_policy.get(key) != new_policy.get(key):
            changes.append(Change(f"policy:{key}", old_policy.get(key), new_policy.get(key),
                                  False))
    if old.get("tests") != new.get("tests"):
        changes.append(Change("tests", len(_list(old.get("tests"))),
                              len(_list(new.get("tests"))), False))
    if not changes:
        return []
    return [ElementDiff("form", str(new.get("id", old.get("id", ""))), "changed",
                        str(new.get("title", "")), changes)]


def _structure(old: Json, new: Json) -> list[ElementDiff]:
    """Pages and sections added or removed (their items are reported as items)."""

    def index(document: Json) -> tuple[dict[str, Json], dict[str, Json]]:
        pages: dict[str, Json] = {}
        sections: dict[str, Json] = {}
        for page in _list(_dict(document.get("layout")).get("pages")):
            page = _dict(page)
            pages[str(page.get("id"))] = page
            for section in _list(page.get("sections")):
                section = _dict(section)
                sections[str(section.get("id"))] = section
        return pages, sections

    old_pages, old_sections = index(old)
    new_pages, new_sections = index(new)
    result = []
    for kind, before, after, text in (("page", old_pages, new_pages, "title"),
                                      ("section", old_sections, new_sections, "title")):
        for key in after.keys() - before.keys():
            result.append(ElementDiff(kind, key, "added", str(after[key].get(text) or "")))
        for key in before.keys() - after.keys():
            result.append(ElementDiff(kind, key, "removed", str(before[key].get(text) or "")))
        for key in before.keys() & after.keys():
            changes = []
            for field_name in ("title", "intro", "help"):
                if before[key].get(field_name) != after[key].get(field_name):
                    changes.append(Change(field_name, before[key].get(field_name),
                                          after[key].get(field_name), False))
            if before[key].get("audience") != after[key].get("audience"):
                changes.append(Change("audience", before[key].get("audience"),
                                      after[key].get("audience"), True))
            if changes:
                result.append(ElementDiff(kind, key, "changed",
                                          str(after[key].get(text) or ""), changes))
    return sorted(result, key=lambda e: (e.kind, e.status, e.id))


def _item_changes(old: Json, new: Json) -> list[ElementDiff]:
    before, after = _items(old), _items(new)
    result = []
    for name, placed in after.items():
        label = str(placed.item.get("label") or placed.item.get("text", "") or name)[:200]
        if name not in before:
            required = any(_property(new, placed, n)[1] for n in _answer_names(placed.item))
            result.append(ElementDiff("item", name, "added", label, alters_meaning=required))
            continue
        changes = _compare_item(old, before[name], new, placed)
        if changes:
            result.append(ElementDiff("item", name, "changed", label, changes))
    for name, placed in before.items():
        if name not in after:
            label = str(placed.item.get("label") or name)[:200]
            result.append(ElementDiff("item", name, "removed", label,
                                      alters_meaning=bool(_answer_names(placed.item))))
    return result


def _compare_item(old: Json, was: _Placed, new: Json, now: _Placed) -> list[Change]:
    changes: list[Change] = []
    a, b = was.item, now.item
    for key in sorted((set(a) | set(b)) - {"name", "options", "rows", "items"}):
        if a.get(key) != b.get(key):
            meaning = key in MEANING_ITEM_KEYS or key not in TEXT_ITEM_KEYS
            changes.append(Change(key, a.get(key), b.get(key), meaning))
    changes += _compare_options(_options(old, a), _options(new, b))
    old_rows = [_dict(r) for r in _list(a.get("rows"))]
    new_rows = [_dict(r) for r in _list(b.get("rows"))]
    if [r.get("name") for r in old_rows] != [r.get("name") for r in new_rows]:
        changes.append(Change("rows", [r.get("name") for r in old_rows],
                              [r.get("name") for r in new_rows], True))
    elif [r.get("label") for r in old_rows] != [r.get("label") for r in new_rows]:
        changes.append(Change("row-labels", [r.get("label") for r in old_rows],
                              [r.get("label") for r in new_rows], False))
    names = sorted(set(_answer_names(a)) | set(_answer_names(b)))
    for answer in names:
        prop_a, required_a = _property(old, was, answer)
        prop_b, required_b = _property(new, now, answer)
        if required_a != required_b:
            changes.append(Change("required", required_a, required_b, True))
        for key in sorted(set(prop_a) | set(prop_b)):
            if prop_a.get(key) != prop_b.get(key):
                changes.append(Change(f"schema:{key}", prop_a.get(key), prop_b.get(key),
                                      key not in TEXT_SCHEMA_KEYS))
    if (was.page, was.section, was.index, was.group) != (now.page, now.section, now.index,
                                                          now.group):
        changes.append(Change("position", f"{was.page}/{was.section}/{was.index + 1}",
                              f"{now.page}/{now.section}/{now.index + 1}",
                              was.page != now.page or was.group != now.group))
    return _unique(changes)


def _compare_options(before: list[Json], after: list[Json]) -> list[Change]:
    changes = []
    values_a = [o.get("value") for o in before]
    values_b = [o.get("value") for o in after]
    if values_a != values_b:
        changes.append(Change("options", values_a, values_b, True))
    meaningful_a = {repr(o.get("value")): (o.get("weight"), o.get("code"), o.get("exclusive"))
                    for o in before}
    meaningful_b = {repr(o.get("value")): (o.get("weight"), o.get("code"), o.get("exclusive"))
                    for o in after}
    shared = meaningful_a.keys() & meaningful_b.keys()
    if any(meaningful_a[k][0] != meaningful_b[k][0] for k in shared):
        changes.append(Change("option-weights", {k: meaningful_a[k][0] for k in shared},
                              {k: meaningful_b[k][0] for k in shared}, True))
    if any(meaningful_a[k][1] != meaningful_b[k][1] for k in shared):
        changes.append(Change("option-codes", {k: meaningful_a[k][1] for k in shared},
                              {k: meaningful_b[k][1] for k in shared}, True))
    if any(meaningful_a[k][2] != meaningful_b[k][2] for k in shared):
        changes.append(Change("option-exclusive", {k: meaningful_a[k][2] for k in shared},
                              {k: meaningful_b[k][2] for k in shared}, True))
    labels_a = {repr(o.get("value")): o.get("label") for o in before}
    labels_b = {repr(o.get("value")): o.get("label") for o in after}
    if any(labels_a[k] != labels_b[k] for k in shared):
        changes.append(Change("option-labels", [labels_a[k] for k in sorted(shared)],
                              [labels_b[k] for k in sorted(shared)], False))
    return changes


def _unique(changes: list[Change]) -> list[Change]:
    seen: set[str] = set()
    result = []
    for change in changes:
        marker = f"{change.key}:{change.before!r}:{change.after!r}"
        if marker not in seen:
            seen.add(marker)
            result.append(change)
    return result


def _keyed(old: Json, new: Json, key: str, kind: str, compare: Any) -> list[ElementDiff]:
    before = {str(_dict(e).get("id")): _dict(e) for e in _list(old.get(key))}
    after = {str(_dict(e).get("id")): _dict(e) for e in _list(new.get(key))}
    result = []
    for element_id, element in after.items():
        if element_id not in before:
            result.append(ElementDiff(kind, element_id, "added", str(element.get("label", "")),
                                      alters_meaning=True))
        else:
            changes = compare(before[element_id], element)
            if changes:
                result.append(ElementDiff(kind, element_id, "changed",
                                          str(element.get("label", "")), changes))
    for element_id, element in before.items():
        if element_id not in after:
            result.append(ElementDiff(kind, element_id, "removed",
                                      str(element.get("label", "")), alters_meaning=True))
    return result


def _plain(a: Json, b: Json, meaning: set[str], text: set[str]) -> list[Change]:
    return [Change(key, a.get(key), b.get(key), key in meaning or key not in text)
            for key in sorted(set(a) | set(b)) if a.get(key) != b.get(key)]


def _rule_change(a: Json, b: Json) -> list[Change]:
    return [Change(key, a.get(key), b.get(key), True)
            for key in sorted(set(a) | set(b)) if a.get(key) != b.get(key)]


def _score_change(a: Json, b: Json) -> list[Change]:
    changes = _plain({k: v for k, v in a.items() if k != "band_sets"},
                     {k: v for k, v in b.items() if k != "band_sets"},
                     meaning=set(), text={"label", "description", "citizen_visible"})
    sets_a, sets_b = _list(a.get("band_sets")), _list(b.get("band_sets"))

    def shape(sets: list[Any]) -> list[Any]:
        return [(_dict(s).get("when"), [(_dict(band).get("id"), _dict(band).get("min"),
                                         _dict(band).get("max"), _dict(band).get("severity"))
                                        for band in _list(_dict(s).get("bands"))])
                for s in sets]

    def labels(sets: list[Any]) -> list[Any]:
        return [_dict(band).get("label") for s in sets for band in _list(_dict(s).get("bands"))]

    if shape(sets_a) != shape(sets_b):
        changes.append(Change("bands", shape(sets_a), shape(sets_b), True))
    elif labels(sets_a) != labels(sets_b):
        changes.append(Change("band-labels", labels(sets_a), labels(sets_b), False))
    return changes


def _flag_change(a: Json, b: Json) -> list[Change]:
    return _plain(a, b, meaning={"when", "severity"}, text={"label", "citizen_visible"})
