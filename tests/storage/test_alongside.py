"""Reads made alongside the request's first statement: one SELECT gives both rows (or the first
row and NULLs), the view takes its values once and only for the statement and parameters it
asked for."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, bindparam, create_engine, select
from sqlalchemy.orm import Session

from formular.storage import alongside
from formular.storage.alongside import Alongside

_META = MetaData()
_PEOPLE = Table("people", _META, Column("id", Integer, primary_key=True),
                Column("name", String(20)))
_THINGS = Table("things", _META, Column("id", Integer, primary_key=True),
                Column("token", String(20)), Column("owner", Integer))
FIRST = select(_PEOPLE.c.id, _PEOPLE.c.name).where(_PEOPLE.c.name == bindparam("name"))
SECOND = select(_THINGS.c.id.label("t_id"), _THINGS.c.owner.label("t_owner")).where(
    _THINGS.c.token == bindparam("token"))


@pytest.fixture
def session() -> Iterator[Session]:
    engine = create_engine("sqlite://")
    _META.create_all(engine)
    with engine.begin() as connection:
        connection.execute(_PEOPLE.insert(), [{"id": 1, "name": "Tolvan"}])
        connection.execute(_THINGS.insert(), [{"id": 7, "token": "abc", "owner": 1}])
    with Session(engine) as db_session:
        yield db_session
    engine.dispose()


def test_one_select_reads_both_and_is_built_once(session: Session) -> None:
    statement, names = alongside.joined(FIRST, SECOND)
    assert alongside.joined(FIRST, SECOND)[0] is statement
    assert names == ("t_id", "t_owner")
    row = session.execute(statement, {"name": "Tolvan", "token": "abc"}).one()
    assert row._asdict() == {"id": 1, "name": "Tolvan", "t_id": 7, "t_owner": 1}
    missing = session.execute(statement, {"name": "Tolvan", "token": "nope"}).one()
    assert missing._asdict() == {"id": 1, "name": "Tolvan", "t_id": None, "t_owner": None}
    assert session.execute(statement, {"name": "Nobody", "token": "abc"}).first() is None


def test_values_are_taken_once_and_only_for_what_was_asked(session: Session) -> None:
    asked = Alongside(SECOND, {"token": "abc"})
    alongside.stash(session, asked, {"t_id": 7, "t_owner": 1})
    assert alongside.take(session, SECOND, {"token": "abc"}) == {"t_id": 7, "t_owner": 1}
    assert alongside.take(session, SECOND, {"token": "abc"}) is None

    alongside.stash(session, asked, {"t_id": 7, "t_owner": 1})
    assert alongside.take(session, SECOND, {"token": "other"}) is None
    assert alongside.take(session, SECOND, {"token": "abc"}) is None  # (dropped, read afresh)

    alongside.stash(session, asked, {"t_id": 7, "t_owner": 1})
    assert alongside.take(session, FIRST, {"token": "abc"}) is None
