"""Submissions of one definition version as CSV, streamed in constant memory.

:func:`stream_csv` takes any iterable of :class:`ExportRow` (a streamed SQLAlchemy query with
``execution_options(yield_per=…)`` mapped to rows, say) and yields text chunks: the header
first, then a chunk every ``rows_per_chunk`` rows. Nothing is collected, so memory does not grow
with the number of rows. Encode the chunks as UTF-8 (``chunk.encode()``); the first begins with a
byte order mark so Excel reads å, ä and ö right.

Spreadsheet conventions (Swedish Excel by default)
    * The delimiter is ``;`` and decimals use a comma (``72,5``): what Excel expects in a Swedish
      locale, where ``,`` is the decimal separator. With another delimiter the decimal
      separator is ``.`` unless ``decimal_comma`` says otherwise.
    * Times are Europe/Stockholm wall-clock times ``YYYY-MM-DD HH:MM:SS``; dates ``YYYY-MM-DD``.
    * Text that a spreadsheet would evaluate (first character ``= + - @``, tab, CR, LF, NUL,
      ``|``, ``%``) is prefixed with ``'`` (OWASP CSV injection); numbers are written as
      numbers, so ``-2`` from an integer item stays ``-2`` while the text ``-2+3`` becomes
      ``'-2+3``.
    * Rows end with CRLF and fields are quoted as RFC 4180 says (only when they need it).

The columns and how answers are shown are described in :mod:`.table`.

Speed
    A row is made in a few steps (:func:`_segments`): the fixed columns in one call, the scores
    and flags in one call, and the answer columns in one C-level ``map`` that looks up each
    answer and then its formatted cell in a per-column table. Cells of options, yes/no, numbers
    and dates are remembered (at most 256 per column); free text is formatted each time. Equal
    numbers share a cell (``1`` and ``1.0`` of the same column may both be written ``1``). A row
    whose answers do not fit this (a list where a single value belongs) is made the slow way,
    column by column, with the same result.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from operator import getitem
from typing import Any, Literal

from formular.definitions.service import CompiledDefinition

from .table import (
    FORMULA_TRIGGERS,
    Audience,
    Block,
    Cell,
    Column,
    ExportRow,
    columns,
    neutralise,
    row_maker,
    steps,
    titles,
)

__all__ = ["BOM", "Column", "ExportRow", "columns", "neutralise", "stream_csv"]

BOM = "\ufeff"


class _Chunk:
    """A write target for :func:`csv.writer` that keeps what was written until taken."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.write = self.parts.append

    def take(self) -> str:
        text = "".join(self.parts)
        self.parts.clear()
        return text


