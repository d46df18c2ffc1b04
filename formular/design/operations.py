"""Edit operations on a definition document: the only way the editor changes a draft.

Every operation takes a document and typed parameters and returns an :class:`Outcome` holding
a *new* document (the input is never changed), the element the editor should select next and
a sentence to announce to screen-reader users. An operation keeps the parts of a definition
that must agree in step (an item and its answer property, ``required`` and the item's
"required" box, options and the property's ``enum``, a renamed item and every rule, score,
flag and test case naming it) and refuses, with a translated :class:`OperationError`, what
would silently break the form (deleting an item a condition or score still reads). Everything
else that can be wrong is left to the platform's own checker, whose problems the editor lists.

Operations are registered by name in :data:`OPERATIONS`; the web layer posts
``/design/drafts/<id>/op/<name>``, turns the form into the keyword arguments and calls
:func:`apply`. Nothing here knows about Flask requests or the database.
"""

from __future__ import annotations

import copy
import functools
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from formular.definitions import rules as rule_language
from formular.definitions.formats import check_date_limit, check_pattern
from formular.definitions.items import REGISTRY

from . import conditions
from .outline import (
    Json,
    Located,
    as_dict,
    as_list,
    display_label,
    find,
    fresh_name,
    fresh_slug,
    item_names,
    pages,
    sections,
    taken_names,
    walk,
)

log = logging.getLogger(__name__)

FIELD_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?")
_INTEGER_TEXT = re.compile(r"-?(0|[1-9][0-9]{0,15})")

#: Item types that hold text answers and may change into one another (pattern presets).
TEXT_FAMILY = ("text", "textarea", "personnummer", "email", "phone", "postcode")
NUMBER_FAMILY = ("integer", "decimal")
CHOICE_FAMILY = ("choice", "multi-choice")
#: Presets that are item types with a ``format`` on their property.
FORMAT_TYPES = ("personnummer", "email", "phone", "postcode")
#: Item types not allowed inside a repeating group.
NOT_IN_GROUP = frozenset({"group", "matrix"})

SEVERITIES = ("none", "low", "moderate", "high", "critical")
LOGINS = ("required", "optional", "none")
FILLERS = ("citizen", "guardian", "staff")
COPIES = ("none", "pdf")
METHODS = ("sum", "mean", "count")
MISSING_POLICIES = ("no-total", "prorate", "zero")
ACCEPT = ("application/pdf", "image/png", "image/jpeg", "image/gif")
LANGUAGES = ("sv", "en")
MAX_SHORT = 500
MAX_LONG = 20_000

#: The texts a new element starts with, in English; the editor passes the definition
#: language's wording instead.
ENGLISH_TEXTS: dict[str, str] = {
    "question": "New question",
    "option": "Option %(n)s",
    "statement": "Statement %(n)s",
    "page": "New page",
    "info": "Information for the person filling in the form.",
    "group": "New repeating group",
}


