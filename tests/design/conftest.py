"""Fixtures of the designer tests: designer clients of clinics A and B (the staff app and the
world come from ``tests/staff_fixtures.py``)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.functional import staff_support as s


@pytest.fixture(scope="module")
def designer(sapp: Flask, world: s.World) -> Any:
    """The designer of clinic A."""
    return s.staff_client(sapp, world.staff["designer"])


@pytest.fixture(scope="module")
def designer_b(sapp: Flask, world: s.World) -> Any:
    """The designer of clinic B."""
    return s.staff_client(sapp, world.staff["b-designer"])
