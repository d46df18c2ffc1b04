"""Assigning and answering cases from the staff inbox: message kinds on the case workflow,
standard replies, attachments, the definition's staff reply form, and every kind of bad input
refused with nothing stored."""

from __future__ import annotations

import html as html_module
import io
import re
import uuid
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from formular.cases import service as cases_service
from formular.casetypes import service as casetypes
from formular.designs import store
from formular.storage.cases import CaseAttachment, CaseEvent, CaseMessage
from formular.storage.db import db
from formular.storage.sendouts import InboxMessage, Notification
from tests.cases import support as cs
from tests.functional import staff_support as s

WORLD_PREFIX = "c3reply"


# -- helpers -------------------------------------------------------------------------------


def counts(app: Flask, token: str) -> dict[str, int]:
    """Messages, files, history rows of the case, and notifications anywhere."""
    row = cs.case_row(app, token)
    with app.app_context():
        session = db.session()

        def count(model: Any, *where: Any) -> int:
            return int(session.scalar(select(func.count()).select_from(model).where(*where))
                       or 0)

        return {"messages": count(CaseMessage, CaseMessage.case_id == row["id"]),
                "files": count(CaseAttachment, CaseAttachment.case_id == row["id"]),
                "events": count(CaseEvent, CaseEvent.case_id == row["id"]),
                "inbox": count(InboxMessage, InboxMessage.citizen_id == row["citizen_id"]),
                "mail": count(Notification, Notification.id > 0)}


def messages(app: Flask, token: str) -> list[CaseMessage]:
    row = cs.case_row(app, token)
    with app.app_context():
        found = db.session.scalars(select(CaseMessage).where(CaseMessage.case_id == row["id"])
                                   .order_by(CaseMessage.id)).all()
        db.session.expunge_all()
        return list(found)


def post_reply(client: Any, token: str, *, kind: str = "answer", message: str = "Hej!",
               action: str = "send", files: list[tuple[str, bytes]] | None = None,
               **extra: Any) -> Any:
    page = client.get(f"/staff/cases/{token}")
    assert page.status_code == 200, page.status_code
    data: dict[str, Any] = {"csrf_token": s.csrf_of(s.body(page)), "_kind": kind,
                            "_message": message, "_action": action, **extra}
    if files:
        data["_files"] = [(io.BytesIO(content), name) for name, content in files]
    return client.post(f"/staff/cases/{token}/reply", data=data,
                       content_type="multipart/form-data")


def assign(client: Any, token: str, staff_id: int | str) -> Any:
    return client.post(f"/staff/cases/{token}/assign", data={
        "csrf_token": s.fresh_csrf(client), "assignee": str(staff_id)})


def flashed(client: Any, response: Any) -> str:
    """The page a redirect leads to (with its flashed messages)."""
    assert response.status_code == 302, response.status_code
    return s.body(client.get(s.location(response)))


@pytest.fixture
def new_case(sapp: Flask, cases_world: s.World, case_type: cs.StoredCaseType) -> str:
    return cs.make_case(sapp, case_type, cases_world.citizens["adult"],
                        "Kan jag få ett nytt recept på Levaxin?")


@pytest.fixture
def assigned_case(sapp: Flask, cases_world: s.World, new_case: str, receiver: Any) -> str:
    assert assign(receiver, new_case, cases_world.staff["case-handler"].id).status_code == 302
    assert cs.case_row(sapp, new_case)["state"] == "assigned"
    return new_case


# -- assigning -----------------------------------------------------------------------------


def test_the_receiver_assigns_and_passes_on(sapp: Flask, cases_world: s.World, new_case: str,
                                            receiver: Any) -> None:
    handler_id = cases_world.staff["case-handler"].id
    page = flashed(receiver, assign(receiver, new_case, handler_id))
    assert cases_world.staff["case-handler"].name in page
    row = cs.case_row(sapp, new_case)
    assert (row["state"], row["assigned_to_id"]) == ("assigned", handler_id)
    # Passing it on to the receiver (who may answer too) keeps the state.
    receiver_id = cases_world.staff["case-receiver"].id
    assign(receiver, new_case, receiver_id)
    row = cs.case_row(sapp, new_case)
    assert (row["state"], row["assigned_to_id"]) == ("assigned", receiver_id)


