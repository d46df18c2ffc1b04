"""A unit's staff and roles in a real browser (Chromium), checked by axe-core: an
administrator of a new clinic adds a SITHS account (after an empty first try), gives it a
second role and takes one away. Every page on the way has no WCAG 2.1 A/AA violations."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from formular.storage.db import db
from formular.storage.identity import Role, RoleAssignment, StaffUser, Unit
from tests.auth.support import staff_session_cookie
from tests.browser.conftest import CHROMIUM, new_page
from tests.browser.helpers import assert_no_violations

pytestmark = [pytest.mark.browser, pytest.mark.skipif(
    not __import__("pathlib").Path(CHROMIUM).exists(), reason="Chromium not installed")]


@pytest.fixture
def admin_page(browser: Any, live_server: str, app: Flask) -> Iterator[tuple[Any, str]]:
    slug = f"vc-personal-{uuid.uuid4().hex[:6]}"
    for page in new_page(browser, live_server, app,
                         cookie=staff_session_cookie(app, (Role.ADMIN,), slug)):
        yield page, slug


def test_an_administrator_keeps_the_units_staff(
        admin_page: tuple[Any, str], app: Flask,
        axe: Callable[[Any], list[dict[str, Any]]]) -> None:
    page, slug = admin_page
    username = f"ny-{uuid.uuid4().hex[:6]}"
    with app.app_context():
        unit_id = db.session.scalars(select(Unit.id).where(Unit.slug == slug)).one()

    page.goto("/admin/staff/")
    assert page.url.endswith(f"/admin/staff/{unit_id}/")
    assert_no_violations(axe(page), "the unit's staff")

    page.click(f"a[href$='/admin/staff/{unit_id}/new']")
    page.click("button[type=submit].primary")
    assert page.locator("#error-summary").is_visible()
    assert_no_violations(axe(page), "a new account with errors")

    page.fill("#display_name", "Nils Nyanställd")
    page.fill("#username", username)
    page.fill("#oidc_subject", f"SE2321000016-{username}")
    page.select_option("#role", "sender")
    page.click("button[type=submit].primary")
    assert page.url.endswith(f"/admin/staff/{unit_id}/")
    assert page.get_by_role("rowheader", name="Nils Nyanställd").is_visible()
    assert_no_violations(axe(page), "the unit's staff with the new account")

    page.fill("#username", username)
    page.select_option("#role", "reviewer")
    page.click("form[action$='/grant'] button[type=submit]")
    assert page.url.endswith(f"/admin/staff/{unit_id}/")
    page.locator("tr", has_text="Nils Nyanställd").locator("button.link-button").first.click()
    assert page.url.endswith(f"/admin/staff/{unit_id}/")
    with app.app_context():
        held = db.session.scalars(select(RoleAssignment.role).join(StaffUser).where(
            StaffUser.username == username)).all()
    assert len(held) == 1
