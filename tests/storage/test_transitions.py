"""A workflow move is a compare-and-set on the state it was decided from (``transitions.fire``).

Two requests holding the same assignment (two tabs, a reminder job beside a withdrawal) both
ask the engine from the state they loaded; only the first write wins and writes history. These
run on SQLite too: the second session simply holds a stale copy.
"""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from formular.auth.permissions import Actor
from formular.sendouts import answering, transitions
from formular.storage.base import utcnow
from formular.storage.db import db
from formular.storage.sendouts import Assignment, AssignmentEvent

from .helpers import assignment_tokens, citizens, send_out


def _load(session: Session, token: str) -> Assignment:
    return session.scalars(select(Assignment).where(Assignment.token == token)).one()


def _sent_to_one(app: Flask) -> tuple[str, Actor]:
    """A fresh assignment's token and its citizen as the actor."""
    person = citizens(app, 1)[0]
    token = assignment_tokens(app, send_out(app, [person]))[person]
    return token, Actor(kind="citizen", citizen_id=person)


def _history(app: Flask, token: str) -> list[tuple[str, str | None, str | None]]:
    with app.app_context():
        rows = db.session.execute(
            select(AssignmentEvent.event, AssignmentEvent.from_state, AssignmentEvent.to_state)
            .join(Assignment, Assignment.id == AssignmentEvent.assignment_id)
            .where(Assignment.token == token).order_by(AssignmentEvent.id)).all()
        db.session.remove()
    return [tuple(row) for row in rows]


def test_a_move_from_a_stale_state_is_refused_and_writes_nothing(app: Flask) -> None:
    token, citizen = _sent_to_one(app)
    with app.app_context():
        with Session(db.engine, expire_on_commit=False) as first, \
                Session(db.engine, expire_on_commit=False) as second:
            mine, theirs = _load(first, token), _load(second, token)
            second.rollback()  # end the read, as a request between pages would
            assert mine.state == theirs.state == "sent"

            won = transitions.fire(first, mine, "open", citizen, utcnow())
            first.commit()
            lost = transitions.fire(second, theirs, "open", citizen, utcnow())
            second.commit()

    assert won.ok
    assert won.target == "opened"
    assert mine.state == "opened"
    assert not lost.ok
    assert lost.reason == "no-transition"
    assert theirs.state == "sent", "the loser's copy is not moved either"
    assert [e for e in _history(app, token) if e[0] == "open"] == [("open", "sent", "opened")]


def test_moves_in_sequence_each_write_one_history_row(app: Flask) -> None:
    token, citizen = _sent_to_one(app)
    with app.app_context():
        session = db.session()
        row = _load(session, token)
        assert transitions.fire(session, row, "open", citizen, utcnow()).ok
        assert transitions.fire(session, row, "save_draft", citizen, utcnow()).ok
        session.commit()
        db.session.remove()
    assert _history(app, token)[-2:] == [("open", "sent", "opened"),
                                         ("save_draft", "opened", "in-progress")]


def test_plain_rows_move_like_entities_and_a_stale_row_writes_nothing(app: Flask) -> None:
    """A citizen's form requests move plain rows (``sendouts.answering``): the winner's row
    takes the new state, the loser's stays and no second history row is written (on
    PostgreSQL the move and its history row are one statement)."""
    token, citizen = _sent_to_one(app)
    with app.app_context():
        with Session(db.engine) as first, Session(db.engine) as second:
            mine, theirs = answering.find(first, token), answering.find(second, token)
            assert mine is not None
            assert theirs is not None
            second.rollback()
            won = transitions.fire(first, mine.assignment, "open", citizen, utcnow())
            first.commit()
            lost = transitions.fire(second, theirs.assignment, "open", citizen, utcnow())
            second.commit()
    assert (won.ok, mine.assignment.state) == (True, "opened")
    assert (lost.ok, lost.reason, theirs.assignment.state) == (False, "no-transition", "sent")
    assert [e for e in _history(app, token) if e[0] == "open"] == [("open", "sent", "opened")]


def test_a_move_whose_action_changes_the_entity_refuses_a_plain_row(app: Flask) -> None:
    """Reminders count on the assignment entity (flushed at commit); a plain row would lose
    the count, so the move refuses it before writing anything."""
    token, _citizen = _sent_to_one(app)
    system = Actor(kind="anonymous")
    with app.app_context():
        session = db.session()
        found = answering.find(session, token)
        assert found is not None
        with pytest.raises(TypeError, match="notify_citizen needs the assignment entity"):
            transitions.fire(session, found.assignment, "remind", system, utcnow())
        session.commit()  # (whatever the move had written would be kept now)
        db.session.remove()
    assert [e for e in _history(app, token) if e[0] == "remind"] == []
