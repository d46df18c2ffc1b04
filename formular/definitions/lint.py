"""Semantic checks of a definition that has passed the meta-schema.

The meta-schema says what shape a definition has; the linter says whether its parts fit
together: every item points at an answer property of the right type, ids are unique in one
namespace, rules only look at fields on the same or an earlier page and form no cycles, and
the answer schema is closed, local and free of patterns that RE2 cannot run. Scores are
checked by :mod:`.scores`. Every problem is reported, never just the first.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from jsonschema import Draft202012Validator

from . import rules
from .formats import check_pattern
from .items import REGISTRY
from .problems import Problem, pointer_join
from .tree import Json, Placed, answer_names, iter_items, resolve_options


def lint(definition: Json) -> list[Problem]:
    """Every semantic problem of a meta-schema valid definition."""
    problems = _check_answer_schema(definition["schema"])
    if problems:
        # Items cannot be matched against a schema that is itself broken.
        return problems
    index = LayoutIndex(definition)
    problems += index.problems
    problems += _check_items(definition, index)
    problems += _check_rules(definition, index)
    problems += _check_calculations(definition, index)
    problems += _check_metadata(definition)
    return problems


class LayoutIndex:
    """Where every element of the layout is, and which answer property each item owns."""

    def __init__(self, definition: Json) -> None:
        self.problems: list[Problem] = []
        #: element id (page id, section id, item name, matrix row name) -> page index
        self.page_of: dict[str, int] = {}
        #: answer path name -> the placed item owning it
        self.fields: dict[str, Placed] = {}
        self.pages = [page["id"] for page in definition["layout"]["pages"]]
        self.sections: dict[str, int] = {}
        self.items: dict[str, Placed] = {}
        seen: dict[str, str] = {}
        for page_index, page in enumerate(definition["layout"]["pages"]):
            self._claim(seen, page["id"], pointer_join("layout", "pages", page_index, "id"))
            self.page_of[page["id"]] = page_index
            for section_index, section in enumerate(page["sections"]):
                self._claim(seen, section["id"], pointer_join(
                    "layout", "pages", page_index, "sections", section_index, "id"))
                self.page_of[section["id"]] = page_index
                self.sections[section["id"]] = page_index
        for placed in iter_items(definition):
            item = placed.item
            self._claim(seen, item["name"], placed.pointer + "/name")
            self.items[item["name"]] = placed
            self.page_of[item["name"]] = placed.page_index
            for row_index, name in enumerate(answer_names(item)):
                if item["type"] == "matrix":
                    self._claim(seen, name, f"{placed.pointer}/rows/{row_index}/name")
                    self.page_of[name] = placed.page_index
                self.fields[name] = placed

    def _claim(self, seen: dict[str, str], name: str, pointer: str) -> None:
        if name in seen:
            self.problems.append(Problem(pointer, "duplicate-id",
                                         f"id {name!r} is already used at {seen[name]}"))
        else:
            seen[name] = pointer

    def is_field(self, path: str) -> bool:
        return path in self.fields


def _check_answer_schema(schema: Json) -> list[Problem]:
    problems = [
        Problem(pointer_join("schema", *error.absolute_path), "schema",
                f"not valid JSON Schema 2020-12: {error.message}")
        for error in Draft202012Validator(Draft202012Validator.META_SCHEMA).iter_errors(schema)
    ]
    for pointer, node in _walk_schema(schema, "/schema"):
        ref = node.get("$ref")
        if isinstance(ref, str) and not ref.startswith("#"):
            problems.append(Problem(pointer + "/$ref", "remote-ref",
                                    f"$ref {ref!r} leaves the definition; only '#…' is allowed"))
        pattern = node.get("pattern")
        if isinstance(pattern, str):
            reason = check_pattern(pattern)
            if reason:
                problems.append(Problem(pointer + "/pattern", "pattern", reason))
        if node.get("type") == "object" and "properties" in node and not (
            node.get("additionalProperties") is False
            or node.get("unevaluatedProperties") is False
        ):
            problems.append(Problem(pointer, "open-object",
                                    "answer objects must be closed with "
                                    "\"additionalProperties\": false"))
    return problems


def _walk_schema(node: Any, pointer: str) -> Iterator[tuple[str, Json]]:
    """Every sub-schema (dict) of a schema with its pointer, iteratively."""
    stack = [(node, pointer)]
    while stack:
        current, where = stack.pop()
        if isinstance(current, dict):
            yield where, current
            for key, child in current.items():
                if key in ("enum", "const", "examples", "default"):
                    continue
                stack.append((child, pointer_join_raw(where, key)))
        elif isinstance(current, list):
            stack.extend((child, f"{where}/{i}") for i, child in enumerate(current))


def pointer_join_raw(base: str, key: str) -> str:
    return base + pointer_join(key)


def property_schema(schema: Json, placed: Placed, name: str) -> Json | None:
    """The schema of the answer property ``name`` owned by a placed item."""
    container = schema
    if placed.group is not None:
        group_prop = schema.get("properties", {}).get(placed.group["name"], {})
        container = group_prop.get("items", {}) if isinstance(group_prop, dict) else {}
    prop = container.get("properties", {}).get(name) if isinstance(container, dict) else None
    if isinstance(prop, dict) and isinstance(prop.get("$ref"), str):
        prop = _local_ref(schema, prop["$ref"]) or prop
    return prop if isinstance(prop, dict) else None


def _local_ref(schema: Json, ref: str) -> Json | None:
    node: Any = schema
    for part in ref.lstrip("#").split("/")[1:]:
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node if isinstance(node, dict) else None


def _check_items(definition: Json, index: LayoutIndex) -> list[Problem]:
    schema = definition["schema"]
    problems: list[Problem] = []
    owned: set[tuple[str | None, str]] = set()
    for placed in index.items.values():
        item = placed.item
        kind = REGISTRY[item["type"]]
        options = resolve_options(definition, item)
        if isinstance(item.get("options"), str) and item["options"] not in definition.get(
            "option_sets", {}
        ):
            problems.append(Problem(placed.pointer + "/options", "unknown-option-set",
                                    f"no option set named {item['options']!r}"))
        group = placed.group["name"] if placed.group else None
        for row_index, name in enumerate(answer_names(item)):
            owned.add((group, name))
            prop = property_schema(schema, placed, name)
            where = placed.pointer if item["type"] != "matrix" else (
                f"{placed.pointer}/rows/{row_index}")
            if prop is None:
                problems.append(Problem(where, "unknown-field",
                                        f"no answer property {name!r} in the schema"))
                continue
            problems += kind.check(item, prop, where, options)
        if item["type"] == "group" and placed.group is not None:
            problems.append(Problem(placed.pointer, "nested-group",
                                    "repeating groups cannot be nested"))
    for group, name in _schema_properties(schema, index):
        if (group, name) not in owned:
            where = pointer_join("schema", "properties", *(
                [group, "items", "properties", name] if group else [name]))
            problems.append(Problem(where, "orphan-property",
                                    f"answer property {name!r} has no item in the layout"))
    problems += _check_never_visible_required(definition, index)
    return problems


def _schema_properties(schema: Json, index: LayoutIndex) -> Iterator[tuple[str | None, str]]:
    for name, prop in schema.get("properties", {}).items():
        yield None, name
        placed = index.items.get(name)
        if placed and placed.item["type"] == "group" and isinstance(prop, dict):
            for child in prop.get("items", {}).get("properties", {}):
                yield name, child


def _check_never_visible_required(definition: Json, index: LayoutIndex) -> list[Problem]:
    """A required answer nobody can give blocks every submission."""
    problems: list[Problem] = []
    fillers = set(definition.get("policy", {}).get("fillers", ["citizen"]))
    required = set(definition["schema"].get("required", []))
    never = {
        target
        for rule in definition.get("rules", [])
        if "show" in rule and rule["when"] in (False, None, 0, "", [])
        for target in rule["show"]
    }
    for name in required:
        placed = index.fields.get(name)
        if placed is None:
            continue
        staff_only = "staff" in (
            placed.item.get("audience"), placed.section.get("audience"),
            placed.page.get("audience"),
        )
        if staff_only and "staff" not in fillers:
            problems.append(Problem(placed.pointer, "required-never-visible",
                                    f"{name!r} is required but staff-only, and staff do not "
                                    "fill in this form"))
        if placed.item["type"] == "calculated":
            problems.append(Problem(placed.pointer, "required-never-visible",
                                    f"{name!r} is calculated and cannot be required"))
        if {name, placed.item["name"], placed.section["id"], placed.page["id"]} & never:
            problems.append(Problem(placed.pointer, "required-never-visible",
                                    f"{name!r} is required but its show rule can never hold"))
    return problems


def known_var(index: LayoutIndex, definition: Json) -> Any:
    score_ids = {score["id"] for score in definition.get("scores", [])}

    def known(path: str) -> bool:
        head, _, rest = str(path).partition(".")
        if head == "score":
            return rest in score_ids
        if head == "subject":
            return rest in ("age", "sex")
        return head in index.fields

    return known


def _check_rules(definition: Json, index: LayoutIndex) -> list[Problem]:
    problems: list[Problem] = []
    known = known_var(index, definition)
    seen_ids: set[str] = set()
    depends: dict[str, set[str]] = {}
    for rule_index, rule in enumerate(definition.get("rules", [])):
        base = pointer_join("rules", rule_index)
        if rule["id"] in seen_ids:
            problems.append(Problem(base + "/id", "duplicate-id",
                                    f"rule id {rule['id']!r} is used twice"))
        seen_ids.add(rule["id"])
        problems += rules.check_logic(rule["when"], base + "/when", known)
        used = {str(v).split(".")[0] for v in rules.referenced_vars(rule["when"])}
        used = {u for u in used if u in index.fields}
        latest = max((index.page_of[u] for u in used), default=0)
        for target in rule.get("show", []):
            if target not in index.page_of:
                problems.append(Problem(base + "/show", "unknown-target",
                                        f"nothing named {target!r} to show"))
                continue
            if index.page_of[target] < latest:
                problems.append(Problem(base + "/when", "later-page",
                                        f"the condition for {target!r} reads a later page"))
            depends.setdefault(target, set()).update(used)
        for target in rule.get("require", []):
            if target not in index.fields:
                problems.append(Problem(base + "/require", "unknown-target",
                                        f"no field named {target!r} to require"))
            elif index.page_of[target] < latest:
                problems.append(Problem(base + "/when", "later-page",
                                        f"the condition for {target!r} reads a later page"))
        if "skip_to" in rule:
            destination = index.page_of.get(rule["skip_to"])
            if rule["skip_to"] not in index.pages or destination is None:
                problems.append(Problem(base + "/skip_to", "unknown-target",
                                        f"no page named {rule['skip_to']!r}"))
            elif destination <= latest:
                problems.append(Problem(base + "/skip_to", "skip-backwards",
                                        "skip_to must name a page after the condition's page"))
    problems += _cycles(depends, index, "rule-cycle")
    return problems


def _check_calculations(definition: Json, index: LayoutIndex) -> list[Problem]:
    problems: list[Problem] = []
    known = known_var(index, definition)
    depends: dict[str, set[str]] = {}
    for placed in index.items.values():
        if placed.item["type"] != "calculated":
            continue
        expression = placed.item["expression"]
        problems += rules.check_logic(expression, placed.pointer + "/expression", known)
        depends[placed.item["name"]] = {
            str(v).split(".")[0] for v in rules.referenced_vars(expression)
        } & set(index.fields)
    problems += _cycles(depends, index, "calculation-cycle")
    return problems


def _cycles(depends: dict[str, set[str]], index: LayoutIndex, keyword: str) -> list[Problem]:
    """Report each element that can reach itself through the dependency graph."""
    def containers(name: str) -> set[str]:
        placed = index.fields.get(name) or index.items.get(name)
        if placed is None:
            return {name}
        names = {name, placed.item["name"], placed.section["id"], placed.page["id"]}
        if placed.group is not None:
            names.add(placed.group["name"])
        return names

    problems = []
    for start in sorted(depends):
        stack, visited = list(depends[start]), set()
        while stack:
            node = stack.pop()
            if start in containers(node):
                problems.append(Problem("/rules" if keyword == "rule-cycle" else "/layout",
                                        keyword, f"{start!r} depends on itself"))
                break
            if node in visited:
                continue
            visited.add(node)
            for target, used in depends.items():
                if target in containers(node):
                    stack.extend(used)
    return problems


def _check_metadata(definition: Json) -> list[Problem]:
    languages = definition.get("languages", [definition["language"]])
    if definition["language"] not in languages:
        return [Problem("/languages", "language",
                        "the source language must be one of the offered languages")]
    return []
