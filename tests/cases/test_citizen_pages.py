"""The citizen's errand pages: choosing a clinic and a case type, the terms, the form with the
shared filler, attachments, following the case, answering a question, withdrawing — and every
way in that must not work (forged tokens, other people's cases, case types not offered)."""

from __future__ import annotations

import datetime as dt
import io
import re
import uuid
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from formular.casetypes import service as casetypes
from formular.designs import store
from formular.storage.cases import Case, CaseAttachment, CaseDraft, CaseMessage
from formular.storage.db import db
from tests.cases import support as cs
from tests.casetypes.support import case_document
from tests.functional import staff_support as s
from tests.functional.support import (
    assert_accessible,
    assert_no_inline_script,
    parse,
    summary_links,
)

WORLD_PREFIX = "c1web"


class ErrandForm(s.CitizenForm):
    """Fills an errand's form through /errands/draft/<token>/… without JavaScript."""

    def __init__(self, client: Any, token: str) -> None:
        super().__init__(client, token)
        self.base = f"/errands/draft/{token}"


def _count(app: Flask, model: Any, **where: Any) -> int:
    with app.app_context():
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return int(db.session.scalar(query) or 0)


def _start(client: Any, case_type: cs.StoredCaseType) -> str:
    """Accept the terms of a case type; returns the errand draft's token."""
    url = f"/errands/new/{case_type.unit_id}/{case_type.definition_id}"
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    response = client.post(url, data={"csrf_token": s.csrf_of(s.body(page)), "accept": "yes"})
    assert response.status_code == 302, response.status_code
    found = re.search(r"/errands/draft/([^/]+)/0$", s.location(response))
    assert found, s.location(response)
    return found.group(1)


def _send(client: Any, case_type: cs.StoredCaseType, message: str) -> tuple[ErrandForm, Any]:
    form = ErrandForm(client, _start(client, case_type))
    assert form.post(0, {"message": message}).status_code == 302
    return form, form.submit()


def _case_token(app: Flask, citizen_id: int) -> str:
    with app.app_context():
        return str(db.session.scalars(select(Case.token).where(Case.citizen_id == citizen_id)
                                      .order_by(Case.id.desc())).first())


def test_a_citizen_finds_the_clinic_and_sends_an_errand(sapp: Flask, cases_world: s.World,
                                                        case_type: cs.StoredCaseType) -> None:
    person = cases_world.citizens["adult"]
    client = s.citizen_client(sapp, person)
    inbox = s.body(client.get("/inbox"))
    assert 'href="/errands"' in inbox
    assert 'href="/errands/new"' in inbox
    assert client.get("/errands").status_code == 200

    search = client.get("/errands/new", query_string={"q": f"ängen {WORLD_PREFIX}"})
    html = s.body(search)
    assert_accessible(html)
    assert f'href="/errands/new/{cases_world.unit_id}"' in html
    # Clinic B offers nothing, so it is not found.
    assert f'href="/errands/new/{cases_world.other_unit_id}"' not in s.body(
        client.get("/errands/new", query_string={"q": WORLD_PREFIX}))

    types = s.body(client.get(f"/errands/new/{cases_world.unit_id}"))
    assert case_type.title in types

    url = f"/errands/new/{case_type.unit_id}/{case_type.definition_id}"
    terms = client.get(url)
    html = s.body(terms)
    assert_accessible(html)
    assert_no_inline_script(html)
    assert "<strong>inte</strong>" in html  # the terms text (Markdown) is shown
    refused = client.post(url, data={"csrf_token": s.csrf_of(html)})
    assert refused.status_code == 400
    assert 'aria-invalid="true"' in s.body(refused)
    assert _count(sapp, CaseDraft, citizen_id=person.id) == 0

    started = _start(client, case_type)
    assert f"/errands/draft/{started}/0" in s.body(client.get("/errands"))  # not sent yet
    form, sent = _send(client, case_type, "Jag vill veta mitt provsvar.")
    assert form.token == started  # accepting again continues the same errand
    assert _count(sapp, CaseDraft, citizen_id=person.id) == 1
    assert sent.status_code == 302
    assert s.location(sent).endswith("/receipt")
    receipt = s.body(client.get(s.location(sent)))
    assert_accessible(receipt)
    token = _case_token(sapp, person.id)
    assert f"/errands/{token}" in receipt
    row = cs.case_row(sapp, token)
    assert row["state"] == "new"
    assert row["unit_id"] == cases_world.unit_id

    page = s.body(client.get(f"/errands/{token}"))
    assert_accessible(page)
    assert "Jag vill veta mitt provsvar." in page
    assert s.label(sapp, "case_citizen_state", "new") in page
    listing = s.body(client.get("/errands"))
    assert f"/errands/{token}" in listing
    # A second send of the same draft gives the same case.
    again = client.post(f"{form.base}/submit", data={"csrf_token": s.fresh_csrf(client)})
    assert again.status_code == 302
    assert s.location(again).endswith("/receipt")
    assert _count(sapp, Case, citizen_id=person.id) == 1


