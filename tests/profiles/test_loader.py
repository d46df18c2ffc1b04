"""Loading and linting profile definitions: every problem, each at its JSON pointer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from formular.definitions.problems import Problem
from formular.profiles.loader import (
    ProfileInvalid,
    check_sources,
    load_profile,
    load_profile_file,
    shipped_profiles,
)

from .support import DESIGNS, measurement_document, minimal, survey_document


def problems_of(document: Any) -> list[Problem]:
    with pytest.raises(ProfileInvalid) as raised:
        load_profile(document)
    return raised.value.problems


def at(problems: list[Problem]) -> set[tuple[str, str]]:
    return {(p.pointer, p.keyword) for p in problems}


def test_the_minimal_profile_loads() -> None:
    profile = load_profile(minimal())
    assert profile.id == "mini"
    assert profile.languages == ("sv", "en")
    assert [level.value for level in profile.levels] == [1, 2, 3]
    assert not profile.example
    assert profile.notice is None
    assert not profile.citizen_visible
    assert profile.areas[0].inputs == {"waist_cm": "measurement:waist_cm"}
    assert profile.areas[0].rules[-1].when is None


def test_levels_are_sorted_whatever_the_document_order() -> None:
    document = minimal()
    document["levels"].reverse()
    assert [level.value for level in load_profile(document).levels] == [1, 2, 3]


def test_not_an_object() -> None:
    assert at(problems_of([1, 2])) == {("", "type")}


def test_schema_problems_name_their_place() -> None:
    document = minimal()
    del document["survey"]
    document["areas"][0]["inputs"]["waist_cm"] = "register:waist"
    document["areas"][1]["id"] = "Smoking Area"
    document["levels"][0]["label"] = ""
    document["extra"] = True
    found = at(problems_of(document))
    assert ("", "required") in found
    assert ("", "additionalProperties") in found
    assert ("/areas/0/inputs/waist_cm", "pattern") in found
    assert ("/areas/1/id", "pattern") in found
    assert ("/levels/0/label", "minLength") in found


def test_an_example_needs_a_notice() -> None:
    document = minimal()
    document["example"] = True
    assert ("", "required") in at(problems_of(document))
    document["notice"] = "Exempel"
    assert load_profile(document).example


def test_lint_reports_every_problem_with_its_pointer() -> None:
    document = minimal()
    document["levels"].append({"value": 2, "label": "Igen"})
    document["areas"][1]["id"] = "waist"
    document["areas"][0]["rules"][0]["level"] = 7
    document["areas"][1]["rules"].insert(0, {"level": 1})
    document["areas"][1]["required_inputs"] = ["smoking", "weight"]
    document["areas"][2]["rules"][0]["when"] = {">=": [{"var": "waist_cm"}, 10]}
    document["areas"][3]["rules"][0]["when"] = {"log": [{"var": "systolic"}]}
    document["tests"] = [{"name": "x", "expect": {"nope": 1}}]
    found = at(problems_of(document))
    assert found == {
        ("/levels/3/value", "duplicate-level"),
        ("/areas/1/id", "duplicate-id"),
        ("/areas/0/rules/0/level", "unknown-level"),
        ("/areas/1/rules/0", "unreachable-rule"),
        ("/areas/1/required_inputs/1", "unknown-field"),
        ("/areas/2/rules/0/when/>=/0", "unknown-field"),
        ("/areas/3/rules/0/when", "logic-operator"),
        ("/tests/0/expect/nope", "unknown-area"),
    }


def test_rules_may_read_subject_values_and_their_own_inputs_only() -> None:
    document = minimal()
    document["areas"][2]["rules"][0]["when"] = {"and": [
        {">=": [{"var": "stress"}, 10]}, {"==": [{"var": "subject.sex"}, "male"]},
        {">=": [{"var": "subject.age"}, 18]}, {"missing": ["stress"]}]}
    load_profile(document)
    document["areas"][2]["rules"][0]["when"] = {"==": [{"var": "subject.name"}, "x"]}
    assert at(problems_of(document)) == {("/areas/2/rules/0/when/==/0", "unknown-field")}


def test_rule_language_caps_apply() -> None:
    deep: Any = {"var": "stress"}
    for _ in range(30):
        deep = {"!": deep}
    document = minimal()
    document["areas"][2]["rules"][0]["when"] = deep
    assert any(p.keyword == "logic-depth" for p in problems_of(document))


def test_check_sources_accepts_existing_answers_and_scores() -> None:
    assert check_sources(load_profile(minimal()), survey_document(),
                         measurement_document()) == []


def test_check_sources_reports_unknown_sources() -> None:
    document = minimal()
    document["areas"][0]["inputs"]["waist_cm"] = "measurement:waist"
    document["areas"][1]["inputs"]["smoking"] = "survey:smokes"
    document["areas"][2]["inputs"]["stress"] = "survey:score.distress"
    found = check_sources(load_profile(document), survey_document(), measurement_document())
    assert at(found) == {("/areas/0/inputs/waist_cm", "unknown-source"),
                         ("/areas/1/inputs/smoking", "unknown-source"),
                         ("/areas/2/inputs/stress", "unknown-source")}
    assert "no score 'distress'" in " ".join(p.message for p in found)


def test_check_sources_reports_missing_or_other_definitions() -> None:
    profile = load_profile(minimal())
    found = check_sources(profile, None, {**measurement_document(), "id": "other"})
    assert at(found) == {("/survey", "unknown-definition"), ("/measurements", "unknown-definition")}


def test_load_profile_file_refuses_hostile_json(tmp_path: Path) -> None:
    path = tmp_path / "mini.json"
    path.write_text('{"profile": 1, "profile": 1}', encoding="utf-8")
    with pytest.raises(ProfileInvalid) as raised:
        load_profile_file(path)
    assert [p.keyword for p in raised.value.problems] == ["duplicate-key"]
    path.write_text(json.dumps(minimal()), encoding="utf-8")
    assert load_profile_file(path).id == "mini"


def test_shipped_profiles_reads_the_profiles_folder(tmp_path: Path) -> None:
    assert set(shipped_profiles(DESIGNS)) == {"health-profile-example"}
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "mini.json").write_text(json.dumps(minimal()), encoding="utf-8")
    assert set(shipped_profiles(tmp_path)) == {"mini"}
    (tmp_path / "profiles" / "other.json").write_text(json.dumps(minimal()), encoding="utf-8")
    with pytest.raises(ProfileInvalid, match="file name"):
        shipped_profiles(tmp_path)
    (tmp_path / "profiles" / "other.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ProfileInvalid, match="other.json"):
        shipped_profiles(tmp_path)
    assert shipped_profiles(tmp_path / "nothing-here") == {}
