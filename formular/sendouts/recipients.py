"""Reading and checking recipient lists: one number, a pasted list, or a CSV upload.

Every row gets a verdict with a reason the sender can act on; nothing is sent to a row that
fails. Children under 13 are answered for by their guardians; from 13 the child answers with
their own log-in. Age is checked here for the preview only — it is computed again when the
form is opened, because a child may turn 13 between sending and answering.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from formular.definitions.personnummer import IdentityNumber, InvalidIdentityNumber
from formular.storage.identity import Citizen, Guardianship

#: Children younger than this are answered for by their guardians.
GUARDIAN_AGE = 13
#: A pasted list or upload longer than this is refused (bulk imports use the CLI or a job).
MAX_ROWS = 200_000
_SPLIT = re.compile(r"[\s,;]+")
_HEADER_WORDS = {"personnummer", "pnr", "personal identity number", "samordningsnummer", "id"}


@dataclass(frozen=True)
class RawRow:
    number: int
    text: str


@dataclass
class RowVerdict:
    """The check of one input row."""

    row: RawRow
    #: "ok", "warning" (sent, with a note) or "error" (not sent)
    status: str
    #: A reason key: invalid-format, invalid-checksum, invalid-date, unknown, duplicate,
    #: deceased, locked, protected, guardians, no-guardian, too-young, too-old
    reason: str | None = None
    citizen_id: int | None = None
    personnummer: str | None = None
    guardian_ids: list[int] = field(default_factory=list)


def rows_from_text(text: str) -> list[RawRow]:
    """Numbers separated by new lines, commas, semicolons or spaces (a pasted column).

    A separator between birth date and serial ("19121212-1212") is kept; whitespace and commas
    split entries.
    """
    parts = [p for p in _SPLIT.split(text.strip()) if p]
    return [RawRow(index + 1, part) for index, part in enumerate(parts[:MAX_ROWS + 1])]


def rows_from_csv(data: bytes) -> list[RawRow]:
    """The personnummer column of a CSV file (header optional; ; or , separated; UTF-8 with
    or without BOM, or Windows-1252 as Excel writes it)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    sample = text[:4096]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    rows: list[RawRow] = []
    column = 0
    for line_number, record in enumerate(reader, start=1):
        if not record or not any(cell.strip() for cell in record):
            continue
        if line_number == 1:
            lowered = [cell.strip().lower() for cell in record]
            header = [i for i, cell in enumerate(lowered) if cell in _HEADER_WORDS]
            if header:
                column = header[0]
                continue
        cell = record[column].strip() if column < len(record) else ""
        rows.append(RawRow(line_number, cell))
        if len(rows) > MAX_ROWS:
            break
    return rows


def _chunks(items: list[str], size: int = 900) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def check_rows(
    session: Session,
    rows: Iterable[RawRow],
    today: dt.date,
    age_min: int | None = None,
    age_max: int | None = None,
) -> list[RowVerdict]:
    """A verdict per row, looking citizens up in batches (no query per row)."""
    verdicts: list[RowVerdict] = []
    parsed: dict[int, IdentityNumber] = {}
    for row in rows:
        verdict = RowVerdict(row, "ok")
        try:
            number = IdentityNumber.parse(row.text, today=today)
        except InvalidIdentityNumber as error:
            verdict.status, verdict.reason = "error", f"invalid-{error.code}"
        else:
            verdict.personnummer = number.canonical
            parsed[row.number] = number
        verdicts.append(verdict)
    numbers = sorted({n.canonical for n in parsed.values()})
    citizens: dict[str, Citizen] = {}
    for chunk in _chunks(numbers):
        for citizen in session.scalars(select(Citizen).where(Citizen.personnummer.in_(chunk))):
            citizens[citizen.personnummer] = citizen
    guardians: dict[int, list[int]] = {}
    child_ids = [c.id for c in citizens.values()
                 if c.identity.age_on(today) < GUARDIAN_AGE]
    for start in range(0, len(child_ids), 900):
        query = select(Guardianship).where(Guardianship.child_id.in_(child_ids[start:start + 900]))
        for link in session.scalars(query):
            guardians.setdefault(link.child_id, []).append(link.guardian_id)
    seen: set[str] = set()
    for verdict in verdicts:
        if verdict.status == "error" or verdict.personnummer is None:
            continue
        _judge(verdict, citizens.get(verdict.personnummer), parsed[verdict.row.number], seen,
               guardians, today, age_min, age_max)
    return verdicts


def _judge(verdict: RowVerdict, citizen: Citizen | None, number: IdentityNumber,
           seen: set[str], guardians: dict[int, list[int]], today: dt.date,
           age_min: int | None, age_max: int | None) -> None:
    if number.canonical in seen:
        verdict.status, verdict.reason = "error", "duplicate"
        return
    seen.add(number.canonical)
    if citizen is None:
        verdict.status, verdict.reason = "error", "unknown"
        return
    verdict.citizen_id = citizen.id
    age = number.age_on(today)
    if citizen.deceased:
        verdict.status, verdict.reason = "error", "deceased"
    elif citizen.locked:
        verdict.status, verdict.reason = "error", "locked"
    elif age_min is not None and age < age_min:
        verdict.status, verdict.reason = "error", "too-young"
    elif age_max is not None and age > age_max:
        verdict.status, verdict.reason = "error", "too-old"
    elif age < GUARDIAN_AGE:
        verdict.guardian_ids = sorted(guardians.get(citizen.id, []))
        if verdict.guardian_ids:
            verdict.status, verdict.reason = "warning", "guardians"
        else:
            verdict.status, verdict.reason = "error", "no-guardian"
    elif citizen.protected_identity:
        # Sent, but notified only in the 1177 inbox: no e-mail that could reveal an address.
        verdict.status, verdict.reason = "warning", "protected"


def summary(verdicts: list[RowVerdict]) -> dict[str, int]:
    counts = {"ok": 0, "warning": 0, "error": 0}
    for verdict in verdicts:
        counts[verdict.status] += 1
    return counts
