"""axe-core (WCAG 2.1 A/AA) on every citizen errand page, in Chromium, in the states a citizen
meets them: the search, the case types, the terms (with and without the error), the form, the
attachments step (with a refused file), the receipt, the case with a question and with a
refused reply, and a closed case."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.auth.support import citizen_session_cookie, cookie_name
from tests.browser.conftest import CHROMIUM, TIMEOUT_MS
from tests.browser.helpers import assert_no_violations
from tests.cases import support as cs
from tests.cases.conftest import case_type_with_files, cases_world
from tests.functional import staff_support as s

WORLD_PREFIX = "c1axe"
# The case fixtures, used here by name (the browser folder's own come from its conftest; a
# second copy of its session-scoped browser would start a second Playwright).
__all__ = ["case_type_with_files", "cases_world"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM}"),
]


@pytest.fixture
def citizen_page(browser: Any, live_server: str, app: Flask,
                 cases_world: s.World) -> Iterator[Any]:
    context = browser.new_context(base_url=live_server, locale="sv-SE",
                                  timezone_id="Europe/Stockholm",
                                  viewport={"width": 1000, "height": 800})
    value = citizen_session_cookie(app, cases_world.citizens["adult"].id)
    context.add_cookies([{"name": cookie_name(app), "value": value, "url": live_server}])
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield page
    finally:
        context.close()
    assert not errors, errors


def test_errand_pages_have_no_axe_violations(
        citizen_page: Any, axe: Callable[[Any], list[dict[str, Any]]], t: Callable[..., str],
        sapp: Flask,
        cases_world: s.World, case_type_with_files: cs.StoredCaseType) -> None:
    page = citizen_page

    def check(where: str) -> None:
        assert_no_violations(axe(page), where)

    page.goto("/errands")
    check("my errands (empty)")
    page.goto(f"/errands/new?q=Ängen+{WORLD_PREFIX}")
    check("the clinic search")
    page.get_by_role("link", name=cases_world.unit_name).click()
    check("the case types")
    page.get_by_role("link", name=case_type_with_files.title).click()
    check("the terms")
    page.get_by_role("button").filter(has_text=t("Continue")).click()
    assert page.locator("#error-summary").count() == 1
    check("the terms, not accepted")
    page.locator("#accept").check()
    page.get_by_role("button").filter(has_text=t("Continue")).click()
    check("the form page")
    page.locator("textarea").first.fill("Jag behöver förnya mina recept.")
    page.locator("button[value=next]").click()
    check("the review")
    page.get_by_role("button").filter(has_text=t("Send")).click()
    check("the attachments step")
    page.locator("#files").set_input_files(
        [{"name": "recept.pdf", "mimeType": "application/pdf", "buffer": b"MZ not a pdf"}])
    page.get_by_role("button").filter(has_text=t("Send the errand")).click()
    assert page.locator("#error-summary").count() == 1
    check("the attachments step, a refused file")
    page.locator("#files").set_input_files(
        [{"name": "recept.pdf", "mimeType": "application/pdf", "buffer": cs.PDF}])
    page.get_by_role("button").filter(has_text=t("Send the errand")).click()
    check("the receipt")
    page.get_by_role("link", name=t("Follow your errand")).click()
    check("a new case")
    token = page.url.rstrip("/").rsplit("/", 1)[-1]

    cs.fire_as(sapp, token, "assign", cases_world.actor("case-receiver"),
               {"assigned_to_id": cases_world.staff["case-handler"].id})
    cs.fire_as(sapp, token, "ask_citizen", cases_world.actor("case-handler"),
               {"message": "Vilket apotek vill du hämta ut på?"})
    page.goto(f"/errands/{token}")
    check("a case with a question")
    page.get_by_role("button").filter(has_text=t("Send the answer")).click()
    assert page.locator("#error-summary").count() == 1
    check("a case with a refused (empty) reply")
    page.locator("#reply-message").fill("Apoteket i centrum.")
    page.get_by_role("button").filter(has_text=t("Send the answer")).click()
    cs.fire_as(sapp, token, "answer", cases_world.actor("case-handler"),
               {"message": "Receptet är förnyat."})
    cs.fire_as(sapp, token, "close", cases_world.actor("case-handler"), {"message": ""})
    page.goto(f"/errands/{token}")
    assert page.locator("#reply-message").count() == 0
    assert page.get_by_text("Apoteket i centrum.").count() == 1
    check("a closed case")
    page.goto("/errands")
    check("my errands")
