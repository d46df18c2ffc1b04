"""Scores, bands and flags of a definition: compiled once per version, evaluated per submission.

:func:`compile_scores` turns the ``scores`` and ``flags`` of a (meta-schema valid) definition into
a :class:`ScorePlan`: weight tables, item lists and band sets are worked out once, so that
:meth:`ScorePlan.evaluate` never looks at the raw definition. :func:`lint_scores` reports what
would make a score wrong or a band unreachable, as :class:`~.problems.Problem` values.

Answer documents
    A choice answer is the option's ``value``; a multi-choice answer is a list of values; a
    yes-no answer is a boolean; each matrix row is a top-level answer property named by the
    row's ``name``; integer, decimal and scale answers are numbers; a repeating group is an
    array of objects (and cannot be scored). A missing or ``null`` answer is *missing*; the
    caller drops hidden items before scoring, so a hidden item is missing too.

Weight of an answer value, for one score item
    1. the score item's own ``weights`` map, keyed by the value as a string (``"0"``,
       ``"daily"``, ``"true"``; a whole float is written like an integer);
    2. else the option's ``weight`` (options from :func:`.tree.resolve_options`; a matrix row
       uses its matrix item's options);
    3. else the value itself if it is a number; booleans weigh 1 (true) and 0 (false).

    The lookup is per value: a ``weights`` map may override some values and leave the others
    to the option weights. A value with no weight at all is a lint error (``missing-weight``);
    should one still arrive at run time it counts as missing. A multi-choice item weighs the
    sum of its chosen values' weights (an empty list is answered and weighs 0).

``reverse: true``
    The weight becomes ``max + min - weight``, with max and min over the item's possible
    weights: the weights of its options (or booleans, or schema ``enum``), or the answer
    schema's ``minimum``/``maximum`` for a numeric item.

``method``
    ``sum`` of the weights; ``mean`` of the answered items' weights; ``count``: the number of
    items whose answer is in ``count_values`` (a multi-choice item counts each chosen value
    that is in ``count_values``; weights and ``reverse`` play no part).

``missing`` (default ``{"policy": "no-total", "max_missing": 0}``)
    ``no-total``: the value is ``None`` when more than ``max_missing`` items are missing; with
    fewer, a sum (or count) is over the answered items. ``prorate``: with at most
    ``max_missing`` items missing a sum (or count) is the mean of the answered items times the
    number of items; more missing gives ``None``; a mean is the mean of the answered items.
    ``zero``: a missing item weighs 0 (a mean then divides by the number of all items);
    ``max_missing`` is only a limit here when it is given explicitly. Whatever the policy, a
    score with every item missing is ``None``.

Rounding
    The value is rounded half away from zero to ``decimals`` places (default 0 for ``sum``
    and ``count``, 1 for ``mean``); with 0 decimals the value is an ``int``.

Bands
    Of a score's ``band_sets`` the first set whose ``when`` holds applies; a set without
    ``when`` is the fallback, used when no conditional set holds (with no fallback and no
    holding set the score has no band). Within the set, the first band with
    ``min <= value <= max`` is the band. A ``None`` value has no band.

Flags
    A flag is raised when its ``when`` holds, whatever the totals.

Conditions (band-set and flag ``when``) are evaluated with :func:`.rules.holds` against the
answers merged with ``{"score": {id: value}, "subject": {"sex": ..., "age": ...}}``: every score
value is computed before any band or flag, so a band set may also look at another score. A
condition that cannot be evaluated does not hold (:func:`.rules.holds`), which is why the
linter checks every flag and band-set condition against the rule language.
``citizen_visible`` (default false) is carried into the results; what a citizen may see is
decided by the caller.

Lint (:func:`lint_scores`)
    ``duplicate-id`` (score ids, flag ids, band ids within one set, an item twice in a score),
    ``unknown-field`` (a score item that is no top-level answer property), ``missing-weight``
    (a possible value without a weight, or an item whose values cannot be weighed),
    ``unused-weight`` (a ``weights`` key that is no possible value), ``missing-range`` (a
    reversed numeric item without schema bounds), ``missing-count-values``, ``unknown-var`` (a
    ``when`` naming something that is not an answer property, ``score.<id>``, ``subject.sex``
    or ``subject.age``) plus the rule-language problems of :func:`.rules.check_logic`
    (operators, arity, size) in flag and band-set conditions, ``band-fallback`` (two sets
    without ``when``), ``band-order`` (a band
    with min > max, or bands not sorted ascending), ``band-overlap``, ``band-gap`` and
    ``band-range``. The possible range of each score is worked out from the item weights, the
    method and the missing policy; each band set must cover it exactly, in steps of
    ``10**-decimals`` (with 0 decimals the next band's min is the previous max + 1).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import Any

from . import rules
from .problems import Problem, pointer_join
from .tree import Json, answer_names, iter_items, resolve_options

#: Integer items with at most this many possible values have their weights enumerated.
_ENUMERATE_LIMIT = 10_000
_EPS = 1e-9


# --------------------------------------------------------------------------------------------
# Public results


@dataclass(frozen=True)
class Band:
    """One band of a score: a labelled, inclusive range of values."""

    id: str | None
    label: str
    severity: str | None
    min: float
    max: float


@dataclass(frozen=True)
class ScoreResult:
    """The value of one score for one answer document."""

    id: str
    label: str
    #: ``None`` when too many items are missing (see the module docstring).
    value: int | float | None
    band: Band | None
    #: Names of the score's items that had no (weighable) answer.
    missing: tuple[str, ...]
    citizen_visible: bool


@dataclass(frozen=True)
class RaisedFlag:
    """A flag whose condition held."""

    id: str
    label: str
    severity: str | None
    citizen_visible: bool


@dataclass(frozen=True)
class Scoring:
    """Every score (in definition order) and every raised flag of one answer document."""

    scores: dict[str, ScoreResult]
    flags: tuple[RaisedFlag, ...]


@dataclass(frozen=True)
class Subject:
    """Who the answers are about, for sex- and age-dependent band sets."""

    sex: str | None = None
    age: int | None = None


# --------------------------------------------------------------------------------------------
# Compiled plan


@dataclass(frozen=True)
class _Item:
    name: str
    #: Explicit weights (score item ``weights``, then option weights) by value key.
    table: Mapping[str, float]
    multi: bool
    #: max + min of the possible weights when the item is reversed, else None.
    reverse_sum: float | None

    def weigh(self, raw: Any) -> float | None:
        """The item's weight for an answer, None when missing or unweighable."""
        if raw is None:
            return None
        if self.multi and isinstance(raw, list):
            total = 0.0
            for value in raw:
                weight = self._one(value)
                if weight is None:
                    return None
                total += weight
            return total
        return self._one(raw)

    def _one(self, value: Any) -> float | None:
        weight = _natural_weight(value, self.table)
        if weight is not None and self.reverse_sum is not None:
            weight = self.reverse_sum - weight
        return weight

    def count(self, raw: Any, keys: frozenset[str]) -> float | None:
        """How many of the answer's values are in count_values, None when missing."""
        if raw is None:
            return None
        values = raw if isinstance(raw, list) else [raw]
        return float(sum(1 for value in values if _key(value) in keys))


