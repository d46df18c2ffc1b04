"""The condition builder: rows of (field, operator, value) combined with all/any, and back.

Designers never type JSON Logic. A condition is a list of rows such as "smoking equals daily",
joined by *all* (``and``) or *any* (``or``), and becomes a small tree in the rule language's
subset. :func:`from_logic` reads such a tree back into rows so it can be edited again; a
condition written by hand in another shape reads as ``None`` and the editor says so instead of
guessing.

Which fields a condition may read is decided here too (:func:`offered_fields`): only answers on
the same or an earlier page than the element it controls (the linter's ``later-page`` rule, and
Inera's "follow-up questions on the same page" guidance), never the element itself, and inside
a repeating group also the other fields of the same row.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from formular.definitions.formats import check_date_limit
from formular.definitions.tree import resolve_options

from .outline import CONDITION_TYPES, Json, as_list, display_label, find, walk

#: Operator keys of the builder, with the label the editor shows.
OPERATOR_LABELS: dict[str, LazyString] = {
    "equals": _l("equals"),
    "not-equals": _l("does not equal"),
    "less": _l("is less than"),
    "less-or-equal": _l("is at most"),
    "greater": _l("is greater than"),
    "greater-or-equal": _l("is at least"),
    "includes": _l("includes"),
    "not-includes": _l("does not include"),
    "answered": _l("is answered"),
    "not-answered": _l("is not answered"),
}
COMPARISONS = {"less": "<", "less-or-equal": "<=", "greater": ">", "greater-or-equal": ">="}
#: Operators that take no value.
UNARY = frozenset({"answered", "not-answered"})

#: Which operators fit which kind of answer.
OPERATORS_BY_KIND: dict[str, tuple[str, ...]] = {
    "choice": ("equals", "not-equals", "answered", "not-answered"),
    "multi": ("includes", "not-includes", "answered", "not-answered"),
    "boolean": ("equals", "answered", "not-answered"),
    "number": ("equals", "not-equals", "less", "less-or-equal", "greater", "greater-or-equal",
               "answered", "not-answered"),
    "date": ("equals", "not-equals", "less", "less-or-equal", "greater", "greater-or-equal",
             "answered", "not-answered"),
    "text": ("equals", "not-equals", "answered", "not-answered"),
}


class ConditionError(ValueError):
    """A row that cannot become a condition; ``row`` is its 0-based index."""

    def __init__(self, message: str | LazyString, row: int | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.row = row


@dataclass(frozen=True)
class FieldChoice:
    """A field a condition may read."""

    #: The ``var`` path: an answer name, ``score.<id>`` or ``subject.age``/``subject.sex``.
    path: str
    label: str
    #: choice, multi, boolean, number, date or text.
    kind: str
    #: (value, label) of each option for choice and multi kinds.
    options: tuple[tuple[Any, str], ...] = ()
    page_index: int = 0

    @property
    def operators(self) -> tuple[str, ...]:
        return OPERATORS_BY_KIND[self.kind]


@dataclass(frozen=True)
class Row:
    field: str
    operator: str
    #: The typed value (None for answered / not answered).
    value: Any = None


def _kind(item_type: str) -> str:
    return {
        "choice": "choice", "matrix": "choice", "multi-choice": "multi", "yes-no": "boolean",
        "integer": "number", "decimal": "number", "scale": "number", "calculated": "number",
        "date": "date",
    }.get(item_type, "text")


def _field_choices(document: Json, item: Json, page_index: int) -> list[FieldChoice]:
    kind = _kind(str(item.get("type")))
    options: tuple[tuple[Any, str], ...] = ()
    if kind in ("choice", "multi"):
        options = tuple((o.get("value"), str(o.get("label", o.get("value"))))
                        for o in resolve_options(document, item) if isinstance(o, dict))
    label = display_label(item, "item") or str(item.get("name"))
    if item.get("type") == "matrix":
        return [FieldChoice(str(row.get("name")), f"{label}: {row.get('label', '')}", kind,
                            options, page_index)
                for row in as_list(item.get("rows")) if isinstance(row, dict)]
    return [FieldChoice(str(item.get("name")), label, kind, options, page_index)]


def offered_fields(document: Json, target: str) -> list[FieldChoice]:
    """The fields a condition on ``target`` (an item, section or page) may read."""
    located = find(document, target)
    if located is None:
        return []
    own_group = located.group
    inside: set[str] = {target}
    if located.kind != "item":
        # A section or page cannot depend on its own items.
        for other in walk(document):
            if other.kind == "item" and (
                    (located.kind == "page" and other.page is located.element)
                    or (located.kind == "section" and other.section is located.element)):
                inside.add(other.name)
    elif located.element.get("type") == "group":
        inside.update(str(child.get("name")) for child in as_list(located.element.get("items"))
                      if isinstance(child, dict))
    result: list[FieldChoice] = []
    for other in walk(document):
        if other.kind != "item" or other.name in inside:
            continue
        if other.element.get("type") not in CONDITION_TYPES:
            continue
        if other.group is not None and other.group is not own_group:
            continue
        limit = located.page_index - (1 if located.kind == "page" else 0)
        if other.page_index > limit:
            continue
        result += _field_choices(document, other.element, other.page_index)
    return result


def score_fields(document: Json) -> list[FieldChoice]:
    """Scores a flag may read (``score.<id>``)."""
    return [FieldChoice(f"score.{score['id']}", str(score.get("label") or score["id"]),
                        "number")
            for score in as_list(document.get("scores"))
            if isinstance(score, dict) and isinstance(score.get("id"), str)]


def flag_fields(document: Json) -> list[FieldChoice]:
    """What a flag's condition may read: every answer that can be compared, and the scores."""
    result: list[FieldChoice] = []
    for other in walk(document):
        if (other.kind == "item" and other.group is None
                and other.element.get("type") in CONDITION_TYPES):
            result += _field_choices(document, other.element, other.page_index)
    return result + score_fields(document)