def stream_csv(
    compiled: CompiledDefinition,
    rows: Iterable[ExportRow],
    *,
    delimiter: str = ";",
    decimal_comma: bool | None = None,
    language: str | None = None,
    audience: Audience = "staff",
    header: Literal["label", "key"] = "label",
    bom: bool = True,
    rows_per_chunk: int = 500,
    cols: Sequence[Column] | None = None,
) -> Iterator[str]:
    """CSV text of ``rows``, chunk by chunk (see the module docstring).

    :param delimiter: one character; ``;`` for Swedish Excel, ``,`` for most other tools.
    :param decimal_comma: write ``72,5`` rather than ``72.5`` (default: when ``delimiter``
        is ``;``).
    :param language: of the fixed words (column titles, Ja/Nej); default the definition's.
    :param header: ``label`` (question labels, for people) or ``key`` (stable names such as
        ``phq1``, ``medications[2].drug``, for scripts).
    :param cols: the columns to write (default :func:`columns` of ``compiled``).
    """
    if len(delimiter) != 1 or delimiter in "\"'\r\n\0=+-@|%" or delimiter.isalnum():
        raise ValueError(f"unusable CSV delimiter {delimiter!r}")
    if cols is None:
        cols = columns(compiled, language=language, audience=audience)
    comma = delimiter == ";" if decimal_comma is None else decimal_comma
    chunk = _Chunk()
    writer = csv.writer(chunk, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(titles(cols, header))
    yield (BOM if bom else "") + chunk.take()

    cell = _formatter(comma)
    segments = _segments(cols, cell)
    typed = row_maker(cols)
    pending = 0
    for row in rows:
        cells: list[Cell] = []
        try:
            for segment in segments:
                cells += segment(row)
        except TypeError:  # an unhashable answer where a plain value belongs: the slow way
            cells = [cell(value) for value in typed(row)]
        writer.writerow(cells)
        pending += 1
        if pending >= rows_per_chunk:
            pending = 0
            yield chunk.take()
    if pending:
        yield chunk.take()


Segment = Callable[[ExportRow], list["Cell"]]


def _segments(cols: Sequence[Column], cell: Format) -> list[Segment]:
    """The row in a few steps: each block (the fixed columns; scores and flags) in one call,
    and each run of answer columns in one C-level ``map``: the answer, then its formatted cell
    from a per-column table (remembered for options and numbers, computed for free text)."""
    segments: list[Segment] = []
    run: list[tuple[str, _Cells | _Computed]] = []
    for step in steps(cols):
        if isinstance(step, Column) and step.source is not None and step.convert is not None:
            if step.hashable:
                remember = step.finite or step.kind in ("number", "date", "value")
                run.append((step.source, _Cells(step.convert, cell, remember)))
            else:
                run.append((step.source, _Computed(step.convert, cell)))
            continue
        if run:
            segments.append(_run(run))
            run = []
        if isinstance(step, Column):
            segments.append(_single(step.get, cell))
        else:
            segments.append(_formatted_block(step, cell))
    if run:
        segments.append(_run(run))
    return segments


def _run(steps: list[tuple[str, _Cells | _Computed]]) -> Segment:
    sources = [source for source, _table in steps]
    tables = [table for _source, table in steps]

    def cells(row: ExportRow) -> list[Cell]:
        return list(map(getitem, tables, map(row.answers.get, sources)))

    return cells


def _single(get: Callable[[ExportRow], Cell], cell: Format) -> Segment:
    def cells(row: ExportRow) -> list[Cell]:
        return [cell(get(row))]

    return cells


def _formatted_block(block: Block, cell: Format) -> Segment:
    triggers = FORMULA_TRIGGERS

    def cells(row: ExportRow) -> list[Cell]:
        # ``cell`` inlined for the common cases: plain text, whole numbers, nothing.
        return [
            value if ((kind := value.__class__) is str
                      and not (value and value[0] in triggers))  # type: ignore[index]
            or kind is int or value is None else cell(value)
            for value in block(row)
        ]

    return cells


Format = Callable[[Cell], Cell]


class _Cells(dict[Any, Cell]):
    """Formatted cells of one column by answer value; computes what it has not seen."""

    #: Cells remembered per column at most (options are few; stray values stay bounded).
    LIMIT = 256

    def __init__(self, convert: Callable[[Any], Cell], cell: Format, remember: bool) -> None:
        super().__init__({None: None})
        self.convert = convert
        self.cell = cell
        self.remember = remember

    def __missing__(self, value: Any) -> Cell:
        made = self.cell(self.convert(value))
        if self.remember and len(self) < self.LIMIT:
            self[value] = made
        return made


class _Computed:
    """Formatted cells of a column whose answers are lists (multi-choice, files, groups)."""

    __slots__ = ("cell", "convert")

    def __init__(self, convert: Callable[[Any], Cell], cell: Format) -> None:
        self.convert = convert
        self.cell = cell

    def __getitem__(self, value: Any) -> Cell:
        return None if value is None else self.cell(self.convert(value))


def _formatter(comma: bool) -> Format:
    """A typed cell as the CSV writer gets it: text neutralised, floats with the chosen decimal
    separator, times and dates in ISO form; ints and None as they are."""
    triggers = FORMULA_TRIGGERS

    def cell(value: Cell) -> Cell:
        kind = value.__class__
        if kind is str:
            if value and value[0] in triggers:  # type: ignore[index]
                return "'" + value  # type: ignore[operator]
            return value
        if kind is int or value is None:
            return value
        if kind is float:
            return repr(value).replace(".", ",") if comma else value
        return _other(value)

    return cell


def _other(value: Cell) -> str:
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    return neutralise(str(value))
