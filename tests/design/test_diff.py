"""The version diff: items added, removed and changed; changes of meaning flagged."""

from __future__ import annotations

import copy
from typing import Any

from formular.design.diff import diff

from .workspace_support import scored_definition


def _base() -> dict[str, Any]:
    return scored_definition("diff-form")


def _item(document: dict[str, Any], name: str) -> dict[str, Any]:
    for page in document["layout"]["pages"]:
        for section in page["sections"]:
            for item in section["items"]:
                if item["name"] == name:
                    return dict(item)
    raise KeyError(name)


def _only(changes: Any, kind: str, element: str) -> Any:
    found = [e for e in changes.elements if e.kind == kind and e.id == element]
    assert len(found) == 1, [(e.kind, e.id) for e in changes.elements]
    return found[0]


def test_identical_documents_have_no_differences() -> None:
    result = diff(_base(), _base())
    assert result.empty
    assert not result.meaning_changes


def test_a_label_change_is_listed_but_does_not_alter_meaning() -> None:
    new = _base()
    new["layout"]["pages"][0]["sections"][0]["items"][0]["label"] = "Hur ofta är du ledsen?"
    result = diff(_base(), new)
    mood = _only(result, "item", "mood")
    assert mood.status == "changed"
    assert [(c.key, c.meaning) for c in mood.changes] == [("label", False)]
    assert not result.meaning_changes


def test_type_required_limits_and_options_alter_meaning() -> None:
    new = _base()
    new["schema"]["properties"]["comment"]["maxLength"] = 100
    new["schema"]["required"] = ["mood"]  # sleep no longer required
    new["layout"]["pages"][1]["sections"][0]["items"][0]["type"] = "text"
    new["option_sets"]["frequency"][3]["weight"] = 4
    new["option_sets"]["frequency"][2]["code"] = {"system": "urn:test", "code": "2"}
    result = diff(_base(), new)
    comment = _only(result, "item", "comment")
    assert {(c.key, c.meaning) for c in comment.changes} == {
        ("type", True), ("schema:maxLength", True)}
    sleep = _only(result, "item", "sleep")
    keys = {c.key for c in sleep.changes if c.meaning}
    assert keys == {"required", "option-weights", "option-codes"}
    assert {e.id for e in result.meaning_changes} >= {"comment", "sleep", "mood"}


def test_option_values_added_or_renamed_alter_meaning_labels_do_not() -> None:
    new = _base()
    new["option_sets"]["frequency"][0]["label"] = "Aldrig någonsin"
    result = diff(_base(), new)
    assert [(c.key, c.meaning) for c in _only(result, "item", "mood").changes] == [
        ("option-labels", False)]
    new["option_sets"]["frequency"][0]["value"] = "not-at-all"
    new["schema"]["properties"]["mood"]["enum"][0] = "not-at-all"
    result = diff(_base(), new)
    keys = {(c.key, c.meaning) for c in _only(result, "item", "mood").changes}
    assert ("options", True) in keys
    assert ("schema:enum", True) in keys


def test_added_and_removed_items() -> None:
    new = _base()
    section = new["layout"]["pages"][1]["sections"][0]
    section["items"] = [{"type": "integer", "name": "weight", "label": "Vikt", "unit": "kg"}]
    del new["schema"]["properties"]["comment"]
    new["schema"]["properties"]["weight"] = {"type": "integer", "minimum": 20, "maximum": 300}
    result = diff(_base(), new)
    assert [(e.id, e.status) for e in result.added] == [("weight", "added")]
    assert [(e.id, e.status) for e in result.removed] == [("comment", "removed")]
    # A removed question alters what the answers hold; an added optional one does not.
    assert _only(result, "item", "comment").meaning
    assert not _only(result, "item", "weight").meaning
    new["schema"]["required"] = ["mood", "sleep", "weight"]
    assert _only(diff(_base(), new), "item", "weight").meaning


def test_moving_an_item_is_a_position_change_not_a_new_item() -> None:
    new = _base()
    moved = new["layout"]["pages"][0]["sections"][0]["items"].pop(1)  # sleep
    new["layout"]["pages"][1]["sections"][0]["items"].insert(0, moved)
    result = diff(_base(), new)
    assert not result.added
    assert not result.removed
    sleep = _only(result, "item", "sleep")
    position = next(c for c in sleep.changes if c.key == "position")
    assert position.before == "about/questions/2"
    assert position.after == "more/other/1"
    assert position.meaning  # another page: what is asked together changed
    within = _base()
    items = within["layout"]["pages"][0]["sections"][0]["items"]
    items.reverse()
    reordered = _only(diff(_base(), within), "item", "mood")
    assert [(c.key, c.meaning) for c in reordered.changes] == [("position", False)]


def test_rules_scores_bands_and_flags() -> None:
    new = _base()
    new["rules"] = [{"id": "ask-more", "when": {"==": [{"var": "mood"}, "always"]},
                     "show": ["comment"]}]
    new["scores"][0]["band_sets"][1]["bands"][0]["max"] = 3
    new["scores"][0]["band_sets"][1]["bands"][1]["min"] = 4
    new["flags"][0]["label"] = "Sömnproblem"
    result = diff(_base(), new)
    rule = _only(result, "rule", "ask-more")
    assert rule.status == "added"
    assert rule.meaning
    score = _only(result, "score", "burden")
    assert [(c.key, c.meaning) for c in score.changes] == [("bands", True)]
    flag = _only(result, "flag", "sleeps-badly")
    assert [(c.key, c.meaning) for c in flag.changes] == [("label", False)]

    labels = _base()
    labels["scores"][0]["band_sets"][1]["bands"][0]["label"] = "Ingen"
    assert [(c.key, c.meaning) for c in _only(diff(_base(), labels), "score",
                                              "burden").changes] == [("band-labels", False)]
    items = _base()
    items["scores"][0]["items"] = ["mood", {"name": "sleep", "reverse": True}]
    assert _only(diff(_base(), items), "score", "burden").meaning
    removed = _base()
    removed["flags"] = []
    assert _only(diff(_base(), removed), "flag", "sleeps-badly").status == "removed"


def test_form_level_and_structure_changes() -> None:
    new = _base()
    new["title"] = "Sömn"
    new["policy"] = {"login": "required"}
    new["layout"]["pages"].append({"id": "extra", "title": "Extra", "sections": [
        {"id": "extra-section", "items": [{"type": "info", "name": "thanks", "text": "Tack"}]}]})
    result = diff(_base(), new)
    form = _only(result, "form", "diff-form")
    assert {(c.key, c.meaning) for c in form.changes} == {("title", False),
                                                         ("policy:login", False)}
    assert _only(result, "page", "extra").status == "added"
    assert _only(result, "section", "extra-section").status == "added"
    assert not _only(result, "item", "thanks").meaning  # an information text


def test_diff_of_broken_documents_does_not_raise() -> None:
    broken: dict[str, Any] = copy.deepcopy(_base())
    broken["layout"] = {"pages": [{"id": "x", "sections": "nope"}, "junk"]}
    broken["scores"] = "nope"
    result = diff(_base(), broken)
    assert {e.id for e in result.removed} >= {"mood", "sleep", "comment"}
    assert diff(None, "x").empty
