"""Building blocks of the answer validator: formats, date limits, safe patterns, no remote ``$ref``.

The ``schema`` of a definition is a plain JSON Schema 2020-12 of the answer document, written by
form designers, and the answers are written by anyone on the internet. Out of the box
``jsonschema`` is unsafe for that pairing and too weak for health-care forms:

* ``pattern`` and ``patternProperties`` run on Python's backtracking ``re``, so a designer's
  ``^(a+)+$`` lets a citizen's long answer pin a worker (ReDoS, ASVS 1.3.12). Here they run on
  Google RE2, which is linear in the input; patterns RE2 cannot compile are reported by
  :func:`check_pattern` for the linter, and fail validation (closed) instead of crashing.
* ``format`` is not asserted unless a format checker is passed; :data:`FORMAT_CHECKER` is passed
  always, and knows Swedish ``personnummer``, ``phone`` and ``postcode``.
* Without an explicit registry jsonschema still fetches remote ``$ref`` over the network (SSRF,
  ASVS 1.3.6). :data:`NO_REMOTE_REGISTRY` refuses every retrieval.
* Forms need date limits relative to the day the form is filled ("at least 18 years old", "not in
  the future"). ``formatMinimum`` / ``formatMaximum`` (names from ajv-formats, so the browser
  twin can use the same keywords) take an ISO date or ``today`` with an ISO 8601 period offset.
  "Today" is the date in Europe/Stockholm, read from an injectable clock.
"""

from __future__ import annotations

import calendar
import functools
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import re2
from jsonschema import Draft202012Validator, FormatChecker, ValidationError, validators
from jsonschema.protocols import Validator
from referencing import Registry, Resource

from formular.definitions.personnummer import IdentityNumber, InvalidIdentityNumber

__all__ = [
    "FORMAT_CHECKER",
    "NO_REMOTE_REGISTRY",
    "PATTERN_CACHE_SIZE",
    "AnswerValidator",
    "Clock",
    "DateLimit",
    "RemoteReferenceRefused",
    "build_answer_validator",
    "check_date_limit",
    "check_pattern",
    "make_answer_validator_class",
    "make_format_checker",
    "parse_date_limit",
    "today_in_stockholm",
]

#: Returns "today"; injected so tests (and replays) can fix the date.
Clock = Callable[[], date]

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def today_in_stockholm() -> date:
    """Today's date in Sweden. The server clock may be UTC, which is yesterday until 01:00/02:00.

    Tests may monkeypatch this module attribute: the default clock looks it up on every call.
    """
    return datetime.now(STOCKHOLM).date()


def _default_clock() -> date:
    # Indirection so that monkeypatching ``today_in_stockholm`` reaches validators built earlier.
    return today_in_stockholm()


# --------------------------------------------------------------------------------------------
# Formats
# --------------------------------------------------------------------------------------------

# [0-9], not \d: Python's \d matches every Unicode digit. fullmatch, not $: $ allows a final "\n".
_PERSONNUMMER_IN_ANSWER = re.compile(r"[0-9]{8}-?[0-9]{4}")
# One optional separator between digits: each character has one reading, so no backtracking.
_PHONE = re.compile(r"\+?[0-9](?:[ -]?[0-9])*")
_PHONE_MAX_LENGTH = 30
# Swedish postcodes run from 100 00 to 984 99; none starts with 0.
_POSTCODE = re.compile(r"[1-9][0-9]{2} ?[0-9]{2}")


def make_format_checker(today: Clock = _default_clock) -> FormatChecker:
    """The 2020-12 format checkers (``date``, ``date-time``, ``email``, ...) plus Swedish ones.

    ``today`` is used by ``personnummer`` to reject birth dates in the future.
    """
    checker = FormatChecker(formats=())
    checker.checkers.update(Draft202012Validator.FORMAT_CHECKER.checkers)

    def is_personnummer(instance: object) -> bool:
        """A personnummer or samordningsnummer as ``YYYYMMDDNNNN`` or ``YYYYMMDD-NNNN``.

        The 10-digit forms are refused in answers: their century is a guess. The
        :class:`InvalidIdentityNumber` raised becomes the error's ``cause`` (its ``code`` says
        format, checksum or date), so the renderer can say which.
        """
        if not isinstance(instance, str):
            return True
        if _PERSONNUMMER_IN_ANSWER.fullmatch(instance) is None:
            raise InvalidIdentityNumber("format")
        IdentityNumber.parse(instance, today=today())
        return True

    checker.checks("personnummer", raises=InvalidIdentityNumber)(is_personnummer)
    checker.checks("phone")(_is_phone)
    checker.checks("postcode")(_is_postcode)
    return checker


def _is_phone(instance: object) -> bool:
    """Swedish or international: optional leading ``+``, digits, single spaces or hyphens
    between them, 7 to 15 digits (E.164 allows at most 15)."""
    if not isinstance(instance, str):
        return True
    if len(instance) > _PHONE_MAX_LENGTH or _PHONE.fullmatch(instance) is None:
        return False
    return 7 <= sum(char.isdigit() for char in instance) <= 15


