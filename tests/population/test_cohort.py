"""Cohort send-outs: who is born in the year (the year's first and last day, samordningsnummer),
the wizard's exclusions, the preview, the send-out with its automatic reminder, and replays."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from formular.auth.clock import swedish_today
from formular.population import cohort
from formular.population.service import cohort_numbers, cohort_verdicts
from formular.sendouts import timers
from formular.storage.audit import EventLog
from formular.storage.base import utcnow
from formular.storage.db import db
from formular.storage.population import CohortInvitation
from formular.storage.sendouts import Assignment, AssignmentEvent, SendOut
from formular.web.staff import REASONS
from formular.web.timezone import end_of_local_day
from tests.functional import staff_support as s
from tests.functional.support import assert_accessible, parse

from .support import (
    cohort_job,
    confirm_cohort,
    make_person,
    number,
    send_out_id_of,
    start_cohort,
)

WORLD_PREFIX = "cohort"


# -- pure -----------------------------------------------------------------------------------


def test_birth_year_is_the_year_minus_the_age() -> None:
    assert cohort.birth_year(2026, 50) == 1976
    assert cohort.birth_year(2026, 0) == 2026
    with pytest.raises(ValueError, match="age"):
        cohort.birth_year(2026, 131)
    with pytest.raises(ValueError, match="year"):
        cohort.birth_year(1899, 10)


def test_the_range_covers_exactly_the_year() -> None:
    low, high = cohort.number_range(1976)
    first, last = number(dt.date(1976, 1, 1), 2), number(dt.date(1976, 12, 31), 2)
    before, after = number(dt.date(1975, 12, 31), 2), number(dt.date(1977, 1, 1), 2)
    assert low <= first < high
    assert low <= last < high
    assert not low <= before < high
    assert not low <= after < high


@pytest.mark.parametrize(("birth", "coordination", "inside"), [
    (dt.date(1976, 1, 1), False, True),
    (dt.date(1976, 12, 31), False, True),
    (dt.date(1975, 12, 31), False, False),
    (dt.date(1977, 1, 1), False, False),
    (dt.date(1976, 1, 1), True, True),      # day 61
    (dt.date(1976, 12, 31), True, True),    # day 91
    (dt.date(1975, 12, 31), True, False),
    (dt.date(1977, 1, 1), True, False),
])
def test_born_in_reads_the_birth_date(birth: dt.date, coordination: bool, inside: bool) -> None:
    assert cohort.born_in(number(birth, 2, coordination), 1976) is inside


def test_born_in_refuses_a_broken_number() -> None:
    assert not cohort.born_in("197613312384", 1976)


# -- the database ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def people(sapp: Flask, world: s.World) -> dict[str, s.Person]:
    """People born around 1976, most of them listed at clinic A."""
    unit, other = world.unit_id, world.other_unit_id
    made = {
        "first": make_person(sapp, "Första Januari", dt.date(1976, 1, 1), listed_unit_id=unit),
        "last": make_person(sapp, "Sista December", dt.date(1976, 12, 31),
                            listed_unit_id=unit, email=None),
        "co-last": make_person(sapp, "Samordnad Sist", dt.date(1976, 12, 31),
                               coordination=True, listed_unit_id=unit),
        "co-first": make_person(sapp, "Samordnad Först", dt.date(1976, 1, 1),
                                coordination=True, listed_unit_id=unit),
        "before": make_person(sapp, "Före Året", dt.date(1975, 12, 31), listed_unit_id=unit),
        "after": make_person(sapp, "Efter Året", dt.date(1977, 1, 1), listed_unit_id=unit),
        "co-after": make_person(sapp, "Samordnad Efter", dt.date(1977, 1, 1),
                                coordination=True, listed_unit_id=unit),
        "elsewhere": make_person(sapp, "Annan Enhet", dt.date(1976, 6, 1),
                                 listed_unit_id=other),
        "unlisted": make_person(sapp, "Ej Listad", dt.date(1976, 6, 2)),
        "deceased": make_person(sapp, "Död Dahl", dt.date(1976, 6, 3), listed_unit_id=unit,
                                deceased=True),
        "locked": make_person(sapp, "Låst Lind", dt.date(1976, 6, 4), listed_unit_id=unit,
                              locked=True),
        "protected": make_person(sapp, "Skyddad Sköld", dt.date(1976, 6, 5),
                                 listed_unit_id=unit, protected_identity=True),
    }
    return made


INVITED = ("first", "last", "co-last", "co-first", "protected")


def test_the_cohort_is_everyone_listed_and_born_that_year(
        sapp: Flask, world: s.World, people: dict[str, s.Person]) -> None:
    with sapp.app_context():
        found = cohort_numbers(db.session(), world.unit_id, 1976)
    expected = {people[k].personnummer for k in (*INVITED, "deceased", "locked")}
    assert set(found) == expected


def test_the_cohort_is_judged_like_the_wizard(sapp: Flask, world: s.World,
                                              people: dict[str, s.Person]) -> None:
    with sapp.app_context():
        verdicts = cohort_verdicts(db.session(), world.unit_id, 2026, 50, dt.date(2026, 3, 1))
    by_id = {v.citizen_id: (v.status, v.reason) for v in verdicts}
    assert by_id[people["deceased"].id] == ("error", "deceased")
    assert by_id[people["locked"].id] == ("error", "locked")
    assert by_id[people["protected"].id] == ("warning", "protected")
    assert {people[k].id for k in INVITED} == {c for c, (st, _r) in by_id.items()
                                               if st != "error"}


# -- the pages ------------------------------------------------------------------------------


def future(days: int) -> str:
    return (swedish_today(utcnow()) + dt.timedelta(days=days)).isoformat()


def test_a_sender_invites_the_cohort_with_an_automatic_reminder(
        sapp: Flask, world: s.World, sender: Any, people: dict[str, s.Person]) -> None:
    year = 1976 + 50
    response = start_cohort(sender, world.unit_id, year=year, age=50, deadline=future(42),
                            reminder_days="14", subject="Hälsosamtal",
                            message="Välkommen till hälsosamtal.")
    assert response.status_code == 302, s.body(response)[:2000]
    job_id = cohort_job(response)
    preview = sender.get(f"/staff/cohorts/preview/{job_id}")
    assert preview.status_code == 200
    html = s.body(preview)
    dom = assert_accessible(html)
    text = dom.text()
    for key in INVITED:
        assert people[key].name in text, key
    for key in ("before", "after", "co-after", "elsewhere", "unlisted"):
        assert people[key].name not in text, key
    left_out = next(t for t in dom.find_all("table", class_="results")
                    if people["deceased"].name in t.text())
    with sapp.app_context():
        assert str(REASONS["deceased"]) in left_out.text()
        assert str(REASONS["locked"]) in left_out.text()
    events_before = _count(sapp, EventLog, EventLog.event == "send-out.created")

    confirmed = confirm_cohort(sender, job_id)
    assert confirmed.status_code == 302
    send_out_id = send_out_id_of(confirmed)
    with sapp.app_context():
        row = db.session.get(SendOut, send_out_id)
        assert row is not None
        assert row.reminder_days_before == [14]
        assert row.status in ("scheduled", "sent")
        assert row.deadline_at is not None
        assert row.message_subject == "Hälsosamtal"
        assert (row.total, row.unit_id) == (len(INVITED), world.unit_id)
        recipients = set(db.session.scalars(select(Assignment.citizen_id).where(
            Assignment.send_out_id == send_out_id)))
        assert recipients == {people[k].id for k in INVITED}
        invitation = db.session.scalars(select(CohortInvitation).where(
            CohortInvitation.send_out_id == send_out_id)).one()
        assert (invitation.year, invitation.age, invitation.unit_id) == (year, 50,
                                                                         world.unit_id)
        event = db.session.scalars(select(EventLog).where(
            EventLog.event == "send-out.created", EventLog.object_id == send_out_id)).one()
        assert event.data["cohort"] == {"year": year, "age": 50, "born": 1976}
    assert _count(sapp, EventLog, EventLog.event == "send-out.created") == events_before + 1
    follow_up = sender.get(f"/staff/sendouts/{send_out_id}")
    assert follow_up.status_code == 200
    assert f"/staff/sendouts/{send_out_id}/letters" in s.body(follow_up)

    # Replaying the confirmation makes nothing twice.
    again = sender.post(f"/staff/cohorts/preview/{job_id}",
                        data={"csrf_token": s.fresh_csrf(sender)})
    assert again.status_code == 302
    assert send_out_id_of(again) == send_out_id
    assert _count(sapp, SendOut, SendOut.id >= send_out_id) == 1

    # The existing timers send the automatic reminder 14 days before the deadline.
    with sapp.app_context():
        session = db.session()
        row = session.get(SendOut, send_out_id)
        assert row is not None
        assert row.deadline_at is not None
        deadline = end_of_local_day(dt.date.fromisoformat(future(42)))
        if row.status == "scheduled":
            from formular.sendouts import service

            service.release_due(session, utcnow())
            session.commit()
        # The tick serves every send-out in the database (other tests' too): count this
        # send-out's reminders only.
        def reminded() -> int:
            return int(session.scalar(select(func.count()).select_from(AssignmentEvent).join(
                Assignment, Assignment.id == AssignmentEvent.assignment_id).where(
                Assignment.send_out_id == send_out_id, AssignmentEvent.event == "remind"))
                or 0)

        timers.tick(session, deadline - dt.timedelta(days=15))
        assert reminded() == 0
        timers.tick(session, deadline - dt.timedelta(days=14) + dt.timedelta(hours=1))
        assert reminded() == len(INVITED)


def _count(app: Flask, model: Any, *where: Any) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(model).where(*where))
                   or 0)


@pytest.mark.parametrize(("options", "field"), [
    ({"deadline": "", "reminder_days": "14"}, "reminder_days"),
    ({"deadline": future(10), "reminder_days": "14"}, "reminder_days"),
    ({"deadline": (dt.date.today() - dt.timedelta(days=3)).isoformat(),
      "reminder_days": ""}, "deadline"),
    ({"deadline": future(40), "reminder_days": "0"}, "reminder_days"),
])
def test_impossible_timing_is_a_field_error(sapp: Flask, world: s.World, sender: Any,
                                            options: dict[str, str], field: str) -> None:
    response = start_cohort(sender, world.unit_id, year=2026, **options)
    assert response.status_code == 400
    dom = assert_accessible(s.body(response))
    assert dom.find(id=f"{field}-error") is not None


@pytest.mark.parametrize(("year", "age"), [("2026", "131"), ("1800", "50"), ("", "50"),
                                           ("2026", "x")])
def test_a_bad_year_or_age_is_a_field_error(sapp: Flask, world: s.World, sender: Any,
                                            year: str, age: str) -> None:
    page = sender.get("/staff/cohorts/new")
    response = sender.post("/staff/cohorts/new", data={
        "csrf_token": s.csrf_of(s.body(page)), "unit": str(world.unit_id),
        "definition": "phq-9", "year": year, "age": age, "deadline": future(40),
        "reminder_days": "7", "saved_text": "0"})
    assert response.status_code == 400
    assert_accessible(s.body(response))


def test_the_form_offers_defaults(sender: Any) -> None:
    page = sender.get("/staff/cohorts/new")
    assert page.status_code == 200
    dom = assert_accessible(s.body(page))
    age = dom.find(id="age")
    reminder = dom.find(id="reminder_days")
    year = dom.find(id="year")
    assert age is not None
    assert age.attrs.get("value") == "50"
    assert reminder is not None
    assert reminder.attrs.get("value") == "14"
    assert year is not None
    assert year.attrs.get("value") == str(swedish_today(utcnow()).year)


def test_an_empty_cohort_cannot_be_sent(sapp: Flask, world: s.World, sender: Any) -> None:
    response = start_cohort(sender, world.unit_id, year=2026, age=120, deadline=future(40))
    job_id = cohort_job(response)
    html = s.body(sender.get(f"/staff/cohorts/preview/{job_id}"))
    main = html.split("<main", 1)[1].split("</main>", 1)[0]
    assert "<form" not in main, "no send button for an empty cohort"
    with sapp.app_context():
        assert str(translate_nobody(world.unit_name)) in parse(main).text()
    before = _count(sapp, SendOut)
    posted = sender.post(f"/staff/cohorts/preview/{job_id}",
                         data={"csrf_token": s.fresh_csrf(sender)})
    assert posted.status_code == 302
    assert _count(sapp, SendOut) == before


def translate_nobody(unit: str) -> str:
    from flask_babel import gettext

    return str(gettext("Nobody listed at %(unit)s was born in %(born)s.", unit=unit,
                       born=2026 - 120))


def test_other_units_and_roles_are_kept_out(sapp: Flask, world: s.World, sender: Any,
                                            people: dict[str, s.Person]) -> None:
    job_id = cohort_job(start_cohort(sender, world.unit_id, year=2026, deadline=future(40)))
    url = f"/staff/cohorts/preview/{job_id}"
    other = s.staff_client(sapp, world.staff["b-sender"])
    assert other.get(url).status_code == 404
    assert other.post(url, data={"csrf_token": s.fresh_csrf(other)}).status_code == 404
    reviewer = s.staff_client(sapp, world.staff["reviewer"])
    assert reviewer.get(url).status_code == 403
    assert reviewer.get("/staff/cohorts/new").status_code == 403
    # Another unit's sender cannot aim the form at clinic A.
    page = other.get("/staff/cohorts/new")
    response = other.post("/staff/cohorts/new", data={
        "csrf_token": s.csrf_of(s.body(page)), "unit": str(world.unit_id),
        "definition": "phq-9", "year": "2026", "age": "50", "deadline": future(40),
        "reminder_days": "7", "saved_text": "0"})
    assert response.status_code == 400
    assert people["first"].name not in s.body(response)
