"""Personnummer and samordningsnummer parsing.

Only Skatteverket's published *test* identity numbers appear here. Skatteverket publishes them
as open data (CC0): "Testpersonnummer", https://www.dataportal.se/sv/datasets/6_67959/testpersonnummer,
and "Testsamordningsnummer". In the published series every date from 1900 on has the birth
numbers 238 (female) and 239 (male), coordination numbers likewise with day + 60, and the 1890s
use 980/981; these numbers are never given to real people. :func:`skv` builds such a number
for a date with the Luhn digit; a few numbers are also written out literally as they appear in
the published data, so that the check digit is tested against an outside source.
"""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from formular.definitions.personnummer import (
    IdentityNumber,
    InvalidIdentityNumber,
    luhn_check_digit,
)

TODAY = date(2025, 6, 15)


def skv(yymmdd: str, birth_number: str = "239") -> str:
    """A 10-digit test number from Skatteverket's series: date + 238/239 (or 980/981) + Luhn."""
    nine = yymmdd + birth_number
    return nine + str(luhn_check_digit(nine))


def parse(text: str, today: date = TODAY) -> IdentityNumber:
    return IdentityNumber.parse(text, today=today)


def reason(text: str, today: date = TODAY) -> str:
    with pytest.raises(InvalidIdentityNumber) as caught:
        IdentityNumber.parse(text, today=today)
    return caught.value.code


# --- check digits ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "published",
    [
        "189001019802",  # 1 Jan 1890, birth number 980
        "201701012393",  # 1 Jan 2017, birth number 239
        "202201612393",  # samordningsnummer, 1 Jan 2022 (day 61), birth number 239
        "197010632391",  # samordningsnummer, 3 Oct 1970: Skatteverket's own worked example
    ],
)
def test_luhn_digit_matches_published_test_numbers(published: str) -> None:
    assert luhn_check_digit(published[2:11]) == int(published[11])
    assert parse(published).canonical == published


@pytest.mark.parametrize("wrong", ["201701012390", "201701012394", "201701012399"])
def test_wrong_check_digit_is_a_checksum_error(wrong: str) -> None:
    assert reason(wrong) == "checksum"
    assert reason(wrong[2:]) == "checksum"


def test_swapped_digits_are_caught() -> None:
    # 20170101-2393 with the birth number's 3 and 9 swapped.
    assert reason("20170101-2933") == "checksum"


def test_luhn_rejects_non_digits() -> None:
    with pytest.raises(ValueError, match="ASCII digits"):
        luhn_check_digit("12345678a")
    with pytest.raises(ValueError, match="ASCII digits"):
        luhn_check_digit("")


# --- input forms ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "201701012393",  # YYYYMMDDNNNN
        "20170101-2393",  # YYYYMMDD-NNNN
        "170101-2393",  # YYMMDD-NNNN
        "1701012393",  # YYMMDDNNNN
        "  20170101-2393\n",  # surrounding whitespace is ignored
    ],
)
def test_all_input_forms_give_the_same_number(text: str) -> None:
    number = parse(text)
    assert number.canonical == "201701012393"
    assert number.display == "20170101-2393"
    assert number.birth_date == date(2017, 1, 1)
    assert number == IdentityNumber("201701012393")
    assert hash(number) == hash(IdentityNumber("201701012393"))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "170101239",  # 9 digits
        "20170101239",  # 11 digits
        "2017010123930",
        "20170101+2393",  # + belongs to the 10-digit form only
        "20170101--2393",
        "20170101 2393",
        "170101--2393",
        "170101/2393",
        "2017-01-01-2393",
        "20170101-239X",
        "abcdefghijkl",
        "２０１７０１０１２３９３",  # full-width digits
        "٢٠١٧٠١٠١٢٣٩٣",  # Arabic-Indic digits, which int() would accept
    ],
)
def test_malformed_text_is_a_format_error(text: str) -> None:
    assert reason(text) == "format"


@pytest.mark.parametrize(
    ("yymmdd", "why"),
    [
        ("171301", "month 13"),
        ("170100", "day 0"),
        ("170132", "day 32"),
        ("170229", "29 February in a common year"),
        ("170160", "coordination day 60 is day 0"),
        ("170192", "coordination day 92 is day 32"),
    ],
)
def test_impossible_dates_are_date_errors(yymmdd: str, why: str) -> None:
    assert reason(skv(yymmdd)) == "date", why
    assert reason("20" + skv(yymmdd)) == "date", why


def test_birth_date_in_the_future_is_a_date_error() -> None:
    assert reason("20" + skv("250616"), today=TODAY) == "date"
    assert parse("20" + skv("250615"), today=TODAY).birth_date == TODAY


def test_direct_construction_validates() -> None:
    with pytest.raises(InvalidIdentityNumber):
        IdentityNumber("20170101-2393")  # not canonical
    with pytest.raises(InvalidIdentityNumber):
        IdentityNumber("201701012394")


def test_number_stays_out_of_repr_and_error_messages() -> None:
    number = parse("201701012393")
    assert "2393" not in repr(number)
    assert "170101" not in repr(number)
    with pytest.raises(InvalidIdentityNumber) as caught:
        parse("201701012394")
    assert "2394" not in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_default_today_is_used_when_not_given() -> None:
    assert IdentityNumber.parse("201701012393").birth_date == date(2017, 1, 1)


# --- coordination numbers -------------------------------------------------------------------


def test_coordination_number() -> None:
    number = parse("202201612393")
    assert number.is_coordination_number
    assert number.birth_date == date(2022, 1, 1)
    assert number.display == "20220161-2393"
    assert number.sex == "male"


