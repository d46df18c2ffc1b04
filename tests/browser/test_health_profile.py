"""The health check in a real browser: a 50-year-old answers the health survey in English, the
nurse (a reviewer of the clinic) enters the measurements, and both read the health profile —
the star chart and the same data as a table. axe-core checks the measurement page and the
profile pages.

The survey is answered page by page through the real form, with the survey's own complete
example answers (codes, so they are the same in every language); the nurse types the
measurements with Swedish decimal commas and sees BMI calculated as she types.

The citizen answers with JavaScript on (the page's script shows follow-up questions as she
answers; a "none of these" box checked after unchecked ones, and questions inside a section
that a rule opens, once broke the script) and reads her profile in the same browser.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect

from formular.auth import sessions
from formular.profiles.loader import shipped_profiles
from formular.profiles.translate import profile_for
from formular.storage.base import utcnow
from formular.storage.db import db
from tests.auth.support import citizen_session_cookie, cookie_name
from tests.conftest import DESIGNS
from tests.functional import staff_support as s
from tests.health import support as h

from .conftest import TIMEOUT_MS
from .helpers import assert_no_violations, screenshot

pytestmark = pytest.mark.browser

#: Pages of the survey at most (a loop that does not move on fails instead of spinning).
MAX_PAGES = 20


def _context(browser: Browser, live_server: str, app: Flask, cookie: str,
             javascript: bool = True) -> Any:
    context = browser.new_context(base_url=live_server, locale="sv-SE",
                                  timezone_id="Europe/Stockholm",
                                  viewport={"width": 1000, "height": 900},
                                  java_script_enabled=javascript)
    context.add_cookies([{"name": cookie_name(app), "value": cookie, "url": live_server}])
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    return context


def _staff_cookie(app: Flask, person: s.Person) -> str:
    with app.app_context(), db.transaction() as session:
        _, value = sessions.create(session, kind="staff", method="local", now=utcnow(),
                                   staff_user_id=person.id)
    return value


@pytest.fixture(scope="module")
def visit(app: Flask) -> dict[str, Any]:
    world = s.build_world(app, "hbr")
    person = s.add_citizen(app, "Hanna Hälsosam hbr", dt.date(1976, 6, 15))
    send_out = h.send_survey(app, world, [person.id])
    return {"world": world, "person": person, "token": h.token_of(app, send_out, person.id)}


@pytest.fixture
def pages(browser: Browser, live_server: str, app: Flask,
          visit: dict[str, Any]) -> Iterator[dict[str, Page]]:
    """The citizen's browser (answering), the same citizen's browser reading the profile, and
    the nurse's browser."""
    cookie = citizen_session_cookie(app, visit["person"].id)
    contexts = {
        "form": _context(browser, live_server, app, cookie),
        "citizen": _context(browser, live_server, app, cookie),
        "nurse": _context(browser, live_server, app,
                          _staff_cookie(app, visit["world"].staff["reviewer"])),
    }
    errors: list[str] = []
    opened = {}
    for name, context in contexts.items():
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        opened[name] = page
    try:
        yield opened
    finally:
        for context in contexts.values():
            context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def _fill(page: Page, name: str, value: Any) -> None:
    """Give the input(s) called ``name`` the answer ``value`` (a code, a number, a list)."""
    inputs = page.locator(f'[name="{name}"]')
    if inputs.count() == 0 or not inputs.first.is_visible():
        return
    kind = (inputs.first.get_attribute("type") or inputs.first.evaluate(
        "element => element.tagName")).lower()
    if kind == "radio":
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        page.locator(f'input[name="{name}"][value="{text}"]').check()
    elif kind == "checkbox":
        for each in value if isinstance(value, list) else [value]:
            page.locator(f'input[name="{name}"][value="{each}"]').check()
    elif kind == "select":
        inputs.first.select_option(str(value))
    else:
        inputs.first.fill(str(value))