@pytest.mark.parametrize("who", ["b-case-handler", "sender", "nobody", "text"])
def test_only_case_staff_of_the_unit_can_be_given_the_case(
        sapp: Flask, cases_world: s.World, new_case: str, receiver: Any, who: str) -> None:
    target = {"nobody": "999999", "text": "Hans"}.get(who) or cases_world.staff[who].id
    before = counts(sapp, new_case)
    page = flashed(receiver, assign(receiver, new_case, target))
    assert 'class="notice notice-error"' in page
    assert cs.case_row(sapp, new_case)["state"] == "new"
    assert counts(sapp, new_case) == before


def test_a_handler_cannot_assign(sapp: Flask, cases_world: s.World, new_case: str,
                                 handler: Any) -> None:
    """Assigning a new errand is the receiver's: the workflow refuses a handler and nothing
    is written."""
    before = counts(sapp, new_case)
    page = flashed(handler, assign(handler, new_case, cases_world.staff["case-handler"].id))
    assert 'class="notice notice-error"' in page
    assert cs.case_row(sapp, new_case)["state"] == "new"
    assert counts(sapp, new_case) == before
    assert 'id="assignee"' not in s.body(handler.get(f"/staff/cases/{new_case}"))


def test_a_handler_passes_their_own_errand_on(sapp: Flask, cases_world: s.World,
                                              assigned_case: str, handler: Any) -> None:
    """The handler holding an errand may hand it to a colleague of the unit who handles
    cases; once it is not theirs, they may not move it again."""
    handler_id = cases_world.staff["case-handler"].id
    receiver_id = cases_world.staff["case-receiver"].id
    assert 'id="assignee"' in s.body(handler.get(f"/staff/cases/{assigned_case}"))
    page = flashed(handler, assign(handler, assigned_case, receiver_id))
    assert cases_world.staff["case-receiver"].name in page
    row = cs.case_row(sapp, assigned_case)
    assert (row["state"], row["assigned_to_id"]) == ("assigned", receiver_id)
    with sapp.app_context():
        last = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == row["id"])
                                  .order_by(CaseEvent.id.desc())).first()
        assert last is not None
        assert (last.event, last.actor_id, last.data) == (
            "assign", handler_id, {"assigned_to_id": receiver_id})
    # No longer theirs: the form is gone and a forged post is refused.
    assert 'id="assignee"' not in s.body(handler.get(f"/staff/cases/{assigned_case}"))
    before = counts(sapp, assigned_case)
    refused = flashed(handler, assign(handler, assigned_case, handler_id))
    assert 'class="notice notice-error"' in refused
    assert cs.case_row(sapp, assigned_case)["assigned_to_id"] == receiver_id
    assert counts(sapp, assigned_case) == before


def test_a_handler_cannot_take_a_colleagues_errand(sapp: Flask, cases_world: s.World,
                                                   new_case: str, receiver: Any,
                                                   handler: Any) -> None:
    receiver_id = cases_world.staff["case-receiver"].id
    assert assign(receiver, new_case, receiver_id).status_code == 302
    page = flashed(handler, assign(handler, new_case, cases_world.staff["case-handler"].id))
    assert 'class="notice notice-error"' in page
    assert cs.case_row(sapp, new_case)["assigned_to_id"] == receiver_id


def test_assigning_without_a_csrf_token_is_refused(sapp: Flask, cases_world: s.World,
                                                   new_case: str, receiver: Any) -> None:
    response = receiver.post(f"/staff/cases/{new_case}/assign",
                             data={"assignee": str(cases_world.staff["case-handler"].id)})
    assert response.status_code == 400
    assert cs.case_row(sapp, new_case)["state"] == "new"


# -- the conversation ----------------------------------------------------------------------


