"""Demo content: a region with two clinics, staff in every role, fictional citizens and a few
send-outs in different states, so a newcomer can walk every role at once.

Every person is fictional; personal identity numbers come from Skatteverket's test series
(serial numbers 238/239 with a computed check digit). Demo passwords are printed on purpose:
this content exists only in the demo setting.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from formular import demo_health
from formular.auth.permissions import Actor
from formular.casetypes import demo as casetypes_demo
from formular.definitions.personnummer import luhn_check_digit
from formular.definitions.scores import scoring_to_json
from formular.definitions.service import Subject, compile_cached
from formular.design import demo as design_demo
from formular.population.demo import seed_listed_population
from formular.sendouts import recipients, service, transitions
from formular.storage import drafts
from formular.storage.base import utcnow
from formular.storage.identity import Citizen, Guardianship, Role, RoleAssignment, StaffUser, Unit
from formular.storage.models import DefinitionVersion
from formular.storage.sendouts import Assignment, SavedText

DEMO_PASSWORD = "demo-lösen-2026"  # noqa: S105  (demo content, printed on purpose)

STAFF = [
    ("anna", "Anna Andersson (sjuksköterska)", [("vc-norr", Role.SENDER),
                                                ("vc-norr", Role.REVIEWER)]),
    ("bertil", "Bertil Berg (läkare)", [("vc-norr", Role.REVIEWER)]),
    ("cecilia", "Cecilia Carlsson (formulärdesigner)", [("vc-norr", Role.DESIGNER),
                                                      ("vc-soder", Role.DESIGNER)]),
    ("david", "David Dahl (administratör)", [("vc-norr", Role.ADMIN), ("vc-soder", Role.ADMIN)]),
    ("eva", "Eva Ek (granskare av loggar)", [("region-demo", Role.AUDITOR),
                                             ("vc-norr", Role.AUDITOR)]),
    ("fredrik", "Fredrik Falk (sjuksköterska, Söder)", [("vc-soder", Role.SENDER),
                                                        ("vc-soder", Role.REVIEWER)]),
    # Translators work on the catalogs, not on a unit's data; the role is held in the region.
    ("ingrid", "Ingrid Ivarsson (översättare)", [("region-demo", Role.TRANSLATOR)]),
]

CITIZENS = [
    # name, birth date, sex digit (even: female), email
    ("Alva Ahlström", dt.date(1976, 3, 14), 2, "alva@example.org"),
    ("Bo Bengtsson", dt.date(1976, 8, 2), 1, "bo@example.org"),
    ("Clara Cederlund", dt.date(1988, 11, 30), 4, None),
    ("Dag Dahlgren", dt.date(1961, 1, 9), 3, "dag@example.org"),
    ("Ellen Ek", dt.date(1999, 6, 21), 6, "ellen@example.org"),
    ("Filip Fors", dt.date(2017, 4, 5), 5, None),  # a child: Alva is his guardian
    ("Greta Gran", dt.date(2011, 9, 17), 8, "greta@example.org"),  # 13+: answers herself
]


def demo_personnummer(birth: dt.date, sex_digit: int) -> str:
    short = birth.strftime("%y%m%d") + "23" + str(sex_digit)
    return birth.strftime("%Y%m%d") + "23" + str(sex_digit) + str(luhn_check_digit(short))


@dataclass
class DemoSummary:
    created: bool
    staff: list[tuple[str, str]]
    citizens: list[tuple[str, str]]


def seed(session: Session) -> DemoSummary:
    """Create the demo content once; a second run changes nothing."""
    from formular.auth.passwords import hash_password

    staff_list = [(username, display) for username, display, _roles in STAFF] + [
        (username, display) for username, display, _roles in casetypes_demo.STAFF]
    citizen_list = [(name, demo_personnummer(birth, digit))
                    for name, birth, digit, _ in [*CITIZENS, demo_health.PERSON]]
    if session.scalar(select(Unit).where(Unit.slug == "region-demo")) is not None:
        return DemoSummary(False, staff_list, citizen_list)
    region = Unit(slug="region-demo", name="Region Demo", kind="region")
    session.add(region)
    session.flush()
    units = {"region-demo": region}
    for slug, name in [("vc-norr", "Vårdcentralen Norr"), ("vc-soder", "Vårdcentralen Söder")]:
        units[slug] = Unit(slug=slug, name=name, kind="clinic", parent_id=region.id)
        session.add(units[slug])
    session.flush()
    hashed = hash_password(DEMO_PASSWORD)
    users: dict[str, StaffUser] = {}
    for username, display, roles in STAFF:
        user = StaffUser(username=username, display_name=display, password_hash=hashed,
                         email=f"{username}@example.org")
        session.add(user)
        session.flush()
        users[username] = user
        for slug, role in roles:
            session.add(RoleAssignment(user_id=user.id, unit_id=units[slug].id, role=role))
    people: list[Citizen] = []
    for name, birth, digit, email in CITIZENS:
        person = Citizen(personnummer=demo_personnummer(birth, digit), name=name, email=email,
                         county="24", listed_unit_id=units["vc-norr"].id)
        session.add(person)
        people.append(person)
    session.flush()
    session.add(Guardianship(guardian_id=people[0].id, child_id=people[5].id))
    session.add(SavedText(unit_id=units["vc-norr"].id, title="Inför ditt besök",
                          body="Hej! Svara gärna på formuläret före ditt besök hos oss. "
                               "Dina svar läses av din sjuksköterska."))
    session.flush()
    seed_listed_population(session, units["vc-norr"])  # listed population, 1976 cohort (#7)
    _send_outs(session, units["vc-norr"], users["anna"], people)
    demo_health.seed(session)  # a 50-year-old with a health profile (issue #7)
    design_demo.seed(session)  # a design draft and a shared template (issue #4)
    casetypes_demo.seed(  # case types, standard replies, case staff (#6)
        session, units["vc-norr"], units["vc-soder"], hashed)
    from formular.cases import demo_inbox  # errands in the case inbox (#6)

    demo_inbox.seed(session, units["vc-norr"])
    return DemoSummary(True, staff_list, citizen_list)


def _send_outs(session: Session, clinic: Unit, sender: StaffUser, people: list[Citizen]) -> None:
    actor = Actor(kind="staff", staff_user_id=sender.id,
                  units={clinic.id: frozenset({Role.SENDER, Role.REVIEWER})})
    today = dt.date.today()
    now = utcnow()
    phq = _latest(session, "phq-9")
    gad = _latest(session, "gad-7")
    numbers = " ".join(p.personnummer for p in people)
    verdicts = recipients.check_rows(session, recipients.rows_from_text(numbers), today)
    send_out, job = service.create_send_out(
        session, actor, unit_id=clinic.id, version=phq, verdicts=verdicts,
        scheduled_at=now - dt.timedelta(days=2), deadline_at=now + dt.timedelta(days=12),
        expires_at=now + dt.timedelta(days=30), reminder_days_before=[3],
        subject="Frågor om ditt mående", body="Hej! Svara gärna på frågorna före ditt besök.")
    session.commit()
    service.insert_assignments(lambda: session, job.id, now=now)
    rows = {a.citizen_id: a for a in session.scalars(
        select(Assignment).where(Assignment.send_out_id == send_out.id))}
    answers = {"phq1": 2, "phq2": 2, "phq3": 1, "phq4": 2, "phq5": 1, "phq6": 2, "phq7": 2,
               "phq8": 1, "phq9": 1, "phq10": "ganska-svart"}
    _answer(session, rows[people[0].id], people[0], answers, now)          # answered
    _answer(session, rows[people[1].id], people[1], {k: 0 for k in answers if k != "phq10"},
            now)
    transitions.fire(session, rows[people[1].id], "handle", actor, now)       # handled
    citizen = Actor(kind="citizen", citizen_id=people[3].id)
    transitions.fire(session, rows[people[3].id], "open", citizen, now)      # opened
    session.commit()
    later = recipients.check_rows(session, recipients.rows_from_text(people[4].personnummer),
                                  today)
    scheduled, job2 = service.create_send_out(
        session, actor, unit_id=clinic.id, version=gad, verdicts=later,
        scheduled_at=now + dt.timedelta(days=5), deadline_at=now + dt.timedelta(days=20),
        expires_at=None, reminder_days_before=[], subject="Frågor om oro",
        body="Hej! Här kommer några frågor om oro och ångest.")
    session.commit()
    service.insert_assignments(lambda: session, job2.id, now=now)
    session.commit()


def _latest(session: Session, definition_id: str) -> DefinitionVersion:
    version = drafts.latest_version(session, definition_id)
    if version is None:
        raise RuntimeError(f"design {definition_id} is not loaded")
    return version


def _answer(session: Session, assignment: Assignment, person: Citizen, answers: dict[str, object],
            now: dt.datetime) -> None:
    citizen = Actor(kind="citizen", citizen_id=person.id)
    version = assignment.send_out.definition_version
    compiled = compile_cached(version.document, key=version.cache_key)
    result = compiled.validate(answers, subject=Subject(sex=person.sex,
                                                        age=person.age_on(now.date())))
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
