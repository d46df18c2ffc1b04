"""Anti-brute-force: limits held in the database (so they bind every worker), and lockout."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from formular.auth import ratelimit
from formular.storage.db import db
from formular.storage.identity import StaffUser

from .conftest import CSRF, Clock, Factory, cookie_value, log_in, new_client, status

ROOT = Path(__file__).resolve().parents[2]

GENERIC = "Wrong username or password."


WORKER = """
import sys
from werkzeug.serving import make_server
from tests.auth.conftest import FAST_HASHER, make_app
from formular.auth import passwords
passwords.HASHER = FAST_HASHER
app = make_app(sys.argv[1], SERVER_NAME=None)
server = make_server("127.0.0.1", 0, app, threaded=True)
print(server.server_port, flush=True)
server.serve_forever()
"""


@pytest.fixture
def second_worker(database_url: str) -> Iterator[str]:
    """Another worker: its own process (own memory, own connection pool) on the same database,
    serving on a loopback port. Yields its base URL."""
    process = subprocess.Popen([sys.executable, "-c", WORKER, database_url], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert process.stdout is not None
        port = process.stdout.readline().strip()
        assert port.isdigit(), "the worker did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def _remote_log_in(browser: requests.Session, base: str, username: str,
                   password: str) -> requests.Response:
    page = browser.get(f"{base}/logged-out", timeout=10)
    token = CSRF.search(page.text)
    assert token
    return browser.post(f"{base}/login", timeout=10, allow_redirects=False, data={
        "csrf_token": token.group(1), "username": username, "password": password})


def test_sixth_failure_for_one_username_is_429_across_workers(
        app: Flask, second_worker: str, make: Factory) -> None:
    user = make.staff()
    local = new_client(app)
    with requests.Session() as remote:
        remote.trust_env = False  # loopback only, never a configured proxy
        remote.headers["Accept-Language"] = "en"
        for attempt in range(5):
            if attempt % 2:
                status_code = _remote_log_in(remote, second_worker, user.username,
                                             "wrong password").status_code
            else:
                status_code = log_in(local, user.username, "wrong password").status_code
            assert status_code == 200, attempt
        blocked_remote = _remote_log_in(remote, second_worker, user.username, "wrong password")
        assert blocked_remote.status_code == 429
        assert "Too many failed log-in attempts" in blocked_remote.text
    blocked = log_in(local, user.username, "wrong password")
    assert blocked.status_code == 429
    assert 0 < int(blocked.headers["Retry-After"]) <= 15 * 60 + 1
    # While limited, even the right password is not tried.
    assert log_in(local, user.username, user.password).status_code == 429


def test_limit_counts_usernames_that_do_not_exist(client: FlaskClient) -> None:
    for _ in range(5):
        assert log_in(client, "ghost-user", "guess").status_code == 200
    assert log_in(client, "ghost-user", "guess").status_code == 429


def test_per_address_limit_across_many_usernames(app: Flask) -> None:
    client = new_client(app, "198.51.100.7")
    for number in range(20):
        assert log_in(client, f"sprayed-{number}", "Spring2026!").status_code == 200
    assert log_in(client, "sprayed-20", "Spring2026!").status_code == 429
    assert log_in(new_client(app), "sprayed-20", "Spring2026!").status_code == 200


def test_limit_lifts_after_the_window(client: FlaskClient, make: Factory, clock: Clock) -> None:
    user = make.staff()
    for _ in range(5):
        log_in(client, user.username, "wrong password")
    assert log_in(client, user.username, user.password).status_code == 429
    clock.advance(minutes=16)
    assert log_in(client, user.username, user.password).status_code == 302


def test_lockout_after_consecutive_failures_and_unlock_after_time(
        app: Flask, client: FlaskClient, make: Factory, clock: Clock,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "LOGIN_MAX_ATTEMPTS", 50)  # the rate limit out of the way
    monkeypatch.setitem(app.config, "LOGIN_LOCKOUT_AFTER", 5)
    user = make.staff()
    for _ in range(5):
        log_in(client, user.username, "wrong password")
    with app.app_context():
        row = db.session.get(StaffUser, user.id)
        assert row is not None
        assert ratelimit.is_locked(row, clock())
    locked = log_in(client, user.username, user.password)
    assert locked.status_code == 200
    assert GENERIC in locked.get_data(as_text=True)
    assert cookie_value(client) is None
    clock.advance(minutes=16)
    assert log_in(client, user.username, user.password).status_code == 302
    with app.app_context():
        row = db.session.get(StaffUser, user.id)
        assert row is not None
        assert row.failed_logins == 0
        assert row.locked_until is None


def test_success_resets_the_failure_count(app: Flask, client: FlaskClient,
                                          make: Factory) -> None:
    user = make.staff()
    for _ in range(4):
        log_in(client, user.username, "wrong password")
    assert log_in(client, user.username, user.password).status_code == 302
    with app.app_context():
        row = db.session.get(StaffUser, user.id)
        assert row is not None
        assert row.failed_logins == 0
    # The username's earlier failures are forgiven: four more typos are not yet a 429.
    other = new_client(app)
    for _ in range(4):
        assert log_in(other, user.username, "wrong again").status_code == 200


def test_a_locked_account_drops_its_live_sessions(
        app: Flask, make: Factory, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "LOGIN_MAX_ATTEMPTS", 50)
    monkeypatch.setitem(app.config, "LOGIN_LOCKOUT_AFTER", 5)
    user = make.staff()
    owner = new_client(app)
    assert log_in(owner, user.username, user.password).status_code == 302
    attacker = new_client(app)
    for _ in range(5):
        log_in(attacker, user.username, "guess")
    assert status(owner)["logged_in"] is False
