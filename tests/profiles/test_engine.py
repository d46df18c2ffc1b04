"""The profile engine: first matching rule, missing inputs, subject normalisation, purity."""

from __future__ import annotations

from typing import Any

import pytest

from formular.profiles.compute import (
    NO_RULE,
    ProfileResult,
    compute_profile,
    input_value,
    normalise_subject,
)
from formular.profiles.loader import load_profile

from .support import minimal

PROFILE = load_profile(minimal())


def compute(*, answers: dict[str, Any] | None = None, scores: dict[str, Any] | None = None,
            measurements: dict[str, Any] | None = None,
            subject: dict[str, Any] | None = None) -> ProfileResult:
    return compute_profile(PROFILE, survey_answers=answers or {}, survey_scores=scores or {},
                           measurements=measurements or {},
                           subject=subject if subject is not None else {"sex": "female",
                                                                         "age": 50})


FULL: dict[str, Any] = {
    "answers": {"smoking": "never"}, "scores": {"stress": 3},
    "measurements": {"waist_cm": 70, "systolic": 120},
}


def test_every_area_is_assessed_in_order_when_everything_is_there() -> None:
    result = compute(**FULL)
    assert [a.area_id for a in result.areas] == ["waist", "smoking", "stress", "pressure"]
    assert [a.level for a in result.areas] == [3, 3, 3, 3]
    assert [a.level_label for a in result.areas] == ["Bra"] * 4
    assert result.complete
    assert (result.profile_id, result.profile_version) == ("mini", 1)


def test_the_first_rule_that_holds_gives_the_level() -> None:
    result = compute(answers={"smoking": "daily", "cigarettes": 20})
    smoking = result.area("smoking")
    assert smoking is not None
    assert smoking.level == 1
    assert compute(answers={"smoking": "daily"}).area("smoking").level == 2  # type: ignore[union-attr]


@pytest.mark.parametrize(("sex", "waist", "level"), [
    ("female", 87.9, 3), ("female", 88, 1), ("male", 88, 3), ("male", 101.9, 3), ("male", 102, 1),
])
def test_sex_dependent_threshold(sex: str, waist: float, level: int) -> None:
    result = compute(measurements={"waist_cm": waist}, subject={"sex": sex, "age": 50})
    assert result.area("waist").level == level  # type: ignore[union-attr]


@pytest.mark.parametrize(("age", "systolic", "level"), [
    (64, 140, 1), (65, 140, 3), (65, 149, 3), (65, 150, 1), (None, 140, 1), (None, 139, 3),
])
def test_age_dependent_threshold(age: int | None, systolic: int, level: int) -> None:
    result = compute(measurements={"systolic": systolic}, subject={"sex": "male", "age": age})
    assert result.area("pressure").level == level  # type: ignore[union-attr]


def test_a_missing_input_leaves_the_area_not_assessed_with_a_reason() -> None:
    result = compute(answers={"smoking": "never"}, measurements={"waist_cm": 70})
    stress = result.area("stress")
    assert stress is not None
    assert (stress.level, stress.level_label, stress.reason) == (None, None, "missing:stress")
    assert stress.values == {"stress": None}
    assert not stress.assessed
    assert result.area("pressure").reason == "missing:systolic"  # type: ignore[union-attr]
    assert not result.complete


def test_required_inputs_default_to_every_input_but_may_be_fewer() -> None:
    # smoking lists only "smoking" as required: cigarettes may be missing.
    smoking = compute(answers={"smoking": "never"}).area("smoking")
    assert smoking is not None
    assert smoking.level == 3
    assert smoking.values == {"smoking": "never", "cigarettes": None}


def test_required_subject_values_are_checked() -> None:
    for subject in ({"sex": "unknown", "age": 50}, {"age": 50}, {"sex": "X"}, {}):
        waist = compute(measurements={"waist_cm": 120}, subject=subject).area("waist")
        assert waist is not None
        assert (waist.level, waist.reason, waist.missing) == (None, "missing:subject.sex",
                                                              ("subject.sex",))


