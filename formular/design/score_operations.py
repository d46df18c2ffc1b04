"""Edit operations on scores, flags and test cases (registered in :data:`.operations.OPERATIONS`).

A score names items, weights, reversed items and bands; a flag is a condition over answers and
``score.<id>``; a test case is a "try it" sample with the results it gives now. As everywhere in
the editor, an operation changes a copy and refuses with a translated message what would leave
the definition silently wrong (a score id used twice, a score still read by a flag).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l

from formular.definitions import rules as rule_language

from . import conditions
from .operations import (
    MAX_LONG,
    MAX_SHORT,
    METHODS,
    MISSING_POLICIES,
    SEVERITIES,
    SLUG,
    OperationError,
    Outcome,
    clean_text,
    fresh_id,
    operation,
    option_value,
    parse_integer,
    parse_number,
    rename_everywhere,
    set_or_drop,
)
from .outline import SCORABLE_TYPES, Json, as_dict, as_list, fresh_slug, walk

# -- scores and flags ---------------------------------------------------------------------------


def scorable_fields(document: Json) -> list[conditions.FieldChoice]:
    """Top-level answers a score can weigh (matrix rows one by one)."""
    result: list[conditions.FieldChoice] = []
    for located in walk(document):
        if (located.kind == "item" and located.group is None
                and located.element.get("type") in SCORABLE_TYPES):
            result += conditions._field_choices(document, located.element, located.page_index)
    return result


def _score_index(document: Json, score_id: str) -> int:
    for index, score in enumerate(as_list(document.get("scores"))):
        if isinstance(score, dict) and score.get("id") == score_id:
            return index
    raise OperationError(_l("The score %(id)s no longer exists.", id=score_id))


def _bands(entries: Any, where: str) -> list[Json]:
    bands: list[Json] = []
    taken: set[str] = set()
    for number, entry in enumerate(as_list(entries), start=1):
        entry = as_dict(entry)
        label = str(entry.get("label") or "").strip()
        low, high = entry.get("min"), entry.get("max")
        if not label and low in (None, "") and high in (None, ""):
            continue
        low_n, high_n = parse_number(low, where), parse_number(high, where)
        if low_n is None or high_n is None:
            raise OperationError(_l("Band %(n)s needs a lowest and a highest score.", n=number),
                                 where)
        if low_n > high_n:
            raise OperationError(_l("Band %(n)s: the lowest score is above the highest.",
                                    n=number), where)
        if not label:
            raise OperationError(_l("Band %(n)s needs a label.", n=number), where)
        band_id = str(entry.get("id") or "").strip()
        if band_id and not SLUG.fullmatch(band_id):
            raise OperationError(_l("Band %(n)s: an id is lower-case letters, digits and "
                                    "hyphens.", n=number), where)
        band_id = band_id if band_id and band_id not in taken else fresh_slug(taken, band_id or
                                                                               label)
        taken.add(band_id)
        band: Json = {"id": band_id, "min": low_n, "max": high_n, "label": label[:MAX_SHORT]}
        severity = entry.get("severity") or ""
        if severity:
            if severity not in SEVERITIES:
                raise OperationError(_l("Choose a severity."), where)
            band["severity"] = severity
        bands.append(band)
    return bands


@operation("set-score")
def set_score(document: Json, *, score_id: str | None, new_id: str = "", label: str,
              description: str = "", method: str = "sum", items: list[Mapping[str, Any]],
              count_values: list[str] | None = None, missing_policy: str = "no-total",
              max_missing: Any = None, decimals: Any = None, citizen_visible: bool = False,
              band_sets: list[Mapping[str, Any]] | None = None) -> Outcome:
    """Create (``score_id`` None) or change a score.

    ``items``: ``{"name", "reverse", "weights": {value text: weight text}}``, empty weights
    meaning "the option's weight". ``band_sets``: ``{"sex", "age_min", "age_max", "bands":
    [{"id", "min", "max", "label", "severity"}]}``; None keeps the score's band sets as they
    are (hand-written conditions the builder cannot show).
    """
    score_list = document.setdefault("scores", [])
    index = _score_index(document, score_id) if score_id else None
    score: Json = copy.deepcopy(score_list[index]) if index is not None else {}
    wanted_id = new_id.strip() or score_id or ""
    if not wanted_id:
        wanted_id = fresh_id(score_list, label or "score")
    if not SLUG.fullmatch(wanted_id):
        raise OperationError(_l("An id is lower-case letters, digits and hyphens (at most "
                                "64)."), "new_id")
    if any(isinstance(s, dict) and s.get("id") == wanted_id and i != index
           for i, s in enumerate(score_list)):
        raise OperationError(_l("That id is already used."), "new_id")
    score["id"] = wanted_id
    score["label"] = clean_text(label, "label", required=True)
    set_or_drop(score, "description", clean_text(description, "description", limit=MAX_LONG))
    if method not in METHODS:
        raise OperationError(_l("Choose how the score is computed."), "method")
    score["method"] = method
    fields = {choice.path: choice for choice in scorable_fields(document)}
    entries: list[Any] = []
    seen: set[str] = set()
    for entry in items:
        name = str(entry.get("name") or "")
        if not name:
            continue
        if name not in fields:
            raise OperationError(_l("%(name)s cannot be scored.", name=name), "items")
        if name in seen:
            raise OperationError(_l("%(name)s is in the score twice.", name=name), "items")
        seen.add(name)
        weights: dict[str, float | int] = {}
        for key, text in as_dict(entry.get("weights")).items():
            weight = parse_number(text, "items")
            if weight is not None:
                weights[str(key)] = weight
        reverse = bool(entry.get("reverse"))
        if not reverse and not weights:
            entries.append(name)
            continue
        made: Json = {"name": name}
        if reverse:
            made["reverse"] = True
        if weights:
            made["weights"] = weights
        entries.append(made)
    if not entries:
        raise OperationError(_l("Choose at least one item."), "items")
    score["items"] = entries
    if method == "count":
        values: list[Any] = []
        for text in count_values or []:
            text = str(text).strip()
            if text:
                values.append(True if text == "true" else False if text == "false"
                              else option_value(text))
        if not values:
            raise OperationError(_l("Choose which answers count."), "count_values")
        score["count_values"] = values
    else:
        score.pop("count_values", None)
    if missing_policy not in MISSING_POLICIES:
        raise OperationError(_l("Choose what happens when answers are missing."), "missing_policy")
    missing: Json = {"policy": missing_policy}
    max_missing_n = parse_number(max_missing, "max_missing", integer=True)
    if max_missing_n is not None:
        if max_missing_n < 0:
            raise OperationError(_l("Enter zero or more."), "max_missing")
        missing["max_missing"] = max_missing_n
    score["missing"] = missing
    decimals_n = parse_number(decimals, "decimals", integer=True)
    if decimals_n is not None and not 0 <= decimals_n <= 6:
        raise OperationError(_l("Between 0 and 6 decimals."), "decimals")
    set_or_drop(score, "decimals", decimals_n)
    set_or_drop(score, "citizen_visible", True if citizen_visible else None)
    if band_sets is not None:
        made_sets: list[Json] = []
        fallbacks = 0
        for number, entry in enumerate(band_sets):
            bands = _bands(entry.get("bands"), f"bands-{number}")
            if not bands:
                continue
            age_min = parse_integer(entry.get("age_min"), f"bands-{number}")
            age_max = parse_integer(entry.get("age_max"), f"bands-{number}")
            sex = entry.get("sex") or None
            if sex not in (None, "female", "male"):
                raise OperationError(_l("Choose a sex."), f"bands-{number}")
            when = conditions.band_set_condition(sex, age_min, age_max)
            band_set: Json = {"bands": bands}
            if when is None:
                fallbacks += 1
            else:
                band_set = {"when": when, "bands": bands}
            made_sets.append(band_set)
        if fallbacks > 1:
            raise OperationError(_l("Only one set of bands can be for everyone; give the others "
                                    "a sex or an age range."), "bands-0")
        # The fallback goes last: the first set whose condition holds applies.
        made_sets.sort(key=lambda s: "when" not in s)
        set_or_drop(score, "band_sets", made_sets)
    if index is None:
        score_list.append(score)
    else:
        score_list[index] = score
        if score_id and wanted_id != score_id:
            rename_everywhere(document, score_id, wanted_id, prefix="score.")
    return Outcome(document, wanted_id, str(_l("Saved the score %(label)s.",
                                               label=score["label"])))


@operation("delete-score")
def delete_score(document: Json, *, score_id: str) -> Outcome:
    index = _score_index(document, score_id)
    readers = [str(_l("the flag %(label)s", label=f.get("label") or f.get("id")))
               for f in as_list(document.get("flags"))
               if isinstance(f, dict) and f"score.{score_id}" in rule_language.referenced_vars(
                   f.get("when"))]
    readers += [str(_l("the score %(label)s", label=s.get("label") or s.get("id")))
                for s in as_list(document.get("scores"))
                if isinstance(s, dict) and s.get("id") != score_id and any(
                    f"score.{score_id}" in rule_language.referenced_vars(as_dict(b).get("when"))
                    for b in as_list(s.get("band_sets")))]
    if readers:
        raise OperationError(_l("The score cannot be deleted while %(uses)s reads it.",
                                uses=", ".join(readers)))
    label = str(document["scores"][index].get("label") or score_id)
    del document["scores"][index]
    set_or_drop(document, "scores", document["scores"])
    for case in as_list(document.get("tests")):
        expect = as_dict(as_dict(case).get("expect"))
        for key in ("scores", "bands"):
            if isinstance(expect.get(key), dict):
                set_or_drop(expect, key, {k: v for k, v in expect[key].items()
                                           if k != score_id})
    return Outcome(document, "scores", str(_l("Deleted the score %(label)s.", label=label)))


@operation("set-flag")
def set_flag(document: Json, *, flag_id: str | None, new_id: str = "", label: str,
             severity: str = "", citizen_visible: bool = False, combine: str = "all",
             rows: list[tuple[str, str, str]]) -> Outcome:
    """Create or change a flag: raised when its condition (answers and ``score.<id>``) holds."""
    flag_list = document.setdefault("flags", [])
    index = next((i for i, f in enumerate(flag_list)
                  if isinstance(f, dict) and f.get("id") == flag_id), None) if flag_id else None
    if flag_id and index is None:
        raise OperationError(_l("The flag %(id)s no longer exists.", id=flag_id))
    label = clean_text(label, "flag_label", required=True)
    wanted = new_id.strip() or flag_id or fresh_id(flag_list, label)
    if not SLUG.fullmatch(wanted):
        raise OperationError(_l("An id is lower-case letters, digits and hyphens (at most "
                                "64)."), "new_id")
    if any(isinstance(f, dict) and f.get("id") == wanted and i != index
           for i, f in enumerate(flag_list)):
        raise OperationError(_l("That id is already used."), "new_id")
    if combine not in ("all", "any"):
        raise OperationError(_l("Choose all or any."), "combine")
    try:
        built = conditions.build_rows(conditions.flag_fields(document), rows)
        when = conditions.to_logic(built, combine)
    except conditions.ConditionError as error:
        field = "rows" if error.row is None else f"rows-{error.row}"
        raise OperationError(error.message, field) from None
    flag: Json = {"id": wanted, "when": when, "label": label}
    if severity:
        if severity not in SEVERITIES:
            raise OperationError(_l("Choose a severity."), "severity")
        flag["severity"] = severity
    if citizen_visible:
        flag["citizen_visible"] = True
    if index is None:
        flag_list.append(flag)
    else:
        flag_list[index] = flag
        if flag_id != wanted:
            for case in as_list(document.get("tests")):
                expect = as_dict(as_dict(case).get("expect"))
                if isinstance(expect.get("flags"), list):
                    expect["flags"] = [wanted if f == flag_id else f for f in expect["flags"]]
    return Outcome(document, wanted, str(_l("Saved the flag %(label)s.", label=label)))


@operation("delete-flag")
def delete_flag(document: Json, *, flag_id: str) -> Outcome:
    flag_list = as_list(document.get("flags"))
    index = next((i for i, f in enumerate(flag_list)
                  if isinstance(f, dict) and f.get("id") == flag_id), None)
    if index is None:
        raise OperationError(_l("The flag %(id)s no longer exists.", id=flag_id))
    label = str(flag_list[index].get("label") or flag_id)
    del flag_list[index]
    set_or_drop(document, "flags", flag_list)
    for case in as_list(document.get("tests")):
        expect = as_dict(as_dict(case).get("expect"))
        if isinstance(expect.get("flags"), list):
            expect["flags"] = [f for f in expect["flags"] if f != flag_id]
    return Outcome(document, "scores", str(_l("Deleted the flag %(label)s.", label=label)))


# -- test cases ---------------------------------------------------------------------------------


@operation("add-test-case")
def add_test_case(document: Json, *, name: str, answers: Json, sex: str | None = None,
                  age: int | None = None) -> Outcome:
    """Append the "try it" sample as a test case expecting what the form computes now."""
    from .tryout import TryoutError, expectations

    name = clean_text(name, "case_name", required=True)
    try:
        expect = expectations(document, answers, sex, age)
    except TryoutError as error:
        raise OperationError(error.message) from None
    case: Json = {"name": name, "answers": answers}
    subject = {k: v for k, v in (("sex", sex), ("age", age)) if v is not None}
    if subject:
        case["subject"] = subject
    case["expect"] = expect
    tests = document.setdefault("tests", [])
    if len(tests) >= 200:
        raise OperationError(_l("A form has at most 200 test cases."))
    tests.append(case)
    return Outcome(document, "scores", str(_l("Saved the test case %(name)s.", name=name)))


@operation("delete-test-case")
def delete_test_case(document: Json, *, index: int) -> Outcome:
    tests = as_list(document.get("tests"))
    if not 0 <= index < len(tests):
        raise OperationError(_l("The test case no longer exists."))
    name = str(as_dict(tests[index]).get("name") or "")
    del tests[index]
    set_or_drop(document, "tests", tests)
    return Outcome(document, "scores", str(_l("Deleted the test case %(name)s.", name=name)))
