"""The staff-side fixtures most functional test packages share (a pytest plugin loaded by
``tests/conftest.py``): an app with a real outbox per module, and the module's world of two
clinics with staff in every role and citizens, named with the module's ``WORLD_PREFIX``."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask


@pytest.fixture(scope="module")
def sapp(app: Flask, database_url: str, tmp_path_factory: pytest.TempPathFactory,
         request: pytest.FixtureRequest) -> Flask:
    from tests.functional import staff_support as s

    name = request.module.__name__.rsplit(".", 1)[-1]
    return s.staff_app(database_url, tmp_path_factory.mktemp(f"{name}-outbox"))


@pytest.fixture(scope="module")
def world(sapp: Flask, request: pytest.FixtureRequest) -> Any:
    """Units, staff in every role and citizens, named with the module's ``WORLD_PREFIX``."""
    from tests.functional import staff_support as s

    return s.build_world(sapp, request.module.WORLD_PREFIX)


@pytest.fixture(scope="module")
def sender(sapp: Flask, world: Any) -> Any:
    """A logged-in client of clinic A's sender."""
    from tests.functional import staff_support as s

    return s.staff_client(sapp, world.staff["sender"])


@pytest.fixture(scope="module")
def reviewer(sapp: Flask, world: Any) -> Any:
    """A logged-in client of clinic A's reviewer."""
    from tests.functional import staff_support as s

    return s.staff_client(sapp, world.staff["reviewer"])
