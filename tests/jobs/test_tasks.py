"""The tasks run in this process: eagerly through Celery, or called as functions."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import update
from sqlalchemy.exc import OperationalError

from formular.jobs import tasks
from formular.jobs.celery_app import make_celery, session_factory
from formular.jobs.worker import FINISHED, progress, read_progress, worker_argv
from formular.sendouts import service
from formular.storage.base import utcnow
from formular.storage.sendouts import Job, SendOut

from .helpers import SendOutMaker


@pytest.fixture
def mail_to_files(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Drains in this process write to tmp_path, never to the instance folder."""
    monkeypatch.setitem(app.config, "MAIL_OUTBOX_DIR", str(tmp_path / "outbox"))
    monkeypatch.delitem(app.config, "SMTP_HOST", raising=False)
    return tmp_path / "outbox"


def test_fill_retries_a_locked_database(
        app: Flask, make_send_out: SendOutMaker, monkeypatch: pytest.MonkeyPatch,
        mail_to_files: Path) -> None:
    send_out, job = make_send_out(40)
    real = service.insert_assignments
    calls: list[int] = []

    def locked_once(*args: Any, **kwargs: Any) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("UPDATE job", {}, sqlite3.OperationalError(
                "database is locked"))
        real(*args, **kwargs)

    monkeypatch.setattr(tasks, "insert_assignments", locked_once)
    celery = make_celery(app)
    try:
        # In this process, as a worker would run it (a worker does not propagate the Retry).
        celery.tasks[tasks.FILL_SEND_OUT].apply(args=[job], throw=False)
    finally:
        celery.close()
    assert len(calls) == 2
    reading = read_progress(app, job)
    assert reading is not None
    assert (reading.status, reading.done, reading.total) == (
        "done", 40, 40)
    with session_factory(app)() as session:
        assert service.counts_by_state(session, send_out) == {"scheduled": 40}


def test_a_fill_that_gives_up_shows_failed(app: Flask, make_send_out: SendOutMaker) -> None:
    send_out, job = make_send_out(3)
    celery = make_celery(app)
    try:
        celery.tasks[tasks.FILL_SEND_OUT].on_failure(
            RuntimeError("boom"), "task-1", (job,), {}, None)
    finally:
        celery.close()
    reading = read_progress(app, job)
    assert reading is not None
    assert reading.status == "failed"
    assert reading.finished
    assert reading.error == "RuntimeError (see the worker log, task task-1)"
    with session_factory(app)() as session:
        row = session.get(SendOut, send_out)
        assert row is not None
        assert row.status == "failed"


def test_fill_ignores_unknown_and_foreign_jobs(app: Flask) -> None:
    with app.app_context():
        tasks.fill_send_out(987654321)
        with session_factory(app)() as session:
            other = Job(kind="export", status="queued", total=1, done=0, data={})
            session.add(other)
            session.commit()
        tasks.fill_send_out(other.id)
    reading = read_progress(app, other.id)
    assert reading is not None
    assert reading.status == "queued"


def test_tick_releases_due_send_outs_and_drains_mail(
        app: Flask, make_send_out: SendOutMaker, mail_to_files: Path) -> None:
    send_out, job = make_send_out(4, scheduled_at=utcnow() + dt.timedelta(hours=1))
    factory = session_factory(app)
    service.insert_assignments(factory, job)
    with factory() as session:
        assert service.counts_by_state(session, send_out) == {"scheduled": 4}
        session.execute(update(SendOut).where(SendOut.id == send_out)
                        .values(scheduled_at=utcnow() - dt.timedelta(seconds=1)))
        session.commit()
    with app.app_context():
        outcome = tasks.tick()
        assert outcome["released"] >= 1
        assert outcome["mail_due"] == 1
        drained = tasks.send_notifications()
    with factory() as session:
        assert service.counts_by_state(session, send_out) == {"sent": 4}
    assert drained["sent"] >= 4
    assert drained["more"] is False
    assert len(list(mail_to_files.glob("notification-*.eml"))) >= 4


