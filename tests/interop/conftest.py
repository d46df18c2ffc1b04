"""Compiled designs and submissions shaped as they are stored, for the export tests."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from formular.definitions.service import CompiledDefinition, compile_cached
from formular.interop.service import ExportRow
from formular.web.filling import scores_as_json

DESIGNS = Path(__file__).resolve().parents[2] / "designs"

#: A winter time (CET, UTC+1) and a summer time (CEST, UTC+2).
WINTER = dt.datetime(2025, 1, 15, 8, 30, 5, tzinfo=dt.UTC)
SUMMER = dt.datetime(2025, 7, 1, 22, 15, tzinfo=dt.UTC)


def compiled_design(name: str) -> CompiledDefinition:
    document = json.loads((DESIGNS / f"{name}.json").read_text(encoding="utf-8"))
    return compile_cached(document)


@pytest.fixture(scope="session")
def phq9() -> CompiledDefinition:
    return compiled_design("phq-9")


@pytest.fixture(scope="session")
def showcase() -> CompiledDefinition:
    return compiled_design("showcase")


def submission(compiled: CompiledDefinition, answers: dict[str, Any], *,
               audience: str = "staff", submitted_at: dt.datetime = WINTER,
               personnummer: str = "191212121212", name: str = "Tolvan Tolvansson",
               receipt: str = "7F3A9C21-B00C", answered_by: str = "Tolvan Tolvansson",
               status: str = "inkommen") -> ExportRow:
    """What the submit flow stores: validated (visible, calculated) answers and the scores."""
    validation = compiled.validate(answers, audience=audience)
    return ExportRow(personnummer=personnummer, name=name, receipt=receipt,
                     submitted_at=submitted_at, answered_by=answered_by, status=status,
                     answers=validation.answers, scores=scores_as_json(validation))


PHQ9_MODERATE = {"phq1": 2, "phq2": 1, "phq3": 3, "phq4": 2, "phq5": 0, "phq6": 1, "phq7": 1,
                 "phq8": 0, "phq9": 1, "phq10": "ganska-svart"}

SHOWCASE_FULL = {
    "name": "Åsa Öberg", "personnummer": "19121212-1212", "birth_date": "1970-05-05",
    "email": "asa@example.org", "phone": "070-123 45 67", "postcode": "123 45",
    "contact_way": "email", "smoking": "former", "quit_year": 1999,
    "weight": 72.5, "height": 180,
    "symptoms": ["pain", "sleep"], "pain_where": "Ländryggen", "wellbeing": 2,
    "stress_1": 5, "stress_2": 1, "stress_3": 4,
    "has_medication": True,
    "medications": [
        {"drug": "Alvedon", "dose_mg": 500, "as_needed": True, "as_needed_reason": "Huvudvärk"},
        {"drug": "Levaxin", "dose_mg": 0.1, "as_needed": False},
    ],
    "other": "Inget mer.", "consent": True, "staff_note": "Ring upp i veckan.",
}
