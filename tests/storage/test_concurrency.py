"""Storage under real concurrency (PostgreSQL only): double submits, stale saves, racing
releases and ticks, and two tabs opening a form at once.

Every round starts two (or more) threads at a :class:`threading.Barrier`; each thread has its
own Flask test client (and so its own request, SQLAlchemy session and database connection) or
its own ``Session``. SQLite serialises writers, so these races only exist on a server
database: the module is skipped unless ``FORMULAR_TEST_DATABASE_URL`` points at PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from formular.sendouts import service, timers
from formular.storage.base import utcnow
from formular.storage.db import db
from formular.storage.models import Draft, Submission
from formular.storage.sendouts import Assignment, AssignmentEvent, InboxMessage, SendOut
from tests.auth.support import cookie_name

from .helpers import (
    answers,
    assignment_tokens,
    citizens,
    cookies,
    form_data,
    page_tokens,
    send_out,
)

pytestmark = pytest.mark.skipif(
    not os.environ.get("FORMULAR_TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="real write concurrency needs PostgreSQL (set FORMULAR_TEST_DATABASE_URL)")

ROUNDS = 20


def together(*work: Callable[[], Any], timeout: float = 60) -> list[Any]:
    """Run each callable in its own thread, released at the same moment; their results (an
    exception raised in a thread is raised here)."""
    barrier = threading.Barrier(len(work))
    results: list[Any] = [None] * len(work)
    failures: list[BaseException] = []

    def run(index: int, job: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout)
            results[index] = job()
        except BaseException as error:  # noqa: BLE001  (re-raised in the main thread)
            failures.append(error)

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(work)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(t.is_alive() for t in threads), "a thread hung (a deadlock?)"
    if failures:
        raise failures[0]
    return results


def browser(app: Flask, cookie: str) -> FlaskClient:
    client = app.test_client()
    client.set_cookie(cookie_name(app), cookie, domain=app.config.get("SERVER_NAME") or
                      "localhost")
    return client


def fresh(app: Flask, rounds: int) -> list[tuple[str, str]]:
    """(assignment token, citizen cookie) for ``rounds`` citizens, each sent the race form."""
    people = citizens(app, rounds)
    tokens = assignment_tokens(app, send_out(app, people))
    return [(tokens[person], cookie) for person, cookie in zip(people, cookies(app, people),
                                                             strict=True)]


def events(app: Flask, token: str, event: str) -> int:
    with app.app_context():
        count = db.session.scalar(
            select(func.count()).select_from(AssignmentEvent)
            .join(Assignment, Assignment.id == AssignmentEvent.assignment_id)
            .where(Assignment.token == token, AssignmentEvent.event == event))
        db.session.remove()
    return int(count or 0)


def assignment_row(app: Flask, token: str) -> Assignment:
    with app.app_context():
        row = db.session.scalars(select(Assignment).where(Assignment.token == token)).one()
        db.session.expunge(row)
        db.session.remove()
    return row


def test_two_submits_of_one_draft_store_one_submission(app: Flask) -> None:
    for token, cookie in fresh(app, ROUNDS):
        first, second = browser(app, cookie), browser(app, cookie)
        csrf, revision = page_tokens(first.get(f"/forms/{token}/0").get_data(as_text=True))
        saved = first.post(f"/forms/{token}/0", data={
            "csrf_token": csrf, "_revision": revision, "_action": "next",
            **form_data("Alfa", 1)})
        assert saved.status_code == 302
        assert saved.headers["Location"].endswith("/review")
        # The second tab has its own browser session (and CSRF token) for the same log-in.
        other_csrf, _ = page_tokens(second.get(f"/forms/{token}/0").get_data(as_text=True))

        responses = together(
            partial(first.post, f"/forms/{token}/submit", data={"csrf_token": csrf}),
            partial(second.post, f"/forms/{token}/submit", data={"csrf_token": other_csrf}))

        for response in responses:
            assert response.status_code == 302, response.status_code
            assert response.headers["Location"].endswith(f"/forms/{token}/receipt")
        assignment = assignment_row(app, token)
        with app.app_context():
            stored = db.session.scalars(select(Submission).where(
                Submission.draft_id == assignment.draft_id)).all()
            db.session.remove()
        assert len(stored) == 1
        assert assignment.submission_id == stored[0].id
        assert assignment.state == "answered"
        assert stored[0].answers == answers("Alfa", 1)
        assert events(app, token, "submit") == 1


def test_two_saves_of_the_same_revision_one_wins_whole(app: Flask) -> None:
    for number, (token, cookie) in enumerate(fresh(app, ROUNDS)):
        tabs = [browser(app, cookie), browser(app, cookie)]
        pages = [page_tokens(tab.get(f"/forms/{token}/0").get_data(as_text=True))
                 for tab in tabs]
        assert pages[0][1] == pages[1][1] == "0"
        sets = [("Alfa", 1000 + number, "red"), ("Beta", 2000 + number, "blue")]

        responses = together(*[
            partial(tab.post, f"/forms/{token}/0", data={
                "csrf_token": csrf, "_revision": revision, "_action": "next",
                **form_data(*answer_set)})
            for tab, (csrf, revision), answer_set in zip(tabs, pages, sets, strict=True)])

        codes = sorted(r.status_code for r in responses)
        assert codes == [302, 409], codes
        winner = [r.status_code for r in responses].index(302)
        with app.app_context():
            draft = db.session.scalars(select(Draft).join(
                Assignment, Assignment.draft_id == Draft.id).where(
                Assignment.token == token)).one()
            stored, revision = dict(draft.answers), draft.revision
            db.session.remove()
        assert stored == answers(*sets[winner]), stored
        assert revision == 1
        assert events(app, token, "save_draft") == 1


def send_out_row(send_out_id: int) -> SendOut:
    row = db.session.get(SendOut, send_out_id)
    assert row is not None
    return row


def _release_concurrently(app: Flask, moment: Callable[[], dt.datetime],
                          work: Callable[[Session, dt.datetime], int]) -> list[int]:
    def run() -> int:
        with app.app_context(), Session(db.engine) as session:
            done = work(session, moment())
            session.commit()
            return done

    return together(run, run)


def test_racing_releases_send_each_assignment_once(app: Flask) -> None:
    for _round in range(ROUNDS):
        people = citizens(app, 4)
        send_out_id = send_out(app, people, release=False)
        with app.app_context():
            assert send_out_row(send_out_id).status == "scheduled"
            db.session.remove()

        _release_concurrently(app, utcnow, service.release_due)

        with app.app_context():
            session = db.session()
            assert send_out_row(send_out_id).status == "sent"
            ids = select(Assignment.id).where(Assignment.send_out_id == send_out_id)
            states = session.scalars(select(Assignment.state).where(
                Assignment.send_out_id == send_out_id)).all()
            sends = session.execute(
                select(AssignmentEvent.assignment_id, func.count())
                .where(AssignmentEvent.assignment_id.in_(ids), AssignmentEvent.event == "send")
                .group_by(AssignmentEvent.assignment_id)).all()
            inbox = session.execute(
                select(InboxMessage.assignment_id, func.count())
                .where(InboxMessage.assignment_id.in_(ids))
                .group_by(InboxMessage.assignment_id)).all()
            db.session.remove()
        assert sorted(states) == ["sent"] * 4
        assert sorted(n for _id, n in sends) == [1] * 4
        assert sorted(n for _id, n in inbox) == [1] * 4


def test_racing_ticks_remind_each_assignment_once(app: Flask) -> None:
    for _round in range(ROUNDS // 4):
        people = citizens(app, 4)
        # Due now: a reminder three days before a deadline two days away.
        send_out_id = send_out(app, people, deadline_at=utcnow() + dt.timedelta(days=2),
                               reminder_days_before=[3])

        _release_concurrently(app, utcnow, timers.tick)

        with app.app_context():
            session = db.session()
            rows = session.scalars(select(Assignment).where(
                Assignment.send_out_id == send_out_id)).all()
            ids = [row.id for row in rows]
            reminders = session.execute(
                select(AssignmentEvent.assignment_id, func.count())
                .where(AssignmentEvent.assignment_id.in_(ids),
                       AssignmentEvent.event == "remind")
                .group_by(AssignmentEvent.assignment_id)).all()
            messages = session.execute(
                select(InboxMessage.assignment_id, func.count())
                .where(InboxMessage.assignment_id.in_(ids))
                .group_by(InboxMessage.assignment_id)).all()
            fired = send_out_row(send_out_id).timers_fired
            sent_counts = [row.reminders_sent for row in rows]
            db.session.remove()
        assert sorted(n for _id, n in reminders) == [1] * 4
        assert sent_counts == [1] * 4
        # The send-out's own message and one reminder each.
        assert sorted(n for _id, n in messages) == [2] * 4
        assert fired.count("reminder:-P3D") == 1, fired


def test_two_tabs_opening_a_new_assignment_open_it_once_and_store_no_draft(app: Flask) -> None:
    doubled = []
    for token, cookie in fresh(app, ROUNDS):
        tabs = [browser(app, cookie) for _ in range(3)]
        responses = together(*[partial(tab.get, f"/forms/{token}/0") for tab in tabs])
        assert [r.status_code for r in responses] == [200, 200, 200]
        assignment = assignment_row(app, token)
        drafts_made = _drafts_of(app, assignment)
        opened = events(app, token, "open")
        if drafts_made != 0 or opened != 1 or assignment.state != "opened":
            doubled.append((drafts_made, opened, assignment.state))
    assert doubled == [], f"{len(doubled)} of {ROUNDS} rounds: (drafts, 'open' events) {doubled}"


def test_two_tabs_saving_a_first_draft_keep_exactly_one(app: Flask) -> None:
    """Looking stores no draft; the first save does. Of two windows saving their first draft
    at once one is kept (and recorded on the assignment), the other is told and stores
    nothing: no second draft, no second 'save_draft' event."""
    for number, (token, cookie) in enumerate(fresh(app, ROUNDS)):
        tabs = [browser(app, cookie), browser(app, cookie)]
        tokens = [page_tokens(tab.get(f"/forms/{token}/0").get_data(as_text=True))
                  for tab in tabs]
        responses = together(*[
            partial(tab.post, f"/forms/{token}/0", data={
                "csrf_token": csrf, "_revision": revision, "_action": "save",
                **form_data(name, number % 3)})
            for tab, (csrf, revision), name in zip(tabs, tokens, ("Alfa", "Beta"), strict=True)])
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [200, 409], statuses
        winner = ("Alfa", "Beta")[[r.status_code for r in responses].index(200)]
        assignment = assignment_row(app, token)
        with app.app_context():
            draft = db.session.get(Draft, assignment.draft_id)
            assert draft is not None
            kept, revision = draft.answers, draft.revision
            db.session.remove()
        assert (assignment.state, revision) == ("in-progress", 1)
        assert kept == answers(winner, number % 3)
        assert _drafts_of(app, assignment) == 1
        assert events(app, token, "save_draft") == 1


def _drafts_of(app: Flask, assignment: Assignment) -> int:
    with app.app_context():
        made = db.session.scalar(
            select(func.count()).select_from(Draft).where(
                Draft.citizen_id == assignment.citizen_id,
                Draft.definition_version_id == assignment.send_out.definition_version_id))
        db.session.remove()
    return int(made or 0)
