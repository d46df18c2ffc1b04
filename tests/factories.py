"""Factories for test data. Every person is fictional: personal identity numbers are made from a
date and the serials 238/239, the series Skatteverket publishes for testing."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from sqlalchemy.orm import Session

from formular.definitions.personnummer import luhn_check_digit
from formular.storage.identity import Citizen, Guardianship, Role, RoleAssignment, StaffUser, Unit

_counter = itertools.count(1)


def fake_personnummer(birth: dt.date, serial: int = 238, sex_digit: int | None = None) -> str:
    """A 12-digit test number: YYYYMMDD + serial (238/239) + sex digit + check digit."""
    digit = next(_counter) % 10 if sex_digit is None else sex_digit
    serial_part = f"{serial:03d}"[:2] + str(digit)
    short = birth.strftime("%y%m%d") + serial_part
    return birth.strftime("%Y%m%d") + serial_part + str(luhn_check_digit(short))


def unit(session: Session, slug: str | None = None, name: str | None = None,
         parent: Unit | None = None) -> Unit:
    number = next(_counter)
    row = Unit(slug=slug or f"unit-{number}", name=name or f"Vårdcentralen Test {number}",
               kind="clinic", parent_id=parent.id if parent else None)
    session.add(row)
    session.flush()
    return row


def staff(session: Session, roles: list[tuple[Unit, Role]], username: str | None = None,
          password: str | None = None) -> StaffUser:
    number = next(_counter)
    hashed = None
    if password is not None:
        from formular.auth.passwords import hash_password

        hashed = hash_password(password)
    user = StaffUser(username=username or f"staff{number}", display_name=f"Test Personal {number}",
                     email=f"staff{number}@example.org", password_hash=hashed)
    session.add(user)
    session.flush()
    for where, role in roles:
        session.add(RoleAssignment(user_id=user.id, unit_id=where.id, role=role))
    session.flush()
    return user


def citizen(session: Session, birth: dt.date | None = None, **values: Any) -> Citizen:
    birth = birth or dt.date(1975, 5, 5)
    number = next(_counter)
    row = Citizen(personnummer=values.pop("personnummer", None) or fake_personnummer(birth),
                  name=values.pop("name", f"Test Testsson {number}"),
                  email=values.pop("email", f"person{number}@example.org"), **values)
    session.add(row)
    session.flush()
    return row


def guardian_of(session: Session, guardian: Citizen, child: Citizen) -> None:
    session.add(Guardianship(guardian_id=guardian.id, child_id=child.id))
    session.flush()
