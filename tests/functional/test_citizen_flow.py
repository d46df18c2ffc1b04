"""The citizen's side of a send-out, through the real pages: the inbox, answering page by page
(explicit save, autosave), resuming on another device, a stale tab, a double submit, the
receipt and the PDF copy, guardians answering for children under 13 (age computed when the
form is opened), closed and withdrawn forms, other people's forms, and the citizen's own view
of the access log."""

from __future__ import annotations

import datetime as dt
import io
import os
import re
from typing import Any

from flask import Flask
from sqlalchemy import func, select, update

from formular.auth.clock import swedish_today
from formular.storage.base import utcnow
from formular.storage.db import db
from formular.storage.models import Draft, Submission, Upload
from formular.storage.sendouts import Assignment, AssignmentEvent, InboxMessage, SendOut
from tests.functional import staff_support as s
from tests.functional.support import (
    assert_accessible,
    assert_no_raw_messages,
    fill_showcase,
    minimal_definition,
    parse,
    store_design,
    translate,
)

#: Prefix of this module's objects in the shared database (see tests/functional/conftest.py).
WORLD_PREFIX = "cit"


def tr(app: Flask, message: str, **values: Any) -> str:
    return translate(app, message, **values)


def send(sapp: Flask, sender: Any, world: s.World, *who: str, **options: Any) -> dict[str, str]:
    """A PHQ-9 send-out through the wizard to the named citizens; their tokens by name."""
    people = world.citizens
    send_out_id = s.send_out_via_pages(sender, world.unit_id,
                                       [people[n].personnummer for n in who], **options)
    return {n: s.assignment_of(sapp, send_out_id, people[n].id).token for n in who} | {
        "_id": str(send_out_id)}


def assignment(app: Flask, token: str) -> Any:
    with app.app_context():
        row = db.session.scalars(select(Assignment).where(Assignment.token == token)).one()
        db.session.expunge(row)
        return row


def draft_of(app: Flask, token: str) -> Any:
    with app.app_context():
        draft_id = db.session.scalar(select(Assignment.draft_id).where(Assignment.token == token))
        row = db.session.get(Draft, draft_id)
        assert row is not None
        db.session.expunge(row)
        return row


def submissions_of(app: Flask, token: str) -> list[Any]:
    with app.app_context():
        draft_id = db.session.scalar(select(Assignment.draft_id).where(Assignment.token == token))
        rows = list(db.session.scalars(select(Submission).where(Submission.draft_id == draft_id)))
        for row in rows:
            db.session.expunge(row)
        return rows


# -- inbox ---------------------------------------------------------------------------------


def test_inbox_lists_the_form_and_the_message(sapp: Flask, world: s.World, sender: Any) -> None:
    tokens = send(sapp, sender, world, "adult", subject="Inför ditt besök",
                  message="Svara senast på fredag, tack.")
    citizen = s.citizen_client(sapp, world.citizens["adult"])
    html = s.body(citizen.get("/inbox"))
    assert_accessible(html)
    dom = parse(html)
    links = {a.attrs.get("href"): a.text() for a in dom.find_all("a")}
    assert f"/forms/{tokens['adult']}/0" in links
    message_id = message_of(sapp, tokens["adult"])
    assert "Inför ditt besök" in links[f"/inbox/{message_id}"]
    # Nobody else sees it.
    other = s.citizen_client(sapp, world.citizens["outsider"])
    assert other.get(f"/inbox/{message_id}").status_code == 404
    assert f"/forms/{tokens['adult']}/0" not in s.body(other.get("/inbox"))
    assert f"/inbox/{message_id}" not in s.body(other.get("/inbox"))


def message_of(app: Flask, token: str) -> int:
    with app.app_context():
        return int(db.session.scalars(select(InboxMessage.id).where(
            InboxMessage.assignment_id == assignment(app, token).id)).one())


ON_SQLITE = not os.environ.get("FORMULAR_TEST_DATABASE_URL", "").startswith("postgresql")