def _is_postcode(instance: object) -> bool:
    """Swedish postcode, ``NNN NN`` or ``NNNNN``."""
    if not isinstance(instance, str):
        return True
    return _POSTCODE.fullmatch(instance) is not None


#: Format checker for answers; "today" is :func:`today_in_stockholm`.
FORMAT_CHECKER = make_format_checker()


# --------------------------------------------------------------------------------------------
# Date limits: formatMinimum / formatMaximum
# --------------------------------------------------------------------------------------------

_FULL_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# "today", or "today" +/- an ISO 8601 period of whole years, months, weeks and days (in that
# order, at least one). The lookahead makes "today-P" invalid rather than "today".
_RELATIVE = re.compile(
    r"today(?:(?P<sign>[+-])P(?=[0-9])"
    r"(?:(?P<years>[0-9]{1,4})Y)?(?:(?P<months>[0-9]{1,4})M)?"
    r"(?:(?P<weeks>[0-9]{1,4})W)?(?:(?P<days>[0-9]{1,5})D)?)?"
)


def _parse_full_date(text: str) -> date | None:
    """An RFC 3339 ``full-date``, or None; anything else is left to the ``format`` keyword."""
    if _FULL_DATE.fullmatch(text) is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


@dataclass(frozen=True)
class DateLimit:
    """A parsed ``formatMinimum``/``formatMaximum`` value: a fixed date, or today plus a period.

    The period is applied as years and months first (a day past the month's end is clamped:
    ``2024-02-29`` minus one year is ``2023-02-28``), then weeks and days. Clamping makes
    ``today-P18Y`` agree with :meth:`IdentityNumber.age_on`: someone born on 29 February turns
    18 on 1 March in a common year. Results beyond the calendar are clamped to its ends.
    """

    fixed: date | None = None
    #: +1 or -1.
    sign: int = 1
    years: int = 0
    months: int = 0
    weeks: int = 0
    days: int = 0

    @property
    def is_relative(self) -> bool:
        return self.fixed is None

    def resolve(self, today: date) -> date:
        """The limit as a date, for the given today."""
        if self.fixed is not None:
            return self.fixed
        offset = self.sign * (self.years * 12 + self.months)
        month_index = today.year * 12 + today.month - 1 + offset
        year, month0 = divmod(month_index, 12)
        if year < date.min.year:
            return date.min
        if year > date.max.year:
            return date.max
        day = min(today.day, calendar.monthrange(year, month0 + 1)[1])
        shifted = date(year, month0 + 1, day)
        try:
            return shifted + self.sign * timedelta(days=self.weeks * 7 + self.days)
        except OverflowError:
            return date.min if self.sign < 0 else date.max


def parse_date_limit(value: object) -> DateLimit:
    """Parse ``"2020-01-01"``, ``"today"``, ``"today-P18Y"``, ``"today+P30D"``, ``"today-P1Y6M"``.

    Raises ``ValueError`` with an English reason.
    """
    if not isinstance(value, str):
        raise ValueError("a date limit must be a string")
    if (match := _RELATIVE.fullmatch(value)) is not None:
        if match["sign"] is None:
            return DateLimit()
        return DateLimit(
            sign=-1 if match["sign"] == "-" else 1,
            years=int(match["years"] or 0),
            months=int(match["months"] or 0),
            weeks=int(match["weeks"] or 0),
            days=int(match["days"] or 0),
        )
    fixed = _parse_full_date(value)
    if fixed is None:
        raise ValueError(
            "a date limit is an ISO date (2020-01-01) or today with an optional ISO 8601 "
            "period of years, months, weeks and days (today, today-P18Y, today+P30D)"
        )
    return DateLimit(fixed=fixed)


def check_date_limit(value: object) -> str | None:
    """For the linter: why ``value`` is not a valid date limit, or None if it is."""
    try:
        parse_date_limit(value)
    except ValueError as error:
        return str(error)
    return None


KeywordFunction = Callable[[Any, Any, Any, Mapping[str, Any]], Iterator[ValidationError]]


def _date_limit_keyword(today: Clock, *, minimum: bool) -> KeywordFunction:
    """``formatMinimum`` (inclusive lower limit) or ``formatMaximum`` (inclusive upper limit).

    Only strings that are valid dates are compared; non-dates are the ``format`` keyword's
    business, so an answer gets one error, not two. Messages leave the answer out: answers are
    personal data and errors end up in logs.
    """

    def keyword(
        validator: Any, limit: Any, instance: Any, schema: Mapping[str, Any]
    ) -> Iterator[ValidationError]:
        if not validator.is_type(instance, "string"):
            return
        day = _parse_full_date(instance)
        if day is None:
            return
        try:
            parsed = parse_date_limit(limit)
        except ValueError as error:
            # The linter rejects this; at run time fail closed rather than let the answer through.
            yield ValidationError(f"{limit!r} is not a valid date limit: {error}")
            return
        bound = parsed.resolve(today())
        note = f" ({limit})" if parsed.is_relative else ""
        if minimum and day < bound:
            yield ValidationError(f"the date must be on or after {bound.isoformat()}{note}")
        elif not minimum and day > bound:
            yield ValidationError(f"the date must be on or before {bound.isoformat()}{note}")

    keyword.__name__ = "formatMinimum" if minimum else "formatMaximum"
    return keyword


