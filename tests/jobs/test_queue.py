"""``enqueue_after_commit``: a task is published after the commit, never after a rollback."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from celery import Celery
from flask import Flask
from sqlalchemy import text
from sqlalchemy.orm import Session

from formular.jobs import queue
from formular.jobs.celery_app import get_celery, make_celery, session_factory
from formular.jobs.queue import enqueue_after_commit
from formular.jobs.tasks import FILL_SEND_OUT
from formular.storage.db import db


@pytest.fixture
def recorder() -> Iterator[tuple[Celery, list[Any]]]:
    """A Celery app whose one task records its argument, run eagerly in this process."""
    calls: list[Any] = []
    celery = Celery("queue-test", broker="memory://", set_as_current=False)
    celery.conf.task_always_eager = True

    @celery.task(name="tests.record", shared=False)  # type: ignore[untyped-decorator]
    def record(value: Any) -> None:
        calls.append(value)

    yield celery, calls
    celery.close()


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    with session_factory(app)() as fresh:
        yield fresh


def test_published_after_commit(session: Session, recorder: tuple[Celery, list[Any]]) -> None:
    celery, calls = recorder
    session.execute(text("SELECT 1"))
    enqueue_after_commit(session, "tests.record", 1, celery=celery)
    assert calls == []  # not before the commit
    session.commit()
    assert calls == [1]
    session.commit()
    assert calls == [1]  # once


def test_nothing_on_rollback(session: Session, recorder: tuple[Celery, list[Any]]) -> None:
    celery, calls = recorder
    session.execute(text("SELECT 1"))
    enqueue_after_commit(session, "tests.record", "rolled back", celery=celery)
    session.rollback()
    session.execute(text("SELECT 1"))
    session.commit()  # a later transaction in the same session does not publish it either
    assert calls == []


def test_nothing_when_closed_without_commit(app: Flask,
                                            recorder: tuple[Celery, list[Any]]) -> None:
    celery, calls = recorder
    with session_factory(app)() as session:
        enqueue_after_commit(session, "tests.record", "closed", celery=celery)
    assert calls == []


def test_a_rolled_back_savepoint_drops_only_its_tasks(
        session: Session, recorder: tuple[Celery, list[Any]]) -> None:
    celery, calls = recorder
    session.execute(text("SELECT 1"))
    enqueue_after_commit(session, "tests.record", "outer", celery=celery)
    savepoint = session.begin_nested()
    enqueue_after_commit(session, "tests.record", "inner", celery=celery)
    savepoint.rollback()
    kept = session.begin_nested()
    enqueue_after_commit(session, "tests.record", "kept", celery=celery)
    kept.commit()
    session.commit()
    assert calls == ["outer", "kept"]


def test_the_scoped_request_session_works_too(
        app: Flask, recorder: tuple[Celery, list[Any]]) -> None:
    celery, calls = recorder
    with app.app_context():
        enqueue_after_commit(db.session, "tests.record", "scoped", celery=celery)
        db.session.rollback()
        enqueue_after_commit(db.session, "tests.record", "scoped", celery=celery)
        db.session.commit()
    assert calls == ["scoped"]


def test_a_broker_failure_after_commit_is_logged_not_raised(
        session: Session, recorder: tuple[Celery, list[Any]],
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    celery, _calls = recorder

    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise ConnectionError("broker down")

    monkeypatch.setattr(queue, "enqueue", broken)
    enqueue_after_commit(session, "tests.record", 7, celery=celery)
    with caplog.at_level(logging.ERROR, logger="formular.jobs.queue"):
        session.commit()
    assert "could not queue tests.record(7,)" in caplog.text


def test_the_message_on_the_wire_is_json_with_the_task_name(app: Flask) -> None:
    """Through kombu's in-memory transport (the TESTING default) to the app's queue."""
    assert make_celery(app).conf.broker_url == "memory://localhost/"
    # The in-memory transport is shared by the whole process: a queue of our own.
    celery = make_celery(app, {"task_default_queue": "wire-test"})
    try:
        with app.app_context(), session_factory(app)() as session:
            enqueue_after_commit(session, FILL_SEND_OUT, 12345, celery=celery)
            session.commit()
        with celery.connection_for_read() as connection:
            message = connection.SimpleQueue("wire-test").get(timeout=2)
            assert message.content_type == "application/json"
            assert message.headers["task"] == FILL_SEND_OUT
            args, kwargs, _embed = json.loads(message.body)
            assert (args, kwargs) == ([12345], {})
            message.ack()
    finally:
        celery.close()


def test_the_default_is_the_apps_own_celery(app: Flask) -> None:
    with app.app_context():
        assert get_celery(app) is get_celery(app)
        assert get_celery(app).flask_app is app
        assert set(get_celery(app).tasks) >= {FILL_SEND_OUT, "formular.tick",
                                              "formular.send_notifications"}
