"""The shipped example profile: its golden cases, what they cover, and the whole chain from a
citizen's survey answers and staff measurements (validated and scored by the real definitions)
to the profile's levels."""

from __future__ import annotations

from typing import Any

import pytest

from formular.definitions.service import Subject, compile_definition
from formular.profiles.compute import compute_profile
from formular.profiles.loader import check_sources, load_profile
from formular.profiles.testcases import run_profile_tests

from .support import example_document, load_design

AREAS = ["tobacco", "alcohol", "physical_activity", "diet", "bmi", "waist", "blood_pressure",
         "lipids", "glucose", "stress", "sleep"]
PROFILE = load_profile(example_document())
SURVEY = compile_definition(load_design("health-survey-50"))
MEASUREMENTS = compile_definition(load_design("health-measurements"))


def test_the_example_is_marked_as_an_example_and_citizen_visible() -> None:
    assert PROFILE.example
    assert PROFILE.citizen_visible
    assert PROFILE.notice
    assert PROFILE.notice.startswith("Exempel")
    assert "ersätts av regionens egna kriterier" in PROFILE.notice
    assert [a.id for a in PROFILE.areas] == AREAS
    assert [level.value for level in PROFILE.levels] == [1, 2, 3, 4, 5]
    assert (PROFILE.survey, PROFILE.measurements) == ("health-survey-50", "health-measurements")


def test_its_sources_exist_in_the_survey_and_measurement_definitions() -> None:
    assert check_sources(PROFILE, SURVEY.document, MEASUREMENTS.document) == []


def test_its_golden_cases_pass() -> None:
    assert run_profile_tests(PROFILE) == []


def test_a_wrong_expectation_fails() -> None:
    """The golden-case runner is not vacuous: flip one expectation and it reports it."""
    document = example_document()
    document["tests"][0]["expect"]["tobacco"] = 1
    document["tests"][1]["reasons"] = {"alcohol": "missing:nothing"}
    problems = run_profile_tests(load_profile(document))
    assert [p.pointer for p in problems] == ["/tests/0", "/tests/1"]
    assert "expected level 1, got 5" in problems[0].message


def test_the_golden_cases_cover_what_they_must() -> None:
    cases = PROFILE.document["tests"]
    expected: dict[str, set[Any]] = {area: set() for area in AREAS}
    for case in cases:
        for area, level in case["expect"].items():
            expected[area].add(level)
    # Every area is exercised, and every area's not-assessed case too.
    assert all(len(levels) >= 3 and None in levels for levels in expected.values()), expected
    sexes = {(case.get("subject") or {}).get("sex") for case in cases}
    ages = {(case.get("subject") or {}).get("age") for case in cases}
    assert {"female", "male", "unknown"} <= sexes
    assert {50, 64, 65, 66, 70} <= ages
    assert None in ages


def levels(subject: dict[str, Any], answers: dict[str, Any],
           measurements: dict[str, Any]) -> dict[str, int | None]:
    who = Subject(sex=subject.get("sex"), age=subject.get("age"))
    survey = SURVEY.validate(answers, subject=who)
    assert survey.ok, survey.errors
    staff = MEASUREMENTS.validate(measurements, audience="staff")
    assert staff.ok, staff.errors
    result = compute_profile(
        PROFILE, survey_answers=survey.answers,
        survey_scores={k: s.value for k, s in survey.scoring.scores.items()},
        measurements=staff.answers, subject=subject)
    return {area.area_id: area.level for area in result.areas}


ANSWERS: dict[str, Any] = {
    "self_rated_health": "bra", "longstanding_illness": False, "medication": False,
    "heredity": ["inget"], "smoking": "aldrig", "snus": "aldrig",
    "audit_c1": "2-4-manad", "audit_c2": "3-4", "audit_c3": "sallan",
    "exercise_minutes": "30-59", "everyday_minutes": "60-89", "sitting_hours": "7-9",
    "vegetables": "en-gang-dag", "fruit": "en-gang-dag", "fish": "en-gang-vecka",
    "sweets": "1-3-vecka", "sugary_drinks": "sallan", "employment": "pensionar",
    "living": "med-partner", "social_support": "ja-oftast", "economy": "nej",
    "sleep_quality": "ganska-bra", "sleep_hours": "7-timmar",
    "stress_1": "ibland", "stress_2": "ibland", "stress_3": "ibland", "stress_4": "sallan",
    "stress_5": "ofta"}
MEASURED: dict[str, Any] = {
    "visit_date": "2026-03-02", "weight_kg": 84, "height_cm": 172, "waist_cm": 90,
    "systolic": 142, "diastolic": 86, "glucose_fasting": 5.8, "cholesterol_total": 5.4,
    "ldl": 3.3, "hdl": 1.1}


def test_from_answers_and_measurements_to_levels() -> None:
    # AUDIT-C 2+1+1 = 4; activity 2×45+75 = 165; diet 2+2+2+2+3 = 11; stress 2+2+2+1+1 = 8;
    # BMI 84 / 1.72² = 28.4.
    woman = levels({"sex": "female", "age": 50}, ANSWERS, MEASURED)
    assert woman == {"tobacco": 5, "alcohol": 3, "physical_activity": 4, "diet": 4, "bmi": 3,
                     "waist": 1, "blood_pressure": 2, "lipids": 3, "glucose": 3, "stress": 3,
                     "sleep": 4}
    man = levels({"sex": "male", "age": 50}, ANSWERS, MEASURED)
    assert {k: man[k] for k in ("alcohol", "waist", "lipids")} == {
        "alcohol": 4, "waist": 5, "lipids": 4}
    older = levels({"sex": "male", "age": 66}, ANSWERS, MEASURED)
    assert older["blood_pressure"] == 3


def test_lab_values_that_have_not_arrived_leave_their_areas_not_assessed() -> None:
    measured = {k: v for k, v in MEASURED.items()
                if k not in ("glucose_fasting", "cholesterol_total", "ldl", "hdl")}
    result = levels({"sex": "female", "age": 50}, ANSWERS, measured)
    assert (result["lipids"], result["glucose"]) == (None, None)
    assert result["bmi"] == 3


def test_a_non_drinker_gets_the_best_alcohol_level() -> None:
    answers = {k: v for k, v in ANSWERS.items() if k not in ("audit_c2", "audit_c3")}
    answers["audit_c1"] = "aldrig"
    assert levels({"sex": "male", "age": 50}, answers, MEASURED)["alcohol"] == 5


@pytest.mark.parametrize(("weight", "bmi", "level"), [
    (61.0, 18.8, 5), (59.0, 18.2, 3), (80.5, 24.8, 5), (80.9, 25.0, 4), (81.0, 25.0, 4),
    (97.2, 30.0, 2), (113.4, 35.0, 1),
])
def test_bmi_is_computed_by_the_measurement_form_and_rated(weight: float, bmi: float,
                                                           level: int) -> None:
    """The profile rates the BMI the measurement form stored (rounded to one decimal), so a
    person at 24.97 is rated as 25.0."""
    staff = MEASUREMENTS.validate({**MEASURED, "weight_kg": weight, "height_cm": 180},
                                  audience="staff")
    assert staff.answers["bmi"] == bmi
    result = compute_profile(PROFILE, survey_answers={}, survey_scores={},
                             measurements=staff.answers, subject={"sex": "female", "age": 50})
    assert result.area("bmi").level == level  # type: ignore[union-attr]
