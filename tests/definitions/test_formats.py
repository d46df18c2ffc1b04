"""The answer validator's building blocks: formats, date limits, RE2 patterns, no remote $ref.

Identity numbers are from Skatteverket's published test series (see test_personnummer.py);
phone numbers are from the ranges PTS holds back for fiction (070-174 06 xx, 08-465 004 xx).
"""

from __future__ import annotations

import urllib.request
from datetime import date
from typing import Any

import pytest
import referencing.exceptions
from jsonschema import Draft202012Validator, ValidationError

from formular.definitions import formats
from formular.definitions.formats import (
    FORMAT_CHECKER,
    NO_REMOTE_REGISTRY,
    PATTERN_CACHE_SIZE,
    AnswerValidator,
    DateLimit,
    RemoteReferenceRefused,
    build_answer_validator,
    check_date_limit,
    check_pattern,
    make_answer_validator_class,
    parse_date_limit,
    today_in_stockholm,
)
from formular.definitions.personnummer import InvalidIdentityNumber

TODAY = date(2025, 6, 15)


def answer_schema(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties}


def errors(schema: dict[str, Any], answer: Any, today: date = TODAY) -> list[ValidationError]:
    validator = build_answer_validator(schema, today=lambda: today)
    return sorted(validator.iter_errors(answer), key=lambda e: (list(e.path), e.validator))


def keywords(schema: dict[str, Any], answer: Any, today: date = TODAY) -> list[str]:
    return [e.validator for e in errors(schema, answer, today)]


# --- formats --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "201701012393",  # canonical
        "20170101-2393",  # display form
        "202201612393",  # samordningsnummer
        "20220161-2393",
        "189001019802",
    ],
)
def test_personnummer_format_accepts(value: str) -> None:
    assert FORMAT_CHECKER.conforms(value, "personnummer")


@pytest.mark.parametrize(
    "value",
    [
        "170101-2393",  # 10-digit forms are ambiguous about the century: not in answers
        "1701012393",
        "170101+2393",
        " 201701012393",  # no whitespace in answers either
        "201701012393\n",
        "201701012394",  # check digit
        "201702292393",  # 29 Feb 2017
        "",
    ],
)
def test_personnummer_format_rejects(value: str) -> None:
    assert not FORMAT_CHECKER.conforms(value, "personnummer")


def test_personnummer_error_carries_the_reason() -> None:
    [error] = errors(
        answer_schema(pnr={"type": "string", "format": "personnummer"}), {"pnr": "201701012394"}
    )
    assert error.validator == "format"
    assert error.validator_value == "personnummer"
    assert isinstance(error.cause, InvalidIdentityNumber)
    assert error.cause.code == "checksum"


def test_personnummer_in_the_future_uses_the_validator_clock() -> None:
    schema = answer_schema(pnr={"type": "string", "format": "personnummer"})
    born_2025_01_01 = "202501012393"  # Skatteverket test series: date + 239 + Luhn
    assert keywords(schema, {"pnr": born_2025_01_01}, today=date(2025, 1, 1)) == []
    assert keywords(schema, {"pnr": born_2025_01_01}, today=date(2024, 12, 31)) == ["format"]


def test_personnummer_format_follows_the_module_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(formats, "today_in_stockholm", lambda: date(2024, 12, 31))
    assert not FORMAT_CHECKER.conforms("202501012393", "personnummer")
    monkeypatch.setattr(formats, "today_in_stockholm", lambda: date(2025, 1, 1))
    assert FORMAT_CHECKER.conforms("202501012393", "personnummer")


@pytest.mark.parametrize(
    "value",
    [
        "070-174 06 05",
        "0701740605",
        "070-1740605",
        "08-465 004 00",
        "+46 70 174 06 05",
        "+46701740605",
        "+46-70-174 06 99",
        "1234567",  # 7 digits
        "+123456789012345",  # 15 digits
    ],
)
def test_phone_format_accepts(value: str) -> None:
    assert FORMAT_CHECKER.conforms(value, "phone")