@dataclass(frozen=True)
class _BandSet:
    when: Any
    bands: tuple[Band, ...]


@dataclass(frozen=True)
class _Score:
    id: str
    label: str
    method: str
    items: tuple[_Item, ...]
    count_keys: frozenset[str]
    policy: str
    #: None: no limit (only for the ``zero`` policy without an explicit max_missing).
    max_missing: int | None
    decimals: int
    conditional_sets: tuple[_BandSet, ...]
    fallback: tuple[Band, ...] | None
    citizen_visible: bool

    def value(self, answers: Mapping[str, Any]) -> tuple[int | float | None, tuple[str, ...]]:
        total = 0.0
        answered = 0
        missing: list[str] = []
        counting = self.method == "count"
        for item in self.items:
            raw = answers.get(item.name)
            weight = item.count(raw, self.count_keys) if counting else item.weigh(raw)
            if weight is None:
                missing.append(item.name)
            else:
                total += weight
                answered += 1
        names = tuple(missing)
        n = len(self.items)
        if answered == 0 or (self.max_missing is not None and len(missing) > self.max_missing):
            return None, names
        if self.method == "mean":
            result = total / (n if self.policy == "zero" else answered)
        elif self.policy == "prorate" and missing:
            result = total * n / answered
        else:
            result = total
        return _round(result, self.decimals), names

    def band(self, value: int | float, data: dict[str, Any]) -> Band | None:
        bands = self.fallback
        for band_set in self.conditional_sets:
            if rules.holds(band_set.when, data):
                bands = band_set.bands
                break
        for band in bands or ():
            if band.min <= value <= band.max:
                return band
        return None


