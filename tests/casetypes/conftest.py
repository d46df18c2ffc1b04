"""Fixtures of the case-type tests: a staff app and a world of two clinics per module; the
browser fixtures (Chromium, the live server, axe-core) come from tests/browser."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.browser.conftest import axe, axe_source, browser, live_server  # noqa: F401
from tests.functional import staff_support as s


@pytest.fixture(scope="module")
def sapp(app: Flask, database_url: str, tmp_path_factory: pytest.TempPathFactory,
         request: pytest.FixtureRequest) -> Flask:
    name = request.module.__name__.rsplit(".", 1)[-1]
    return s.staff_app(database_url, tmp_path_factory.mktemp(f"{name}-outbox"))


@pytest.fixture(scope="module")
def world(sapp: Flask, request: pytest.FixtureRequest) -> s.World:
    """Clinic A and clinic B with staff in every role (``WORLD_PREFIX`` of the module)."""
    return s.build_world(sapp, request.module.WORLD_PREFIX)
