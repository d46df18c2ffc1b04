"""The health-check demo: ``formular demo`` ends with a 50-year-old whose profile can be
drawn. Seeded into a database of its own (migrated from scratch), so the demo's fixed people
and usernames never meet the other tests' data; a second run changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from formular import demo, demo_health
from formular.definitions.service import read_file
from formular.designs import store
from formular.profiles.compute import compute_profile
from formular.profiles.loader import shipped_profiles
from formular.storage import migrate
from formular.storage.db import make_engine
from formular.storage.health import HealthMeasurement
from formular.storage.identity import Citizen
from formular.storage.models import Submission
from formular.storage.sendouts import Assignment
from formular.web.health_view import score_values
from tests.conftest import DESIGNS

from . import support as h


@pytest.fixture
def demo_session(app: Flask, tmp_path: Path) -> Iterator[Session]:
    url = f"sqlite:///{tmp_path / 'demo.sqlite'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    session = Session(engine, expire_on_commit=False)
    for path in sorted(DESIGNS.glob("*.json")):
        document, problems = read_file(path)
        assert not problems
        store(session, document)
    session.commit()
    with app.app_context():
        yield session
    session.close()
    engine.dispose()


def test_demo_has_a_drawable_profile(demo_session: Session) -> None:
    session = demo_session
    summary = demo.seed(session)
    assert summary.created
    # What `formular demo` prints: every role, the health-check citizen among the citizens.
    assert {"anna", "bertil", "cecilia", "david", "eva", "gunilla", "hugo", "ingrid"} <= {
        username for username, _display in summary.staff}
    assert ("Hedvig Holm", "197609272369") in summary.citizens
    person = session.scalars(select(Citizen).where(
        Citizen.name == demo_health.PERSON[0])).one()
    assert person.personnummer == "197609272369"
    assert person.sex == "female"
    assignment = session.scalars(select(Assignment).where(
        Assignment.citizen_id == person.id)).one()
    assert assignment.state == "answered"
    assert assignment.send_out.definition_version.definition_id == h.SURVEY
    submission = session.get(Submission, assignment.submission_id)
    record = session.scalars(select(HealthMeasurement).where(
        HealthMeasurement.assignment_id == assignment.id)).one()
    assert record.answers["bmi"] == 28.5
    profile = shipped_profiles(DESIGNS)[h.PROFILE]
    assert submission is not None
    result = compute_profile(profile, survey_answers=submission.answers,
                             survey_scores=score_values(submission.scores),
                             measurements=record.answers, subject={"sex": "female", "age": 50})
    assert result.complete
    # Bo Bengtsson got the survey too and has not answered.
    others = session.scalars(select(Assignment).where(
        Assignment.send_out_id == assignment.send_out_id,
        Assignment.citizen_id != person.id)).all()
    assert [a.state for a in others] == ["sent"]
    # A second run adds nothing.
    assert demo_health.seed(session) is False
    assert session.scalar(select(func.count()).select_from(HealthMeasurement)) == 1
