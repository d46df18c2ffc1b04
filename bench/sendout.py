"""Send-out to 100,000 recipients: Formulär's path against a raw SQLAlchemy Core bulk insert.

What is timed (``time.perf_counter``), for each database:

* **ours**: ``sendouts.service.create_send_out`` + commit, then
  ``insert_assignments(sessionmaker, job_id)``: the send-out row, the job row (with the
  recipient ids as JSON), then batches of assignments (SQLAlchemy Core, one statement per
  batch) with a progress commit after each. The send-out is scheduled for tomorrow, so the
  release is not part of it. The recipient verdicts are built before the clock starts, as the
  preview page has them.
* **baseline**: building the same rows (same columns, a ``secrets.token_urlsafe(24)`` token
  each) and one ``conn.execute(insert(assignment), rows)`` in one transaction, into the same
  table for a send-out made beforehand. The insert alone is reported too.

Citizens are created in bulk with Core before anything is timed. Each measure is the median
of ``--repeats`` runs; ours and the baseline alternate which goes first, and the assignments
of every run are deleted (and, on SQLite, the WAL checkpointed) before the next, so each run
meets the same table. SQLite is a temporary file in WAL mode with the app's own engine
settings; PostgreSQL runs when ``FORMULAR_BENCH_DATABASE_URL`` or
``FORMULAR_TEST_DATABASE_URL`` is set, in a scratch database created beside the given one and
dropped afterwards (``--sqlite-only`` skips it).

Run: ``.venv/bin/python bench/sendout.py [--rows N] [--repeats R]``. A table goes to stderr and
one JSON line to stdout. Nothing is asserted about timings.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, delete, func, insert, make_url, select, text  # noqa: E402
from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

from formular.auth.permissions import Actor  # noqa: E402
from formular.definitions.service import read_file  # noqa: E402
from formular.designs import store  # noqa: E402
from formular.sendouts import service  # noqa: E402
from formular.sendouts.recipients import RawRow, RowVerdict  # noqa: E402
from formular.storage import migrate  # noqa: E402
from formular.storage.base import utcnow  # noqa: E402
from formular.storage.db import make_engine  # noqa: E402
from formular.storage.identity import Citizen, Role, StaffUser, Unit  # noqa: E402
from formular.storage.models import DefinitionVersion  # noqa: E402
from formular.storage.sendouts import Assignment, Job, SendOut  # noqa: E402


def note(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class World:
    """What every run needs, made once per database."""

    engine: Engine
    sessions: sessionmaker[Session]
    unit_id: int
    staff_id: int
    version_id: int
    citizen_ids: list[int]
    verdicts: list[RowVerdict]

    @property
    def actor(self) -> Actor:
        return Actor(kind="staff", staff_user_id=self.staff_id,
                     units={self.unit_id: frozenset({Role.SENDER})})


def prepare(url: str, rows: int) -> World:
    """Migrate, store PHQ-9, and create a unit, a sender and ``rows`` citizens (Core)."""
    migrate.upgrade(url)
    engine = make_engine(url)
    sessions = sessionmaker(bind=engine, expire_on_commit=False)
    document, problems = read_file(ROOT / "designs" / "phq-9.json")
    if problems:
        raise SystemExit(f"phq-9.json has problems: {problems}")
    with sessions() as session:
        version, _new = store(session, document)
        unit = Unit(slug=f"bench-{secrets.token_hex(4)}", name="Vårdcentralen Bänk",
                    kind="clinic")
        session.add(unit)
        session.flush()
        staff = StaffUser(username=f"bench-{secrets.token_hex(4)}", display_name="Bänk")
        session.add(staff)
        session.commit()
        unit_id, staff_id, version_id = unit.id, staff.id, version.id
    created = utcnow()
    people = [{"personnummer": f"18{index:010d}", "name": f"Bänk {index}",
               "email": f"bench{index}@example.org", "protected_identity": False,
               "deceased": False, "locked": False, "created_at": created}
              for index in range(rows)]
    with engine.begin() as connection:
        connection.execute(insert(Citizen), people)
        citizen_ids = list(connection.scalars(
            select(Citizen.id).where(Citizen.personnummer.like("18%"))
            .order_by(Citizen.id)))
    verdicts = [RowVerdict(RawRow(number + 1, ""), "ok", None, citizen_id)
                for number, citizen_id in enumerate(citizen_ids)]
    return World(engine, sessions, unit_id, staff_id, version_id, citizen_ids, verdicts)


def run_ours(world: World) -> tuple[float, int]:
    """create_send_out + commit + insert_assignments; returns (seconds, send_out_id)."""
    tomorrow = utcnow() + dt.timedelta(days=1)
    started = time.perf_counter()
    with world.sessions() as session:
        version = session.get(DefinitionVersion, world.version_id)
        assert version is not None
        send_out, job = service.create_send_out(
            session, world.actor, unit_id=world.unit_id, version=version,
            verdicts=world.verdicts, scheduled_at=tomorrow, deadline_at=None, expires_at=None,
            reminder_days_before=[], subject="Ett formulär", body="Svara gärna.")
        session.commit()
        send_out_id, job_id = send_out.id, job.id
    service.insert_assignments(world.sessions, job_id)
    elapsed = time.perf_counter() - started
    with world.sessions() as session:
        status = session.scalar(select(Job.status).where(Job.id == job_id))
        count = session.scalar(select(func.count()).select_from(Assignment).where(
            Assignment.send_out_id == send_out_id))
    if status != "done" or count != len(world.citizen_ids):
        raise SystemExit(f"our send-out did not finish: job {status}, {count} assignments")
    return elapsed, send_out_id


def run_baseline(world: World) -> tuple[float, float, int]:
    """Rows built and inserted with one Core executemany in one transaction; returns
    (seconds including row building, seconds of the insert alone, send_out_id)."""
    now = utcnow()
    with world.engine.begin() as connection:
        send_out_id = connection.scalar(insert(SendOut).values(
            unit_id=world.unit_id, definition_version_id=world.version_id,
            created_by_id=world.staff_id, message_subject="Ett formulär",
            message_body="Svara gärna.", scheduled_at=now + dt.timedelta(days=1),
            reminder_days_before=[], notify_staff_on_answer=False, status="scheduled",
            total=len(world.citizen_ids), processed=0, created_at=now,
        ).returning(SendOut.id))
    started = time.perf_counter()
    created = utcnow()
    rows = [{"send_out_id": send_out_id, "citizen_id": citizen_id,
             "token": secrets.token_urlsafe(24), "state": "scheduled",
             "state_changed_at": created, "reminders_sent": 0, "created_at": created}
            for citizen_id in world.citizen_ids]
    built = time.perf_counter()
    with world.engine.begin() as connection:
        connection.execute(insert(Assignment.metadata.tables["assignment"]), rows)
    finished = time.perf_counter()
    return finished - started, finished - built, int(send_out_id or 0)


def clean(world: World, send_out_id: int) -> None:
    """Delete a run's assignments so the next run meets the same table (not timed)."""
    with world.engine.begin() as connection:
        connection.execute(delete(Assignment).where(Assignment.send_out_id == send_out_id))
    if world.engine.dialect.name == "sqlite":
        with world.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    else:
        with world.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE assignment")


