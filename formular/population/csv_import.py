"""Reading a clinic's listed population from a CSV file (pure: bytes in, rows out).

The file comes from the patient-administration system or a spreadsheet, so the reader is
forgiving where that costs nothing and strict where a guess could list the wrong person:

* UTF-8, with or without a byte-order mark (Excel's "CSV UTF-8"). Anything else — typically
  Windows-1252 from an older Excel — is refused with a clear message rather than guessed,
  because a mis-decoded name would be stored for good.
* ``;`` or ``,`` between fields, decided from the header line (Swedish Excel writes ``;``).
* A header row is required; its columns are recognised in Swedish or English, in any order,
  and other columns (address, phone…) are ignored: personnummer, name (namn), listing unit
  (listningsenhet) and, optionally, e-mail (e-post).
* Blank lines are skipped; quoted fields may hold the separator, quotes and line breaks.
* Limits: :data:`MAX_BYTES` and :data:`MAX_ROWS`.

Problems with the file as a whole raise :class:`FileProblem` (nothing is imported); problems of
single rows are judged later, row by row (:mod:`.checks`).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

__all__ = ["COLUMNS", "MAX_BYTES", "MAX_ROWS", "FileProblem", "InputRow", "ParsedFile",
           "read_population_csv"]

#: The largest file accepted (bytes) and the most data rows.
MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 200_000

#: Column key → the header names it is recognised by (compared after :func:`_header_key`).
COLUMNS: dict[str, frozenset[str]] = {
    "personnummer": frozenset({
        "personnummer", "pnr", "personnr", "personalidentitynumber", "identitynumber",
        "samordningsnummer", "personnummersamordningsnummer", "personnummerellersamordningsnummer",
    }),
    "name": frozenset({"name", "namn", "fullname", "fulltnamn", "fullständigtnamn"}),
    "unit": frozenset({
        "listingunit", "listningsenhet", "listadvid", "listedat", "unit", "enhet",
        "listningsenhetkod", "unitcode", "enhetskod", "vårdcentral",
    }),
    "email": frozenset({"email", "emailaddress", "epost", "epostadress", "mail"}),
}
REQUIRED = ("personnummer", "name", "unit")
DELIMITERS = (";", ",")


class FileProblem(Exception):
    """The file cannot be read at all; :attr:`code` says why (the page words it).

    Codes: ``empty``, ``too-large``, ``encoding``, ``binary``, ``malformed`` (with
    :attr:`line`), ``missing-columns`` and ``duplicate-columns`` (with :attr:`columns`),
    ``too-many-rows``, ``no-rows``.
    """

    def __init__(self, code: str, *, columns: tuple[str, ...] = (), line: int | None = None
                 ) -> None:
        self.code = code
        self.columns = columns
        self.line = line
        super().__init__(code)


@dataclass(frozen=True)
class InputRow:
    """One data row as written in the file (cells stripped of surrounding white space)."""

    #: The file's line number where the row starts (the header is line 1).
    line: int
    personnummer: str
    name: str
    unit: str
    email: str
    #: How many fields the row has, and how many the header has.
    fields: int
    expected_fields: int


@dataclass(frozen=True)
class ParsedFile:
    rows: list[InputRow]
    delimiter: str
    has_email: bool


def _header_key(cell: str) -> str:
    """``"Listning-enhet "`` → ``"listningenhet"``: lower case, letters and digits only."""
    return "".join(ch for ch in cell.strip().lstrip("\ufeff").lower() if ch.isalnum())


def _columns(header: list[str]) -> tuple[dict[str, int], tuple[str, ...]]:
    """Column key → index, and keys that appear more than once."""
    found: dict[str, int] = {}
    twice: list[str] = []
    for index, cell in enumerate(header):
        key = _header_key(cell)
        for column, names in COLUMNS.items():
            if key in names:
                if column in found:
                    twice.append(column)
                else:
                    found[column] = index
    return found, tuple(twice)


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 ("Unicode text" in Excel)
        raise FileProblem("encoding")
    if b"\x00" in data:
        raise FileProblem("binary")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileProblem("encoding") from None


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line
    raise FileProblem("empty")


def _choose_delimiter(header_line: str) -> str:
    """The separator under which the header names the most required columns (ties: the one
    that splits the header into more fields)."""
    def score(delimiter: str) -> tuple[int, int]:
        cells = next(csv.reader([header_line], delimiter=delimiter), [])
        found, _twice = _columns(cells)
        return sum(1 for key in REQUIRED if key in found), len(cells)

    return max(DELIMITERS, key=score)


def _cell(record: list[str], columns: dict[str, int], key: str) -> str:
    index = columns.get(key)
    return record[index].strip() if index is not None and index < len(record) else ""


def read_population_csv(data: bytes, *, max_bytes: int | None = None,
                        max_rows: int | None = None) -> ParsedFile:
    """The rows of a listed-population file; raises :class:`FileProblem`. The limits
    default to :data:`MAX_BYTES` and :data:`MAX_ROWS`."""
    max_bytes = MAX_BYTES if max_bytes is None else max_bytes
    max_rows = MAX_ROWS if max_rows is None else max_rows
    if not data.strip():
        raise FileProblem("empty")
    if len(data) > max_bytes:
        raise FileProblem("too-large")
    text = _decode(data)
    delimiter = _choose_delimiter(_first_line(text))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    header: list[str] | None = None
    found: dict[str, int] = {}
    rows: list[InputRow] = []
    end_of_previous = 0
    try:
        for record in reader:
            start, end_of_previous = end_of_previous + 1, reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if header is None:
                header = record
                found, twice = _columns(header)
                if twice:
                    raise FileProblem("duplicate-columns", columns=twice)
                missing = tuple(key for key in REQUIRED if key not in found)
                if missing:
                    raise FileProblem("missing-columns", columns=missing)
                continue
            if len(rows) >= max_rows:
                raise FileProblem("too-many-rows")

            rows.append(InputRow(start, _cell(record, found, "personnummer"),
                                 _cell(record, found, "name"), _cell(record, found, "unit"),
                                 _cell(record, found, "email"), len(record), len(header)))
    except csv.Error:
        raise FileProblem("malformed", line=reader.line_num) from None
    if not rows:
        raise FileProblem("no-rows")
    return ParsedFile(rows, delimiter, "email" in found)
