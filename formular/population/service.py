"""The database side of the listed population: staging and applying imports, and finding a
cohort's recipients. No Flask here: the web pages and the command line both call this.

Applying an import is one transaction: new people are inserted and listings set in batches
(set-based statements, not one query per row), the record is marked applied and the event log
written — the caller commits, or rolls everything back. The confirmation is replay-safe: the
record goes from ``preview`` to ``applied`` with a conditional UPDATE, which exactly one
request can win.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.orm import Session

from formular.audit.service import log_event
from formular.sendouts import recipients
from formular.storage.base import utcnow
from formular.storage.identity import Citizen, Unit
from formular.storage.population import PopulationImport

from . import cohort
from .checks import CitizenFacts, RowVerdict, UnitRef, check_rows, summarize
from .csv_import import InputRow, read_population_csv

__all__ = ["ImportOutcome", "apply_import", "cohort_verdicts", "expire_stale", "stage_import"]

#: Numbers per IN (…) list: below SQLite's old 999-parameter limit.
CHUNK = 900
#: Rows per insert or update statement.
BATCH = 5000
#: A preview not confirmed within this time must be uploaded again.
PREVIEW_LIFETIME = dt.timedelta(hours=24)
#: Problems kept for the preview page (the counts cover them all).
MAX_REPORTED = 1000
CITIZEN_TABLE = cast(Table, Citizen.__table__)


def unit_refs(session: Session) -> list[UnitRef]:
    return [UnitRef(u.id, u.slug, u.name, u.kind)
            for u in session.scalars(select(Unit).order_by(Unit.id))]


def citizen_facts(session: Session, numbers: Sequence[str]) -> dict[str, CitizenFacts]:
    """The registered people among ``numbers``, looked up in chunks."""
    found: dict[str, CitizenFacts] = {}
    for start in range(0, len(numbers), CHUNK):
        query = select(Citizen.id, Citizen.personnummer, Citizen.name, Citizen.email,
                       Citizen.deceased, Citizen.protected_identity, Citizen.locked,
                       Citizen.listed_unit_id).where(
            Citizen.personnummer.in_(numbers[start:start + CHUNK]))
        for row in session.execute(query):
            found[row.personnummer] = CitizenFacts(
                row.id, row.name, row.email, bool(row.deceased), bool(row.protected_identity),
                bool(row.locked), row.listed_unit_id)
    return found


def check(session: Session, rows: Iterable[InputRow], allowed_unit_ids: Iterable[int],
          today: dt.date) -> list[RowVerdict]:
    return check_rows(rows, unit_refs(session), allowed_unit_ids,
                      lambda numbers: citizen_facts(session, numbers), today)


def _row_to_json(row: InputRow) -> list[Any]:
    return [row.line, row.personnummer, row.name, row.unit, row.email, row.fields,
            row.expected_fields]


def _row_from_json(values: list[Any]) -> InputRow:
    line, number, name, unit, email, fields, expected = values
    return InputRow(int(line), str(number), str(name), str(unit), str(email), int(fields),
                    int(expected))


def report(verdicts: Iterable[RowVerdict], limit: int = MAX_REPORTED) -> list[dict[str, Any]]:
    """The rows with errors or warnings, as the preview page lists them (the file's own text,
    cut short: it is shown back only to the person who uploaded it)."""
    rows = []
    for verdict in verdicts:
        if not verdict.problems:
            continue
        rows.append({"line": verdict.row.line, "personnummer": verdict.row.personnummer[:20],
                     "name": verdict.row.name[:80], "status": verdict.status,
                     "action": verdict.action,
                     "problems": [[p.severity, p.code, p.other_line] for p in verdict.problems]})
        if len(rows) >= limit:
            break
    return rows


def stage_import(session: Session, *, data: bytes, filename: str, staff_user_id: int | None,
                 allowed_unit_ids: Iterable[int], today: dt.date) -> PopulationImport:
    """Read and check a file, and keep it waiting for confirmation.

    Raises :class:`~formular.population.csv_import.FileProblem` for a file that cannot be
    read; then nothing is stored.
    """
    parsed = read_population_csv(data)
    allowed = sorted(set(allowed_unit_ids))
    verdicts = check(session, parsed.rows, allowed, today)
    counts = summarize(verdicts)
    record = PopulationImport(
        created_by_id=staff_user_id, status="preview", filename=filename[:255],
        digest=hashlib.sha256(data).hexdigest(),
        unit_ids=sorted({int(unit) for unit in cast(dict[str, Any], counts["units"])}),
        counts=counts,
        staged={"rows": [_row_to_json(row) for row in parsed.rows],
                "report": report(verdicts), "allowed": allowed})
    session.add(record)
    session.flush()
    return record


@dataclass(frozen=True)
class ImportOutcome:
    """What a confirmation did: ``applied`` False when the import was already applied (or
    expired) — a replay that changed nothing."""

    applied: bool
    counts: Mapping[str, Any]


def apply_import(session: Session, record: PopulationImport, *, digest: str,
                 allowed_unit_ids: Iterable[int], today: dt.date, actor_kind: str = "staff",
                 actor_id: int | None = None, now: dt.datetime | None = None) -> ImportOutcome:
    """Apply a staged import once. The rows are checked again against the database as it is
    now (someone may have been registered, or the importer's roles changed, since the
    preview). The caller commits; on any error it rolls back and the preview stays."""
    if digest != record.digest:
        raise ValueError("the confirmation names another file")
    now = now or utcnow()
    result = session.execute(
        update(PopulationImport)
        .where(PopulationImport.id == record.id, PopulationImport.status == "preview")
        .values(status="applied", applied_at=now)
        .execution_options(synchronize_session=False))
    if not getattr(result, "rowcount", 0):
        session.refresh(record)
        return ImportOutcome(False, dict(record.counts or {}))
    session.refresh(record)
    rows = [_row_from_json(values) for values in (record.staged or {}).get("rows", [])]
    allowed = set(allowed_unit_ids) & set((record.staged or {}).get("allowed", []))
    verdicts = check(session, rows, allowed, today)
    _write(session, verdicts, now)
    counts = summarize(verdicts)
    record.counts = counts
    record.unit_ids = sorted(int(unit) for unit in cast(dict[str, Any], counts["units"]))
    record.staged = {}
    session.flush()
    for unit_id, per_unit in cast(dict[str, dict[str, int]], counts["units"]).items():
        log_event(session, actor_kind=actor_kind, actor_id=actor_id,
                  event="population.imported", unit_id=int(unit_id),
                  object_type="population_import", object_id=record.id,
                  data={**per_unit, "digest": record.digest, "rows": counts["rows"],
                        "errors": counts["error"]})
    return ImportOutcome(True, counts)


def _write(session: Session, verdicts: Sequence[RowVerdict], now: dt.datetime) -> None:
    """Insert the new people and set everyone's listing, batch by batch."""
    new = [{"personnummer": v.personnummer, "name": v.name, "email": v.email,
            "listed_unit_id": v.unit_id, "protected_identity": False, "deceased": False,
            "locked": False, "created_at": now}
           for v in verdicts if v.action == "create"]
    for start in range(0, len(new), BATCH):
        session.execute(insert(CITIZEN_TABLE), new[start:start + BATCH])
    moved = [{"id": v.existing.id, "listed_unit_id": v.unit_id}
             for v in verdicts if v.action == "list" and v.existing is not None]
    for start in range(0, len(moved), BATCH):
        session.execute(update(Citizen), moved[start:start + BATCH])
    # An e-mail from the file only where none is registered, never for protected identities.
    emails = [{"id": v.existing.id, "email": v.email}
              for v in verdicts if v.action in ("list", "unchanged") and v.existing is not None
              and v.email and not v.existing.email and not v.existing.protected]
    for start in range(0, len(emails), BATCH):
        session.execute(update(Citizen), emails[start:start + BATCH])
    session.flush()