# -- values --------------------------------------------------------------------------------------

_INTEGER = re.compile(r"-?(0|[1-9][0-9]*)")
_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)([.,][0-9]+)?")


def typed_value(choice: FieldChoice, text: str) -> Any:
    """The typed value of what the designer entered for ``choice``; ValueError if unfit."""
    text = text.strip()
    if choice.kind in ("choice", "multi"):
        for value, _label in choice.options:
            if str(value) == text:
                return value
        raise ValueError(str(_l("Choose one of the field's options.")))
    if choice.kind == "boolean":
        if text in ("true", "false"):
            return text == "true"
        raise ValueError(str(_l("Choose yes or no.")))
    if choice.kind == "number":
        if not _NUMBER.fullmatch(text):
            raise ValueError(str(_l("Enter a number, for example 3 or 2,5.")))
        if _INTEGER.fullmatch(text):
            return int(text)
        return float(text.replace(",", "."))
    if choice.kind == "date":
        try:
            dt.date.fromisoformat(text)
        except ValueError:
            raise ValueError(str(_l("Enter a date as YYYY-MM-DD."))) from None
        if check_date_limit(text) is not None:
            raise ValueError(str(_l("Enter a date as YYYY-MM-DD.")))
        return text
    if not text:
        raise ValueError(str(_l("Enter a value.")))
    if len(text) > 500:
        raise ValueError(str(_l("The value is too long.")))
    return text