def test_attachments_are_checked_and_a_bad_file_stores_nothing(
        sapp: Flask, cases_world: s.World, case_type_with_files: cs.StoredCaseType) -> None:
    person = cases_world.citizens["adult2"]
    client = s.citizen_client(sapp, person)
    form, sent = _send(client, case_type_with_files, "Förnya mina blodtryckstabletter.")
    assert sent.status_code == 302
    assert s.location(sent).endswith("/attachments")
    url = s.location(sent)
    page = s.body(client.get(url))
    assert_accessible(page)
    csrf = s.csrf_of(page)

    def post(files: list[tuple[bytes, str]]) -> Any:
        return client.post(url, data={"csrf_token": csrf,
                                      "files": [(io.BytesIO(d), n) for d, n in files]},
                           content_type="multipart/form-data")

    bad = [
        [(b"MZ\x90\x00this is an exe", "recept.pdf")],       # wrong type behind a right name
        [(cs.PNG, "recept.pdf")],                             # a PNG named .pdf
        [(b"", "tom.pdf")],                                   # empty
        [(b"%PDF-" + b"0" * (20 * 1024 * 1024), "stor.pdf")],  # over 20 MB
        [(cs.PDF, f"fil{i}.pdf") for i in range(6)],          # too many
        [(cs.PDF, "ok.pdf"), (b"GIF87", "trasig.gif")],       # one bad among good ones
    ]
    for files in bad:
        response = post(files)
        assert response.status_code == 400, files[0][1]
        assert 'role="alert"' in s.body(response)
        assert _count(sapp, Case, citizen_id=person.id) == 0
    with sapp.app_context():
        assert db.session.scalar(select(func.count()).select_from(CaseAttachment).join(
            Case, Case.id == CaseAttachment.case_id).where(Case.citizen_id == person.id)) == 0

    done = post([(cs.PDF, "recept.pdf"), (cs.PNG, "förpackning.png")])
    assert done.status_code == 302
    assert s.location(done).endswith("/receipt")
    token = _case_token(sapp, person.id)
    page = s.body(client.get(f"/errands/{token}"))
    links = re.findall(rf'href="(/errands/{re.escape(token)}/files/[^"]+)"', page)
    assert len(links) == 2
    download = client.get(links[0])
    assert download.status_code == 200
    assert download.data == cs.PDF
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    # Another citizen cannot fetch it, nor reach the case.
    other = s.citizen_client(sapp, cases_world.citizens["adult3"])
    assert other.get(links[0]).status_code == 404
    assert other.get(f"/errands/{token}").status_code == 404
    # A case type without attachments has no attachment step.
    assert client.get(f"/errands/draft/{form.token}/attachments").status_code == 302


def test_case_types_not_offered_or_not_handed_out_are_404(sapp: Flask, cases_world: s.World,
                                                          case_type: cs.StoredCaseType) -> None:
    client = s.citizen_client(sapp, cases_world.citizens["adult3"])
    disabled = cs.add_case_type(sapp, cases_world.unit_id, "Avstängd", enabled=False)
    restricted = cs.add_case_type(sapp, cases_world.unit_id, "Utdelad", restricted=True)
    elsewhere = cs.add_case_type(sapp, cases_world.other_unit_id, "Björkens egen")
    types = s.body(client.get(f"/errands/new/{cases_world.unit_id}"))
    assert "Avstängd" not in types
    assert "Utdelad" not in types
    csrf = s.fresh_csrf(client)
    for unit_id, definition_id in (
            (cases_world.unit_id, disabled.definition_id),
            (cases_world.unit_id, restricted.definition_id),
            (cases_world.unit_id, elsewhere.definition_id),  # B's case type at A
            (cases_world.unit_id, "finns-inte"),
            (cases_world.region_id, case_type.definition_id),  # a region is no clinic
            (999999, case_type.definition_id)):
        url = f"/errands/new/{unit_id}/{definition_id}"
        assert client.get(url).status_code == 404, url
        assert client.post(url, data={"csrf_token": csrf, "accept": "yes"}).status_code == 404
    assert client.get("/errands/new/999999").status_code == 404
    assert _count(sapp, CaseDraft, citizen_id=cases_world.citizens["adult3"].id) == 0

    # Handed out to this citizen: offered; revoked: gone again, also mid-draft.
    from formular.casetypes import service as casetypes
    from formular.storage.identity import Citizen

    with sapp.app_context():
        session = db.session()
        citizen = session.get(Citizen, cases_world.citizens["adult3"].id)
        assert citizen is not None
        casetypes.grant(session, unit_id=cases_world.unit_id,
                        definition_id=restricted.definition_id, citizen=citizen,
                        valid_until=None, today=dt.date.today(),
                        staff_user_id=cases_world.staff["admin"].id)
        session.commit()
    token = _start(client, restricted)
    assert client.get(f"/errands/draft/{token}/0").status_code == 200
    with sapp.app_context():
        session = db.session()
        from formular.storage.casetypes import CaseTypeGrant

        for grant in session.scalars(select(CaseTypeGrant).where(
                CaseTypeGrant.definition_id == restricted.definition_id,
                CaseTypeGrant.revoked_at.is_(None))):
            casetypes.revoke_grant(session, unit_id=cases_world.unit_id, grant_id=grant.id,
                                   staff_user_id=cases_world.staff["admin"].id)
        session.commit()
    assert client.get(f"/errands/draft/{token}/0").status_code == 404


