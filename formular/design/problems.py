"""What is wrong with a definition being designed, as the designer's validation panel shows it.

The checks are exactly the platform's (:func:`formular.definitions.service.check`: meta-schema,
then lint and scores, then the definition's own test cases), so a draft without problems is one
the platform will accept when it is published. This module only adds what the designer needs on
top: which stage found the problem (``source``), a translated headline per problem kind, and the
item, section or page the problem's JSON pointer falls in, so the panel can link to it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from formular.definitions.metaschema import definition_validator
from formular.definitions.service import check

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DesignProblem:
    #: JSON pointer (RFC 6901) into the definition, "" for the whole document.
    pointer: str
    #: Translated headline of the problem kind ("Two elements use the same id").
    message: str
    #: "schema" (meta-schema), "lint" (parts that do not fit together) or "tests" (a test case).
    source: str
    #: The name of the item, or the id of the section or page, the pointer falls in.
    item: str | None
    #: The stable machine-readable reason (``duplicate-id``, ``required``, …).
    keyword: str = ""
    #: The checker's technical English detail (names, limits), shown under the headline.
    detail: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"pointer": self.pointer, "message": self.message, "source": self.source,
                "item": self.item, "keyword": self.keyword, "detail": self.detail}


#: Headlines of the problem kinds the checker reports; unknown kinds fall back by source.
HEADLINES: dict[str, LazyString] = {
    # meta-schema keywords (jsonschema validator names)
    "required": _l("A required field is missing"),
    "type": _l("A value has the wrong type"),
    "enum": _l("A value is not one of the allowed values"),
    "const": _l("A value is not the allowed value"),
    "additionalProperties": _l("A field is not allowed here"),
    "unevaluatedProperties": _l("A field is not allowed here"),
    "pattern": _l("A value does not have the required form"),
    "format": _l("A value does not have the required form"),
    "minLength": _l("A text is too short"),
    "maxLength": _l("A text is too long"),
    "minimum": _l("A number is too small"),
    "exclusiveMinimum": _l("A number is too small"),
    "maximum": _l("A number is too large"),
    "exclusiveMaximum": _l("A number is too large"),
    "minItems": _l("A list has too few entries"),
    "maxItems": _l("A list has too many entries"),
    "uniqueItems": _l("A list has the same entry twice"),
    "minProperties": _l("An object has too few fields"),
    "oneOf": _l("A part of the definition has the wrong shape"),
    "anyOf": _l("A part of the definition has the wrong shape"),
    "not": _l("A part of the definition has the wrong shape"),
    "propertyNames": _l("A field name is not allowed"),
    "dependentRequired": _l("A field needs another field that is missing"),
    # lint
    "schema": _l("The answer schema is not valid JSON Schema"),
    "remote-ref": _l("A reference points outside the definition"),
    "open-object": _l("An answer object is not closed"),
    "duplicate-id": _l("Two elements use the same id"),
    "duplicate-option": _l("Two options have the same value"),
    "unknown-option-set": _l("An item uses an option list that does not exist"),
    "unknown-field": _l("Something refers to a field that does not exist"),
    "nested-group": _l("A repeating group is inside another repeating group"),
    "orphan-property": _l("An answer property has no item"),
    "required-never-visible": _l("A required item can never be shown"),
    "unknown-target": _l("A rule refers to an element that does not exist"),
    "later-page": _l("A condition reads an answer from a later page"),
    "skip-backwards": _l("A rule skips backwards"),
    "rule-cycle": _l("Rules depend on each other in a circle"),
    "calculation-cycle": _l("Calculations depend on each other in a circle"),
    "language": _l("A language is not set up correctly"),
    "type-mismatch": _l("An item and its answer property do not match"),
    "options-mismatch": _l("The options and the answer property do not match"),
    "scale-limits": _l("A scale has wrong limits"),
    "group-unbounded": _l("A repeating group has no upper limit"),
    "logic-arity": _l("A condition has the wrong number of arguments"),
    "logic-depth": _l("A condition is nested too deeply"),
    "logic-literal": _l("A condition contains a value that is not allowed"),
    "logic-operator": _l("A condition uses an operator that is not supported"),
    "logic-size": _l("A condition is too large"),
    "logic-var": _l("A condition reads something that is not an answer"),
    "unknown-var": _l("A condition reads something that is not an answer"),
    # scores
    "band-fallback": _l("A band set has no band for some scores"),
    "band-gap": _l("The bands of a score leave a gap"),
    "band-order": _l("The bands of a score are not in ascending order"),
    "band-overlap": _l("The bands of a score overlap"),
    "band-range": _l("A band lies outside the possible scores"),
    "missing-count-values": _l("A count score does not say which values count"),
    "missing-range": _l("A score item has no known range"),
    "missing-weight": _l("An option has no weight"),
    "unused-weight": _l("A weight is given but never used"),
    # test cases and reading files
    "test-case": _l("A test case fails"),
    "json": _l("The file is not valid JSON"),
    "encoding": _l("The file is not UTF-8 text"),
    "duplicate-key": _l("A key appears twice in one object"),
    "too-large": _l("The file is too large"),
    "too-deep": _l("The file is nested too deeply"),
    "internal": _l("The definition could not be checked"),
}

FALLBACK: dict[str, LazyString] = {
    "schema": _l("The definition does not have the required shape"),
    "lint": _l("Parts of the definition do not fit together"),
    "tests": _l("A test case fails"),
}


def headline(keyword: str, source: str) -> str:
    return str(HEADLINES.get(keyword) or FALLBACK.get(source) or FALLBACK["lint"])


def problems_of(document: Any) -> list[DesignProblem]:
    """Every problem of a definition document, in the order the checker reports them.

    Pure apart from translation: call it inside a request or an app context with a locale.
    """
    try:
        found = check(document)
    except Exception:  # noqa: BLE001  (a checker bug must block publishing, not crash a page)
        log.exception("checking a design draft failed")
        return [DesignProblem("", headline("internal", "lint"), "lint", None, "internal",
                              "the checker failed on this document")]
    if not found:
        return []
    schema_stage = not isinstance(document, dict) or not definition_validator().is_valid(document)
    result = []
    for problem in found:
        if schema_stage:
            source = "schema"
        elif problem.keyword == "test-case":
            source = "tests"
        else:
            source = "lint"
        result.append(DesignProblem(
            pointer=problem.pointer, message=headline(problem.keyword, source), source=source,
            item=element_at(document, problem.pointer), keyword=problem.keyword,
            detail=problem.message))
    return result


def problems_of_parse(problems: list[Any]) -> list[DesignProblem]:
    """Problems of reading a file (not JSON, too large, …) in the panel's shape."""
    return [DesignProblem(p.pointer, headline(p.keyword, "schema"), "schema", None, p.keyword,
                          p.message) for p in problems]