@dataclass(frozen=True)
class _Flag:
    id: str
    label: str
    severity: str | None
    citizen_visible: bool
    when: Any


class ScorePlan:
    """Scores and flags of one definition version, ready to evaluate answer documents."""

    def __init__(self, scores: Sequence[_Score], flags: Sequence[_Flag]) -> None:
        self._scores = tuple(scores)
        self._flags = tuple(flags)

    @property
    def score_ids(self) -> tuple[str, ...]:
        return tuple(score.id for score in self._scores)

    @property
    def flag_ids(self) -> tuple[str, ...]:
        return tuple(flag.id for flag in self._flags)

    def evaluate(self, answers: Mapping[str, Any], subject: Subject | None = None) -> Scoring:
        """Score an answer document (hidden items already dropped)."""
        subject = subject or Subject()
        computed = [(score, *score.value(answers)) for score in self._scores]
        data: dict[str, Any] = dict(answers)
        data["score"] = {score.id: value for score, value, _ in computed}
        data["subject"] = {"sex": subject.sex, "age": subject.age}
        results = {
            score.id: ScoreResult(
                id=score.id,
                label=score.label,
                value=value,
                band=None if value is None else score.band(value, data),
                missing=missing,
                citizen_visible=score.citizen_visible,
            )
            for score, value, missing in computed
        }
        raised = tuple(
            RaisedFlag(flag.id, flag.label, flag.severity, flag.citizen_visible)
            for flag in self._flags
            if rules.holds(flag.when, data)
        )
        return Scoring(results, raised)


def compile_scores(definition: Json) -> ScorePlan:
    """Build the score plan of a meta-schema valid definition.

    Never raises for a definition that lints with problems: unknown fields simply never have
    an answer, unweighable values count as missing.
    """
    fields = _fields(definition)
    scores = [_compile_score(score, fields) for score in definition.get("scores", [])]
    flags = [
        _Flag(
            id=flag["id"],
            label=flag["label"],
            severity=flag.get("severity"),
            citizen_visible=bool(flag.get("citizen_visible", False)),
            when=rules.prepare(flag["when"]),
        )
        for flag in definition.get("flags", [])
    ]
    return ScorePlan(scores, flags)


def _compile_score(score: Json, fields: Mapping[str, _Field]) -> _Score:
    method = score["method"]
    items = []
    for entry in score["items"]:
        name, weights, reverse = _entry(entry)
        field = fields.get(name)
        table = dict(field.option_weights) if field else {}
        table.update({str(k): float(v) for k, v in weights.items()})
        reverse_sum = None
        if reverse and field is not None:
            profile = _profile(field, weights)
            if profile.low is not None and profile.high is not None:
                reverse_sum = profile.low + profile.high
        items.append(_Item(name, table, bool(field and field.multi), reverse_sum))
    policy, max_missing = _missing_policy(score)
    conditional: list[_BandSet] = []
    fallback: tuple[Band, ...] | None = None
    for band_set in score.get("band_sets", []):
        bands = tuple(_band(band) for band in band_set["bands"])
        if "when" in band_set:
            conditional.append(_BandSet(rules.prepare(band_set["when"]), bands))
        elif fallback is None:
            fallback = bands
    return _Score(
        id=score["id"],
        label=score["label"],
        method=method,
        items=tuple(items),
        count_keys=frozenset(
            k for k in (_key(v) for v in score.get("count_values", [])) if k is not None
        ),
        policy=policy,
        max_missing=max_missing,
        decimals=_decimals(score),
        conditional_sets=tuple(conditional),
        fallback=fallback,
        citizen_visible=bool(score.get("citizen_visible", False)),
    )


def _band(band: Json) -> Band:
    return Band(
        id=band.get("id"),
        label=band["label"],
        severity=band.get("severity"),
        min=band["min"],
        max=band["max"],
    )


# --------------------------------------------------------------------------------------------
# Values, keys, rounding


