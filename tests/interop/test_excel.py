"""Excel export, read back with openpyxl: types, layout and formula injection (never a formula
cell, security brief test #19)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from formular.definitions.service import CompiledDefinition
from formular.interop.service import ExportRow, columns, write_xlsx, xlsx_bytes

from .conftest import PHQ9_MODERATE, SHOWCASE_FULL, SUMMER, submission
from .test_csv import PAYLOADS


def sheet_of(data: bytes) -> Worksheet:
    workbook = load_workbook(io.BytesIO(data))
    sheet = workbook.active
    assert isinstance(sheet, Worksheet)
    return sheet


def by_key(compiled: CompiledDefinition, sheet: Worksheet, line: int = 2) -> dict[str, Any]:
    keys = [column.key for column in columns(compiled)]
    cells = next(sheet.iter_rows(min_row=line, max_row=line))
    return {key: cell for key, cell in zip(keys, cells, strict=False)}


def test_header_is_bold_frozen_and_filtered(phq9: CompiledDefinition) -> None:
    sheet = sheet_of(xlsx_bytes(phq9, [submission(phq9, PHQ9_MODERATE)]))
    assert sheet.title == "Svar"
    assert sheet.freeze_panes == "A2"
    header = next(sheet.iter_rows(min_row=1, max_row=1))
    assert [cell.value for cell in header[:3]] == ["Personnummer", "Namn", "Kvittensnummer"]
    assert all(cell.font.b for cell in header)
    assert sheet.auto_filter.ref is not None
    assert sheet.auto_filter.ref.startswith("A1:")
    assert sheet.max_column == len(columns(phq9))


def test_numbers_are_numbers_and_dates_are_dates(showcase: CompiledDefinition) -> None:
    row = submission(showcase, SHOWCASE_FULL, submitted_at=SUMMER)
    cells = by_key(showcase, sheet_of(xlsx_bytes(showcase, [row])))
    assert cells["submission.submitted_at"].value == dt.datetime(2025, 7, 2, 0, 15)
    assert cells["submission.submitted_at"].is_date
    assert cells["birth_date"].value == dt.datetime(1970, 5, 5)
    assert cells["birth_date"].number_format == "yyyy-mm-dd"
    assert cells["weight"].value == 72.5
    assert cells["weight"].data_type == "n"
    assert cells["height"].value == 180
    assert cells["height"].data_type == "n"
    assert cells["bmi"].value == 22.4
    assert cells["stress_1"].value == "Stämmer helt"
    assert cells["stress_1.code"].value == 5
    assert cells["stress_1.code"].data_type == "n"
    assert cells["smoking.code"].value == "former"
    assert cells["has_medication"].value == "Ja"
    assert cells["medications[2].dose_mg"].value == 0.1
    assert cells["medications[3].drug"].value is None
    assert cells["citizen.personnummer"].value == "19121212-1212"
    assert cells["citizen.personnummer"].data_type == "s"
    assert cells["phone"].value == "070-123 45 67"
    assert cells["score.stress"].value == 14
    assert cells["score.stress.band"].value == "Hög stress"


def test_injected_formulas_are_stored_as_text(showcase: CompiledDefinition) -> None:
    rows = []
    for payload in PAYLOADS + ["#N/A", "#DIV/0!"]:
        row = submission(showcase, dict(SHOWCASE_FULL, other=payload))
        rows.append(dataclasses.replace(row, name=payload, status=payload))
    sheet = sheet_of(xlsx_bytes(showcase, rows))
    for cells in sheet.iter_rows():
        for cell in cells:
            assert cell.data_type in ("s", "n", "d"), (cell.coordinate, cell.value)
    for line, payload in enumerate(PAYLOADS, start=2):
        cells = by_key(showcase, sheet, line)
        # XML cannot carry NUL; XML parsers read a bare CR as LF.
        printable = payload.replace("\0", "\ufffd").replace("\r", "\n")
        for key in ("other", "citizen.name", "submission.status"):
            assert cells[key].value == "'" + printable, (key, payload)
            assert cells[key].data_type == "s"
    error_like = by_key(showcase, sheet, len(PAYLOADS) + 2)["other"]
    assert error_like.value == "#N/A"
    assert error_like.data_type == "s"


def test_control_characters_do_not_break_the_export(phq9: CompiledDefinition) -> None:
    row = ExportRow(personnummer=None, name="A\x01B\x1fC\tD", receipt="R", submitted_at=None)
    cells = by_key(phq9, sheet_of(xlsx_bytes(phq9, [row])))
    assert cells["citizen.name"].value == "A\ufffdB\ufffdC\tD"


def test_written_to_a_file_object_with_many_rows(phq9: CompiledDefinition,
                                                 tmp_path: Any) -> None:
    template = submission(phq9, PHQ9_MODERATE)
    rows = (dataclasses.replace(template, receipt=f"R-{n}") for n in range(500))
    path = tmp_path / "export.xlsx"
    with path.open("wb") as target:
        write_xlsx(phq9, rows, target, language="en")
    sheet = sheet_of(path.read_bytes())
    assert sheet.title == "Answers"
    assert sheet.max_row == 501
    assert sheet.cell(row=501, column=3).value == "R-499"


@pytest.mark.parametrize("header", ["label", "key"])
def test_header_kinds(phq9: CompiledDefinition, header: str) -> None:
    sheet = sheet_of(xlsx_bytes(phq9, [], header=header))
    first = sheet.cell(row=1, column=7).value
    assert first == ("phq1" if header == "key"
                     else "1. Lite intresse eller glädje i att göra saker")


def test_a_choice_of_columns(phq9: CompiledDefinition) -> None:
    by_key = {column.key: column for column in columns(phq9)}
    picked = [by_key[key] for key in ("score.phq-9", "submission.submitted_at", "phq1.code")]
    sheet = sheet_of(xlsx_bytes(phq9, [submission(phq9, PHQ9_MODERATE)], cols=picked))
    line = [cell.value for cell in next(sheet.iter_rows(min_row=2, max_row=2))]
    assert line == [11, dt.datetime(2025, 1, 15, 9, 30, 5), 2]