def test_forged_tokens_and_other_peoples_cases_are_404(sapp: Flask, cases_world: s.World,
                                                       case_type: cs.StoredCaseType) -> None:
    owner = cases_world.citizens["adult"]
    token = cs.make_case(sapp, case_type, owner)
    client = s.citizen_client(sapp, owner)
    draft_token = _start(client, case_type)
    intruder = s.citizen_client(sapp, cases_world.citizens["outsider"])
    csrf = s.fresh_csrf(intruder)
    before = _count(sapp, CaseMessage)
    for forged in (token, token[:-1] + ("A" if token[-1] != "A" else "B"), "x" * 300):
        assert intruder.get(f"/errands/{forged}").status_code == 404
        assert intruder.post(f"/errands/{forged}/reply",
                             data={"csrf_token": csrf, "message": "Hej"}).status_code == 404
        assert intruder.post(f"/errands/{forged}/withdraw",
                             data={"csrf_token": csrf}).status_code == 404
        assert intruder.get(f"/errands/{forged}/files/abc").status_code == 404
    for path in (f"/errands/draft/{draft_token}/0", f"/errands/draft/{draft_token}/review",
                 f"/errands/draft/{draft_token}/receipt", "/errands/draft/nope/0"):
        assert intruder.get(path).status_code == 404, path
    assert intruder.post(f"/errands/draft/{draft_token}/submit",
                         data={"csrf_token": csrf}).status_code == 404
    assert client.get(f"/errands/{token}/files/not-a-file").status_code == 404
    assert _count(sapp, CaseMessage) == before
    assert cs.case_row(sapp, token)["state"] == "new"
    # Staff cannot use the citizen's pages.
    staff = s.staff_client(sapp, cases_world.staff["case-handler"])
    assert staff.get(f"/errands/{token}").status_code == 403