def answer_survey_in_english(page: Page, token: str, answers: dict[str, Any]) -> None:
    page.goto("/inbox")
    page.locator(f'a[href="/forms/{token}/0"]').click()
    page.get_by_role("navigation", name=re.compile("Språk|Language")).get_by_role(
        "button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    for _ in range(MAX_PAGES):
        if page.url.endswith("/review"):
            break
        before = page.url
        for _pass in range(2):  # the second pass answers follow-ups the first one revealed
            for name, value in answers.items():
                _fill(page, name, value)
        page.get_by_role("button", name="Next", exact=True).click()
        page.wait_for_load_state()
        if page.url == before and page.locator("#error-summary").count():
            pytest.fail(f"the survey refused page {before}: "
                        f"{page.locator('#error-summary').inner_text()}")
    else:
        pytest.fail("the survey never reached its review page")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your answers have been sent")


def test_answer_measure_and_read_the_profile(pages: dict[str, Page], visit: dict[str, Any],
                                             axe: Callable[[Any], list[dict[str, Any]]],
                                             t: Callable[..., str]) -> None:
    form, citizen, nurse = pages["form"], pages["citizen"], pages["nurse"]
    token = visit["token"]
    profile = shipped_profiles(DESIGNS)[h.PROFILE]
    english = profile_for(profile, "en")

    # 1. The citizen answers in English; the profile waits for the measurements.
    answer_survey_in_english(form, token, h.survey_answers())
    form.get_by_role("link", name="Your health profile").click()
    expect(form.get_by_role("heading", level=1)).to_have_text(english.title)
    expect(form.locator("svg[role=img]")).to_have_count(0)
    expect(form.get_by_role("status")).to_contain_text("measurements")

    # 2. The nurse opens the visit from the follow-up page and enters the measurements.
    nurse.goto(f"/staff/assignments/{token}")
    nurse.locator(f'a[href="/staff/assignments/{token}/measurements"]').click()
    expect(nurse.locator("#f-bmi")).to_have_text("–")
    for name, value in h.TYPED.items():
        if value:
            nurse.locator(f'[name="{name}"]').fill(value)
    # BMI is calculated in the page as she types (72,5 kg and 168 cm).
    expect(nurse.locator("#f-bmi")).to_have_text("25,7")
    violations = axe(nurse)
    screenshot(nurse, "health-measurements.png")
    assert_no_violations(violations, "the measurement page")
    nurse.locator("#form-page button.primary").click()
    expect(nurse.get_by_role("status").first).to_be_visible()
    expect(nurse.locator('[name="weight_kg"]')).to_have_value(re.compile(r"72[.,]5"))
    violations = axe(nurse)
    assert_no_violations(violations, "the measurement page after saving")

    # 3. The nurse reads the profile: chart and table, in Swedish.
    nurse.goto(f"/staff/assignments/{token}/profile")
    expect(nurse.get_by_role("heading", level=1)).to_have_text(profile.title)
    chart = nurse.get_by_role("img", name=re.compile(re.escape(profile.title)))
    expect(chart).to_be_visible()
    table = nurse.get_by_role("table")
    expect(table.locator("tbody tr")).to_have_count(len(profile.areas))
    for area in profile.areas:
        expect(table.locator("tbody th").filter(has_text=area.label).first).to_be_visible()
    expect(nurse.locator(".profile-example")).to_contain_text(profile.notice or "")
    violations = axe(nurse)
    screenshot(nurse, "health-profile-staff.png")
    assert_no_violations(violations, "the staff profile page")

    # 4. The citizen reads the same profile in English (her language choice goes with her).
    citizen.context.add_cookies(form.context.cookies())
    citizen.goto(f"/forms/{token}/profile")
    expect(citizen.get_by_role("heading", level=1)).to_have_text(english.title)
    expect(citizen.get_by_role("img", name=re.compile(re.escape(english.title)))).to_be_visible()
    rows = citizen.get_by_role("table").locator("tbody tr")
    expect(rows).to_have_count(len(english.areas))
    expect(rows.first.locator("th")).to_contain_text(english.areas[0].label)
    violations = axe(citizen)
    screenshot(citizen, "health-profile-citizen.png")
    assert_no_violations(violations, "the citizen's profile page")
