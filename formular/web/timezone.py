"""Times are stored in UTC and shown, and typed, in Europe/Stockholm."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def local_to_utc(value: dt.datetime) -> dt.datetime:
    """A naive datetime typed by a person in Sweden, as an aware UTC datetime."""
    return value.replace(tzinfo=STOCKHOLM).astimezone(dt.UTC)


def end_of_local_day(day: dt.date) -> dt.datetime:
    """23:59:59 Swedish time of ``day``, in UTC (a deadline "on" a day lasts all day)."""
    return local_to_utc(dt.datetime.combine(day, dt.time(23, 59, 59)))


def to_local(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(STOCKHOLM)
