"""The case service: creation, the workflow through the engine, messages, attachments,
refusals that write nothing."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import func, select

from formular.auth.permissions import ANONYMOUS
from formular.cases import service
from formular.storage.base import utcnow
from formular.storage.cases import Case, CaseAttachment, CaseEvent, CaseMessage
from formular.storage.db import db
from formular.storage.sendouts import InboxMessage, Notification
from tests.cases import support as cs
from tests.functional.staff_support import World

WORLD_PREFIX = "c1svc"


def _counts(app: Flask, token: str) -> dict[str, int]:
    with app.app_context():
        session = db.session()
        case_id = session.scalars(select(Case.id).where(Case.token == token)).one()
        return {name: int(session.scalar(select(func.count()).select_from(model)
                                          .where(model.case_id == case_id)) or 0)
                for name, model in (("messages", CaseMessage), ("events", CaseEvent),
                                    ("files", CaseAttachment))}


def test_a_case_goes_through_the_whole_workflow(sapp: Flask, cases_world: World,
                                                 case_type: cs.StoredCaseType) -> None:
    token = cs.make_case(sapp, case_type, cases_world.citizens["adult"])
    assert cs.case_row(sapp, token)["state"] == "new"
    receiver = cases_world.actor("case-receiver")
    handler_id = cases_world.staff["case-handler"].id
    handler = cases_world.actor("case-handler")
    citizen = cs.citizen_actor(cases_world.citizens["adult"])

    assert cs.fire_as(sapp, token, "assign", receiver, {"assigned_to_id": handler_id}).ok
    assert cs.case_row(sapp, token)["assigned_to_id"] == handler_id
    assert cs.fire_as(sapp, token, "ask_citizen", handler,
                      {"message": "Vilket apotek vill du använda?"}).target == \
        "waiting-for-citizen"
    assert cs.fire_as(sapp, token, "citizen_reply", citizen,
                      {"message": "Apoteket Hjärtat."}).target == "assigned"
    assert cs.fire_as(sapp, token, "answer", handler,
                      {"message": "Receptet är förnyat."}).target == "answered"
    assert cs.fire_as(sapp, token, "close", handler, {"message": ""}).target == "closed"
    row = cs.case_row(sapp, token)
    assert row["state"] == "closed"
    assert row["closed_at"] is not None
    with sapp.app_context():
        session = db.session()
        case = service.case_by_token(session, token)
        assert case is not None
        kinds = [(m.kind, m.author_staff_id is not None) for m in service.messages_of(session,
                                                                                     case)]
        events = [(e.event, e.from_state, e.to_state, e.actor_kind)
                  for e in service.events_of(session, case)]
    # The close without a closing text writes no message.
    assert kinds == [("question", True), ("citizen_reply", False), ("answer", True)]
    assert events == [
        ("submit", None, "new", "citizen"), ("assign", "new", "assigned", "staff"),
        ("ask_citizen", "assigned", "waiting-for-citizen", "staff"),
        ("citizen_reply", "waiting-for-citizen", "assigned", "citizen"),
        ("answer", "assigned", "answered", "staff"), ("close", "answered", "closed", "staff"),
    ]


def test_refusals_write_nothing(sapp: Flask, cases_world: World,
                                case_type: cs.StoredCaseType) -> None:
    token = cs.make_case(sapp, case_type, cases_world.citizens["adult2"])
    before = _counts(sapp, token)
    citizen = cs.citizen_actor(cases_world.citizens["adult2"])
    handler = cases_world.actor("case-handler")
    cases: list[tuple[str, Any, dict[str, Any], str]] = [
        # The citizen may answer only a question.
        ("citizen_reply", citizen, {"message": "Hej"}, "no-transition"),
        # A handler may not assign (the receiver does).
        ("assign", handler, {"assigned_to_id": cases_world.staff["case-handler"].id},
         "forbidden"),
        # Only staff with case-reply permission at the unit can be assigned.
        ("assign", cases_world.actor("case-receiver"),
         {"assigned_to_id": cases_world.staff["b-case-handler"].id}, "not-assignable"),
        ("assign", cases_world.actor("case-receiver"),
         {"assigned_to_id": cases_world.staff["reviewer"].id}, "not-assignable"),
        ("assign", cases_world.actor("case-receiver"), {"assigned_to_id": "1"},
         "not-assignable"),
        # Staff of another clinic hold no permission on this case.
        ("partial_reply", cases_world.actor("b-case-handler"), {"message": "Hej"},
         "forbidden"),
        # A message event needs a message.
        ("partial_reply", handler, {"message": "   "}, "message-empty"),
    ]
    for event, actor, data, reason in cases:
        result = cs.fire_as(sapp, token, event, actor, data)
        assert (result.ok, result.reason) == (False, reason), (event, data)
    assert _counts(sapp, token) == before
    assert cs.case_row(sapp, token)["state"] == "new"


def test_replies_to_a_closed_case_are_refused(sapp: Flask, cases_world: World,
                                              case_type: cs.StoredCaseType) -> None:
    token = cs.make_case(sapp, case_type, cases_world.citizens["adult3"])
    citizen = cs.citizen_actor(cases_world.citizens["adult3"])
    assert cs.fire_as(sapp, token, "withdraw", citizen).target == "closed"
    before = _counts(sapp, token)
    for event, actor in (("citizen_reply", citizen), ("withdraw", citizen),
                         ("answer", cases_world.actor("case-handler")),
                         ("close", cases_world.actor("case-handler"))):
        result = cs.fire_as(sapp, token, event, actor, {"message": "Hej"})
        assert (result.ok, result.reason) == (False, "no-transition"), event
    assert _counts(sapp, token) == before


def test_notifications_carry_no_case_content(sapp: Flask, cases_world: World,
                                             case_type: cs.StoredCaseType) -> None:
    person = cases_world.citizens["outsider"]
    with sapp.app_context():
        from formular.storage.identity import Citizen

        session = db.session()
        row = session.get(Citizen, person.id)
        assert row is not None
        row.email = "ulla.utanfor@example.org"
        session.commit()
    token = cs.make_case(sapp, case_type, person)
    secret = "Mitt känsliga provsvar om sköldkörteln"
    cs.fire_as(sapp, token, "assign", cases_world.actor("case-receiver"),
               {"assigned_to_id": cases_world.staff["case-handler"].id})
    cs.fire_as(sapp, token, "ask_citizen", cases_world.actor("case-handler"), {"message": secret})
    with sapp.app_context():
        session = db.session()
        inbox = session.scalars(select(InboxMessage).where(
            InboxMessage.citizen_id == person.id)).all()
        mails = session.scalars(select(Notification).where(
            Notification.to_address == "ulla.utanfor@example.org")).all()
    assert len(inbox) == 1
    assert len(mails) == 1
    for text in (inbox[0].subject, inbox[0].body, mails[0].subject, mails[0].body):
        assert secret not in text
        assert case_type.title not in text


def test_overdue_flag_is_raised_by_the_timer_event_and_cleared_by_an_answer(
        sapp: Flask, cases_world: World, case_type: cs.StoredCaseType) -> None:
    token = cs.make_case(sapp, case_type, cases_world.citizens["adult"])
    assert cs.fire_as(sapp, token, "flag_unanswered", ANONYMOUS).ok
    assert cs.case_row(sapp, token)["overdue"] is True
    # Staff cannot fire the system's events.
    assert cs.fire_as(sapp, token, "flag_unanswered",
                      cases_world.actor("case-receiver")).reason == "forbidden"
    cs.fire_as(sapp, token, "assign", cases_world.actor("case-receiver"),
               {"assigned_to_id": cases_world.staff["case-handler"].id})
    cs.fire_as(sapp, token, "answer", cases_world.actor("case-handler"), {"message": "Klart."})
    assert cs.case_row(sapp, token)["overdue"] is False


def test_attachments_are_checked_by_content_and_counted(sapp: Flask) -> None:
    with sapp.test_request_context("/"):
        ok, problems = service.check_attachments(
            [("recept.pdf", cs.PDF), ("bild.png", cs.PNG)], service.CITIZEN_MAX_FILES)
        assert [f.content_type for f in ok] == ["application/pdf", "image/png"]
        assert problems == []
        _ok, problems = service.check_attachments(
            [("virus.pdf", b"MZ\x90\x00 not a pdf"), ("tom.png", b""),
             ("stor.pdf", b"%PDF-" + b"0" * service.MAX_FILE_SIZE)],
            service.CITIZEN_MAX_FILES)
        assert [(p.filename, p.reason) for p in problems] == [
            ("virus.pdf", "type"), ("tom.png", "empty"), ("stor.pdf", "too-large")]
        assert all(p.text() for p in problems)
        _ok, problems = service.check_attachments([("a.pdf", cs.PDF)] * 6,
                                                  service.CITIZEN_MAX_FILES)
        assert [p.reason for p in problems] == ["too-many"]
        _ok, problems = service.check_attachments([("a.pdf", cs.PDF)] * 10,
                                                  service.STAFF_MAX_FILES)
        assert problems == []


def test_creating_the_same_case_twice_gives_one_case(sapp: Flask, cases_world: World,
                                                     case_type: cs.StoredCaseType) -> None:
    token = cs.make_case(sapp, case_type, cases_world.citizens["adult"],
                         files=[("intyg.pdf", cs.PDF)])
    with sapp.app_context():
        from formular.storage.cases import CaseDraft
        from formular.storage.models import Submission

        session = db.session()
        case = service.case_by_token(session, token)
        assert case is not None
        case_draft = session.scalars(select(CaseDraft).where(
            CaseDraft.draft_id == case.draft_id)).one()
        submission = session.get(Submission, case.submission_id)
        assert submission is not None
        again = service.create_case(session, case_draft, submission,
                                    cs.citizen_actor(cases_world.citizens["adult"]), utcnow(),
                                    [])
        session.commit()
        assert again.id == case.id
    assert _counts(sapp, token) == {"messages": 0, "events": 1, "files": 1}


def test_a_long_clinic_name_does_not_break_the_notices(sapp: Flask,
                                                       cases_world: World) -> None:
    """Subjects are cut to their column (PostgreSQL refuses over-long text)."""
    from formular.storage.identity import Citizen, Role
    from tests import factories

    with sapp.app_context():
        session = db.session()
        unit = factories.unit(session, slug=f"{WORLD_PREFIX}-long", name="Å" * 200)
        handler = factories.staff(session, [(unit, Role.CASE_HANDLER)],
                                  username=f"{WORLD_PREFIX}-long-handler")
        citizen = session.get(Citizen, cases_world.citizens["adult3"].id)
        assert citizen is not None
        citizen.email = "cecilia.ceder@example.org"
        session.commit()
        unit_id, handler_id = unit.id, handler.id
    case_type = cs.add_case_type(sapp, unit_id, "Långt namn")
    token = cs.make_case(sapp, case_type, cases_world.citizens["adult3"])
    from formular.auth.permissions import Actor

    actor = Actor(kind="staff", staff_user_id=handler_id,
                  units={unit_id: frozenset({Role.CASE_HANDLER})})
    assert cs.fire_as(sapp, token, "partial_reply", actor, {"message": "Vi återkommer."}).ok
    with sapp.app_context():
        note = db.session.scalars(select(InboxMessage).where(
            InboxMessage.unit_id == unit_id)).one()
        assert len(note.subject) <= 200