def value_text(value: Any) -> str:
    """How a typed value is shown back in the builder's value field."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


# -- rows <-> logic ------------------------------------------------------------------------------


def row_logic(row: Row) -> Json:
    var = {"var": row.field}
    if row.operator == "answered":
        return {"!": [{"missing": [row.field]}]}
    if row.operator == "not-answered":
        return {"missing": [row.field]}
    if row.operator == "includes":
        return {"in": [row.value, var]}
    if row.operator == "not-includes":
        return {"!": [{"in": [row.value, var]}]}
    if row.operator in ("equals", "not-equals"):
        # Booleans compare strictly: with "==" an unanswered yes/no question would equal "no".
        strict = isinstance(row.value, bool)
        symbol = ("===" if strict else "==") if row.operator == "equals" else (
            "!==" if strict else "!=")
        return {symbol: [var, row.value]}
    if row.operator in COMPARISONS:
        return {COMPARISONS[row.operator]: [var, row.value]}
    raise ConditionError(_l("Unknown operator."))


def to_logic(rows: list[Row], combine: str) -> Any:
    """One row alone, or all/any of several rows."""
    if not rows:
        raise ConditionError(_l("Add at least one condition row."))
    parts = [row_logic(row) for row in rows]
    if len(parts) == 1:
        return parts[0]
    return {"and" if combine == "all" else "or": parts}


def build_rows(choices: list[FieldChoice], entered: list[tuple[str, str, str]]) -> list[Row]:
    """Check rows as entered (field path, operator, value text) against the offered fields.

    Blank rows (no field chosen) are skipped. Raises :class:`ConditionError` naming the row.
    """
    by_path = {choice.path: choice for choice in choices}
    rows: list[Row] = []
    for index, (path, operator, text) in enumerate(entered):
        if not path:
            continue
        choice = by_path.get(path)
        if choice is None:
            raise ConditionError(_l("This field cannot be used here: a condition may only "
                                    "read answers on the same or an earlier page."), index)
        if operator not in choice.operators:
            raise ConditionError(_l("This comparison does not fit the field."), index)
        value = None
        if operator not in UNARY:
            try:
                value = typed_value(choice, text)
            except ValueError as error:
                raise ConditionError(str(error), index) from None
        rows.append(Row(path, operator, value))
    return rows


def _var_of(node: Any) -> str | None:
    if isinstance(node, dict) and set(node) == {"var"}:
        path = node["var"]
        if isinstance(path, list) and len(path) == 1:
            path = path[0]
        if isinstance(path, str) and path:
            return path
    return None


def _one(arg: Any) -> Any:
    return arg[0] if isinstance(arg, list) and len(arg) == 1 else arg


def _row_of(node: Any) -> Row | None:
    if not isinstance(node, dict) or len(node) != 1:
        return None
    ((operator, args),) = node.items()
    if operator == "missing":
        names = args[0] if isinstance(args, list) and len(args) == 1 and isinstance(
            args[0], list) else args
        if isinstance(names, list) and len(names) == 1 and isinstance(names[0], str):
            return Row(names[0], "not-answered")
        return None
    if operator == "!":
        inner = _one(args)
        row = _row_of(inner)
        if row is not None and row.operator == "not-answered":
            return Row(row.field, "answered")
        if row is not None and row.operator == "includes":
            return Row(row.field, "not-includes", row.value)
        return None
    if not isinstance(args, list) or len(args) != 2:
        return None
    if operator == "in":
        field = _var_of(args[1])
        if field is not None and _is_scalar(args[0]):
            return Row(field, "includes", args[0])
        return None
    field = _var_of(args[0])
    if field is None or not _is_scalar(args[1]):
        return None
    if operator in ("==", "==="):
        return Row(field, "equals", args[1])
    if operator in ("!=", "!=="):
        return Row(field, "not-equals", args[1])
    for key, symbol in COMPARISONS.items():
        if operator == symbol:
            return Row(field, key, args[1])
    return None


def _is_scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool)) and value is not None


def from_logic(logic: Any) -> tuple[str, list[Row]] | None:
    """("all" or "any", rows) of a condition the builder could have made, else None."""
    if isinstance(logic, dict) and len(logic) == 1:
        ((operator, args),) = logic.items()
        if operator in ("and", "or") and isinstance(args, list) and len(args) >= 2:
            rows = [_row_of(part) for part in args]
            if all(row is not None for row in rows):
                return ("all" if operator == "and" else "any"), [r for r in rows if r]
            return None
    row = _row_of(logic)
    return ("all", [row]) if row is not None else None


def rule_for(document: Json, target: str) -> tuple[int, Json] | None:
    """The rule that shows ``target`` and nothing else (the one the builder edits)."""
    for index, rule in enumerate(as_list(document.get("rules"))):
        if isinstance(rule, dict) and rule.get("show") == [target]:
            return index, rule
    return None


def other_rules_naming(document: Json, target: str) -> list[str]:
    """Ids of hand-written rules that also show, require or skip to ``target``."""
    found = []
    for rule in as_list(document.get("rules")):
        if not isinstance(rule, dict) or rule.get("show") == [target]:
            continue
        if target in as_list(rule.get("show")) or target in as_list(rule.get("require")) or (
                rule.get("skip_to") == target):
            found.append(str(rule.get("id")))
    return found


def describe(document: Json, logic: Any) -> str | None:
    """A short reading of a builder-shaped condition ("Smoking equals Daily"), for the tree
    and the flag list; None for hand-written conditions."""
    parsed = from_logic(logic)
    if parsed is None:
        return None
    combine, rows = parsed
    labels: dict[str, FieldChoice] = {c.path: c for c in flag_fields(document)}
    parts = []
    for row in rows:
        choice = labels.get(row.field)
        label = choice.label if choice else row.field
        value = row.value
        if choice is not None and choice.kind in ("choice", "multi"):
            value = next((text for v, text in choice.options if v == row.value), row.value)
        elif isinstance(value, bool):
            value = str(_l("yes")) if value else str(_l("no"))
        text = f"{label} {OPERATOR_LABELS[row.operator]}"
        parts.append(text if row.operator in UNARY else f"{text} {value}")
    joiner = str(_l(" and ")) if combine == "all" else str(_l(" or "))
    return joiner.join(parts)


def band_set_condition(sex: str | None, age_min: int | None, age_max: int | None) -> Any:
    """The ``when`` of a band set for a simulated subject range (None: the fallback set)."""
    parts: list[Json] = []
    if sex:
        parts.append({"==": [{"var": "subject.sex"}, sex]})
    if age_min is not None:
        parts.append({">=": [{"var": "subject.age"}, age_min]})
    if age_max is not None:
        parts.append({"<=": [{"var": "subject.age"}, age_max]})
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else {"and": parts}


def band_set_subject(when: Any) -> tuple[str | None, int | None, int | None] | None:
    """(sex, age min, age max) of a band-set condition made by :func:`band_set_condition`;
    None for any other condition."""
    if when is None:
        return None, None, None
    parsed = from_logic(when)
    if parsed is None or parsed[0] != "all":
        return None
    sex: str | None = None
    age_min: int | None = None
    age_max: int | None = None
    for row in parsed[1]:
        if row.field == "subject.sex" and row.operator == "equals" and isinstance(row.value, str):
            sex = row.value
        elif row.field == "subject.age" and isinstance(row.value, int) and not isinstance(
                row.value, bool) and row.operator == "greater-or-equal":
            age_min = row.value
        elif row.field == "subject.age" and isinstance(row.value, int) and not isinstance(
                row.value, bool) and row.operator == "less-or-equal":
            age_max = row.value
        else:
            return None
    return sex, age_min, age_max


__all__ = [
    "COMPARISONS", "OPERATORS_BY_KIND", "OPERATOR_LABELS", "UNARY", "ConditionError",
    "FieldChoice", "Row", "band_set_condition", "band_set_subject", "build_rows",
    "describe", "flag_fields", "from_logic", "offered_fields",
    "other_rules_naming", "row_logic", "rule_for", "score_fields", "to_logic", "typed_value",
    "value_text",
]
