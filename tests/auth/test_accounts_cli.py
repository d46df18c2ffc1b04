"""``formular units …`` and ``formular staff …`` against the test database: what an operator
sets up works in the web app (a new account logs in with its password), refusals write
nothing, sessions end when an account is disabled or its password replaced, and every change
is in the event log."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from formular.auth import accounts
from formular.auth.passwords import verify_password
from formular.cli import main
from formular.storage.audit import EventLog
from formular.storage.db import db
from formular.storage.identity import RoleAssignment, StaffUser, Unit
from formular.storage.sessions import LoginSession

from .conftest import log_in, status

PASSWORD = "ett-långt-lösenord-2026"


@pytest.fixture
def run(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """``formular ARGS…`` on the test database; the result (exit code and output)."""
    monkeypatch.setenv("FORMULAR_DATABASE_URL", database_url)
    monkeypatch.setenv("FORMULAR_SECRET_KEY", "test-secret")

    def invoke(*args: str, stdin: str | None = None) -> Result:
        return CliRunner().invoke(main, list(args), input=stdin)

    return invoke


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _user(app: Flask, username: str) -> StaffUser | None:
    with app.app_context():
        user = accounts.staff_by_username(db.session(), username)
        if user is not None:
            db.session.expunge(user)
        return user


def _roles(app: Flask, username: str) -> set[str]:
    with app.app_context():
        rows = db.session.execute(
            select(Unit.slug, RoleAssignment.role).join(Unit, Unit.id == RoleAssignment.unit_id)
            .join(StaffUser, StaffUser.id == RoleAssignment.user_id)
            .where(StaffUser.username == username)).all()
        return {f"{slug}:{role.value}" for slug, role in rows}


def _events(app: Flask, user_id: int) -> list[tuple[str, dict[str, Any]]]:
    with app.app_context():
        rows = db.session.execute(select(EventLog.event, EventLog.data).where(
            EventLog.object_type == "staff_user", EventLog.object_id == user_id)
            .order_by(EventLog.id)).all()
        return [(event, dict(data)) for event, data in rows]


def test_units_are_added_and_listed(app: Flask, run: Any) -> None:
    region, clinic = _name("region"), _name("vc")
    assert run("units", "add", region, "Region Test", "--kind", "region").exit_code == 0
    added = run("units", "add", clinic, "Vårdcentralen Test", "--parent", region)
    assert added.exit_code == 0, added.output
    listed = run("units", "list").output
    assert f"{clinic}\tclinic\tVårdcentralen Test (in {region})" in listed
    assert f"{region}\tregion\tRegion Test" in listed
    again = run("units", "add", clinic, "Another name")
    assert again.exit_code == 1
    assert "exists already" in again.output
    assert run("units", "add", "bad slug!", "X").exit_code == 1
    orphan = _name("vc")
    assert run("units", "add", orphan, "X", "--parent", "no-such-region").exit_code == 1
    with app.app_context():
        assert accounts.unit_by_slug(db.session(), orphan) is None
        unit = accounts.unit_by_slug(db.session(), clinic)
        assert unit is not None
        assert db.session.scalar(select(EventLog.event).where(
            EventLog.object_type == "unit", EventLog.object_id == unit.id)) == "unit.created"


def test_an_added_account_logs_in_with_its_roles(app: Flask, client: FlaskClient,
                                                 run: Any) -> None:
    clinic, username = _name("vc"), _name("sjukskoterska")
    assert run("units", "add", clinic, "Vårdcentralen Test").exit_code == 0
    added = run("staff", "add", username, "--name", "Sara Sjuksköterska", "--email",
                "sara@example.org", "--role", f"{clinic}:sender", "--role",
                f"{clinic}:reviewer", "--password-stdin", stdin=PASSWORD + "\n")
    assert added.exit_code == 0, added.output
    assert PASSWORD not in added.output
    user = _user(app, username)
    assert user is not None
    assert (user.display_name, user.email, user.active) == (
        "Sara Sjuksköterska", "sara@example.org", True)
    assert verify_password(user.password_hash, PASSWORD)[0]
    assert _roles(app, username) == {f"{clinic}:sender", f"{clinic}:reviewer"}
    response = log_in(client, username, PASSWORD)
    assert response.status_code == 302
    assert status(client)["logged_in"] is True
    [(event, data)] = _events(app, user.id)
    assert event == "staff.created"
    assert data["via"] == "command line"
    assert data["os_user"]
    assert sorted(data["roles"]) == [f"{clinic}:reviewer", f"{clinic}:sender"]
    assert PASSWORD not in str(data)
    listed = run("staff", "list", "--unit", clinic).output
    assert listed.splitlines() == [
        f"{username}\tSara Sjuksköterska\tactive\t{clinic}:reviewer {clinic}:sender"]


def test_the_password_is_asked_for_twice_hidden(app: Flask, run: Any) -> None:
    username = _name("prompted")
    typo = run("staff", "add", username, "--name", "P", stdin=f"{PASSWORD}\nsomething else\n"
               f"{PASSWORD}\n{PASSWORD}\n")
    assert typo.exit_code == 0, typo.output
    assert "do not match" in typo.output.lower() or "don't match" in typo.output.lower()
    assert PASSWORD not in typo.output
    user = _user(app, username)
    assert user is not None
    assert verify_password(user.password_hash, PASSWORD)[0]


def test_refused_accounts_write_nothing(app: Flask, run: Any) -> None:
    username = _name("refused")
    short = run("staff", "add", username, "--name", "X", "--password-stdin", stdin="kort\n")
    assert short.exit_code == 1
    assert "at least 12 characters" in short.output
    unknown_unit = run("staff", "add", username, "--name", "X", "--role", "no-such-unit:sender",
                       "--password-stdin", stdin=PASSWORD + "\n")
    assert unknown_unit.exit_code == 1
    assert "no unit" in unknown_unit.output
    bad_role = run("staff", "add", username, "--name", "X", "--role", "vc:emperor",
                   "--password-stdin", stdin=PASSWORD + "\n")
    assert bad_role.exit_code == 2
    too_long = run("staff", "add", "x" * 101, "--name", "X", "--password-stdin",
                   stdin=PASSWORD + "\n")
    assert too_long.exit_code == 1
    assert "at most 100 characters" in too_long.output
    assert run("units", "add", _name("vc"), "N" * 201).exit_code == 1
    no_way_in = run("staff", "add", username, "--name", "X", "--no-password")
    assert no_way_in.exit_code == 1
    assert "--oidc-subject" in no_way_in.output
    assert _user(app, username) is None
    assert run("staff", "add", username, "--name", "X", "--no-password", "--oidc-subject",
               "siths-123").exit_code == 0
    taken = run("staff", "add", username.upper(), "--name", "Y", "--password-stdin",
                stdin=PASSWORD + "\n")
    assert taken.exit_code == 1
    assert "taken" in taken.output
    user = _user(app, username)
    assert user is not None
    assert (user.password_hash, user.oidc_subject) == (None, "siths-123")


def test_roles_are_granted_and_revoked(app: Flask, run: Any) -> None:
    clinic, username = _name("vc"), _name("granskare")
    run("units", "add", clinic, "Vårdcentralen Test")
    run("staff", "add", username, "--name", "G", "--password-stdin", stdin=PASSWORD + "\n")
    assert run("staff", "grant", username, f"{clinic}:auditor").exit_code == 0
    twice = run("staff", "grant", username, f"{clinic}:auditor")
    assert twice.exit_code == 1
    assert "already" in twice.output
    assert _roles(app, username) == {f"{clinic}:auditor"}
    assert run("staff", "revoke", username, f"{clinic}:auditor").exit_code == 0
    assert _roles(app, username) == set()
    assert run("staff", "revoke", username, f"{clinic}:auditor").exit_code == 1
    assert run("staff", "grant", "nobody-here", f"{clinic}:auditor").exit_code == 1
    user = _user(app, username)
    assert user is not None
    assert [event for event, _data in _events(app, user.id)] == [
        "staff.created", "staff.role.granted", "staff.role.revoked"]


def test_disabling_or_a_new_password_ends_live_sessions(app: Flask, client: FlaskClient,
                                                        run: Any) -> None:
    username = _name("avslutad")
    run("staff", "add", username, "--name", "A", "--password-stdin", stdin=PASSWORD + "\n")
    user = _user(app, username)
    assert user is not None

    def live_sessions() -> int:
        with app.app_context():
            return len(db.session.scalars(select(LoginSession).where(
                LoginSession.staff_user_id == user.id,
                LoginSession.revoked_at.is_(None))).all())

    assert log_in(client, username, PASSWORD).status_code == 302
    assert live_sessions() == 1
    new_password = PASSWORD + "-nytt"
    assert run("staff", "password", username, "--password-stdin",
               stdin=new_password + "\n").exit_code == 0
    assert live_sessions() == 0
    assert status(client)["logged_in"] is False
    assert log_in(client, username, PASSWORD).status_code != 302
    assert log_in(client, username, new_password).status_code == 302
    assert run("staff", "disable", username).exit_code == 0
    assert live_sessions() == 0
    assert log_in(client, username, new_password).status_code != 302
    assert "disabled" in run("staff", "list").output
    assert run("staff", "enable", username).exit_code == 0
    assert log_in(client, username, new_password).status_code == 302
    assert [event for event, _data in _events(app, user.id)] == [
        "staff.created", "staff.password.set", "staff.disabled", "staff.enabled"]
