"""Judging each row of a listed-population file (pure: rows and facts in, verdicts out).

Every row gets a verdict: **error** (the row is not imported), **warning** (imported, with a
note the importer should read) or ok, and the action an import would take (create the person,
list them here, nothing to change, or skip a repeated row). The line between error and warning:

Errors — the row is left out, because importing it could list the wrong person or a wrong name:
  * the personnummer/samordningsnummer is missing, malformed, has a wrong check digit or a
    date that does not exist (or lies in the future);
  * the name is missing, longer than 200 characters, or has no letters / control characters;
  * the listing unit is missing, unknown, ambiguous (two units share that name), a region
    rather than a clinic, or a unit where the importer may not import;
  * the row has more or fewer fields than the header (a stray separator shifts the columns);
  * the same number appears on several rows *with different details* (every such row);
  * the person is registered as deceased.

Warnings — the row is imported, with a note:
  * the same number appears again with the same details (imported once);
  * the e-mail address is not valid (the person is listed without it);
  * protected identity (skyddad identitet): listed, but no name or e-mail from the file is
    stored — the registered ones are kept, and no contact details are added;
  * the account is locked (listed, but cohort send-outs will leave them out);
  * already registered under another name (the registered name is kept: it came from the
    person's own e-legitimation log-in or an earlier import);
  * listed at another unit until now (the listing moves here).

An existing person's name is never overwritten by the file, and their e-mail only filled in
where none is registered.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from formular.definitions.personnummer import IdentityNumber, InvalidIdentityNumber

from .csv_import import InputRow

__all__ = ["CitizenFacts", "Problem", "RowVerdict", "UnitRef", "check_rows", "summarize"]

MAX_NAME = 200
MAX_EMAIL = 200
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True)
class UnitRef:
    """What identifies a unit in the file: its code (slug) or its name."""

    id: int
    slug: str
    name: str
    kind: str = "clinic"


@dataclass(frozen=True)
class CitizenFacts:
    """What the checks need to know of a person already registered."""

    id: int
    name: str
    email: str | None
    deceased: bool
    protected: bool
    locked: bool
    listed_unit_id: int | None


@dataclass(frozen=True)
class Problem:
    #: "error" or "warning"
    severity: str
    #: See the module docstring; the page words each code.
    code: str
    #: The line of the other row, for duplicates.
    other_line: int | None = None


@dataclass
class RowVerdict:
    row: InputRow
    problems: list[Problem] = field(default_factory=list)
    #: Canonical 12-digit number, when it is valid.
    personnummer: str | None = None
    unit_id: int | None = None
    #: The name and e-mail the row would store for a new person.
    name: str = ""
    email: str | None = None
    existing: CitizenFacts | None = None
    #: create, list (newly listed here), unchanged (already listed here), skip (a repeat);
    #: None for an error.
    action: str | None = None

    @property
    def status(self) -> str:
        severities = {problem.severity for problem in self.problems}
        return "error" if "error" in severities else "warning" if severities else "ok"

    def add(self, severity: str, code: str, other_line: int | None = None) -> None:
        self.problems.append(Problem(severity, code, other_line))


def clean_name(text: str) -> str:
    """Runs of white space inside a name become one space."""
    return " ".join(text.split())


def _name_key(text: str) -> str:
    return unicodedata.normalize("NFC", clean_name(text)).casefold()


def _sane_name(name: str) -> bool:
    return any(ch.isalpha() for ch in name) and not any(
        unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co") for ch in name)


def _unit_key(text: str) -> str:
    return " ".join(text.split()).casefold()


class UnitDirectory:
    """Units by code and by name (case and spacing ignored); a code wins over a name."""

    def __init__(self, units: Iterable[UnitRef]) -> None:
        self.by_slug: dict[str, UnitRef] = {}
        self.by_name: dict[str, list[UnitRef]] = {}
        for unit in units:
            self.by_slug[_unit_key(unit.slug)] = unit
            self.by_name.setdefault(_unit_key(unit.name), []).append(unit)

    def find(self, text: str) -> tuple[UnitRef | None, str | None]:
        """The unit a cell names, or the error code why none."""
        key = _unit_key(text)
        if not key:
            return None, "unit-missing"
        if key in self.by_slug:
            return self.by_slug[key], None
        named = self.by_name.get(key, [])
        if len(named) > 1:
            return None, "unit-ambiguous"
        if not named:
            return None, "unit-unknown"
        return named[0], None


def _check_row(row: InputRow, units: UnitDirectory, allowed: frozenset[int],
               today: dt.date) -> RowVerdict:
    verdict = RowVerdict(row)
    if row.fields != row.expected_fields:
        verdict.add("error", "columns")
    if not row.personnummer:
        verdict.add("error", "pnr-missing")
    else:
        try:
            verdict.personnummer = IdentityNumber.parse(row.personnummer, today=today).canonical
        except InvalidIdentityNumber as error:
            verdict.add("error", f"pnr-{error.code}")
    name = clean_name(row.name)
    if not name:
        verdict.add("error", "name-missing")
    elif len(name) > MAX_NAME:
        verdict.add("error", "name-too-long")
    elif not _sane_name(name):
        verdict.add("error", "name-invalid")
    verdict.name = name
    unit, problem = units.find(row.unit)
    if problem is not None:
        verdict.add("error", problem)
    elif unit is not None and unit.kind == "region":
        verdict.add("error", "unit-not-clinic")
    elif unit is not None and unit.id not in allowed:
        verdict.add("error", "unit-not-allowed")
    elif unit is not None:
        verdict.unit_id = unit.id
    if row.email:
        if len(row.email) <= MAX_EMAIL and _EMAIL.fullmatch(row.email):
            verdict.email = row.email
        else:
            verdict.add("warning", "email-invalid")
    return verdict


def _duplicates(verdicts: Sequence[RowVerdict]) -> None:
    """Repeats of a number: identical ones are imported once, differing ones not at all."""
    by_number: dict[str, list[RowVerdict]] = {}
    for verdict in verdicts:
        if verdict.personnummer is not None:
            by_number.setdefault(verdict.personnummer, []).append(verdict)
    for group in by_number.values():
        if len(group) < 2:
            continue
        first = group[0]
        details = {(_name_key(v.row.name), _unit_key(v.row.unit), v.row.email.casefold())
                   for v in group}
        if len(details) == 1:
            for repeat in group[1:]:
                repeat.add("warning", "duplicate-same", first.row.line)
                repeat.action = "skip"
        else:
            for verdict in group:
                other = group[1] if verdict is first else first
                verdict.add("error", "duplicate-conflict", other.row.line)


def _judge_existing(verdict: RowVerdict, facts: CitizenFacts | None) -> None:
    if verdict.status == "error" or verdict.action == "skip":
        return
    if facts is None:
        verdict.action = "create"
        return
    verdict.existing = facts
    if facts.deceased:
        verdict.add("error", "deceased")
        return
    if facts.protected:
        verdict.add("warning", "protected")
    elif _name_key(facts.name) != _name_key(verdict.name):
        verdict.add("warning", "name-differs")
    if facts.locked:
        verdict.add("warning", "locked")
    if facts.listed_unit_id == verdict.unit_id:
        verdict.action = "unchanged"
        return
    if facts.listed_unit_id is not None:
        verdict.add("warning", "moves")
    verdict.action = "list"


def check_rows(
    rows: Iterable[InputRow],
    units: Iterable[UnitRef],
    allowed_unit_ids: Iterable[int],
    lookup: Callable[[list[str]], Mapping[str, CitizenFacts]],
    today: dt.date,
) -> list[RowVerdict]:
    """A verdict for every row. ``lookup`` gives the registered people among a list of
    canonical numbers (asked once, for all valid numbers)."""
    directory = UnitDirectory(units)
    allowed = frozenset(allowed_unit_ids)
    verdicts = [_check_row(row, directory, allowed, today) for row in rows]
    _duplicates(verdicts)
    numbers = sorted({v.personnummer for v in verdicts
                      if v.personnummer is not None and v.status != "error"})
    registered = lookup(numbers) if numbers else {}
    for verdict in verdicts:
        if verdict.personnummer is not None:
            _judge_existing(verdict, registered.get(verdict.personnummer))
        if verdict.status == "error":
            verdict.action = None
    return verdicts


def summarize(verdicts: Iterable[RowVerdict]) -> dict[str, object]:
    """Counts for the page and the record (no personal data): totals, and per listing unit
    how many would be listed there and how many of them are new to Formulär."""
    counts = {"rows": 0, "ok": 0, "warning": 0, "error": 0, "create": 0, "list": 0,
              "unchanged": 0, "skip": 0}
    per_unit: dict[str, dict[str, int]] = {}
    for verdict in verdicts:
        counts["rows"] += 1
        counts[verdict.status] += 1
        if verdict.action is not None:
            counts[verdict.action] += 1
        if verdict.action in ("create", "list", "unchanged") and verdict.unit_id is not None:
            unit = per_unit.setdefault(str(verdict.unit_id),
                                       {"listed": 0, "create": 0, "list": 0, "unchanged": 0})
            unit["listed"] += 1
            unit[verdict.action] += 1
    return {**counts, "import": counts["create"] + counts["list"] + counts["unchanged"],
            "units": per_unit}
