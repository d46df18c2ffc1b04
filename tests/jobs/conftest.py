"""Fixtures for the job tests: a clinic with 2,000 fictional citizens, send-outs made through
the service, and real worker processes on the session's database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from formular.auth.permissions import Actor
from formular.sendouts import service
from formular.sendouts.recipients import RawRow, RowVerdict
from formular.storage.base import utcnow
from formular.storage.db import db
from formular.storage.identity import Role
from formular.storage.models import DefinitionVersion
from tests import factories

from .helpers import RECIPIENTS, Clinic, SendOutMaker, Workers


@pytest.fixture(scope="session")
def clinic(app: Flask) -> Clinic:
    """A unit, a sender and 2,000 citizens with e-mail addresses (numbers from 1921, a range
    no other test uses, so they cannot collide)."""
    with app.app_context():
        session = db.session()
        unit = factories.unit(session, name="Vårdcentralen Jobbtest")
        sender = factories.staff(session, [(unit, Role.SENDER)])
        people = []
        for index in range(RECIPIENTS):
            birth = dt.date(1921, 1, 1) + dt.timedelta(days=index // 10)
            number = factories.fake_personnummer(birth, sex_digit=index % 10)
            people.append(factories.citizen(session, personnummer=number,
                                            email=f"jobs{index}@example.org"))
        actor = Actor(kind="staff", staff_user_id=sender.id,
                      units={unit.id: frozenset({Role.SENDER})})
        result = Clinic(unit.id, actor, [p.id for p in people],
                        {p.id: str(p.email) for p in people})
        session.commit()
    return result


@pytest.fixture
def make_send_out(app: Flask, clinic: Clinic) -> SendOutMaker:
    """Record a PHQ-9 send-out (and its fill job) to the first ``count`` citizens; returns
    ``(send_out_id, job_id)``. The fill itself is left to the test."""

    def make(count: int = RECIPIENTS, scheduled_at: dt.datetime | None = None,
             subject: str = "Hälsoenkät", body: str = "Svara gärna inom två veckor.",
             ) -> tuple[int, int]:
        with app.app_context():
            session = db.session()
            version = session.scalars(select(DefinitionVersion)
                                      .where(DefinitionVersion.definition_id == "phq-9")).one()
            verdicts = [RowVerdict(RawRow(n + 1, str(citizen)), "ok", None, citizen)
                        for n, citizen in enumerate(clinic.citizen_ids[:count])]
            when = scheduled_at or utcnow() + dt.timedelta(days=1)
            send_out, job = service.create_send_out(
                session, clinic.actor, unit_id=clinic.unit_id, version=version,
                verdicts=verdicts, scheduled_at=when, deadline_at=when + dt.timedelta(days=14),
                expires_at=None, reminder_days_before=[3], subject=subject, body=body)
            session.commit()
            return send_out.id, job.id

    return make


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Workers]:
    """Start worker processes; every one is stopped (warm, then killed) after the test."""
    started = Workers(tmp_path)
    yield started
    started.stop_all()
