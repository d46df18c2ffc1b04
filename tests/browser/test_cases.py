"""An errand from start to end in a real browser: a citizen sends "Förnya recept" with a file,
the case receiver assigns it, the handler asks a question, the citizen answers, the handler
answers with a standard reply (edited before sending), fills in the decision per medicine and
closes the errand, and the citizen reads the answer. axe-core checks every case page, the
citizen's and the staff's, on the way (the citizen's pages, the case inbox and a stored case type).

Each browser context is one person with a session cookie (log-in is tested elsewhere). The
people, the clinic and its settings (Förnya recept offered with attachments, one standard
reply) are made through the services, as an administrator would through the administration pages.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from formular.auth import sessions
from formular.cases import service as case_service
from formular.casetypes import service as casetypes
from formular.storage.base import utcnow
from formular.storage.cases import Case
from formular.storage.db import db
from formular.storage.identity import Role
from formular.storage.models import DefinitionVersion
from tests import factories
from tests.auth.support import cookie_name
from tests.functional import staff_support as s

from .conftest import TIMEOUT_MS
from .helpers import assert_no_violations

pytestmark = pytest.mark.browser

CASE_TYPE = "case-renew-prescription"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
STANDARD_TITLE = "Receptet är förnyat"
STANDARD_BODY = "Hej! Ditt recept är förnyat och finns som e-recept på apoteket i morgon."


@dataclass
class People:
    unit_name: str
    case_type_title: str
    citizen_name: str
    citizen_number: str
    receiver_name: str
    handler_name: str
    cookies: dict[str, str]


def _cookie(session: Any, **values: Any) -> str:
    _record, value = sessions.create(session, now=utcnow(), **values)
    return value


@pytest.fixture(scope="module")
def people(app: Flask) -> People:
    suffix = uuid.uuid4().hex[:6]
    with app.app_context():
        session = db.session()
        version = session.scalars(select(DefinitionVersion).where(
            DefinitionVersion.definition_id == CASE_TYPE)
            .order_by(DefinitionVersion.version.desc())).first()
        assert version is not None, f"{CASE_TYPE} is not among the stored designs"
        unit = factories.unit(session, name=f"Vårdcentralen Receptprov {suffix}")
        casetypes.save_setting(session, unit_id=unit.id, definition_id=CASE_TYPE, enabled=True,
                               attachments_enabled=True, restricted=False, terms_text=None,
                               staff_user_id=None)
        casetypes.save_standard_reply(session, unit_id=unit.id, reply_id=None,
                                      definition_id=CASE_TYPE, title=STANDARD_TITLE,
                                      body=STANDARD_BODY, active=True, staff_user_id=None)
        receiver = factories.staff(session, [(unit, Role.CASE_RECEIVER)])
        receiver.display_name = f"Rut Mottagare {suffix}"
        handler = factories.staff(session, [(unit, Role.CASE_HANDLER)])
        handler.display_name = f"Hans Handläggare {suffix}"
        birth = s.adult_birth()
        citizen = factories.citizen(session, birth,
                                    personnummer=s.free_personnummer(session, birth),
                                    name=f"Fia Förnyare {suffix}")
        session.flush()
        result = People(
            unit_name=unit.name, case_type_title=version.title, citizen_name=citizen.name,
            citizen_number=citizen.personnummer, receiver_name=receiver.display_name,
            handler_name=handler.display_name, cookies={
                "citizen": _cookie(session, kind="citizen", method="oidc",
                                   citizen_id=citizen.id, assurance_level=3),
                "receiver": _cookie(session, kind="staff", method="local",
                                    staff_user_id=receiver.id),
                "handler": _cookie(session, kind="staff", method="local",
                                   staff_user_id=handler.id)})
        session.commit()
    return result


@pytest.fixture
def pages(browser: Browser, live_server: str, app: Flask,
          people: People) -> Iterator[Callable[[str], Page]]:
    """One page per person (its own browser context), made on first use."""
    made: dict[str, Page] = {}
    contexts: list[Any] = []
    errors: list[str] = []

    def page_of(who: str) -> Page:
        if who not in made:
            context = browser.new_context(base_url=live_server, locale="sv-SE",
                                          timezone_id="Europe/Stockholm",
                                          viewport={"width": 1100, "height": 900})
            context.add_cookies([{"name": cookie_name(app), "value": people.cookies[who],
                                  "url": live_server}])
            context.set_default_timeout(TIMEOUT_MS)
            context.set_default_navigation_timeout(TIMEOUT_MS)
            contexts.append(context)
            made[who] = context.new_page()
            made[who].on("pageerror", lambda error: errors.append(f"{who}: {error}"))
        return made[who]

    try:
        yield page_of
    finally:
        for context in contexts:
            context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def test_a_prescription_errand_from_start_to_end(
        pages: Callable[[str], Page], people: People, t: Callable[..., str],
        axe: Callable[[Page], list[dict[str, Any]]], app: Flask) -> None:
    checked: list[str] = []

    def accessible(page: Page, where: str) -> None:
        assert_no_violations(axe(page), where)
        checked.append(where)

    # 1. The citizen finds the clinic, reads the terms and sends Förnya recept with a file.
    citizen = pages("citizen")
    citizen.goto("/errands/new")
    citizen.get_by_label(t("Clinic name")).fill(people.unit_name)
    citizen.get_by_role("button", name=t("Search")).click()
    citizen.get_by_role("link", name=people.unit_name).click()
    accessible(citizen, "citizen: case types")
    citizen.get_by_role("link", name=people.case_type_title).click()
    accessible(citizen, "citizen: terms")
    citizen.get_by_label(t("I have read and accept the terms")).check()
    citizen.get_by_role("button", name=t("Continue")).click()
    citizen.get_by_role("button", name="Lägg till ett läkemedel").click()
    citizen.get_by_label("Läkemedlets namn").fill("Levaxin")
    citizen.get_by_label("Styrka").fill("50 mikrogram")
    citizen.get_by_label("Hur tar du det?").fill("1 tablett på morgonen")
    accessible(citizen, "citizen: case form")
    citizen.get_by_role("button", name=t("Next")).click()
    citizen.get_by_label("På valfritt apotek (e-recept)").check()
    citizen.get_by_role("radiogroup", name="Har något ändrats sedan du fick receptet?") \
        .get_by_label(t("No")).check()
    citizen.get_by_role("button", name=t("Next")).click()
    citizen.get_by_role("button", name=t("Send")).click()
    accessible(citizen, "citizen: attachments")
    citizen.get_by_label(t("Files (optional)")).set_input_files(
        [{"name": "receptlista.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    citizen.get_by_role("button", name=t("Send the errand")).click()
    expect(citizen.get_by_role("heading", name=t("Your errand has been sent"))).to_be_visible()
    accessible(citizen, "citizen: receipt")

    # 2. The receiver sees it in the inbox (new) and assigns it to the handler.
    receiver = pages("receiver")
    receiver.goto("/staff/cases/")
    row = receiver.get_by_role("row").filter(has_text=people.citizen_name)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(_case_state(app, "new"))
    accessible(receiver, "staff: case inbox")
    row.get_by_role("link", name=people.case_type_title).click()
    expect(receiver.get_by_text("Levaxin")).to_be_visible()
    expect(receiver.get_by_role("link", name="receptlista.pdf")).to_be_visible()
    accessible(receiver, "staff: new case")
    receiver.get_by_label(t("To"), exact=True).select_option(label=people.handler_name)
    receiver.get_by_role("button", name=t("Assign")).click()
    expect(receiver.locator(".notice")).to_contain_text(people.handler_name)
    case_url = receiver.url

    # 3. The handler asks a question.
    handler = pages("handler")
    handler.goto("/staff/cases/?assigned=me")
    handler.get_by_role("link", name=people.case_type_title).click()
    assert handler.url == case_url
    handler.get_by_label(t("Question"), exact=True).check()
    handler.get_by_label(t("Message"), exact=True).fill(
        "Tar du fortfarande 50 mikrogram varje morgon?")
    accessible(handler, "staff: case with the reply form")
    handler.get_by_role("button", name=t("Send"), exact=True).click()
    expect(handler.locator(".case-facts")).to_contain_text(
        _case_state(app, "waiting-for-citizen"))

    # 4. The citizen answers the question.
    citizen.goto("/errands")
    citizen.get_by_role("link", name=re.compile(re.escape(people.case_type_title))).first.click()
    expect(citizen.get_by_text("Tar du fortfarande 50 mikrogram varje morgon?")).to_be_visible()
    accessible(citizen, "citizen: case with a question")
    citizen.get_by_label(t("Message to the clinic")).fill("Ja, en tablett varje morgon.")
    citizen.get_by_role("button", name=t("Send the answer")).click()

    # 5. The handler answers with the standard reply, edited, decides, and closes.
    handler.goto(case_url)
    expect(handler.get_by_text("Ja, en tablett varje morgon.")).to_be_visible()
    handler.get_by_label(t("Answer"), exact=True).check()
    handler.get_by_label(t("Standard reply")).select_option(label=STANDARD_TITLE)
    handler.get_by_role("button", name=t("Insert the standard reply")).click()
    message = handler.get_by_label(t("Message"), exact=True)
    expect(message).to_have_value(STANDARD_BODY)
    edited = STANDARD_BODY.replace("i morgon", "på fredag")
    message.fill(edited)
    decision = handler.locator("fieldset.repetition").first
    decision.get_by_role("textbox", name=re.compile(r"^Läkemedel\b")).fill(
        "Levaxin 50 mikrogram")
    decision.get_by_label("Förnyat", exact=True).check()
    decision.get_by_label("Giltigt i månader").fill("12")
    _fill_if_present(handler, "Meddelande till patienten", edited)
    handler.get_by_label(t("Close the errand when the answer is sent")).check()
    accessible(handler, "staff: answer with a decision")
    handler.get_by_role("button", name=t("Send"), exact=True).click()
    expect(handler.locator(".case-facts")).to_contain_text(_case_state(app, "closed"))
    expect(handler.locator(".case-thread")).to_contain_text(edited)
    accessible(handler, "staff: closed case")

    # 6. The citizen reads the answer and sees that the errand is closed.
    citizen.goto("/errands")
    citizen.get_by_role("link", name=re.compile(re.escape(people.case_type_title))).first.click()
    expect(citizen.get_by_text(edited)).to_be_visible()
    expect(citizen.locator(".case-status")).to_contain_text(t("Closed"))
    accessible(citizen, "citizen: answered and closed case")

    with app.app_context():
        case = db.session.scalars(select(Case).join(Case.citizen).where(
            Case.citizen.has(name=people.citizen_name))).one()
        assert case.state == "closed"
    assert len(checked) == 12


def _case_state(app: Flask, state: str) -> str:
    """A case state as the staff pages word it in Swedish."""
    return s.rendered(app, "{{ case_state_label(state) }}", state=state)


def _fill_if_present(page: Page, label: str, text: str) -> None:
    """Fill a field of the reply form that only some versions of it have."""
    field = page.get_by_role("textbox", name=re.compile("^" + re.escape(label)))
    if field.count():
        field.fill(text)


def _open_case(app: Flask, people: People) -> str:
    """A sent Förnya recept errand of the citizen (made through the services, as the citizen's
    "Send" does); returns its token."""
    from formular.auth.permissions import Actor
    from formular.definitions.service import compile_cached
    from formular.storage import drafts
    from formular.storage.identity import Citizen, Unit
    from formular.storage.models import Draft

    with app.app_context():
        session = db.session()
        citizen = session.scalars(select(Citizen).where(
            Citizen.name == people.citizen_name)).one()
        unit = session.scalars(select(Unit).where(Unit.name == people.unit_name)).one()
        version = session.scalars(select(DefinitionVersion).where(
            DefinitionVersion.definition_id == CASE_TYPE)
            .order_by(DefinitionVersion.version.desc())).first()
        assert version is not None
        now = utcnow()
        case_draft = case_service.start_draft(session, unit_id=unit.id, version=version,
                                         citizen_id=citizen.id,
                                         created_by_citizen_id=citizen.id, now=now)
        draft = session.get(Draft, case_draft.draft_id)
        assert draft is not None
        validation = compile_cached(version.document, key=version.cache_key).validate(
            {"medicines": [{"name": "Alvedon"}], "pharmacy": "any", "changes": False},
            audience="citizen")
        assert not validation.errors, validation.errors
        submission = drafts.submit(session, draft, validation.answers, {},
                                   citizen_id=citizen.id, answered_by_id=citizen.id,
                                   answered_by_kind="citizen")
        actor = Actor(kind="citizen", citizen_id=citizen.id, display_name=citizen.name)
        token = case_service.create_case(session, case_draft, submission, actor, now).token
        session.commit()
    return token


def test_without_javascript_the_standard_reply_is_inserted_by_the_server(
        browser: Browser, live_server: str, app: Flask, people: People,
        t: Callable[..., str]) -> None:
    """"Insert the standard reply" posts the form; the page comes back with the reply in the
    message box (what was written first is kept above it) and nothing is sent."""
    token = _open_case(app, people)
    context = browser.new_context(base_url=live_server, locale="sv-SE",
                                  java_script_enabled=False)
    try:
        context.add_cookies([{"name": cookie_name(app), "value": people.cookies["receiver"],
                              "url": live_server}])
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        page.goto(f"/staff/cases/{token}")
        expect(page.get_by_text("Alvedon")).to_be_visible()
        page.get_by_label(t("Partial reply"), exact=True).check()
        page.get_by_label(t("Message"), exact=True).fill("Hej Fia,")
        page.get_by_label(t("Standard reply")).select_option(label=STANDARD_TITLE)
        page.get_by_role("button", name=t("Insert the standard reply")).click()
        expect(page.get_by_label(t("Message"), exact=True)).to_have_value(
            f"Hej Fia,\n\n{STANDARD_BODY}")
        expect(page.get_by_label(t("Partial reply"), exact=True)).to_be_checked()
        with app.app_context():
            found = db.session.scalars(select(Case).where(Case.token == token)).one()
            assert found.state == "new"
            assert case_service.messages_of(db.session(), found) == []
    finally:
        context.close()
