"""Scores, bands and flags: golden tests for PHQ-9, GAD-7 and AUDIT from the design files, the
scoring semantics on small inline definitions, and the score linter."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from formular.definitions.scores import (
    Band,
    ScorePlan,
    Subject,
    compile_scores,
    lint_scores,
)

ROOT = Path(__file__).resolve().parents[2]
DESIGNS = ("phq-9", "gad-7", "audit")
PHQ = [f"phq{i}" for i in range(1, 10)]
GAD = [f"gad{i}" for i in range(1, 8)]
AUDIT = [f"audit{i}" for i in range(1, 11)]

Json = dict[str, Any]


# --------------------------------------------------------------------------------------------
# Fixtures and helpers


def load_design(name: str) -> Json:
    result: Json = json.loads((ROOT / "designs" / f"{name}.json").read_text(encoding="utf-8"))
    return result


@pytest.fixture(scope="module")
def meta_validator() -> Draft202012Validator:
    resources = []
    for path in sorted((ROOT / "schemas").glob("*.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        resources.append((contents["$id"], Resource.from_contents(contents)))
    registry: Registry[Any] = Registry().with_resources(resources)
    meta = json.loads((ROOT / "schemas" / "form-definition.schema.json").read_text("utf-8"))
    return Draft202012Validator(meta, registry=registry)


@pytest.fixture(scope="module")
def plans() -> dict[str, ScorePlan]:
    return {name: compile_scores(load_design(name)) for name in DESIGNS}


def spread(names: list[str], total: int, top: int, last: int = 0) -> Json:
    """Answers for ``names`` summing to ``total``, the last item fixed at ``last``."""
    answers = {name: 0 for name in names}
    answers[names[-1]] = last
    remaining = total - last
    for name in names[:-1]:
        answers[name] = min(top, remaining)
        remaining -= answers[name]
    assert remaining == 0, "total out of reach"
    return answers


def audit_answers(weights: list[int], skip: tuple[str, ...] = ()) -> Json:
    """AUDIT answers (option codes) from the wanted weight of each question."""
    design = load_design("audit")
    answers = {}
    for name, weight in zip(AUDIT, weights, strict=True):
        if name in skip:
            continue
        item = next(i for p in design["layout"]["pages"] for s in p["sections"]
                    for i in s["items"] if i.get("name") == name)
        options = item["options"]
        if isinstance(options, str):
            options = design["option_sets"][options]
        answers[name] = next(o["value"] for o in options if o["weight"] == weight)
    return answers


def band_id(band: Band | None) -> str | None:
    return band.id if band else None


# Inline definitions --------------------------------------------------------------------------


def choice(name: str, weights: list[float] | None = None, values: list[Any] | None = None,
           multi: bool = False) -> tuple[Json, Json]:
    values = values if values is not None else list(range(len(weights or [0, 1, 2, 3])))
    options = []
    for index, value in enumerate(values):
        option: Json = {"value": value, "label": f"Alternativ {value}"}
        if weights is not None:
            option["weight"] = weights[index]
        options.append(option)
    kind = "multi-choice" if multi else "choice"
    prop: Json = {"enum": values}
    if multi:
        prop = {"type": "array", "items": {"enum": values}, "uniqueItems": True}
    return {"type": kind, "name": name, "label": name, "options": options}, {name: prop}


def yes_no(name: str) -> tuple[Json, Json]:
    return {"type": "yes-no", "name": name, "label": name}, {name: {"type": "boolean"}}


def number(name: str, low: float | None = None, high: float | None = None,
           kind: str = "integer") -> tuple[Json, Json]:
    prop: Json = {"type": "integer" if kind == "integer" else "number"}
    if low is not None:
        prop["minimum"] = low
    if high is not None:
        prop["maximum"] = high
    return {"type": kind, "name": name, "label": name}, {name: prop}


def text(name: str) -> tuple[Json, Json]:
    return {"type": "text", "name": name, "label": name}, {name: {"type": "string"}}


def make(items: list[tuple[Json, Json]], scores: list[Json], flags: list[Json] | None = None
         ) -> Json:
    properties: Json = {}
    for _, prop in items:
        properties.update(prop)
    definition: Json = {
        "formular": 1, "id": "test", "version": 1, "kind": "questionnaire", "title": "Test",
        "language": "sv",
        "schema": {"type": "object", "properties": properties},
        "layout": {"pages": [{"id": "sida", "title": "Sida", "sections": [
            {"id": "del", "items": [item for item, _ in items]}]}]},
        "scores": scores,
    }
    if flags:
        definition["flags"] = flags
    return definition


def score(items: list[Any], method: str = "sum", **extra: Any) -> Json:
    return {"id": extra.pop("id", "s"), "label": "S", "method": method, "items": items, **extra}


FOUR = [choice(f"q{i}") for i in range(1, 5)]  # four items, values = weights 0..3


# --------------------------------------------------------------------------------------------
# The design files


@pytest.mark.parametrize("name", DESIGNS)
def test_design_is_meta_schema_valid(name: str, meta_validator: Draft202012Validator) -> None:
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
              for e in meta_validator.iter_errors(load_design(name))]
    assert errors == []


@pytest.mark.parametrize("name", DESIGNS)
def test_design_answer_schema_is_valid_json_schema(name: str) -> None:
    Draft202012Validator.check_schema(load_design(name)["schema"])


@pytest.mark.parametrize("name", DESIGNS)
def test_design_scores_lint_clean(name: str) -> None:
    assert lint_scores(load_design(name)) == []


@pytest.mark.parametrize("name", DESIGNS)
def test_design_has_tests_and_band_ids(name: str) -> None:
    design = load_design(name)
    assert len(design["tests"]) >= 4
    for score_def in design["scores"]:
        for band_set in score_def["band_sets"]:
            assert all("id" in band for band in band_set["bands"])


def _design_cases() -> list[Any]:
    return [
        pytest.param(name, index, id=f"{name}-{index}")
        for name in DESIGNS
        for index in range(len(load_design(name)["tests"]))
    ]


@pytest.mark.parametrize(("name", "index"), _design_cases())
def test_design_test_case_scores(name: str, index: int, plans: dict[str, ScorePlan]) -> None:
    """The score, band and flag expectations of each designer test case (visibility and
    validation expectations are run by the definition checker)."""
    case = load_design(name)["tests"][index]
    result = plans[name].evaluate(case["answers"], Subject(**case.get("subject", {})))
    expect = case["expect"]
    for score_id, value in expect.get("scores", {}).items():
        assert result.scores[score_id].value == value, (case["name"], score_id)
    for score_id, band in expect.get("bands", {}).items():
        assert band_id(result.scores[score_id].band) == band, (case["name"], score_id)
    if "flags" in expect:
        assert sorted(f.id for f in result.flags) == sorted(expect["flags"]), case["name"]


# --------------------------------------------------------------------------------------------
# PHQ-9

PHQ_BANDS = [(0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"),
             (14, "moderate"), (15, "moderately-severe"), (19, "moderately-severe"),
             (20, "severe"), (27, "severe")]


@pytest.mark.parametrize(("total", "band"), PHQ_BANDS)
def test_phq9_band_boundaries(total: int, band: str, plans: dict[str, ScorePlan]) -> None:
    result = plans["phq-9"].evaluate(spread(PHQ, total, 3, last=max(0, total - 24)))
    assert result.scores["phq-9"].value == total
    assert band_id(result.scores["phq-9"].band) == band


def test_phq9_every_total_has_exactly_one_band(plans: dict[str, ScorePlan]) -> None:
    for total in range(28):
        result = plans["phq-9"].evaluate(spread(PHQ, total, 3, last=max(0, total - 24)))
        assert result.scores["phq-9"].band is not None, total


def test_phq9_result_carries_labels_and_visibility(plans: dict[str, ScorePlan]) -> None:
    result = plans["phq-9"].evaluate(spread(PHQ, 12, 3))
    phq = result.scores["phq-9"]
    assert phq.label == "PHQ-9 totalpoäng"
    assert isinstance(phq.value, int)
    assert phq.band is not None
    assert (phq.band.label, phq.band.severity, phq.band.min, phq.band.max) == (
        "Måttliga symtom", "moderate", 10, 14)
    assert phq.missing == ()
    assert phq.citizen_visible is False


@pytest.mark.parametrize("item9", [1, 2, 3])
@pytest.mark.parametrize("others", [0, 3, 24])
def test_phq9_item9_flag_whatever_the_total(item9: int, others: int,
                                             plans: dict[str, ScorePlan]) -> None:
    answers = spread(PHQ, others + item9, 3, last=item9)
    result = plans["phq-9"].evaluate(answers)
    assert result.scores["phq-9"].value == others + item9
    assert [(f.id, f.severity, f.citizen_visible) for f in result.flags] == [
        ("phq9-item9", "critical", False)]


def test_phq9_no_flag_when_item9_is_zero_even_at_high_total(plans: dict[str, ScorePlan]) -> None:
    result = plans["phq-9"].evaluate(spread(PHQ, 24, 3, last=0))
    assert band_id(result.scores["phq-9"].band) == "severe"
    assert result.flags == ()


def test_phq9_flag_raised_even_without_total(plans: dict[str, ScorePlan]) -> None:
    result = plans["phq-9"].evaluate({"phq9": 2})
    assert result.scores["phq-9"].value is None
    assert result.scores["phq-9"].band is None
    assert result.scores["phq-9"].missing == tuple(PHQ[:8])
    assert [f.id for f in result.flags] == ["phq9-item9"]


def test_phq9_unscored_function_question_does_not_count(plans: dict[str, ScorePlan]) -> None:
    answers = {**spread(PHQ, 6, 3), "phq10": "extremt-svart"}
    assert plans["phq-9"].evaluate(answers).scores["phq-9"].value == 6


# --------------------------------------------------------------------------------------------
# GAD-7 and GAD-2

GAD_BANDS = [(0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"),
             (14, "moderate"), (15, "severe"), (21, "severe")]


@pytest.mark.parametrize(("total", "band"), GAD_BANDS)
def test_gad7_band_boundaries(total: int, band: str, plans: dict[str, ScorePlan]) -> None:
    result = plans["gad-7"].evaluate(spread(GAD, total, 3, last=max(0, total - 18)))
    assert result.scores["gad-7"].value == total
    assert band_id(result.scores["gad-7"].band) == band


@pytest.mark.parametrize(("gad1", "gad2", "band"), [
    (0, 0, "negative"), (1, 1, "negative"), (2, 0, "negative"), (2, 1, "positive"),
    (0, 3, "positive"), (3, 3, "positive"),
])
def test_gad2_subset(gad1: int, gad2: int, band: str, plans: dict[str, ScorePlan]) -> None:
    answers = {name: 0 for name in GAD} | {"gad1": gad1, "gad2": gad2}
    result = plans["gad-7"].evaluate(answers)
    assert result.scores["gad-2"].value == gad1 + gad2
    assert band_id(result.scores["gad-2"].band) == band
    assert result.scores["gad-7"].value == gad1 + gad2


def test_gad2_scored_when_other_items_missing(plans: dict[str, ScorePlan]) -> None:
    result = plans["gad-7"].evaluate({"gad1": 3, "gad2": 1})
    assert result.scores["gad-7"].value is None
    assert result.scores["gad-2"].value == 4
    assert result.scores["gad-7"].missing == tuple(GAD[2:])


# --------------------------------------------------------------------------------------------
# AUDIT and AUDIT-C


def test_audit_non_contiguous_weights(plans: dict[str, ScorePlan]) -> None:
    base = {name: "aldrig" for name in AUDIT[:8]} | {"audit1": "aldrig", "audit2": "1-2"}
    plan = plans["audit"]
    for audit9, weight in [("nej", 0), ("ja-tidigare", 2), ("ja-senaste-aret", 4)]:
        result = plan.evaluate(base | {"audit9": audit9, "audit10": "nej"})
        assert result.scores["audit"].value == weight
    both = plan.evaluate(base | {"audit9": "ja-senaste-aret", "audit10": "ja-tidigare"})
    assert both.scores["audit"].value == 6


AUDIT_SETS = [
    # sex, age, total, band
    ("female", 40, 5, "lag-risk"), ("female", 40, 6, "riskbruk"),
    ("female", 70, 5, "lag-risk"), ("female", 70, 6, "riskbruk"),
    ("male", 40, 7, "lag-risk"), ("male", 40, 8, "riskbruk"),
    ("male", 65, 6, "lag-risk"), ("male", 65, 7, "riskbruk"),
    ("male", 64, 7, "lag-risk"),
    ("unknown", 70, 6, "lag-risk"), ("unknown", 70, 7, "riskbruk"),
    (None, None, 7, "lag-risk"), (None, None, 8, "riskbruk"),
    ("unknown", None, 8, "riskbruk"),
]


@pytest.mark.parametrize(("sex", "age", "total", "band"), AUDIT_SETS)
def test_audit_sex_and_age_band_sets(sex: str | None, age: int | None, total: int, band: str,
                                     plans: dict[str, ScorePlan]) -> None:
    weights = [min(4, total), max(0, total - 4)] + [0] * 8
    result = plans["audit"].evaluate(audit_answers(weights), Subject(sex=sex, age=age))
    assert result.scores["audit"].value == total
    assert band_id(result.scores["audit"].band) == band


@pytest.mark.parametrize("subject", [Subject("female", 30), Subject("male", 30),
                                     Subject("male", 80), Subject()])
@pytest.mark.parametrize(("total", "band"), [(15, "riskbruk"), (16, "skadligt-bruk"),
                                             (20, "skadligt-bruk"), (21, "trolig-beroende"),
                                             (40, "trolig-beroende")])
def test_audit_upper_bands_in_every_set(subject: Subject, total: int, band: str,
                                        plans: dict[str, ScorePlan]) -> None:
    weights = [min(4, max(0, total - 4 * i)) for i in range(8)]
    weights += [0, 0]
    if sum(weights) < total:  # only Q9-10 can bring the last 8 points
        weights = [4] * 8 + [4 if total - 32 >= 4 else total - 32, max(0, total - 36)]
    result = plans["audit"].evaluate(audit_answers(weights), subject)
    assert result.scores["audit"].value == total
    assert band_id(result.scores["audit"].band) == band


@pytest.mark.parametrize(("sex", "total", "band"), [
    ("female", 3, "lag-risk"), ("female", 4, "riskbruk"), ("male", 4, "lag-risk"),
    ("male", 5, "riskbruk"), ("female", 12, "riskbruk"), ("unknown", 8, None), (None, 8, None),
])
def test_audit_c_sex_dependent_bands(sex: str | None, total: int, band: str | None,
                                     plans: dict[str, ScorePlan]) -> None:
    weights = [min(4, total), min(4, max(0, total - 4)), max(0, total - 8)] + [0] * 7
    result = plans["audit"].evaluate(audit_answers(weights), Subject(sex=sex, age=50))
    assert result.scores["audit-c"].value == total
    assert band_id(result.scores["audit-c"].band) == band


def test_audit_never_drinker_skips_counted_as_zero(plans: dict[str, ScorePlan]) -> None:
    skipped = tuple(AUDIT[1:8])
    answers = audit_answers([0] * 8 + [2, 4], skip=skipped)
    result = plans["audit"].evaluate(answers, Subject("male", 30))
    assert result.scores["audit"].value == 6
    assert result.scores["audit"].missing == skipped
    assert result.scores["audit-c"].value == 0
    assert result.scores["audit-c"].missing == ("audit2", "audit3")


def test_audit_all_missing_is_none(plans: dict[str, ScorePlan]) -> None:
    result = plans["audit"].evaluate({}, Subject("female", 30))
    assert result.scores["audit"].value is None
    assert result.scores["audit"].band is None
    assert result.scores["audit-c"].value is None


# --------------------------------------------------------------------------------------------
# Weights


def test_score_item_weights_map_overrides_option_weights() -> None:
    items = [choice("a", values=["never", "weekly", "daily"], weights=[0, 1, 2])]
    definition = make(items, [score([{"name": "a", "weights": {"daily": 5}}])])
    plan = compile_scores(definition)
    assert plan.evaluate({"a": "daily"}).scores["s"].value == 5
    assert plan.evaluate({"a": "weekly"}).scores["s"].value == 1
    assert lint_scores(definition) == []


def test_numeric_values_weigh_themselves_and_booleans_one_zero() -> None:
    items = [choice("c", values=[0, 1, 2]), number("n", 0, 10), yes_no("b")]
    plan = compile_scores(make(items, [score(["c", "n", "b"])]))
    assert plan.evaluate({"c": 2, "n": 7, "b": True}).scores["s"].value == 10
    assert plan.evaluate({"c": 0, "n": 0, "b": False}).scores["s"].value == 0


def test_boolean_weights_by_string_key() -> None:
    definition = make([yes_no("b")], [score([{"name": "b", "weights": {"true": 3,
                                                                        "false": 1}}])])
    plan = compile_scores(definition)
    assert plan.evaluate({"b": True}).scores["s"].value == 3
    assert plan.evaluate({"b": False}).scores["s"].value == 1


def test_multi_choice_sums_chosen_weights() -> None:
    items = [choice("m", values=["a", "b", "c"], weights=[1, 2, 4], multi=True)]
    plan = compile_scores(make(items, [score(["m"])]))
    assert plan.evaluate({"m": ["a", "c"]}).scores["s"].value == 5
    assert plan.evaluate({"m": []}).scores["s"].value == 0


def test_unweighable_runtime_value_counts_as_missing() -> None:
    plan = compile_scores(make([choice("a", values=["x", "y"], weights=[0, 1])],
                               [score(["a"])]))
    result = plan.evaluate({"a": "z"}).scores["s"]
    assert (result.value, result.missing) == (None, ("a",))


# --------------------------------------------------------------------------------------------
# Reverse


def test_reverse_option_weights() -> None:
    items = [choice("a", weights=[0, 1, 2, 3, 4]), choice("b", weights=[0, 1, 2, 3, 4])]
    plan = compile_scores(make(items, [score(["a", {"name": "b", "reverse": True}])]))
    assert plan.evaluate({"a": 0, "b": 0}).scores["s"].value == 4
    assert plan.evaluate({"a": 4, "b": 4}).scores["s"].value == 4
    assert plan.evaluate({"a": 1, "b": 3}).scores["s"].value == 2


def test_reverse_uses_min_and_max_of_weights_not_values() -> None:
    items = [choice("a", values=["x", "y", "z"], weights=[1, 3, 5])]
    plan = compile_scores(make(items, [score([{"name": "a", "reverse": True}])]))
    assert [plan.evaluate({"a": v}).scores["s"].value for v in "xyz"] == [5, 3, 1]


def test_reverse_numeric_item_uses_schema_bounds() -> None:
    plan = compile_scores(make([number("n", 1, 7)], [score([{"name": "n", "reverse": True}])]))
    assert plan.evaluate({"n": 1}).scores["s"].value == 7
    assert plan.evaluate({"n": 5}).scores["s"].value == 3


def test_reverse_boolean() -> None:
    plan = compile_scores(make([yes_no("b")], [score([{"name": "b", "reverse": True}])]))
    assert plan.evaluate({"b": True}).scores["s"].value == 0
    assert plan.evaluate({"b": False}).scores["s"].value == 1


# --------------------------------------------------------------------------------------------
# Methods


def test_mean_of_answered_items_default_one_decimal() -> None:
    definition = make(FOUR, [score(["q1", "q2", "q3"], "mean")])
    plan = compile_scores(definition)
    value = plan.evaluate({"q1": 1, "q2": 2, "q3": 2}).scores["s"].value
    assert value == 1.7
    assert isinstance(value, float)
    assert plan.evaluate({"q1": 1, "q2": 2}).scores["s"].value is None


def test_mean_with_missing_allowed_divides_by_answered() -> None:
    plan = compile_scores(make(FOUR, [score(["q1", "q2", "q3", "q4"], "mean",
                                            missing={"max_missing": 1})]))
    assert plan.evaluate({"q1": 3, "q2": 2, "q3": 2}).scores["s"].value == 2.3


def test_mean_with_zero_policy_divides_by_all_items() -> None:
    plan = compile_scores(make(FOUR, [score(["q1", "q2", "q3", "q4"], "mean",
                                            missing={"policy": "zero"})]))
    assert plan.evaluate({"q1": 3, "q2": 3}).scores["s"].value == 1.5


def test_count_method_single_and_multi_choice() -> None:
    items = [yes_no("a"), yes_no("b"), yes_no("c"),
             choice("m", values=["x", "y", "z"], multi=True), choice("o", values=["x", "y"])]
    definition = make(items, [score(["a", "b", "c", "m", "o"], "count",
                                    count_values=[True, "x", "z"])])
    assert lint_scores(definition) == []
    plan = compile_scores(definition)
    answers = {"a": True, "b": False, "c": True, "m": ["x", "y", "z"], "o": "y"}
    value = plan.evaluate(answers).scores["s"].value
    assert value == 4
    assert isinstance(value, int)


def test_count_with_missing_no_total_and_zero() -> None:
    items = [yes_no("a"), yes_no("b")]
    no_total = compile_scores(make(items, [score(["a", "b"], "count", count_values=[True])]))
    assert no_total.evaluate({"a": True}).scores["s"].value is None
    zero = compile_scores(make(items, [score(["a", "b"], "count", count_values=[True],
                                             missing={"policy": "zero"})]))
    assert zero.evaluate({"a": True}).scores["s"].value == 1


def test_count_values_match_numbers_as_numbers() -> None:
    plan = compile_scores(make(FOUR, [score(["q1", "q2", "q3"], "count", count_values=[2, 3])]))
    assert plan.evaluate({"q1": 2, "q2": 3, "q3": 1}).scores["s"].value == 2


# --------------------------------------------------------------------------------------------
# Missing policies


def test_no_total_is_none_when_anything_missing() -> None:
    plan = compile_scores(make(FOUR, [score(["q1", "q2", "q3", "q4"])]))
    result = plan.evaluate({"q1": 3, "q2": 3, "q3": None})
    assert result.scores["s"].value is None
    assert result.scores["s"].missing == ("q3", "q4")


def test_no_total_with_max_missing_sums_answered() -> None:
    plan = compile_scores(make(FOUR, [score(["q1", "q2", "q3", "q4"],
                                            missing={"policy": "no-total", "max_missing": 1})]))
    assert plan.evaluate({"q1": 3, "q2": 2, "q3": 1}).scores["s"].value == 6
    assert plan.evaluate({"q1": 3, "q2": 2}).scores["s"].value is None


def test_prorate_scales_mean_to_all_items_and_rounds_half_up() -> None:
    plan = compile_scores(make(FOUR, [score(["q1", "q2", "q3"],
                                            missing={"policy": "prorate", "max_missing": 1})]))
    # mean 1.5 of two answered x 3 items = 4.5 -> 5 (half up, not half to even)
    assert plan.evaluate({"q1": 1, "q2": 2}).scores["s"].value == 5
    # mean 2.5 x 3 = 7.5 -> 8
    assert plan.evaluate({"q1": 2, "q2": 3}).scores["s"].value == 8
    assert plan.evaluate({"q1": 1, "q2": 2, "q3": 3}).scores["s"].value == 6
    assert plan.evaluate({"q1": 1}).scores["s"].value is None


def test_prorate_with_decimals() -> None:
    plan = compile_scores(make(FOUR, [score(["q1", "q2", "q3"], decimals=2,
                                            missing={"policy": "prorate", "max_missing": 1})]))
    assert plan.evaluate({"q1": 1, "q3": 1}).scores["s"].value == 3.0
    assert plan.evaluate({"q1": 1, "q3": 0}).scores["s"].value == 1.5


def test_zero_policy_counts_missing_as_zero_without_limit() -> None:
    plan = compile_scores(make(FOUR, [score(["q1", "q2", "q3", "q4"],
                                            missing={"policy": "zero"})]))
    result = plan.evaluate({"q2": 3})
    assert result.scores["s"].value == 3
    assert result.scores["s"].missing == ("q1", "q3", "q4")


def test_zero_policy_with_explicit_limit() -> None:
    plan = compile_scores(make(FOUR, [score(["q1", "q2", "q3", "q4"],
                                            missing={"policy": "zero", "max_missing": 2})]))
    assert plan.evaluate({"q1": 1, "q2": 1}).scores["s"].value == 2
    assert plan.evaluate({"q1": 1}).scores["s"].value is None


@pytest.mark.parametrize("missing", [{"policy": "no-total", "max_missing": 4},
                                     {"policy": "prorate", "max_missing": 4},
                                     {"policy": "zero"}])
def test_all_missing_is_none_whatever_the_policy(missing: Json) -> None:
    plan = compile_scores(make(FOUR, [score(["q1", "q2", "q3", "q4"], missing=missing,
                                            band_sets=[{"bands": [
                                                {"min": 0, "max": 12, "label": "Alla"}]}])]))
    result = plan.evaluate({"q1": None})
    assert result.scores["s"].value is None
    assert result.scores["s"].band is None


# --------------------------------------------------------------------------------------------
# Rounding


def test_rounding_decimals_and_int_type() -> None:
    items = [number("x", 0, 10, kind="decimal"), number("y", 0, 10, kind="decimal")]
    plan = compile_scores(make(items, [
        score(["x", "y"], id="heltal"),
        score(["x", "y"], id="tva", decimals=2),
        score(["x", "y"], "mean", id="medel"),
    ]))
    result = plan.evaluate({"x": 1.25, "y": 1.0}).scores
    assert result["heltal"].value == 2
    assert isinstance(result["heltal"].value, int)
    assert result["tva"].value == 2.25
    assert result["medel"].value == 1.1  # 1.125 -> 1.1
    half = plan.evaluate({"x": 0.1, "y": 0.2}).scores
    assert half["tva"].value == 0.3  # float noise removed
    assert plan.evaluate({"x": 2.5, "y": 0}).scores["heltal"].value == 3


def test_band_lookup_on_rounded_mean() -> None:
    bands = [{"id": "lag", "min": 0, "max": 1.4, "label": "Låg"},
             {"id": "hog", "min": 1.5, "max": 3, "label": "Hög"}]
    plan = compile_scores(make(FOUR, [score(["q1", "q2"], "mean",
                                            band_sets=[{"bands": bands}])]))
    assert band_id(plan.evaluate({"q1": 1, "q2": 2}).scores["s"].band) == "hog"
    assert band_id(plan.evaluate({"q1": 1, "q2": 1}).scores["s"].band) == "lag"


# --------------------------------------------------------------------------------------------
# Band sets and flags


def test_band_sets_first_holding_set_then_fallback_and_answers_in_conditions() -> None:
    items = [*FOUR, yes_no("gravid")]
    band_sets = [
        {"when": {"var": "gravid"}, "bands": [{"id": "g", "min": 0, "max": 9, "label": "G"}]},
        {"bands": [{"id": "f", "min": 0, "max": 9, "label": "F"}]},
        {"when": {"==": [{"var": "subject.sex"}, "male"]},
         "bands": [{"id": "m", "min": 0, "max": 9, "label": "M"}]},
    ]
    plan = compile_scores(make(items, [score(["q1", "q2", "q3"], band_sets=band_sets)]))
    answers = {"q1": 1, "q2": 1, "q3": 1}
    assert band_id(plan.evaluate(answers | {"gravid": True}, Subject("male")).scores["s"].band
                   ) == "g"
    assert band_id(plan.evaluate(answers, Subject("male")).scores["s"].band) == "m"
    assert band_id(plan.evaluate(answers, Subject("female")).scores["s"].band) == "f"


def test_flags_see_scores_and_carry_citizen_visibility() -> None:
    flags: list[Json] = [
        {"id": "hog", "when": {">=": [{"var": "score.s"}, 6]}, "label": "Hög",
         "severity": "high", "citizen_visible": True},
        {"id": "q1", "when": {"==": [{"var": "q1"}, 3]}, "label": "Q1"},
    ]
    definition = make(FOUR, [score(["q1", "q2", "q3"], citizen_visible=True)], flags)
    assert lint_scores(definition) == []
    plan = compile_scores(definition)
    result = plan.evaluate({"q1": 3, "q2": 3, "q3": 0})
    assert [(f.id, f.severity, f.citizen_visible) for f in result.flags] == [
        ("hog", "high", True), ("q1", None, False)]
    assert result.scores["s"].citizen_visible is True
    assert [f.id for f in plan.evaluate({"q1": 3}).flags] == ["q1"]
    assert plan.score_ids == ("s",)
    assert plan.flag_ids == ("hog", "q1")


# --------------------------------------------------------------------------------------------
# Lint


def keywords(definition: Json) -> list[tuple[str, str]]:
    return [(p.pointer, p.keyword) for p in lint_scores(definition)]


def banded(bands: list[tuple[float, float]], items: list[Any] | None = None, **extra: Any
           ) -> Json:
    band_list = [{"id": f"b{i}", "min": lo, "max": hi, "label": f"B{i}"}
                 for i, (lo, hi) in enumerate(bands)]
    return make(FOUR, [score(items or ["q1", "q2", "q3"], band_sets=[{"bands": band_list}],
                             **extra)])


def test_lint_accepts_exact_cover() -> None:
    assert keywords(banded([(0, 3), (4, 6), (7, 9)])) == []


def test_lint_band_gap() -> None:
    assert keywords(banded([(0, 3), (5, 9)])) == [("/scores/0/band_sets/0/bands/1", "band-gap")]


def test_lint_band_overlap() -> None:
    assert keywords(banded([(0, 4), (4, 9)])) == [
        ("/scores/0/band_sets/0/bands/1", "band-overlap")]


def test_lint_band_range_and_edge_gaps() -> None:
    assert keywords(banded([(0, 3), (4, 10)])) == [
        ("/scores/0/band_sets/0/bands/1", "band-range")]
    assert keywords(banded([(1, 9)])) == [("/scores/0/band_sets/0/bands/0", "band-gap")]
    assert keywords(banded([(0, 8)])) == [("/scores/0/band_sets/0/bands/0", "band-gap")]


def test_lint_band_order() -> None:
    found = keywords(banded([(4, 9), (0, 3)]))
    assert found == [("/scores/0/band_sets/0/bands/1", "band-order")]
    assert ("/scores/0/band_sets/0/bands/0", "band-order") in keywords(banded([(3, 0), (4, 9)]))


def test_lint_band_steps_follow_decimals() -> None:
    ok = banded([(0, 1.4), (1.5, 3)], method="mean")
    assert keywords(ok) == []
    gap = banded([(0, 1.4), (1.6, 3)], method="mean")
    assert keywords(gap) == [("/scores/0/band_sets/0/bands/1", "band-gap")]
    two = banded([(0, 1.49), (1.5, 3)], method="mean", decimals=2)
    assert keywords(two) == []


def test_lint_range_follows_missing_policy() -> None:
    items = [choice(f"w{i}", weights=[1, 2, 3]) for i in range(3)]  # each weighs 1..3

    def lint_one(bands: list[tuple[int, int]], **extra: Any) -> list[tuple[str, str]]:
        band_list = [{"min": lo, "max": hi, "label": "B"} for lo, hi in bands]
        return keywords(make(items, [score(["w0", "w1", "w2"], band_sets=[{"bands": band_list}],
                                           **extra)]))

    assert lint_one([(3, 9)]) == []
    # one item may be missing: a sum of two answered items can be as low as 2
    assert lint_one([(2, 9)], missing={"max_missing": 1}) == []
    assert lint_one([(3, 9)], missing={"max_missing": 1}) == [
        ("/scores/0/band_sets/0/bands/0", "band-gap")]
    # prorating keeps the full-form range
    assert lint_one([(3, 9)], missing={"policy": "prorate", "max_missing": 1}) == []
    # zero: any number missing, but at least one answered
    assert lint_one([(1, 9)], missing={"policy": "zero"}) == []
    assert lint_one([(0, 9)], missing={"policy": "zero"}) == [
        ("/scores/0/band_sets/0/bands/0", "band-range")]


def test_lint_range_with_reverse_and_numeric_items() -> None:
    items = [number("n", 1, 5), choice("c", weights=[2, 4, 6])]
    definition = make(items, [score([{"name": "n", "reverse": True}, "c"],
                                    band_sets=[{"bands": [{"min": 3, "max": 11, "label": "A"}]}])])
    assert keywords(definition) == []


def test_lint_count_range() -> None:
    items = [yes_no("a"), yes_no("b"), choice("m", values=["x", "y", "z"], multi=True)]
    bands = [{"min": 0, "max": 1, "label": "Få"}, {"min": 2, "max": 4, "label": "Många"}]
    definition = make(items, [score(["a", "b", "m"], "count", count_values=[True, "x", "y"],
                                    band_sets=[{"bands": bands}])])
    assert keywords(definition) == []


def test_lint_missing_weight() -> None:
    items = [choice("a", values=["x", "y", "z"]), text("t")]
    definition = make(items, [score([{"name": "a", "weights": {"x": 0, "y": 1}}], id="s1"),
                              score(["t"], id="s2")])
    assert keywords(definition) == [("/scores/0/items/0", "missing-weight"),
                                    ("/scores/1/items/0", "missing-weight")]
    problem = lint_scores(definition)[0]
    assert problem.params["values"] == ["z"]


def test_lint_unused_weight_key() -> None:
    items = [choice("a", values=["x", "y"])]
    definition = make(items, [score([{"name": "a", "weights": {"x": 0, "y": 1, "w": 2}}])])
    assert keywords(definition) == [("/scores/0/items/0", "unused-weight")]


def test_lint_unknown_field() -> None:
    definition = make(FOUR, [score(["q1", "q9"])])
    assert keywords(definition) == [("/scores/0/items/1", "unknown-field")]


def test_lint_matrix_rows_are_fields() -> None:
    definition = load_design("phq-9")
    definition["scores"][0]["items"] = [*PHQ, "phq_matris"]
    assert ("/scores/0/items/9", "unknown-field") in keywords(definition)


def test_lint_duplicate_ids() -> None:
    flag = {"id": "f", "when": True, "label": "F"}
    definition = make(FOUR, [score(["q1"], id="a"), score(["q2", "q2"], id="a")],
                      [flag, dict(flag)])
    assert keywords(definition) == [
        ("/scores/1/id", "duplicate-id"),
        ("/scores/1/items/1", "duplicate-id"),
        ("/flags/1/id", "duplicate-id"),
    ]
    bands = [{"id": "x", "min": 0, "max": 3, "label": "X"},
             {"id": "x", "min": 4, "max": 9, "label": "Y"}]
    assert keywords(make(FOUR, [score(["q1", "q2", "q3"], band_sets=[{"bands": bands}])])) == [
        ("/scores/0/band_sets/0/bands/1/id", "duplicate-id")]


def test_lint_count_needs_count_values() -> None:
    assert keywords(make(FOUR, [score(["q1"], "count")])) == [("/scores/0",
                                                                "missing-count-values")]


def test_lint_reverse_needs_bounds() -> None:
    definition = make([number("n", 0)], [score([{"name": "n", "reverse": True}])])
    assert keywords(definition) == [("/scores/0/items/0", "missing-range")]


def test_lint_unknown_vars_in_conditions() -> None:
    band_sets = [
        {"when": {"==": [{"var": "subject.kon"}, "female"]},
         "bands": [{"min": 0, "max": 9, "label": "A"}]},
        {"when": {">": [{"var": "score.s"}, {"var": ["q1", 0]}]},
         "bands": [{"min": 0, "max": 9, "label": "A"}]},
        {"bands": [{"min": 0, "max": 9, "label": "A"}]},
        {"bands": [{"min": 0, "max": 9, "label": "A"}]},
    ]
    flags = [{"id": "f", "when": {"and": [{">": [{"var": "score.okand"}, 1]},
                                          {"missing": ["q2", "nej"]}]}, "label": "F"}]
    definition = make(FOUR, [score(["q1", "q2", "q3"], band_sets=band_sets)], flags)
    assert keywords(definition) == [
        ("/scores/0/band_sets/0/when", "unknown-var"),
        ("/scores/0/band_sets/3", "band-fallback"),
        ("/flags/0/when", "unknown-var"),
        ("/flags/0/when", "unknown-var"),
    ]
    assert {p.params.get("var") for p in lint_scores(definition)} >= {
        "subject.kon", "score.okand", "nej"}


def test_lint_conditions_must_be_in_the_rule_language() -> None:
    flags = [{"id": "f", "when": {"some": [{"var": "q1"}, {">": [{"var": ""}, 0]}]}, "label": "F"}]
    found = lint_scores(make(FOUR, [score(["q1"])], flags))
    assert found
    assert all(p.pointer.startswith("/flags/0/when") for p in found)
    assert "unknown-var" not in {p.keyword for p in found}


def test_lint_audit_style_sets_each_cover_the_range() -> None:
    design = load_design("audit")
    design["scores"][0]["band_sets"][0]["bands"][0]["max"] = 4  # women's low band 0-4, then 6
    assert keywords(design) == [("/scores/0/band_sets/0/bands/1", "band-gap")]


def test_compile_tolerates_lint_errors() -> None:
    definition = make(FOUR, [score(["q1", "nope", {"name": "q2", "weights": {"x": 1}}])])
    plan = compile_scores(definition)
    result = plan.evaluate({"q1": 1, "q2": 2, "nope": 5})
    assert result.scores["s"].value == 8
