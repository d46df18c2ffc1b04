"""Staff log-in over HTTP: success, generic failure, cookie flags, fixation, logout, idle time."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from formular.auth import accounts, passwords
from formular.storage.db import db
from formular.storage.identity import Role, StaffUser
from formular.storage.sessions import LoginSession

from .conftest import (
    COOKIE,
    Clock,
    Factory,
    Staff,
    cookie_value,
    csrf_from,
    log_in,
    new_client,
    status,
)

GENERIC = "Wrong username or password."


def test_login_page_has_labelled_inputs(client: FlaskClient) -> None:
    html = client.get("/login").get_data(as_text=True)
    assert '<label for="username">' in html
    assert 'id="username"' in html
    assert '<label for="password">' in html
    assert 'autocomplete="current-password"' in html


def test_login_succeeds_and_sets_a_hardened_cookie(client: FlaskClient, make: Factory) -> None:
    user = make.staff()
    response = log_in(client, user.username, user.password)
    assert response.status_code == 302
    header = next(value for value in response.headers.getlist("Set-Cookie")
                  if value.startswith(COOKIE + "="))
    assert "HttpOnly" in header
    assert "SameSite=Lax" in header
    assert "Path=/" in header
    assert "Secure" not in header  # SESSION_COOKIE_SECURE is off in tests
    assert "Max-Age" not in header
    assert "Expires" not in header
    assert status(client)["logged_in"] is True


def test_username_is_matched_without_regard_to_case(client: FlaskClient, make: Factory) -> None:
    user = make.staff()
    assert log_in(client, user.username.upper(), user.password).status_code == 302


def test_cookie_is_secure_when_configured(app: Flask, make: Factory,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    client = new_client(app)
    user = make.staff()
    response = log_in(client, user.username, user.password)
    header = next(value for value in response.headers.getlist("Set-Cookie")
                  if value.startswith(COOKIE + "="))
    assert "Secure" in header


def test_failures_are_generic_and_the_same_for_unknown_users(
        client: FlaskClient, make: Factory, monkeypatch: pytest.MonkeyPatch) -> None:
    user = make.staff()
    dummy_calls: list[str] = []
    real = passwords.dummy_verify
    monkeypatch.setattr(passwords, "dummy_verify",
                        lambda p: _spy(dummy_calls, real, p))
    wrong = log_in(client, user.username, "not the password")
    unknown = log_in(client, "nobody-" + user.username, "not the password")
    for response in (wrong, unknown):
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert GENERIC in html
        assert 'role="alert"' in html
        assert 'aria-invalid="true"' in html
    assert cookie_value(client) is None
    assert dummy_calls == ["not the password"]  # the unknown user cost a full verification
    messages = [re.search(r'<p id="auth-error">(.*?)</p>', r.get_data(as_text=True))
                for r in (wrong, unknown)]
    assert messages[0]
    assert messages[1]
    assert messages[0].group(1) == messages[1].group(1)


def test_inactive_account_gets_the_generic_error(client: FlaskClient, make: Factory,
                                                 app: Flask, clock: Clock) -> None:
    user = make.staff()
    with app.app_context(), db.transaction() as session:
        row = session.get(StaffUser, user.id)
        assert row is not None
        accounts.disable_staff(session, row, clock())
    response = log_in(client, user.username, user.password)
    assert GENERIC in response.get_data(as_text=True)
    assert cookie_value(client) is None


def test_session_id_changes_at_login(client: FlaskClient, make: Factory) -> None:
    """Session fixation: a cookie planted before log-in is never the one that is logged in."""
    client.set_cookie(COOKIE, "planted-by-an-attacker", domain="localhost")
    first, second = make.staff(), make.staff()
    log_in(client, first.username, first.password)
    after_first = cookie_value(client)
    assert after_first not in (None, "planted-by-an-attacker")
    log_in(client, second.username, second.password)
    after_second = cookie_value(client)
    assert after_second != after_first
    stale = FlaskClient(client.application)
    stale.set_cookie(COOKIE, after_first or "", domain="localhost")
    assert status(stale)["logged_in"] is False  # the earlier id was revoked, not just replaced


def test_logout_revokes_the_session_on_the_server(app: Flask, client: FlaskClient,
                                                  make: Factory) -> None:
    user = make.staff()
    log_in(client, user.username, user.password)
    old = cookie_value(client)
    assert old
    token = csrf_from(client)
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/logged-out")
    assert cookie_value(client) is None
    replay = new_client(app)
    replay.set_cookie(COOKIE, old, domain="localhost")
    assert status(replay)["logged_in"] is False
    with app.app_context():
        rows = db.session.scalars(select(LoginSession).where(
            LoginSession.staff_user_id == user.id)).all()
        assert rows
        assert all(row.revoked_at is not None for row in rows)


def test_logout_needs_the_csrf_token(staff_client: tuple[FlaskClient, Staff]) -> None:
    client, _ = staff_client
    assert client.post("/logout").status_code == 400
    assert status(client)["logged_in"] is True


def test_idle_timeout_ends_the_session(staff_client: tuple[FlaskClient, Staff],
                                       clock: Clock) -> None:
    client, _ = staff_client
    clock.advance(minutes=20)
    client.get("/login")  # any page counts as activity
    clock.advance(minutes=20)
    assert status(client)["logged_in"] is True
    clock.advance(minutes=31)
    assert status(client) == {"logged_in": False, "seconds_left": 0}


def test_status_reports_seconds_left_without_extending(staff_client: tuple[FlaskClient, Staff],
                                                       clock: Clock) -> None:
    client, _ = staff_client
    clock.advance(minutes=10)
    first = status(client)
    assert first["logged_in"]
    assert 19 * 60 <= first["seconds_left"] <= 20 * 60
    assert first["warn_seconds"] == 120
    assert first["idle_seconds"] == 1800
    clock.advance(minutes=10)
    assert status(client)["seconds_left"] <= 10 * 60


def test_extend_resets_the_idle_time(staff_client: tuple[FlaskClient, Staff],
                                     clock: Clock) -> None:
    client, _ = staff_client
    token = csrf_from(client)  # counts as activity too: measure from here
    clock.advance(minutes=29)
    assert status(client)["seconds_left"] <= 60
    refused = client.post("/session/extend", headers={"Accept": "application/json"})
    assert refused.status_code == 400  # no CSRF token
    response = client.post("/session/extend",
                           headers={"X-CSRFToken": token, "Accept": "application/json"})
    assert response.status_code == 200
    assert response.get_json()["seconds_left"] == 1800
    clock.advance(minutes=25)
    assert status(client)["logged_in"] is True


def test_extend_without_a_session_is_401(client: FlaskClient) -> None:
    token = csrf_from(client)
    response = client.post("/session/extend", headers={"X-CSRFToken": token})
    assert response.status_code == 401
    assert response.get_json()["logged_in"] is False


def test_rehash_on_login_when_parameters_changed(app: Flask, client: FlaskClient,
                                                 make: Factory) -> None:
    from argon2 import PasswordHasher

    user = make.staff()
    weak = passwords.hash_password(user.password,
                                   hasher=PasswordHasher(time_cost=2, memory_cost=8,
                                                         parallelism=1))
    with app.app_context(), db.transaction() as session:
        row = session.get(StaffUser, user.id)
        assert row is not None
        row.password_hash = weak
    assert log_in(client, user.username, user.password).status_code == 302
    with app.app_context():
        row = db.session.get(StaffUser, user.id)
        assert row is not None
        assert row.password_hash != weak
        assert passwords.HASHER.check_needs_rehash(row.password_hash or "") is False
        assert passwords.verify_password(row.password_hash, user.password) == (True, None)


def test_next_is_followed_only_within_the_site(client: FlaskClient, make: Factory) -> None:
    user = make.staff()
    response = log_in(client, user.username, user.password, next="https://evil.example/")
    assert "evil" not in response.headers["Location"]
    other = make.staff()
    response = log_in(client, other.username, other.password, next="/act-as?x=1")
    assert response.headers["Location"].endswith("/act-as?x=1")


def _spy(calls: list[str], real: Callable[[str], None], password: str) -> None:
    calls.append(password)
    real(password)


def test_accounts_refuse_short_passwords_and_case_twins(app: Flask, make: Factory) -> None:
    unit = make.unit_slug(make.unit())
    with app.app_context(), db.transaction() as session:
        with pytest.raises(ValueError, match="at least 12"):
            accounts.create_staff(session, "short-pw", "Short", "too short", [])
        user = accounts.create_staff(session, "Case-Twin", "Twin", "long enough password",
                                     [(unit, Role.SENDER)])
        with pytest.raises(ValueError, match="taken"):
            accounts.create_staff(session, "case-twin", "Twin 2", None, [])
        assert accounts.ensure_staff(session, "CASE-TWIN", "x", None, []).id == user.id
        with pytest.raises(ValueError, match="no unit"):
            accounts.create_staff(session, "nowhere", "N", None,
                                  [("no-such-unit", Role.SENDER)])
