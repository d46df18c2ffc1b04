"""The tasks: fill a send-out, the minute tick, and draining the e-mail outbox.

Each task is a plain function (callable directly in tests and scripts, inside an app
context) registered under a stable name by :func:`register`. Names, not import paths, are
the contract with the queue: ``formular.fill_send_out``, ``formular.tick`` and
``formular.send_notifications``.

Every task is safe to run twice or concurrently: ``insert_assignments`` resumes from what is
committed, ``release_due`` only moves assignments still ``scheduled``, and the outbox claims
rows before sending. That is what lets the Celery app acknowledge late and retry.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, current_app
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from formular.cases import retention as case_retention
from formular.cases import timers as case_timers
from formular.notify import mail
from formular.sendouts import timers
from formular.sendouts.service import BATCH_SIZE, insert_assignments, release_due
from formular.storage.base import utcnow
from formular.storage.sendouts import Job, SendOut

from .celery_app import ContextTask, get_celery, session_factory

log = logging.getLogger(__name__)

FILL_SEND_OUT = "formular.fill_send_out"
TICK = "formular.tick"
SEND_NOTIFICATIONS = "formular.send_notifications"

#: A drain stops after this long and queues its successor, so one task never holds a worker
#: for long while 100,000 mails go out: a warm shutdown (Ctrl+C in the demo, a deploy) waits
#: for the task in hand, and other tasks wait behind it on a one-process worker.
DRAIN_SECONDS = 20.0
#: ``pg_try_advisory_xact_lock`` key: one tick at a time across all workers ("Form").
_TICK_LOCK = 0x466F726D


def _app() -> Flask:
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    return app


def _enqueue(name: str, *args: Any) -> None:
    """Queue a follow-up task from inside a task (no request transaction to wait for)."""
    get_celery(_app()).tasks[name].apply_async(args=list(args))


def fill_send_out(job_id: int) -> None:
    """Insert a send-out job's assignments in batches, moving the job's progress counters;
    release it at once if its time has come, then hand its e-mails to the outbox drain."""
    app = _app()
    factory = session_factory(app)
    with factory() as session:
        kind = session.scalar(select(Job.kind).where(Job.id == job_id))
    if kind is None:
        log.warning("job %s does not exist (deleted before it ran?)", job_id)
        return
    if kind != "send-out":
        log.error("job %s is a %r job, not a send-out; ignored", job_id, kind)
        return
    insert_assignments(factory, job_id,
                       batch_size=int(app.config.get("SENDOUT_BATCH_SIZE") or BATCH_SIZE))
    with factory() as session:
        if mail.has_due(session):
            _enqueue(SEND_NOTIFICATIONS)
    log.info("job %s: send-out filled", job_id)


def mark_failed(app: Flask, job_id: int, reason: str) -> None:
    """Show a job that gave up as failed (unless another run finished it meanwhile)."""
    factory = session_factory(app)
    with factory() as session:
        data = session.scalar(select(Job.data).where(Job.id == job_id))
        session.execute(update(Job).where(Job.id == job_id,
                                          Job.status.not_in(("done", "cancelled")))
                        .values(status="failed", error=reason, finished_at=utcnow()))
        send_out_id = (data or {}).get("send_out_id")
        if send_out_id is not None:
            session.execute(update(SendOut).where(SendOut.id == int(send_out_id),
                                                  SendOut.status.in_(("queued", "sending")))
                            .values(status="failed"))
        session.commit()


class FillTask(ContextTask):
    """Marks the job failed once retries are used up, so the progress bar stops."""

    def on_failure(self, exc: BaseException, task_id: str, args: Any, kwargs: Any,
                   einfo: Any) -> None:
        job_id = args[0] if args else kwargs.get("job_id")
        if job_id is None:
            return
        # The message may hold SQL parameters (tokens, ids): the page gets the class only.
        reason = f"{type(exc).__name__} (see the worker log, task {task_id})"
        with self.app.flask_app.app_context():
            mark_failed(self.app.flask_app, int(job_id), reason)


class TickTask(ContextTask):
    """A tick that meets a locked database gives up: the next one, a minute later, retries
    (a retried tick would only pile up behind it)."""

    retry_transient = False


def _only_tick(session: Session) -> bool:
    """On PostgreSQL, skip this tick when another worker's tick is still running."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    return bool(session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"),
                               {"key": _TICK_LOCK}))


def tick() -> dict[str, int]:
    """Every minute: release the send-outs whose time has come, fire the workflow timers
    (reminders N days before the deadline, the deadline, expiry), delete errands begun and not
    sent for ``CASE_DRAFT_RETENTION_DAYS``, and start the outbox drain when mail is due (new,
    or a retry whose backoff has passed)."""
    app = _app()
    factory = session_factory(app)
    now = utcnow()
    with factory() as session:
        if not _only_tick(session):
            log.info("tick skipped: another tick holds the lock")
            return {"skipped": 1}
        released = release_due(session, now)
        session.commit()  # also ends the advisory lock; timers lock each send-out's row
        moved = timers.tick(session, now)
        session.commit()
        moved += case_timers.tick(session, now)  # the case inbox's overdue flag (#6)
        purged = case_retention.purge_unsent_drafts(
            session, now, int(app.config.get("CASE_DRAFT_RETENTION_DAYS",
                                             case_retention.DEFAULT_RETENTION_DAYS)))
        session.commit()
        mail_due = mail.has_due(session, now)
    if mail_due:
        _enqueue(SEND_NOTIFICATIONS)
    if released or moved or purged:
        log.info("tick: released %s send-out(s), timers moved %s assignment(s), deleted %s "
                 "unsent errand(s)", released, moved, purged)
    return {"released": released, "moved": moved, "purged": purged, "mail_due": int(mail_due)}


def send_notifications() -> dict[str, Any]:
    """Drain the e-mail outbox for up to ``DRAIN_SECONDS``; queue another drain if rows
    remain."""
    app = _app()
    result = mail.send_pending(session_factory(app), mail.MailSettings.from_app(app),
                               max_seconds=DRAIN_SECONDS)
    if result.more:
        _enqueue(SEND_NOTIFICATIONS)
    return result.as_dict()


def register(celery: Any) -> None:
    """Register the tasks on one Celery app under their stable names (``shared=False``: not
    on every Celery app the process makes later, as Celery's default would)."""
    celery.task(name=FILL_SEND_OUT, base=FillTask, shared=False)(fill_send_out)
    celery.task(name=TICK, base=TickTask, shared=False)(tick)
    celery.task(name=SEND_NOTIFICATIONS, shared=False)(send_notifications)
