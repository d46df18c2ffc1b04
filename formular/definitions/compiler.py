"""Compile a definition once per (id, version) into what every request needs.

A compiled definition holds the layout as immutable specs, the answer validator, the
visibility plan and the score plan. Nothing here is rebuilt per request; callers keep the
compiled object in :func:`compile_cached`'s cache, keyed by id, version and content hash (so a
draft edited in the designer under the same version number is never served stale).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from jsonschema.exceptions import ValidationError, best_match
from jsonschema.protocols import Validator

from formular.lru import Lru

from . import rules
from .evaluation import Evaluation, VisibilityPlan, is_empty
from .formats import build_answer_validator
from .lint import LayoutIndex, lint, property_schema
from .metaschema import definition_validator, empty_registry
from .model import FieldError, ItemSpec, PageSpec, Row, SectionSpec
from .problems import InvalidDefinition, Problem, pointer_join
from .scores import ScorePlan, Scoring, Subject, compile_scores, lint_scores
from .tree import Json, resolve_options

#: Answer documents larger than this (as JSON) are refused before validation.
MAX_ANSWER_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Validation:
    """The outcome of validating one answer document."""

    #: Visible, typed answers with calculated values: what would be stored.
    answers: Json
    errors: tuple[FieldError, ...]
    evaluation: Evaluation
    scoring: Scoring

    @property
    def ok(self) -> bool:
        return not self.errors

    def on_pages(self, pages: set[int]) -> Validation:
        """The same outcome with only the errors of ``pages`` (what a page post shows)."""
        return replace(self, errors=tuple(e for e in self.errors if e.page_index in pages))


@dataclass(frozen=True)
class CompiledDefinition:
    document: Json
    digest: str
    pages: tuple[PageSpec, ...]
    #: answer name (root items, matrix rows, group children as "group/child") -> item spec
    fields: dict[str, ItemSpec]
    validator: Validator = field(repr=False)
    visibility: VisibilityPlan = field(repr=False)
    scores: ScorePlan = field(repr=False)
    require_rules: tuple[tuple[Any, tuple[str, ...]], ...] = ()

    @property
    def id(self) -> str:
        return str(self.document["id"])

    @property
    def version(self) -> int:
        return int(self.document["version"])

    @property
    def title(self) -> str:
        return str(self.document["title"])

    @property
    def language(self) -> str:
        return str(self.document["language"])

    @property
    def policy(self) -> Json:
        policy: Json = self.document.get("policy", {})
        return policy

    def evaluate(self, answers: Json, audience: str = "citizen") -> Evaluation:
        return self.visibility.evaluate(answers, audience)

    def validate(
        self,
        answers: Json,
        *,
        audience: str = "citizen",
        subject: Subject | None = None,
        pages: set[int] | None = None,
    ) -> Validation:
        """Validate an answer document as a whole: visibility first, then the JSON Schema as
        the authority, then conditional requirements. ``pages`` limits the errors returned to
        those pages (a page post), while the whole document is still evaluated."""
        evaluation = self.evaluate(answers, audience)
        document = evaluation.answers
        errors = [
            error
            for raw in self.validator.iter_errors(document)
            for error in self._field_errors(raw)
            if not self._hidden(error, evaluation)
        ]
        errors += self._required_by_rules(document, evaluation)
        scoring = self.scores.evaluate(document, subject)
        whole = Validation(document, tuple(_deduplicate(errors)), evaluation, scoring)
        return whole if pages is None else whole.on_pages(pages)

    def _field_errors(self, error: ValidationError) -> Iterator[FieldError]:
        path = tuple(error.absolute_path)
        if error.validator == "required" and isinstance(error.instance, dict):
            for name in error.validator_value:
                if name not in error.instance:
                    yield self._locate(path + (name,), "required", {})
            return
        if error.validator in ("additionalProperties", "unevaluatedProperties"):
            yield FieldError(path, "unknown-field", {}, "", 0)
            return
        yield self._locate(path, str(error.validator), {"limit": error.validator_value})

    def _locate(self, path: tuple[str | int, ...], keyword: str, params: Json) -> FieldError:
        """The item an error belongs to: the longest prefix of its path naming an item."""
        if not path or not isinstance(path[0], str) or path[0] not in self.fields:
            return FieldError(path, keyword, params, "", 0)
        spec = self.fields[path[0]]
        located: tuple[str | int, ...] = (path[0],)
        if spec.type == "group" and len(path) >= 3 and isinstance(path[2], str):
            child = self.fields.get(f"{path[0]}/{path[2]}")
            if child is not None:
                return FieldError(path[:3], keyword, params, path[2], child.page_index)
        return FieldError(located, keyword, params, str(path[0]), spec.page_index)

    def _hidden(self, error: FieldError, evaluation: Evaluation) -> bool:
        if not error.path or not error.name:
            return False
        if len(error.path) == 3:
            group, row = str(error.path[0]), error.path[1]
            return evaluation.is_hidden(error.name, group, row if isinstance(row, int) else None)
        spec = self.fields.get(error.name)
        return evaluation.is_hidden(spec.name if spec else error.name)

    def _required_by_rules(self, document: Json, evaluation: Evaluation) -> list[FieldError]:
        """Requirements of ``require`` rules; inside a repeating group, row by row (the row's
        answers overlay the document, as for show rules)."""
        errors = []
        for condition, targets in self.require_rules:
            for name in targets:
                spec = self.fields.get(name) or self._group_child(name)
                if spec is None:
                    continue
                if spec.group is None:
                    if (is_empty(document.get(name)) and not evaluation.is_hidden(spec.name)
                            and rules.holds(condition, document)):
                        errors.append(FieldError((name,), "required", {}, name,
                                                 spec.page_index))
                    continue
                rows = document.get(spec.group)
                for index, row in enumerate(rows if isinstance(rows, list) else []):
                    if not isinstance(row, dict) or evaluation.is_hidden(name, spec.group, index):
                        continue
                    if is_empty(row.get(name)) and rules.holds(condition, {**document, **row}):
                        errors.append(FieldError((spec.group, index, name), "required", {}, name,
                                                 spec.page_index))
        return errors

    def _group_child(self, name: str) -> ItemSpec | None:
        for key, spec in self.fields.items():
            if spec.group is not None and key == f"{spec.group}/{name}":
                return spec
        return None


def _deduplicate(errors: list[FieldError]) -> list[FieldError]:
    seen: set[tuple[tuple[str | int, ...], str]] = set()
    unique = []
    for error in errors:
        key = (error.path, error.keyword)
        if key not in seen:
            seen.add(key)
            unique.append(error)
    return unique


def check(document: Any) -> list[Problem]:
    """Every problem of a definition: meta-schema, lint, scores, then its own test cases."""
    if not isinstance(document, dict):
        return [Problem("", "type", "a definition is a JSON object")]
    problems = [
        Problem(pointer_join(*error.absolute_path), str(error.validator), _short(error.message))
        for error in map(_most_specific_error, definition_validator().iter_errors(document))
    ]
    if problems:
        return sorted(set(problems), key=lambda p: (p.pointer, p.keyword, p.message))
    problems = lint(document) + lint_scores(document)
    if problems:
        return problems
    from .testcases import run_test_cases

    return run_test_cases(_build(document))


#: Problem messages longer than this are cut: jsonschema quotes the offending value, which may
#: be a 5 MB help text.
MAX_MESSAGE = 300


def _short(message: str) -> str:
    return message if len(message) <= MAX_MESSAGE else message[:MAX_MESSAGE - 1] + "…"


def _most_specific_error(error: ValidationError) -> ValidationError:
    """Replace a vague ``oneOf``/``anyOf`` summary ("is not valid under any of the given
    schemas") by the most relevant error of its branches (e.g. "is too long"), as jsonschema's
    ``best_match`` chooses it."""
    while error.context:
        deeper = best_match(error.context)
        if deeper is None:
            break
        error = deeper
    return error


def compile_definition(document: Any) -> CompiledDefinition:
    """Check and compile; raises :class:`InvalidDefinition` with every problem."""
    problems = check(document)
    if problems:
        raise InvalidDefinition(problems)
    return _build(document)


def _build(document: Json) -> CompiledDefinition:
    schema = document["schema"]
    index = LayoutIndex(document)
    pages = tuple(_page_spec(document, index, page_index, page)
                  for page_index, page in enumerate(document["layout"]["pages"]))
    fields: dict[str, ItemSpec] = {}
    for page in pages:
        for item in page.items():
            for name in item.answer_names:
                fields[name] = item
            for child in item.children:
                fields[f"{item.name}/{child.name}"] = child
    require = tuple(
        (rules.prepare(rule["when"]), tuple(rule["require"]))
        for rule in document.get("rules", []) if "require" in rule
    )
    return CompiledDefinition(
        document=document,
        digest=digest(document),
        pages=pages,
        fields=fields,
        validator=build_answer_validator(schema, empty_registry()),
        visibility=VisibilityPlan(pages, document),
        scores=compile_scores(document),
        require_rules=require,
    )


def _page_spec(document: Json, index: LayoutIndex, page_index: int, page: Json) -> PageSpec:
    sections = tuple(
        SectionSpec(section["id"], section.get("title"), section.get("help"),
                    section.get("audience", "all"),
                    tuple(_item_spec(document, index, page_index, item, None, _required(
                        document["schema"])) for item in section["items"]))
        for section in page["sections"]
    )
    return PageSpec(page_index, page["id"], page["title"], page.get("intro"),
                    page.get("audience", "all"), sections)


def _required(schema: Json) -> frozenset[str]:
    return frozenset(schema.get("required", []))


def _item_spec(
    document: Json, index: LayoutIndex, page_index: int, item: Json, group: str | None,
    required: frozenset[str],
) -> ItemSpec:
    placed = index.items[item["name"]]
    schema = document["schema"]
    prop = property_schema(schema, placed, item["name"]) or {}
    children: tuple[ItemSpec, ...] = ()
    rows: tuple[Row, ...] = ()
    if item["type"] == "group":
        inner = prop.get("items", {})
        children = tuple(_item_spec(document, index, page_index, child, item["name"],
                                    _required(inner)) for child in item["items"])
    if item["type"] == "matrix":
        rows = tuple(Row(row["name"], row["label"], row["name"] in required)
                     for row in item["rows"])
        prop = property_schema(schema, placed, item["rows"][0]["name"]) or {}
    return ItemSpec(
        name=item["name"], type=item["type"], raw=item, prop=prop,
        options=tuple(resolve_options(document, item)),
        required=item["name"] in required, page_index=page_index,
        audience=item.get("audience", "all"), group=group, children=children, rows=rows,
    )


def digest(document: Json) -> str:
    """A stable content hash of a definition (canonical JSON)."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


#: Compiled definitions by content key (see :func:`compile_cached`).
_cache: Lru[str, CompiledDefinition] = Lru(256)


def compile_cached(document: Json, key: str | None = None) -> CompiledDefinition:
    """Compile, or return the compiled definition of the same content.

    :param key: a caller's immutable key for this content (a stored version's row id); without
        it the content is hashed, which costs a canonical dump of the document.
    """
    if key is None:
        key = f"{document.get('id')}@{document.get('version')}#{digest(document)}"
    return _cache.get_or_make(key, lambda: compile_definition(document))


def compile_stored(key: str, document: Callable[[], Json]) -> CompiledDefinition:
    """The compiled definition cached under ``key``; ``document`` is asked for only when it
    is not cached (a stored version's document may then be read from the database: a form
    page of a long questionnaire need not load and decode it on every request)."""
    return _cache.get_or_make(key, lambda: compile_definition(document()))


def answers_too_large(answers: Any) -> bool:
    return len(json.dumps(answers, default=str)) > MAX_ANSWER_BYTES
