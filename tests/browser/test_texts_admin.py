"""A unit's saved message texts in a real browser (Chromium), checked by axe-core and driven
by keyboard only: an administrator of a new clinic tries an empty text (the error summary
takes the focus), writes one, opens it and deletes it. Every page on the way has no WCAG 2.1
A/AA violations."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from formular.storage.db import db
from formular.storage.identity import Role, Unit
from formular.storage.sendouts import SavedText
from tests.auth.support import staff_session_cookie
from tests.browser.conftest import CHROMIUM, new_page
from tests.browser.helpers import assert_no_violations

pytestmark = [pytest.mark.browser, pytest.mark.skipif(
    not __import__("pathlib").Path(CHROMIUM).exists(), reason="Chromium not installed")]


@pytest.fixture
def admin_page(browser: Any, live_server: str, app: Flask) -> Iterator[tuple[Any, str]]:
    slug = f"vc-texter-{uuid.uuid4().hex[:6]}"
    for page in new_page(browser, live_server, app,
                         cookie=staff_session_cookie(app, (Role.ADMIN,), slug)):
        yield page, slug


def test_an_administrator_keeps_the_units_message_texts(
        admin_page: tuple[Any, str], app: Flask,
        axe: Callable[[Any], list[dict[str, Any]]]) -> None:
    page, slug = admin_page
    with app.app_context():
        unit_id = db.session.scalars(select(Unit.id).where(Unit.slug == slug)).one()

    page.goto("/admin/texts/")
    assert page.url.endswith(f"/admin/texts/{unit_id}/")
    assert_no_violations(axe(page), "the unit's message texts, none yet")

    page.click(f"a[href$='/admin/texts/{unit_id}/new']")
    page.focus("#title")
    with page.expect_navigation():
        page.keyboard.press("Enter")  # submits the empty form
    assert page.locator("#error-summary").is_visible()
    assert_no_violations(axe(page), "a message text with errors")

    page.focus("#title")
    page.keyboard.type("Inför ditt besök")
    page.keyboard.press("Tab")
    page.keyboard.type("Fyll i formuläret före besöket.")
    page.keyboard.press("Tab")  # the Save button
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith(f"/admin/texts/{unit_id}/")
    assert page.get_by_text("Inför ditt besök").first.is_visible()
    assert_no_violations(axe(page), "the unit's message texts")

    page.click("th a")
    assert page.input_value("#title") == "Inför ditt besök"
    assert_no_violations(axe(page), "editing a message text")

    page.go_back()
    page.click("form button.link-button >> nth=-1")
    assert page.url.endswith(f"/admin/texts/{unit_id}/")
    with app.app_context():
        assert db.session.scalars(select(SavedText).where(SavedText.unit_id == unit_id)
                                  ).all() == []