@pytest.mark.parametrize(
    "value",
    [
        "123456",  # 6 digits
        "+1234567890123456",  # 16 digits
        "070--174 06 05",
        "070  174 06 05",
        "070 174 06 05 ",
        " 070 174 06 05",
        "0701740605\n",
        "-070 174 06 05",
        "++46701740605",
        "46+701740605",
        "(08) 465 004 00",
        "tel:0701740605",
        "070.174.06.05",
        "٠٧٠١٧٤٠٦٠٥",  # Arabic-Indic digits
        "",
        "+",
        "0" * 10 + " " * 1 + "0" * 30,
    ],
)
def test_phone_format_rejects(value: str) -> None:
    assert not FORMAT_CHECKER.conforms(value, "phone")


@pytest.mark.parametrize("value", ["114 55", "11455", "981 00", "252 25"])
def test_postcode_format_accepts(value: str) -> None:
    assert FORMAT_CHECKER.conforms(value, "postcode")


@pytest.mark.parametrize(
    "value",
    [
        "01455",
        "1145",
        "114555",
        "114  55",
        "114-55",
        "SE-114 55",
        "11455\n",
        " 11455",
        "11 455",
        "",
    ],
)
def test_postcode_format_rejects(value: str) -> None:
    assert not FORMAT_CHECKER.conforms(value, "postcode")


@pytest.mark.parametrize("fmt", ["personnummer", "phone", "postcode"])
@pytest.mark.parametrize("value", [42, None, ["201701012393"]])
def test_custom_formats_ignore_non_strings(fmt: str, value: object) -> None:
    assert FORMAT_CHECKER.conforms(value, fmt)


@pytest.mark.parametrize(
    ("value", "fmt", "ok"),
    [
        ("2024-02-29", "date", True),
        ("2023-02-29", "date", False),
        ("2024-2-29", "date", False),
        ("2024-02-29T12:00:00+01:00", "date-time", True),
        ("2024-02-29 12:00", "date-time", False),
        ("anna@example.org", "email", True),
        ("anna.example.org", "email", False),
    ],
)
def test_standard_formats_are_kept(value: str, fmt: str, ok: bool) -> None:
    assert FORMAT_CHECKER.conforms(value, fmt) is ok


def test_formats_are_asserted_by_the_built_validator() -> None:
    schema = answer_schema(
        born={"type": "string", "format": "date"},
        phone={"type": "string", "format": "phone"},
        postcode={"type": "string", "format": "postcode"},
    )
    assert (
        keywords(schema, {"born": "2024-02-29", "phone": "08-465 004 00", "postcode": "11455"})
        == []
    )
    assert keywords(schema, {"born": "29/2 2024", "phone": "call me", "postcode": "1"}) == [
        "format",
        "format",
        "format",
    ]


def test_answer_validator_carries_the_format_checker() -> None:
    assert AnswerValidator.FORMAT_CHECKER is FORMAT_CHECKER
    assert build_answer_validator(answer_schema()).format_checker is FORMAT_CHECKER


# --- formatMinimum / formatMaximum ----------------------------------------------------------


def dated(**limits: str) -> dict[str, Any]:
    return answer_schema(day={"type": "string", "format": "date", **limits})


@pytest.mark.parametrize(
    ("limits", "ok", "bad"),
    [
        ({"formatMinimum": "2020-01-01"}, "2020-01-01", "2019-12-31"),
        ({"formatMaximum": "2020-01-01"}, "2020-01-01", "2020-01-02"),
        ({"formatMaximum": "today"}, "2025-06-15", "2025-06-16"),
        ({"formatMinimum": "today"}, "2025-06-15", "2025-06-14"),
        # "at least 18 years old": born on or before today minus 18 years
        ({"formatMaximum": "today-P18Y"}, "2007-06-15", "2007-06-16"),
        ({"formatMaximum": "today+P30D"}, "2025-07-15", "2025-07-16"),
        ({"formatMinimum": "today-P1Y6M"}, "2023-12-15", "2023-12-14"),
        ({"formatMinimum": "today-P2W"}, "2025-06-01", "2025-05-31"),
        ({"formatMaximum": "today+P1M"}, "2025-07-15", "2025-07-16"),
    ],
)
def test_date_limits_at_the_exact_boundary(limits: dict[str, str], ok: str, bad: str) -> None:
    assert keywords(dated(**limits), {"day": ok}) == []
    [error] = errors(dated(**limits), {"day": bad})
    [(keyword, limit)] = limits.items()
    assert error.validator == keyword
    assert error.validator_value == limit
    assert list(error.path) == ["day"]


