"""The editor's edit operations: pure functions from a document to a new document.

The strongest check here is the platform's own: after an operation a valid definition must
still pass :func:`formular.definitions.service.check` (meta-schema, lint, scores, test cases).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from formular.definitions.items import REGISTRY
from formular.definitions.service import check
from formular.design import conditions
from formular.design.operations import OPERATIONS, OperationError, apply
from formular.design.outline import find, resolve_selection, tree
from tests.conftest import load_design

Json = dict[str, Any]


def blank() -> Json:
    return {
        "formular": 1, "id": "try", "version": 1, "kind": "questionnaire", "title": "Try",
        "language": "en", "languages": ["en"],
        "schema": {"type": "object", "properties": {}, "additionalProperties": False},
        "layout": {"pages": [{"id": "page-1", "title": "Page 1", "sections": [
            {"id": "section-1", "items": [{"type": "info", "name": "intro", "text": "Hi"}]}]}]},
    }


def run(document: Json, operation_name: str, /, **params: Any) -> Json:
    """Apply and check the input was not changed."""
    before = copy.deepcopy(document)
    outcome = apply(document, operation_name, **params)
    assert document == before, "an operation changed its input"
    return outcome.document


def clean(document: Json) -> None:
    problems = check(document)
    assert not problems, [str(p) for p in problems]


def with_items(*types: str) -> Json:
    document = blank()
    for kind in types:
        document = run(document, "add-item", item_type=kind, section="section-1")
    return document


# -- adding -------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(REGISTRY))
def test_every_item_type_can_be_added_and_the_form_stays_valid(kind: str) -> None:
    document = with_items(kind)
    item = document["layout"]["pages"][0]["sections"][0]["items"][-1]
    assert item["type"] == kind
    assert item["name"] == f"{kind.replace('-', '_')}_1"
    clean(document)


def test_new_names_are_unique_and_properties_follow() -> None:
    document = with_items("text", "text", "matrix", "choice")
    names = [i["name"] for i in document["layout"]["pages"][0]["sections"][0]["items"]]
    assert names == ["intro", "text_1", "text_2", "matrix_1", "choice_1"]
    assert set(document["schema"]["properties"]) == {
        "text_1", "text_2", "matrix_1_1", "matrix_1_2", "choice_1"}
    clean(document)


def test_add_after_an_item_and_into_a_group() -> None:
    document = with_items("text", "group")
    document = run(document, "add-item", item_type="integer", after="intro")
    items = document["layout"]["pages"][0]["sections"][0]["items"]
    assert [i["name"] for i in items] == ["intro", "integer_1", "text_1", "group_1"]
    document = run(document, "add-item", item_type="yes-no", group="group_1")
    group = items = document["layout"]["pages"][0]["sections"][0]["items"][-1]
    assert [c["type"] for c in group["items"]] == ["text", "yes-no"]
    assert "yes_no_1" in document["schema"]["properties"]["group_1"]["items"]["properties"]
    clean(document)
    with pytest.raises(OperationError):
        run(document, "add-item", item_type="group", group="group_1")


def test_add_page_and_information_page_and_section() -> None:
    document = run(blank(), "add-page", title="About you", item_type="yes-no")
    document = run(document, "add-page", item_type="info", title="Before you start",
                   after="page-1")
    titles = [p["title"] for p in document["layout"]["pages"]]
    assert titles == ["Page 1", "Before you start", "About you"]
    assert document["layout"]["pages"][1]["sections"][0]["items"][0]["type"] == "info"
    document = run(document, "add-section", page="page-1", title="More", item_type="text")
    assert document["layout"]["pages"][0]["sections"][1]["title"] == "More"
    clean(document)


def test_unknown_type_and_missing_targets_are_refused() -> None:
    with pytest.raises(OperationError):
        run(blank(), "add-item", item_type="script")
    with pytest.raises(OperationError):
        run(blank(), "add-item", item_type="text", section="nowhere")
    with pytest.raises(OperationError):
        apply(blank(), "no-such-operation")


# -- updating -----------------------------------------------------------------------------------


def test_label_help_required_and_limits() -> None:
    document = with_items("integer")
    document = run(document, "update-item", name="integer_1", changes={
        "label": "  Age ", "help": "In years", "required": True, "minimum": "0",
        "maximum": "130", "unit": "years"})
    item = find(document, "integer_1")
    assert item is not None
    assert item.element["label"] == "Age"
    assert item.element["help"] == "In years"
    assert item.element["unit"] == "years"
    assert document["schema"]["required"] == ["integer_1"]
    assert document["schema"]["properties"]["integer_1"] == {
        "type": "integer", "minimum": 0, "maximum": 130}
    clean(document)
    document = run(document, "update-item", name="integer_1", changes={
        "required": False, "help": "", "minimum": "", "maximum": ""})
    assert "required" not in document["schema"]
    assert document["schema"]["properties"]["integer_1"] == {"type": "integer"}
    assert "help" not in find(document, "integer_1").element  # type: ignore[union-attr]
    with pytest.raises(OperationError) as refused:
        run(document, "update-item", name="integer_1", changes={"minimum": 5, "maximum": 1})
    assert refused.value.field == "value_max"
    with pytest.raises(OperationError):
        run(document, "update-item", name="integer_1", changes={"label": "   "})
    with pytest.raises(OperationError):
        run(document, "update-item", name="integer_1", changes={"minimum": "2.5"})


def test_pattern_presets_switch_item_type_and_format() -> None:
    document = with_items("text")
    document = run(document, "update-item", name="text_1", changes={"pattern": "[0-9]+"})
    document = run(document, "update-item", name="text_1", changes={"type": "personnummer"})
    item = find(document, "text_1").element  # type: ignore[union-attr]
    assert item["type"] == "personnummer"
    assert document["schema"]["properties"]["text_1"] == {
        "type": "string", "maxLength": 200, "format": "personnummer"}
    clean(document)
    for preset in ("email", "phone", "postcode", "text"):
        document = run(document, "update-item", name="text_1", changes={"type": preset})
        clean(document)
    assert "format" not in document["schema"]["properties"]["text_1"]
    with pytest.raises(OperationError):
        run(document, "update-item", name="text_1", changes={"type": "integer"})
    with pytest.raises(OperationError):
        run(document, "update-item", name="text_1", changes={"pattern": "(a"})


def test_options_with_codes_and_weights_keep_the_enum_in_step() -> None:
    document = with_items("choice", "multi-choice")
    options = [
        {"value": "never", "label": "Never", "weight": "0"},
        {"value": "daily", "label": "Daily", "weight": "2,5", "code_system": "http://snomed.info/sct",
         "code": "449868002"},
        {"value": "", "label": ""},
    ]
    document = run(document, "update-item", name="choice_1",
                   changes={"options": options, "widget": "select"})
    item = find(document, "choice_1").element  # type: ignore[union-attr]
    assert item["widget"] == "select"
    assert item["options"] == [
        {"value": "never", "label": "Never", "weight": 0},
        {"value": "daily", "label": "Daily", "weight": 2.5,
         "code": {"system": "http://snomed.info/sct", "code": "449868002"}}]
    assert document["schema"]["properties"]["choice_1"] == {"enum": ["never", "daily"]}
    document = run(document, "update-item", name="multi_choice_1", changes={"options": [
        {"value": "1", "label": "Pain"}, {"value": "9", "label": "None", "exclusive": True}]})
    assert document["schema"]["properties"]["multi_choice_1"]["items"] == {"enum": [1, 9]}
    clean(document)
    with pytest.raises(OperationError):
        run(document, "update-item", name="choice_1", changes={"options": [
            {"value": "a", "label": "A"}, {"value": "a", "label": "B"}]})
    with pytest.raises(OperationError):
        run(document, "update-item", name="choice_1", changes={"options": []})


def test_shared_option_set_changes_every_item_using_it() -> None:
    document = load_design("showcase")
    document = run(document, "update-item", name="stress", changes={"options": [
        {"value": "1", "label": "No"}, {"value": "2", "label": "Yes"}]})
    assert document["option_sets"]["agree-5"] == [{"value": 1, "label": "No"},
                                                  {"value": 2, "label": "Yes"}]
    for row in ("stress_1", "stress_2", "stress_3"):
        assert document["schema"]["properties"][row] == {"enum": [1, 2]}


def test_matrix_rows_rename_add_and_remove() -> None:
    document = with_items("matrix")
    document = run(document, "update-item", name="matrix_1", changes={
        "required": True,
        "matrix_rows": [{"name": "calm", "label": "Calm"}, {"name": "matrix_1_2", "label": "B"},
                        {"name": "", "label": "New row"}]})
    rows = find(document, "matrix_1").element["rows"]  # type: ignore[union-attr]
    assert [r["name"] for r in rows] == ["calm", "matrix_1_2", "matrix_1_3"]
    assert set(document["schema"]["properties"]) == {"calm", "matrix_1_2", "matrix_1_3"}
    assert sorted(document["schema"]["required"]) == ["calm", "matrix_1_2", "matrix_1_3"]
    clean(document)
    document = run(document, "update-item", name="matrix_1", changes={
        "matrix_rows": [{"name": "calm", "label": "Calm"}]})
    assert set(document["schema"]["properties"]) == {"calm"}
    clean(document)


def test_rename_carries_rules_scores_flags_and_tests_along() -> None:
    document = load_design("showcase")
    document = run(document, "update-item", name="smoking", changes={"name": "smokes"})
    rules = {r["id"]: r for r in document["rules"]}
    assert rules["quit"]["when"] == {"==": [{"var": "smokes"}, "former"]}
    assert document["scores"][3]["items"][0]["name"] == "smokes"
    assert "smokes" in document["tests"][0]["answers"]
    assert "smokes" in document["schema"]["required"]
    clean(document)
    document = run(document, "update-item", name="wellbeing", changes={"name": "mood"})
    assert document["flags"][0]["when"] == {"<=": [{"var": "mood"}, 2]}
    clean(document)
    with pytest.raises(OperationError):  # a section's id
        run(document, "update-item", name="mood", changes={"name": "tobacco"})
    with pytest.raises(OperationError):
        run(document, "update-item", name="mood", changes={"name": "Bad Name"})


def test_page_and_section_ids_rename_with_their_rules() -> None:
    document = load_design("showcase")
    document = run(document, "update-section", section="stress-section",
                   changes={"id": "stress-part", "title": "Stress!"})
    assert {"stress-part"} <= set(next(r for r in document["rules"]
                                       if r["id"] == "stress-when-symptoms")["show"])
    document = run(document, "update-page", page="medication",
                   changes={"id": "drugs", "title": "Drugs", "intro": "About drugs"})
    assert next(r for r in document["rules"] if r["id"] == "skip-health-for-young")[
        "skip_to"] == "drugs"
    clean(document)


def test_information_file_and_calculated_settings() -> None:
    document = with_items("info", "file", "calculated", "decimal")
    document = run(document, "update-item", name="info_1",
                   changes={"text": "**Read** <script>alert(1)</script>", "style": "warning"})
    assert find(document, "info_1").element["style"] == "warning"  # type: ignore[union-attr]
    document = run(document, "update-item", name="file_1", changes={
        "accept": ["image/png", "application/pdf"], "max_size_mb": "2", "max_count": "3"})
    file_item = find(document, "file_1").element  # type: ignore[union-attr]
    assert file_item["accept"] == ["application/pdf", "image/png"]
    assert file_item["max_size"] == 2 * 1024 * 1024
    assert document["schema"]["properties"]["file_1"]["maxItems"] == 3
    document = run(document, "update-item", name="calculated_1", changes={
        "expression": '{"*": [{"var": "decimal_1"}, 2]}', "decimals": "1"})
    clean(document)
    with pytest.raises(OperationError):
        run(document, "update-item", name="calculated_1", changes={"expression": "{"})
    with pytest.raises(OperationError):
        run(document, "update-item", name="calculated_1",
            changes={"expression": '{"log": [1]}'})
    with pytest.raises(OperationError):
        run(document, "update-item", name="calculated_1",
            changes={"expression": '{"var": "calculated_1"}'})


# -- deleting -----------------------------------------------------------------------------------


def test_delete_removes_property_required_and_show_targets() -> None:
    document = load_design("showcase")
    document = run(document, "delete-item", name="cigarettes")
    assert "cigarettes" not in document["schema"]["properties"]
    assert not any(r["id"] == "smoker-amount" for r in document["rules"])
    # Only the test case about the deleted question now fails, and the panel says so.
    assert [(p.pointer, p.keyword) for p in check(document)] == [("/tests/1", "test-case")]


def test_delete_is_refused_while_a_condition_or_score_reads_the_item() -> None:
    document = load_design("showcase")
    with pytest.raises(OperationError) as refused:
        run(document, "delete-item", name="smoking")
    assert "smoker-amount" in str(refused.value)
    with pytest.raises(OperationError) as refused:
        run(document, "delete-item", name="stress")
    assert "Stresspoäng" in str(refused.value)
    with pytest.raises(OperationError):
        run(document, "delete-item", name="weight")  # the BMI calculation reads it
    with pytest.raises(OperationError):
        run(document, "delete-page", page="medication")  # a rule skips to it


def test_delete_a_section_and_a_page_with_their_items() -> None:
    document = load_design("showcase")
    document = run(document, "delete-section", section="staff-section")
    assert "staff_note" not in document["schema"]["properties"]
    clean(document)
    document = run(document, "delete-page", page="finally")
    assert "photo" not in document["schema"]["properties"]
    assert "consent" not in document["schema"]["required"]
    # The test cases lose the answers and expectations of what is gone.
    assert all("consent" not in case["answers"] for case in document["tests"])
    clean(document)
    only = blank()
    with pytest.raises(OperationError):
        run(only, "delete-page", page="page-1")
    with pytest.raises(OperationError):
        run(only, "delete-section", section="section-1")


# -- moving -------------------------------------------------------------------------------------


def names_by_section(document: Json) -> list[list[str]]:
    return [[i["name"] for i in s["items"]] for p in document["layout"]["pages"]
            for s in p["sections"]]


def test_move_up_and_down_crosses_section_and_page_edges() -> None:
    document = with_items("text", "integer")
    document = run(document, "add-page", item_type="yes-no")
    assert names_by_section(document) == [["intro", "text_1", "integer_1"], ["yes_no_1"]]
    outcome = apply(document, "move-item", name="integer_1", direction="up")
    assert outcome.select == "integer_1"
    assert outcome.announce is not None
    assert "position 2 of 3" in outcome.announce
    document = outcome.document
    assert names_by_section(document) == [["intro", "integer_1", "text_1"], ["yes_no_1"]]
    document = run(document, "move-item", name="yes_no_1", direction="up")
    assert names_by_section(document) == [["intro", "integer_1", "text_1", "yes_no_1"], []]
    document = run(document, "move-item", name="yes_no_1", direction="down")
    assert names_by_section(document) == [["intro", "integer_1", "text_1"], ["yes_no_1"]]
    with pytest.raises(OperationError):
        run(document, "move-item", name="intro", direction="up")
    with pytest.raises(OperationError):
        run(document, "move-item", name="yes_no_1", direction="down")


def test_move_into_a_section_and_before_an_item() -> None:
    document = with_items("text", "integer")
    document = run(document, "add-section", page="page-1", item_type="date")
    document = run(document, "move-item-to", name="text_1", section="section-2", position=1)
    assert names_by_section(document) == [["intro", "integer_1"], ["text_1", "date_1"]]
    document = run(document, "move-item-to", name="intro", before="date_1")
    assert names_by_section(document) == [["integer_1"], ["text_1", "intro", "date_1"]]
    clean(document)


def test_moves_inside_a_group_stay_inside() -> None:
    document = with_items("group")
    document = run(document, "add-item", item_type="integer", group="group_1")
    document = run(document, "move-item", name="integer_1", direction="up")
    group = find(document, "group_1").element  # type: ignore[union-attr]
    assert [c["name"] for c in group["items"]] == ["integer_1", "text_1"]
    with pytest.raises(OperationError):
        run(document, "move-item", name="integer_1", direction="up")
    with pytest.raises(OperationError):
        run(document, "move-item-to", name="integer_1", section="section-1")
    clean(document)


def test_sections_and_pages_move() -> None:
    document = run(blank(), "add-section", page="page-1", item_type="text")
    document = run(document, "add-page", item_type="integer")
    document = run(document, "move-section", section="section-2", direction="up")
    assert [s["id"] for s in document["layout"]["pages"][0]["sections"]] == [
        "section-2", "section-1"]
    document = run(document, "move-section", section="section-1", direction="down")
    assert [s["id"] for s in document["layout"]["pages"][1]["sections"]] == [
        "section-1", "section-3"]
    document = run(document, "move-page", page="page-2", direction="up")
    assert [p["id"] for p in document["layout"]["pages"]] == ["page-2", "page-1"]
    document = run(document, "move-section-to", section="section-3", page="page-1")
    clean(document)


# -- conditions ---------------------------------------------------------------------------------


def test_condition_builder_makes_rules_and_reads_them_back() -> None:
    document = with_items("choice", "yes-no", "text")
    document = run(document, "set-condition", target="text_1", combine="any", rows=[
        ("choice_1", "equals", "2"), ("yes_no_1", "equals", "false"), ("", "", "")])
    rule = document["rules"][0]
    assert rule == {"id": "show-text-1", "show": ["text_1"], "when": {"or": [
        {"==": [{"var": "choice_1"}, 2]}, {"===": [{"var": "yes_no_1"}, False]}]}}
    assert conditions.from_logic(rule["when"]) == ("any", [
        conditions.Row("choice_1", "equals", 2), conditions.Row("yes_no_1", "equals", False)])
    clean(document)
    document = run(document, "set-condition", target="text_1", combine="all",
                   rows=[("choice_1", "answered", "")])
    assert len(document["rules"]) == 1
    assert document["rules"][0]["when"] == {"!": [{"missing": ["choice_1"]}]}
    clean(document)
    document = run(document, "remove-condition", target="text_1")
    assert "rules" not in document


def test_conditions_only_read_the_same_or_earlier_pages() -> None:
    document = with_items("integer")
    document = run(document, "add-page", item_type="yes-no")
    offered = [f.path for f in conditions.offered_fields(document, "integer_1")]
    assert offered == []  # only itself before it
    offered = [f.path for f in conditions.offered_fields(document, "yes_no_1")]
    assert offered == ["integer_1"]
    with pytest.raises(OperationError) as refused:
        run(document, "set-condition", target="integer_1", combine="all",
            rows=[("yes_no_1", "equals", "true")])
    assert refused.value.field == "rows-0"
    with pytest.raises(OperationError) as refused:
        run(document, "set-condition", target="yes_no_1", combine="all",
            rows=[("integer_1", "greater", "many")])
    assert refused.value.field == "rows-0"
    with pytest.raises(OperationError):
        run(document, "set-condition", target="yes_no_1", combine="all",
            rows=[("integer_1", "includes", "1")])
    page_two = document["layout"]["pages"][1]["id"]
    assert [f.path for f in conditions.offered_fields(document, page_two)] == ["integer_1"]


def test_every_builder_operator_round_trips_and_passes_the_linter() -> None:
    document = with_items("integer", "multi-choice", "date", "text", "textarea")
    cases = [("integer_1", "less", "3"), ("integer_1", "greater-or-equal", "2,5"),
             ("multi_choice_1", "includes", "1"), ("multi_choice_1", "not-includes", "2"),
             ("date_1", "less", "2020-01-01"), ("text_1", "not-equals", "x"),
             ("text_1", "not-answered", "")]
    for row in cases:
        done = run(document, "set-condition", target="textarea_1", combine="all", rows=[row])
        parsed = conditions.from_logic(done["rules"][0]["when"])
        assert parsed is not None
        assert parsed[1][0].operator == row[1]
        clean(done)
    assert conditions.from_logic({"if": [True, 1, 2]}) is None


# -- scores, flags, try it, test cases ----------------------------------------------------------


def scored() -> Json:
    document = with_items("choice", "choice", "yes-no")
    for name in ("choice_1", "choice_2"):
        document = run(document, "update-item", name=name, changes={"options": [
            {"value": "0", "label": "Never"}, {"value": "1", "label": "Sometimes"},
            {"value": "2", "label": "Often"}]})
    return run(document, "set-score", score_id=None, label="Worry", method="sum",
               items=[{"name": "choice_1"}, {"name": "choice_2", "reverse": True}],
               band_sets=[{"bands": [
                   {"min": "0", "max": "1", "label": "Low", "severity": "none"},
                   {"min": "2", "max": "4", "label": "High", "severity": "high"}]}])


def test_score_with_reverse_and_bands() -> None:
    document = scored()
    assert document["scores"] == [{
        "id": "worry", "label": "Worry", "method": "sum",
        "items": ["choice_1", {"name": "choice_2", "reverse": True}],
        "missing": {"policy": "no-total"},
        "band_sets": [{"bands": [
            {"id": "low", "min": 0, "max": 1, "label": "Low", "severity": "none"},
            {"id": "high", "min": 2, "max": 4, "label": "High", "severity": "high"}]}]}]
    clean(document)


def test_score_band_sets_by_sex_and_age_and_weights() -> None:
    document = scored()
    document = run(document, "set-score", score_id="worry", new_id="worry-score", label="W",
                   items=[{"name": "choice_1", "weights": {"0": "0", "1": "2", "2": "4"}}],
                   band_sets=[{"bands": [{"min": 0, "max": 4, "label": "All"}]},
                              {"sex": "female", "age_min": "65", "bands": [
                                  {"min": 0, "max": 1, "label": "Low"},
                                  {"min": 2, "max": 4, "label": "High"}]}])
    score = document["scores"][0]
    assert score["id"] == "worry-score"
    assert score["items"] == [{"name": "choice_1", "weights": {"0": 0, "1": 2, "2": 4}}]
    assert score["band_sets"][0]["when"] == {"and": [
        {"==": [{"var": "subject.sex"}, "female"]}, {">=": [{"var": "subject.age"}, 65]}]}
    assert "when" not in score["band_sets"][1]
    assert conditions.band_set_subject(score["band_sets"][0]["when"]) == ("female", 65, None)
    clean(document)
    with pytest.raises(OperationError):
        run(document, "set-score", score_id=None, label="X", items=[{"name": "nope"}])
    with pytest.raises(OperationError):
        run(document, "set-score", score_id=None, label="X", items=[{"name": "choice_1"}],
            band_sets=[{"bands": [{"min": 3, "max": 1, "label": "Bad"}]}])


def test_flags_read_scores_and_follow_renames() -> None:
    document = scored()
    document = run(document, "set-flag", flag_id=None, label="Very worried", severity="high",
                   rows=[("score.worry", "greater-or-equal", "3")])
    assert document["flags"] == [{"id": "very-worried", "label": "Very worried",
                                  "severity": "high",
                                  "when": {">=": [{"var": "score.worry"}, 3]}}]
    clean(document)
    document = run(document, "set-score", score_id="worry", new_id="worry-2", label="Worry",
                   items=[{"name": "choice_1"}], band_sets=None)
    assert document["flags"][0]["when"] == {">=": [{"var": "score.worry-2"}, 3]}
    with pytest.raises(OperationError):
        run(document, "delete-score", score_id="worry-2")
    document = run(document, "delete-flag", flag_id="very-worried")
    document = run(document, "delete-score", score_id="worry-2")
    assert "scores" not in document
    assert "flags" not in document


def test_try_it_and_save_as_test_case() -> None:
    from formular.design.tryout import run as try_run
    from formular.design.tryout import sample_fields, typed_answers

    document = scored()
    fields = sample_fields(document)
    assert [f.name for f in fields] == ["choice_1", "choice_2"]
    answers = typed_answers(fields, {"choice_1": ["2"], "choice_2": ["0"], "other": ["x"]})
    assert answers == {"choice_1": 2, "choice_2": 0}
    scoring = try_run(document, answers, None, None)
    assert scoring.scores["worry"].value == 4
    assert scoring.scores["worry"].band is not None
    assert scoring.scores["worry"].band.label == "High"
    document = run(document, "add-test-case", name="Most worried", answers=answers)
    assert document["tests"] == [{"name": "Most worried", "answers": answers, "expect": {
        "scores": {"worry": 4}, "bands": {"worry": "high"}, "flags": []}}]
    clean(document)  # the saved test case passes
    document = run(document, "delete-test-case", index=0)
    assert "tests" not in document


# -- policy, details, raw JSON ------------------------------------------------------------------


def test_policy_and_details() -> None:
    document = run(blank(), "update-policy", login="required", fillers=["staff", "citizen"],
                   age_min="16", age_max="", drafts=False, copy_to_citizen="pdf",
                   discretion=True, terms="Your answers are read by staff.", review=False)
    assert document["policy"] == {
        "login": "required", "fillers": ["citizen", "staff"], "age": {"min": 16},
        "drafts": False, "review": False, "copy_to_citizen": "pdf", "discretion": True,
        "terms": "Your answers are read by staff."}
    document = run(document, "update-details", title="Health", contact="Anna, nurse",
                   languages=["sv"])
    assert document["languages"] == ["sv", "en"]  # the source language always stays
    clean(document)
    with pytest.raises(OperationError):
        run(document, "update-policy", login="maybe", fillers=["citizen"])
    with pytest.raises(OperationError):
        run(document, "update-policy", login="none", fillers=[])
    with pytest.raises(OperationError):
        run(document, "update-policy", login="none", fillers=["citizen"], age_min=20, age_max=10)


def test_replace_document_keeps_the_id() -> None:
    replacement = blank()
    replacement["title"] = "Other"
    assert run(blank(), "replace-document", replacement=replacement)["title"] == "Other"
    with pytest.raises(OperationError):
        run(blank(), "replace-document", replacement=[1, 2])


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_a_damaged_draft_gives_a_message_not_a_crash(name: str) -> None:
    damaged = {"id": "x", "layout": {"pages": "nope"}, "schema": 3, "rules": {"a": 1}}
    params: dict[str, dict[str, Any]] = {
        "add-item": {"item_type": "text"}, "add-page": {}, "add-section": {"page": "p"},
        "update-item": {"name": "a", "changes": {}}, "update-page": {"page": "p", "changes": {}},
        "update-section": {"section": "s", "changes": {}}, "delete-item": {"name": "a"},
        "delete-section": {"section": "s"}, "delete-page": {"page": "p"},
        "move-item": {"name": "a", "direction": "up"}, "move-item-to": {"name": "a"},
        "move-section": {"section": "s", "direction": "up"},
        "move-section-to": {"section": "s", "page": "p"},
        "move-page": {"page": "p", "direction": "up"},
        "set-condition": {"target": "a", "combine": "all", "rows": []},
        "remove-condition": {"target": "a"},
        "set-score": {"score_id": None, "label": "x", "items": []},
        "delete-score": {"score_id": "x"},
        "set-flag": {"flag_id": None, "label": "x", "rows": []},
        "delete-flag": {"flag_id": "x"},
        "update-policy": {"login": "none", "fillers": ["citizen"]},
        "update-details": {"title": "T"}, "add-test-case": {"name": "n", "answers": {}},
        "delete-test-case": {"index": 0}, "replace-document": {"replacement": blank()},
    }
    message = ""
    try:
        apply(damaged, name, **params[name])
    except OperationError as error:  # a refusal must say something; any other error fails
        message = str(error) or "empty message"
    assert message != "empty message"


# -- the tree -----------------------------------------------------------------------------------


def test_tree_and_selection_by_pointer() -> None:
    document = load_design("showcase")
    pages = tree(document)
    assert [p.name for p in pages][:2] == ["about-you", "habits"]
    first_item = pages[0].children[0].children[0]
    assert (first_item.name, first_item.can_up, first_item.can_down) == ("intro_text", False,
                                                                        True)
    group = next(i for s in pages[3].children for i in s.children if i.type == "group")
    assert [c.name for c in group.children] == ["drug", "dose_mg", "as_needed",
                                                "as_needed_reason"]
    located = resolve_selection(document, "/layout/pages/1/sections/0/items/1/label")
    assert located is not None
    assert located.name == "cigarettes"
    located = resolve_selection(document, "/schema/properties/stress_2/enum")
    assert located is not None
    assert located.name == "stress"
    assert resolve_selection(document, "/rules/0") is None


# -- any sequence of operations keeps the answer schema in step with the layout -----------------


def _in_step(document: Json) -> None:
    """Every answer property has its item and every item its property; required names exist."""
    from formular.design.outline import item_names, walk

    root = document["schema"]
    owned: set[str] = set()
    for located in walk(document):
        if located.kind != "item" or located.group is not None:
            continue
        owned.update(item_names(located.element))
        if located.element["type"] == "group":
            inner = root["properties"][located.name]["items"]
            children = {n for child in located.element["items"] for n in item_names(child)}
            assert set(inner["properties"]) == children
            assert set(inner.get("required", [])) <= children
    assert set(root["properties"]) == owned
    assert set(root.get("required", [])) <= owned
    assert "required" not in root or root["required"]


@settings(max_examples=60, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(["add", "move", "delete", "require", "rename",
                                            "condition", "page"]),
                          st.integers(0, 50), st.sampled_from(sorted(REGISTRY))),
                min_size=1, max_size=25))
def test_random_edits_keep_the_schema_in_step(steps: list[tuple[str, int, str]]) -> None:
    from formular.design.outline import walk

    document = load_design("showcase")
    for action, number, kind in steps:
        items = [loc.name for loc in walk(document) if loc.kind == "item"]
        sections = [loc.name for loc in walk(document) if loc.kind == "section"]
        name = items[number % len(items)] if items else "none"
        calls: dict[str, tuple[str, dict[str, Any]]] = {
            "add": ("add-item", {"item_type": kind, "section": sections[number % len(sections)]}),
            "move": ("move-item", {"name": name, "direction": "up" if number % 2 else "down"}),
            "delete": ("delete-item", {"name": name}),
            "require": ("update-item", {"name": name, "changes": {"required": number % 2 == 0}}),
            "rename": ("update-item", {"name": name, "changes": {"name": f"renamed_{number}"}}),
            "condition": ("set-condition", {"target": name, "combine": "all",
                                            "rows": [(items[0], "answered", "")]}),
            "page": ("add-page", {"item_type": kind}),
        }
        operation, params = calls[action]
        try:
            document = run(document, operation, **params)
        except OperationError:
            continue
        _in_step(document)