def test_every_missing_required_input_is_listed_first_one_in_the_reason() -> None:
    waist = compute(subject={}).area("waist")
    assert waist is not None
    assert waist.reason == "missing:waist_cm"
    assert waist.missing == ("waist_cm", "subject.sex")


@pytest.mark.parametrize("empty", [None, "", [], {}])
def test_empty_values_are_missing(empty: Any) -> None:
    result = compute(scores={"stress": empty})
    assert result.area("stress").reason == "missing:stress"  # type: ignore[union-attr]


def test_zero_and_false_are_values() -> None:
    assert compute(scores={"stress": 0}).area("stress").level == 3  # type: ignore[union-attr]
    assert input_value("survey:x", survey_answers={"x": False}, survey_scores={},
                       measurements={}) is False


def test_no_rule_applying_is_not_assessed() -> None:
    # The stress rules cover numbers only: a text value makes both comparisons fail.
    stress = compute(scores={"stress": "many"}).area("stress")
    assert stress is not None
    assert (stress.level, stress.reason) == (None, NO_RULE)


def test_sources_are_read_from_the_right_place() -> None:
    kwargs: dict[str, Any] = {"survey_answers": {"a": 1, "score.b": "no"},
                              "survey_scores": {"b": 2}, "measurements": {"a": 3}}
    assert input_value("survey:a", **kwargs) == 1
    assert input_value("survey:score.b", **kwargs) == 2
    assert input_value("measurement:a", **kwargs) == 3
    assert input_value("survey:missing", **kwargs) is None
    with pytest.raises(ValueError, match="unknown input source"):
        input_value("other:a", **kwargs)


def test_subject_normalisation() -> None:
    assert normalise_subject({"sex": "female", "age": 50}) == {"sex": "female", "age": 50}
    assert normalise_subject({"sex": "unknown", "age": True}) == {"sex": None, "age": None}
    assert normalise_subject({"age": -1}) == {"sex": None, "age": None}
    assert normalise_subject({"age": "50"}) == {"sex": None, "age": None}


def test_answers_outside_the_inputs_are_invisible_to_rules() -> None:
    # A survey answer named like a subject key must not leak into the rules' data.
    result = compute(answers={"smoking": "never", "subject": {"sex": "male"}},
                     measurements={"waist_cm": 95}, subject={"sex": "female"})
    assert result.area("waist").level == 1  # type: ignore[union-attr]


def test_computing_is_deterministic_and_does_not_touch_the_inputs() -> None:
    answers = {"smoking": "daily", "cigarettes": 5}
    first = compute(answers=answers, scores={"stress": 12}, measurements={"waist_cm": 90})
    second = compute(answers=answers, scores={"stress": 12}, measurements={"waist_cm": 90})
    assert first == second
    assert answers == {"smoking": "daily", "cigarettes": 5}


def test_result_as_json() -> None:
    data = compute(**FULL).as_json()
    assert data["profile"] == "mini"
    assert data["version"] == 1
    assert data["complete"] is True
    assert data["areas"][0] == {"area": "waist", "label": "Midja", "level": 3,
                                "level_label": "Bra", "values": {"waist_cm": 70},
                                "reason": None, "missing": []}


def test_profile_helpers() -> None:
    assert (PROFILE.lowest, PROFILE.highest) == (1, 3)
    middle = PROFILE.level(2)
    assert middle is not None
    assert middle.label == "Mellan"
    assert PROFILE.level(None) is None
    assert PROFILE.level(9) is None
    assert PROFILE.area("stress") is not None
    assert PROFILE.area("nope") is None
    assert PROFILE.areas[0].required_inputs == ("waist_cm", "subject.sex")
    assert PROFILE.areas[2].required_inputs == ("stress",)
