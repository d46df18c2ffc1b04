"""In a browser: a translator changes an interface text and the form shows it at once; axe-core
finds no WCAG 2.1 A/AA violations on the editor's pages."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.browser.conftest import CHROMIUM
from tests.browser.helpers import assert_no_violations, start_form
from tests.translate.conftest import clear_edits

pytestmark = [pytest.mark.browser, pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason=f"Chromium not found at {CHROMIUM}")]

PHQ9 = "PHQ-9 – frågor om nedstämdhet"
SOURCE = "Save and continue later"
NEW = "Spara nu och fortsätt sedan"
Axe = Callable[[Any], list[dict[str, Any]]]



@pytest.fixture(autouse=True)
def _no_edits(app: Flask) -> Iterator[None]:
    """Start and end without translators' edits, so other browser tests see shipped texts."""
    clear_edits(app)
    yield
    clear_edits(app)


def _open_entry(translator_page: Any) -> None:
    translator_page.goto("/translate/sv/messages/?state=all&q=" + SOURCE.replace(" ", "+"))
    translator_page.get_by_role("link", name=SOURCE, exact=True).click()
    translator_page.wait_for_url(re.compile(r"/translate/sv/messages/entry/"))


def test_translator_edit_shows_in_the_form(translator_page: Any, page: Any, app: Flask,
                                           t: Callable[..., str]) -> None:
    from playwright.sync_api import expect

    start_form(page, PHQ9, t)
    before = t(SOURCE)
    expect(page.get_by_role("button", name=before)).to_be_visible()
    _open_entry(translator_page)
    field = translator_page.get_by_label(re.compile("Översättning|Translation"))
    field.fill(NEW)
    translator_page.get_by_role("button", name=re.compile("Spara översättningen|Save the "
                                                          "translation")).click()
    expect(translator_page.get_by_role("status").first).to_be_visible()
    page.reload()
    expect(page.get_by_role("button", name=NEW)).to_be_visible()
    expect(page.get_by_role("button", name=before)).to_have_count(0)
    # A citizen, logged in, answering a PHQ-9 sent to them, sees the new text too.
    citizen_page = _citizen_form_page(page.context.browser, page.url, app)
    expect(citizen_page.get_by_role("button", name=NEW)).to_be_visible()
    citizen_page.context.close()


def _citizen_form_page(browser: Any, any_url: str, app: Flask) -> Any:
    """A new browser context logged in as a citizen, on page 1 of a PHQ-9 sent to them."""
    import datetime as dt

    from sqlalchemy import select

    from formular.auth.permissions import Actor
    from formular.sendouts import recipients, service
    from formular.storage.db import db
    from formular.storage.identity import Role
    from formular.storage.models import DefinitionVersion
    from formular.storage.sendouts import Assignment
    from tests import factories
    from tests.auth.support import citizen_session_cookie, cookie_name

    with app.app_context():
        session = db.session()
        clinic = factories.unit(session)
        sender = factories.staff(session, [(clinic, Role.SENDER)])
        person = factories.citizen(session, dt.date(1981, 3, 3))
        version = session.scalars(select(DefinitionVersion).where(
            DefinitionVersion.definition_id == "phq-9")).one()
        verdicts = recipients.check_rows(session, recipients.rows_from_text(
            person.personnummer), dt.date.today())
        actor = Actor(kind="staff", staff_user_id=sender.id,
                      units={clinic.id: frozenset({Role.SENDER})})
        now = dt.datetime.now(dt.UTC)
        _send_out, job = service.create_send_out(
            session, actor, unit_id=clinic.id, version=version, verdicts=verdicts,
            scheduled_at=now - dt.timedelta(minutes=1), deadline_at=None, expires_at=None,
            reminder_days_before=[], subject="PHQ-9", body="Svara gärna.")
        session.commit()
        service.insert_assignments(db.session, job.id, now=now)
        token = db.session.scalars(select(Assignment.token).where(
            Assignment.citizen_id == person.id)).one()
        person_id = person.id
    base = any_url.split("/preview/")[0]
    context = browser.new_context(base_url=base, locale="sv-SE")
    context.add_cookies([{"name": cookie_name(app),
                          "value": citizen_session_cookie(app, person_id), "url": base}])
    citizen_page = context.new_page()
    citizen_page.goto(f"/forms/{token}/0")
    return citizen_page


def test_editor_pages_are_accessible(translator_page: Any, axe: Axe) -> None:
    translator_page.goto("/translate/")
    assert_no_violations(axe(translator_page), "the translation overview")
    translator_page.goto("/translate/en/designs/?state=all&form=phq-9")
    assert_no_violations(axe(translator_page), "the list of entries")
    _open_entry(translator_page)
    assert_no_violations(axe(translator_page), "the edit page")
    translator_page.get_by_label(re.compile("Översättning|Translation")).fill(
        "<img src=x onerror=alert(1)>")
    translator_page.get_by_role("button", name=re.compile("Spara översättningen|Save the "
                                                          "translation")).click()
    assert_no_violations(axe(translator_page), "the edit page with a refused translation")
    translator_page.goto("/translate/sv/messages/import")
    assert_no_violations(axe(translator_page), "the upload page")
