"""Helpers of the health-check tests: a visit (a health-survey assignment) answered through the
service functions, the measurement page driven through HTTP the way a browser without
JavaScript does, and look-ups of what was stored.

The survey answers come from the survey's own test cases (the complete answers of a
50-year-old woman), so these tests follow the design rather than repeating it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from formular.auth.permissions import Actor
from formular.definitions.scores import scoring_to_json
from formular.definitions.service import Subject, compile_cached
from formular.sendouts import transitions
from formular.storage import drafts
from formular.storage.audit import EventLog
from formular.storage.base import utcnow
from formular.storage.db import db
from formular.storage.health import HealthMeasurement
from formular.storage.identity import Citizen
from formular.storage.sendouts import Assignment
from tests.conftest import DESIGNS
from tests.functional import staff_support as s

SURVEY = "health-survey-50"
PROFILE = "health-profile-example"
MEASUREMENTS = "health-measurements"

#: Complete measurements (every lab value), as typed into the form (Swedish decimal commas).
TYPED = {"visit_date": "2026-03-02", "weight_kg": "72,5", "height_cm": "168", "waist_cm": "84",
         "systolic": "128", "diastolic": "82", "glucose_fasting": "5,4",
         "cholesterol_total": "5,2", "ldl": "3,1", "hdl": "1,6", "triglycerides": "1,2",
         "comment": ""}
#: The same as stored (BMI calculated: 72.5 / 1.68² = 25.7).
STORED = {"visit_date": "2026-03-02", "weight_kg": 72.5, "height_cm": 168, "waist_cm": 84,
          "systolic": 128, "diastolic": 82, "glucose_fasting": 5.4, "cholesterol_total": 5.2,
          "ldl": 3.1, "hdl": 1.6, "triglycerides": 1.2}


def survey_answers() -> dict[str, Any]:
    """The first complete, valid answers among the survey's own test cases."""
    document = json.loads((DESIGNS / f"{SURVEY}.json").read_text(encoding="utf-8"))
    for case in document.get("tests", []):
        if case.get("expect", {}).get("valid") is True and len(case["answers"]) > 20:
            answers: dict[str, Any] = case["answers"]
            return answers
    raise AssertionError("the survey has no complete valid test case")


def add_man(app: Flask, name: str, birth: dt.date) -> s.Person:
    """A man (odd sex digit) born on ``birth``, with a test number nobody has yet."""
    from tests import factories

    with app.app_context():
        session = db.session()
        for digit in (1, 3, 5, 7, 9):
            number = factories.fake_personnummer(birth, sex_digit=digit)
            if session.scalar(select(Citizen.id).where(Citizen.personnummer == number)) is None:
                row = factories.citizen(session, birth, personnummer=number, name=name)
                session.commit()
                return s.Person(row.id, row.name, row.personnummer)
    raise AssertionError(f"no free test number for a man born {birth}")


def send_survey(app: Flask, world: s.World, citizen_ids: list[int]) -> int:
    return s.send_out_via_service(app, world, SURVEY, citizen_ids)


def answer_survey(app: Flask, send_out_id: int, citizen_id: int,
                  answers: dict[str, Any] | None = None) -> str:
    """Open, save and submit the citizen's assignment with valid answers (as the citizen);
    returns the assignment's token."""
    with app.app_context():
        session = db.session()
        assignment = session.scalars(select(Assignment).where(
            Assignment.send_out_id == send_out_id, Assignment.citizen_id == citizen_id)).one()
        person = session.get(Citizen, citizen_id)
        assert person is not None
        now = utcnow()
        citizen = Actor(kind="citizen", citizen_id=person.id)
        version = assignment.send_out.definition_version
        compiled = compile_cached(version.document, key=version.cache_key)
        result = compiled.validate(answers or survey_answers(), subject=Subject(
            sex=person.sex, age=person.age_on(now.date())))
        assert result.ok, result.errors
        draft = drafts.create_draft(session, version, citizen_id=person.id)
        assignment.draft_id = draft.id
        transitions.fire(session, assignment, "open", citizen, now)
        drafts.save_answers(session, draft, result.answers, 0, None)
        transitions.fire(session, assignment, "save_draft", citizen, now)
        submission = drafts.submit(session, draft, result.answers,
                                   scoring_to_json(result.scoring), citizen_id=person.id,
                                   answered_by_id=person.id, answered_by_kind="citizen")
        assignment.submission_id = submission.id
        transitions.fire(session, assignment, "submit", citizen, now, {"answers_valid": True})
        token = assignment.token
        session.commit()
    return token


def token_of(app: Flask, send_out_id: int, citizen_id: int) -> str:
    return str(s.assignment_of(app, send_out_id, citizen_id).token)


# -- the measurement page ------------------------------------------------------------------

_REVISION = re.compile(r'name="_revision" value="(\d+)"')


def page_of(client: FlaskClient, token: str) -> Any:
    return client.get(f"/staff/assignments/{token}/measurements")


def revision_of(html: str) -> str:
    found = _REVISION.search(html)
    assert found, "no revision on the page"
    return found.group(1)


def post_measurements(client: FlaskClient, token: str, values: dict[str, str] | None = None,
                      *, html: str | None = None, **overrides: str) -> Any:
    """Post the measurement form as it was when ``html`` (default: a fresh GET) was shown."""
    html = html if html is not None else s.body(page_of(client, token))
    data = {"csrf_token": s.csrf_of(html), "_revision": revision_of(html),
            **(values if values is not None else TYPED), **overrides}
    return client.post(f"/staff/assignments/{token}/measurements", data=data)


def stored(app: Flask, token: str) -> HealthMeasurement | None:
    with app.app_context():
        session = db.session()
        assignment = session.scalars(select(Assignment).where(Assignment.token == token)).one()
        row = session.scalars(select(HealthMeasurement).where(
            HealthMeasurement.assignment_id == assignment.id)).first()
        if row is not None:
            session.expunge(row)
        return row


def events(app: Flask, object_id: int, event: str = "measurement.saved") -> list[dict[str, Any]]:
    with app.app_context():
        return [dict(row.data) for row in db.session.scalars(select(EventLog).where(
            EventLog.event == event, EventLog.object_type == "health_measurement",
            EventLog.object_id == object_id).order_by(EventLog.id))]


def measure(client: FlaskClient, token: str, **overrides: str) -> None:
    """Enter complete measurements through the page; fails unless they are saved."""
    response = post_measurements(client, token, **overrides)
    assert response.status_code == 302, s.body(response)[:3000]


def visit_day() -> dt.date:
    return dt.date.fromisoformat(STORED["visit_date"])