def test_progress_yields_changes_until_the_job_is_finished(
        app: Flask, make_send_out: SendOutMaker) -> None:
    _send_out, job = make_send_out(12)
    readings = list(progress(app, job, interval=0.01, timeout=0.2))
    assert [(r.status, r.done, r.total) for r in readings] == [("queued", 0, 12)]
    assert readings[0].fraction == 0.0
    service.insert_assignments(session_factory(app), job, batch_size=5)
    readings = list(progress(app, job, interval=0.01))
    assert [(r.status, r.done) for r in readings] == [("done", 12)]
    assert readings[0].finished
    assert readings[0].fraction == 1.0
    assert list(progress(app, 987654321)) == []
    assert "waiting" in FINISHED


def test_worker_arguments(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from formular.jobs.celery_app import EXTENSION

    monkeypatch.delitem(app.extensions, EXTENSION, raising=False)
    with pytest.raises(RuntimeError, match="in-memory broker"):
        worker_argv(app)
    monkeypatch.setitem(app.config, "CELERY_BROKER_URL",
                        f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}")
    monkeypatch.delitem(app.extensions, EXTENSION, raising=False)
    argv = worker_argv(app, concurrency=1, beat=True)
    assert "--pool=solo" in argv
    assert "--beat" in argv
    assert "--without-gossip" in argv
    monkeypatch.setitem(app.config, "CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.delitem(app.extensions, EXTENSION, raising=False)
    argv = worker_argv(app, concurrency=2)
    assert "--pool=prefork" in argv
    assert "--concurrency=2" in argv
    assert "--beat" not in argv
    assert "--without-gossip" not in argv
    monkeypatch.delitem(app.extensions, EXTENSION, raising=False)


def test_a_missing_column_fails_at_once(app: Flask, make_send_out: SendOutMaker,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite calls a schema error an OperationalError too; retrying it cannot help."""
    _send_out, job = make_send_out(2)
    calls: list[int] = []

    def schema_error(*_args: Any, **_kwargs: Any) -> None:
        calls.append(1)
        raise OperationalError("SELECT job.x", {}, sqlite3.OperationalError(
            "no such column: job.x"))

    monkeypatch.setattr(tasks, "insert_assignments", schema_error)
    celery = make_celery(app)
    try:
        outcome = celery.tasks[tasks.FILL_SEND_OUT].apply(args=[job], throw=False)
    finally:
        celery.close()
    assert calls == [1]
    assert outcome.state == "FAILURE"
    reading = read_progress(app, job)
    assert reading is not None
    assert reading.status == "failed"


def test_transient_errors() -> None:
    from formular.jobs.celery_app import is_transient

    def sqlite_error(message: str) -> OperationalError:
        return OperationalError("SQL", {}, sqlite3.OperationalError(message))

    assert is_transient(sqlite_error("database is locked"))
    assert not is_transient(sqlite_error("no such table: job"))
    assert is_transient(OperationalError("SQL", {}, Exception("server closed the connection")))
    assert not is_transient(ValueError("nope"))


def test_tick_fires_the_expiry_timer(app: Flask, make_send_out: SendOutMaker,
                                     mail_to_files: Path) -> None:
    send_out, job = make_send_out(3, scheduled_at=utcnow() - dt.timedelta(minutes=5))
    factory = session_factory(app)
    service.insert_assignments(factory, job)  # due: released at once
    with factory() as session:
        assert service.counts_by_state(session, send_out) == {"sent": 3}
        session.execute(update(SendOut).where(SendOut.id == send_out).values(
            deadline_at=utcnow() - dt.timedelta(minutes=2),
            expires_at=utcnow() - dt.timedelta(minutes=1)))
        session.commit()
    with app.app_context():
        outcome = tasks.tick()
        again = tasks.tick()
    assert outcome["moved"] >= 3
    assert again["moved"] == 0  # a timer fires once
    with factory() as session:
        assert service.counts_by_state(session, send_out) == {"expired": 3}