def test_the_citizen_answers_a_question_and_reads_the_answer(
        sapp: Flask, cases_world: s.World, case_type: cs.StoredCaseType) -> None:
    person = cases_world.citizens["adult2"]
    token = cs.make_case(sapp, case_type, person)
    client = s.citizen_client(sapp, person)
    url = f"/errands/{token}"
    csrf = s.csrf_of(s.body(client.get(url)))
    # Nothing asked yet: a reply is refused and nothing is stored.
    early = client.post(f"{url}/reply", data={"csrf_token": csrf, "message": "Hallå?"})
    assert early.status_code == 409
    assert _count(sapp, CaseMessage, case_id=cs.case_row(sapp, token)["id"]) == 0

    cs.fire_as(sapp, token, "assign", cases_world.actor("case-receiver"),
               {"assigned_to_id": cases_world.staff["case-handler"].id})
    cs.fire_as(sapp, token, "ask_citizen", cases_world.actor("case-handler"),
               {"message": "Vilket apotek?"})
    page = s.body(client.get(url))
    assert_accessible(page)
    assert "Vilket apotek?" in page
    assert 'id="reply-message"' in page
    empty = client.post(f"{url}/reply", data={"csrf_token": csrf, "message": "  "})
    assert empty.status_code == 400
    assert 'role="alert"' in s.body(empty)
    too_long = client.post(f"{url}/reply", data={"csrf_token": csrf, "message": "a" * 5001})
    assert too_long.status_code == 400
    files = client.post(f"{url}/reply", data={
        "csrf_token": csrf, "message": "Se bild",
        "files": [(io.BytesIO(cs.PNG), "bild.png")]}, content_type="multipart/form-data")
    assert files.status_code == 400  # this case type takes no attachments
    assert cs.case_row(sapp, token)["state"] == "waiting-for-citizen"

    sent = client.post(f"{url}/reply", data={"csrf_token": csrf,
                                             "message": "Apoteket <b>Hjärtat</b>"})
    assert sent.status_code == 302
    assert cs.case_row(sapp, token)["state"] == "assigned"
    page = s.body(client.get(url))
    assert "Apoteket &lt;b&gt;Hjärtat&lt;/b&gt;" in page  # escaped
    assert 'id="reply-message"' not in page

    cs.fire_as(sapp, token, "answer", cases_world.actor("case-handler"),
               {"message": "Receptet är förnyat."})
    cs.fire_as(sapp, token, "close", cases_world.actor("case-handler"), {"message": ""})
    page = s.body(client.get(url))
    assert "Receptet är förnyat." in page
    assert s.label(sapp, "case_citizen_state", "closed") in page
    with sapp.app_context():
        unread = db.session.scalar(select(func.count()).select_from(CaseMessage).where(
            CaseMessage.case_id == cs.case_row(sapp, token)["id"],
            CaseMessage.author_staff_id.is_not(None),
            CaseMessage.read_by_citizen_at.is_(None)))
    assert unread == 0  # opening the case marks the clinic's messages read
    closed = client.post(f"{url}/reply", data={"csrf_token": csrf, "message": "En sak till"})
    assert closed.status_code == 409
    assert s.rendered(sapp, '{{ _("The errand is closed and can no longer be answered.") }}') \
        in s.body(closed)


def test_the_citizen_withdraws_an_errand(sapp: Flask, cases_world: s.World,
                                         case_type: cs.StoredCaseType) -> None:
    person = cases_world.citizens["adult3"]
    token = cs.make_case(sapp, case_type, person)
    client = s.citizen_client(sapp, person)
    url = f"/errands/{token}"
    page = s.body(client.get(url))
    assert f'action="{url}/withdraw"' in page
    csrf = s.csrf_of(page)
    assert client.post(f"{url}/withdraw", data={"csrf_token": csrf}).status_code == 302
    row = cs.case_row(sapp, token)
    assert row["state"] == "closed"
    assert row["closed_at"] is not None
    page = s.body(client.get(url))
    assert f'action="{url}/withdraw"' not in page
    again = client.post(f"{url}/withdraw", data={"csrf_token": csrf}, follow_redirects=True)
    assert 'role="alert"' in s.body(again)


def test_a_guardian_writes_for_a_child_under_13(sapp: Flask, cases_world: s.World,
                                                case_type: cs.StoredCaseType) -> None:
    parent = cases_world.citizens["parent"]
    child = cases_world.citizens["child"]
    client = s.citizen_client(sapp, parent, acting_for=child)
    _form, sent = _send(client, case_type, "Mitt barn behöver en ny tid.")
    assert sent.status_code == 302
    token = _case_token(sapp, child.id)
    with sapp.app_context():
        case = db.session.scalars(select(Case).where(Case.token == token)).one()
        assert (case.citizen_id, case.created_by_citizen_id) == (child.id, parent.id)
    # The other guardian acting for the child sees it; acting for themself they do not.
    other_guardian = cases_world.citizens["adult"]
    assert s.citizen_client(sapp, other_guardian, acting_for=child).get(
        f"/errands/{token}").status_code == 200
    assert s.citizen_client(sapp, other_guardian).get(f"/errands/{token}").status_code == 404
    # The parent acting for themself does not see the child's errand either.
    assert s.citizen_client(sapp, parent).get(f"/errands/{token}").status_code == 404


def test_an_incomplete_errand_goes_back_to_the_review_before_any_file_is_chosen(
        sapp: Flask, cases_world: s.World, case_type_with_files: cs.StoredCaseType) -> None:
    person = cases_world.citizens["teen_parent"]
    client = s.citizen_client(sapp, person)
    form = ErrandForm(client, _start(client, case_type_with_files))
    sent = form.submit()  # the required message is missing
    assert s.location(sent).endswith("/review")
    attach = client.get(f"{form.base}/attachments")
    assert s.location(attach).endswith("/review")
    posted = client.post(f"{form.base}/attachments", data={
        "csrf_token": s.fresh_csrf(client), "files": [(io.BytesIO(cs.PDF), "a.pdf")]},
        content_type="multipart/form-data")
    assert s.location(posted).endswith("/review")
    assert _count(sapp, Case, citizen_id=person.id) == 0


