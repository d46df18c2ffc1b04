"""The health survey and the measurement form: the contract other parts rely on."""

from __future__ import annotations

from formular.definitions.service import Subject, compile_definition
from formular.i18n.service import offered_languages

from .support import load_design

MEASUREMENT_NAMES = {"visit_date", "weight_kg", "height_cm", "bmi", "waist_cm", "systolic",
                     "diastolic", "glucose_fasting", "cholesterol_total", "ldl", "hdl",
                     "triglycerides", "comment"}


def test_measurement_form_answer_names_and_audience() -> None:
    document = load_design("health-measurements")
    assert document["kind"] == "measurement"
    assert set(document["schema"]["properties"]) == MEASUREMENT_NAMES
    assert set(document["schema"]["required"]) == {"visit_date", "weight_kg", "height_cm",
                                                   "waist_cm", "systolic", "diastolic"}
    assert all(page.get("audience") == "staff" for page in document["layout"]["pages"])
    assert all(section.get("audience") == "staff" for page in document["layout"]["pages"]
               for section in page["sections"])


def test_a_citizen_cannot_post_measurements() -> None:
    compiled = compile_definition(load_design("health-measurements"))
    result = compiled.validate({"weight_kg": 80, "height_cm": 180, "systolic": 120},
                               audience="citizen")
    assert not set(result.answers) & MEASUREMENT_NAMES


def test_units_and_ranges_are_declared() -> None:
    document = load_design("health-measurements")
    properties = document["schema"]["properties"]
    for name in MEASUREMENT_NAMES - {"visit_date", "bmi", "comment"}:
        assert {"minimum", "maximum"} <= set(properties[name]), name
    units = {item["name"]: item.get("unit") for page in document["layout"]["pages"]
             for section in page["sections"] for item in section["items"]}
    assert units["weight_kg"] == "kg"
    assert units["waist_cm"] == "cm"
    assert units["systolic"] == units["diastolic"] == "mmHg"
    assert {units[n] for n in ("glucose_fasting", "cholesterol_total", "ldl", "hdl",
                               "triglycerides")} == {"mmol/L"}


def test_survey_policy_suits_a_send_out() -> None:
    document = load_design("health-survey-50")
    assert document["kind"] == "questionnaire"
    assert document["policy"]["login"] == "required"
    assert document["policy"]["drafts"] is True
    assert document["workflow"]["type"] == "send-out"


def test_activity_minutes_follow_the_indicator_method() -> None:
    """Exercise counts double; each band is worth its midpoint (open top band: its floor)."""
    document = load_design("health-survey-50")
    score = next(s for s in document["scores"] if s["id"] == "activity-minutes")
    exercise, everyday = (item["weights"] for item in score["items"])
    assert exercise == {k: 2 * v for k, v in {"ingen": 0, "under-30": 15, "30-59": 45,
                                              "60-89": 75, "90-119": 105,
                                              "120-eller-mer": 120}.items()}
    assert everyday == {"ingen": 0, "under-30": 15, "30-59": 45, "60-89": 75, "90-149": 120,
                        "150-299": 225, "300-eller-mer": 300}


def test_audit_c_bands_depend_on_sex() -> None:
    compiled = compile_definition(load_design("health-survey-50"))
    answers = {"audit_c1": "2-3-vecka", "audit_c2": "1-2", "audit_c3": "sallan"}  # 3+0+1 = 4
    for sex, band in (("female", "riskbruk"), ("male", "lag-risk"), (None, None)):
        result = compiled.scores.evaluate(answers, Subject(sex=sex, age=50))
        audit = result.scores["audit-c"]
        assert audit.value == 4
        assert (audit.band.id if audit.band else None) == band


def test_both_forms_are_offered_in_swedish_and_english() -> None:
    for name in ("health-survey-50", "health-measurements"):
        assert offered_languages(load_design(name)) == ["sv", "en"], name
