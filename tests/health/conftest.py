"""Fixtures of the health-check tests: the eager staff app of the functional tests, a world of
units, staff and citizens per module (named with the module's ``WORLD_PREFIX``), and
logged-in clients of clinic A's staff."""

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
    return s.build_world(sapp, request.module.WORLD_PREFIX)


@pytest.fixture(scope="module")
def reviewer(sapp: Flask, world: s.World) -> Any:
    return s.staff_client(sapp, world.staff["reviewer"])


@pytest.fixture(scope="module")
def sender(sapp: Flask, world: s.World) -> Any:
    return s.staff_client(sapp, world.staff["sender"])


@pytest.fixture(scope="module")
def other_unit(sapp: Flask, world: s.World) -> Any:
    """Sender and reviewer of clinic B."""
    return s.staff_client(sapp, world.staff["other"])
