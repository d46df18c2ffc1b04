"""Helpers for the job tests: the shapes the fixtures return, a worker's environment, and
polling with the worker's log on failure."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from formular.auth.permissions import Actor

RECIPIENTS = 2000


@dataclass(frozen=True)
class Clinic:
    unit_id: int
    actor: Actor
    citizen_ids: list[int]
    emails: dict[int, str]


SendOutMaker = Callable[..., tuple[int, int]]



@dataclass
class WorkerProcess:
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-6000:]


def worker_environment(database_url: str, broker: str, queue: str,
                       tmp_path: Path) -> dict[str, str]:
    """A worker's settings: the test app's database, the given broker and a queue of its own
    (so a parallel run on the same Redis cannot steal the message), files under tmp_path."""
    environ = {key: value for key, value in os.environ.items()
               if not key.startswith("FORMULAR_")}
    environ.update({
        "FORMULAR_DATABASE_URL": database_url,
        "FORMULAR_SECRET_KEY": "worker-test",
        "FORMULAR_DEMO": "1",
        "FORMULAR_CELERY_BROKER_URL": broker,
        "FORMULAR_CELERY_TASK_DEFAULT_QUEUE": queue,
        "FORMULAR_CELERY_BEAT_SCHEDULE_FILENAME": str(tmp_path / "celerybeat-schedule"),
        "FORMULAR_MAIL_OUTBOX_DIR": str(tmp_path / "outbox"),
        "FORMULAR_JOBS_TICK_SECONDS": "1",
        "FORMULAR_SENDOUT_BATCH_SIZE": "500",
    })
    return environ


def wait_for(condition: Callable[[], bool], worker: WorkerProcess, timeout: float = 60,
             what: str = "the worker") -> None:
    """Poll ``condition`` until it holds; fail with the worker's log otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if worker.process.poll() is not None:
            pytest.fail(f"the worker exited ({worker.process.returncode}):\n{worker.output()}")
        time.sleep(0.2)
    pytest.fail(f"{what} did not finish in {timeout:.0f} s; worker log:\n{worker.output()}")


class Workers:
    """Worker processes of one test, each logging to a file under tmp_path."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.started: list[WorkerProcess] = []

    def log_path(self) -> Path:
        return self.folder / f"worker-{len(self.started)}.log"

    def start(self, command: list[str], environ: dict[str, str]) -> WorkerProcess:
        """``python <command>`` with exactly ``environ``."""
        log = self.log_path()
        with log.open("wb") as sink:
            process = subprocess.Popen([sys.executable, *command], env=environ,
                                       stdout=sink, stderr=subprocess.STDOUT,
                                       cwd=self.folder, start_new_session=True)
        return self.adopt(process, log)

    def adopt(self, process: subprocess.Popen[bytes], log: Path) -> WorkerProcess:
        """Stop this process after the test too."""
        worker = WorkerProcess(process, log)
        self.started.append(worker)
        return worker

    def stop_all(self) -> None:
        for worker in self.started:
            if worker.process.poll() is None:
                worker.process.send_signal(signal.SIGTERM)
                try:
                    worker.process.wait(20)
                except subprocess.TimeoutExpired:
                    os.killpg(worker.process.pid, signal.SIGKILL)
                    worker.process.wait()