def test_date_limit_messages() -> None:
    [error] = errors(dated(formatMaximum="today-P18Y"), {"day": "2010-03-04"})
    assert error.message == "the date must be on or before 2007-06-15 (today-P18Y)"
    [error] = errors(dated(formatMinimum="2020-01-01"), {"day": "2010-03-04"})
    assert error.message == "the date must be on or after 2020-01-01"
    assert "2010-03-04" not in error.message  # answers stay out of messages (and logs)


def test_minimum_and_maximum_together() -> None:
    schema = dated(formatMinimum="today-P120Y", formatMaximum="today")
    assert keywords(schema, {"day": "1905-06-15"}) == []
    assert keywords(schema, {"day": "1905-06-14"}) == ["formatMinimum"]
    assert keywords(schema, {"day": "2025-06-16"}) == ["formatMaximum"]


def test_relative_limit_clamps_29_february() -> None:
    # Born 29 Feb 2004: not yet 18 on 28 Feb 2022, 18 on 1 Mar (like IdentityNumber.age_on).
    schema = dated(formatMaximum="today-P18Y")
    assert keywords(schema, {"day": "2004-02-29"}, today=date(2022, 2, 28)) == ["formatMaximum"]
    assert keywords(schema, {"day": "2004-02-29"}, today=date(2022, 3, 1)) == []
    assert parse_date_limit("today-P1Y").resolve(date(2024, 2, 29)) == date(2023, 2, 28)
    assert parse_date_limit("today+P1M").resolve(date(2025, 1, 31)) == date(2025, 2, 28)
    assert parse_date_limit("today-P1Y1M").resolve(date(2025, 1, 15)) == date(2023, 12, 15)


def test_non_dates_are_left_to_format() -> None:
    schema = dated(formatMinimum="2020-01-01", formatMaximum="today")
    assert keywords(schema, {"day": "not a date"}) == ["format"]
    assert keywords(schema, {"day": "2025-13-01"}) == ["format"]
    assert keywords(schema, {"day": "2019-12-31T10:00:00Z"}) == ["format"]


def test_date_limits_ignore_non_strings() -> None:
    schema = answer_schema(day={"formatMinimum": "2020-01-01"})
    assert keywords(schema, {"day": 20100101}) == []
    assert keywords(schema, {"day": None}) == []


def test_default_clock_is_today_in_stockholm(monkeypatch: pytest.MonkeyPatch) -> None:
    validator = build_answer_validator(dated(formatMaximum="today"))
    monkeypatch.setattr(formats, "today_in_stockholm", lambda: date(2025, 6, 15))
    assert validator.is_valid({"day": "2025-06-15"})
    assert not validator.is_valid({"day": "2025-06-16"})
    monkeypatch.setattr(formats, "today_in_stockholm", lambda: date(2025, 6, 16))
    assert validator.is_valid({"day": "2025-06-16"})


def test_today_in_stockholm_is_a_date() -> None:
    today = today_in_stockholm()
    assert isinstance(today, date)
    assert abs((today - date.today()).days) <= 1


