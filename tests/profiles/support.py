"""A small profile document for the engine and loader tests (the shipped example is tested
separately, in test_example_profile.py)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DESIGNS = ROOT / "designs"
EXAMPLE_PATH = DESIGNS / "profiles" / "health-profile-example.json"

Json = dict[str, Any]

_MINIMAL: Json = {
    "profile": 1,
    "id": "mini",
    "version": 1,
    "title": "Miniprofil",
    "language": "sv",
    "languages": ["sv", "en"],
    "survey": "survey",
    "measurements": "measurements",
    "levels": [{"value": 1, "label": "Dålig"}, {"value": 2, "label": "Mellan"},
               {"value": 3, "label": "Bra"}],
    "areas": [
        {"id": "waist", "label": "Midja", "unit": "cm",
         "inputs": {"waist_cm": "measurement:waist_cm"},
         "required_inputs": ["waist_cm", "subject.sex"],
         "rules": [
             {"when": {"or": [
                 {"and": [{"==": [{"var": "subject.sex"}, "female"]},
                          {">=": [{"var": "waist_cm"}, 88]}]},
                 {"and": [{"==": [{"var": "subject.sex"}, "male"]},
                          {">=": [{"var": "waist_cm"}, 102]}]}]}, "level": 1},
             {"level": 3}]},
        {"id": "smoking", "label": "Rökning",
         "inputs": {"smoking": "survey:smoking", "cigarettes": "survey:cigarettes"},
         "required_inputs": ["smoking"],
         "rules": [
             {"when": {">=": [{"var": "cigarettes"}, 10]}, "level": 1},
             {"when": {"==": [{"var": "smoking"}, "daily"]}, "level": 2},
             {"level": 3}]},
        {"id": "stress", "label": "Stress",
         "inputs": {"stress": "survey:score.stress"},
         "rules": [{"when": {">=": [{"var": "stress"}, 10]}, "level": 1},
                   {"when": {"<": [{"var": "stress"}, 10]}, "level": 3}]},
        {"id": "pressure", "label": "Blodtryck",
         "inputs": {"systolic": "measurement:systolic"},
         "rules": [{"when": {"and": [{">=": [{"var": "subject.age"}, 65]},
                                     {">=": [{"var": "systolic"}, 150]}]}, "level": 1},
                   {"when": {"and": [{"!": {">=": [{"var": "subject.age"}, 65]}},
                                     {">=": [{"var": "systolic"}, 140]}]}, "level": 1},
                   {"level": 3}]},
    ],
}


def minimal() -> Json:
    """A fresh copy of the small valid profile document."""
    return copy.deepcopy(_MINIMAL)


def survey_document() -> Json:
    return {"id": "survey", "schema": {"type": "object", "properties": {
        "smoking": {"enum": ["never", "daily"]}, "cigarettes": {"type": "integer"}}},
        "scores": [{"id": "stress"}]}


def measurement_document() -> Json:
    return {"id": "measurements", "schema": {"type": "object", "properties": {
        "waist_cm": {"type": "number"}, "systolic": {"type": "integer"}}}}


def example_document() -> Json:
    document: Json = json.loads(EXAMPLE_PATH.read_text(encoding="utf-8"))
    return document


def load_design(name: str) -> Json:
    document: Json = json.loads((DESIGNS / f"{name}.json").read_text(encoding="utf-8"))
    return document
