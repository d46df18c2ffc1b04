"""The case workflow's timers in the minute tick: the overdue flag after three working days,
counted from when the case came to the clinic (or the citizen last replied), fired once; the
reminder to a silent citizen; the automatic close of answered cases."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from formular.auth.permissions import Actor
from formular.cases import service, timers
from formular.storage.base import utcnow
from formular.storage.cases import Case, CaseEvent
from formular.storage.db import db
from formular.storage.identity import Role
from tests.cases import support as cs
from tests.functional import staff_support as s

WORLD_PREFIX = "c3timer"
UTC = dt.UTC
#: A Friday afternoon: three working days later is Wednesday afternoon.
FRIDAY = dt.datetime(2026, 11, 6, 15, 0, tzinfo=UTC)


def tick(app: Flask, now: dt.datetime) -> int:
    with app.app_context():
        return timers.tick(db.session(), now)


def fire(app: Flask, token: str, event: str, actor: Actor, now: dt.datetime,
         data: dict[str, Any] | None = None) -> None:
    with app.app_context():
        session = db.session()
        case = service.case_by_token(session, token)
        assert case is not None
        assert service.fire(session, case, event, actor, now, data).ok, event
        session.commit()


def history(app: Flask, token: str) -> list[tuple[str, str]]:
    with app.app_context():
        case = db.session.scalars(select(Case).where(Case.token == token)).one()
        return [(e.event, e.actor_kind) for e in db.session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id)
            .order_by(CaseEvent.at, CaseEvent.id))]


def staff(world: s.World, key: str) -> Actor:
    person = world.staff[key]
    return Actor(kind="staff", staff_user_id=person.id, display_name=person.name,
                 units={world.unit_id: frozenset({Role(key)})})


@pytest.fixture
def friday_case(sapp: Flask, cases_world: s.World, case_type: cs.StoredCaseType) -> str:
    return cs.make_case(sapp, case_type, cases_world.citizens["adult"], "Hjälp!", now=FRIDAY)


def test_not_overdue_before_three_working_days(sapp: Flask, friday_case: str) -> None:
    tick(sapp, FRIDAY + dt.timedelta(days=4, hours=23))  # Wednesday 14:00: not yet
    assert cs.case_row(sapp, friday_case)["overdue"] is False
    assert [e for e, _k in history(sapp, friday_case)] == ["submit"]


def test_flagged_once_after_three_working_days(sapp: Flask, cases_world: s.World,
                                               friday_case: str) -> None:
    wednesday = FRIDAY + dt.timedelta(days=5, minutes=1)
    tick(sapp, wednesday)
    assert cs.case_row(sapp, friday_case)["overdue"] is True
    assert history(sapp, friday_case) == [("submit", "citizen"),
                                          ("flag_unanswered", "system")]
    tick(sapp, wednesday + dt.timedelta(minutes=1))
    tick(sapp, wednesday + dt.timedelta(days=3))
    assert [e for e, _k in history(sapp, friday_case)].count("flag_unanswered") == 1
    # The inbox shows it, and filters it.
    receiver = s.staff_client(sapp, cases_world.staff["case-receiver"])
    html = s.body(receiver.get("/staff/cases/?overdue=1"))
    assert cases_world.citizens["adult"].name in html
    assert "overdue-marker" in html


def test_assigning_does_not_restart_the_clock(sapp: Flask, cases_world: s.World,
                                              friday_case: str) -> None:
    monday = FRIDAY + dt.timedelta(days=3)
    fire(sapp, friday_case, "assign", staff(cases_world, "case-receiver"), monday,
         {"assigned_to_id": cases_world.staff["case-handler"].id})
    tick(sapp, FRIDAY + dt.timedelta(days=5, minutes=1))  # Wednesday: 3 working days after
    row = cs.case_row(sapp, friday_case)
    assert (row["state"], row["overdue"]) == ("assigned", True)


def test_the_citizens_reply_restarts_the_clock_and_answering_clears_the_flag(
        sapp: Flask, cases_world: s.World, friday_case: str) -> None:
    handler = staff(cases_world, "case-handler")
    fire(sapp, friday_case, "assign", staff(cases_world, "case-receiver"), FRIDAY,
         {"assigned_to_id": cases_world.staff["case-handler"].id})
    wednesday = FRIDAY + dt.timedelta(days=5, minutes=1)
    tick(sapp, wednesday)
    assert cs.case_row(sapp, friday_case)["overdue"] is True
    fire(sapp, friday_case, "ask_citizen", handler, wednesday, {"message": "Vilken dos?"})
    assert cs.case_row(sapp, friday_case)["overdue"] is False
    citizen = cs.citizen_actor(cases_world.citizens["adult"])
    thursday = wednesday + dt.timedelta(days=1)
    fire(sapp, friday_case, "citizen_reply", citizen, thursday, {"message": "50 mg"})
    tick(sapp, thursday + dt.timedelta(days=4))  # Monday: two working days after the reply
    assert cs.case_row(sapp, friday_case)["overdue"] is False
    tick(sapp, thursday + dt.timedelta(days=5, minutes=1))  # Tuesday: three
    assert cs.case_row(sapp, friday_case)["overdue"] is True
    assert [e for e, _k in history(sapp, friday_case)].count("flag_unanswered") == 2
    fire(sapp, friday_case, "answer", handler, thursday + dt.timedelta(days=6),
         {"message": "Klart."})
    assert cs.case_row(sapp, friday_case)["overdue"] is False


def test_answered_cases_close_by_themselves_after_thirty_days(
        sapp: Flask, cases_world: s.World, friday_case: str) -> None:
    fire(sapp, friday_case, "assign", staff(cases_world, "case-receiver"), FRIDAY,
         {"assigned_to_id": cases_world.staff["case-handler"].id})
    fire(sapp, friday_case, "answer", staff(cases_world, "case-handler"), FRIDAY,
         {"message": "Svar."})
    tick(sapp, FRIDAY + dt.timedelta(days=29))
    assert cs.case_row(sapp, friday_case)["state"] == "answered"
    tick(sapp, FRIDAY + dt.timedelta(days=30, minutes=1))
    assert cs.case_row(sapp, friday_case)["state"] == "closed"
    assert history(sapp, friday_case)[-1] == ("close", "system")


def test_a_silent_citizen_is_reminded_once(sapp: Flask, cases_world: s.World,
                                           friday_case: str) -> None:
    fire(sapp, friday_case, "assign", staff(cases_world, "case-receiver"), FRIDAY,
         {"assigned_to_id": cases_world.staff["case-handler"].id})
    fire(sapp, friday_case, "ask_citizen", staff(cases_world, "case-handler"), FRIDAY,
         {"message": "Vilken dos?"})
    later = FRIDAY + dt.timedelta(days=14, minutes=1)
    tick(sapp, later)
    tick(sapp, later + dt.timedelta(days=1))
    events = [e for e, _k in history(sapp, friday_case)]
    assert events.count("remind") == 1
    assert cs.case_row(sapp, friday_case)["state"] == "waiting-for-citizen"


def test_the_minute_tick_runs_the_case_timers(sapp: Flask, cases_world: s.World,
                                              case_type: cs.StoredCaseType) -> None:
    from formular.jobs import tasks

    token = cs.make_case(sapp, case_type, cases_world.citizens["adult2"], "Gammalt ärende",
                         now=utcnow() - dt.timedelta(days=10))
    with sapp.app_context():
        outcome = tasks.tick()
    assert outcome["moved"] >= 1
    assert cs.case_row(sapp, token)["overdue"] is True
