"""The database engine and the session of a request.

Services ``flush``; the request boundary commits once and rolls back on any exception, so a
request either writes everything it meant to or nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, scoped_session, sessionmaker


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
    return create_engine(url, pool_pre_ping=True, **options)


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