def expire_stale(session: Session, now: dt.datetime | None = None) -> int:
    """Previews older than :data:`PREVIEW_LIFETIME` lose their staged rows (personal data
    that was never confirmed); returns how many."""
    cutoff = (now or utcnow()) - PREVIEW_LIFETIME
    result = session.execute(
        update(PopulationImport)
        .where(PopulationImport.status == "preview", PopulationImport.created_at < cutoff)
        .values(status="expired", staged={})
        .execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


def cohort_numbers(session: Session, unit_id: int, born: int) -> list[str]:
    """The numbers of everyone listed at ``unit_id`` born in ``born``, in number order."""
    low, high = cohort.number_range(born)
    numbers = session.scalars(select(Citizen.personnummer).where(
        Citizen.listed_unit_id == unit_id, Citizen.personnummer >= low,
        Citizen.personnummer < high).order_by(Citizen.personnummer)).all()
    return [number for number in numbers if cohort.born_in(number, born)]


def cohort_verdicts(session: Session, unit_id: int, year: int, age: int, today: dt.date,
                    age_min: int | None = None, age_max: int | None = None
                    ) -> list[recipients.RowVerdict]:
    """The cohort judged exactly as the send-out wizard judges a pasted list (deceased and
    locked left out, protected identity to the inbox only, children to their guardians, the
    form's age limits)."""
    numbers = cohort_numbers(session, unit_id, cohort.birth_year(year, age))
    rows = [recipients.RawRow(index + 1, number) for index, number in enumerate(numbers)]
    return recipients.check_rows(session, rows, today, age_min, age_max)