def test_citizen_reads_a_message(sapp: Flask, world: s.World, sender: Any) -> None:
    tokens = send(sapp, sender, world, "adult2", subject="Kallelse",
                  message="Svara senast på fredag, tack.")
    message_id = message_of(sapp, tokens["adult2"])
    citizen = s.citizen_client(sapp, world.citizens["adult2"])
    opened = citizen.get(f"/inbox/{message_id}")
    assert opened.status_code == 200
    text = s.body(opened)
    assert "Svara senast på fredag, tack." in text
    assert f"/forms/{tokens['adult2']}/0" in text
    with sapp.app_context():
        row = db.session.get(InboxMessage, message_id)
        assert row is not None
        assert row.read_at is not None
    other = s.citizen_client(sapp, world.citizens["outsider"])
    assert other.get(f"/inbox/{message_id}").status_code == 404


# -- answering -----------------------------------------------------------------------------


def test_answering_phq9_moves_the_assignment_and_gives_a_receipt(sapp: Flask, world: s.World,
                                                                 sender: Any) -> None:
    tokens = send(sapp, sender, world, "adult2")
    token = tokens["adult2"]
    citizen = s.citizen_client(sapp, world.citizens["adult2"])
    form = s.CitizenForm(citizen, token)
    assert assignment(sapp, token).state == "sent"
    first = form.get(0)
    assert first.status_code == 200
    assert_accessible(s.body(first))
    assert assignment(sapp, token).state == "opened"
    assert form.post(0, s.PHQ_ANSWERS).status_code == 302
    assert assignment(sapp, token).state == "in-progress"
    assert form.post(1, {"phq10": "ganska-svart"}).status_code == 302
    review = form.review()
    assert review.status_code == 200
    assert_no_raw_messages(s.body(review))
    response = form.submit()
    assert response.status_code == 302
    assert s.location(response).endswith(f"/forms/{token}/receipt")
    row = assignment(sapp, token)
    assert row.state == "answered"
    assert s.history_of(sapp, row.id) == [
        ("send", "sent", "system"), ("open", "opened", "citizen"),
        ("save_draft", "in-progress", "citizen"), ("submit", "answered", "citizen")]
    [submission] = submissions_of(sapp, token)
    assert row.submission_id == submission.id
    assert submission.citizen_id == world.citizens["adult2"].id
    assert (submission.answered_by_kind, submission.answered_by_id) == (
        "citizen", world.citizens["adult2"].id)
    assert submission.answers["phq1"] == 2
    receipt = citizen.get(f"/forms/{token}/receipt")
    html = s.body(receipt)
    assert_accessible(html)
    assert tr(sapp, "Your answers have been sent") in html
    assert submission.receipt in html
    # PHQ-9's policy has no copy_to_citizen: no PDF link, and the URL is not there.
    assert f"/forms/{token}/copy.pdf" not in html
    assert citizen.get(f"/forms/{token}/copy.pdf").status_code == 404
    # Answered forms leave the "to answer" list and show under sent answers.
    inbox = s.body(citizen.get("/inbox"))
    assert f"/forms/{token}/0" not in inbox
    assert f"/forms/{token}/receipt" in inbox
    # Opening the form again shows the receipt, not the form.
    again = citizen.get(f"/forms/{token}/0")
    assert again.status_code == 302
    assert s.location(again).endswith("/receipt")


def test_explicit_save_and_autosave(sapp: Flask, world: s.World, sender: Any) -> None:
    tokens = send(sapp, sender, world, "adult3")
    form = s.CitizenForm(s.citizen_client(sapp, world.citizens["adult3"]), tokens["adult3"])
    saved = form.post(0, {"phq1": "1"}, action="save")
    assert saved.status_code == 200
    assert tr(sapp, "Your answers have been saved.") in s.body(saved)
    draft = draft_of(sapp, tokens["adult3"])
    assert draft.answers == {"phq1": 1}
    assert draft.revision == 1
    auto = form.post(0, {"phq1": "3", "phq2": "0", "_js": "1"}, action="autosave")
    assert auto.status_code == 200
    assert auto.get_json() == {"revision": 2}
    assert draft_of(sapp, tokens["adult3"]).answers == {"phq1": 3, "phq2": 0}


