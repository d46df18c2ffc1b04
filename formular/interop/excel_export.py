"""Submissions of one definition version as an Excel workbook (``.xlsx``), in constant memory.

The same columns as the CSV export (:mod:`.table`), written with openpyxl's write-only mode,
which streams rows to a temporary file instead of keeping the sheet in memory. Numbers are
numbers, dates and times are real Excel dates (Europe/Stockholm wall-clock time, as Excel has
no time zones), the header row is bold and frozen and has an auto filter.

Formula injection: openpyxl stores any string that starts with ``=`` as a formula (and one equal
to ``#N/A`` and the like as an error). Every text cell here is created with its data type forced
to string, and text gets the same ``'`` prefix as in the CSV export, so a workbook re-saved as
CSV by a person stays harmless too. Characters that XML 1.0 cannot carry (control characters
other than tab, CR and LF) are replaced by U+FFFD instead of failing the whole export.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Sequence
from typing import IO, Literal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from formular.definitions.service import CompiledDefinition

from .table import Audience, Column, ExportRow, columns, neutralise, row_maker, titles
from .texts import texts

__all__ = ["write_xlsx", "xlsx_bytes"]

DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
#: Excel's limit on the text of one cell.
MAX_CELL_TEXT = 32_767
_SHEET_FORBIDDEN = str.maketrans({c: " " for c in "[]:*?/\\"})


def write_xlsx(
    compiled: CompiledDefinition,
    rows: Iterable[ExportRow],
    target: IO[bytes],
    *,
    language: str | None = None,
    audience: Audience = "staff",
    header: Literal["label", "key"] = "label",
    cols: Sequence[Column] | None = None,
) -> None:
    """Write the workbook of ``rows`` to the binary file object ``target``."""
    words = texts(language or compiled.language)
    if cols is None:
        cols = columns(compiled, language=language, audience=audience)
    workbook = Workbook(write_only=True)
    workbook.properties.title = compiled.title
    workbook.properties.creator = "Formulär"
    workbook.properties.language = language or compiled.language
    sheet: WriteOnlyWorksheet = workbook.create_sheet(_sheet_title(words["sheet"]))
    sheet.freeze_panes = "A2"
    for index, column in enumerate(cols, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = _width(column)
    if cols:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(cols))}1"

    bold, wrap = Font(bold=True), Alignment(wrap_text=True, vertical="top")
    heading = []
    for title in titles(cols, header):
        cell = _text_cell(sheet, title)
        cell.font, cell.alignment = bold, wrap
        heading.append(cell)
    sheet.append(heading)

    make = row_maker(cols)
    for row in rows:
        sheet.append([_cell(sheet, value) for value in make(row)])
    workbook.save(target)


def xlsx_bytes(compiled: CompiledDefinition, rows: Iterable[ExportRow], **options: object
               ) -> bytes:
    """The workbook as bytes (for small exports and the tests; stream large ones to a file)."""
    buffer = io.BytesIO()
    write_xlsx(compiled, rows, buffer, **options)  # type: ignore[arg-type]
    return buffer.getvalue()


def _cell(sheet: WriteOnlyWorksheet, value: object) -> Cell | int | float | None:
    kind = value.__class__
    if value is None or kind is int or kind is float:
        return value
    if kind is str:
        return _text_cell(sheet, neutralise(value))  # type: ignore[arg-type]
    if isinstance(value, dt.datetime):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = DATETIME_FORMAT
        return cell
    if isinstance(value, dt.date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = DATE_FORMAT
        return cell
    return _text_cell(sheet, neutralise(str(value)))


def _text_cell(sheet: WriteOnlyWorksheet, text: str) -> Cell:
    """A cell that holds ``text`` as a string whatever it looks like (never 'f' or 'e')."""
    text = ILLEGAL_CHARACTERS_RE.sub("\ufffd", text)[:MAX_CELL_TEXT]
    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"
    return cell


def _width(column: Column) -> float:
    if column.kind == "datetime":
        return 20
    if column.kind == "date":
        return 12
    if column.kind in ("number", "value"):
        return max(10, min(len(column.title), 18))
    return max(12, min(len(column.title) + 2, 40))


def _sheet_title(text: str) -> str:
    return text.translate(_SHEET_FORBIDDEN).strip("'")[:31] or "Sheet"
