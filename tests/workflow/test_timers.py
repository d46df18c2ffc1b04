"""Timers: reminders before the deadline, the deadline itself, expiry, and their keys."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from formular.workflow.durations import (
    STOCKHOLM,
    add_working_days,
    format_duration,
    is_working_day,
    parse_duration,
)
from formular.workflow.service import (
    TimerDue,
    due_timers,
    fire,
    load_builtin,
    planned_timers,
)

from .helpers import DAY, NOW, system

SEND_OUT = load_builtin("send-out")
HOUR = dt.timedelta(hours=1)
DEADLINE = NOW + 10 * DAY
EXPIRES = DEADLINE + 7 * DAY
ANCHORS: dict[str, Any] = {
    "scheduled_at": NOW, "deadline": DEADLINE, "expires_at": EXPIRES, "state_entered": NOW,
}
SETTINGS: dict[str, Any] = {"reminder_days_before": [3, 1]}


def due(at: dt.datetime, state: str = "sent", **kw: Any) -> list[TimerDue]:
    return due_timers(SEND_OUT, state, kw.pop("anchors", ANCHORS),
                      kw.pop("settings", SETTINGS), at, **kw)


def keys(at: dt.datetime, state: str = "sent", **kw: Any) -> list[str]:
    return [timer.key for timer in due(at, state, **kw)]


def test_reminders_three_and_one_day_before_the_deadline() -> None:
    assert keys(DEADLINE - 3 * DAY - HOUR) == []
    (first,) = due(DEADLINE - 3 * DAY)
    assert (first.key, first.event, first.timer) == ("reminder:-P3D", "remind", "reminder")
    assert (first.due_at, first.anchor, first.anchor_at) == (DEADLINE - 3 * DAY, "deadline",
                                                            DEADLINE)
    assert first.offset == "-P3D"
    assert keys(DEADLINE - 2 * DAY, fired={"reminder:-P3D"}) == []
    assert keys(DEADLINE - DAY + HOUR, fired={"reminder:-P3D"}) == ["reminder:-P1D"]
    assert keys(DEADLINE - HOUR, fired={"reminder:-P3D", "reminder:-P1D"}) == []


def test_a_job_catching_up_sends_one_reminder_not_a_burst() -> None:
    assert keys(DEADLINE - 12 * HOUR) == ["reminder:-P1D"]
    # ...and once that one is recorded, the missed earlier one stays missed.
    assert keys(DEADLINE - 11 * HOUR, fired={"reminder:-P1D"}) == []


def test_no_reminders_after_the_deadline_only_the_deadline_event() -> None:
    after = due(DEADLINE + HOUR)
    assert [(t.key, t.event) for t in after] == [("deadline:PT0S", "deadline_passed")]
    assert keys(DEADLINE + 2 * DAY, fired={"deadline:PT0S"}) == []
    assert keys(DEADLINE) == ["deadline:PT0S"]  # the instant itself is no longer "before"


def test_expiry_fires_expire_and_the_engine_takes_it() -> None:
    at = EXPIRES + HOUR
    assert keys(at, fired={"deadline:PT0S"}) == ["expiry:PT0S"]
    (expiry,) = due(at, fired={"deadline:PT0S"})
    outcome = fire(SEND_OUT, "in-progress", expiry.event, system())
    assert (outcome.ok, outcome.target) == (True, "expired")


def test_due_timers_are_sorted_by_due_time() -> None:
    late = due(EXPIRES + HOUR)
    assert [t.key for t in late] == ["deadline:PT0S", "expiry:PT0S"]
    assert late[0].due_at < late[1].due_at


def test_scheduled_assignments_are_sent_at_scheduled_at_and_can_expire_unsent() -> None:
    assert keys(NOW - HOUR, "scheduled") == []
    assert keys(NOW, "scheduled") == ["send:PT0S"]
    assert keys(EXPIRES, "scheduled", fired={"send:PT0S"}) == ["expiry:PT0S"]


@pytest.mark.parametrize("state", ["answered", "handled", "expired", "cancelled", "failed"])
def test_timers_are_not_due_in_other_states(state: str) -> None:
    assert due(EXPIRES + 100 * DAY, state) == []
    assert planned_timers(SEND_OUT, state, ANCHORS, SETTINGS) == []


def test_idempotency_keys_are_stable() -> None:
    at = DEADLINE - 3 * DAY
    assert due(at) == due(at)
    assert keys(at, settings={"reminder_days_before": [1, 3]}) == ["reminder:-P3D"]
    planned = planned_timers(SEND_OUT, "sent", ANCHORS, SETTINGS)
    assert [t.key for t in planned] == ["reminder:-P3D", "reminder:-P1D", "deadline:PT0S",
                                       "expiry:PT0S"]
    moved = dict(ANCHORS, deadline=DEADLINE + DAY)
    assert [t.key for t in planned_timers(SEND_OUT, "sent", moved, SETTINGS)] == [
        t.key for t in planned]


@pytest.mark.parametrize("value", [None, [], "3", [True], [-1], [4000], ["x"], {"a": 1}, 2.5])
def test_bad_reminder_settings_give_no_reminders_not_errors(value: Any) -> None:
    settings = {} if value is None else {"reminder_days_before": value}
    assert keys(DEADLINE - DAY, settings=settings) == []


def test_a_single_number_setting_is_one_offset() -> None:
    assert keys(DEADLINE - DAY, settings={"reminder_days_before": 2}) == ["reminder:-P2D"]


def test_missing_anchors_disable_their_timers() -> None:
    assert keys(EXPIRES + DAY, anchors={"deadline": None}) == []
    assert keys(EXPIRES + DAY, anchors={"expires_at": EXPIRES}) == ["expiry:PT0S"]
    assert keys(EXPIRES + DAY, anchors={"expires_at": "not a date"}) == []


def test_naive_datetimes_are_utc() -> None:
    naive = {name: value.replace(tzinfo=None) for name, value in ANCHORS.items()}
    assert due(DEADLINE - 3 * DAY, anchors=naive) == due(DEADLINE - 3 * DAY)
    assert due((DEADLINE - 3 * DAY).replace(tzinfo=None)) == due(DEADLINE - 3 * DAY)


def test_iso_text_anchors_are_accepted() -> None:
    text = {name: value.isoformat() for name, value in ANCHORS.items()}
    assert due(DEADLINE - DAY, anchors=text) == due(DEADLINE - DAY)


def test_anchors_at_the_end_of_the_calendar_do_not_overflow() -> None:
    end = dt.datetime.max.replace(tzinfo=dt.UTC)
    far = {"deadline": end, "expires_at": end}
    at = end - 12 * HOUR
    assert keys(at, anchors=far, settings={"reminder_days_before": [1]}) == ["reminder:-P1D"]
    start = dt.datetime.min.replace(tzinfo=dt.UTC)
    assert keys(end, anchors={"deadline": start}, settings={"reminder_days_before": [1]}) == [
        "deadline:PT0S"]


# --- Working days and the other built-ins -------------------------------------------------


def test_cases_are_flagged_after_three_working_days() -> None:
    case = load_builtin("case")
    friday = dt.datetime(2026, 5, 8, 10, 0, tzinfo=dt.UTC)
    anchors = {"state_entered": friday}
    wednesday = friday + 5 * DAY
    assert due_timers(case, "new", anchors, {}, wednesday - HOUR) == []
    (flag,) = due_timers(case, "assigned", anchors, {}, wednesday)
    assert (flag.key, flag.event, flag.due_at) == ("unanswered:P3D", "flag_unanswered",
                                                   wednesday)
    assert fire(case, "assigned", flag.event, system()).actions == ("flag_overdue",
                                                                    "notify_staff")
    assert due_timers(case, "waiting-for-citizen", anchors, {}, wednesday) == []


def test_order_results_are_delivered_by_the_next_job_run() -> None:
    order = load_builtin("order")
    (deliver,) = due_timers(order, "result-ready", {"state_entered": NOW}, {}, NOW)
    assert deliver.key == "deliver:PT0S"
    assert fire(order, "result-ready", deliver.event, system()).target == "result-delivered"


def test_programme_modules_remind_an_inactive_patient() -> None:
    module = load_builtin("programme-module")
    assert due_timers(module, "open", {"state_entered": NOW}, {}, NOW + 6 * DAY) == []
    (remind,) = due_timers(module, "open", {"state_entered": NOW}, {}, NOW + 7 * DAY)
    assert fire(module, "open", remind.event, system()).actions == ("notify_citizen",)


@pytest.mark.parametrize(("text", "delta"), [
    ("-P3D", -3 * DAY), ("P1W", 7 * DAY), ("PT0S", dt.timedelta(0)),
    ("P1DT6H", DAY + 6 * HOUR), ("-PT90M", -90 * dt.timedelta(minutes=1)),
])
def test_durations_parse_and_format(text: str, delta: dt.timedelta) -> None:
    assert parse_duration(text) == delta
    assert parse_duration(format_duration(delta)) == delta


@pytest.mark.parametrize("text", ["P", "-P", "PT", "P1DT", "P1Y", "P1M", "3D", "P-3D", "p3d",
                                  "P3D\n", "P1.5D", "P123456D", ""])
def test_durations_we_do_not_accept(text: str) -> None:
    assert parse_duration(text) is None


def test_working_days_skip_weekends_both_ways() -> None:
    friday = dt.datetime(2026, 5, 8, 10, 0, tzinfo=dt.UTC)
    assert add_working_days(friday, 1).weekday() == 0
    assert add_working_days(friday, 3) == friday + 5 * DAY
    assert add_working_days(friday + 2 * DAY, -1) == friday
    assert add_working_days(friday, 0) == friday


@pytest.mark.parametrize(("start", "days", "expected"), [
    # Ascension Day (Thursday 14 May 2026): Wednesday + 1 is Friday.
    ((2026, 5, 13), 1, (2026, 5, 15)),
    # Midsummer Eve and Midsummer Day: Thursday 18 June + 1 is Monday 22 June.
    ((2026, 6, 18), 1, (2026, 6, 22)),
    # Christmas Eve, Christmas Day and the weekend: 23 December + 1 is Monday 28 December,
    # + 3 is Wednesday 30 December; New Year's Eve and Day follow, so + 4 is 2 January.
    ((2026, 12, 23), 1, (2026, 12, 28)),
    ((2026, 12, 23), 3, (2026, 12, 30)),
    ((2026, 12, 23), 4, (2027, 1, 4)),
    # Easter 2027: Good Friday 26 March, Easter Monday 29 March.
    ((2027, 3, 25), 1, (2027, 3, 30)),
    ((2027, 3, 30), -1, (2027, 3, 25)),
    # Epiphany (Wednesday 6 January 2027) and the National Day (Tuesday 6 June 2028).
    ((2027, 1, 5), 1, (2027, 1, 7)),
    ((2028, 6, 5), 1, (2028, 6, 7)),
])
def test_working_days_are_swedish(start: tuple[int, int, int], days: int,
                                  expected: tuple[int, int, int]) -> None:
    """Swedish public holidays and the de-facto days off (Midsummer, Christmas and New Year's
    Eve) are not working days; the Stockholm clock time is kept."""
    at = dt.datetime(*start, 9, 30, tzinfo=STOCKHOLM)
    moved = add_working_days(at.astimezone(dt.UTC), days).astimezone(STOCKHOLM)
    assert (moved.date(), moved.time()) == (dt.date(*expected), dt.time(9, 30))


def test_working_days_count_in_stockholm_dates_across_summer_time() -> None:
    """Friday 27 March 2026, 23:30 UTC, is already Saturday in Stockholm: one working day
    later is Monday 30 March at 00:30 Stockholm summer time."""
    late = dt.datetime(2026, 3, 27, 23, 30, tzinfo=dt.UTC)
    moved = add_working_days(late, 1)
    assert moved.astimezone(STOCKHOLM) == dt.datetime(2026, 3, 30, 0, 30, tzinfo=STOCKHOLM)
    assert is_working_day(dt.date(2026, 3, 30))
    assert not is_working_day(dt.date(2026, 6, 19))
