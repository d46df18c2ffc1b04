""""Try it": sample answers in, the score, band and flags the platform would compute out.

The sample is run through the same compiled definition and validation the platform uses for a
real submission (hidden answers are dropped first, exactly as when a citizen sends the form),
so what the designer sees here is what staff will see. A sample can be kept as one of the
definition's test cases, expecting what it computes now.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from formular.definitions import rules as rule_language
from formular.definitions.compiler import compile_cached
from formular.definitions.problems import InvalidDefinition
from formular.definitions.scores import Scoring, Subject
from formular.definitions.tree import resolve_options

from .outline import Json, as_dict, as_list, display_label, walk

#: Types a sample answer can be given for (what scores, flags and their conditions read).
_SAMPLE_TYPES = frozenset({"integer", "decimal", "yes-no", "choice", "multi-choice", "scale",
                           "matrix", "text", "textarea", "date"})


class TryoutError(Exception):
    def __init__(self, message: str | LazyString) -> None:
        super().__init__(str(message))
        self.message = message


@dataclass(frozen=True)
class SampleField:
    """One input of the "try it" panel."""

    name: str
    label: str
    #: choice, multi, boolean, number or text
    kind: str
    options: tuple[tuple[Any, str], ...] = ()
    scale: tuple[int, int] | None = None


def _reads(document: Json) -> set[str]:
    """Answer names that scores and flags read, and the answers their items' visibility
    depends on (a hidden item counts as missing)."""
    names: set[str] = set()
    for score in as_list(document.get("scores")):
        score = as_dict(score)
        for entry in as_list(score.get("items")):
            names.add(str(entry if isinstance(entry, str) else as_dict(entry).get("name")))
        for band_set in as_list(score.get("band_sets")):
            names |= rule_language.referenced_vars(as_dict(band_set).get("when"))
    for flag in as_list(document.get("flags")):
        names |= rule_language.referenced_vars(as_dict(flag).get("when"))
    heads = {str(n).split(".")[0] for n in names}
    for rule in as_list(document.get("rules")):
        rule = as_dict(rule)
        if set(map(str, as_list(rule.get("show")))) & heads:
            heads |= {str(v).split(".")[0] for v in rule_language.referenced_vars(
                rule.get("when"))}
    return heads - {"score", "subject"}


def sample_fields(document: Json) -> list[SampleField]:
    """The inputs of the "try it" panel, in the form's order."""
    wanted = _reads(document)
    fields: list[SampleField] = []
    for located in walk(document):
        item = located.element
        kind = item.get("type")
        if located.kind != "item" or located.group is not None or kind not in _SAMPLE_TYPES:
            continue
        label = display_label(item, "item") or located.name
        options = tuple((o.get("value"), str(o.get("label", o.get("value"))))
                        for o in resolve_options(document, item) if isinstance(o, dict))
        if kind == "matrix":
            for row in as_list(item.get("rows")):
                row = as_dict(row)
                if row.get("name") in wanted:
                    fields.append(SampleField(str(row["name"]), f"{label}: {row.get('label')}",
                                              "choice", options))
            continue
        if located.name not in wanted:
            continue
        if kind == "choice":
            fields.append(SampleField(located.name, label, "choice", options))
        elif kind == "multi-choice":
            fields.append(SampleField(located.name, label, "multi", options))
        elif kind == "yes-no":
            fields.append(SampleField(located.name, label, "boolean"))
        elif kind in ("integer", "decimal", "scale"):
            scale = None
            if kind == "scale":
                prop = as_dict(as_dict(as_dict(document.get("schema")).get("properties")).get(
                    located.name))
                low, high = prop.get("minimum"), prop.get("maximum")
                if isinstance(low, int) and isinstance(high, int) and 0 < high - low <= 100:
                    scale = (low, high)
            fields.append(SampleField(located.name, label, "number", scale=scale))
        else:
            fields.append(SampleField(located.name, label, "text"))
    return fields


def typed_answers(fields: list[SampleField], posted: Mapping[str, list[str]]) -> Json:
    """The sample as an answer document; blanks are left out, unreadable input too (the
    panel shows the field as missing, like an unanswered question)."""
    answers: Json = {}
    for field in fields:
        values = [v for v in posted.get(field.name, []) if v != ""]
        if not values:
            continue
        if field.kind in ("choice", "multi"):
            by_text = {str(value): value for value, _label in field.options}
            chosen = [by_text[v] for v in values if v in by_text]
            if field.kind == "multi":
                answers[field.name] = chosen
            elif chosen:
                answers[field.name] = chosen[0]
        elif field.kind == "boolean":
            if values[0] in ("true", "false"):
                answers[field.name] = values[0] == "true"
        elif field.kind == "number":
            text = values[0].strip().replace(",", ".")
            try:
                number = float(text)
            except ValueError:
                continue
            if number == number and abs(number) < 1e15:
                answers[field.name] = int(number) if number.is_integer() else number
        else:
            answers[field.name] = values[0][:2000]
    return answers


def run(document: Json, answers: Json, sex: str | None, age: int | None) -> Scoring:
    """The scores and flags of a sample, computed by the platform's compiled definition."""
    try:
        compiled = compile_cached(document)
    except InvalidDefinition:
        raise TryoutError(_l("Fix the problems listed in the validation panel first; then the "
                             "score can be tried.")) from None
    result = compiled.validate(answers, audience="citizen", subject=Subject(sex=sex, age=age))
    return result.scoring


def expectations(document: Json, answers: Json, sex: str | None, age: int | None) -> Json:
    """A test case's ``expect``: the scores, bands and flags the sample gives now."""
    if not as_list(document.get("scores")) and not as_list(document.get("flags")):
        raise TryoutError(_l("The form has no score or flag to test yet."))
    scoring = run(document, answers, sex, age)
    expect: Json = {}
    if scoring.scores:
        expect["scores"] = {key: result.value for key, result in scoring.scores.items()}
        expect["bands"] = {key: (result.band.id if result.band else None)
                           for key, result in scoring.scores.items()}
    expect["flags"] = sorted(flag.id for flag in scoring.flags)
    return expect


__all__ = ["SampleField", "TryoutError", "expectations", "run", "sample_fields",
           "typed_answers"]
