"""Fixtures of the catalog-editor tests: translator clients, and no edit left behind.

The editor's edits are global (they change what every page says), so every test here starts
and ends with no saved translations in the shared test database.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete

from formular.i18n import overlay
from formular.storage.db import db
from formular.storage.identity import Role
from formular.storage.translations import TranslationEdit
from tests.auth.support import log_in_as_staff


def clear_edits(app: Flask) -> None:
    with app.app_context(), db.transaction() as session:
        session.execute(delete(TranslationEdit))
        overlay.bump_version(session)
    overlay.invalidate(app)


@pytest.fixture(autouse=True)
def no_edits(app: Flask) -> Iterator[None]:
    clear_edits(app)
    yield
    clear_edits(app)


@pytest.fixture
def translator(app: Flask) -> FlaskClient:
    client = app.test_client()
    log_in_as_staff(client, app, roles=(Role.TRANSLATOR,), unit_slug="translators")
    return client


CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
REVISION = re.compile(r'name="revision" value="(\d+)"')


def form_values(html: str) -> dict[str, str]:
    token = CSRF.search(html)
    revision = REVISION.search(html)
    assert token, "no CSRF token on the page"
    assert revision, "no edit form on the page"
    return {"csrf_token": token.group(1), "revision": revision.group(1)}
