"""The Celery application, built from the Flask configuration.

One Celery app per Flask app (``get_celery``), so the worker and the web process read the
same settings from ``FORMULAR_*`` variables. Choices, and why:

* **Broker.** ``CELERY_BROKER_URL`` (env ``FORMULAR_CELERY_BROKER_URL``): ``redis://…`` or
  ``amqp://…`` in production. Unset, it is kombu's SQLAlchemy transport on a SQLite file in the
  instance folder, so the first README command needs no extra server. Under ``TESTING`` it is
  kombu's in-memory transport instead, so a test never writes to the instance folder by
  accident (tests that need a real broker set one).
* **No result backend.** Progress lives in the ``job`` table, which the page and the CLI read.
* **JSON only.** A pickle payload from a broker is code execution; task arguments are ids.
* **acks_late + prefetch 1 + reject on worker loss.** A task is acknowledged after it ran, so a
  worker killed mid-fill hands the message to another worker; this is safe because every task
  is idempotent (``insert_assignments`` resumes where its last commit stopped; the mail outbox
  claims rows before sending).
* **Retry with backoff on transient database errors** (a locked SQLite file, a PostgreSQL
  restart or serialisation failure; :func:`is_transient`): up to 8 times with exponential,
  jittered backoff capped at five minutes. A missing column is an ``OperationalError`` on
  SQLite too, but retrying cannot fix it: such errors fail the task at once.
* Tasks run inside the Flask app context (:class:`ContextTask`) and use their own sessions
  (:func:`session_factory`), never the request's scoped session, so a task run eagerly inside
  a request cannot close or commit the request's session.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from celery import Celery, Task
from celery.signals import worker_process_init
from celery.utils.time import get_exponential_backoff_interval
from flask import Flask, current_app, has_app_context
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

#: Where ``get_celery`` keeps the app's Celery instance.
EXTENSION = "formular.celery"
_SESSIONS = "formular.jobs.sessions"

#: The error families a transient database problem arrives in (see :func:`is_transient`).
TRANSIENT_DB_ERRORS: tuple[type[BaseException], ...] = (OperationalError, InterfaceError)

#: How often the embedded beat runs ``formular.tick`` (seconds; ``JOBS_TICK_SECONDS``).
DEFAULT_TICK_SECONDS = 60


class FormularCelery(Celery):  # type: ignore[misc]
    """A Celery app that knows the Flask app its tasks run in."""

    flask_app: Flask


#: SQLite reports these as OperationalError too, but they pass by themselves; "no such
#: column" (a missing migration) is an OperationalError as well, and must fail at once.
_SQLITE_TRANSIENT = ("database is locked", "database table is locked", "disk i/o error",
                     "unable to open database file")


def is_transient(error: BaseException) -> bool:
    """Whether retrying later may succeed: a lock, a dropped connection, a restart, a
    serialisation failure — not a schema or programming error."""
    if not isinstance(error, TRANSIENT_DB_ERRORS):
        return False
    if getattr(error, "connection_invalidated", False):
        return True
    original = getattr(error, "orig", None)
    if original is not None and type(original).__module__.startswith("sqlite3"):
        message = str(original).lower()
        return any(part in message for part in _SQLITE_TRANSIENT)
    return True


class ContextTask(Task):  # type: ignore[misc]
    """Runs the task inside the Flask app context and retries transient database errors
    (exponential backoff with full jitter: up to 2, 4, 8 … seconds, at most five minutes,
    8 times; then the task fails)."""

    max_retries = 8
    retry_backoff_max = 300
    #: False for tasks whose next scheduled run does the same work (the tick).
    retry_transient = True

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        flask_app: Flask = self.app.flask_app
        # Run eagerly inside a request of the same app: reuse its context. Pushing a second
        # one would, on pop, remove the request's scoped session under its feet.
        if has_app_context() and current_app._get_current_object() is flask_app:  # type: ignore[attr-defined]
            return self._run_retrying(*args, **kwargs)
        with flask_app.app_context():
            return self._run_retrying(*args, **kwargs)

    def _run_retrying(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except TRANSIENT_DB_ERRORS as error:
            if not is_transient(error):
                raise
            if not self.retry_transient:
                log.warning("%s skipped: %s (the next run retries)", self.name,
                            type(error).__name__)
                return None
            countdown = get_exponential_backoff_interval(
                factor=2, retries=self.request.retries, maximum=self.retry_backoff_max,
                full_jitter=True)
            raise self.retry(exc=error, countdown=countdown) from error


def _flag(value: Any) -> bool:
    """A boolean setting that may come from the environment as text."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def default_broker_url(instance_path: str | Path) -> str:
    """The embedded broker: kombu's SQLAlchemy transport on a SQLite file in the instance
    folder (created on first use)."""
    return f"sqla+sqlite:///{Path(instance_path).resolve() / 'broker.sqlite'}"


