"""The database engine and the session of a request.

Services ``flush``; the request boundary commits once and rolls back on any exception, so a
request either writes everything it meant to or nothing.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final

from sqlalchemy import Engine, create_engine, event, exc, text
from sqlalchemy.orm import Session, scoped_session, sessionmaker

#: PostgreSQL: this transaction's COMMIT returns without waiting for its WAL to reach the disk.
_NO_WAIT_FOR_FLUSH = text("SET LOCAL synchronous_commit TO OFF")


def make_engine(url: str, **options: Any) -> Engine:
    """An engine with the settings each backend needs for concurrent web workers."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **options)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection: Any, _record: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    engine = create_engine(url, **options)
    ping_after_idle(engine, PING_AFTER_IDLE_SECONDS)
    return engine


#: A pooled server connection back in the pool for less than this is used without a ping.
PING_AFTER_IDLE_SECONDS: Final = 1.0

_LAST_USED: Final = "formular.last_used"


def ping_after_idle(engine: Engine, idle_seconds: float) -> None:
    """Check a pooled connection at checkout when it has been idle, so a database restart or
    a dropped connection never reaches a request as an error.

    SQLAlchemy's ``pool_pre_ping`` pings on every checkout: one round trip to the server per
    request, about 4 % of a citizen's submission on PostgreSQL. A connection that was in use
    a moment ago is as good as a ping, so this pings only after ``idle_seconds`` in the pool
    (or never for a new connection), through the pool's documented checkout hook: a failed
    ping raises ``InvalidatePoolError``, and the pool, exactly as for its own pre-ping, drops
    every connection of that generation and hands out a fresh one. The one case left is a
    server that restarts within ``idle_seconds`` of a connection's last use; its next request
    fails as it would have with any failure between a ping and the query.
    """
    dialect = engine.dialect

    @event.listens_for(engine, "connect")
    @event.listens_for(engine, "checkin")
    def _mark_used(_dbapi_connection: Any, record: Any) -> None:
        record.info[_LAST_USED] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        last_used = record.info.get(_LAST_USED)
        if last_used is not None and time.monotonic() - last_used < idle_seconds:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                raise exc.InvalidatePoolError() from error
            raise


def commit_bookkeeping(session: Session) -> None:
    """Commit a transaction whose writes only record that something was looked at (a form
    opened, a message read), without making the request wait for the disk.

    On PostgreSQL such a commit is asynchronous (``synchronous_commit`` off for this
    transaction only): a crash of the database server within a fraction of a second may lose
    it, which costs the mark and nothing else. It can never be lost while anything committed
    after it survives, since the write-ahead log is flushed in order, so a draft or submission
    stored later always finds the assignment opened. Answers, submissions, staff actions and
    the access log keep the ordinary, waiting commit. SQLite (WAL with ``synchronous=NORMAL``)
    already commits without a flush, so there it is a plain commit.
    """
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(_NO_WAIT_FOR_FLUSH)
    session.commit()


class Database:
    """Holds the engine and a thread-local session bound to the Flask app context."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.session: scoped_session[Session] = scoped_session(sessionmaker())

    def init_app(self, app: Any) -> None:
        from . import schema  # noqa: F401  (configures every mapper before the first query)

        self.engine = make_engine(app.config["DATABASE_URL"])
        self.session.configure(bind=self.engine, expire_on_commit=False)
        app.extensions["formular.db"] = self

        def _end_session(exception: BaseException | None) -> None:
            if exception is not None:
                self.session.rollback()
            self.session.remove()

        app.teardown_appcontext(_end_session)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A unit of work outside a request (CLI, jobs): commit on success, else roll back."""
        session = self.session()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


db = Database()
