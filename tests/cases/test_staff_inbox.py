"""The staff case inbox: lists per state with filters and search, reading a case and its files,
and the access log every read writes."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from formular.storage.audit import AccessLog
from formular.storage.cases import CaseMessage
from formular.storage.db import db
from tests.cases import support as cs
from tests.functional import staff_support as s

WORLD_PREFIX = "c3inbox"


def access(app: Flask, staff_id: int, action: str, after: int = 0) -> list[AccessLog]:
    with app.app_context():
        rows = db.session.scalars(select(AccessLog).where(
            AccessLog.staff_user_id == staff_id, AccessLog.action == action,
            AccessLog.id > after).order_by(AccessLog.id)).all()
        db.session.expunge_all()
        return list(rows)


def last_access_id(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(select(AccessLog.id).order_by(AccessLog.id.desc())
                                     .limit(1)) or 0)


@pytest.fixture(scope="module")
def cases(sapp: Flask, cases_world: s.World, case_type: cs.StoredCaseType,
          case_type_with_files: cs.StoredCaseType) -> dict[str, str]:
    people = cases_world.citizens
    made = {
        "anna": cs.make_case(sapp, case_type, people["adult"],
                             "Hur går det med mina provsvar från i våras?"),
        "bertil": cs.make_case(sapp, case_type_with_files, people["adult2"],
                               "Jag behöver förnya Levaxin.",
                               files=[("recept.pdf", cs.PDF), ("bild.png", cs.PNG)]),
        "protected": cs.make_case(sapp, case_type, people["protected"], "Skyddad fråga."),
    }
    return made


def staff_actor(world: s.World, key: str) -> Any:
    from formular.auth.permissions import Actor
    from formular.storage.identity import Role

    person = world.staff[key]
    unit = world.other_unit_id if key.startswith("b-") else world.unit_id
    role = Role(key.removeprefix("b-"))
    return Actor(kind="staff", staff_user_id=person.id, display_name=person.name,
                 units={unit: frozenset({role})})


def test_the_inbox_lists_the_units_open_cases_and_logs_every_citizen_shown(
        sapp: Flask, cases_world: s.World, cases: dict[str, str], receiver: Any,
        case_type: cs.StoredCaseType) -> None:
    before = last_access_id(sapp)
    page = receiver.get("/staff/cases/")
    assert page.status_code == 200
    html = s.body(page)
    people = cases_world.citizens
    for key in ("adult", "adult2", "protected"):
        assert people[key].name in html
        assert people[key].dashed in html
    assert case_type.title in html
    assert "protected-marker" in html  # the marker beside the protected citizen
    rows = access(sapp, cases_world.staff["case-receiver"].id, "case:list", before)
    assert {row.citizen_id for row in rows} >= {people[k].id for k in
                                                ("adult", "adult2", "protected")}
    assert all(row.unit_id == cases_world.unit_id for row in rows)
    assert all(row.reason == f"case-inbox:{cases_world.unit_id}" for row in rows)


def test_another_units_staff_see_none_of_it(sapp: Flask, cases_world: s.World,
                                            cases: dict[str, str]) -> None:
    other = s.staff_client(sapp, cases_world.staff["b-case-receiver"])
    html = s.body(other.get("/staff/cases/"))
    assert cases_world.citizens["adult"].name not in html
    assert other.get(f"/staff/cases/?unit={cases_world.unit_id}").status_code == 404
    assert other.get(f"/staff/cases/{cases['anna']}").status_code == 404
    row = cs.case_row(sapp, cases["bertil"])
    assert row["unit_id"] == cases_world.unit_id
    assert other.post(f"/staff/cases/{cases['anna']}/assign", data={
        "csrf_token": s.fresh_csrf(other),
        "assignee": str(cases_world.staff["b-case-handler"].id)}).status_code == 404
    assert cs.case_row(sapp, cases["anna"])["state"] == "new"


def test_staff_without_case_roles_are_refused(sapp: Flask, cases_world: s.World) -> None:
    sender = s.staff_client(sapp, cases_world.staff["sender"])
    assert sender.get("/staff/cases/").status_code == 403
    assert s.staff_client(sapp, cases_world.staff["admin"]).get("/staff/cases/") \
        .status_code == 403


@pytest.mark.parametrize(("query", "found", "missing"), [
    ("från i VÅRAS", ["adult"], ["adult2"]),       # words in the citizen's answers
    ("levaxin", ["adult2"], ["adult"]),             # any case, any letter case
    ("Bertil Berg", ["adult2"], ["adult"]),         # the citizen's name
])
def test_search_by_text_and_name(sapp: Flask, cases_world: s.World, cases: dict[str, str],
                                 receiver: Any, query: str, found: list[str],
                                 missing: list[str]) -> None:
    html = s.body(receiver.get("/staff/cases/", query_string={"q": query}))
    for key in found:
        assert cases_world.citizens[key].name in html
    for key in missing:
        assert cases_world.citizens[key].name not in html


def test_search_by_personal_identity_number_and_case_type(
        sapp: Flask, cases_world: s.World, cases: dict[str, str], receiver: Any,
        case_type_with_files: cs.StoredCaseType) -> None:
    anna = cases_world.citizens["adult"]
    html = s.body(receiver.get("/staff/cases/", query_string={"q": anna.dashed}))
    assert anna.name in html
    assert cases_world.citizens["adult2"].name not in html
    html = s.body(receiver.get("/staff/cases/",
                               query_string={"type": case_type_with_files.definition_id}))
    assert cases_world.citizens["adult2"].name in html
    assert anna.name not in html
    html = s.body(receiver.get("/staff/cases/", query_string={"q": "förnya mina"}))
    assert cases_world.citizens["adult2"].name in html
    assert anna.name not in html


def test_filters_by_state_assignee_and_overdue(sapp: Flask, cases_world: s.World,
                                               cases: dict[str, str], receiver: Any) -> None:
    handler_id = cases_world.staff["case-handler"].id
    result = cs.fire_as(sapp, cases["protected"], "assign",
                        staff_actor(cases_world, "case-receiver"),
                        {"assigned_to_id": handler_id})
    assert result.ok, result.reason
    people = cases_world.citizens
    assigned = s.body(receiver.get("/staff/cases/?state=assigned"))
    assert people["protected"].name in assigned
    assert people["adult"].name not in assigned
    new = s.body(receiver.get("/staff/cases/?state=new"))
    assert people["adult"].name in new
    assert people["protected"].name not in new
    theirs = s.body(receiver.get(f"/staff/cases/?assigned={handler_id}"))
    assert people["protected"].name in theirs
    assert people["adult"].name not in theirs
    nobody = s.body(receiver.get("/staff/cases/?assigned=nobody"))
    assert people["adult"].name in nobody
    assert people["protected"].name not in nobody
    handler = s.staff_client(sapp, cases_world.staff["case-handler"])
    mine = s.body(handler.get("/staff/cases/?assigned=me"))
    assert people["protected"].name in mine
    assert people["adult"].name not in mine
    overdue = s.body(receiver.get("/staff/cases/?overdue=1"))
    assert people["adult"].name not in overdue  # nothing is overdue yet


@pytest.mark.parametrize("args", [
    "state=nonsense", "assigned=x'or'1", "page=-3", "page=99999999999", "sort=drop",
    "q=" + "%25" * 300, "type=" + "x" * 500, "overdue=yes",
])
def test_hand_edited_filters_never_fail(receiver: Any, cases: dict[str, str],
                                        args: str) -> None:
    assert receiver.get(f"/staff/cases/?{args}").status_code == 200


def test_opening_a_case_shows_the_answers_and_logs_the_case_and_each_message(
        sapp: Flask, cases_world: s.World, cases: dict[str, str], case_type: cs.StoredCaseType,
        handler: Any) -> None:
    token = cases["anna"]
    staff_id = cases_world.staff["case-handler"].id
    receiver_actor = staff_actor(cases_world, "case-receiver")
    assert cs.fire_as(sapp, token, "partial_reply", receiver_actor,
                      {"message": "Vi har tagit emot ditt ärende."}).ok
    before = last_access_id(sapp)
    page = handler.get(f"/staff/cases/{token}")
    assert page.status_code == 200
    html = s.body(page)
    assert "Hur går det med mina provsvar från i våras?" in html
    assert "Vi har tagit emot ditt ärende." in html
    assert cases_world.citizens["adult"].dashed in html
    row = cs.case_row(sapp, token)
    reads = access(sapp, staff_id, "case:read", before)
    assert [(r.citizen_id, r.object_type, r.object_id, r.reason) for r in reads] == [
        (row["citizen_id"], "case", row["id"], f"case:{row['id']}")]
    with sapp.app_context():
        message_ids = db.session.scalars(select(CaseMessage.id).where(
            CaseMessage.case_id == row["id"])).all()
    messages = access(sapp, staff_id, "case:message:read", before)
    assert sorted(r.object_id or 0 for r in messages) == sorted(message_ids)
    assert len(message_ids) == 1


def test_a_forged_case_token_is_not_found(handler: Any, cases: dict[str, str]) -> None:
    assert handler.get("/staff/cases/not-a-real-token").status_code == 404
    assert handler.get("/staff/cases/" + "x" * 300).status_code == 404


def test_attachments_download_with_safe_headers_and_are_logged(
        sapp: Flask, cases_world: s.World, cases: dict[str, str], handler: Any) -> None:
    from formular.storage.cases import CaseAttachment

    token = cases["bertil"]
    row = cs.case_row(sapp, token)
    with sapp.app_context():
        files = db.session.scalars(select(CaseAttachment).where(
            CaseAttachment.case_id == row["id"]).order_by(CaseAttachment.id)).all()
        tokens = [(f.token, f.id, f.filename) for f in files]
    assert [name for _t, _i, name in tokens] == ["recept.pdf", "bild.png"]
    html = s.body(handler.get(f"/staff/cases/{token}"))
    assert f"/staff/cases/{token}/files/{tokens[0][0]}" in html
    before = last_access_id(sapp)
    response = handler.get(f"/staff/cases/{token}/files/{tokens[0][0]}")
    assert response.status_code == 200
    assert response.data == cs.PDF
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert "recept.pdf" in response.headers["Content-Disposition"]
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    logged = access(sapp, cases_world.staff["case-handler"].id, "case:attachment:read", before)
    assert [(r.object_type, r.object_id, r.citizen_id) for r in logged] == [
        ("case_attachment", tokens[0][1], row["citizen_id"])]
    # Another case's file through this case, and a made-up file: not found.
    assert handler.get(f"/staff/cases/{cases['anna']}/files/{tokens[0][0]}").status_code == 404
    assert handler.get(f"/staff/cases/{token}/files/nope").status_code == 404


def test_the_citizen_reads_in_their_access_log_who_opened_the_errand(
        sapp: Flask, cases_world: s.World, cases: dict[str, str], handler: Any) -> None:
    handler.get(f"/staff/cases/{cases['anna']}")
    citizen = s.citizen_client(sapp, cases_world.citizens["adult"])
    html = s.body(citizen.get("/access-log"))
    assert cases_world.staff["case-handler"].name in html
    assert s.rendered(sapp, "{{ access_label('case:read') }}") in html