def test_the_shipped_renew_prescription_errand_with_a_file(sapp: Flask,
                                                           cases_world: s.World) -> None:
    """The real "Förnya recept" case type (a central one, terms locked), enabled at clinic A
    with attachments: two pages with a repeating group, then a PDF."""
    from formular.casetypes import service as casetypes

    with sapp.app_context():
        session = db.session()
        casetypes.save_setting(session, unit_id=cases_world.unit_id,
                               definition_id="case-renew-prescription", enabled=True,
                               attachments_enabled=True, restricted=False, terms_text=None,
                               staff_user_id=None)
        session.commit()
        offered = casetypes.case_type_for(session, cases_world.unit_id,
                                          "case-renew-prescription", None, dt.date.today())
        assert offered is not None
    renew = cs.StoredCaseType("case-renew-prescription", offered.version.id,
                              cases_world.unit_id, offered.title)
    person = cases_world.citizens["teen_parent"]
    client = s.citizen_client(sapp, person)
    terms = s.body(client.get(f"/errands/new/{cases_world.unit_id}/case-renew-prescription"))
    assert "1177.se" in terms  # the central terms text, with its link
    form = ErrandForm(client, _start(client, renew))
    first = form.post(0, {"medicines-0-name": "Levaxin", "medicines-0-strength": "50 mikrogram",
                          "medicines-0-dosage": "1 tablett på morgonen", "_js": "1"})
    assert first.status_code == 302, summary_links(parse(s.body(first)))
    second = form.post(1, {"pharmacy": "any", "changes": "false", "_js": "1"})
    assert second.status_code == 302
    assert s.location(second).endswith("/review")
    sent = form.submit()
    assert s.location(sent).endswith("/attachments")
    page = s.body(client.get(s.location(sent)))
    done = client.post(s.location(sent), data={
        "csrf_token": s.csrf_of(page), "files": [(io.BytesIO(cs.PDF), "receptlista.pdf")]},
        content_type="multipart/form-data")
    assert s.location(done).endswith("/receipt")
    token = _case_token(sapp, person.id)
    with sapp.app_context():
        case = db.session.scalars(select(Case).where(Case.token == token)).one()
        from formular.storage.models import Submission

        submission = db.session.get(Submission, case.submission_id)
        assert submission is not None
        assert submission.answers["medicines"][0]["name"] == "Levaxin"
        assert [f.filename for f in db.session.scalars(select(CaseAttachment).where(
            CaseAttachment.case_id == case.id))] == ["receptlista.pdf"]
    shown = s.body(client.get(f"/errands/{token}"))
    assert "Levaxin" in shown
    assert "receptlista.pdf" in shown


def test_a_last_page_that_sends_still_leads_through_the_attachments_step(
        sapp: Flask, cases_world: s.World) -> None:
    """A case type without a review page (policy ``review: false``) sends from its last page;
    when the clinic takes files, that send goes to the attachments step first, as the review
    page's send does, and nothing is stored before it."""
    with sapp.app_context():
        session = db.session()
        document = case_document(f"case-no-review-{uuid.uuid4().hex[:8]}", "Utan granskning")
        document["policy"]["review"] = False
        row, _new = store(session, document)
        row.owner_unit_id = cases_world.unit_id
        casetypes.save_setting(session, unit_id=cases_world.unit_id,
                               definition_id=row.definition_id, enabled=True,
                               attachments_enabled=True, restricted=False, terms_text=None,
                               staff_user_id=None)
        session.commit()
        case_type = cs.StoredCaseType(row.definition_id, row.id, cases_world.unit_id,
                                      "Utan granskning")
    person = cases_world.citizens["adult3"]
    before = _count(sapp, Case, citizen_id=person.id)
    client = s.citizen_client(sapp, person)
    form = ErrandForm(client, _start(client, case_type))
    sent = form.post(0, {"message": "Skickas från sidan."}, action="send")
    assert sent.status_code == 302
    assert s.location(sent).endswith(f"/errands/draft/{form.token}/attachments")
    assert _count(sapp, Case, citizen_id=person.id) == before
    page = s.body(client.get(s.location(sent)))
    done = client.post(s.location(sent), data={
        "csrf_token": s.csrf_of(page), "files": [(io.BytesIO(cs.PDF), "intyg.pdf")]},
        content_type="multipart/form-data")
    assert s.location(done).endswith("/receipt")
    assert _count(sapp, Case, citizen_id=person.id) == before + 1
