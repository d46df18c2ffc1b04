"""Demo content: a listed population at the demo clinic, imported the way staff import one.

Fifteen fictional people, six of them born in 1976 (they turn 50 in 2026, the health check's
cohort, which also holds the other demo people born in 1976 and listed at Vårdcentralen Norr),
including the first and last day of the year and a samordningsnummer, and
neighbours born 31 December 1975 and 1 January 1977 who must not be invited. Some have no
e-mail address, so the invitation letters have someone to print for.

Numbers come from the test series the other demo content uses (birth number 23x with a
computed check digit); the dates differ from every other demo person, and a number that
exists already is left alone. The list goes through the real import (a CSV file, checked and
applied), so the import page shows it in its history.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from formular.auth.clock import swedish_today
from formular.definitions.personnummer import COORDINATION_DAY_OFFSET, luhn_check_digit
from formular.storage.base import utcnow
from formular.storage.identity import Citizen, Unit

from . import service

#: name, birth date, sex digit (even: female), e-mail, samordningsnummer
LISTED: list[tuple[str, dt.date, int, str | None, bool]] = [
    ("Annika Lund", dt.date(1976, 1, 1), 2, "annika.lund@example.org", False),
    ("Björn Holmgren", dt.date(1976, 12, 31), 1, None, False),
    ("Cecilia Strand", dt.date(1976, 5, 19), 4, "cecilia.strand@example.org", False),
    ("David Öst", dt.date(1976, 10, 7), 3, None, False),
    ("Elif Demir", dt.date(1976, 2, 27), 6, None, True),
    ("Fredrik Sjöberg", dt.date(1976, 7, 23), 5, "fredrik.sjoberg@example.org", False),
    ("Gunilla Åberg", dt.date(1975, 12, 31), 8, "gunilla.aberg@example.org", False),
    ("Hassan Ali", dt.date(1977, 1, 1), 7, None, False),
    ("Ingrid Berglund", dt.date(1950, 4, 12), 2, "ingrid.berglund@example.org", False),
    ("Johan Ekström", dt.date(1983, 9, 3), 9, "johan.ekstrom@example.org", False),
    ("Karin Nyström", dt.date(1966, 11, 15), 4, None, False),
    ("Lars Forsberg", dt.date(1990, 3, 8), 1, "lars.forsberg@example.org", False),
    ("Maja Lindqvist", dt.date(2001, 6, 30), 6, "maja.lindqvist@example.org", False),
    ("Nils Wikström", dt.date(1958, 8, 21), 3, None, False),
    ("Olivia Hedlund", dt.date(1995, 1, 17), 8, "olivia.hedlund@example.org", False),
]


def listed_number(birth: dt.date, sex_digit: int, coordination: bool = False) -> str:
    """A test-series number: YYYYMMDD (day + 60 for a samordningsnummer) + 23 + digit + check."""
    day = birth.day + (COORDINATION_DAY_OFFSET if coordination else 0)
    short = f"{birth:%y%m}{day:02d}23{sex_digit}"
    return f"{birth:%Y%m}{day:02d}23{sex_digit}{luhn_check_digit(short)}"


def listing_csv(unit: Unit, people: list[tuple[str, dt.date, int, str | None, bool]]) -> bytes:
    """The list as a clinic would export it: UTF-8 with BOM, semicolons, Swedish headers."""
    lines = ["personnummer;namn;listningsenhet;e-post"]
    for name, birth, digit, email, coordination in people:
        number = listed_number(birth, digit, coordination)
        lines.append(f"{number[:8]}-{number[8:]};{name};{unit.slug};{email or ''}")
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


def seed_listed_population(session: Session, clinic: Unit) -> int:
    """Import the demo's listed population at ``clinic``; returns how many were listed."""
    taken = set(session.scalars(select(Citizen.personnummer).where(Citizen.personnummer.in_(
        [listed_number(b, d, c) for _n, b, d, _e, c in LISTED]))))
    people = [p for p in LISTED if listed_number(p[1], p[2], p[4]) not in taken]
    if not people:
        return 0
    today = swedish_today(utcnow())
    record = service.stage_import(session, data=listing_csv(clinic, people),
                                  filename="demo-listning.csv", staff_user_id=None,
                                  allowed_unit_ids=[clinic.id], today=today)
    outcome = service.apply_import(session, record, digest=record.digest,
                                   allowed_unit_ids=[clinic.id], today=today,
                                   actor_kind="system")
    session.flush()
    return int(outcome.counts.get("import", 0))