def _key(value: Any) -> str | None:
    """The string a value is looked up by in weight tables and count_values."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, str):
        return value
    return None


def _natural_weight(value: Any, table: Mapping[str, float]) -> float | None:
    """Weight of a single value from a table, else the value itself (booleans 1/0)."""
    key = _key(value)
    if key is None:
        return None
    weight = table.get(key)
    if weight is not None:
        return weight
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    return None


def _round(value: float, decimals: int) -> int | float:
    """Round half away from zero; float noise below 1e-9 is removed first."""
    exact = Decimal(repr(float(value))).quantize(Decimal("1e-9"), rounding=ROUND_HALF_EVEN)
    rounded = exact.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    if decimals == 0:
        return int(rounded)
    return float(rounded)


def _decimals(score: Json) -> int:
    return int(score.get("decimals", 1 if score["method"] == "mean" else 0))


def _missing_policy(score: Json) -> tuple[str, int | None]:
    missing = score.get("missing", {})
    policy = str(missing.get("policy", "no-total"))
    if policy == "zero":
        limit = missing.get("max_missing")
        return policy, None if limit is None else int(limit)
    return policy, int(missing.get("max_missing", 0))


def _entry(entry: Any) -> tuple[str, Mapping[str, float], bool]:
    """A score item as (name, weights map, reverse)."""
    if isinstance(entry, str):
        return entry, {}, False
    return str(entry["name"]), entry.get("weights", {}), bool(entry.get("reverse", False))


# --------------------------------------------------------------------------------------------
# What each answer property can hold


@dataclass(frozen=True)
class _Field:
    name: str
    #: Every possible value when they can be listed (options, booleans, schema enum).
    values: tuple[Any, ...] | None
    option_weights: Mapping[str, float]
    multi: bool
    numeric: bool
    integer: bool
    low: float | None
    high: float | None


def _fields(definition: Json) -> dict[str, _Field]:
    """Every top-level answer property, from the layout and then the answer schema."""
    props: Json = definition["schema"].get("properties", {})
    fields: dict[str, _Field] = {}
    for placed in iter_items(definition):
        item = placed.item
        if placed.group is not None or item["type"] == "info":
            continue
        kind = item["type"]
        if kind in ("choice", "multi-choice", "matrix"):
            options = resolve_options(definition, item)
            values = tuple(option["value"] for option in options)
            weights = {
                key: float(option["weight"])
                for option in options
                if "weight" in option and (key := _key(option["value"])) is not None
            }
            for name in answer_names(item):
                fields[name] = _Field(name, values, weights, kind == "multi-choice",
                                      False, False, None, None)
        elif kind == "yes-no":
            fields[item["name"]] = _Field(item["name"], (True, False), {}, False,
                                          False, False, None, None)
        elif kind in ("integer", "decimal", "scale", "calculated"):
            prop = props.get(item["name"], {})
            forced = kind in ("integer", "scale") and "number" not in _types(prop)
            fields[item["name"]] = _schema_field(item["name"], prop, numeric=True,
                                                 integer=True if forced else None)
        else:
            fields[item["name"]] = _schema_field(item["name"], props.get(item["name"], {}))
    for name, prop in props.items():
        if name not in fields and isinstance(prop, dict):
            fields[name] = _schema_field(name, prop)
    return fields


def _types(prop: Json) -> set[str]:
    kind = prop.get("type")
    if isinstance(kind, str):
        return {kind}
    if isinstance(kind, list):
        return {str(k) for k in kind}
    return set()


def _schema_field(
    name: str, prop: Json, numeric: bool = False, integer: bool | None = None
) -> _Field:
    types = _types(prop)
    if isinstance(prop.get("enum"), list):
        values = tuple(v for v in prop["enum"] if v is not None)
        return _Field(name, values, {}, False, False, False, None, None)
    if "boolean" in types:
        return _Field(name, (True, False), {}, False, False, False, None, None)
    if numeric or types & {"integer", "number"}:
        is_integer = integer if integer is not None else types == {"integer"} or (
            "integer" in types and "number" not in types
        )
        low = _bound(prop, "minimum", "exclusiveMinimum", 1 if is_integer else 0)
        high = _bound(prop, "maximum", "exclusiveMaximum", -1 if is_integer else 0)
        return _Field(name, None, {}, False, True, is_integer, low, high)
    return _Field(name, None, {}, False, False, False, None, None)


def _bound(prop: Json, inclusive: str, exclusive: str, step: int) -> float | None:
    if isinstance(prop.get(inclusive), int | float):
        return float(prop[inclusive])
    if isinstance(prop.get(exclusive), int | float):
        return float(prop[exclusive]) + step
    return None


@dataclass(frozen=True)
class _Profile:
    """The weights an item can take for one score item entry."""

    #: Weights of the listed possible values (None when the values cannot be listed).
    weights: tuple[float, ...] | None
    low: float | None
    high: float | None
    #: Possible values that have no weight.
    unweighable: tuple[Any, ...]
    #: Keys of the score item's weights map that are no possible value.
    unused: tuple[str, ...]
    #: The item's values can be neither listed nor taken as numbers.
    opaque: bool = False


def _profile(field: _Field, weights: Mapping[str, float]) -> _Profile:
    """Possible weights of a field before reversal."""
    table = dict(field.option_weights)
    table.update({str(k): float(v) for k, v in weights.items()})
    values: Sequence[Any] | None = field.values
    if (
        values is None
        and field.integer
        and field.low is not None
        and field.high is not None
        and field.high - field.low <= _ENUMERATE_LIMIT
    ):
        values = range(math.ceil(field.low), math.floor(field.high) + 1)
    if values is not None:
        listed: list[float] = []
        unweighable: list[Any] = []
        for value in values:
            weight = _natural_weight(value, table)
            if weight is None:
                unweighable.append(value)
            else:
                listed.append(weight)
        keys = {_key(value) for value in values}
        unused = tuple(k for k in weights if k not in keys)
        return _Profile(
            tuple(listed), min(listed, default=None), max(listed, default=None),
            tuple(unweighable), unused,
        )
    if field.numeric:
        extra = [float(v) for v in weights.values()]
        low = None if field.low is None else min([field.low, *extra])
        high = None if field.high is None else max([field.high, *extra])
        return _Profile(None, low, high, (), ())
    return _Profile(None, None, None, (), (), opaque=True)


def _item_range(
    field: _Field, profile: _Profile, reverse: bool
) -> tuple[float, float] | None:
    """Range of the weight one item contributes (after reversal)."""
    if profile.low is None or profile.high is None:
        return None
    weights = profile.weights
    if reverse:
        total = profile.low + profile.high
        weights = None if weights is None else tuple(total - w for w in weights)
    if field.multi and weights is not None:
        return sum(w for w in weights if w < 0), sum(w for w in weights if w > 0)
    return profile.low, profile.high


def _count_range(field: _Field, keys: frozenset[str]) -> tuple[float, float]:
    if field.values is None:
        return 0.0, 1.0
    counted = [_key(value) in keys for value in field.values]
    if field.multi:
        return 0.0, float(sum(counted))
    return float(bool(counted) and all(counted)), float(any(counted))


def _extreme_sum(values: Sequence[float], least: int, lowest: bool) -> float:
    """Lowest (or highest) sum over subsets of at least ``least`` of the values."""
    ordered = sorted(values, reverse=not lowest)
    chosen = ordered[:least]
    rest = ordered[least:]
    better = [v for v in rest if (v < 0 if lowest else v > 0)]
    return sum(chosen) + sum(better)


def _extreme_mean(values: Sequence[float], least: int, lowest: bool) -> float:
    """Lowest (or highest) mean over subsets of at least ``least`` of the values."""
    ordered = sorted(values, reverse=not lowest)
    return sum(ordered[:least]) / least


def _score_range(
    ranges: Sequence[tuple[float, float]], method: str, policy: str, max_missing: int | None
) -> tuple[float, float]:
    n = len(ranges)
    limit = n if max_missing is None else max_missing
    least = max(1, n - limit)
    lows = [r[0] for r in ranges]
    highs = [r[1] for r in ranges]
    if method == "mean":
        if policy == "zero":
            return (_extreme_sum(lows, least, True) / n, _extreme_sum(highs, least, False) / n)
        return _extreme_mean(lows, least, True), _extreme_mean(highs, least, False)
    if policy == "prorate":
        return (n * _extreme_mean(lows, least, True), n * _extreme_mean(highs, least, False))
    return _extreme_sum(lows, least, True), _extreme_sum(highs, least, False)


# --------------------------------------------------------------------------------------------
# Lint


def lint_scores(definition: Json) -> list[Problem]:
    """Every problem of the scores and flags of a meta-schema valid definition."""
    fields = _fields(definition)
    scores: list[Json] = definition.get("scores", [])
    score_ids = {score["id"] for score in scores}

    def known(var: str) -> bool:
        head, _, rest = var.partition(".")
        if head == "score":
            return rest in score_ids
        if head == "subject":
            return rest in ("sex", "age")
        return head in fields

    problems: list[Problem] = []
    seen: set[str] = set()
    for index, score in enumerate(scores):
        base = pointer_join("scores", index)
        if score["id"] in seen:
            problems.append(Problem(base + "/id", "duplicate-id",
                                    f"score id {score['id']!r} is used twice",
                                    {"id": score["id"]}))
        seen.add(score["id"])
        problems += _lint_score(score, base, fields, known)
    seen_flags: set[str] = set()
    for index, flag in enumerate(definition.get("flags", [])):
        base = pointer_join("flags", index)
        if flag["id"] in seen_flags:
            problems.append(Problem(base + "/id", "duplicate-id",
                                    f"flag id {flag['id']!r} is used twice", {"id": flag["id"]}))
        seen_flags.add(flag["id"])
        problems += _lint_vars(flag["when"], base + "/when", known)
    return problems


def _lint_score(
    score: Json, base: str, fields: Mapping[str, _Field], known: Callable[[str], bool]
) -> list[Problem]:
    problems: list[Problem] = []
    method = score["method"]
    count_keys = frozenset(
        k for k in (_key(v) for v in score.get("count_values", [])) if k is not None
    )
    if method == "count" and not count_keys:
        problems.append(Problem(base, "missing-count-values",
                                "a count score needs count_values: the answers it counts"))
    ranges: list[tuple[float, float]] = []
    bounded = True
    names: set[str] = set()
    for item_index, entry in enumerate(score["items"]):
        pointer = f"{base}/items/{item_index}"
        name, weights, reverse = _entry(entry)
        if name in names:
            problems.append(Problem(pointer, "duplicate-id",
                                    f"{name!r} is named twice in this score", {"name": name}))
        names.add(name)
        field = fields.get(name)
        if field is None:
            problems.append(Problem(pointer, "unknown-field",
                                    f"no answer property named {name!r}", {"name": name}))
            bounded = False
            continue
        if method == "count":
            ranges.append(_count_range(field, count_keys))
            continue
        item_problems, item_range = _lint_item(field, weights, reverse, pointer)
        problems += item_problems
        if item_range is None:
            bounded = False
        else:
            ranges.append(item_range)
    decimals = _decimals(score)
    span: tuple[float, float] | None = None
    if bounded and ranges:
        policy, max_missing = _missing_policy(score)
        low, high = _score_range(ranges, method, policy, max_missing)
        span = float(_round(low, decimals)), float(_round(high, decimals))
    fallbacks = 0
    for set_index, band_set in enumerate(score.get("band_sets", [])):
        set_base = f"{base}/band_sets/{set_index}"
        if "when" in band_set:
            problems += _lint_vars(band_set["when"], set_base + "/when", known)
        else:
            fallbacks += 1
            if fallbacks > 1:
                problems.append(Problem(set_base, "band-fallback",
                                        "only one band set may lack 'when'; this one is "
                                        "never used"))
        problems += _lint_bands(band_set["bands"], set_base, decimals, span)
    return problems


def _lint_item(
    field: _Field, weights: Mapping[str, float], reverse: bool, pointer: str
) -> tuple[list[Problem], tuple[float, float] | None]:
    problems: list[Problem] = []
    profile = _profile(field, weights)
    name = field.name
    if profile.opaque:
        problems.append(Problem(pointer, "missing-weight",
                                f"the answers to {name!r} cannot be weighed: give it options "
                                "with weights, a schema enum, or make it a number",
                                {"name": name}))
        return problems, None
    if profile.unweighable:
        shown = ", ".join(repr(v) for v in profile.unweighable[:10])
        problems.append(Problem(pointer, "missing-weight",
                                f"no weight for {name!r} = {shown}",
                                {"name": name, "values": list(profile.unweighable)}))
    if profile.unused:
        problems.append(Problem(pointer, "unused-weight",
                                f"weights for values {name!r} cannot have: "
                                + ", ".join(repr(k) for k in profile.unused),
                                {"name": name, "keys": list(profile.unused)}))
    if reverse and (profile.low is None or profile.high is None):
        problems.append(Problem(pointer, "missing-range",
                                f"{name!r} is reversed but has no minimum and maximum",
                                {"name": name}))
    return problems, _item_range(field, profile, reverse)


def _lint_bands(
    bands: Sequence[Json], set_base: str, decimals: int, span: tuple[float, float] | None
) -> list[Problem]:
    problems: list[Problem] = []
    step = 10.0 ** -decimals

    def at(index: int) -> str:
        return f"{set_base}/bands/{index}"

    for index, band in enumerate(bands):
        if band["min"] > band["max"]:
            problems.append(Problem(at(index), "band-order",
                                    f"band min {band['min']} is above its max {band['max']}",
                                    {"min": band["min"], "max": band["max"]}))
        if index and band["min"] < bands[index - 1]["min"]:
            problems.append(Problem(at(index), "band-order",
                                    "bands must be sorted by min, ascending"))
    seen_ids: set[str] = set()
    for index, band in enumerate(bands):
        band_id = band.get("id")
        if band_id is not None:
            if band_id in seen_ids:
                problems.append(Problem(at(index) + "/id", "duplicate-id",
                                        f"band id {band_id!r} is used twice in this set",
                                        {"id": band_id}))
            seen_ids.add(band_id)
    if not bands:
        return problems
    order = sorted(range(len(bands)), key=lambda i: (bands[i]["min"], bands[i]["max"]))
    reach_index = order[0]
    for index in order[1:]:
        band, reach = bands[index], bands[reach_index]["max"]
        if band["min"] <= reach + _EPS:
            problems.append(Problem(at(index), "band-overlap",
                                    f"band {band['min']}–{band['max']} overlaps the band "
                                    f"reaching {reach}",
                                    {"min": band["min"], "max": reach}))
        elif _grid_between(reach, band["min"], decimals):
            problems.append(Problem(at(index), "band-gap",
                                    f"no band for values between {reach} and {band['min']}",
                                    {"from": _round(reach + step, decimals),
                                     "to": _round(band["min"] - step, decimals)}))
        if band["max"] > bands[reach_index]["max"]:
            reach_index = index
    if span is None:
        return problems
    low, high = span
    for index, band in enumerate(bands):
        if band["min"] < low - _EPS or band["max"] > high + _EPS:
            problems.append(Problem(at(index), "band-range",
                                    f"band {band['min']}–{band['max']} reaches outside the "
                                    f"possible values {_show(low)}–{_show(high)}",
                                    {"min": low, "max": high}))
    first = order[0]
    if bands[first]["min"] > low + _EPS:
        problems.append(Problem(at(first), "band-gap",
                                f"no band for values from {_show(low)} up to "
                                f"{bands[first]['min']}",
                                {"from": _show(low),
                                 "to": _round(bands[first]["min"] - step, decimals)}))
    if bands[reach_index]["max"] < high - _EPS:
        problems.append(Problem(at(reach_index), "band-gap",
                                f"no band for values above {bands[reach_index]['max']} up to "
                                f"{_show(high)}",
                                {"from": _round(bands[reach_index]["max"] + step, decimals),
                                 "to": _show(high)}))
    return problems


def _show(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _grid_between(low: float, high: float, decimals: int) -> bool:
    """Whether a multiple of 10**-decimals lies strictly between low and high."""
    scale: int = 10**decimals
    first = math.floor(low * scale + _EPS) + 1
    return first < high * scale - _EPS


def _lint_vars(logic: Any, pointer: str, known: Callable[[str], bool]) -> list[Problem]:
    """Problems of a flag or band-set condition: outside the rule language (operators, arity,
    caps, as :func:`.rules.check_logic` reports them) or reading something unknown."""
    problems = rules.check_logic(logic, pointer, _any_var)
    unknown = sorted(var for var in rules.referenced_vars(logic) if var and not known(var))
    problems += [
        Problem(pointer, "unknown-var", f"the condition reads {var!r}, which is not an answer, "
                "a score.<id>, subject.sex or subject.age", {"var": var})
        for var in unknown
    ]
    return problems


def _any_var(_var: str) -> bool:
    return True


def scoring_to_json(scoring: Scoring) -> dict[str, Any]:
    """Scores, bands and flags in the shape stored beside a submission (JSON-safe)."""
    return {
        "scores": {
            score_id: {
                "label": result.label, "value": result.value,
                "band": None if result.band is None else {
                    "id": result.band.id, "label": result.band.label,
                    "severity": result.band.severity},
                "missing": list(result.missing), "citizen_visible": result.citizen_visible,
            }
            for score_id, result in scoring.scores.items()
        },
        "flags": [{"id": f.id, "label": f.label, "severity": f.severity,
                   "citizen_visible": f.citizen_visible} for f in scoring.flags],
    }