def test_looking_at_a_form_stores_no_draft_until_the_first_save(sapp: Flask, world: s.World,
                                                                 sender: Any) -> None:
    tokens = send(sapp, sender, world, "adult3")
    token = tokens["adult3"]
    form = s.CitizenForm(s.citizen_client(sapp, world.citizens["adult3"]), token)
    assert [form.get(0).status_code, form.get(0).status_code, form.review().status_code] == [
        200, 200, 200]
    row = assignment(sapp, token)
    assert (row.state, row.draft_id) == ("opened", None)
    with sapp.app_context():
        assert db.session.scalar(select(func.count()).select_from(Draft).where(
            Draft.citizen_id == row.citizen_id, Draft.submitted_at.is_(None),
            Draft.created_at >= row.created_at)) == 0
    # Nothing to send yet: the review page shows what is missing and sending goes back to it.
    assert form.submit().status_code == 302
    assert (assignment(sapp, token).draft_id, submissions_of(sapp, token)) == (None, [])
    assert form.post(0, {"phq1": "2"}, action="save").status_code == 200
    row = assignment(sapp, token)
    draft = draft_of(sapp, token)
    assert (row.state, draft.answers, draft.revision) == ("in-progress", {"phq1": 2}, 1)
    assert s.history_of(sapp, row.id)[-2:] == [("open", "opened", "citizen"),
                                               ("save_draft", "in-progress", "citizen")]


def test_a_file_on_the_first_post_stores_the_draft_with_it(sapp: Flask,
                                                           world: s.World) -> None:
    design = store_design(sapp, minimal_definition(
        "t-cit-first-file", [{"type": "file", "name": "scan", "label": "Bild",
                              "accept": ["image/png"]},
                             {"type": "text", "name": "note", "label": "Anteckning"}],
        {"scan": {"type": "array", "maxItems": 2},
         "note": {"type": "string", "maxLength": 50}}))
    person = world.citizens["adult"]
    send_out_id = s.send_out_via_service(sapp, world, design, [person.id])
    token = s.assignment_of(sapp, send_out_id, person.id).token
    form = s.CitizenForm(s.citizen_client(sapp, person), token)
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    saved = form.post(0, {"note": "Bild bifogad", "scan": [(io.BytesIO(png), "bild.png")]},
                      action="save", content_type="multipart/form-data")
    assert saved.status_code == 200
    row = assignment(sapp, token)
    draft = draft_of(sapp, token)
    assert row.state == "in-progress"
    assert draft.answers["note"] == "Bild bifogad"
    [stored] = draft.answers["scan"]
    assert (stored["name"], stored["size"]) == ("bild.png", len(png))
    with sapp.app_context():
        assert db.session.scalar(select(func.count()).select_from(Upload).where(
            Upload.draft_id == draft.id)) == 1


def test_resume_on_another_device(sapp: Flask, world: s.World, sender: Any) -> None:
    tokens = send(sapp, sender, world, "teen")
    teen = world.citizens["teen"]
    phone = s.CitizenForm(s.citizen_client(sapp, teen), tokens["teen"])
    assert phone.post(0, s.PHQ_ANSWERS).status_code == 302
    laptop = s.CitizenForm(s.citizen_client(sapp, teen), tokens["teen"])
    dom = parse(s.body(laptop.get(0)))
    checked = {n.attrs["name"]: n.attrs["value"] for n in dom.find_all("input")
               if n.attrs.get("type") == "radio" and "checked" in n.attrs}
    assert checked == s.PHQ_ANSWERS
    assert laptop.post(1, {"phq10": "inte-svart"}).status_code == 302
    assert laptop.submit().status_code == 302
    [submission] = submissions_of(sapp, tokens["teen"])
    assert submission.answers["phq10"] == "inte-svart"
    assert submission.answers["phq1"] == 2


def test_stale_tab_is_refused_and_nothing_is_overwritten(sapp: Flask, world: s.World,
                                                         sender: Any) -> None:
    tokens = send(sapp, sender, world, "protected")
    citizen = s.citizen_client(sapp, world.citizens["protected"])
    form = s.CitizenForm(citizen, tokens["protected"])
    tab_a = s.body(form.get(0))
    tab_b = s.body(form.get(0))
    base = {"csrf_token": s.csrf_of(tab_a), "_revision": form.revision(tab_a)}
    first = citizen.post(f"/forms/{tokens['protected']}/0",
                         data={**base, "_action": "save", **s.PHQ_ANSWERS})
    assert first.status_code == 200
    stale = citizen.post(f"/forms/{tokens['protected']}/0", data={
        "csrf_token": s.csrf_of(tab_b), "_revision": form.revision(tab_b), "_action": "next",
        **{f"phq{n}": "0" for n in range(1, 10)}})
    assert stale.status_code == 409
    assert tr(sapp, "These answers were changed in another window or on another device, so "
                    "nothing was saved. Check the answers below and save again to keep them.") \
        in s.body(stale)
    draft = draft_of(sapp, tokens["protected"])
    assert draft.answers["phq1"] == 2
    assert draft.revision == 1
    auto = citizen.post(f"/forms/{tokens['protected']}/0", data={
        "csrf_token": s.csrf_of(tab_b), "_revision": form.revision(tab_b),
        "_action": "autosave", "_js": "1", "phq1": "0"})
    assert auto.status_code == 409
    assert auto.get_json()["error"] == tr(
        sapp, "These answers were changed in another window. Reload the page to see the "
              "latest version.")
    assert draft_of(sapp, tokens["protected"]).answers["phq1"] == 2


