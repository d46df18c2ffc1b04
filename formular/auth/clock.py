"""Time for log-in decisions: aware UTC instants, and the Swedish calendar day for ages.

SQLite hands timezone-aware columns back without their zone while PostgreSQL keeps it, so every
comparison goes through :func:`as_utc`. Ages (13 for guardians, 16 for log-in) turn over at
midnight in Stockholm, not in UTC, as the brief on minors requires.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def as_utc(value: dt.datetime) -> dt.datetime:
    """``value`` as an aware UTC datetime; a naive value is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def swedish_today(now: dt.datetime) -> dt.date:
    """The calendar day in Stockholm at the instant ``now``."""
    return as_utc(now).astimezone(STOCKHOLM).date()