def _tokens(pointer: str) -> list[str]:
    if not pointer:
        return []
    return [part.replace("~1", "/").replace("~0", "~") for part in pointer.split("/")[1:]]


def element_at(document: Any, pointer: str) -> str | None:
    """The deepest layout element (item name, section id, page id) a pointer falls in.

    Pointers into the answer schema name the property; the item owning it is returned when
    there is one, so a "maximum below minimum" problem links to the item it concerns.
    """
    if not isinstance(document, dict):
        return None
    tokens = _tokens(pointer)
    if tokens[:2] == ["layout", "pages"]:
        return _layout_element(document, tokens[2:])
    if tokens[:2] == ["schema", "properties"] and len(tokens) >= 3:
        return _item_owning(document, tokens[2])
    return None


def _layout_element(document: dict[str, Any], tokens: list[str]) -> str | None:
    node: Any = document.get("layout", {}).get("pages") if isinstance(
        document.get("layout"), dict) else None
    found: str | None = None
    # Walk pairs (index, key): pages/N, sections/M, items/K, items/J …
    position = 0
    while position < len(tokens) and isinstance(node, list):
        token = tokens[position]
        if not token.isdigit() or int(token) >= len(node):
            break
        element = node[int(token)]
        if not isinstance(element, dict):
            break
        name = element.get("name") if "name" in element and "type" in element else element.get(
            "id")
        if isinstance(name, str):
            found = name
        following = tokens[position + 1] if position + 1 < len(tokens) else None
        if following in ("sections", "items") and isinstance(element.get(following), list):
            node = element[following]
            position += 2
            continue
        break
    return found


def _item_owning(document: dict[str, Any], prop: str) -> str | None:
    try:
        from formular.definitions.tree import answer_names, iter_items

        for placed in iter_items(document):
            if prop == placed.item.get("name") or prop in answer_names(placed.item):
                return str(placed.item["name"])
    except (KeyError, TypeError, AttributeError):
        return None
    return None
