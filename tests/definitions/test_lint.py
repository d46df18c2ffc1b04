"""The linter: semantic problems of definitions that pass the meta-schema, each reported with a
keyword and a JSON pointer that resolves in the definition; every problem at once."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from formular.definitions.lint import lint
from formular.definitions.service import Problem, check

ROOT = Path(__file__).resolve().parents[2]
SHOWCASE: dict[str, Any] = json.loads((ROOT / "designs" / "showcase.json").read_text("utf-8"))

Json = dict[str, Any]
Mutation = Callable[[Json], None]


def showcase() -> Json:
    return copy.deepcopy(SHOWCASE)


def item(document: Json, page: int, section: int, index: int) -> Json:
    found: Json = document["layout"]["pages"][page]["sections"][section]["items"][index]
    return found


def props(document: Json) -> Json:
    found: Json = document["schema"]["properties"]
    return found


def resolve(document: Any, pointer: str) -> Any:
    node = document
    for part in pointer.split("/")[1:]:
        part = part.replace("~1", "/").replace("~0", "~")
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def problems_of(mutate: Mutation) -> tuple[Json, list[Problem]]:
    document = showcase()
    mutate(document)
    return document, check(document)


def add_rule(rule: Json) -> Mutation:
    return lambda d: d["rules"].append(rule)


def remove_phone(d: Json) -> None:
    del props(d)["phone"]


def orphan_property(d: Json) -> None:
    props(d)["shoe_size"] = {"type": "integer"}


def orphan_in_group(d: Json) -> None:
    props(d)["medications"]["items"]["properties"]["colour"] = {"type": "string"}


def duplicate_item(d: Json) -> None:
    d["layout"]["pages"][0]["sections"][1]["items"].append(
        {"type": "text", "name": "name", "label": "Namn igen"})


def section_named_like_a_page(d: Json) -> None:
    d["layout"]["pages"][1]["sections"][0]["id"] = "about-you"


def matrix_row_named_like_an_item(d: Json) -> None:
    item(d, 2, 1, 0)["rows"][0]["name"] = "wellbeing"


def options_differ(d: Json) -> None:
    props(d)["smoking"]["enum"] = ["never", "former", "sometimes"]


def duplicate_option(d: Json) -> None:
    item(d, 1, 0, 0)["options"].append({"value": "never", "label": "Igen"})


def unknown_option_set(d: Json) -> None:
    item(d, 0, 1, 6)["options"] = "no-such-set"


def remote_ref(d: Json) -> None:
    props(d)["name"] = {"$ref": "https://example.com/name.schema.json"}


def backreference(d: Json) -> None:
    props(d)["name"]["pattern"] = r"^(\w)\1+$"


def lookahead(d: Json) -> None:
    props(d)["postcode"]["pattern"] = r"^(?=1)[0-9]{5}$"


def open_root(d: Json) -> None:
    del d["schema"]["additionalProperties"]


def open_row(d: Json) -> None:
    del props(d)["medications"]["items"]["additionalProperties"]


def calculation_cycle(d: Json) -> None:
    d["layout"]["pages"][1]["sections"][1]["items"].append(
        {"type": "calculated", "name": "bmi_twice", "label": "x",
         "expression": {"*": [{"var": "bmi"}, 2]}})
    props(d)["bmi_twice"] = {"type": "number"}
    item(d, 1, 1, 2)["expression"] = {"+": [{"var": "bmi_twice"}, 1]}


def wrong_property_type(d: Json) -> None:
    props(d)["weight"]["type"] = "string"


def date_without_format(d: Json) -> None:
    del props(d)["birth_date"]["format"]


def scale_without_maximum(d: Json) -> None:
    del props(d)["wellbeing"]["maximum"]


def group_without_max_items(d: Json) -> None:
    del props(d)["medications"]["maxItems"]


def nested_group(d: Json) -> None:
    item(d, 3, 0, 1)["items"].append({"type": "group", "name": "doses", "label": "Doser",
                                      "items": [{"type": "text", "name": "when",
                                                 "label": "När"}]})
    props(d)["medications"]["items"]["properties"]["doses"] = {
        "type": "array", "maxItems": 3, "items": {
            "type": "object", "additionalProperties": False,
            "properties": {"when": {"type": "string"}}}}


def required_staff_only(d: Json) -> None:
    d["schema"]["required"].append("staff_note")
    d["policy"]["fillers"] = ["citizen"]


def language_not_offered(d: Json) -> None:
    d["languages"] = ["en"]


CASES: list[tuple[str, Mutation, str, str]] = [
    ("dangling item", remove_phone, "unknown-field", "/layout/pages/0/sections/1/items/4"),
    ("orphan property", orphan_property, "orphan-property", "/schema/properties/shoe_size"),
    ("orphan property in a group", orphan_in_group, "orphan-property",
     "/schema/properties/medications/items/properties/colour"),
    ("duplicate item name", duplicate_item, "duplicate-id",
     "/layout/pages/0/sections/1/items/8/name"),
    ("section id of a page", section_named_like_a_page, "duplicate-id",
     "/layout/pages/1/sections/0/id"),
    ("matrix row named like an item", matrix_row_named_like_an_item, "duplicate-id",
     "/layout/pages/2/sections/1/items/0/rows/0/name"),
    ("duplicate rule id", add_rule({"id": "quit", "when": True, "show": ["email"]}),
     "duplicate-id", "/rules/7/id"),
    ("rule reading a later page",
     add_rule({"id": "late", "when": {"==": [{"var": "smoking"}, "daily"]}, "show": ["email"]}),
     "later-page", "/rules/7/when"),
    ("require reading a later page",
     add_rule({"id": "late", "when": {"==": [{"var": "consent"}, True]},
               "require": ["phone"]}),
     "later-page", "/rules/7/when"),
    ("skip backwards",
     add_rule({"id": "back", "when": {"==": [{"var": "smoking"}, "daily"]},
               "skip_to": "about-you"}),
     "skip-backwards", "/rules/7/skip_to"),
    ("skip to its own page",
     add_rule({"id": "same", "when": {"==": [{"var": "smoking"}, "daily"]},
               "skip_to": "habits"}),
     "skip-backwards", "/rules/7/skip_to"),
    ("skip to an unknown page",
     add_rule({"id": "far", "when": True, "skip_to": "nowhere"}), "unknown-target",
     "/rules/7/skip_to"),
    ("show an unknown element", add_rule({"id": "x", "when": True, "show": ["nowhere"]}),
     "unknown-target", "/rules/7/show"),
    ("unknown variable",
     add_rule({"id": "x", "when": {"==": [{"var": "shoe_size"}, 1]}, "show": ["email"]}),
     "unknown-field", "/rules/7/when/==/0"),
    ("operator outside the allowlist",
     add_rule({"id": "x", "when": {"eval": ["1"]}, "show": ["email"]}), "logic-operator",
     "/rules/7/when"),
    ("rule cycle", lambda d: d["rules"].extend([
        {"id": "c1", "when": {"==": [{"var": "cigarettes"}, 1]}, "show": ["quit_year"]},
        {"id": "c2", "when": {"==": [{"var": "quit_year"}, 1]}, "show": ["cigarettes"]},
    ]), "rule-cycle", "/rules"),
    ("calculation cycle", calculation_cycle, "calculation-cycle", "/layout"),
    ("options differ from enum", options_differ, "options-mismatch",
     "/layout/pages/1/sections/0/items/0/options"),
    ("duplicate option", duplicate_option, "duplicate-option",
     "/layout/pages/1/sections/0/items/0/options"),
    ("unknown option set", unknown_option_set, "unknown-option-set",
     "/layout/pages/0/sections/1/items/6/options"),
    ("remote $ref", remote_ref, "remote-ref", "/schema/properties/name/$ref"),
    ("pattern with a backreference", backreference, "pattern",
     "/schema/properties/name/pattern"),
    ("pattern with a lookahead", lookahead, "pattern", "/schema/properties/postcode/pattern"),
    ("open root object", open_root, "open-object", "/schema"),
    ("open row object", open_row, "open-object", "/schema/properties/medications/items"),
    ("property of the wrong type", wrong_property_type, "type-mismatch",
     "/layout/pages/1/sections/1/items/0"),
    ("date without format", date_without_format, "format-mismatch",
     "/layout/pages/0/sections/1/items/2"),
    ("scale without maximum", scale_without_maximum, "scale-limits",
     "/layout/pages/2/sections/0/items/2"),
    ("group without maxItems", group_without_max_items, "group-unbounded",
     "/layout/pages/3/sections/0/items/1"),
    ("nested group", nested_group, "nested-group", "/layout/pages/3/sections/0/items/1/items/4"),
    ("required but staff-only", required_staff_only, "required-never-visible",
     "/layout/pages/4/sections/1/items/0"),
    ("language not offered", language_not_offered, "language", "/languages"),
]


@pytest.mark.parametrize(("mutate", "keyword", "pointer"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_lint_reports_problem_at_pointer(mutate: Mutation, keyword: str, pointer: str) -> None:
    document, problems = problems_of(mutate)
    assert (pointer, keyword) in [(p.pointer, p.keyword) for p in problems], problems
    for problem in problems:
        resolve(document, problem.pointer)  # every pointer names a place in the document
        assert problem.message


def test_the_showcase_lints_clean() -> None:
    assert lint(showcase()) == []
    assert check(showcase()) == []


def test_a_rule_cycle_names_every_element_on_it() -> None:
    _document, problems = problems_of(lambda d: d["rules"].extend([
        {"id": "c1", "when": {"==": [{"var": "cigarettes"}, 1]}, "show": ["quit_year"]},
        {"id": "c2", "when": {"==": [{"var": "quit_year"}, 1]}, "show": ["cigarettes"]},
    ]))
    cycle = sorted(p.message for p in problems if p.keyword == "rule-cycle")
    assert cycle == ["'cigarettes' depends on itself", "'quit_year' depends on itself"]


def test_every_problem_is_reported_at_once() -> None:
    def many(d: Json) -> None:
        remove_phone(d)
        orphan_property(d)
        duplicate_item(d)
        options_differ(d)
        d["rules"].append({"id": "late", "when": {"==": [{"var": "smoking"}, "daily"]},
                           "show": ["email"]})
        d["rules"].append({"id": "back", "when": {"==": [{"var": "smoking"}, "daily"]},
                           "skip_to": "about-you"})

    _document, problems = problems_of(many)
    found = {p.keyword for p in problems}
    assert {"unknown-field", "orphan-property", "duplicate-id", "options-mismatch",
            "later-page", "skip-backwards"} <= found


def test_schema_problems_are_reported_together() -> None:
    def broken(d: Json) -> None:
        remote_ref(d)
        backreference_target = props(d)["email"]
        backreference_target["pattern"] = r"(a)\1"
        open_row(d)

    _document, problems = problems_of(broken)
    assert {p.keyword for p in problems} == {"remote-ref", "pattern", "open-object"}


def test_a_local_ref_is_allowed() -> None:
    def local(d: Json) -> None:
        d["schema"]["$defs"] = {"yes_no": {"type": "boolean"}}
        props(d)["has_medication"] = {"$ref": "#/$defs/yes_no"}

    assert problems_of(local)[1] == []


def test_a_safe_pattern_is_allowed() -> None:
    def pattern(d: Json) -> None:
        props(d)["name"]["pattern"] = r"^[A-Za-zÅÄÖåäöÉé '\-]+$"

    assert problems_of(pattern)[1] == []


def test_answer_schema_that_is_not_json_schema_is_a_problem() -> None:
    _document, problems = problems_of(lambda d: props(d)["name"].__setitem__("type", "strin"))
    assert [(p.pointer, p.keyword) for p in problems] == [("/schema/properties/name/type",
                                                           "schema")]


@pytest.mark.parametrize(("mutate", "pointer"), [
    (lambda d: item(d, 0, 1, 6).__setitem__(
        "options", [{"value": f"v{i}", "label": f"Val {i}"} for i in range(10_000)]),
     "/layout/pages/0/sections/1/items/6/options"),
    (lambda d: item(d, 0, 1, 0).__setitem__("help", "x" * (5 * 1024 * 1024)),
     "/layout/pages/0/sections/1/items/0/help"),
    (lambda d: d["option_sets"].__setitem__(
        "agree-5", [{"value": i, "label": str(i)} for i in range(10_000)]),
     "/option_sets/agree-5"),
], ids=["10000-options", "5MB-help", "10000-option-set"])
def test_huge_definitions_fail_the_meta_schema_quickly(mutate: Mutation, pointer: str) -> None:
    document = showcase()
    mutate(document)
    started = time.perf_counter()
    problems = check(document)
    assert time.perf_counter() - started < 5
    assert pointer in [p.pointer for p in problems]
    assert not [p for p in problems if p.keyword in ("test-case", "options-mismatch")], (
        "the meta-schema stops the check before lint and test cases run")


def test_problem_messages_stay_short() -> None:
    document = showcase()
    item(document, 0, 1, 0)["help"] = "x" * (5 * 1024 * 1024)
    assert all(len(p.message) < 1000 for p in check(document))