def test_skatteverket_coordination_example_in_ten_digits() -> None:
    number = parse("701063-2391")
    assert number.canonical == "197010632391"
    assert number.birth_date == date(1970, 10, 3)
    assert number.is_coordination_number


def test_ordinary_number_is_not_a_coordination_number() -> None:
    assert not parse("201701012393").is_coordination_number


# --- century ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "year"),
    [
        (skv("170101"), 2017),
        (skv("170101")[:6] + "-" + skv("170101")[6:], 2017),
        (skv("170101")[:6] + "+" + skv("170101")[6:], 1917),  # + : 100 or older
        (skv("250101")[:6] + "-" + skv("250101")[6:], 2025),  # this year, already born
        (skv("251231")[:6] + "+" + skv("251231")[6:], 1925),  # turns 100 this year: + already
        (skv("260101")[:6] + "-" + skv("260101")[6:], 1926),  # 99 this year
        (skv("000229", "238"), 2000),  # 29 Feb 2000, a leap year
    ],
)
def test_century_of_ten_digit_forms(text: str, year: int) -> None:
    assert parse(text, today=TODAY).birth_date.year == year


def test_ten_digit_date_later_this_year_is_not_read_as_a_century_ago() -> None:
    # With "-" the person is under 100 by year, so 251231 is 2025-12-31: not born yet.
    assert reason(skv("251231")[:6] + "-" + skv("251231")[6:], today=TODAY) == "date"


def test_century_follows_today() -> None:
    text = skv("300101")
    assert parse(text, today=date(2025, 6, 15)).birth_date == date(1930, 1, 1)
    assert parse(text, today=date(2031, 1, 1)).birth_date == date(2030, 1, 1)


def test_plus_on_the_eighteen_nineties() -> None:
    number = parse(skv("900101", "980")[:6] + "+" + skv("900101", "980")[6:], today=TODAY)
    assert number.canonical == "189001019802"


# --- sex and age ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("birth_number", "sex"), [("238", "female"), ("239", "male"), ("980", "female")]
)
def test_sex_from_second_to_last_digit(birth_number: str, sex: str) -> None:
    assert parse(skv("170101", birth_number)).sex == sex


def test_age_across_a_birthday() -> None:
    number = parse("201701012393")
    assert number.age_on(date(2017, 1, 1)) == 0
    assert number.age_on(date(2017, 12, 31)) == 0
    assert number.age_on(date(2018, 1, 1)) == 1
    assert number.age_on(date(2034, 12, 31)) == 17
    assert number.age_on(date(2035, 1, 1)) == 18


def test_age_of_someone_born_on_29_february() -> None:
    number = parse("20" + skv("040229", "238"))
    assert number.birth_date == date(2004, 2, 29)
    assert number.age_on(date(2005, 2, 28)) == 0
    assert number.age_on(date(2005, 3, 1)) == 1
    assert number.age_on(date(2022, 2, 28)) == 17
    assert number.age_on(date(2022, 3, 1)) == 18
    assert number.age_on(date(2024, 2, 28)) == 19
    assert number.age_on(date(2024, 2, 29)) == 20


def test_age_of_coordination_number_uses_the_real_day() -> None:
    number = parse("202201612393")
    assert number.age_on(date(2022, 12, 31)) == 0
    assert number.age_on(date(2023, 1, 1)) == 1


def test_age_before_birth_is_refused() -> None:
    with pytest.raises(ValueError, match="before the date of birth"):
        parse("201701012393").age_on(date(2016, 12, 31))


# --- property -------------------------------------------------------------------------------


@st.composite
def ten_digit_test_numbers(draw: st.DrawFn) -> tuple[str, date]:
    """A 10-digit number from Skatteverket's test series and the birth date it encodes.

    Dates fit the separator, as seen from TODAY: "-" or none for the last 99 years, "+" for
    1900-1925 (100 or older this year).
    """
    separator = draw(st.sampled_from(["", "-", "+"]))
    if separator == "+":
        born = draw(st.dates(date(1900, 1, 1), date(TODAY.year - 100, 12, 31)))
    else:
        born = draw(st.dates(date(TODAY.year - 99, 1, 1), TODAY))
    coordination = draw(st.booleans())
    birth_number = draw(st.sampled_from(["238", "239"]))
    day = born.day + (60 if coordination else 0)
    nine = f"{born:%y%m}{day:02d}{birth_number}"
    return f"{nine[:6]}{separator}{nine[6:]}{luhn_check_digit(nine)}", born


@settings(database=None)
@given(ten_digit_test_numbers(), st.integers(1, 9))
def test_valid_luhn_and_date_parse_and_any_other_check_digit_fails(
    case: tuple[str, date], change: int
) -> None:
    text, born = case
    number = IdentityNumber.parse(text, today=TODAY)
    assert number.birth_date == born
    assert number.canonical[2:] == text.replace("-", "").replace("+", "")
    assert IdentityNumber.parse(number.display, today=TODAY) == number

    broken = text[:-1] + str((int(text[-1]) + change) % 10)
    with pytest.raises(InvalidIdentityNumber) as caught:
        IdentityNumber.parse(broken, today=TODAY)
    assert caught.value.code == "checksum"


def test_edges_of_the_property_strategy() -> None:
    # The oldest "-" and youngest "+" years the strategy draws, written out once.
    assert parse(skv("260101")[:6] + "-" + skv("260101")[6:]).birth_date == date(1926, 1, 1)
    assert parse(skv("001231")[:6] + "+" + skv("001231")[6:]).birth_date == date(1900, 12, 31)