def broker_url(app: Flask) -> str:
    """The broker the app's jobs go through (see the module docstring for the defaults)."""
    configured = app.config.get("CELERY_BROKER_URL")
    if configured:
        return str(configured)
    if app.testing:
        return "memory://localhost/"
    url = default_broker_url(app.instance_path)
    if not str(app.config.get("DATABASE_URL", "")).startswith("sqlite"):
        log.warning("CELERY_BROKER_URL is not set: jobs go through %s, which only workers on "
                    "this machine can read; set a Redis or RabbitMQ URL when web and workers "
                    "run on several machines", url)
    return url


def is_embedded_broker(url: str) -> bool:
    """Kombu's virtual SQLAlchemy transport: no fan-out, so no gossip, mingle or heartbeat."""
    return url.startswith(("sqla+", "sqlalchemy+"))


def celery_settings(app: Flask) -> dict[str, Any]:
    """Celery settings from the Flask configuration."""
    from .tasks import TICK

    config = app.config
    url = broker_url(app)
    tick_seconds = float(config.get("JOBS_TICK_SECONDS") or DEFAULT_TICK_SECONDS)
    settings: dict[str, Any] = {
        "broker_url": url,
        "broker_connection_retry_on_startup": True,
        "task_default_queue": str(config.get("CELERY_TASK_DEFAULT_QUEUE") or "formular"),
        "task_serializer": "json",
        "result_serializer": "json",
        "event_serializer": "json",
        "accept_content": ["json"],
        "result_accept_content": ["json"],
        "task_ignore_result": True,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_always_eager": _flag(config.get("CELERY_TASK_ALWAYS_EAGER", False)),
        "task_eager_propagates": True,
        "timezone": "UTC",
        "enable_utc": True,
        # A tick that waited longer than one period is dropped: the next one does its work.
        "beat_schedule": {TICK: {"task": TICK, "schedule": tick_seconds,
                                 "options": {"expires": tick_seconds}}},
        "beat_schedule_filename": str(config.get("CELERY_BEAT_SCHEDULE_FILENAME")
                                      or Path(app.instance_path) / "celerybeat-schedule"),
    }
    if url.startswith(("sqla+sqlite", "sqlalchemy+sqlite")):
        # The web process and the worker write the same file: wait for the lock, not fail.
        settings["broker_transport_options"] = {"connect_args": {"timeout": 30}}
    return settings


def make_celery(app: Flask, overrides: Mapping[str, Any] | None = None) -> FormularCelery:
    """A new Celery app for ``app`` with every task registered.

    ``overrides`` are Celery settings applied last (a test pointing at another broker).
    Use :func:`get_celery` for the app's own instance.
    """
    from . import tasks

    celery = FormularCelery(app.import_name, task_cls=ContextTask, set_as_current=False)
    celery.flask_app = app
    celery.conf.update(celery_settings(app))
    if overrides:
        celery.conf.update(dict(overrides))
    tasks.register(celery)
    return celery


def get_celery(app: Flask) -> FormularCelery:
    """The app's Celery instance, made on first use."""
    celery: FormularCelery | None = app.extensions.get(EXTENSION)
    if celery is None:
        celery = make_celery(app)
        app.extensions[EXTENSION] = celery
    return celery


def session_factory(app: Flask) -> sessionmaker[Session]:
    """Sessions for jobs, on the app's engine but apart from the request's scoped session."""
    factory: sessionmaker[Session] | None = app.extensions.get(_SESSIONS)
    if factory is None:
        database = app.extensions["formular.db"]
        factory = sessionmaker(bind=database.engine, expire_on_commit=False)
        app.extensions[_SESSIONS] = factory
    return factory


def _after_fork(**_kwargs: Any) -> None:
    """A prefork child must not share its parent's database connections (SQLite forbids it,
    PostgreSQL would interleave protocol messages): drop the inherited pools unclosed."""
    from formular.storage.db import db

    if db.engine is not None:
        db.engine.dispose(close=False)
    try:
        from kombu.transport.sqlalchemy import Channel
    except ImportError:  # pragma: no cover - kombu ships it; SQLAlchemy is a dependency
        return
    for engine, _sessions in list(Channel._engines.values()):
        engine.dispose(close=False)
    Channel._engines.clear()


worker_process_init.connect(_after_fork, weak=False)
