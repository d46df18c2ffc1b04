"""Killing the server mid-submit loses no acknowledged submission.

The real app runs under gunicorn (``-w 2 -k sync``, as in production) on the test database
(a temporary SQLite file, or PostgreSQL when ``FORMULAR_TEST_DATABASE_URL`` is set). Four
client threads, each a citizen with a log-in cookie, fill and submit forms in a loop over
HTTP; the whole server (master and workers) is SIGKILLed while they are at it, then started
again. Every submission the client saw acknowledged (``302`` to the receipt) must be stored
with its answers intact and have a receipt page; every draft must hold either nothing or the
whole page that was posted (never half of it); every acknowledged page save must be there; and
a citizen whose submit was cut off can finish afterwards, with exactly one submission.
"""

from __future__ import annotations

import http.client
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import pytest
from flask import Flask
from sqlalchemy import func, select

from formular.definitions.service import compile_cached
from formular.storage.db import db
from formular.storage.models import Draft, Submission
from formular.storage.sendouts import Assignment
from tests.auth.support import cookie_name
from tests.conftest import ROOT
from tests.storage.helpers import (
    answers,
    assignment_tokens,
    citizens,
    cookies,
    form_data,
    page_tokens,
    send_out,
)

CLIENTS = 4
FORMS = 100
#: Kill once this many submissions were acknowledged (or after KILL_AFTER seconds).
ACKNOWLEDGED_BEFORE_KILL = 10
KILL_AFTER = 12.0
SECRET_KEY = "crash-test-secret"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """``gunicorn -w 2 -k sync 'formular:create_app()'`` in its own process group."""

    def __init__(self, database_url: str, log: Path) -> None:
        self.database_url = database_url
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0

    def start(self) -> None:
        self.port = _free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("FORMULAR_")}
        env.update(FORMULAR_DATABASE_URL=self.database_url, FORMULAR_SECRET_KEY=SECRET_KEY,
                   PYTHONPATH=str(ROOT))
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-w", "2", "-k", "sync", "--bind",
                 f"127.0.0.1:{self.port}", "--log-level", "warning", "formular:create_app()"],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text(errors="replace")[-3000:]
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                connection.request("GET", "/")
                status = connection.getresponse().status
                connection.close()
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        self.kill()
        pytest.fail("gunicorn did not start:\n" + self.log.read_text(errors="replace")[-3000:])

    def kill(self) -> None:
        """SIGKILL the master and its workers at once (a crash, not a shutdown)."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


class Browser:
    """A keep-alive connection and a cookie jar."""

    def __init__(self, port: int, cookies: dict[str, str]) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies = dict(cookies)

    #: Requests sent and not yet answered, across all browsers.
    in_flight = 0
    _lock = threading.Lock()

    def request(self, method: str, path: str, data: dict[str, str] | None = None
                ) -> tuple[int, str, str]:
        with Browser._lock:
            Browser.in_flight += 1
        try:
            return self._request(method, path, data)
        finally:
            with Browser._lock:
                Browser.in_flight -= 1

    def _request(self, method: str, path: str, data: dict[str, str] | None
                 ) -> tuple[int, str, str]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
                   "Accept": "text/html"}
        body = None
        if data is not None:
            body = urlencode(data).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.connection.request(method, path, body, headers)
            response = self.connection.getresponse()
            text = response.read().decode("utf-8", "replace")
        except (OSError, http.client.HTTPException):
            self.connection.close()
            raise
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _sep, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        if response.will_close:
            self.connection.close()
        return response.status, response.headers.get("Location", ""), text

    def close(self) -> None:
        self.connection.close()


@dataclass
class Ledger:
    """What the clients saw: acknowledged saves and submissions, and what was cut off."""

    saved: set[str] = field(default_factory=set)
    submitted: dict[str, str] = field(default_factory=dict)  # token → receipt location
    started: set[str] = field(default_factory=set)
    refused: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def fill_and_submit(browser: Browser, token: str, index: int, ledger: Ledger) -> None:
    """GET the page, POST the answers, POST submit; records each acknowledgement."""
    with ledger.lock:
        ledger.started.add(token)
    status, location, html = browser.request("GET", f"/forms/{token}/0")
    if status == 302 and location.endswith("/receipt"):
        with ledger.lock:  # submitted before (a retry after the crash)
            ledger.submitted[token] = location
        return
    if status != 200:
        ledger.refused.append(f"GET {token}: {status} {location}")
        return
    csrf, revision = page_tokens(html)
    status, location, _html = browser.request("POST", f"/forms/{token}/0", {
        "csrf_token": csrf, "_revision": revision, "_action": "next",
        **form_data(f"crash-{index}", index)})
    if status == 409:  # a save that was cut off did land: the page was stored already
        status, location, html = browser.request("GET", f"/forms/{token}/0")
        assert status == 200, status
        csrf, revision = page_tokens(html)
        status, location, _html = browser.request("POST", f"/forms/{token}/0", {
            "csrf_token": csrf, "_revision": revision, "_action": "next",
            **form_data(f"crash-{index}", index)})
    if status != 302 or not location.endswith("/review"):
        ledger.refused.append(f"POST page {token}: {status} {location}")
        return
    with ledger.lock:
        ledger.saved.add(token)
    status, location, _html = browser.request("POST", f"/forms/{token}/submit",
                                              {"csrf_token": csrf})
    if status != 302 or not location.endswith(f"/forms/{token}/receipt"):
        ledger.refused.append(f"POST submit {token}: {status} {location}")
        return
    with ledger.lock:
        ledger.submitted[token] = location


def test_killing_the_server_mid_submit_loses_no_acknowledged_submission(
        app: Flask, database_url: str, tmp_path: Path) -> None:
    people = citizens(app, FORMS)
    tokens = assignment_tokens(app, send_out(app, people))
    work = [(tokens[person], cookie, index) for index, (person, cookie) in
            enumerate(zip(people, cookies(app, people), strict=True))]
    index_of = {token: index for token, _cookie, index in work}
    cookie_of = {token: cookie for token, cookie, _index in work}
    login = cookie_name(app)
    server = Server(database_url, tmp_path / "gunicorn.log")
    server.start()
    ledger = Ledger()
    todo: queue.Queue[tuple[str, str, int]] = queue.Queue()
    for job in work:
        todo.put(job)
    stop = threading.Event()
    cut_off: list[str] = []

    def client() -> None:
        while not stop.is_set():
            try:
                token, cookie, index = todo.get_nowait()
            except queue.Empty:
                return
            browser = Browser(server.port, {login: cookie})
            try:
                fill_and_submit(browser, token, index, ledger)
            except (OSError, http.client.HTTPException) as error:
                with ledger.lock:
                    cut_off.append(f"{token}: {type(error).__name__}")
            finally:
                browser.close()

    try:
        threads = [threading.Thread(target=client, daemon=True) for _ in range(CLIENTS)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + KILL_AFTER
        while len(ledger.submitted) < ACKNOWLEDGED_BEFORE_KILL and time.monotonic() < deadline:
            time.sleep(0.01)
        with Browser._lock:
            in_flight = Browser.in_flight
            server.kill()
        killed_at = len(ledger.submitted)
        stop.set()
        for thread in threads:
            thread.join(30)
        assert killed_at > 0, "nothing was submitted before the kill"
        assert in_flight > 0, "the kill did not land while a request was being served"
        assert not ledger.refused, ledger.refused
        acknowledged = dict(ledger.submitted)
        saved = set(ledger.saved)
        interrupted = sorted(ledger.started - set(acknowledged))

        server.start()
        # Every acknowledged submission has its receipt page after the restart.
        for token in acknowledged:
            browser = Browser(server.port, {login: cookie_of[token]})
            status, _location, _html = browser.request("GET", f"/forms/{token}/receipt")
            browser.close()
            assert status == 200, (token, status)
        # Those cut off mid-way finish now (the citizen tries again).
        for token in interrupted:
            browser = Browser(server.port, {login: cookie_of[token]})
            fill_and_submit(browser, token, index_of[token], ledger)
            browser.close()
        assert not ledger.refused, ledger.refused
    finally:
        stop.set()
        server.stop()

    with app.app_context():
        session = db.session()
        rows = session.execute(
            select(Assignment.token, Assignment.state, Assignment.submission_id, Draft)
            .outerjoin(Draft, Draft.id == Assignment.draft_id)
            .where(Assignment.token.in_([token for token, _c, _i in work]))).all()
        submissions = {
            row.draft_id: row for row in session.scalars(select(Submission).where(
                Submission.draft_id.in_([r.Draft.id for r in rows if r.Draft is not None])))}
        per_draft = dict(session.execute(
            select(Submission.draft_id, func.count()).group_by(Submission.draft_id)
            .where(Submission.draft_id.in_(list(submissions)))).all())
        compiled = None
        for token, state, submission_id, draft in rows:
            expected = answers(f"crash-{index_of[token]}", index_of[token])
            if draft is not None:
                version = draft.definition_version
                compiled = compiled or compile_cached(version.document, key=version.cache_key)
                # Never half a page: nothing saved yet, or the whole posted page.
                assert draft.answers in ({}, expected), (token, draft.answers)
                if draft.answers:
                    assert not compiled.validate(draft.answers, audience="citizen").errors
            if token in saved or token in ledger.submitted:
                assert draft is not None, token
                assert draft.answers == expected, token
            if token in acknowledged or token in ledger.submitted:
                assert draft is not None
                submission = submissions.get(draft.id)
                assert submission is not None, f"acknowledged submission {token} was lost"
                assert submission.answers == expected, token
                assert submission_id == submission.id
                assert state == "answered"
                assert per_draft[draft.id] == 1
        db.session.remove()
    assert len(acknowledged) >= killed_at
    print(f"killed with {in_flight} request(s) in flight after {killed_at} acknowledged "
          f"submissions; {len(interrupted)} forms cut off and finished after the restart")
