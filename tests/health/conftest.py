"""Fixtures of the health-check tests (``sapp``, ``world``, ``sender`` and ``reviewer`` come
from ``tests/staff_fixtures.py``)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.functional import staff_support as s


@pytest.fixture(scope="module")
def other_unit(sapp: Flask, world: s.World) -> Any:
    """Sender and reviewer of clinic B."""
    return s.staff_client(sapp, world.staff["other"])
