"""The case-type administration in a real browser (Chromium), checked by axe-core: an
administrator of a new clinic switches on "Förnya recept" with attachments, writes a standard
reply (after an empty first try), marks the case type restricted and hands it out to a
citizen, then revokes it. Every page on the way has no WCAG 2.1 A/AA violations."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from formular.storage.casetypes import CaseTypeGrant, StandardReply, UnitCaseType
from formular.storage.db import db
from formular.storage.identity import Role, Unit
from tests import factories
from tests.auth.support import staff_session_cookie
from tests.browser.conftest import CHROMIUM, new_page
from tests.browser.helpers import assert_no_violations
from tests.functional.staff_support import free_personnummer

pytestmark = [pytest.mark.browser, pytest.mark.skipif(
    not __import__("pathlib").Path(CHROMIUM).exists(), reason="Chromium not installed")]

CASE_TYPE = "case-renew-prescription"


@pytest.fixture
def admin_page(browser: Any, live_server: str, app: Flask) -> Iterator[tuple[Any, str]]:
    slug = f"vc-arende-{uuid.uuid4().hex[:6]}"
    for page in new_page(browser, live_server, app,
                         cookie=staff_session_cookie(app, (Role.ADMIN,), slug)):
        yield page, slug


def test_an_administrator_configures_a_case_type(
        admin_page: tuple[Any, str], app: Flask,
        axe: Callable[[Any], list[dict[str, Any]]]) -> None:
    page, slug = admin_page
    with app.app_context():
        session = db.session()
        unit_id = session.scalars(select(Unit.id).where(Unit.slug == slug)).one()
        citizen = factories.citizen(session, personnummer=free_personnummer(
            session, dt.date(1944, 4, 4)), name="Gun Utdelad")
        number = citizen.personnummer
        session.commit()

    page.goto("/admin/casetypes/")
    assert page.url.endswith(f"/admin/casetypes/{unit_id}/")
    assert_no_violations(axe(page), "the unit's case types")

    page.click(f"a[href$='/types/{CASE_TYPE}']")
    assert_no_violations(axe(page), "a central case type's settings")
    assert page.locator("textarea[name=terms_text]").count() == 0  # locked terms
    page.check("#enabled")
    page.check("#attachments_enabled")
    page.click("button[type=submit].primary")
    assert page.url.endswith(f"/admin/casetypes/{unit_id}/")
    assert_no_violations(axe(page), "the case types after saving")

    page.goto(f"/admin/casetypes/{unit_id}/replies/new")
    page.click("button[type=submit].primary")
    assert page.locator("#error-summary").is_visible()
    assert_no_violations(axe(page), "a standard reply with errors")
    page.fill("#title", "Receptet är förnyat")
    page.select_option("#definition", CASE_TYPE)
    page.fill("#body", "Hej! Ditt recept är förnyat.")
    page.click("button[type=submit].primary")
    assert page.url.endswith(f"/admin/casetypes/{unit_id}/replies")
    assert_no_violations(axe(page), "the standard replies")

    page.goto(f"/admin/casetypes/{unit_id}/types/{CASE_TYPE}")
    page.check("#restricted")
    page.click("button[type=submit].primary")
    page.goto(f"/admin/casetypes/{unit_id}/grants")
    assert_no_violations(axe(page), "the hand-out page")
    page.fill("#personnummer", f"{number[:8]}-{number[8:]}")
    page.fill("#valid_until", (dt.date.today() + dt.timedelta(days=30)).isoformat())
    page.click("button[type=submit].primary")
    assert page.get_by_text("Gun Utdelad").first.is_visible()
    assert_no_violations(axe(page), "the hand-outs with one hand-out")
    page.click("form[action$='/revoke'] button")
    assert page.locator("form[action$='/revoke']").count() == 0

    with app.app_context():
        session = db.session()
        setting = session.scalars(select(UnitCaseType).where(
            UnitCaseType.unit_id == unit_id)).one()
        assert (setting.enabled, setting.attachments_enabled, setting.restricted) == (
            True, True, True)
        assert [r.title for r in session.scalars(select(StandardReply).where(
            StandardReply.unit_id == unit_id))] == ["Receptet är förnyat"]
        grant = session.scalars(select(CaseTypeGrant).where(
            CaseTypeGrant.unit_id == unit_id)).one()
        assert grant.revoked_at is not None
