"""The engine's connection handling: idle connections are checked before use (a restarted
database never reaches a request as an error) and bookkeeping commits do not wait for the
disk on PostgreSQL, without the setting leaking into the next transaction."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event, exc, text
from sqlalchemy.orm import Session

from formular.storage.db import commit_bookkeeping, make_engine, ping_after_idle

POSTGRES_URL = os.environ.get("FORMULAR_TEST_DATABASE_URL", "")
needs_postgres = pytest.mark.skipif(
    not POSTGRES_URL.startswith("postgresql"),
    reason="server connections and commit durability exist on PostgreSQL only "
           "(set FORMULAR_TEST_DATABASE_URL)")


def _psycopg(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


@pytest.fixture
def scratch_engine(database_url: str) -> Iterator[Engine]:
    """The test database's engine, with a table of its own, dropped afterwards."""
    engine = make_engine(database_url, pool_size=1, max_overflow=0) \
        if database_url.startswith("postgresql") else make_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE test_bookkeeping (mark INTEGER)"))
    yield engine
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE test_bookkeeping"))
    engine.dispose()


def _terminate(pid: int) -> None:
    admin = create_engine(_psycopg(POSTGRES_URL))
    with admin.begin() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    admin.dispose()
    time.sleep(0.2)


def _backend_pid(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def test_a_bookkeeping_commit_is_stored(scratch_engine: Engine) -> None:
    with Session(scratch_engine) as session:
        session.execute(text("INSERT INTO test_bookkeeping (mark) VALUES (1)"))
        commit_bookkeeping(session)
    with scratch_engine.connect() as connection:
        assert connection.execute(text("SELECT mark FROM test_bookkeeping")).scalars().all() \
            == [1]


@needs_postgres
def test_a_bookkeeping_commit_does_not_wait_and_the_next_transaction_does(
        scratch_engine: Engine) -> None:
    """Just before its COMMIT the transaction runs with ``synchronous_commit`` off; the same
    pooled connection's next transaction (a submission, say) is back to waiting."""
    seen: list[str] = []

    def _before_commit(connection: Any) -> None:
        cursor = connection.connection.dbapi_connection.cursor()
        cursor.execute("SHOW synchronous_commit")
        seen.append(cursor.fetchone()[0])
        cursor.close()

    event.listen(scratch_engine, "commit", _before_commit)
    try:
        with Session(scratch_engine) as session:
            session.execute(text("INSERT INTO test_bookkeeping (mark) VALUES (1)"))
            commit_bookkeeping(session)
        with Session(scratch_engine) as session:
            session.execute(text("INSERT INTO test_bookkeeping (mark) VALUES (2)"))
            session.commit()
    finally:
        event.remove(scratch_engine, "commit", _before_commit)
    assert seen == ["off", "on"]


@needs_postgres
def test_an_idle_connection_killed_by_the_server_is_replaced_without_an_error() -> None:
    engine = create_engine(_psycopg(POSTGRES_URL), pool_size=1, max_overflow=0)
    ping_after_idle(engine, 0.0)
    try:
        first = _backend_pid(engine)
        _terminate(first)
        assert _backend_pid(engine) != first
    finally:
        engine.dispose()


@needs_postgres
def test_a_connection_used_a_moment_ago_is_not_pinged() -> None:
    """The trade-off, measured: within ``idle_seconds`` of its last use a connection is
    trusted without a round trip; after that it is pinged once."""
    engine = create_engine(_psycopg(POSTGRES_URL), pool_size=1, max_overflow=0)
    pings: list[Any] = []
    real_ping = engine.dialect.do_ping

    def counting_ping(dbapi_connection: Any) -> bool:
        pings.append(dbapi_connection)
        return bool(real_ping(dbapi_connection))

    engine.dialect.do_ping = counting_ping  # type: ignore[method-assign]
    ping_after_idle(engine, 0.3)
    try:
        _backend_pid(engine)  # a new connection: not pinged
        _backend_pid(engine)  # back in the pool a moment ago: not pinged
        assert pings == []
        time.sleep(0.4)
        _backend_pid(engine)
        assert len(pings) == 1
    finally:
        engine.dispose()


@needs_postgres
def test_without_a_ping_a_killed_connection_fails_once_and_the_pool_recovers() -> None:
    """What the ping saves a request from (and what a restart within ``idle_seconds`` of a
    connection's last use still costs): one failed statement, then fresh connections."""
    engine = create_engine(_psycopg(POSTGRES_URL), pool_size=1, max_overflow=0)
    ping_after_idle(engine, 3600.0)
    try:
        first = _backend_pid(engine)
        _terminate(first)
        with pytest.raises(exc.DBAPIError) as failed:
            _backend_pid(engine)
        assert failed.value.connection_invalidated
        assert _backend_pid(engine) != first
    finally:
        engine.dispose()


def test_make_engine_pings_idle_server_connections_not_sqlite_files(tmp_path: Any) -> None:
    sqlite = make_engine(f"sqlite:///{tmp_path / 'plain.sqlite'}")
    server = make_engine("postgresql://nobody@127.0.0.1:1/none")  # (never connected)
    try:
        assert list(sqlite.pool.dispatch.checkout) == []
        assert len(list(server.pool.dispatch.checkout)) == 1
        assert not server.pool._pre_ping  # (the idle ping replaces the pool's own)
    finally:
        sqlite.dispose()
        server.dispose()