def test_double_submit_stores_one_submission(sapp: Flask, world: s.World, sender: Any) -> None:
    tokens = send(sapp, sender, world, "outsider")
    token = tokens["outsider"]
    citizen = s.citizen_client(sapp, world.citizens["outsider"])
    form = s.CitizenForm(citizen, token)
    form.post(0, s.PHQ_ANSWERS)
    form.post(1, {"phq10": "inte-svart"})
    csrf = s.csrf_of(s.body(form.review()))
    responses = [citizen.post(f"/forms/{token}/submit", data={"csrf_token": csrf})
                 for _ in range(2)]
    assert [r.status_code for r in responses] == [302, 302]
    assert all(s.location(r).endswith("/receipt") for r in responses)
    submissions = submissions_of(sapp, token)
    assert len(submissions) == 1
    row = assignment(sapp, token)
    assert row.submission_id == submissions[0].id
    assert [e for e in s.history_of(sapp, row.id) if e[0] == "submit"] == [
        ("submit", "answered", "citizen")]


def one_go_design(sapp: Flask) -> str:
    """A one-page form without a review step: its button saves and sends in one request."""
    return store_design(sapp, minimal_definition(
        "t-cit-one-go", [{"type": "text", "name": "note", "label": "Anteckning"},
                         {"type": "integer", "name": "age", "label": "Ålder"}],
        {"note": {"type": "string", "maxLength": 50},
         "age": {"type": "integer", "minimum": 0, "maximum": 130}},
        required=["note", "age"], policy={"review": False}))


def test_a_form_sent_in_one_go_moves_from_opened_to_answered(sapp: Flask,
                                                              world: s.World) -> None:
    """A one-page form without a review step: its button saves and sends in one request, so
    the history goes from "opened" straight to "answered". A send refused for errors keeps the
    answers and moves the form to "in progress"."""
    design = one_go_design(sapp)
    person = world.citizens["adult"]
    send_out_id = s.send_out_via_service(sapp, world, design, [person.id])
    token = s.assignment_of(sapp, send_out_id, person.id).token
    form = s.CitizenForm(s.citizen_client(sapp, person), token)
    refused = form.post(0, {"note": "Hej"}, action="send")
    assert refused.status_code == 200
    row = assignment(sapp, token)
    assert (row.state, row.submission_id) == ("in-progress", None)
    assert draft_of(sapp, token).answers == {"note": "Hej"}
    sent = form.post(0, {"note": "Hej", "age": "51"}, action="send")
    assert sent.status_code == 302
    assert s.location(sent).endswith(f"/forms/{token}/receipt")
    row = assignment(sapp, token)
    [submission] = submissions_of(sapp, token)
    assert (row.state, row.submission_id) == ("answered", submission.id)
    assert s.history_of(sapp, row.id) == [
        ("send", "sent", "system"), ("open", "opened", "citizen"),
        ("save_draft", "in-progress", "citizen"), ("submit", "answered", "citizen")]

    other = s.send_out_via_service(sapp, world, design, [person.id])
    token = s.assignment_of(sapp, other, person.id).token
    form = s.CitizenForm(s.citizen_client(sapp, person), token)
    assert form.post(0, {"note": "Direkt", "age": "51"}, action="send").status_code == 302
    row = assignment(sapp, token)
    [submission] = submissions_of(sapp, token)
    assert (row.state, row.submission_id, row.draft_id) == (
        "answered", submission.id, submission.draft_id)
    assert s.history_of(sapp, row.id) == [
        ("send", "sent", "system"), ("open", "opened", "citizen"),
        ("submit", "answered", "citizen")]
    # Its first save was its last: the draft and the submission were stored together.
    draft = draft_of(sapp, token)
    assert (draft.answers, draft.page, draft.revision) == ({"note": "Direkt", "age": 51}, 0, 1)
    assert draft.submitted_at is not None
    assert (submission.answers, submission.citizen_id, submission.answered_by_kind) == (
        {"note": "Direkt", "age": 51}, person.id, "citizen")
    assert submission.definition_version_id == draft.definition_version_id
    receipt = s.body(form.receipt())
    assert submission.receipt in receipt


