"""A real Celery worker process fills a 2,000-recipient send-out on the test database.

The embedded broker (kombu's SQLAlchemy transport on a SQLite file) runs everywhere and is
started the way ``formular demo`` starts it (``python -m formular.jobs.worker --beat``), so
the minute tick (here every second) and the e-mail outbox are exercised too. Redis and
RabbitMQ run when CI names them (FORMULAR_TEST_REDIS_URL, FORMULAR_TEST_AMQP_URL), with
Celery's own ``celery worker`` command.
"""

from __future__ import annotations

import datetime as dt
import email
import os
import signal
import subprocess
import uuid
from email import policy
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from formular.jobs.celery_app import make_celery, session_factory
from formular.jobs.queue import enqueue_after_commit
from formular.jobs.tasks import FILL_SEND_OUT
from formular.jobs.worker import read_progress, start_worker_process, stop_worker_process
from formular.sendouts import service
from formular.storage.base import utcnow
from formular.storage.db import db
from formular.storage.sendouts import Assignment, Notification, SendOut

from .helpers import (
    RECIPIENTS,
    Clinic,
    SendOutMaker,
    WorkerProcess,
    Workers,
    wait_for,
    worker_environment,
)


def _enqueue_fill(app: Flask, broker: str, queue: str, job_id: int) -> None:
    """Queue the fill the way a request does: after its transaction commits."""
    celery = make_celery(app, {"broker_url": broker, "task_default_queue": queue})
    try:
        with app.app_context():
            session = db.session()
            enqueue_after_commit(session, FILL_SEND_OUT, job_id, celery=celery)
            session.commit()
    finally:
        celery.close()


def _follow_fill(app: Flask, worker: WorkerProcess, send_out_id: int, job_id: int) -> None:
    """Poll the job row as the progress bar does, then check what the worker wrote."""
    seen: list[int] = []

    def finished() -> bool:
        reading = read_progress(app, job_id)
        assert reading is not None
        if not seen or seen[-1] != reading.done:
            seen.append(reading.done)
        assert reading.status != "failed", reading.error
        return reading.status == "done"

    wait_for(finished, worker, timeout=60, what=f"job {job_id}")
    assert seen == sorted(seen), "progress went backwards"
    final = read_progress(app, job_id)
    assert final is not None
    assert (final.done, final.total) == (RECIPIENTS, RECIPIENTS)
    with session_factory(app)() as session:
        send_out = session.get(SendOut, send_out_id)
        assert send_out is not None
        assert (send_out.status, send_out.processed, send_out.total) == (
            "scheduled", RECIPIENTS, RECIPIENTS)
        assert service.counts_by_state(session, send_out_id) == {"scheduled": RECIPIENTS}
        tokens = session.scalar(select(func.count(func.distinct(Assignment.token)))
                                .where(Assignment.send_out_id == send_out_id))
        assert tokens == RECIPIENTS


#: kombu's SQLAlchemy transport maps its tables with ``lazy="noload"``, which SQLAlchemy 2.1
#: deprecates; the warning fires once, when this process first publishes to that broker.
KOMBU_NOLOAD = "ignore:The ``noload`` loader strategy:sqlalchemy.exc.SADeprecationWarning"


@pytest.mark.filterwarnings(KOMBU_NOLOAD)
def test_embedded_worker_fills_releases_and_mails(
        app: Flask, database_url: str, clinic: Clinic, make_send_out: SendOutMaker,
        workers: Workers, tmp_path: Path) -> None:
    broker = f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}"
    environ = worker_environment(database_url, broker, "formular", tmp_path)
    big, big_job = make_send_out(RECIPIENTS)
    # A small send-out filled here and due in a few seconds: the worker's tick releases it.
    soon, soon_job = make_send_out(5, scheduled_at=utcnow() + dt.timedelta(seconds=3))
    with app.app_context():
        service.insert_assignments(session_factory(app), soon_job)
        with session_factory(app)() as session:
            assert service.counts_by_state(session, soon) == {"scheduled": 5}
            before = session.scalar(select(func.max(Notification.id))) or 0

    # Started as ``formular demo`` starts it.
    log = workers.log_path()
    with log.open("wb") as sink:
        process = start_worker_process(beat=True, env=environ, stdout=sink,
                                       stderr=subprocess.STDOUT, cwd=tmp_path)
    worker = workers.adopt(process, log)
    _enqueue_fill(app, broker, "formular", big_job)
    _follow_fill(app, worker, big, big_job)

    def released() -> bool:
        with session_factory(app)() as session:
            return service.counts_by_state(session, soon) == {"sent": 5}

    wait_for(released, worker, timeout=30, what="the tick")
    addresses = {clinic.emails[c] for c in clinic.citizen_ids[:5]}

    def mailed() -> bool:
        with session_factory(app)() as session:
            rows = session.execute(select(Notification.id, Notification.status).where(
                Notification.id > before, Notification.to_address.in_(addresses))).all()
        return len(rows) == 5 and all(status == "sent" for _id, status in rows)

    wait_for(mailed, worker, timeout=30, what="the outbox drain")
    outbox = tmp_path / "outbox"
    received = set()
    for path in outbox.glob("notification-*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        received.add(str(message["To"]))
        assert "Hälsoenkät" not in str(message["Subject"])
    assert addresses <= received
    assert stop_worker_process(process, timeout=30) == 0, worker.output()
    assert "beat: Shutting down" in worker.output()


def _broker_from(variable: str) -> str:
    url = os.environ.get(variable)
    if not url:
        pytest.skip(f"{variable} is not set; .ci/run sets it to this machine's broker")
    return url


def _forget_queue(app: Flask, broker: str, queue: str) -> None:
    """Remove the test's queue from a shared broker."""
    if broker.startswith("redis"):
        import redis

        client = redis.Redis.from_url(broker)
        for key in client.scan_iter(match=f"*{queue}*"):  # the list and kombu's bindings
            client.delete(key)
        client.close()
        return
    celery = make_celery(app, {"broker_url": broker})
    try:
        with celery.connection_for_write() as connection:
            connection.default_channel.queue_delete(queue)
            connection.default_channel.exchange_delete(queue)
    finally:
        celery.close()


@pytest.mark.parametrize("variable", ["FORMULAR_TEST_REDIS_URL", "FORMULAR_TEST_AMQP_URL"])
def test_celery_worker_fills_a_send_out_through_a_server_broker(
        app: Flask, database_url: str, make_send_out: SendOutMaker,
        workers: Workers,
        tmp_path: Path, variable: str) -> None:
    broker = _broker_from(variable)
    queue = f"formular-test-{uuid.uuid4().hex[:12]}"
    environ = worker_environment(database_url, broker, queue, tmp_path)
    send_out, job = make_send_out(RECIPIENTS)
    worker = workers.start(["-m", "celery", "-A", "formular.jobs.entry:celery", "worker",
                           "--pool", "solo", "--concurrency", "1", "--loglevel", "INFO",
                           "--without-gossip", "--without-mingle", "--without-heartbeat",
                           "--hostname", f"{queue}@%h"], environ)
    try:
        _enqueue_fill(app, broker, queue, job)
        _follow_fill(app, worker, send_out, job)
    finally:
        # The task is done and acknowledged: kill, as even a cold shutdown waits out the
        # event loop's poll (up to 10 s with AMQP heartbeats). The embedded test above
        # checks the warm shutdown.
        os.killpg(worker.process.pid, signal.SIGKILL)
        worker.process.wait(20)
        _forget_queue(app, broker, queue)
