"""Fixtures of the designer tests: a staff app, a world of two units, and designer clients."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

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


@pytest.fixture(scope="module")
def designer(sapp: Flask, world: s.World) -> Any:
    """The designer of clinic A."""
    return s.staff_client(sapp, world.staff["designer"])


@pytest.fixture(scope="module")
def designer_b(sapp: Flask, world: s.World) -> Any:
    """The designer of clinic B."""
    return s.staff_client(sapp, world.staff["b-designer"])