class OperationError(Exception):
    """An operation refused, with a translated message for the designer.

    ``field`` names the form field the message belongs to (the editor shows it there).
    """

    def __init__(self, message: str | LazyString, field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return str(self.message)


@dataclass(frozen=True)
class Outcome:
    """What an operation made: the new document, what to select, what to announce."""

    document: Json
    #: An item name, section or page id, or a panel name ("policy", "scores", …).
    select: str | None = None
    announce: str | None = None


Operation = Callable[..., Outcome]
OPERATIONS: dict[str, Operation] = {}


def operation(name: str) -> Callable[[Callable[..., Outcome]], Operation]:
    """Register an operation under ``name``; the wrapper hands it a deep copy to change."""

    def register(function: Callable[..., Outcome]) -> Operation:
        @functools.wraps(function)
        def run(document: Any, /, **params: Any) -> Outcome:
            if not isinstance(document, dict):
                raise OperationError(_l("The definition is not a JSON object; replace it in "
                                        "the JSON view."))
            try:
                return function(copy.deepcopy(document), **params)
            except OperationError:
                raise
            except (KeyError, IndexError, AttributeError, TypeError) as error:
                # A draft can be in any shape after a raw JSON edit: refuse, do not crash.
                log.info("operation %s failed on a damaged draft: %r", name, error)
                raise OperationError(_l("This part of the definition is damaged; correct it "
                                        "in the JSON view.")) from error

        OPERATIONS[name] = run
        return run

    return register


def apply(document: Json, operation_name: str, /, **params: Any) -> Outcome:
    """Run the operation called ``operation_name``."""
    if operation_name not in OPERATIONS:
        raise OperationError(_l("Unknown operation."))
    return OPERATIONS[operation_name](document, **params)


# -- small helpers ------------------------------------------------------------------------------


def clean_text(value: Any, field: str, *, required: bool = False, limit: int = MAX_SHORT) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise OperationError(_l("This text cannot be empty."), field)
    if len(text) > limit:
        raise OperationError(_l("At most %(limit)s characters.", limit=limit), field)
    return text


def set_or_drop(target: Json, key: str, value: Any) -> None:
    """Set ``key``, or remove it when the value is empty (optional keys stay absent)."""
    if value is None or value == "" or value == [] or value == {}:
        target.pop(key, None)
    else:
        target[key] = value


def _label_of(element: Json, kind: str = "item") -> str:
    return display_label(element, kind) or str(element.get("name") or element.get("id") or "")


def _need(document: Json, name: str, kind: str | None = None) -> Located:
    located = find(document, name)
    if located is None or (kind is not None and located.kind != kind):
        raise OperationError(_l("%(name)s no longer exists; it may have been deleted.",
                                name=name))
    return located


def _root_schema(document: Json) -> Json:
    found = document.get("schema")
    schema: Json = found if isinstance(found, dict) else {
        "type": "object", "additionalProperties": False, "properties": {}}
    document["schema"] = schema
    if not isinstance(schema.get("properties"), dict):
        schema["properties"] = {}
    return schema


def _holder(document: Json, located: Located) -> Json:
    """The schema object whose ``properties`` hold the located item's answer."""
    root = _root_schema(document)
    if located.group is None:
        return root
    group_prop = root["properties"].get(located.group["name"])
    if not isinstance(group_prop, dict):
        group_prop = root["properties"][located.group["name"]] = {"type": "array",
                                                                  "maxItems": 10}
    found = group_prop.get("items")
    inner: Json = found if isinstance(found, dict) else {
        "type": "object", "additionalProperties": False, "properties": {}}
    group_prop["items"] = inner
    if not isinstance(inner.get("properties"), dict):
        inner["properties"] = {}
    return inner


def _prop(document: Json, located: Located, name: str | None = None) -> Json:
    holder = _holder(document, located)
    key = name or located.name
    found = holder["properties"].get(key)
    prop: Json = found if isinstance(found, dict) else {}
    holder["properties"][key] = prop
    return prop


def _is_required(holder: Json, name: str) -> bool:
    return name in as_list(holder.get("required"))


def _set_required(holder: Json, name: str, flag: bool) -> None:
    names = list(as_list(holder.get("required")))
    if flag and name not in names:
        names.append(name)
    elif not flag:
        names = [n for n in names if n != name]
    set_or_drop(holder, "required", names)


def option_value(text: str) -> str | int:
    """An option value as typed: whole numbers become integers, anything else stays text."""
    text = text.strip()
    return int(text) if _INTEGER_TEXT.fullmatch(text) else text


# -- references ---------------------------------------------------------------------------------


def _reads(logic: Any, names: set[str]) -> bool:
    return any(str(path).split(".")[0] in names for path in rule_language.referenced_vars(logic))


def users_of(document: Json, names: set[str], *, ignore: set[str] | None = None) -> list[str]:
    """Descriptions of every condition, score, flag and calculation that reads ``names``."""
    ignore = ignore or set()
    found: list[str] = []
    for rule in as_list(document.get("rules")):
        if isinstance(rule, dict) and _reads(rule.get("when"), names):
            # A rule that only shows or requires elements going away goes away with them.
            targets = set(map(str, as_list(rule.get("show")) + as_list(rule.get("require"))))
            if "skip_to" in rule or not targets or not targets <= ignore:
                found.append(str(_l("the condition %(id)s", id=rule.get("id"))))
    for score in as_list(document.get("scores")):
        if not isinstance(score, dict):
            continue
        entries = {e if isinstance(e, str) else as_dict(e).get("name")
                   for e in as_list(score.get("items"))}
        band_reads = any(_reads(as_dict(s).get("when"), names)
                         for s in as_list(score.get("band_sets")))
        if entries & names or band_reads:
            found.append(str(_l("the score %(label)s",
                                label=score.get("label") or score.get("id"))))
    for flag in as_list(document.get("flags")):
        if isinstance(flag, dict) and _reads(flag.get("when"), names):
            found.append(str(_l("the flag %(label)s", label=flag.get("label") or flag.get("id"))))
    for located in walk(document):
        item = located.element
        if (located.kind == "item" and item.get("type") == "calculated"
                and located.name not in ignore and _reads(item.get("expression"), names)):
            found.append(str(_l("the calculation %(label)s", label=_label_of(item))))
    return found


def _rename_logic(logic: Any, old: str, new: str) -> Any:
    """The same condition with every path whose head is ``old`` renamed to ``new``."""
    def rename_path(path: Any) -> Any:
        if isinstance(path, str):
            head, dot, rest = path.partition(".")
            return new + dot + rest if head == old else path
        return path

    if isinstance(logic, list):
        return [_rename_logic(part, old, new) for part in logic]
    if not isinstance(logic, dict) or len(logic) != 1:
        return logic
    ((operator, args),) = logic.items()
    if operator == "var":
        if isinstance(args, list) and args:
            return {"var": [rename_path(args[0]), *args[1:]]}
        return {"var": rename_path(args)}
    if operator == "missing":
        if isinstance(args, list) and len(args) == 1 and isinstance(args[0], list):
            return {"missing": [[rename_path(a) for a in args[0]]]}
        if isinstance(args, list):
            return {"missing": [rename_path(a) for a in args]}
        return {"missing": rename_path(args)}
    if operator == "missing_some" and isinstance(args, list) and len(args) == 2 and isinstance(
            args[1], list):
        return {"missing_some": [args[0], [rename_path(a) for a in args[1]]]}
    return {operator: _rename_logic(args, old, new)}


def rename_everywhere(document: Json, old: str, new: str, *, prefix: str = "") -> None:
    """Rename references to ``old`` in rules, scores, flags, calculations and test cases.

    ``prefix`` is "score." for a score id (read as ``score.<id>`` in conditions).
    """
    def rename(logic: Any) -> Any:
        return _rename_scores(logic, old, new) if prefix else _rename_logic(logic, old, new)

    for rule in as_list(document.get("rules")):
        if not isinstance(rule, dict):
            continue
        if "when" in rule:
            rule["when"] = rename(rule["when"])
        if not prefix:
            for key in ("show", "require"):
                if isinstance(rule.get(key), list):
                    rule[key] = [new if t == old else t for t in rule[key]]
            if rule.get("skip_to") == old:
                rule["skip_to"] = new
    for score in as_list(document.get("scores")):
        if not isinstance(score, dict):
            continue
        if not prefix:
            entries = as_list(score.get("items"))
            for index, entry in enumerate(entries):
                if entry == old:
                    entries[index] = new
                elif isinstance(entry, dict) and entry.get("name") == old:
                    entry["name"] = new
        for band_set in as_list(score.get("band_sets")):
            if isinstance(band_set, dict) and "when" in band_set:
                band_set["when"] = rename(band_set["when"])
    for flag in as_list(document.get("flags")):
        if isinstance(flag, dict) and "when" in flag:
            flag["when"] = rename(flag["when"])
    for located in walk(document):
        if located.kind == "item" and "expression" in located.element:
            located.element["expression"] = rename(located.element["expression"])
    for case in as_list(document.get("tests")):
        if not isinstance(case, dict):
            continue
        expect = as_dict(case.get("expect"))
        if prefix:
            for key in ("scores", "bands"):
                mapping = expect.get(key)
                if isinstance(mapping, dict) and old in mapping:
                    expect[key] = {new if k == old else k: v for k, v in mapping.items()}
            continue
        answers = case.get("answers")
        if isinstance(answers, dict) and old in answers:
            case["answers"] = {new if k == old else k: v for k, v in answers.items()}
        for key in ("visible", "hidden", "errors"):
            if isinstance(expect.get(key), list):
                expect[key] = [new if e == old else e for e in expect[key]]
        if isinstance(expect.get("values"), dict) and old in expect["values"]:
            expect["values"] = {new if k == old else k: v for k, v in expect["values"].items()}


def _rename_scores(logic: Any, old: str, new: str) -> Any:
    if isinstance(logic, list):
        return [_rename_scores(part, old, new) for part in logic]
    if not isinstance(logic, dict) or len(logic) != 1:
        return logic
    ((operator, args),) = logic.items()
    if operator == "var":
        target = f"score.{old}"
        if args == target:
            return {"var": f"score.{new}"}
        if isinstance(args, list) and args and args[0] == target:
            return {"var": [f"score.{new}", *args[1:]]}
        return logic
    return {operator: _rename_scores(args, old, new)}


def _forget(document: Json, names: set[str]) -> None:
    """Remove ``names`` as targets of rules (dropping rules left with nothing to do) and from
    test cases; called when the elements are deleted."""
    kept = []
    for rule in as_list(document.get("rules")):
        if not isinstance(rule, dict):
            kept.append(rule)
            continue
        for key in ("show", "require"):
            if isinstance(rule.get(key), list):
                set_or_drop(rule, key, [t for t in rule[key] if t not in names])
        if any(key in rule for key in ("show", "require", "skip_to")):
            kept.append(rule)
    if "rules" in document:
        set_or_drop(document, "rules", kept)
    for case in as_list(document.get("tests")):
        if not isinstance(case, dict):
            continue
        if isinstance(case.get("answers"), dict):
            case["answers"] = {k: v for k, v in case["answers"].items() if k not in names}
        expect = as_dict(case.get("expect"))
        for key in ("visible", "hidden", "errors"):
            if isinstance(expect.get(key), list):
                set_or_drop(expect, key, [e for e in expect[key]
                                           if str(e).split("/")[0] not in names])
        if isinstance(expect.get("values"), dict):
            set_or_drop(expect, "values", {k: v for k, v in expect["values"].items()
                                            if k not in names})


# -- making new elements ------------------------------------------------------------------------


def _texts(texts: Mapping[str, str] | None) -> Mapping[str, str]:
    return texts if texts is not None else ENGLISH_TEXTS


def _options(texts: Mapping[str, str], count: int = 2) -> list[Json]:
    return [{"value": n, "label": texts["option"] % {"n": n}} for n in range(1, count + 1)]


def _new_item(kind: str, taken: set[str], texts: Mapping[str, str]) -> tuple[Json, dict[str, Json]]:
    """A new item of type ``kind`` with a fresh name, and the answer properties it owns."""
    name = fresh_name(taken, kind)
    label = texts["question"]
    item: Json = {"type": kind, "name": name, "label": label}
    props: dict[str, Json] = {}
    if kind in ("text", "textarea"):
        props[name] = {"type": "string", "maxLength": 200 if kind == "text" else 2000}
    elif kind == "integer":
        props[name] = {"type": "integer"}
    elif kind == "decimal":
        props[name] = {"type": "number"}
    elif kind == "date":
        props[name] = {"type": "string", "format": "date"}
    elif kind == "yes-no":
        props[name] = {"type": "boolean"}
    elif kind in FORMAT_TYPES:
        props[name] = {"type": "string", "format": kind}
        if kind == "email":
            props[name]["maxLength"] = 200
    elif kind == "choice":
        item["options"] = _options(texts)
        props[name] = {"enum": [1, 2]}
    elif kind == "multi-choice":
        item["options"] = _options(texts)
        props[name] = {"type": "array", "uniqueItems": True, "items": {"enum": [1, 2]}}
    elif kind == "scale":
        props[name] = {"type": "integer", "minimum": 0, "maximum": 10}
    elif kind == "matrix":
        item["options"] = _options(texts)
        rows = []
        for n in (1, 2):
            row_name = fresh_name(taken, name)
            rows.append({"name": row_name, "label": texts["statement"] % {"n": n}})
            props[row_name] = {"enum": [1, 2]}
        item["rows"] = rows
    elif kind == "group":
        item["label"] = texts["group"]
        child, child_props = _new_item("text", taken, texts)
        item["items"] = [child]
        props[name] = {"type": "array", "maxItems": 10, "items": {
            "type": "object", "additionalProperties": False, "properties": child_props}}
    elif kind == "info":
        item = {"type": "info", "name": name, "text": texts["info"]}
    elif kind == "file":
        item["max_count"] = 1
        props[name] = {"type": "array", "maxItems": 1}
    elif kind == "calculated":
        item["expression"] = 0
        props[name] = {"type": "number"}
    return item, props


def _insert_item(document: Json, item: Json, props: dict[str, Json], container: list[Any],
                 index: int, group: Json | None) -> None:
    container.insert(index, item)
    holder = _root_schema(document)
    if group is not None:
        located = find(document, item["name"])
        assert located is not None
        holder = _holder(document, located)
    holder["properties"].update(props)


@operation("add-item")
def add_item(document: Json, *, item_type: str, section: str | None = None,
             group: str | None = None, after: str | None = None,
             texts: Mapping[str, str] | None = None) -> Outcome:
    """Add an item of any registered type: after ``after``, else at the end of ``group`` or
    ``section``, else at the end of the last section."""
    if item_type not in REGISTRY:
        raise OperationError(_l("Unknown item type."), "item_type")
    texts = _texts(texts)
    container: list[Any] | None = None
    index = 0
    group_item: Json | None = None
    if after:
        anchor = _need(document, after)
        if anchor.kind == "item":
            container, index, group_item = anchor.siblings, anchor.index + 1, anchor.group
        elif anchor.kind == "section":
            section, after = anchor.name, None
        else:
            owned = sections(anchor.element)
            if not owned:
                raise OperationError(_l("The page has no section to add to."))
            section = str(owned[-1].get("id"))
    if container is None and group:
        located = _need(document, group, "item")
        if located.element.get("type") != "group":
            raise OperationError(_l("Items can only be added to repeating groups."))
        group_item = located.element
        container = group_item.setdefault("items", [])
        index = len(container)
    if container is None:
        if section:
            target = _need(document, section, "section").element
        else:
            all_sections = [s for p in pages(document) for s in sections(p)]
            if not all_sections:
                raise OperationError(_l("Add a page first."))
            target = all_sections[-1]
        container = target.setdefault("items", [])
        index = len(container)
    if group_item is not None and item_type in NOT_IN_GROUP:
        raise OperationError(_l("A repeating group cannot hold this kind of item."), "item_type")
    item, props = _new_item(item_type, taken_names(document), texts)
    _insert_item(document, item, props, container, index, group_item)
    return Outcome(document, item["name"], str(_l("Added %(label)s.", label=_label_of(item))))


def _new_section(document: Json, taken: set[str], item_type: str,
                 texts: Mapping[str, str]) -> tuple[Json, dict[str, Json]]:
    item, props = _new_item(item_type, taken, texts)
    return {"id": fresh_name(taken, "section", slug=True), "items": [item]}, props


@operation("add-page")
def add_page(document: Json, *, title: str = "", after: str | None = None,
             item_type: str = "text", texts: Mapping[str, str] | None = None) -> Outcome:
    """Add a page (after the page ``after``, else last) holding one section with one item of
    ``item_type``; with ``info`` this is an information page."""
    if item_type not in REGISTRY:
        raise OperationError(_l("Unknown item type."), "item_type")
    texts = _texts(texts)
    taken = taken_names(document)
    title = clean_text(title, "title") or texts["page"]
    section, props = _new_section(document, taken, item_type, texts)
    page_id = fresh_name(taken, "page", slug=True)
    page: Json = {"id": page_id, "title": title, "sections": [section]}
    layout = document.get("layout")
    if not isinstance(layout, dict):
        layout = document["layout"] = {"pages": []}
    page_list = layout.setdefault("pages", [])
    index = len(page_list)
    if after:
        index = _need(document, after, "page").index + 1
    page_list.insert(index, page)
    _root_schema(document)["properties"].update(props)
    return Outcome(document, page_id, str(_l("Added the page %(title)s.", title=title)))


@operation("add-section")
def add_section(document: Json, *, page: str, title: str = "", item_type: str = "text",
                texts: Mapping[str, str] | None = None) -> Outcome:
    """Add a section at the end of ``page``, holding one item of ``item_type``."""
    if item_type not in REGISTRY:
        raise OperationError(_l("Unknown item type."), "item_type")
    texts = _texts(texts)
    target = _need(document, page, "page").element
    section, props = _new_section(document, taken_names(document), item_type, texts)
    title = clean_text(title, "title")
    if title:
        section = {"id": section["id"], "title": title, "items": section["items"]}
    target.setdefault("sections", []).append(section)
    _root_schema(document)["properties"].update(props)
    return Outcome(document, section["id"], str(_l("Added a section.")))


# -- updating items -----------------------------------------------------------------------------


def parse_number(value: Any, field: str, *, integer: bool = False) -> int | float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise OperationError(_l("Enter a number."), field)
    if isinstance(value, (int, float)):
        number: int | float = value
    else:
        text = str(value).strip().replace(",", ".")
        try:
            number = int(text) if _INTEGER_TEXT.fullmatch(text) else float(text)
        except ValueError:
            raise OperationError(_l("Enter a number."), field) from None
    if number != number or number in (float("inf"), float("-inf")):
        raise OperationError(_l("Enter a number."), field)
    if integer and (not isinstance(number, int) and not float(number).is_integer()):
        raise OperationError(_l("Enter a whole number."), field)
    if integer:
        number = int(number)
    elif isinstance(number, float) and number.is_integer():
        number = int(number)
    return number


def parse_integer(value: Any, field: str) -> int | None:
    number = parse_number(value, field, integer=True)
    return None if number is None else int(number)


def _limits(prop: Json, low_key: str, high_key: str, low: Any, high: Any, field: str,
            *, integer: bool = False, minimum: int | None = None) -> None:
    low_n = parse_number(low, field + "_min", integer=integer)
    high_n = parse_number(high, field + "_max", integer=integer)
    for value, which in ((low_n, "_min"), (high_n, "_max")):
        if value is not None and minimum is not None and value < minimum:
            raise OperationError(_l("The limit cannot be below %(n)s.", n=minimum), field + which)
    if low_n is not None and high_n is not None and low_n > high_n:
        raise OperationError(_l("The lower limit is above the upper limit."), field + "_max")
    set_or_drop(prop, low_key, low_n)
    set_or_drop(prop, high_key, high_n)


def _parse_options(entries: Any, *, multi: bool) -> list[Json]:
    """Options as entered: value, label, weight, code system and code, exclusive."""
    if not isinstance(entries, list):
        raise OperationError(_l("The options could not be read."), "options")
    options: list[Json] = []
    seen: set[str] = set()
    for number, entry in enumerate(entries, start=1):
        entry = as_dict(entry)
        value_text = str(entry.get("value") or "").strip()
        label = str(entry.get("label") or "").strip()
        if not value_text and not label:
            continue  # an empty row of the form
        if not value_text:
            raise OperationError(_l("Option %(n)s needs a value.", n=number), "options")
        if not label:
            raise OperationError(_l("Option %(n)s needs a label.", n=number), "options")
        if len(label) > MAX_SHORT or len(value_text) > 100:
            raise OperationError(_l("Option %(n)s is too long.", n=number), "options")
        value = option_value(value_text)
        if repr(value) in seen:
            raise OperationError(_l("Two options have the value %(value)s.", value=value_text),
                                 "options")
        seen.add(repr(value))
        option: Json = {"value": value, "label": label}
        weight = parse_number(entry.get("weight"), "options")
        if weight is not None:
            option["weight"] = weight
        system = str(entry.get("code_system") or "").strip()
        code = str(entry.get("code") or "").strip()
        if code or system:
            if not (code and system):
                raise OperationError(_l("Option %(n)s needs both a code system and a code.",
                                        n=number), "options")
            option["code"] = {"system": system[:200], "code": code[:100]}
        if multi and entry.get("exclusive"):
            option["exclusive"] = True
        options.append(option)
    if not options:
        raise OperationError(_l("Add at least one option."), "options")
    return options


def _enum_type(values: list[Any]) -> str | list[str]:
    kinds = sorted({"integer" if isinstance(v, int) else "string" for v in values})
    return kinds[0] if len(kinds) == 1 else kinds


def _sync_enum(document: Json, located: Located, values: list[Any]) -> None:
    """Make the answer property (or every matrix row's) list exactly the option values."""
    kind = located.element.get("type")
    names = item_names(located.element)
    for name in names:
        prop = _prop(document, located, name)
        if kind == "multi-choice":
            found = prop.get("items")
            inner: Json = found if isinstance(found, dict) else {}
            inner["enum"] = list(values)
            if "type" in inner:
                inner["type"] = _enum_type(values)
            prop["items"] = inner
            prop.setdefault("type", "array")
        else:
            prop["enum"] = list(values)
            if "type" in prop:
                prop["type"] = _enum_type(values)


def _set_options(document: Json, located: Located, entries: Any) -> None:
    item = located.element
    options = _parse_options(entries, multi=item.get("type") == "multi-choice")
    values = [o["value"] for o in options]
    shared = item.get("options")
    if isinstance(shared, str):
        # A named option set: every item using it changes with it.
        document.setdefault("option_sets", {})[shared] = options
        for other in walk(document):
            if other.kind == "item" and other.element.get("options") == shared:
                _sync_enum(document, other, values)
    else:
        item["options"] = options
        _sync_enum(document, located, values)


def _set_rows(document: Json, located: Located, entries: Any) -> None:
    """A matrix's rows as entered (name, label): renamed rows carry their references along,
    removed rows lose their property, and new rows get one."""
    item = located.element
    old_rows = [r for r in as_list(item.get("rows")) if isinstance(r, dict)]
    if not isinstance(entries, list):
        raise OperationError(_l("The rows could not be read."), "matrix_rows")
    holder = _holder(document, located)
    first = holder["properties"].get(old_rows[0]["name"]) if old_rows else None
    template = copy.deepcopy(first) if isinstance(first, dict) else {}
    values = [o.get("value") for o in as_list(item.get("options")) if isinstance(o, dict)]
    required = bool(old_rows) and _is_required(holder, str(old_rows[0].get("name")))
    taken = taken_names(document)
    new_rows: list[Json] = []
    kept_names: set[str] = set()
    for number, entry in enumerate(entries, start=1):
        entry = as_dict(entry)
        name = str(entry.get("name") or "").strip()
        label = str(entry.get("label") or "").strip()
        if not name and not label:
            continue
        if not label:
            raise OperationError(_l("Row %(n)s needs a label.", n=number), "matrix_rows")
        if not name:
            name = fresh_name(taken, located.name)
        elif not FIELD_NAME.fullmatch(name):
            raise OperationError(_l("Row %(n)s: an id is lower-case letters, digits and _, "
                                    "starting with a letter.", n=number), "matrix_rows")
        if name in kept_names:
            raise OperationError(_l("Two rows have the id %(name)s.", name=name), "matrix_rows")
        kept_names.add(name)
        row: Json = {"name": name, "label": label[:MAX_SHORT]}
        if number - 1 < len(old_rows) and "code" in old_rows[number - 1]:
            row["code"] = old_rows[number - 1]["code"]
        new_rows.append(row)
    if not new_rows:
        raise OperationError(_l("A matrix needs at least one row."), "matrix_rows")
    old_names = [str(r.get("name")) for r in old_rows]
    removed = set(old_names) - kept_names
    # Rows keep their identity by position: a changed id at the same place is a rename.
    renames = {old: row["name"] for old, row in zip(old_names, new_rows, strict=False)
               if old != row["name"] and old in removed}
    if set(renames.values()) & (taken - set(old_names)):
        raise OperationError(_l("That id is already used."), "matrix_rows")
    removed -= set(renames)
    users = users_of(document, removed)
    if users:
        raise OperationError(_l("A row cannot be removed while %(uses)s reads it.",
                                uses=", ".join(users)), "matrix_rows")
    for old, new in renames.items():
        holder["properties"][new] = holder["properties"].pop(old, copy.deepcopy(template))
        if _is_required(holder, old):
            _set_required(holder, old, False)
            _set_required(holder, new, True)
        rename_everywhere(document, old, new)
    for name in removed:
        holder["properties"].pop(name, None)
        _set_required(holder, name, False)
    _forget(document, removed)
    for row in new_rows:
        if row["name"] not in holder["properties"]:
            prop = copy.deepcopy(template) or {"enum": list(values)}
            holder["properties"][row["name"]] = prop
            if required:
                _set_required(holder, row["name"], True)
    item["rows"] = new_rows


def _change_type(document: Json, located: Located, new_type: str) -> None:
    """Switch an item to a related type (a pattern preset, integer/decimal, single/multiple
    choice), keeping what both share."""
    item = located.element
    old_type = str(item.get("type"))
    if new_type == old_type:
        return
    families = (TEXT_FAMILY, NUMBER_FAMILY, CHOICE_FAMILY)
    if not any(old_type in family and new_type in family for family in families):
        raise OperationError(_l("An item cannot change into that kind; add a new item "
                                "instead."), "type")
    prop = _prop(document, located)
    item["type"] = new_type
    if old_type in TEXT_FAMILY:
        for key in ("autocomplete", "rows"):
            item.pop(key, None)
        if new_type in FORMAT_TYPES:
            prop["format"] = new_type
            prop.pop("pattern", None)
        else:
            prop.pop("format", None)
        prop["type"] = "string"
    elif old_type in NUMBER_FAMILY:
        prop["type"] = "integer" if new_type == "integer" else "number"
        if new_type == "integer":
            for key in ("minimum", "maximum"):
                if isinstance(prop.get(key), float):
                    prop[key] = int(prop[key]) if prop[key].is_integer() else round(prop[key])
    else:
        values = [o.get("value") for o in as_list(item.get("options")) if isinstance(o, dict)]
        if isinstance(item.get("options"), str):
            values = [o.get("value") for o in as_list(
                as_dict(document.get("option_sets")).get(item["options"])) if isinstance(o, dict)]
        if new_type == "multi-choice":
            new_prop: Json = {"type": "array", "uniqueItems": True, "items": {"enum": values}}
            item.pop("widget", None)
        else:
            new_prop = {"enum": values}
            for option in as_list(item.get("options")):
                if isinstance(option, dict):
                    option.pop("exclusive", None)
        _holder(document, located)["properties"][located.name] = new_prop


def _rename_item(document: Json, located: Located, new_name: str) -> None:
    old = located.name
    if new_name == old:
        return
    if not FIELD_NAME.fullmatch(new_name):
        raise OperationError(_l("An id is lower-case letters, digits and _, starting with a "
                                "letter (at most 64)."), "name")
    if new_name in taken_names(document):
        raise OperationError(_l("That id is already used."), "name")
    located.element["name"] = new_name
    if located.element.get("type") not in ("info", "matrix"):
        holder = _holder(document, located)
        props = holder["properties"]
        if old in props:
            holder["properties"] = {new_name if k == old else k: v for k, v in props.items()}
        if _is_required(holder, old):
            holder["required"] = [new_name if n == old else n for n in holder["required"]]
    rename_everywhere(document, old, new_name)


@operation("update-item")
def update_item(document: Json, *, name: str, changes: Mapping[str, Any]) -> Outcome:
    """Change an item's settings; only the keys present in ``changes`` are touched.

    Keys: ``name`` (rename, references follow), ``type`` (within a family: the pattern
    presets of text, integer/decimal, single/multiple choice), ``label``, ``help``,
    ``required``, ``audience``, ``error_text``, ``code_system``/``code``, ``unit``,
    ``widget``, ``rows`` (textarea height), ``autocomplete``, ``min_length``/``max_length``,
    ``pattern``, ``minimum``/``maximum``, ``min_date``/``max_date``, ``min_items``/
    ``max_items``, ``min_label``/``max_label``, ``options``, ``matrix_rows``, ``add_label``/
    ``remove_label``, ``text``/``style`` (information), ``accept``/``max_size_mb``/
    ``max_count`` (files), ``expression``/``decimals`` (calculated).
    """
    located = _need(document, name, "item")
    item = located.element
    if "name" in changes:
        new_name = str(changes["name"] or "").strip()
        _rename_item(document, located, new_name)
        located = _need(document, new_name, "item")
        item = located.element
    if "type" in changes and changes["type"]:
        _change_type(document, located, str(changes["type"]))
        located = _need(document, located.name, "item")
    kind = str(item.get("type"))
    holder = _holder(document, located)

    def prop() -> Json:
        return _prop(document, located)

    if "label" in changes and kind != "info":
        item["label"] = clean_text(changes["label"], "label", required=True)
    if "help" in changes and kind != "info":
        set_or_drop(item, "help", clean_text(changes["help"], "help", limit=MAX_LONG))
    if "error_text" in changes and kind != "info":
        set_or_drop(item, "error_text", clean_text(changes["error_text"], "error_text"))
    if "audience" in changes:
        audience = changes["audience"] or "all"
        if audience not in ("all", "staff"):
            raise OperationError(_l("Choose everyone or staff only."), "audience")
        set_or_drop(item, "audience", "staff" if audience == "staff" else None)
    if ("code" in changes or "code_system" in changes) and kind != "info":
        code = clean_text(changes.get("code"), "code", limit=100)
        system = clean_text(changes.get("code_system"), "code_system", limit=200)
        if bool(code) != bool(system):
            raise OperationError(_l("Give both a code system and a code, or neither."), "code")
        set_or_drop(item, "code", {"system": system, "code": code} if code else None)
    if "required" in changes and kind not in ("info", "calculated"):
        for answer in item_names(item):
            _set_required(holder, answer, bool(changes["required"]))
    if "unit" in changes and kind in ("integer", "decimal", "calculated"):
        set_or_drop(item, "unit", clean_text(changes["unit"], "unit", limit=40))
    if "widget" in changes and kind == "choice":
        widget = changes["widget"] or "radio"
        if widget not in ("radio", "select"):
            raise OperationError(_l("Choose buttons or a list."), "widget")
        set_or_drop(item, "widget", "select" if widget == "select" else None)
    if "rows" in changes and kind == "textarea":
        rows = parse_number(changes["rows"], "rows", integer=True)
        if rows is not None and not 2 <= rows <= 30:
            raise OperationError(_l("Between 2 and 30 lines."), "rows")
        set_or_drop(item, "rows", rows)
    if "autocomplete" in changes and kind == "text":
        value = clean_text(changes["autocomplete"], "autocomplete", limit=60)
        if value and not re.fullmatch(r"[a-z -]{1,60}", value):
            raise OperationError(_l("Use an HTML autocomplete token such as name or "
                                    "given-name."), "autocomplete")
        set_or_drop(item, "autocomplete", value)
    if kind in TEXT_FAMILY and ("min_length" in changes or "max_length" in changes):
        _limits(prop(), "minLength", "maxLength", changes.get("min_length"),
                changes.get("max_length"), "length", integer=True, minimum=0)
    if "pattern" in changes and kind in ("text", "textarea"):
        pattern = clean_text(changes["pattern"], "pattern", limit=1000)
        if pattern:
            reason = check_pattern(pattern)
            if reason:
                raise OperationError(_l("The pattern cannot be used: %(reason)s",
                                        reason=reason), "pattern")
        set_or_drop(prop(), "pattern", pattern)
    if kind in NUMBER_FAMILY and ("minimum" in changes or "maximum" in changes):
        _limits(prop(), "minimum", "maximum", changes.get("minimum"), changes.get("maximum"),
                "value", integer=kind == "integer")
    if kind == "scale" and ("minimum" in changes or "maximum" in changes):
        low = parse_number(changes.get("minimum"), "value_min", integer=True)
        high = parse_number(changes.get("maximum"), "value_max", integer=True)
        if low is None or high is None:
            raise OperationError(_l("A scale needs both ends."), "value_min")
        if not 1 <= high - low <= 100:
            raise OperationError(_l("A scale has between 2 and 101 steps."), "value_max")
        prop().update({"type": "integer", "minimum": low, "maximum": high})
    if kind == "scale":
        for key in ("min_label", "max_label"):
            if key in changes:
                set_or_drop(item, key, clean_text(changes[key], key))
    if kind == "date" and ("min_date" in changes or "max_date" in changes):
        target = prop()
        for key, schema_key in (("min_date", "formatMinimum"), ("max_date", "formatMaximum")):
            value = clean_text(changes.get(key), key, limit=40)
            if value and check_date_limit(value) is not None:
                raise OperationError(_l("Write a date (2024-01-31) or today, today-P18Y, "
                                        "today+P30D."), key)
            set_or_drop(target, schema_key, value)
    if kind in ("multi-choice", "group") and ("min_items" in changes or "max_items" in changes):
        _limits(prop(), "minItems", "maxItems", changes.get("min_items"),
                changes.get("max_items"), "items", integer=True, minimum=0)
        if kind == "group" and "maxItems" not in prop():
            raise OperationError(_l("A repeating group needs an upper limit."), "items_max")
    if kind == "group":
        for key in ("add_label", "remove_label"):
            if key in changes:
                set_or_drop(item, key, clean_text(changes[key], key))
    if "options" in changes and kind in ("choice", "multi-choice", "matrix"):
        _set_options(document, located, changes["options"])
    if "matrix_rows" in changes and kind == "matrix":
        _set_rows(document, located, changes["matrix_rows"])
    if kind == "info":
        if "text" in changes:
            item["text"] = clean_text(changes["text"], "text", required=True, limit=MAX_LONG)
        if "style" in changes:
            style = changes["style"] or "plain"
            if style not in ("plain", "notice", "warning"):
                raise OperationError(_l("Choose a style."), "style")
            set_or_drop(item, "style", None if style == "plain" else style)
    if kind == "file":
        _update_file(document, located, changes)
    if kind == "calculated":
        _update_calculated(document, located, changes)
    label = _label_of(item)
    return Outcome(document, located.name, str(_l("Saved %(label)s.", label=label)))


def _update_file(document: Json, located: Located, changes: Mapping[str, Any]) -> None:
    item = located.element
    if "accept" in changes:
        accept = [a for a in as_list(changes["accept"]) if a]
        if any(a not in ACCEPT for a in accept):
            raise OperationError(_l("Choose among the listed file types."), "accept")
        set_or_drop(item, "accept", [a for a in ACCEPT if a in accept])
    if "max_size_mb" in changes:
        size = parse_number(changes["max_size_mb"], "max_size_mb")
        if size is not None and not 0 < size <= 20:
            raise OperationError(_l("Between 0 and 20 MB."), "max_size_mb")
        set_or_drop(item, "max_size", int(size * 1024 * 1024) if size is not None else None)
    if "max_count" in changes:
        count = parse_number(changes["max_count"], "max_count", integer=True)
        if count is not None and not 1 <= count <= 10:
            raise OperationError(_l("Between 1 and 10 files."), "max_count")
        set_or_drop(item, "max_count", count)
        set_or_drop(_prop(document, located), "maxItems", count)


def _update_calculated(document: Json, located: Located, changes: Mapping[str, Any]) -> None:
    item = located.element
    if "expression" in changes:
        expression = changes["expression"]
        if isinstance(expression, str):
            from formular.definitions.loader import parse_json

            parsed, problems = parse_json(expression or "null", max_bytes=64 * 1024)
            if problems:
                raise OperationError(_l("The calculation is not valid JSON."), "expression")
            expression = parsed
        known = {n for loc in walk(document) if loc.kind == "item" for n in item_names(
            loc.element)}
        problems = rule_language.check_logic(
            expression, "", lambda path: str(path).split(".")[0] in known)
        if problems:
            raise OperationError(_l("The calculation cannot be used: %(reason)s",
                                    reason=problems[0].message), "expression")
        if located.name in {str(v).split(".")[0]
                            for v in rule_language.referenced_vars(expression)}:
            raise OperationError(_l("A calculation cannot read its own value."), "expression")
        item["expression"] = expression
    if "decimals" in changes:
        decimals = parse_number(changes["decimals"], "decimals", integer=True)
        if decimals is not None and not 0 <= decimals <= 6:
            raise OperationError(_l("Between 0 and 6 decimals."), "decimals")
        set_or_drop(item, "decimals", decimals)
    if "unit" in changes:
        set_or_drop(item, "unit", clean_text(changes["unit"], "unit", limit=40))


# -- pages and sections -------------------------------------------------------------------------


def _rename_container(document: Json, located: Located, new_id: str) -> None:
    old = located.name
    if new_id == old:
        return
    if not SLUG.fullmatch(new_id):
        raise OperationError(_l("An id is lower-case letters, digits and hyphens (at most "
                                "64)."), "id")
    if new_id in taken_names(document):
        raise OperationError(_l("That id is already used."), "id")
    located.element["id"] = new_id
    rename_everywhere(document, old, new_id)


@operation("update-page")
def update_page(document: Json, *, page: str, changes: Mapping[str, Any]) -> Outcome:
    """A page's id, title, introduction and audience."""
    located = _need(document, page, "page")
    if "id" in changes:
        _rename_container(document, located, str(changes["id"] or "").strip())
    element = located.element
    if "title" in changes:
        element["title"] = clean_text(changes["title"], "title", required=True)
    if "intro" in changes:
        set_or_drop(element, "intro", clean_text(changes["intro"], "intro", limit=MAX_LONG))
    if "audience" in changes:
        set_or_drop(element, "audience", "staff" if changes["audience"] == "staff" else None)
    return Outcome(document, str(element["id"]),
                   str(_l("Saved %(label)s.", label=_label_of(element, "page"))))


@operation("update-section")
def update_section(document: Json, *, section: str, changes: Mapping[str, Any]) -> Outcome:
    """A section's id, title, help text and audience."""
    located = _need(document, section, "section")
    if "id" in changes:
        _rename_container(document, located, str(changes["id"] or "").strip())
    element = located.element
    if "title" in changes:
        set_or_drop(element, "title", clean_text(changes["title"], "title"))
    if "help" in changes:
        set_or_drop(element, "help", clean_text(changes["help"], "help", limit=MAX_LONG))
    if "audience" in changes:
        set_or_drop(element, "audience", "staff" if changes["audience"] == "staff" else None)
    return Outcome(document, str(element["id"]), str(_l("Saved the section.")))


# -- deleting -----------------------------------------------------------------------------------


def _contents(located: Located) -> list[Json]:
    """Items inside a page or section (or a group's children), the element itself included
    when it is an item."""
    element = located.element
    if located.kind == "item":
        return [element] + [c for c in as_list(element.get("items")) if isinstance(c, dict)]
    found: list[Json] = []
    section_list = [element] if located.kind == "section" else sections(element)
    for section in section_list:
        for item in as_list(section.get("items")):
            if isinstance(item, dict):
                found.append(item)
                found += [c for c in as_list(item.get("items")) if isinstance(c, dict)]
    return found


def _delete(document: Json, located: Located) -> set[str]:
    """Remove an element and its answers after checking nothing still reads them."""
    contained = _contents(located)
    names = {str(i.get("name")) for i in contained}
    answers = {n for i in contained for n in item_names(i)}
    containers = {located.name} | {str(s.get("id")) for s in (
        sections(located.element) if located.kind == "page" else [])}
    users = users_of(document, answers | names, ignore=names | answers | containers)
    if users:
        label = _label_of(located.element, located.kind)
        raise OperationError(_l("%(label)s cannot be deleted while %(uses)s reads it. Change "
                                "or remove that first.", label=label, uses=", ".join(users)))
    for rule in as_list(document.get("rules")):
        if isinstance(rule, dict) and rule.get("skip_to") == located.name:
            raise OperationError(_l("%(label)s cannot be deleted while the rule %(id)s skips "
                                    "to it.", label=_label_of(located.element, located.kind),
                                    id=rule.get("id")))
    if located.kind == "item":
        holder = _holder(document, located)
        for answer in item_names(located.element):
            holder["properties"].pop(answer, None)
            _set_required(holder, answer, False)
    else:
        root = _root_schema(document)
        for item in contained:
            for answer in item_names(item):
                root["properties"].pop(answer, None)
                _set_required(root, answer, False)
    del located.siblings[located.index]
    gone = names | answers | containers
    _forget(document, gone)
    return gone


@operation("delete-item")
def delete_item(document: Json, *, name: str) -> Outcome:
    located = _need(document, name, "item")
    label = _label_of(located.element)
    siblings = located.siblings
    _delete(document, located)
    if located.index > 0:
        select = str(siblings[located.index - 1].get("name"))
    elif siblings:
        select = str(siblings[0].get("name"))
    elif located.group is not None:
        select = str(located.group.get("name"))
    else:
        select = str(as_dict(located.section).get("id"))
    return Outcome(document, select, str(_l("Deleted %(label)s.", label=label)))


@operation("delete-section")
def delete_section(document: Json, *, section: str) -> Outcome:
    located = _need(document, section, "section")
    if len(located.siblings) <= 1:
        raise OperationError(_l("A page needs at least one section; delete the page "
                                "instead."))
    _delete(document, located)
    return Outcome(document, str(located.page.get("id")), str(_l("Deleted the section.")))


@operation("delete-page")
def delete_page(document: Json, *, page: str) -> Outcome:
    located = _need(document, page, "page")
    if len(located.siblings) <= 1:
        raise OperationError(_l("A form needs at least one page."))
    label = _label_of(located.element, "page")
    _delete(document, located)
    neighbour = located.siblings[max(0, located.index - 1)]
    return Outcome(document, str(neighbour.get("id")),
                   str(_l("Deleted the page %(title)s.", title=label)))


# -- moving -------------------------------------------------------------------------------------


def _flat_sections(document: Json) -> list[Json]:
    return [s for p in pages(document) for s in sections(p)]


def _place_text(document: Json, name: str) -> str:
    located = find(document, name)
    if located is None:
        return ""
    return str(_l("Moved %(label)s to position %(position)s of %(count)s in %(place)s.",
                  label=_label_of(located.element, located.kind), position=located.index + 1,
                  count=len(located.siblings), place=_place_name(located)))


def _place_name(located: Located) -> str:
    if located.kind == "page":
        return str(_l("the form"))
    if located.group is not None:
        return _label_of(located.group)
    if located.kind == "section":
        return _label_of(located.page, "page")
    section = as_dict(located.section)
    title = display_label(section, "section")
    page_title = _label_of(located.page, "page")
    return f"{page_title} – {title}" if title else page_title


@operation("move-item")
def move_item(document: Json, *, name: str, direction: str) -> Outcome:
    """One step up or down; at the edge of a section the item moves into the neighbouring
    section (on the neighbouring page if need be). Inside a repeating group it stays there."""
    if direction not in ("up", "down"):
        raise OperationError(_l("Unknown direction."))
    located = _need(document, name, "item")
    siblings, index = located.siblings, located.index
    step = -1 if direction == "up" else 1
    if 0 <= index + step < len(siblings):
        siblings[index], siblings[index + step] = siblings[index + step], siblings[index]
    elif located.group is not None:
        raise OperationError(_l("The item is already at the edge of its group."))
    else:
        flat = _flat_sections(document)
        position = next(i for i, s in enumerate(flat) if s is located.section)
        if not 0 <= position + step < len(flat):
            raise OperationError(_l("The item is already first.") if step < 0 else
                                 _l("The item is already last."))
        item = siblings.pop(index)
        target = flat[position + step].setdefault("items", [])
        if step < 0:
            target.append(item)
        else:
            target.insert(0, item)
    return Outcome(document, name, _place_text(document, name))


@operation("move-item-to")
def move_item_to(document: Json, *, name: str, section: str | None = None,
                 position: int | None = None, before: str | None = None) -> Outcome:
    """Move an item into ``section`` at 1-based ``position`` (default: last), or to just
    before the item ``before`` (drag and drop)."""
    located = _need(document, name, "item")
    if before:
        if before == name:
            return Outcome(document, name, _place_text(document, name))
        anchor = _need(document, before, "item")
        if (anchor.group is not None or located.group is not None) and (
                anchor.group is not located.group):
            raise OperationError(_l("Items cannot be moved into or out of a repeating group; "
                                    "add a new item there instead."))
        item = located.siblings.pop(located.index)
        anchor = _need(document, before, "item")
        anchor.siblings.insert(anchor.index, item)
        return Outcome(document, name, _place_text(document, name))
    if located.group is not None:
        raise OperationError(_l("Items cannot be moved into or out of a repeating group; add "
                                "a new item there instead."))
    if not section:
        raise OperationError(_l("Choose a section."), "section")
    target = _need(document, section, "section").element
    item = located.siblings.pop(located.index)
    target_items = target.setdefault("items", [])
    index = len(target_items) if position is None else max(0, min(position - 1,
                                                                  len(target_items)))
    target_items.insert(index, item)
    return Outcome(document, name, _place_text(document, name))


@operation("move-section")
def move_section(document: Json, *, section: str, direction: str) -> Outcome:
    """One step up or down; at the edge of a page the section moves to the neighbouring page."""
    if direction not in ("up", "down"):
        raise OperationError(_l("Unknown direction."))
    located = _need(document, section, "section")
    siblings, index = located.siblings, located.index
    step = -1 if direction == "up" else 1
    if 0 <= index + step < len(siblings):
        siblings[index], siblings[index + step] = siblings[index + step], siblings[index]
    else:
        page_list = pages(document)
        if len(siblings) <= 1:
            raise OperationError(_l("A page needs at least one section; move its items "
                                    "instead."))
        if not 0 <= located.page_index + step < len(page_list):
            raise OperationError(_l("The section is already first.") if step < 0 else
                                 _l("The section is already last."))
        moved = siblings.pop(index)
        target = page_list[located.page_index + step].setdefault("sections", [])
        if step < 0:
            target.append(moved)
        else:
            target.insert(0, moved)
    return Outcome(document, section, _place_text(document, section))


@operation("move-section-to")
def move_section_to(document: Json, *, section: str, page: str,
                    position: int | None = None) -> Outcome:
    located = _need(document, section, "section")
    target = _need(document, page, "page").element
    if len(located.siblings) <= 1 and target is not located.page:
        raise OperationError(_l("A page needs at least one section; move its items instead."))
    moved = located.siblings.pop(located.index)
    target_sections = target.setdefault("sections", [])
    index = len(target_sections) if position is None else max(
        0, min(position - 1, len(target_sections)))
    target_sections.insert(index, moved)
    return Outcome(document, section, _place_text(document, section))


@operation("move-page")
def move_page(document: Json, *, page: str, direction: str) -> Outcome:
    if direction not in ("up", "down"):
        raise OperationError(_l("Unknown direction."))
    located = _need(document, page, "page")
    siblings, index = located.siblings, located.index
    step = -1 if direction == "up" else 1
    if not 0 <= index + step < len(siblings):
        raise OperationError(_l("The page is already first.") if step < 0 else
                             _l("The page is already last."))
    siblings[index], siblings[index + step] = siblings[index + step], siblings[index]
    return Outcome(document, page, _place_text(document, page))


# -- conditions ---------------------------------------------------------------------------------


def fresh_id(existing: list[Any], wanted: str) -> str:
    taken = {str(as_dict(e).get("id")) for e in existing}
    return fresh_slug(taken, wanted)


@operation("set-condition")
def set_condition(document: Json, *, target: str, combine: str,
                  rows: list[tuple[str, str, str]]) -> Outcome:
    """Show ``target`` only while the condition built from ``rows`` holds.

    Only fields :func:`.conditions.offered_fields` offers for the target may be read (the same
    or an earlier page). The builder owns the rule that shows exactly this target; other rules
    are left alone.
    """
    located = _need(document, target)
    if combine not in ("all", "any"):
        raise OperationError(_l("Choose all or any."), "combine")
    try:
        built = conditions.build_rows(conditions.offered_fields(document, target), rows)
        logic = conditions.to_logic(built, combine)
    except conditions.ConditionError as error:
        field = "rows" if error.row is None else f"rows-{error.row}"
        raise OperationError(error.message, field) from None
    rule_list = document.setdefault("rules", [])
    existing = conditions.rule_for(document, target)
    if existing is not None:
        rule_list[existing[0]]["when"] = logic
    else:
        rule_list.append({"id": fresh_id(rule_list, f"show-{target}"), "when": logic,
                          "show": [target]})
    label = _label_of(located.element, located.kind)
    return Outcome(document, target, str(_l("Saved the condition for %(label)s.", label=label)))


@operation("remove-condition")
def remove_condition(document: Json, *, target: str) -> Outcome:
    located = _need(document, target)
    existing = conditions.rule_for(document, target)
    if existing is None:
        raise OperationError(_l("There is no condition to remove."))
    rule = document["rules"][existing[0]]
    if "require" in rule or "skip_to" in rule:
        rule.pop("show", None)
    else:
        del document["rules"][existing[0]]
    set_or_drop(document, "rules", document["rules"])
    label = _label_of(located.element, located.kind)
    return Outcome(document, target, str(_l("%(label)s is now always shown.", label=label)))


# -- form-level settings ------------------------------------------------------------------------


@operation("update-policy")
def update_policy(document: Json, *, login: str, fillers: list[str], age_min: Any = None,
                  age_max: Any = None, drafts: bool = True, copy_to_citizen: str = "none",
                  discretion: bool = False, terms: str = "", review: bool = True) -> Outcome:
    """Log-in, who may fill in, the age range, drafts, the review page, a copy to the citizen,
    discretion and the terms text."""
    if login not in LOGINS:
        raise OperationError(_l("Choose how people log in."), "login")
    chosen = [f for f in FILLERS if f in fillers]
    if not chosen or len(chosen) != len(set(fillers)):
        raise OperationError(_l("Choose who may fill in the form."), "fillers")
    if copy_to_citizen not in COPIES:
        raise OperationError(_l("Choose whether the citizen gets a copy."), "copy_to_citizen")
    policy = as_dict(document.get("policy"))
    policy["login"] = login
    policy["fillers"] = chosen
    age: Json = {}
    _limits(age, "min", "max", age_min, age_max, "age", integer=True, minimum=0)
    if any(v > 130 for v in age.values()):
        raise OperationError(_l("An age is at most 130."), "age_max")
    set_or_drop(policy, "age", age)
    policy["drafts"] = bool(drafts)
    policy["review"] = bool(review)
    policy["copy_to_citizen"] = copy_to_citizen
    policy["discretion"] = bool(discretion)
    set_or_drop(policy, "terms", clean_text(terms, "terms", limit=MAX_LONG))
    document["policy"] = policy
    return Outcome(document, "policy", str(_l("Saved the form's settings.")))


@operation("update-details")
def update_details(document: Json, *, title: str, description: str = "", contact: str = "",
                   licence: str = "", copyright: str = "",
                   languages: list[str] | None = None) -> Outcome:
    """The form's title, description, contact person, licence, copyright and languages."""
    document["title"] = clean_text(title, "title", required=True)
    set_or_drop(document, "description", clean_text(description, "description", limit=MAX_LONG))
    set_or_drop(document, "contact", clean_text(contact, "contact"))
    set_or_drop(document, "licence", clean_text(licence, "licence", limit=MAX_LONG))
    set_or_drop(document, "copyright", clean_text(copyright, "copyright"))
    if languages is not None:
        source = document.get("language")
        chosen = [code for code in LANGUAGES if code in languages or code == source]
        document["languages"] = chosen
    return Outcome(document, "details", str(_l("Saved the form's details.")))


# -- the whole document -------------------------------------------------------------------------


@operation("replace-document")
def replace_document(document: Json, *, replacement: Any) -> Outcome:
    """Replace everything (the raw JSON view). The id stays: it names the draft's form."""
    if not isinstance(replacement, dict):
        raise OperationError(_l("A definition is a JSON object."), "json")
    if "id" in document and replacement.get("id") != document["id"]:
        raise OperationError(_l("The id %(id)s cannot be changed here; it names this form.",
                                id=document["id"]), "json")
    return Outcome(copy.deepcopy(replacement), None, str(_l("Replaced the definition.")))


# The score, flag and test-case operations live in their own module; importing it registers them.
from . import score_operations  # noqa: E402,F401
