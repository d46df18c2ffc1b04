"""Helpers of the population tests: fictional test numbers (also samordningsnummer), CSV
files, and drivers for the import, cohort and letters pages.

Every person is fictional: numbers come from the test series (serial 23x) and are checked
against the database before use, because test modules share one database.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from formular.definitions.personnummer import luhn_check_digit
from formular.storage.db import db
from formular.storage.identity import Citizen
from tests.functional import staff_support as s


def number(birth: dt.date, digit: int, coordination: bool = False) -> str:
    """A test number: YYYYMMDD (day + 60 for a samordningsnummer) + 23 + digit + check."""
    day = birth.day + (60 if coordination else 0)
    short = f"{birth:%y%m}{day:02d}23{digit}"
    return f"{birth:%Y%m}{day:02d}23{digit}{luhn_check_digit(short)}"


def free_number(app: Flask, birth: dt.date, coordination: bool = False,
                taken: Sequence[str] = ()) -> str:
    """A test number for ``birth`` that nobody in the database (or in ``taken``) has."""
    with app.app_context():
        for digit in range(10):
            candidate = number(birth, digit, coordination)
            if candidate in taken:
                continue
            if db.session.scalar(select(Citizen.id).where(
                    Citizen.personnummer == candidate)) is None:
                return candidate
    raise RuntimeError(f"no free test number for {birth}")


def dashed(value: str) -> str:
    return f"{value[:8]}-{value[8:]}"


def csv_bytes(rows: Sequence[Sequence[str]], *, delimiter: str = ";", bom: bool = False,
              header: Sequence[str] = ("personnummer", "namn", "listningsenhet", "e-post"),
              encoding: str = "utf-8") -> bytes:
    import csv

    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    data = out.getvalue().encode(encoding)
    return ("\ufeff".encode() if bom else b"") + data


@dataclass
class Upload:
    response: Any
    import_id: int | None

    @property
    def html(self) -> str:
        return s.body(self.response)


def upload(client: FlaskClient, data: bytes, filename: str = "listning.csv") -> Upload:
    """Post a file on the import page; follow to the preview when it is accepted."""
    page = client.get("/staff/population/import")
    assert page.status_code == 200, page.status_code
    response = client.post("/staff/population/import", data={
        "csrf_token": s.csrf_of(s.body(page)), "file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data")
    if response.status_code != 302:
        return Upload(response, None)
    found = re.search(r"/staff/population/imports/(\d+)$", s.location(response))
    assert found, s.location(response)
    return Upload(client.get(s.location(response)), int(found.group(1)))


def digest_of(html: str) -> str:
    found = re.search(r'name="digest" value="([0-9a-f]{64})"', html)
    assert found, "no confirmation form on the page"
    return found.group(1)


def confirm(client: FlaskClient, import_id: int, digest: str | None = None) -> Any:
    page = client.get(f"/staff/population/imports/{import_id}")
    html = s.body(page)
    return client.post(f"/staff/population/imports/{import_id}", data={
        "csrf_token": s.csrf_of(html), "digest": digest if digest is not None
        else digest_of(html)})


def start_cohort(client: FlaskClient, unit_id: int, *, year: int, age: int = 50,
                 definition: str = "phq-9", deadline: str = "", reminder_days: str = "14",
                 scheduled_at: str = "", subject: str = "", message: str = "") -> Any:
    """Post the cohort form; returns the response (302 to the preview when accepted)."""
    page = client.get("/staff/cohorts/new")
    assert page.status_code == 200, page.status_code
    return client.post("/staff/cohorts/new", data={
        "csrf_token": s.csrf_of(s.body(page)), "unit": str(unit_id), "definition": definition,
        "year": str(year), "age": str(age), "scheduled_at": scheduled_at, "deadline": deadline,
        "reminder_days": reminder_days, "saved_text": "0", "subject": subject,
        "body": message})


def cohort_job(response: Any) -> int:
    found = re.search(r"/staff/cohorts/preview/(\d+)$", s.location(response))
    assert found, (response.status_code, s.location(response), s.body(response)[:1500])
    return int(found.group(1))


def confirm_cohort(client: FlaskClient, job_id: int) -> Any:
    page = client.get(f"/staff/cohorts/preview/{job_id}")
    assert page.status_code == 200, page.status_code
    return client.post(f"/staff/cohorts/preview/{job_id}",
                       data={"csrf_token": s.csrf_of(s.body(page))})


def send_out_id_of(response: Any) -> int:
    found = re.search(r"/staff/sendouts/(\d+)$", s.location(response))
    assert found, s.location(response)
    return int(found.group(1))


def list_at(app: Flask, citizen_ids: Sequence[int], unit_id: int) -> None:
    """Set the listing directly (for tests that are not about the import)."""
    with app.app_context():
        for citizen_id in citizen_ids:
            row = db.session.get(Citizen, citizen_id)
            assert row is not None
            row.listed_unit_id = unit_id
        db.session.commit()


def make_person(app: Flask, name: str, birth: dt.date, *, coordination: bool = False,
                listed_unit_id: int | None = None, **values: Any) -> s.Person:
    """A committed citizen born on ``birth`` (a samordningsnummer if ``coordination``)."""
    from tests import factories

    pnr = free_number(app, birth, coordination)
    with app.app_context():
        row = factories.citizen(db.session(), birth, personnummer=pnr, name=name,
                                listed_unit_id=listed_unit_id, **values)
        db.session.commit()
        return s.Person(row.id, row.name, row.personnummer)