def test_make_answer_validator_class_takes_a_clock() -> None:
    validator_class = make_answer_validator_class(lambda: date(2000, 1, 1))
    validator = validator_class(dated(formatMaximum="today"), registry=NO_REMOTE_REGISTRY)
    assert validator.is_valid({"day": "2000-01-01"})
    assert not validator.is_valid({"day": "2000-01-02"})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2020-01-01", DateLimit(fixed=date(2020, 1, 1))),
        ("today", DateLimit()),
        ("today-P18Y", DateLimit(sign=-1, years=18)),
        ("today+P30D", DateLimit(days=30)),
        ("today-P1Y6M", DateLimit(sign=-1, years=1, months=6)),
        ("today+P1Y2M3W4D", DateLimit(years=1, months=2, weeks=3, days=4)),
    ],
)
def test_parse_date_limit(text: str, expected: DateLimit) -> None:
    assert parse_date_limit(text) == expected
    assert check_date_limit(text) is None


@pytest.mark.parametrize(
    "limit",
    [
        "yesterday",
        "Today",
        "today-",
        "today-P",
        "today-18Y",
        "today-P18",
        "today-PT12H",
        "today-P6M1Y",
        "today - P18Y",
        "2020-1-1",
        "2020-02-30",
        "2020-01-01T00:00:00Z",
        "",
        20200101,
        None,
    ],
)
def test_invalid_date_limits_are_reported_and_fail_closed(limit: object) -> None:
    reason = check_date_limit(limit)
    assert isinstance(reason, str)
    assert reason
    [error] = errors(dated(formatMinimum=limit), {"day": "2020-01-01"})  # type: ignore[arg-type]
    assert error.validator == "formatMinimum"
    assert "not a valid date limit" in error.message


def test_huge_offsets_clamp_to_the_calendar() -> None:
    assert parse_date_limit("today-P9999Y").resolve(TODAY) == date.min
    assert parse_date_limit("today+P9999Y").resolve(TODAY) == date.max
    assert parse_date_limit("today+P9999Y9999M9999W99999D").resolve(TODAY) == date.max
    assert parse_date_limit("today-P2024Y").resolve(TODAY) == date(1, 6, 15)
    assert parse_date_limit("today-P2024Y5M").resolve(TODAY) == date(1, 1, 15)
    assert parse_date_limit("today-P2024Y5M14D").resolve(TODAY) == date(1, 1, 1)
    assert parse_date_limit("today-P2024Y5M15D").resolve(TODAY) == date.min


# --- patterns on RE2 ------------------------------------------------------------------------


def patterned(pattern: str) -> dict[str, Any]:
    return answer_schema(text={"type": "string", "pattern": pattern})


@pytest.mark.parametrize(
    ("pattern", "value", "ok"),
    [
        ("b", "abc", True),  # unanchored: a match anywhere counts
        ("^b", "abc", False),
        ("c$", "abc", True),
        ("^a.c$", "abc", True),
        ("^[0-9]{3} ?[0-9]{2}$", "114 55", True),
        ("^[åäö]+$", "åäö", True),
        ("^\\p{L}+$", "Åsa", True),
        ("(?i)^ÅSA$", "åsa", True),
        ("^abc$", "abc\n", False),  # $ is the end of the text, not before a final newline
        ("^\\d+$", "١٢٣", False),  # \d is ASCII in RE2 (as in ECMA-262)
    ],
)
def test_re2_pattern_semantics(pattern: str, value: str, ok: bool) -> None:
    assert check_pattern(pattern) is None
    assert keywords(patterned(pattern), {"text": value}) == ([] if ok else ["pattern"])


def test_pattern_error_keeps_keyword_and_value() -> None:
    [error] = errors(patterned("^[0-9]+$"), {"text": "12a"})
    assert error.validator == "pattern"
    assert error.validator_value == "^[0-9]+$"
    assert error.message == "the value does not match the pattern '^[0-9]+$'"


def test_catastrophic_pattern_finishes() -> None:
    # With Python's re this search backtracks for longer than anyone would wait.
    evil = "a" * 50_000 + "!"
    assert keywords(patterned("^(a+)+$"), {"text": evil}) == ["pattern"]
    assert keywords(patterned("(x+x+)+y"), {"text": "x" * 50_000}) == ["pattern"]


