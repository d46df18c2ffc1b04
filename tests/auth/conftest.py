"""Fixtures for log-in tests: an app with log-in installed, a movable clock, factories for
units, staff and citizens (valid test personnummer), and log-in helpers.

The app here is built apart from the suite's shared ``app`` (same database), so switching on
access control cannot change what other test folders see before the lead wires it in.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from formular import create_app
from formular.auth import accounts, passwords
from formular.auth.clock import swedish_today, utcnow
from formular.definitions.personnummer import luhn_check_digit
from formular.storage.db import db
from formular.storage.identity import Citizen, Guardianship, Role
from formular.web import auth

PASSWORD = "correct horse battery staple"
COOKIE = "formular_session"
_ips = itertools.count(1)


def make_app(database_url: str, **overrides: Any) -> Flask:
    """A fresh app on the test database with log-in installed (as a second worker would be)."""
    config: dict[str, Any] = {
        "TESTING": True, "DEMO": True, "SECRET_KEY": "test-secret",
        "DATABASE_URL": database_url, "SERVER_NAME": "localhost",
    }
    config.update(overrides)
    application = create_app(config)
    auth.init_app(application)
    return application


#: Cheap Argon2id parameters for tests (each production hash costs 64 MiB and ~0.1–0.5 s).
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "HASHER", FAST_HASHER)


@pytest.fixture(scope="session")
def app(database_url: str) -> Flask:
    return make_app(database_url)


def new_client(application: Flask, ip: str | None = None) -> FlaskClient:
    """A browser from its own address, so per-address limits do not leak between tests, that
    asks for English (the source language the assertions are written in)."""
    client = application.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    number = next(_ips)
    client.environ_base["REMOTE_ADDR"] = ip or (
        f"10.{number // 65536 % 256}.{number // 256 % 256}.{number % 256}")
    return client


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return new_client(app)


class Clock:
    """A clock the app reads through ``AUTH_CLOCK``; tests move it forward."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Clock:
    moving = Clock()
    monkeypatch.setitem(app.config, "AUTH_CLOCK", moving)
    return moving


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@dataclass(frozen=True)
class Staff:
    id: int
    username: str
    password: str


@dataclass(frozen=True)
class Person:
    id: int
    personnummer: str
    name: str


class Factory:
    """Creates rows in their own committed transaction (the app under test reads them)."""

    def __init__(self, application: Flask) -> None:
        self.app = application

    def unit(self, slug: str | None = None) -> int:
        with self.app.app_context(), db.transaction() as session:
            slug = slug or unique("unit")
            return accounts.ensure_unit(session, slug, slug.title()).id

    def unit_slug(self, unit_id: int) -> str:
        from formular.storage.identity import Unit

        with self.app.app_context():
            unit = db.session.get(Unit, unit_id)
            assert unit is not None
            return unit.slug

    def staff(self, roles: list[tuple[int, Role]] | None = None, password: str | None = PASSWORD,
              oidc_subject: str | None = None) -> Staff:
        if roles is None:
            roles = [(self.unit(), Role.SENDER)]
        slugs = [(self.unit_slug(unit_id), role) for unit_id, role in roles]
        username = unique("staff")
        with self.app.app_context(), db.transaction() as session:
            user = accounts.create_staff(session, username, f"Staff {username}", password, slugs,
                                         oidc_subject=oidc_subject)
            return Staff(user.id, username, password or "")

    def personnummer(self, age_years: int, extra_days: int = 0) -> str:
        """A free valid personnummer for someone ``age_years`` old (plus ``extra_days``)."""
        today = swedish_today(utcnow())
        with self.app.app_context():
            for shift in range(0, 3000):
                born = _years_before(today, age_years) - dt.timedelta(days=extra_days + shift)
                for serial in ("238", "239"):
                    nine = born.strftime("%y%m%d") + serial
                    number = born.strftime("%Y%m%d") + serial + str(luhn_check_digit(nine))
                    taken = db.session.scalars(
                        select(Citizen.id).where(Citizen.personnummer == number)).first()
                    if taken is None:
                        return number
        raise AssertionError("no free personnummer")

    def citizen(self, age_years: int, extra_days: int = 0, **fields: Any) -> Person:
        number = self.personnummer(age_years, extra_days)
        name = fields.pop("name", unique("Citizen"))
        with self.app.app_context(), db.transaction() as session:
            person = Citizen(personnummer=number, name=name, **fields)
            session.add(person)
            session.flush()
            return Person(person.id, number, name)

    def guardian_of(self, guardian: Person, child: Person) -> None:
        with self.app.app_context(), db.transaction() as session:
            session.add(Guardianship(guardian_id=guardian.id, child_id=child.id))


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


@pytest.fixture
def make(app: Flask) -> Factory:
    return Factory(app)


CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_from(client: FlaskClient, path: str = "/logged-out") -> str:
    html = client.get(path).get_data(as_text=True)
    found = CSRF.search(html)
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def log_in(client: FlaskClient, username: str, password: str, **extra: str) -> TestResponse:
    token = csrf_from(client)
    return client.post("/login", data={"csrf_token": token, "username": username,
                                       "password": password, **extra})


def log_in_demo_citizen(client: FlaskClient, citizen_id: int) -> TestResponse:
    token = csrf_from(client, "/login/citizen")
    return client.post("/login/demo-citizen", data={"csrf_token": token,
                                                    "citizen": str(citizen_id)})


def cookie_value(client: FlaskClient) -> str | None:
    cookie = client.get_cookie(COOKIE)
    return cookie.value if cookie is not None else None


def status(client: FlaskClient) -> dict[str, Any]:
    response = client.get("/session/status")
    assert response.status_code == 200
    data: dict[str, Any] = response.get_json()
    return data


@pytest.fixture
def staff_client(app: Flask, make: Factory) -> tuple[FlaskClient, Staff]:
    client = new_client(app)
    user = make.staff()
    response = log_in(client, user.username, user.password)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client, user