def measure(world: World, repeats: int) -> dict[str, Any]:
    ours: list[float] = []
    baseline: list[float] = []
    insert_only: list[float] = []
    for repeat in range(repeats):
        order = ("ours", "baseline") if repeat % 2 == 0 else ("baseline", "ours")
        for which in order:
            if which == "ours":
                seconds, send_out_id = run_ours(world)
                ours.append(seconds)
            else:
                seconds, inserting, send_out_id = run_baseline(world)
                baseline.append(seconds)
                insert_only.append(inserting)
            clean(world, send_out_id)
    rows = len(world.citizen_ids)
    ours_s, base_s = statistics.median(ours), statistics.median(baseline)
    insert_s = statistics.median(insert_only)
    return {
        "sendout_s": round(ours_s, 4),
        "baseline_s": round(base_s, 4),
        "sendout_rows_per_s": round(rows / ours_s),
        "baseline_rows_per_s": round(rows / base_s),
        "baseline_insert_only_rows_per_s": round(rows / insert_s),
        "sendout_rate_ratio": round(base_s / ours_s, 3),
        "sendout_spread_s": [round(min(ours), 4), round(max(ours), 4)],
        "baseline_spread_s": [round(min(baseline), 4), round(max(baseline), 4)],
    }


@contextmanager
def sqlite_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="formular-bench-") as folder:
        yield f"sqlite:///{Path(folder) / 'bench.sqlite'}"


@contextmanager
def postgres_scratch(url: str) -> Iterator[str]:
    """A database of its own beside ``url`` (so the test database is left alone)."""
    parsed = make_url(url)
    name = f"formular_bench_{os.getpid()}"
    admin = make_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield parsed.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def report(label: str, rows: int, figures: dict[str, Any]) -> None:
    note(f"\n{label}: {rows:,} recipients, median of the runs")
    note(f"  {'measure':<44} {'seconds':>9} {'rows/s':>10}")
    note(f"  {'ours: create_send_out + insert_assignments':<44} "
         f"{figures['sendout_s']:>9.3f} {figures['sendout_rows_per_s']:>10,}")
    note(f"  {'baseline: build rows + Core executemany':<44} "
         f"{figures['baseline_s']:>9.3f} {figures['baseline_rows_per_s']:>10,}")
    note(f"  {'  of which the insert alone':<44} {'':>9} "
         f"{figures['baseline_insert_only_rows_per_s']:>10,}")
    note(f"  rate ratio ours/baseline: {figures['sendout_rate_ratio']:.2f} (target >= 0.5)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=100_000, help="recipients (100,000)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sqlite-only", action="store_true", help="skip PostgreSQL")
    args = parser.parse_args(argv)
    result: dict[str, Any] = {"rows": args.rows, "repeats": args.repeats,
                              "batch_size": service.BATCH_SIZE}

    with sqlite_url() as url:
        note(f"SQLite: preparing {args.rows:,} citizens …")
        world = prepare(url, args.rows)
        figures = measure(world, args.repeats)
        world.engine.dispose()
    report("SQLite (temporary file, WAL)", args.rows, figures)
    result.update(figures)

    pg_url = os.environ.get("FORMULAR_BENCH_DATABASE_URL") or os.environ.get(
        "FORMULAR_TEST_DATABASE_URL")
    if pg_url and pg_url.startswith("postgresql") and not args.sqlite_only:
        with postgres_scratch(pg_url) as url:
            note(f"PostgreSQL: preparing {args.rows:,} citizens …")
            world = prepare(url, args.rows)
            figures = measure(world, args.repeats)
            world.engine.dispose()
        report("PostgreSQL (psycopg 3)", args.rows, figures)
        result.update({f"{key}_pg": value for key, value in figures.items()})
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