def test_question_reply_answer_and_close(sapp: Flask, cases_world: s.World,
                                         assigned_case: str, handler: Any,
                                         case_type: cs.StoredCaseType) -> None:
    token = assigned_case
    before = counts(sapp, token)
    page = flashed(handler, post_reply(handler, token, kind="ask_citizen",
                                       message="Vilken styrka har du?"))
    assert "Vilken styrka har du?" in page
    row = cs.case_row(sapp, token)
    assert row["state"] == "waiting-for-citizen"
    after = counts(sapp, token)
    assert after["messages"] == before["messages"] + 1
    assert after["inbox"] == before["inbox"] + 1  # the citizen is told there is news
    # The notification names neither the case type nor the text (no health data).
    with sapp.app_context():
        note = db.session.scalars(select(InboxMessage).where(
            InboxMessage.citizen_id == row["citizen_id"]).order_by(InboxMessage.id.desc())
            .limit(1)).one()
        mails = db.session.scalars(select(Notification).order_by(Notification.id.desc())
                                   .limit(1)).all()
        for text in (note.subject, note.body, *(m.subject + m.body for m in mails)):
            assert "styrka" not in text
            assert case_type.title not in text
    citizen = cs.citizen_actor(cases_world.citizens["adult"])
    assert cs.fire_as(sapp, token, "citizen_reply", citizen, {"message": "50 mikrogram."}).ok
    assert cs.case_row(sapp, token)["state"] == "assigned"
    assert "50 mikrogram." in s.body(handler.get(f"/staff/cases/{token}"))
    page = flashed(handler, post_reply(handler, token, kind="answer",
                                       message="Receptet är förnyat.", _close_after="1"))
    row = cs.case_row(sapp, token)
    assert row["state"] == "closed"
    assert row["closed_at"] is not None
    kinds = [m.kind for m in messages(sapp, token)]
    assert kinds == ["question", "citizen_reply", "answer"]
    # Closed: nothing more can be sent, and the form is gone from the page.
    assert 'name="_kind"' not in s.body(handler.get(f"/staff/cases/{token}"))
    before = counts(sapp, token)
    refused = flashed(handler, post_reply_without_page(handler, token, "answer",
                                                       "Ett till svar."))
    with sapp.test_request_context("/"):
        closed_text = cases_service.refusal_text("closed")
    assert closed_text in html_module.unescape(refused)
    assert counts(sapp, token) == before


def post_reply_without_page(client: Any, token: str, kind: str, message: str) -> Any:
    """A reply posted from a stale page (the case changed meanwhile)."""
    return client.post(f"/staff/cases/{token}/reply", data={
        "csrf_token": s.fresh_csrf(client), "_kind": kind, "_message": message,
        "_action": "send"})


def test_a_partial_reply_keeps_the_case_open(sapp: Flask, new_case: str,
                                             receiver: Any) -> None:
    flashed(receiver, post_reply(receiver, new_case, kind="partial_reply",
                                 message="Vi återkommer inom tre dagar."))
    assert cs.case_row(sapp, new_case)["state"] == "new"
    assert [m.kind for m in messages(sapp, new_case)] == ["partial_reply"]


def test_only_offered_kinds_are_offered(sapp: Flask, new_case: str, handler: Any) -> None:
    """A new (unassigned) case can get a partial reply or be closed, not a question."""
    html = s.body(handler.get(f"/staff/cases/{new_case}"))
    assert 'value="partial_reply"' in html
    assert 'value="close"' in html
    assert 'value="ask_citizen"' not in html
    assert 'value="answer"' not in html
    before = counts(sapp, new_case)
    response = post_reply(handler, new_case, kind="ask_citizen", message="En fråga")
    assert response.status_code == 400
    assert counts(sapp, new_case) == before


def test_closing_without_a_text(sapp: Flask, assigned_case: str, handler: Any) -> None:
    flashed(handler, post_reply(handler, assigned_case, kind="close", message=""))
    assert cs.case_row(sapp, assigned_case)["state"] == "closed"
    assert messages(sapp, assigned_case) == []


# -- standard replies ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def standard_reply(sapp: Flask, cases_world: s.World) -> tuple[int, str]:
    body = "Ditt recept är förnyat och finns på apoteket i morgon.\nVänliga hälsningar"
    with sapp.app_context():
        session = db.session()
        reply = casetypes.save_standard_reply(
            session, unit_id=cases_world.unit_id, reply_id=None, definition_id=None,
            title="Recept förnyat", body=body, active=True, staff_user_id=None)
        reply_id = reply.id
        session.commit()
    return reply_id, body


def test_a_standard_reply_is_inserted_for_editing_before_sending(
        sapp: Flask, assigned_case: str, handler: Any, standard_reply: tuple[int, str]) -> None:
    reply_id, body = standard_reply
    html = s.body(handler.get(f"/staff/cases/{assigned_case}"))
    assert "Recept förnyat" in html
    before = counts(sapp, assigned_case)
    inserted = post_reply(handler, assigned_case, kind="answer", message="Hej Anna,",
                          action="insert", _standard=str(reply_id))
    assert inserted.status_code == 200
    assert counts(sapp, assigned_case) == before  # inserting sends nothing
    textarea = re.search(r'<textarea id="reply-message"[^>]*>(.*?)</textarea>',
                         s.body(inserted), re.S)
    assert textarea is not None
    text = html_module.unescape(textarea.group(1))
    assert text == f"Hej Anna,\n\n{body}"
    edited = text.replace("i morgon", "på fredag")
    flashed(handler, post_reply(handler, assigned_case, kind="answer", message=edited))
    assert [m.body for m in messages(sapp, assigned_case)] == [edited]


