"""The public face of the exports; other packages import from here only.

* :func:`columns` and :func:`stream_csv`: submissions of one definition version as CSV, streamed;
* :func:`write_xlsx` and :func:`xlsx_bytes`: the same table as an Excel workbook;
* :func:`submission_pdf`: one submission as a PDF (case file or the citizen's copy).

All take the compiled definition and plain :class:`ExportRow` values: no Flask, no database.
fpdf2 (with Pillow and fontTools, about 30 MB) is loaded on the first PDF, not on import, so a
process that only streams CSV stays small.
"""

from __future__ import annotations

from formular.definitions.service import CompiledDefinition

from .csv_export import BOM, stream_csv
from .excel_export import write_xlsx, xlsx_bytes
from .fonts import FontFiles, find_fonts
from .table import (
    FORMULA_TRIGGERS,
    Audience,
    Cell,
    Column,
    ExportRow,
    columns,
    local_time,
    neutralise,
)

__all__ = [
    "BOM", "FORMULA_TRIGGERS", "Cell", "Column", "ExportRow", "FontFiles", "columns",
    "find_fonts", "local_time", "neutralise", "stream_csv", "submission_pdf", "write_xlsx",
    "xlsx_bytes",
]


def submission_pdf(
    compiled: CompiledDefinition,
    row: ExportRow,
    language: str | None = None,
    *,
    audience: Audience = "staff",
    compress: bool = True,
    fonts: FontFiles | None = None,
) -> bytes:
    """The PDF of one submission: see :func:`.pdf_export.submission_pdf`."""
    from .pdf_export import submission_pdf as make

    return make(compiled, row, language, audience=audience, compress=compress, fonts=fonts)