def stored_rows(app: Flask) -> tuple[int, int]:
    """How many drafts and submissions the database holds."""
    with app.app_context():
        return (db.session.scalar(select(func.count()).select_from(Draft)) or 0,
                db.session.scalar(select(func.count()).select_from(Submission)) or 0)


def test_a_send_in_one_go_from_a_stale_window_stores_nothing(sapp: Flask,
                                                             world: s.World) -> None:
    """Two windows open the same one-page form; the first saves, then the second sends in one
    go over the form as it first saw it: refused (409), and neither its draft nor a submission
    is stored — the first window's answers stay as they were."""
    design = one_go_design(sapp)
    person = world.citizens["adult"]
    token = s.assignment_of(sapp, s.send_out_via_service(sapp, world, design, [person.id]),
                            person.id).token
    citizen = s.citizen_client(sapp, person)
    form = s.CitizenForm(citizen, token)
    tab_a, tab_b = s.body(form.get(0)), s.body(form.get(0))
    saved = citizen.post(f"/forms/{token}/0", data={
        "csrf_token": s.csrf_of(tab_a), "_revision": form.revision(tab_a), "_action": "save",
        "note": "Först"})
    assert saved.status_code == 200
    before = stored_rows(sapp)
    stale = citizen.post(f"/forms/{token}/0", data={
        "csrf_token": s.csrf_of(tab_b), "_revision": form.revision(tab_b), "_action": "send",
        "note": "Sen", "age": "51"})
    assert stale.status_code == 409
    assert tr(sapp, "These answers were changed in another window or on another device, so "
                    "nothing was saved. Check the answers below and save again to keep them.") \
        in s.body(stale)
    row = assignment(sapp, token)
    assert (row.state, row.submission_id) == ("in-progress", None)
    assert draft_of(sapp, token).answers == {"note": "Först"}
    assert stored_rows(sapp) == before


# -- guardians and children ----------------------------------------------------------------


def test_guardian_answers_for_a_child_under_13(sapp: Flask, world: s.World, sender: Any,
                                               reviewer: Any) -> None:
    people = world.citizens
    tokens = send(sapp, sender, world, "child")
    token = tokens["child"]
    # The child's own session may not answer: guardians answer under 13.
    child = s.citizen_client(sapp, people["child"])
    assert child.get(f"/forms/{token}/0").status_code == 404
    guardian = s.citizen_client(sapp, people["parent"], acting_for=people["child"])
    inbox = s.body(guardian.get("/inbox"))
    assert tr(sapp, "You are acting for %(name)s.", name=people["child"].name) in inbox
    assert f"/forms/{token}/0" in inbox
    # The parent's own inbox (not acting) does not list the child's form.
    assert f"/forms/{token}/0" not in s.body(
        s.citizen_client(sapp, people["parent"]).get("/inbox"))
    assert s.answer_phq9(s.CitizenForm(guardian, token)).status_code == 302
    row = assignment(sapp, token)
    assert row.state == "answered"
    [submission] = submissions_of(sapp, token)
    assert (submission.citizen_id, submission.answered_by_id, submission.answered_by_kind) == (
        people["child"].id, people["parent"].id, "guardian")
    assert s.history_of(sapp, row.id)[1:] == [
        ("open", "opened", "guardian"), ("save_draft", "in-progress", "guardian"),
        ("submit", "answered", "guardian")]
    html = s.body(reviewer.get(f"/staff/assignments/{token}"))
    history = parse(html).find("ol", class_="history")
    assert history is not None
    guardian_label = s.label(sapp, "answered_by_label", "guardian")
    assert guardian_label in history.find_all("li")[-1].text()
    meta = " ".join(p.text() for p in parse(html).find_all("p", class_="meta"))
    when = s.rendered(sapp, "{{ t|local_datetime }}", t=submission.created_at)
    expected = s.rendered(
        sapp, "{% if sent_by_text is defined %}{{ sent_by_text('guardian', when) }}"
              "{% else %}{{ answered_by_label('guardian') }}{% endif %}", when=when)
    assert expected in meta, meta
    # The other guardian ("adult") cannot submit again: one submission.
    other_guardian = s.citizen_client(sapp, people["adult"], acting_for=people["child"])
    assert s.location(other_guardian.get(f"/forms/{token}/0")).endswith("/receipt")