def test_a_standard_reply_of_another_unit_cannot_be_inserted(
        sapp: Flask, cases_world: s.World, assigned_case: str, handler: Any) -> None:
    with sapp.app_context():
        session = db.session()
        other = casetypes.save_standard_reply(
            session, unit_id=cases_world.other_unit_id, reply_id=None, definition_id=None,
            title="Björkens svar", body="Hemligt svar från en annan enhet.", active=True,
            staff_user_id=None)
        other_id = other.id
        session.commit()
    response = post_reply(handler, assigned_case, action="insert", _standard=str(other_id))
    assert response.status_code == 400
    assert "Hemligt svar" not in s.body(response)


# -- attachments ---------------------------------------------------------------------------


def test_files_go_with_the_message(sapp: Flask, assigned_case: str, handler: Any) -> None:
    flashed(handler, post_reply(handler, assigned_case, kind="answer", message="Se intyget.",
                                files=[("intyg.pdf", cs.PDF), ("bild.png", cs.PNG)]))
    stored = messages(sapp, assigned_case)
    with sapp.app_context():
        files = db.session.scalars(select(CaseAttachment).where(
            CaseAttachment.message_id == stored[0].id)).all()
        assert sorted((f.filename, f.content_type, f.author_kind) for f in files) == [
            ("bild.png", "image/png", "staff"), ("intyg.pdf", "application/pdf", "staff")]


@pytest.mark.parametrize(("files", "words"), [
    ([("intyg.pdf", b"PK\x03\x04 a zip archive")], "intyg.pdf"),  # not a PDF inside
    ([("tom.pdf", b"")], "tom.pdf"),
    ([("stor.pdf", b"%PDF-" + b"0" * (20 * 1024 * 1024))], "20 MB"),
    ([(f"fil{n}.pdf", cs.PDF) for n in range(11)], "10"),
    ([("skript.html", b"<script>alert(1)</script>")], "skript.html"),
])
def test_bad_files_are_refused_and_nothing_is_stored(
        sapp: Flask, assigned_case: str, handler: Any, files: list[tuple[str, bytes]],
        words: str) -> None:
    before = counts(sapp, assigned_case)
    response = post_reply(handler, assigned_case, kind="answer", message="Svar med filer",
                          files=files)
    assert response.status_code == 400
    html = s.body(response)
    assert 'id="error-summary"' in html
    assert words in html
    assert "Svar med filer" in html  # what was written is kept
    assert counts(sapp, assigned_case) == before
    assert cs.case_row(sapp, assigned_case)["state"] == "assigned"


def test_a_bad_file_among_good_ones_stores_none(sapp: Flask, assigned_case: str,
                                                handler: Any) -> None:
    before = counts(sapp, assigned_case)
    response = post_reply(handler, assigned_case, message="Två filer",
                          files=[("ok.pdf", cs.PDF), ("fel.gif", cs.PDF[:3])])
    assert response.status_code == 400
    assert counts(sapp, assigned_case) == before


# -- other bad input -----------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "message"), [
    ("answer", "   \n  "), ("", "Ett svar utan typ"), ("teleport", "Hej"),
    ("answer", "x" * 10_001),
])
def test_bad_replies_are_explained_and_nothing_is_stored(
        sapp: Flask, assigned_case: str, handler: Any, kind: str, message: str) -> None:
    before = counts(sapp, assigned_case)
    response = post_reply(handler, assigned_case, kind=kind, message=message)
    assert response.status_code == 400
    assert 'id="error-summary"' in s.body(response)
    assert counts(sapp, assigned_case) == before


def test_unknown_actions_and_missing_tokens(sapp: Flask, assigned_case: str,
                                            handler: Any) -> None:
    before = counts(sapp, assigned_case)
    assert post_reply(handler, assigned_case, action="explode").status_code == 400
    assert handler.post(f"/staff/cases/{assigned_case}/reply", data={
        "_kind": "answer", "_message": "utan csrf"}).status_code == 400
    assert post_reply_without_page(handler, "forged-token", "answer", "x").status_code == 404
    assert counts(sapp, assigned_case) == before


def test_user_text_is_escaped(sapp: Flask, cases_world: s.World,
                              case_type: cs.StoredCaseType, handler: Any) -> None:
    token = cs.make_case(sapp, case_type, cases_world.citizens["adult3"],
                         '<script>alert("x")</script><img src=x onerror=alert(1)>')
    flashed(handler, post_reply(handler, token, kind="partial_reply",
                                message="<b>fet</b> & <i>kursiv</i>"))
    html = s.body(handler.get(f"/staff/cases/{token}"))
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "&lt;b&gt;fet&lt;/b&gt; &amp; &lt;i&gt;kursiv&lt;/i&gt;" in html


