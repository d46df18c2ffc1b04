"""Recipient checks and bulk creation of assignments."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from formular.auth.permissions import Actor
from formular.sendouts import recipients, service
from formular.storage.db import db
from formular.storage.identity import Role
from formular.storage.models import DefinitionVersion
from formular.storage.sendouts import Assignment, AssignmentEvent, InboxMessage, Job, Notification
from tests import factories

TODAY = dt.date(2026, 11, 26)


def test_rows_from_text_splits_on_lines_commas_and_spaces() -> None:
    rows = recipients.rows_from_text("19121212-1212\n 191212121212, 121212-1212;x")
    assert [r.text for r in rows] == ["19121212-1212", "191212121212", "121212-1212", "x"]
    assert [r.number for r in rows] == [1, 2, 3, 4]


def test_rows_from_csv_finds_the_personnummer_column() -> None:
    data = b"namn;personnummer\nTolvan;19121212-1212\n\nNisse;19900101-2385\n"
    rows = recipients.rows_from_csv(data)
    assert [(r.number, r.text) for r in rows] == [(2, "19121212-1212"), (4, "19900101-2385")]
    bom = "\ufeffpersonnummer\n19121212-1212\n".encode()
    assert [r.text for r in recipients.rows_from_csv(bom)] == ["19121212-1212"]


def test_every_row_gets_a_verdict(app) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        session = db.session()
        adult = factories.citizen(session, dt.date(1980, 1, 1))
        dead = factories.citizen(session, dt.date(1940, 1, 1), deceased=True)
        locked = factories.citizen(session, dt.date(1950, 1, 1), locked=True)
        hidden = factories.citizen(session, dt.date(1960, 1, 1), protected_identity=True)
        child = factories.citizen(session, dt.date(2020, 6, 1))
        orphan = factories.citizen(session, dt.date(2021, 6, 1))
        teen = factories.citizen(session, dt.date(2012, 6, 1))
        factories.guardian_of(session, adult, child)
        unknown = factories.fake_personnummer(dt.date(1999, 9, 9))
        bad_check = adult.personnummer[:-1] + str((int(adult.personnummer[-1]) + 1) % 10)
        text = "\n".join([adult.personnummer, dead.personnummer, locked.personnummer,
                          hidden.personnummer, child.personnummer, orphan.personnummer,
                          teen.personnummer, unknown, bad_check, "hello",
                          adult.personnummer])
        verdicts = recipients.check_rows(session, recipients.rows_from_text(text), TODAY)
        outcome = [(v.status, v.reason) for v in verdicts]
        assert outcome == [
            ("ok", None), ("error", "deceased"), ("error", "locked"), ("warning", "protected"),
            ("warning", "guardians"), ("error", "no-guardian"), ("ok", None),
            ("error", "unknown"), ("error", "invalid-checksum"), ("error", "invalid-format"),
            ("error", "duplicate"),
        ]
        assert verdicts[4].guardian_ids == [adult.id]
        limited = recipients.check_rows(session, recipients.rows_from_text(adult.personnummer),
                                        TODAY, age_min=50)
        assert (limited[0].status, limited[0].reason) == ("error", "too-young")
        session.rollback()


def test_bulk_insert_and_release(app) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        session = db.session()
        clinic = factories.unit(session)
        sender = factories.staff(session, [(clinic, Role.SENDER)])
        people = [factories.citizen(session, dt.date(1970 + i % 30, 1 + i % 12, 1 + i % 28))
                  for i in range(23)]
        people[0].protected_identity = True
        version = session.scalars(select(DefinitionVersion)
                                  .where(DefinitionVersion.definition_id == "phq-9")).one()
        verdicts = recipients.check_rows(
            session, recipients.rows_from_text(" ".join(p.personnummer for p in people)), TODAY)
        actor = Actor(kind="staff", staff_user_id=sender.id,
                      units={clinic.id: frozenset({Role.SENDER})})
        now = dt.datetime(2026, 11, 26, 10, tzinfo=dt.UTC)
        send_out, job = service.create_send_out(
            session, actor, unit_id=clinic.id, version=version, verdicts=verdicts,
            scheduled_at=now - dt.timedelta(minutes=1), deadline_at=now + dt.timedelta(days=14),
            expires_at=None, reminder_days_before=[3], subject="Hälsoenkät",
            body="Svara gärna inom två veckor.")
        session.commit()
        service.insert_assignments(db.session, job.id, now=now, batch_size=10)
        session = db.session()
        assert session.get(Job, job.id).status == "done"
        assert session.get(Job, job.id).done == 23
        counts = service.counts_by_state(session, send_out.id)
        assert counts == {"sent": 23}
        ids = select(Assignment.id).where(Assignment.send_out_id == send_out.id)
        assert session.scalar(select(func.count()).select_from(AssignmentEvent)
                              .where(AssignmentEvent.assignment_id.in_(ids))) == 23
        assert session.scalar(select(func.count()).select_from(InboxMessage)
                              .where(InboxMessage.assignment_id.in_(ids))) == 23
        mails = session.scalars(select(Notification.to_address)).all()
        assert people[0].email not in mails  # protected identity: no e-mail
        assert people[1].email in mails
        # Running the job again changes nothing (crash recovery is idempotent).
        session.get(Job, job.id).status = "running"
        session.commit()
        service.insert_assignments(db.session, job.id, now=now, batch_size=10)
        assert service.counts_by_state(db.session(), send_out.id) == {"sent": 23}


def test_timers_remind_before_the_deadline_and_expire(app) -> None:  # type: ignore[no-untyped-def]
    from formular.sendouts import timers

    with app.app_context():
        session = db.session()
        clinic = factories.unit(session)
        sender = factories.staff(session, [(clinic, Role.SENDER)])
        people = [factories.citizen(session, dt.date(1980, 2, 1 + i)) for i in range(3)]
        version = session.scalars(select(DefinitionVersion)
                                  .where(DefinitionVersion.definition_id == "gad-7")).one()
        verdicts = recipients.check_rows(
            session, recipients.rows_from_text(" ".join(p.personnummer for p in people)), TODAY)
        actor = Actor(kind="staff", staff_user_id=sender.id,
                      units={clinic.id: frozenset({Role.SENDER})})
        start = dt.datetime(2026, 11, 1, 8, tzinfo=dt.UTC)
        send_out, job = service.create_send_out(
            session, actor, unit_id=clinic.id, version=version, verdicts=verdicts,
            scheduled_at=start, deadline_at=start + dt.timedelta(days=10),
            expires_at=start + dt.timedelta(days=20), reminder_days_before=[3, 1],
            subject="GAD-7", body="Svara gärna.")
        session.commit()
        service.insert_assignments(db.session, job.id, now=start)
        session = db.session()
        answered = session.scalars(select(Assignment).where(
            Assignment.send_out_id == send_out.id, Assignment.citizen_id == people[0].id)).one()
        answered.state = "answered"
        session.commit()
        # Six days in: nothing due yet.
        assert timers.tick(session, start + dt.timedelta(days=6)) == 0
        # Seven days in: the 3-day reminder fires once for the two unanswered, never twice.
        assert timers.tick(session, start + dt.timedelta(days=7, hours=1)) == 2
        assert timers.tick(session, start + dt.timedelta(days=7, hours=2)) == 0
        reminded = session.scalars(select(Assignment).where(
            Assignment.send_out_id == send_out.id, Assignment.reminders_sent > 0)).all()
        assert {a.citizen_id for a in reminded} == {people[1].id, people[2].id}
        # Past expiry: the unanswered expire, the answered one stays answered.
        timers.tick(session, start + dt.timedelta(days=21))
        assert service.counts_by_state(session, send_out.id) == {"answered": 1, "expired": 2}
