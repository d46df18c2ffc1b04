"""Shared fixtures, after flaskr's conftest: an app built by ``create_app`` with test settings,
its client, and a database migrated once per run (SQLite by default; PostgreSQL when
FORMULAR_TEST_DATABASE_URL is set)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from formular import create_app
from formular.storage import migrate
from formular.storage.db import make_engine

#: ``sapp``, ``world``, ``sender`` and ``reviewer``, shared by the functional test packages.
pytest_plugins = ["tests.staff_fixtures"]

ROOT = Path(__file__).resolve().parents[1]
DESIGNS = ROOT / "designs"


def load_design(name: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((DESIGNS / f"{name}.json").read_text(encoding="utf-8"))
    return result


def _reset(url: str) -> None:
    """Start from an empty database so migrations are tested from scratch every run."""
    if url.startswith("postgresql"):
        engine = make_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("FORMULAR_TEST_DATABASE_URL") or (
        f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}")
    _reset(url)
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="session")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Flask:
    from formular.definitions.service import read_file
    from formular.designs import store
    from formular.storage.db import db

    application = create_app({
        "TESTING": True,
        "DEMO": True,
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": database_url,
        "SERVER_NAME": "localhost",
        "MAIL_OUTBOX_DIR": str(tmp_path_factory.mktemp("outbox")),
    })
    with application.app_context():
        for path in sorted(DESIGNS.glob("*.json")):
            document, problems = read_file(path)
            assert not problems, problems
            with db.transaction() as session:
                store(session, document)
    return application


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


class FormDriver:
    """Fills a preview draft through HTTP the way a browser without JavaScript does."""

    def __init__(self, client: FlaskClient, design: str, audience: str = "citizen",
                 **subject: Any) -> None:
        from tests.auth.support import cookie_name, log_in_as_staff

        self.client = client
        app = client.application
        if client.get_cookie(cookie_name(app), domain=app.config.get("SERVER_NAME") or
                             "localhost") is None:
            log_in_as_staff(client, app)
        page = client.get("/preview/")
        token = csrf_token(page.get_data(as_text=True))
        response = client.post(f"/preview/{design}/start",
                               data={"csrf_token": token, "audience": audience, **subject})
        assert response.status_code == 302, response.status_code
        self.base = response.headers["Location"].rsplit("/", 1)[0]
        self.revision = 0

    def get(self, page: int) -> Any:
        return self.client.get(f"{self.base}/{page}")

    def post(self, page: int, data: dict[str, Any], action: str = "next", **kw: Any) -> Any:
        html = self.get(page).get_data(as_text=True)
        revision = re.search(r'name="_revision" value="(\d+)"', html)
        payload = {"csrf_token": csrf_token(html), "_action": action,
                   "_revision": revision.group(1) if revision else "0", **data}
        return self.client.post(f"{self.base}/{page}", data=payload, **kw)

    def review(self) -> Any:
        return self.client.get(f"{self.base}/review")

    def submit(self) -> Any:
        html = self.review().get_data(as_text=True)
        return self.client.post(f"{self.base}/submit", data={"csrf_token": csrf_token(html)})


@pytest.fixture
def driver(client: FlaskClient) -> Any:
    def start(design: str, audience: str = "citizen", **subject: Any) -> FormDriver:
        return FormDriver(client, design, audience, **subject)

    return start