# -- the staff reply form (workflow setting reply_form) ------------------------------------


def reply_form_document(definition_id: str) -> dict[str, Any]:
    return {
        "formular": 1, "id": definition_id, "version": 1, "kind": "case-type",
        "title": "Beslut om recept", "language": "sv", "languages": ["sv"],
        "schema": {"type": "object", "additionalProperties": False, "properties": {
            "decision": {"enum": ["renewed", "declined"]},
            "note": {"type": "string", "maxLength": 200}}, "required": ["decision"]},
        "layout": {"pages": [{"id": "beslut", "title": "Beslut", "audience": "staff",
                              "sections": [{"id": "s", "audience": "staff", "items": [
                                  {"type": "choice", "name": "decision", "label": "Beslutet",
                                   "options": [{"value": "renewed", "label": "Förnyat"},
                                               {"value": "declined",
                                                "label": "Inte förnyat"}]},
                                  {"type": "text", "name": "note",
                                   "label": "Till apoteket"}]}]}]},
        "policy": {"login": "required", "fillers": ["staff"]},
        "workflow": {"type": "none"},
    }


@pytest.fixture(scope="module")
def case_type_with_reply_form(sapp: Flask, cases_world: s.World) -> cs.StoredCaseType:
    from tests.casetypes.support import case_document

    suffix = uuid.uuid4().hex[:8]
    reply_id, type_id = f"c3-reply-{suffix}", f"c3-renew-{suffix}"
    with sapp.app_context():
        session = db.session()
        reply_row, _new = store(session, reply_form_document(reply_id))
        reply_row.owner_unit_id = cases_world.unit_id
        document = case_document(type_id, "Förnya recept (test)")
        document["workflow"] = {"type": "case", "reply_form": reply_id,
                                "reviewer_role": "case-handler"}
        row, _new = store(session, document)
        row.owner_unit_id = cases_world.unit_id
        casetypes.save_setting(session, unit_id=cases_world.unit_id, definition_id=type_id,
                               enabled=True, attachments_enabled=True, restricted=False,
                               terms_text=None, staff_user_id=None)
        session.commit()
        return cs.StoredCaseType(type_id, row.id, cases_world.unit_id, row.title)


def test_the_reply_form_is_rendered_validated_and_stored(
        sapp: Flask, cases_world: s.World, receiver: Any, handler: Any,
        case_type_with_reply_form: cs.StoredCaseType) -> None:
    token = cs.make_case(sapp, case_type_with_reply_form, cases_world.citizens["adult2"],
                         "Förnya Levaxin tack.")
    assign(receiver, token, cases_world.staff["case-handler"].id)
    html = s.body(handler.get(f"/staff/cases/{token}"))
    assert "Beslutet" in html
    assert 'name="decision"' in html
    before = counts(sapp, token)
    missing = post_reply(handler, token, kind="answer", message="Här är beslutet.")
    assert missing.status_code == 400
    assert "Beslutet" in s.body(missing)
    assert 'id="error-summary"' in s.body(missing)
    assert counts(sapp, token) == before
    wrong = post_reply(handler, token, kind="answer", message="Beslut", decision="maybe")
    assert wrong.status_code == 400
    assert counts(sapp, token) == before
    flashed(handler, post_reply(handler, token, kind="answer", message="Här är beslutet.",
                                decision="renewed", note="Apoteket Hjärtat"))
    stored = messages(sapp, token)
    assert len(stored) == 1
    answers = stored[0].reply_answers
    assert answers is not None
    assert answers["definition_id"].startswith("c3-reply-")
    assert answers["answers"] == {"decision": "renewed", "note": "Apoteket Hjärtat"}
    html = s.body(handler.get(f"/staff/cases/{token}"))
    assert "Förnyat" in html
    assert "Apoteket Hjärtat" in html


def test_a_question_does_not_need_the_reply_form(
        sapp: Flask, cases_world: s.World, receiver: Any, handler: Any,
        case_type_with_reply_form: cs.StoredCaseType) -> None:
    token = cs.make_case(sapp, case_type_with_reply_form, cases_world.citizens["adult3"],
                         "Förnya Alvedon.")
    assign(receiver, token, cases_world.staff["case-handler"].id)
    flashed(handler, post_reply(handler, token, kind="ask_citizen", message="Vilket apotek?"))
    stored = messages(sapp, token)
    assert [(m.kind, m.reply_answers) for m in stored] == [("question", None)]