def test_a_14_year_old_answers_and_the_parent_is_refused(sapp: Flask, world: s.World,
                                                         sender: Any) -> None:
    people = world.citizens
    tokens = send(sapp, sender, world, "teen")
    token = tokens["teen"]
    parent = s.citizen_client(sapp, people["teen_parent"], acting_for=people["teen"])
    assert parent.get(f"/forms/{token}/0").status_code == 404
    assert f"/forms/{token}/0" not in s.body(parent.get("/inbox"))
    assert s.answer_phq9(s.CitizenForm(s.citizen_client(sapp, people["teen"]), token)) \
        .status_code == 302
    [submission] = submissions_of(sapp, token)
    assert (submission.answered_by_kind, submission.answered_by_id) == (
        "citizen", people["teen"].id)


def test_a_child_who_turned_13_after_the_send_out_answers_themself(sapp: Flask,
                                                                   world: s.World) -> None:
    people = world.citizens
    today = swedish_today(utcnow())
    birthday_child = s.add_citizen(sapp, f"Fira Trettonåring {world.label}",
                                   s.years_ago(today, 13), guardians=[people["parent"].id])
    send_out_id = s.send_out_via_service(sapp, world, "phq-9", [birthday_child.id])
    yesterday = utcnow() - dt.timedelta(days=1)
    with sapp.app_context():
        # Sent yesterday, when the child was 12.
        db.session.execute(update(SendOut).where(SendOut.id == send_out_id).values(
            created_at=yesterday, scheduled_at=yesterday))
        db.session.execute(update(Assignment).where(Assignment.send_out_id == send_out_id)
                           .values(created_at=yesterday))
        db.session.commit()
    from formular.definitions.personnummer import IdentityNumber

    identity = IdentityNumber.parse(birthday_child.personnummer)
    assert identity.age_on(swedish_today(yesterday)) == 12
    assert identity.age_on(today) == 13
    token = s.assignment_of(sapp, send_out_id, birthday_child.id).token
    guardian = s.citizen_client(sapp, people["parent"], acting_for=birthday_child)
    assert guardian.get(f"/forms/{token}/0").status_code == 404
    child = s.citizen_client(sapp, birthday_child)
    assert s.answer_phq9(s.CitizenForm(child, token)).status_code == 302
    [submission] = submissions_of(sapp, token)
    assert (submission.answered_by_kind, submission.answered_by_id) == (
        "citizen", birthday_child.id)


# -- other people's, closed and withdrawn forms --------------------------------------------


def test_another_citizens_token_is_404(sapp: Flask, world: s.World, sender: Any) -> None:
    tokens = send(sapp, sender, world, "adult")
    token = tokens["adult"]
    stranger = s.citizen_client(sapp, world.citizens["outsider"])
    for url in (f"/forms/{token}/0", f"/forms/{token}/1", f"/forms/{token}/review",
                f"/forms/{token}/receipt", f"/forms/{token}/copy.pdf"):
        assert stranger.get(url).status_code == 404, url
    csrf = s.fresh_csrf(stranger)
    assert stranger.post(f"/forms/{token}/0", data={
        "csrf_token": csrf, "_revision": "0", "phq1": "3"}).status_code == 404
    assert stranger.post(f"/forms/{token}/submit", data={"csrf_token": csrf}).status_code == 404
    row = assignment(sapp, token)
    assert row.state == "sent"
    assert row.draft_id is None
    # A guardian acting for their own child cannot reach it either.
    guardian = s.citizen_client(sapp, world.citizens["parent"], acting_for=world.citizens["child"])
    assert guardian.get(f"/forms/{token}/0").status_code == 404


