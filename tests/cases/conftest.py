"""Fixtures shared by the case tests (the citizen side and the staff inbox).

One world per test module (clinics A and B from ``tests/functional/staff_support`` plus case
receivers and handlers of both), and case types stored as local case types of clinic A, so
modules sharing the session database never offer each other's case types.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.cases import support as cs
from tests.functional import staff_support as s


@pytest.fixture(scope="module")
def cases_world(sapp: Flask, request: pytest.FixtureRequest) -> s.World:
    """The functional-test world plus "case-receiver", "case-handler" (clinic A) and
    "b-case-receiver", "b-case-handler" (clinic B); names carry the module's WORLD_PREFIX."""
    return cs.build_cases_world(sapp, request.module.WORLD_PREFIX)


@pytest.fixture(scope="module")
def case_type(sapp: Flask, cases_world: s.World) -> cs.StoredCaseType:
    """An enabled case type of clinic A without attachments (a local one, so its own)."""
    return cs.add_case_type(sapp, cases_world.unit_id, "Fråga om provsvar")


@pytest.fixture(scope="module")
def case_type_with_files(sapp: Flask, cases_world: s.World) -> cs.StoredCaseType:
    """An enabled case type of clinic A that accepts attachments."""
    return cs.add_case_type(sapp, cases_world.unit_id, "Förnya mina recept",
                            attachments=True)


@pytest.fixture(scope="module")
def receiver(sapp: Flask, cases_world: s.World) -> Any:
    return s.staff_client(sapp, cases_world.staff["case-receiver"])


@pytest.fixture(scope="module")
def handler(sapp: Flask, cases_world: s.World) -> Any:
    return s.staff_client(sapp, cases_world.staff["case-handler"])
