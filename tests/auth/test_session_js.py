"""The idle time-out dialog (static/js/session.js) in Debian's Chromium, with the server clock
moved by the test instead of waiting half an hour."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Blueprint, Flask, render_template_string
from werkzeug.serving import WSGIRequestHandler, make_server

from formular.auth.permissions import Permission
from formular.web.access import require

from .conftest import Clock, Factory, make_app

CHROMIUM = os.environ.get("FORMULAR_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM}"),
]

#: A page on base.html (which carries the CSRF meta tag and the session dialog).
PAGE = """{% extends "base.html" %}
{% block main %}<h1>Long questionnaire</h1>{% endblock %}"""


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@pytest.fixture(scope="module")
def served(database_url: str) -> Iterator[tuple[str, Flask, Clock]]:
    clock = Clock()
    application = make_app(database_url, SESSION_IDLE_MINUTES=3, AUTH_CLOCK=clock)
    bp = Blueprint("jspage", __name__)

    @bp.get("/t/page")
    @require(Permission.SENDOUT_READ)
    def page() -> str:
        return render_template_string(PAGE)

    application.register_blueprint(bp)
    server = make_server("127.0.0.1", 0, application, threaded=True,
                         request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", application, clock
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def page(served: tuple[str, Flask, Clock]) -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    base, _, _ = served
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=base, locale="en-GB")
        context.set_default_timeout(5000)
        tab = context.new_page()
        errors: list[str] = []
        tab.on("pageerror", lambda error: errors.append(str(error)))
        try:
            yield tab
        finally:
            context.close()
            browser.close()
        assert not errors, errors


def _log_in(page: Any, make: Factory) -> None:
    user = make.staff()
    page.goto("/login?next=/t/page")
    page.fill("#username", user.username)
    page.fill("#password", user.password)
    page.click("button[type=submit].primary")
    page.wait_for_url("**/t/page")


def test_warning_offers_to_stay_and_then_reports_the_logout(
        page: Any, served: tuple[str, Flask, Clock], make: Factory) -> None:
    _, _, clock = served
    _log_in(page, make)
    clock.advance(seconds=100)  # 80 s left: inside the two-minute warning
    page.wait_for_selector("#session-timeout[open]")
    assert page.evaluate("document.activeElement.dataset.action") == "extend"
    assert page.is_visible("text=What you have answered so far is saved.")

    page.click("[data-action=extend]")
    page.wait_for_selector("#session-timeout", state="hidden")
    assert page.evaluate("document.activeElement.id") != "session-timeout"

    clock.advance(seconds=100)
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    page.wait_for_selector("#session-timeout[open]")
    page.keyboard.press("Escape")  # Escape is "I am here" too, not a silent close
    page.wait_for_selector("#session-timeout", state="hidden")

    clock.advance(seconds=150)  # 30 s left only if Escape extended the session
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    page.wait_for_selector("#session-timeout[open] [data-state=warning]:not([hidden])")

    clock.advance(seconds=100)
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    page.wait_for_selector("[data-state=expired]:not([hidden])")
    link = page.locator("[data-role=login]")
    assert page.evaluate("document.activeElement.dataset.role") == "login"
    assert link.get_attribute("href") == "/login?next=%2Ft%2Fpage"
    assert page.get_attribute("#session-timeout", "aria-labelledby") == "session-expired-title"


def test_the_warnings_log_out_button_logs_out(page: Any, served: tuple[str, Flask, Clock],
                                              make: Factory) -> None:
    """The dialog's button submits the header's log-out form (the dialog itself carries no
    token: it is drawn once per worker), by keyboard too."""
    _, _, clock = served
    _log_in(page, make)
    clock.advance(seconds=100)
    page.wait_for_selector("#session-timeout[open]")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('form')") == "logout-form"
    page.keyboard.press("Enter")
    page.wait_for_url("**/logged-out")
    assert page.goto(page.url.replace("/logged-out", "/t/page")) is not None
    assert "/login" in page.url