def test_expired_form_shows_the_closed_page(sapp: Flask, world: s.World) -> None:
    from formular.sendouts import timers

    adult = world.citizens["adult"]
    soon = utcnow() + dt.timedelta(hours=1)
    send_out_id = s.send_out_via_service(sapp, world, "phq-9", [adult.id], expires_at=soon)
    token = s.assignment_of(sapp, send_out_id, adult.id).token
    citizen = s.citizen_client(sapp, adult)
    form = s.CitizenForm(citizen, token)
    assert form.post(0, {"phq1": "1"}, action="save").status_code == 200
    with sapp.app_context():
        db.session.execute(update(SendOut).where(SendOut.id == send_out_id).values(
            expires_at=utcnow() - dt.timedelta(minutes=1)))
        db.session.commit()
        assert timers.tick(db.session(), utcnow()) >= 1
    assert assignment(sapp, token).state == "expired"
    page = citizen.get(f"/forms/{token}/0")
    assert page.status_code == 200
    assert tr(sapp, "The form is closed") in s.body(page)
    assert 'name="_revision"' not in s.body(page)
    submit = citizen.post(f"/forms/{token}/submit", data={"csrf_token": s.csrf_of(s.body(page))})
    assert tr(sapp, "The form is closed") in s.body(submit)
    assert submissions_of(sapp, token) == []
    assert f"/forms/{token}/0" not in s.body(citizen.get("/inbox"))


def test_withdrawn_form_is_404(sapp: Flask, world: s.World, sender: Any) -> None:
    tokens = send(sapp, sender, world, "adult3")
    token = tokens["adult3"]
    page = s.body(sender.get(f"/staff/assignments/{token}"))
    assert sender.post(f"/staff/assignments/{token}/cancel",
                       data={"csrf_token": s.csrf_of(page)}).status_code == 302
    citizen = s.citizen_client(sapp, world.citizens["adult3"])
    for url in (f"/forms/{token}/0", f"/forms/{token}/review", f"/forms/{token}/receipt"):
        assert citizen.get(url).status_code == 404, url
    assert f"/forms/{token}/" not in s.body(citizen.get("/inbox"))


# -- the PDF copy and the citizen's access log ---------------------------------------------


def test_pdf_copy_when_the_policy_allows_it(sapp: Flask, world: s.World) -> None:
    adult = world.citizens["adult2"]
    send_out_id = s.send_out_via_service(sapp, world, "showcase", [adult.id])
    token = s.assignment_of(sapp, send_out_id, adult.id).token
    citizen = s.citizen_client(sapp, adult)
    form = s.CitizenForm(citizen, token)
    assert citizen.get(f"/forms/{token}/copy.pdf").status_code == 404  # nothing sent yet
    fill_showcase(form)
    assert form.submit().status_code == 302
    mark = s.last_access_id(sapp)
    receipt = s.body(citizen.get(f"/forms/{token}/receipt"))
    assert f"/forms/{token}/copy.pdf" in receipt
    pdf = citizen.get(f"/forms/{token}/copy.pdf")
    assert pdf.status_code == 200
    assert pdf.get_data().startswith(b"%PDF-")
    assert pdf.mimetype == "application/pdf"
    assert s.access_rows(sapp, after_id=mark) == []  # a citizen reading their own answers


def test_citizen_sees_who_read_their_answers(sapp: Flask, world: s.World, sender: Any,
                                             reviewer: Any) -> None:
    person = s.add_citizen(sapp, f"Läsa Loggsson {world.label}", s.adult_birth())
    send_out_id = s.send_out_via_pages(sender, world.unit_id, person.personnummer)
    token = s.assignment_of(sapp, send_out_id, person.id).token
    citizen = s.citizen_client(sapp, person)
    empty = s.body(citizen.get("/access-log"))
    assert world.staff["reviewer"].name not in empty
    s.answer_phq9(s.CitizenForm(citizen, token))
    assert sender.get(f"/staff/sendouts/{send_out_id}").status_code == 200
    assert reviewer.get(f"/staff/assignments/{token}").status_code == 200
    html = s.body(citizen.get("/access-log"))
    assert_accessible(html)
    table = parse(html).find("table", class_="results")
    assert table is not None
    tbody = table.find("tbody")
    assert tbody is not None
    rows = [[c.text() for c in r.find_all("td")] for r in tbody.find_all("tr")]
    read = [r for r in rows if r[3] == s.label(sapp, "access_label", "submission:read")]
    assert len(read) == 1
    when, who, unit, _what = read[0]
    assert (who, unit) == (world.staff["reviewer"].name, world.unit_name)
    with sapp.app_context():
        from formular.storage.audit import AccessLog

        at = db.session.scalar(select(func.max(AccessLog.at)).where(
            AccessLog.citizen_id == person.id, AccessLog.action == "submission:read"))
    assert at is not None
    from formular.web.timezone import to_local

    local = to_local(at)
    assert local is not None
    assert local.strftime("%H:%M") in when
    # The sender's follow-up list showed the person too.
    assert any(r[1] == world.staff["sender"].name
               and r[3] == s.label(sapp, "access_label", "sendout:list")
               for r in rows)
    # Another citizen's log does not show it.
    other = s.body(s.citizen_client(sapp, world.citizens["outsider"]).get("/access-log"))
    assert person.name not in other


