"""Demo content of the health check: a fictional 50-year-old who has answered the health survey
and been measured at the clinic, so the demo shows a health profile at once.

Hedvig Holm (born 27 September 1976, a test number from Skatteverket's series, serial 236)
gets the survey from Vårdcentralen Norr with the design's own complete example answers (its
first valid test case), and the reviewer Bertil enters her measurements three days ago. Bo
Bengtsson (also born 1976, from :mod:`formular.demo`) gets the survey too and has not answered,
so the health-check overview shows a send-out under way. Every person is fictional.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from formular.auth.clock import swedish_today
from formular.auth.permissions import Actor
from formular.definitions.personnummer import luhn_check_digit
from formular.definitions.scores import scoring_to_json
from formular.definitions.service import Subject, compile_cached
from formular.sendouts import recipients, service, transitions
from formular.storage import drafts
from formular.storage.base import utcnow
from formular.storage.health import save_measurement
from formular.storage.identity import Citizen, Role, StaffUser, Unit
from formular.storage.models import DefinitionVersion
from formular.storage.sendouts import Assignment

SURVEY = "health-survey-50"
MEASUREMENTS = "health-measurements"
PERSON = ("Hedvig Holm", dt.date(1976, 9, 27), 6, "hedvig@example.org")
#: What the nurse measured and the laboratory reported (a few areas to talk about).
MEASURED = {"weight_kg": 78.5, "height_cm": 166, "waist_cm": 91, "systolic": 138,
            "diastolic": 86, "glucose_fasting": 5.9, "cholesterol_total": 5.6, "ldl": 3.6,
            "hdl": 1.3, "triglycerides": 1.6,
            "comment": "Fastande sedan kvällen innan. Demodata: en påhittad person."}


def seed(session: Session) -> bool:
    """Add the health-check demo once (after :func:`formular.demo.seed` made the clinic and
    staff); returns whether anything was added. Does nothing when the health designs are
    not loaded."""
    name, birth, digit, email = PERSON
    short = birth.strftime("%y%m%d") + "23" + str(digit)
    number = birth.strftime("%Y%m%d") + "23" + str(digit) + str(luhn_check_digit(short))
    if session.scalar(select(Citizen.id).where(Citizen.personnummer == number)) is not None:
        return False
    survey = drafts.latest_version(session, SURVEY)
    measurement = drafts.latest_version(session, MEASUREMENTS)
    clinic = session.scalar(select(Unit).where(Unit.slug == "vc-norr"))
    sender = session.scalar(select(StaffUser).where(StaffUser.username == "anna"))
    nurse = session.scalar(select(StaffUser.id).where(StaffUser.username == "bertil"))
    if survey is None or measurement is None or clinic is None or sender is None \
            or nurse is None:
        return False
    person = Citizen(personnummer=number, name=name, email=email, county="24",
                     listed_unit_id=clinic.id)
    session.add(person)
    session.flush()
    others = [n for n in session.scalars(select(Citizen.personnummer).where(
        Citizen.name == "Bo Bengtsson"))]
    actor = Actor(kind="staff", staff_user_id=sender.id,
                  units={clinic.id: frozenset({Role.SENDER, Role.REVIEWER})})
    now = utcnow()
    today = swedish_today(now)
    verdicts = recipients.check_rows(session, recipients.rows_from_text(
        " ".join([number, *others])), today)
    send_out, job = service.create_send_out(
        session, actor, unit_id=clinic.id, version=survey, verdicts=verdicts,
        scheduled_at=now - dt.timedelta(days=10), deadline_at=now + dt.timedelta(days=20),
        expires_at=None, reminder_days_before=[7],
        subject="Inbjudan till hälsosamtal",
        body="Hej! Du fyller 50 i år och är välkommen till ett hälsosamtal. Svara gärna på "
             "hälsoenkäten före besöket.")
    session.commit()
    service.insert_assignments(lambda: session, job.id, now=now)
    assignment = session.scalars(select(Assignment).where(
        Assignment.send_out_id == send_out.id, Assignment.citizen_id == person.id)).one()
    # Inserting the assignments ended the session's unit of work: load what is used again.
    person = assignment.citizen
    survey = assignment.send_out.definition_version
    measurement = drafts.latest_version(session, MEASUREMENTS)
    assert measurement is not None
    _answer(session, assignment, person, survey, now)
    visit = today - dt.timedelta(days=3)
    compiled = compile_cached(measurement.document, key=measurement.cache_key)
    result = compiled.validate({"visit_date": visit.isoformat(), **MEASURED}, audience="staff",
                               subject=Subject(sex=person.sex, age=person.age_on(visit)))
    if not result.ok:
        raise RuntimeError(f"demo measurements are not valid: {result.errors}")
    save_measurement(session, assignment_id=assignment.id, citizen_id=person.id,
                     version=measurement, answers=result.answers, staff_user_id=nurse,
                     based_on=0)
    session.commit()
    return True


def _example_answers(version: DefinitionVersion) -> dict[str, Any]:
    """The survey's own complete example: its first valid test case with the most answers."""
    cases = [case for case in version.document.get("tests", [])
             if case.get("expect", {}).get("valid") is True
             and case.get("audience", "citizen") == "citizen"]
    if not cases:
        raise RuntimeError(f"{version.definition_id} has no valid test case to answer with")
    best: dict[str, Any] = max(cases, key=lambda case: len(case["answers"]))["answers"]
    return best


def _answer(session: Session, assignment: Assignment, person: Citizen,
            version: DefinitionVersion, now: dt.datetime) -> None:
    citizen = Actor(kind="citizen", citizen_id=person.id)
    compiled = compile_cached(version.document, key=version.cache_key)
    result = compiled.validate(_example_answers(version), subject=Subject(
        sex=person.sex, age=person.age_on(swedish_today(now))))
    draft = drafts.create_draft(session, version, citizen_id=person.id)
    assignment.draft_id = draft.id
    transitions.fire(session, assignment, "open", citizen, now)
    drafts.save_answers(session, draft, result.answers, 0, None)
    transitions.fire(session, assignment, "save_draft", citizen, now)
    submission = drafts.submit(session, draft, result.answers, scoring_to_json(result.scoring),
                               citizen_id=person.id, answered_by_id=person.id,
                               answered_by_kind="citizen")
    assignment.submission_id = submission.id
    transitions.fire(session, assignment, "submit", citizen, now, {"answers_valid": True})
    session.flush()
