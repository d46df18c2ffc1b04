"""Computing a profile: each area's level from the answers, scores, measurements and subject.

Pure and deterministic: the same inputs give the same result, nothing is read or written. The
rules are evaluated by the project's server-side JSON Logic evaluator
(:func:`formular.definitions.rules.holds`), the same one that decides visibility and flags.

Semantics, per area (docs/profile-definition.md):

1. Each input is looked up by its source; an absent answer or score, ``None``, ``""``, ``[]``
   and ``{}`` are *missing* (0 and ``False`` are values).
2. If any of the area's ``required_inputs`` (default: all its inputs; may also name
   ``subject.sex``/``subject.age``) is missing, the area is **not assessed**: level ``None``,
   reason ``missing:<name>`` (the first missing one, in the order listed).
3. Otherwise the rules are tried in order with ``{<input>: value, ..., "subject": {"sex",
   "age"}}``; the first whose ``when`` holds (or that has none) gives the level. A condition
   that cannot be evaluated does not hold. When none applies the area is not assessed with
   reason ``no-rule``.

``subject.sex`` is ``"female"``, ``"male"`` or missing (``"unknown"`` and anything else count
as missing); ``subject.age`` is a whole number of years or missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from formular.definitions import rules
from formular.definitions.evaluation import is_empty

from .model import MEASUREMENT, SURVEY, SURVEY_SCORE, Area, ProfileDefinition

#: The reason of an area whose inputs were all there but no rule applied.
NO_RULE = "no-rule"
MISSING = "missing:"


@dataclass(frozen=True)
class AreaResult:
    area_id: str
    label: str
    #: None: not assessed (see ``reason``).
    level: int | None
    level_label: str | None
    #: Each input's value by local name (None when missing), for the table and the register.
    values: dict[str, Any]
    #: Why the area is not assessed (``missing:<name>`` or ``no-rule``); None when assessed.
    reason: str | None = None
    #: Every missing required input, in the order listed (the first is in ``reason``).
    missing: tuple[str, ...] = ()

    @property
    def assessed(self) -> bool:
        return self.level is not None

    def as_json(self) -> dict[str, Any]:
        return {"area": self.area_id, "label": self.label, "level": self.level,
                "level_label": self.level_label, "values": dict(self.values),
                "reason": self.reason, "missing": list(self.missing)}


@dataclass(frozen=True)
class ProfileResult:
    profile_id: str
    profile_version: int
    areas: tuple[AreaResult, ...] = field(default=())

    @property
    def complete(self) -> bool:
        """Every area assessed."""
        return all(area.level is not None for area in self.areas)

    def area(self, area_id: str) -> AreaResult | None:
        return next((area for area in self.areas if area.area_id == area_id), None)

    def as_json(self) -> dict[str, Any]:
        """A JSON-serialisable copy (for storing a computed profile or an export)."""
        return {"profile": self.profile_id, "version": self.profile_version,
                "complete": self.complete, "areas": [area.as_json() for area in self.areas]}


def normalise_subject(subject: Mapping[str, Any]) -> dict[str, Any]:
    """``{"sex": "female"|"male"|None, "age": int|None}`` from what the caller knows."""
    sex = subject.get("sex")
    age = subject.get("age")
    return {
        "sex": sex if sex in ("female", "male") else None,
        "age": age if isinstance(age, int) and not isinstance(age, bool) and age >= 0 else None,
    }


def input_value(source: str, *, survey_answers: Mapping[str, Any],
                survey_scores: Mapping[str, Any], measurements: Mapping[str, Any]) -> Any:
    """The value a source names; None when it is absent or empty."""
    if source.startswith(SURVEY_SCORE):
        value = survey_scores.get(source[len(SURVEY_SCORE):])
    elif source.startswith(SURVEY):
        value = survey_answers.get(source[len(SURVEY):])
    elif source.startswith(MEASUREMENT):
        value = measurements.get(source[len(MEASUREMENT):])
    else:  # the schema allows no other prefix
        raise ValueError(f"unknown input source {source!r}")
    return None if is_empty(value) else value


def compute_area(area: Area, profile: ProfileDefinition, *, survey_answers: Mapping[str, Any],
                 survey_scores: Mapping[str, Any], measurements: Mapping[str, Any],
                 subject: Mapping[str, Any]) -> AreaResult:
    """One area's level (see the module docstring)."""
    values = {
        name: input_value(source, survey_answers=survey_answers, survey_scores=survey_scores,
                          measurements=measurements)
        for name, source in area.inputs.items()
    }
    who = normalise_subject(subject)
    missing = tuple(
        name for name in area.required_inputs
        if (who[name.split(".", 1)[1]] if name.startswith("subject.") else values.get(name))
        is None)
    if missing:
        return AreaResult(area.id, area.label, None, None, values, MISSING + missing[0], missing)
    data = {name: value for name, value in values.items() if value is not None}
    data["subject"] = who
    for rule in area.rules:
        if rule.condition is None or rules.holds(rule.condition, data):
            level = profile.level(rule.level)
            return AreaResult(area.id, area.label, rule.level,
                              level.label if level is not None else None, values)
    return AreaResult(area.id, area.label, None, None, values, NO_RULE)


def compute_profile(profile: ProfileDefinition, *, survey_answers: Mapping[str, Any],
                    survey_scores: Mapping[str, float | int | None],
                    measurements: Mapping[str, Any],
                    subject: Mapping[str, Any]) -> ProfileResult:
    """Every area's level, in the profile's order.

    :param survey_answers: the survey's stored answers (codes, as validated).
    :param survey_scores: score id -> value (None when the score has no total).
    :param measurements: the measurement form's stored answers (including calculated BMI).
    :param subject: ``{"sex": ..., "age": ...}`` of the person at the visit.
    """
    return ProfileResult(profile.id, profile.version, tuple(
        compute_area(area, profile, survey_answers=survey_answers,
                     survey_scores=survey_scores, measurements=measurements, subject=subject)
        for area in profile.areas))