def test_guardian_acting_for_a_child_sees_the_childs_access_log(sapp: Flask, world: s.World,
                                                                sender: Any) -> None:
    people = world.citizens
    tokens = send(sapp, sender, world, "child")
    assert sender.get(f"/staff/sendouts/{tokens['_id']}").status_code == 200  # lists the child
    guardian = s.citizen_client(sapp, people["parent"], acting_for=people["child"])
    html = s.body(guardian.get("/access-log"))
    assert world.staff["sender"].name in html
    own = s.body(s.citizen_client(sapp, people["teen_parent"]).get("/access-log"))
    assert world.staff["sender"].name not in own


def test_events_are_never_written_for_refused_access(sapp: Flask, world: s.World,
                                                     sender: Any) -> None:
    """A refused open (404) leaves the assignment and its history as they were."""
    tokens = send(sapp, sender, world, "teen")
    row = assignment(sapp, tokens["teen"])
    parent = s.citizen_client(sapp, world.citizens["teen_parent"],
                              acting_for=world.citizens["teen"])
    assert parent.get(f"/forms/{tokens['teen']}/0").status_code == 404
    with sapp.app_context():
        events = db.session.scalar(select(func.count()).select_from(AssignmentEvent).where(
            AssignmentEvent.assignment_id == row.id))
    assert events == 1


def test_a_form_page_reads_the_definition_document_only_when_not_compiled_yet(
        sapp: Flask, world: s.World, sender: Any) -> None:
    """Form requests load the version without its document (a long questionnaire's is large):
    once compiled in this process, opening and posting pages never selects it."""
    from sqlalchemy import event

    tokens = send(sapp, sender, world, "adult2")
    form = s.CitizenForm(s.citizen_client(sapp, world.citizens["adult2"]), tokens["adult2"])
    assert form.get(0).status_code == 200  # compiled by now, whatever ran before
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    with sapp.app_context():
        engine = db.session.get_bind()
    event.listen(engine, "before_cursor_execute", seen)
    try:
        assert form.get(0).status_code == 200
        assert form.post(0, s.PHQ_ANSWERS).status_code == 302
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert any("FROM assignment" in statement for statement in statements)
    assert not [statement for statement in statements
                if re.search(r"definition_version(_\d+)?\.document", statement)]


def test_a_form_page_reads_its_assignment_with_the_log_in_session(
        sapp: Flask, world: s.World, sender: Any) -> None:
    """The form views declare their first read, so the session lookup makes it: one SELECT
    reads the log-in session and the assignment (with its send-out, version, citizen and
    draft), and no other statement reads the assignment. Without a cookie nothing is read
    alongside and the view reads for itself (and is sent to the log-in)."""
    from sqlalchemy import event

    tokens = send(sapp, sender, world, "adult2")
    citizen = s.citizen_client(sapp, world.citizens["adult2"])
    form = s.CitizenForm(citizen, tokens["adult2"])
    assert form.post(0, s.PHQ_ANSWERS).status_code == 302  # opened, with a draft
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(" ".join(statement.split()))

    with sapp.app_context():
        engine = db.session.get_bind()
    event.listen(engine, "before_cursor_execute", seen)
    try:
        page = form.get(1)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert page.status_code == 200
    assert 'name="phq10"' in s.body(page)
    [lookup] = [st for st in statements if "FROM login_session" in st]
    assert "AS alongside" in lookup
    assert "WHERE assignment.token" in lookup
    assert [st for st in statements if "FROM assignment" in st] == [lookup]
    anonymous = sapp.test_client().get(f"/forms/{tokens['adult2']}/0")
    assert anonymous.status_code == 302
    assert "/login" in s.location(anonymous)