@pytest.mark.parametrize(
    "pattern",
    [
        "(a)\\1",  # backreference
        "a(?=b)",  # lookahead
        "a(?!b)",
        "(?<=a)b",  # lookbehind
        "(?<!a)b",
        "a++",  # possessive
        "(",
        "[z-a]",
    ],
)
def test_unsupported_patterns_are_reported(pattern: str) -> None:
    reason = check_pattern(pattern)
    assert reason is not None
    assert reason.startswith("RE2 cannot compile this pattern")


def test_unsupported_pattern_fails_validation_closed() -> None:
    [error] = errors(patterned("(a)\\1"), {"text": "aa"})
    assert error.validator == "pattern"
    assert "cannot be checked" in error.message


def test_pattern_ignores_non_strings() -> None:
    assert keywords(answer_schema(text={"pattern": "^a$"}), {"text": 5}) == []


def test_compiled_patterns_are_cached() -> None:
    formats._compile.cache_clear()
    validator = build_answer_validator(patterned("^cached[0-9]$"))
    for _ in range(3):
        assert validator.is_valid({"text": "cached1"})
    info = formats._compile.cache_info()
    assert info.maxsize == PATTERN_CACHE_SIZE
    assert info.misses == 1
    assert info.hits >= 2


def test_pattern_properties_use_re2() -> None:
    schema = {"type": "object", "patternProperties": {"^x_": {"type": "integer"}}}
    assert keywords(schema, {"x_a": 1, "other": "s"}) == []
    assert keywords(schema, {"x_a": "s"}) == ["type"]
    evil = {"type": "object", "patternProperties": {"^(a+)+$": {"type": "integer"}}}
    assert keywords(evil, {"a" * 50_000 + "!": "s"}) == []
    unsupported = {"type": "object", "patternProperties": {"(a)\\1": {}}}
    assert keywords(unsupported, {"aa": 1}) == ["patternProperties"]


# --- no remote $ref -------------------------------------------------------------------------


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Fails the test if anything tries urllib; records the attempt for the control test."""
    attempts: list[object] = []

    def urlopen(*args: object, **kwargs: object) -> object:
        attempts.append(args[0])
        pytest.fail("tried to fetch a $ref over the network")

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    return attempts


@pytest.mark.parametrize(
    "ref",
    [
        "https://example.org/x.json",
        "http://169.254.169.254/latest/meta-data",
        "file:///etc/passwd",
        "other.json",
    ],
)
def test_remote_ref_is_never_fetched(no_network: list[object], ref: str) -> None:
    validator = build_answer_validator(answer_schema(x={"$ref": ref}))
    with pytest.raises(referencing.exceptions.Unresolvable) as caught:
        validator.validate({"x": 1})
    assert no_network == []
    cause: BaseException | None = caught.value
    seen = []
    while cause is not None:
        seen.append(type(cause))
        cause = cause.__cause__
    assert RemoteReferenceRefused in seen


def test_no_remote_registry_refuses_directly() -> None:
    with pytest.raises(referencing.exceptions.Unretrievable):
        NO_REMOTE_REGISTRY.get_or_retrieve("https://example.org/x.json")


def test_the_network_guard_would_notice_a_fetch(no_network: list[object]) -> None:
    # Control: plain jsonschema without a registry does try urlopen, and the fixture catches it.
    validator = Draft202012Validator({"$ref": "https://example.org/x.json"})
    with pytest.raises(pytest.fail.Exception):
        validator.validate({})
    assert no_network != []


def test_local_refs_and_meta_schemas_still_resolve(no_network: list[object]) -> None:
    schema = {
        "type": "object",
        "$defs": {"postcode": {"type": "string", "format": "postcode"}},
        "properties": {
            "home": {"$ref": "#/$defs/postcode"},
            "schema": {"$ref": "https://json-schema.org/draft/2020-12/schema"},
        },
    }
    assert keywords(schema, {"home": "11455", "schema": {"type": "string"}}) == []
    assert keywords(schema, {"home": "1145"}) == ["format"]
    assert keywords(schema, {"schema": {"type": 5}}) != []
    assert no_network == []