# --------------------------------------------------------------------------------------------
# Patterns on RE2
# --------------------------------------------------------------------------------------------

_RE2_OPTIONS = re2.Options()
# Compile errors are reported through check_pattern / validation errors, not absl's stderr log.
_RE2_OPTIONS.log_errors = False
#: Distinct patterns kept compiled. RE2 caps each program's memory (8 MiB by default).
PATTERN_CACHE_SIZE = 512


@functools.lru_cache(maxsize=PATTERN_CACHE_SIZE)
def _compile(pattern: str) -> Any:
    """Compile with RE2 (cached; failures are not cached and raise ``re2.error``)."""
    return re2.compile(pattern, options=_RE2_OPTIONS)


def _reason(error: Exception) -> str:
    message = error.args[0] if error.args else ""
    if isinstance(message, bytes):
        message = message.decode("utf-8", "replace")
    return str(message) or "invalid pattern"


def check_pattern(pattern: str) -> str | None:
    """For the linter: why RE2 cannot use ``pattern``, or None if it can.

    RE2 has no backreferences (``\\1``) or lookaround (``(?=``, ``(?!``, ``(?<=``), which is what
    lets it guarantee linear time; such patterns must be rewritten.
    """
    if not isinstance(pattern, str):
        return "a pattern must be a string"
    try:
        _compile(pattern)
    except re2.error as error:
        return f"RE2 cannot compile this pattern: {_reason(error)}"
    return None


def _search(pattern: str, text: str) -> bool:
    """JSON Schema patterns are unanchored: a match anywhere in the string counts."""
    return _compile(pattern).search(text) is not None


def _pattern(
    validator: Any, pattern: Any, instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    """``pattern`` on RE2. The message names the pattern, not the answer (personal data)."""
    if not validator.is_type(instance, "string"):
        return
    reason = check_pattern(pattern)
    if reason is not None:
        yield ValidationError(f"the pattern {pattern!r} cannot be checked: {reason}")
    elif not _search(pattern, instance):
        yield ValidationError(f"the value does not match the pattern {pattern!r}")


def _pattern_properties(
    validator: Any, pattern_properties: Any, instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    """``patternProperties`` on RE2: property names come from the client, so they get the same
    protection as values."""
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in pattern_properties.items():
        reason = check_pattern(pattern)
        if reason is not None:
            yield ValidationError(f"the pattern {pattern!r} cannot be checked: {reason}")
            continue
        for name, value in instance.items():
            if _search(pattern, name):
                yield from validator.descend(value, subschema, path=name, schema_path=pattern)


# --------------------------------------------------------------------------------------------
# References and the validator
# --------------------------------------------------------------------------------------------


class RemoteReferenceRefused(LookupError):
    """A ``$ref`` pointed outside the schema. referencing re-raises it as ``Unretrievable``."""


def _refuse_retrieval(uri: str) -> Resource[Any]:
    """Answer schemas are self-contained: no ``$ref`` is ever fetched from the network or disk."""
    raise RemoteReferenceRefused(f"$ref {uri!r} is outside the schema; nothing is fetched")


#: A registry whose ``retrieve`` always raises. jsonschema adds the bundled meta-schemas itself.
NO_REMOTE_REGISTRY: Registry[Any] = Registry(retrieve=_refuse_retrieval)  # type: ignore[call-arg]


def make_answer_validator_class(today: Clock = _default_clock) -> type[Validator]:
    """Draft 2020-12 with RE2 patterns, ``formatMinimum``/``formatMaximum`` and our formats.

    Its ``FORMAT_CHECKER`` uses the same clock. Instances still need ``format_checker=`` to
    assert formats; :func:`build_answer_validator` passes it.
    """
    return validators.extend(  # type: ignore[no-any-return]
        Draft202012Validator,
        {
            "pattern": _pattern,
            "patternProperties": _pattern_properties,
            "formatMinimum": _date_limit_keyword(today, minimum=True),
            "formatMaximum": _date_limit_keyword(today, minimum=False),
        },
        format_checker=FORMAT_CHECKER if today is _default_clock else make_format_checker(today),
    )


#: The answer validator class, with "today" from :func:`today_in_stockholm`.
AnswerValidator = make_answer_validator_class()


def build_answer_validator(
    schema: Mapping[str, Any],
    registry: Registry[Any] = NO_REMOTE_REGISTRY,
    *,
    today: Clock | None = None,
) -> Validator:
    """A validator for one answer schema: formats asserted, no remote ``$ref``, RE2 patterns.

    ``today`` fixes the clock (tests, re-validating an old submission as of its date).
    """
    cls = AnswerValidator if today is None else make_answer_validator_class(today)
    return cls(schema, registry=registry, format_checker=cls.FORMAT_CHECKER)
