"""Swedish personal identity numbers (personnummer) and coordination numbers (samordningsnummer).

Forms ask for a person's identity number, and the server must be able to tell a mistyped number
from a valid one without asking any register. A number is ``YYMMDD`` + a three-digit birth
number + a Luhn check digit over those nine digits; a coordination number is the same with 60
added to the day. Ten-digit forms leave the century out, so it is resolved against *today* and
the separator: ``-`` for people under 100, ``+`` from the year they turn 100.

The numbers are personal data: nothing in this module puts a number into an exception message or
a ``repr`` (ASVS 16.2.5, "never log personnummer"). Use :attr:`IdentityNumber.canonical` or
:attr:`IdentityNumber.display` explicitly where the number is really wanted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

__all__ = [
    "COORDINATION_DAY_OFFSET",
    "IdentityNumber",
    "InvalidIdentityNumber",
    "ReasonCode",
    "luhn_check_digit",
]

#: Why a text is not an identity number: wrong shape, wrong check digit, or no such birth date.
ReasonCode = Literal["format", "checksum", "date"]

_STOCKHOLM = ZoneInfo("Europe/Stockholm")

#: Added to the day of birth in a coordination number (samordningsnummer).
COORDINATION_DAY_OFFSET = 60

# [0-9], not \d: \d also matches non-ASCII digits such as Arabic-Indic ones, which int() accepts.
_TWELVE = re.compile(r"([0-9]{8})-?([0-9]{4})")
_TEN = re.compile(r"([0-9]{6})([-+]?)([0-9]{4})")


class InvalidIdentityNumber(ValueError):
    """The text is not a valid identity number; :attr:`code` says why.

    The message never contains the text itself, so the exception is safe to log.
    """

    def __init__(self, code: ReasonCode) -> None:
        self.code: ReasonCode = code
        super().__init__(f"not a valid Swedish identity number ({code})")


def luhn_check_digit(digits: str) -> int:
    """The Luhn (modulus 10) check digit for ``digits``, as Skatteverket computes it.

    Weights 2, 1, 2, 1, ... from the left over the nine digits ``YYMMDDNNN``; the digits of each
    product are summed, and the check digit makes the total a multiple of ten.
    """
    if not digits or not digits.isascii() or not digits.isdigit():
        raise ValueError("luhn_check_digit needs ASCII digits")
    total = 0
    for index, char in enumerate(digits):
        product = int(char) * (2 if index % 2 == 0 else 1)
        total += product // 10 + product % 10
    return (10 - total % 10) % 10


def _today_in_stockholm() -> date:
    """Today's date where the numbers are issued; the server clock may well be in UTC."""
    return datetime.now(_STOCKHOLM).date()


@dataclass(frozen=True)
class IdentityNumber:
    """A valid personnummer or samordningsnummer, kept in its canonical 12-digit form.

    Construct with :meth:`parse`. Direct construction validates the canonical form too (without
    a check against the future), so an instance is always a well-formed number.
    """

    #: ``YYYYMMDDNNNN``: the form to store and compare; unambiguous, unlike the 10-digit forms.
    canonical: str

    def __post_init__(self) -> None:
        if len(self.canonical) != 12 or _TWELVE.fullmatch(self.canonical) is None:
            raise InvalidIdentityNumber("format")
        _check_digits(self.canonical[2:])
        _birth_date(self.canonical)

    def __repr__(self) -> str:
        # The number is personal data; keep it out of logs and tracebacks.
        return "IdentityNumber(<redacted>)"

    @classmethod
    def parse(cls, text: str, today: date | None = None) -> IdentityNumber:
        """Parse any of ``YYYYMMDD-NNNN``, ``YYYYMMDDNNNN``, ``YYMMDD-NNNN``, ``YYMMDD+NNNN``
        and ``YYMMDDNNNN`` (surrounding whitespace is ignored).

        ``today`` (default: today in Stockholm) resolves the century of the 10-digit forms and
        rejects birth dates in the future. A 10-digit form without separator is read like ``-``.

        Raises :class:`InvalidIdentityNumber` with code ``format``, ``checksum`` or ``date``.
        """
        if today is None:
            today = _today_in_stockholm()
        text = text.strip()
        if (match := _TWELVE.fullmatch(text)) is not None:
            canonical = match.group(1) + match.group(2)
        elif (match := _TEN.fullmatch(text)) is not None:
            yymmdd, separator, serial = match.groups()
            canonical = str(_resolve_year(int(yymmdd[:2]), separator, today)) + yymmdd[2:] + serial
        else:
            raise InvalidIdentityNumber("format")
        _check_digits(canonical[2:])
        if _birth_date(canonical) > today:
            raise InvalidIdentityNumber("date")
        return cls(canonical)

    @property
    def display(self) -> str:
        """``YYYYMMDD-NNNN``, the form 1177 and Skatteverket show to people."""
        return f"{self.canonical[:8]}-{self.canonical[8:]}"

    @property
    def is_coordination_number(self) -> bool:
        """Whether this is a samordningsnummer (day of birth + 60)."""
        return int(self.canonical[6:8]) > COORDINATION_DAY_OFFSET

    @property
    def birth_date(self) -> date:
        """The date of birth, with the coordination offset taken off."""
        return _birth_date(self.canonical)

    @property
    def sex(self) -> Literal["female", "male"]:
        """Legal sex as registered: an even birth number's last digit is female, odd is male."""
        return "female" if int(self.canonical[-2]) % 2 == 0 else "male"

    def age_on(self, day: date) -> int:
        """Age in whole years on ``day``.

        Someone born on 29 February has their birthday on 1 March in common years: they are
        still the younger age on 28 February. This matches ``today-P18Y`` style date limits in
        :mod:`formular.definitions.formats`, which clamp 29 February to the 28th.
        """
        born = self.birth_date
        if day < born:
            raise ValueError("day is before the date of birth")
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _check_digits(ten: str) -> None:
    if luhn_check_digit(ten[:9]) != int(ten[9]):
        raise InvalidIdentityNumber("checksum")


def _birth_date(canonical: str) -> date:
    year, month, day = int(canonical[:4]), int(canonical[4:6]), int(canonical[6:8])
    if day > COORDINATION_DAY_OFFSET:
        day -= COORDINATION_DAY_OFFSET
    try:
        return date(year, month, day)
    except ValueError:
        raise InvalidIdentityNumber("date") from None


def _resolve_year(yy: int, separator: str, today: date) -> int:
    """The full year for a two-digit year.

    Skatteverket switches the separator to ``+`` from 1 January of the year a person turns 100,
    so the rule is by year, not by date: with ``-`` (or none) the year is the latest one not
    after this year that ends in ``yy``; with ``+`` it is a hundred years before that.
    """
    base = today.year - 100 if separator == "+" else today.year
    return base - (base - yy) % 100
