"""ISO 8601 durations for timer offsets, and working-day arithmetic.

Offsets are written the way the workflow schema allows: an optional minus sign, then weeks, or
days and a time part (``-P3D``, ``P1W``, ``PT12H``, ``P1DT6H``). Years and months are not
accepted, because their length depends on the calendar and a reminder "one month before" would
drift between recipients. Working days are Swedish ones, counted in Stockholm dates: not a
Saturday or Sunday, not a public holiday (helgdag: New Year, Epiphany, Easter, Ascension,
Whitsun, National Day, Midsummer, All Saints', Christmas) and not one of the days Swedish
working life keeps as holidays (Midsummer Eve, Christmas Eve, New Year's Eve). The calendar is
the ``holidays`` package's, the field's maintained source for national holidays.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo

import holidays

_DURATION: Final = re.compile(
    r"(?P<sign>-)?P(?:(?P<weeks>[0-9]{1,5})W|(?:(?P<days>[0-9]{1,5})D)?"
    r"(?:T(?:(?P<hours>[0-9]{1,5})H)?(?:(?P<minutes>[0-9]{1,5})M)?(?:(?P<seconds>[0-9]{1,5})S)?)?)"
)

#: The most days a setting may move a timer (ten years), whatever a stored setting says.
MAX_SETTING_DAYS: Final = 3650


def parse_duration(text: str) -> dt.timedelta | None:
    """The offset *text* stands for, or ``None`` when it is not a duration we accept.

    >>> parse_duration("-P3D")
    datetime.timedelta(days=-3)
    >>> parse_duration("P1Y") is None
    True
    """
    found = _DURATION.fullmatch(text)
    if found is None or text.endswith("T"):
        return None  # also "P1DT": a time designator with no time after it
    parts = {key: int(value) for key, value in found.groupdict().items()
             if key != "sign" and value is not None}
    if not parts:
        return None  # "P", "-P": a designator with nothing after it
    delta = dt.timedelta(
        weeks=parts.get("weeks", 0), days=parts.get("days", 0), hours=parts.get("hours", 0),
        minutes=parts.get("minutes", 0), seconds=parts.get("seconds", 0),
    )
    return -delta if found.group("sign") else delta


def format_duration(delta: dt.timedelta) -> str:
    """The canonical text of *delta* (days and time, no weeks), used in idempotency keys.

    >>> format_duration(dt.timedelta(days=-3))
    '-P3D'
    >>> format_duration(dt.timedelta(0))
    'PT0S'
    """
    sign = "-" if delta < dt.timedelta(0) else ""
    delta = abs(delta)
    days, rest = delta.days, delta.seconds
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    time = "".join(f"{value}{unit}" for value, unit in
                   ((hours, "H"), (minutes, "M"), (seconds, "S")) if value)
    if not days and not time:
        return "PT0S"
    return f"{sign}P{f'{days}D' if days else ''}{f'T{time}' if time else ''}"


def is_whole_days(delta: dt.timedelta) -> bool:
    """Whether *delta* is a whole number of days (what a working-day offset must be)."""
    return delta.seconds == 0 and delta.microseconds == 0


def add_working_days(start: dt.datetime, days: int) -> dt.datetime:
    """*start* moved by *days* Swedish working days, keeping its Stockholm clock time.

    A start on a day off counts from that day: one working day after a Saturday is the
    following Monday (or the next working day after it). A naive *start* is taken as UTC.
    """
    aware = start if start.tzinfo is not None else start.replace(tzinfo=dt.UTC)
    local = aware.astimezone(STOCKHOLM)
    step = 1 if days >= 0 else -1
    day, left = local.date(), abs(days)
    while left:
        day += dt.timedelta(days=step)
        if is_working_day(day):
            left -= 1
    moved = dt.datetime.combine(day, local.time(), tzinfo=STOCKHOLM).astimezone(dt.UTC)
    return moved if start.tzinfo is not None else moved.replace(tzinfo=None)


def is_working_day(day: dt.date) -> bool:
    """Whether *day* is a working day in Sweden (see the module's docstring)."""
    return day.weekday() < 5 and day not in _days_off(day.year)


@lru_cache(maxsize=64)
def _days_off(year: int) -> frozenset[dt.date]:
    calendar = holidays.country_holidays("SE", years=year, include_sundays=False,
                                         categories=("public", "de_facto"))
    return frozenset(calendar)


STOCKHOLM: Final = ZoneInfo("Europe/Stockholm")
