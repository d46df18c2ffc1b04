"""The export table of a definition: its columns in order, and a typed cell per column and row.

The CSV and the Excel export write the same table; only the way a cell is written differs.
A column's getter returns a *typed* cell (text, int, float, date, datetime or ``None``); text is
neutralised against formula injection by the writers (:func:`neutralise`), never here, so a getter
can be reused by any writer.

Decisions
    * **One column per answer**; each matrix row is its own column (titled by the row's label).
    * **Labels, and codes beside them.** An answer is shown as the person saw it: an option's
      label (through the rendering widget's ``display``), "Ja"/"Nej" for yes/no, numbers as
      numbers, dates as dates. Items with options (choice, matrix rows, multi-choice) also get a
      ``… (kod)`` column with the stored value, so the PHQ-9 item scores stay computable in Excel
      and a re-labelled option can still be recognised. Multi-choice cells join the chosen
      labels (and codes) with ", ".
    * **Repeating groups are flattened** into ``group[1].field`` … ``group[N].field`` columns,
      N being the group's ``maxItems`` (the linter requires it, the validator enforces it). A
      streamed export writes its header before it sees the first row, so the bound must be
      known up front; the schema's bound is, and no row can have more repetitions than it.
      Columns of repetitions nobody used stay empty. One column per field keeps every cell a
      single value a reviewer can sort and filter on, which a JSON-ish cell would not.
    * Fixed columns first (personnummer, name, receipt, submitted at in Europe/Stockholm,
      answered by, status), then the answers in layout order, then per score its value and its
      band, then one flags column ("label (severity)", joined with "; ").
    * ``audience="citizen"`` leaves out staff-only pages, sections and items, scores and flags
      that are not ``citizen_visible``; staff (the default) see everything.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias
from zoneinfo import ZoneInfo

from formular.definitions.service import CompiledDefinition, ItemSpec
from formular.rendering.widgets import widget_for

from .texts import severity, texts

STOCKHOLM = ZoneInfo("Europe/Stockholm")

Cell: TypeAlias = str | int | float | dt.date | dt.datetime | None
Kind = Literal["text", "number", "date", "datetime", "value"]
Audience = Literal["staff", "citizen"]

#: First characters that make a spreadsheet read a cell as a formula or a command (OWASP
#: "CSV injection", ASVS 5.0 1.2.10; the security brief's list, plus line feed and the
#: full-width forms that some spreadsheet input methods turn into the ASCII ones).
FORMULA_TRIGGERS = frozenset("=+-@\t\r\n\0|%＝＋－＠")


def neutralise(text: str) -> str:
    """Prefix ``'`` to text a spreadsheet would otherwise evaluate (``=HYPERLINK(…)``, ``+1``,
    ``-2+3``, ``@SUM(…)``, a leading tab…). Applies to text only: real numbers are never passed
    here, so a negative number stays a number."""
    if text and text[0] in FORMULA_TRIGGERS:
        return "'" + text
    return text


@dataclass(slots=True)
class ExportRow:
    """One submission as the exports need it, built by the caller from a streamed query."""

    personnummer: str | None
    name: str | None
    receipt: str
    #: When it was submitted (aware, or naive UTC); shown in Europe/Stockholm.
    submitted_at: dt.datetime | None
    answered_by: str | None = None
    status: str | None = None
    #: The stored answers (already evaluated: hidden answers dropped, calculated values set).
    answers: Mapping[str, Any] = field(default_factory=dict)
    #: The stored scores document: ``{"scores": {id: {...}}, "flags": [{...}]}``.
    scores: Mapping[str, Any] = field(default_factory=dict)


Getter: TypeAlias = Callable[[ExportRow], Cell]
Convert: TypeAlias = Callable[[Any], Cell]


@dataclass(frozen=True)
class Column:
    #: A stable machine name: ``submission.receipt``, ``phq1``, ``phq1.code``,
    #: ``medications[2].drug``, ``score.phq-9``, ``score.phq-9.band``, ``submission.flags``.
    #: Answer names cannot contain dots, so the fixed and score keys never clash with them.
    key: str
    #: The header people read: a question label, "Kvittensnummer"…
    title: str
    #: What the cells hold; "value" is a number or text (calculated items).
    kind: Kind
    get: Getter = field(repr=False, compare=False)
    #: For a fast path: the top-level answer whose value alone makes the cell, and the
    #: function that does it: ``get(row)`` is ``convert(row.answers[source])``, or None when
    #: there is no answer.
    source: str | None = None
    convert: Convert | None = field(default=None, repr=False, compare=False)
    #: Whether the answer has few possible values (options, yes/no): cells worth remembering.
    finite: bool = False
    #: Whether the source's values can be dictionary keys (not lists: multi-choice, files,
    #: groups).
    hashable: bool = True
    #: Columns worked out together (the fixed ones; the scores and flags) share a block that
    #: makes all their cells in one pass over the row; ``get`` picks this column's cell.
    block: Block | None = field(default=None, repr=False, compare=False)
    #: This column's place in its block, and the block's number of columns.
    block_index: int = 0
    block_size: int = 0


Block: TypeAlias = Callable[[ExportRow], list[Cell]]


def _blocked(keys_titles: Sequence[tuple[str, str, Kind]], block: Block) -> list[Column]:
    def pick(index: int) -> Getter:
        return lambda row: block(row)[index]

    size = len(keys_titles)
    return [Column(key, title, kind, pick(index), block=block, block_index=index,
                   block_size=size)
            for index, (key, title, kind) in enumerate(keys_titles)]


def steps(cols: Sequence[Column]) -> list[Column | Block]:
    """``cols`` as steps: a whole block where all its columns stand together in order (one call
    makes all their cells), else single columns (a caller may pick any columns it likes)."""
    found: list[Column | Block] = []
    index = 0
    while index < len(cols):
        column = cols[index]
        block, size = column.block, column.block_size
        if (block is not None and column.block_index == 0
                and all(other.block is block and other.block_index == offset
                        for offset, other in enumerate(cols[index:index + size]))
                and len(cols[index:index + size]) == size):
            found.append(block)
            index += size
        else:
            found.append(column)
            index += 1
    return found


def row_maker(cols: Sequence[Column]) -> Callable[[ExportRow], list[Cell]]:
    """A function making the typed cells of a row, each whole block called once per row."""
    plan: list[tuple[bool, Callable[[ExportRow], Any]]] = [
        (False, step.get) if isinstance(step, Column) else (True, step) for step in steps(cols)
    ]

    def make(row: ExportRow) -> list[Cell]:
        cells: list[Cell] = []
        for many, step in plan:
            if many:
                cells += step(row)
            else:
                cells.append(step(row))
        return cells

    return make


def local_time(value: dt.datetime | None) -> dt.datetime | None:
    """A stored time as a naive Europe/Stockholm wall-clock time (what spreadsheets hold).

    Naive times are UTC (SQLite keeps no zone). Their offset is looked up once per UTC hour
    (Swedish clocks change on the hour, at 01:00 UTC), which keeps an export of many rows from
    spending its time in time-zone arithmetic."""
    if value is None:
        return None
    if value.tzinfo is not None:
        return value.astimezone(STOCKHOLM).replace(tzinfo=None)
    hour = (value.year, value.month, value.day, value.hour)
    offset = _OFFSETS.get(hour)
    if offset is None:
        start = dt.datetime(*hour, tzinfo=dt.UTC)
        offset = start.astimezone(STOCKHOLM).utcoffset() or dt.timedelta(0)
        if len(_OFFSETS) > 10_000:
            _OFFSETS.clear()
        _OFFSETS[hour] = offset
    return value + offset


_OFFSETS: dict[tuple[int, int, int, int], dt.timedelta] = {}


def display_personnummer(value: str | None) -> str | None:
    """``YYYYMMDD-NNNN``: the form people read, and text a spreadsheet will not turn into a
    number (12 digits would lose nothing but be shown as 1.99E+11)."""
    if value and len(value) == 12 and value.isdigit():
        return f"{value[:8]}-{value[8:]}"
    return value


def columns(
    compiled: CompiledDefinition,
    *,
    language: str | None = None,
    audience: Audience = "staff",
) -> list[Column]:
    """Every column of the export of ``compiled``, in order (see the module docstring)."""
    words = texts(language or compiled.language)
    result = _fixed_columns(words)
    for item in _items(compiled, audience):
        result += _item_columns(item, words)
    result += _score_columns(compiled, words, audience)
    return result


# -- fixed columns ------------------------------------------------------------------------------


def _fixed_columns(words: dict[str, str]) -> list[Column]:
    def fixed(row: ExportRow) -> list[Cell]:
        number, submitted = row.personnummer, row.submitted_at
        if number is not None and len(number) == 12 and number.isdigit():
            number = f"{number[:8]}-{number[8:]}"  # as display_personnummer does
        if submitted is not None:
            submitted = local_time(submitted)
        return [number, row.name, row.receipt, submitted, row.answered_by, row.status]

    return _blocked([
        ("citizen.personnummer", words["personnummer"], "text"),
        ("citizen.name", words["name"], "text"),
        ("submission.receipt", words["receipt"], "text"),
        ("submission.submitted_at", words["submitted_at"], "datetime"),
        ("submission.answered_by", words["answered_by"], "text"),
        ("submission.status", words["status"], "text"),
    ], fixed)


# -- answers ------------------------------------------------------------------------------------


def _items(compiled: CompiledDefinition, audience: Audience) -> list[ItemSpec]:
    citizen = audience == "citizen"
    return [
        item
        for page in compiled.pages if not (citizen and page.audience == "staff")
        for section in page.sections if not (citizen and section.audience == "staff")
        for item in section.items if not (citizen and item.audience == "staff")
        if item.type != "info"
    ]


def _item_columns(item: ItemSpec, words: dict[str, str]) -> list[Column]:
    code_suffix = f" ({words['code']})"
    if item.type == "matrix":
        label, code = _label_converter(item, words), _code_converter(item)
        found = []
        for row in item.rows:
            found.append(_answer(row.name, row.label, "text", row.name, label, finite=True))
            found.append(_answer(f"{row.name}.code", row.label + code_suffix, "value",
                                 row.name, code, finite=True))
        return found
    if item.type == "group":
        found = []
        for index in range(_max_items(item)):
            for child in item.children:
                if child.type == "info":
                    continue
                key = f"{item.name}[{index + 1}].{child.name}"
                title = f"{item.label} {index + 1}: {child.label}"
                found.append(_answer(key, title, _kind(child), item.name, _in_group(
                    index, child.name, _label_converter(child, words)), hashable=False))
                if _has_codes(child):
                    found.append(_answer(key + ".code", title + code_suffix, "value",
                                         item.name, _in_group(index, child.name,
                                                              _code_converter(child)),
                                         hashable=False))
        return found
    finite = item.type in ("choice", "yes-no")
    # Multi-choice and file answers are lists.
    hashable = item.type not in ("multi-choice", "file")
    found = [_answer(item.name, item.label, _kind(item), item.name,
                     _label_converter(item, words), finite=finite, hashable=hashable)]
    if _has_codes(item):
        found.append(_answer(f"{item.name}.code", item.label + code_suffix, "value", item.name,
                             _code_converter(item), finite=finite, hashable=hashable))
    return found


def _answer(key: str, title: str, kind: Kind, name: str, convert: Convert, *,
            finite: bool = False, hashable: bool = True) -> Column:
    """A column whose cell comes from one top-level answer (a group's: from its rows)."""
    return Column(key, title, kind, _top(name, convert), source=name, convert=convert,
                  finite=finite, hashable=hashable)


def _max_items(item: ItemSpec) -> int:
    bound = item.prop.get("maxItems")
    return bound if isinstance(bound, int) and bound > 0 else 1


def _has_codes(item: ItemSpec) -> bool:
    return item.type in ("choice", "multi-choice", "matrix")


def _kind(item: ItemSpec) -> Kind:
    if item.type in ("integer", "decimal", "scale"):
        return "number"
    if item.type == "date":
        return "date"
    if item.type == "calculated":
        return "value"
    return "text"


def _top(name: str, convert: Convert) -> Getter:
    def get(row: ExportRow) -> Cell:
        value = row.answers.get(name)
        return None if value is None else convert(value)

    return get


def _in_group(index: int, name: str, convert: Convert) -> Convert:
    """The cell of one field in one repetition of a group, from the group's list of rows."""
    def pick(rows: Any) -> Cell:
        if rows.__class__ is not list or len(rows) <= index:
            return None
        entry = rows[index]
        if entry.__class__ is not dict:
            return None
        value = entry.get(name)
        return None if value is None else convert(value)

    return pick


def _label_converter(item: ItemSpec, words: dict[str, str]) -> Convert:
    """Turns a stored answer of ``item`` into the cell people read (see the module docstring).

    Option labels come from the rendering widget's ``display`` (so the export says what the
    review page says); they are worked out once per option here, not once per cell."""
    widget = widget_for(item)
    kind = item.type
    if kind in ("choice", "matrix"):
        known = {(o["value"].__class__, o["value"]): widget.display(item, o["value"])
                 for o in item.options}

        def option_label(value: Any) -> Cell:
            found = known.get((value.__class__, value)) if _hashable(value) else None
            return widget.display(item, value) if found is None else found

        return option_label
    if kind == "multi-choice":
        each = {(o["value"].__class__, o["value"]): widget.display(item, [o["value"]])
                for o in item.options}

        def option_labels(value: Any) -> Cell:
            if value.__class__ is not list:
                return widget.display(item, value)
            labels = [each.get((v.__class__, v)) if _hashable(v) else None for v in value]
            if None in labels:
                return widget.display(item, value)
            return ", ".join(label for label in labels if label is not None)

        return option_labels
    if kind == "yes-no":
        yes, no = words["yes"], words["no"]

        def yes_no(value: Any) -> Cell:
            if value is True:
                return yes
            if value is False:
                return no
            return widget.display(item, value)

        return yes_no
    if kind in ("integer", "decimal", "scale", "calculated"):
        return _number
    if kind == "date":
        return _date
    if kind in ("text", "textarea", "email", "phone", "postcode", "personnummer"):
        return _text

    def displayed(value: Any) -> Cell:
        return widget.display(item, value)

    return displayed


def _code_converter(item: ItemSpec) -> Convert:
    if item.type == "multi-choice":
        def codes(value: Any) -> Cell:
            values = value if isinstance(value, list) else [value]
            return ", ".join(_code_text(v) for v in values)

        return codes
    return _code


def _hashable(value: Any) -> bool:
    return value.__class__ in (int, str, float, bool)


def _code(value: Any) -> Cell:
    if value.__class__ in (int, float, str):
        return value
    return _code_text(value)


def _code_text(value: Any) -> str:
    if value is True or value is False:
        return "true" if value else "false"
    return str(value)


def _number(value: Any) -> Cell:
    if value.__class__ is int or value.__class__ is float:
        return value
    return str(value)


def _date(value: Any) -> Cell:
    if value.__class__ is str:
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value
    return str(value)


def _text(value: Any) -> Cell:
    return value if value.__class__ is str else str(value)


# -- scores and flags ---------------------------------------------------------------------------


def _score_columns(compiled: CompiledDefinition, words: dict[str, str],
                   audience: Audience) -> list[Column]:
    shown = [
        (str(score["id"]), str(score["label"]))
        for score in compiled.document.get("scores", [])
        if audience != "citizen" or score.get("citizen_visible", False)
    ]
    citizen = audience == "citizen"

    def scores_and_flags(row: ExportRow) -> list[Cell]:
        stored = row.scores
        if not _is_mapping(stored):
            return [None] * (2 * len(shown) + 1)
        results = _mapping(stored.get("scores"))
        cells: list[Cell] = []
        for score_id, _label in shown:
            result = None if results is None else results.get(score_id)
            if result.__class__ is not dict and not isinstance(result, Mapping):
                cells += (None, None)
                continue
            value, band = result.get("value"), result.get("band")
            if value is not None and value.__class__ is not int and value.__class__ is not float:
                value = str(value)
            cells.append(value)
            label = band.get("label", "") if band is not None and _is_mapping(band) else None
            cells.append(None if label is None else str(label))
        cells.append(_flag_text(stored, words, citizen) if stored.get("flags") else None)
        return cells

    spec: list[tuple[str, str, Kind]] = []
    for score_id, label in shown:
        spec.append((f"score.{score_id}", label, "number"))
        spec.append((f"score.{score_id}.band", f"{label} – {words['band']}", "text"))
    spec.append(("submission.flags", words["flags"], "text"))
    return _blocked(spec, scores_and_flags)


def _is_mapping(value: Any) -> bool:
    return value.__class__ is dict or isinstance(value, Mapping)


def _mapping(value: Any) -> Mapping[str, Any] | None:
    return value if _is_mapping(value) else None


def raised_flags(scores: Mapping[str, Any], *, citizen: bool = False) -> list[Mapping[str, Any]]:
    """The stored flags of a submission (for a citizen: only those marked citizen-visible)."""
    flags = scores.get("flags") if _is_mapping(scores) else None
    return [
        flag for flag in (flags if flags.__class__ is list else [])
        if _is_mapping(flag) and (not citizen or flag.get("citizen_visible"))
    ]


def _flag_text(scores: Mapping[str, Any], words: dict[str, str], citizen: bool) -> str | None:
    parts = []
    for flag in raised_flags(scores, citizen=citizen):
        level = severity(words, flag.get("severity"))
        label = str(flag.get("label", flag.get("id", "")))
        parts.append(f"{label} ({level})" if level else label)
    return "; ".join(parts) or None


def titles(cols: Sequence[Column], header: Literal["label", "key"] = "label") -> list[str]:
    """Header texts (neutralised: labels are written by designers)."""
    return [neutralise(c.key if header == "key" else c.title) for c in cols]
