"""Running a worker, and following a job's progress from the command line.

``formular worker`` calls :func:`run_worker`; ``formular demo`` starts one beside the web
server with :func:`start_worker_process` so the first README command runs everything the
platform needs; ``formular jobs progress ID`` draws :func:`progress` as a bar.

Exactly one worker should run with ``beat``: the tick releases due send-outs and starts the
outbox drain. (A second one is harmless — the tick takes a lock on PostgreSQL, and every
task is idempotent — only wasteful.)

Run as a module (``python -m formular.jobs.worker [--concurrency N] [--beat]``) it builds the
app from the ``FORMULAR_*`` environment, as the ``formular`` command does.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy import select

from formular.storage.sendouts import Job

from .celery_app import get_celery, is_embedded_broker, session_factory

#: A job in one of these states will not move any more; ``waiting`` is a send-out preview
#: that waits for a person to confirm it, not for a worker.
FINISHED = frozenset({"done", "failed", "cancelled", "waiting"})


def worker_argv(app: Flask, concurrency: int = 1, beat: bool = False,
                loglevel: str = "INFO") -> list[str]:
    """The ``celery worker`` arguments :func:`run_worker` uses (solo pool for one process,
    prefork for more)."""
    celery = get_celery(app)
    url = str(celery.conf.broker_url)
    if url.startswith("memory://"):
        raise RuntimeError("the in-memory broker only works inside one process; set "
                           "CELERY_BROKER_URL (or unset TESTING) to run a worker")
    concurrency = max(1, concurrency)
    argv = ["worker", f"--pool={'solo' if concurrency == 1 else 'prefork'}",
            f"--concurrency={concurrency}", f"--loglevel={loglevel}",
            f"--hostname=formular.{os.getpid()}@%h"]
    if beat:
        argv.append("--beat")
    if is_embedded_broker(url):
        # The SQLAlchemy transport has no fan-out: the remote-control chatter cannot work.
        argv += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
    return argv


def run_worker(app: Flask, concurrency: int = 1, beat: bool = False,
               loglevel: str = "INFO") -> None:
    """Run a Celery worker for ``app`` in this process until it is stopped (SIGTERM or
    Ctrl+C finish the running task first)."""
    get_celery(app).worker_main(worker_argv(app, concurrency, beat, loglevel))


def start_worker_process(*, concurrency: int = 1, beat: bool = True,
                         env: Mapping[str, str] | None = None,
                         extra_args: Sequence[str] = (), **popen: Any) -> subprocess.Popen[bytes]:
    """Start ``python -m formular.jobs.worker`` beside this process (for ``formular demo``).

    It reads the same ``FORMULAR_*`` environment (plus ``env``), so it finds the same
    database and broker. It runs in its own session: Ctrl+C in the terminal reaches only the
    parent, which then stops the worker with :func:`stop_worker_process` after its current
    task. ``popen`` goes to ``subprocess.Popen`` (``stdout=`` a log file, say).
    """
    command = [sys.executable, "-m", "formular.jobs.worker", "--concurrency", str(concurrency)]
    if beat:
        command.append("--beat")
    command += list(extra_args)
    return subprocess.Popen(command, env={**os.environ, **(env or {})},  # noqa: S603
                            start_new_session=True, **popen)


def stop_worker_process(process: subprocess.Popen[bytes], timeout: float = 30.0) -> int:
    """Warm shutdown (SIGTERM: finish the task in hand), then SIGKILL after ``timeout``."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


@dataclass(frozen=True)
class JobProgress:
    """One reading of a job's progress row."""

    job_id: int
    kind: str
    status: str
    done: int
    total: int
    error: str | None

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else (1.0 if self.finished else 0.0)


def read_progress(app: Flask, job_id: int) -> JobProgress | None:
    """The job's progress now, or None when there is no such job."""
    with session_factory(app)() as session:
        row = session.execute(select(Job.kind, Job.status, Job.done, Job.total, Job.error)
                              .where(Job.id == job_id)).first()
    if row is None:
        return None
    return JobProgress(job_id, row.kind, row.status, row.done, row.total, row.error)


def progress(app: Flask, job_id: int, *, interval: float = 0.5,
             timeout: float | None = None) -> Iterator[JobProgress]:
    """Yield the job's progress each time it changes, until it is finished, it disappears or
    ``timeout`` seconds have passed. Yields nothing for an unknown job."""
    deadline = None if timeout is None else time.monotonic() + timeout
    last: JobProgress | None = None
    while True:
        current = read_progress(app, job_id)
        if current is None:
            return
        if current != last:
            yield current
            last = current
        if current.finished or (deadline is not None and time.monotonic() >= deadline):
            return
        time.sleep(interval)


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m formular.jobs.worker``: what ``formular demo`` starts."""
    from formular import create_app

    parser = argparse.ArgumentParser(prog="python -m formular.jobs.worker",
                                     description="Run a Formulär background worker.")
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--beat", action="store_true", help="also run the minute tick")
    parser.add_argument("--loglevel", default="INFO")
    options = parser.parse_args(argv)
    run_worker(create_app(), options.concurrency, options.beat, options.loglevel)


if __name__ == "__main__":
    main()
