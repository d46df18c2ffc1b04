"""Browser tests: the real app served on a local port and driven by Debian's Chromium.

Everything runs offline: the app is served by Werkzeug in a daemon thread from the session's
``app`` fixture (its database is migrated and holds every design), Playwright drives the
system Chromium (never a downloaded one), and axe-core comes from a Python package that
ships it (see ``helpers.axe_script``). Every test in this folder is marked ``browser``; run
them alone with ``pytest -m browser``, or leave them out with ``-m "not browser"``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import WSGIRequestHandler, make_server

from tests.conftest import load_design

from .helpers import AXE_VERSION, axe_script

CHROMIUM = os.environ.get("FORMULAR_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
#: How long a single wait may take before a test fails (ms); the app answers in milliseconds.
TIMEOUT_MS = 5_000
HERE = Path(__file__).resolve().parent
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test in this folder ``browser``; skip them when Chromium is not there."""
    missing = not Path(CHROMIUM).exists()
    for item in items:
        if HERE not in item.path.parents:
            continue
        item.add_marker(pytest.mark.browser)
        if missing:
            item.add_marker(pytest.mark.skip(
                reason=f"Chromium not found at {CHROMIUM}: install Debian's package "
                       "(apt-get install chromium) or set FORMULAR_TEST_CHROMIUM"))


# -- the live server ------------------------------------------------------------------------


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@pytest.fixture(scope="session")
def live_server(app: Flask) -> Iterator[str]:
    """The base URL of the app served on a free local port for the whole session."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# -- Playwright -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    playwright = sync_api.sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                              args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()


def new_page(browser: Any, live_server: str, app: Flask, *, cookie: str | None = None,
             **options: Any) -> Iterator[Any]:
    """A page in its own context, in Swedish, logged in with the log-in ``cookie`` (by default
    a staff member who may preview forms); fails the test on a JavaScript error."""
    from tests.auth.support import cookie_name, staff_session_cookie

    context = browser.new_context(base_url=live_server, locale="sv-SE",
                                  timezone_id="Europe/Stockholm",
                                  viewport={"width": 1000, "height": 800}, **options)
    context.add_cookies([{"name": cookie_name(app), "url": live_server,
                          "value": cookie if cookie is not None else staff_session_cookie(app)}])
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield page
    finally:
        context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
def page(browser: Any, live_server: str, app: Flask) -> Iterator[Any]:
    """A fresh page (own cookies) with JavaScript, in Swedish as a Swedish user has it."""
    yield from new_page(browser, live_server, app)


@pytest.fixture
def nojs_page(browser: Any, live_server: str, app: Flask) -> Iterator[Any]:
    """A fresh page with JavaScript turned off: everything must still work."""
    yield from new_page(browser, live_server, app, java_script_enabled=False)


# -- what a person reads ------------------------------------------------------------------


@pytest.fixture(scope="session")
def t(app: Flask) -> Callable[..., str]:
    """The app's own Swedish wording of an interface text, so tests follow the catalogue."""
    from flask_babel import force_locale, gettext

    def translate(message: str, **values: Any) -> str:
        with app.test_request_context("/"), force_locale("sv"):
            return str(gettext(message, **values))

    return translate


@pytest.fixture(scope="session")
def designs() -> dict[str, dict[str, Any]]:
    return {name: load_design(name) for name in ("phq-9", "showcase")}


# -- axe-core -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def axe_source() -> str:
    script = axe_script()
    if script is None:
        pytest.skip("no axe-core found: install axe-playwright-python or axe-selenium-python, "
                    "or set FORMULAR_TEST_AXE to an axe.min.js")
    return script.read_text(encoding="utf-8")


@pytest.fixture
def axe(axe_source: str) -> Callable[[Any], list[dict[str, Any]]]:
    """Run axe-core's WCAG 2.1 A/AA rules on the current page; return the violations.

    ``page.evaluate`` is not subject to the app's CSP (``script-src 'self'``), so axe is
    injected that way rather than as an inline script tag, which the CSP would block.

    axe-core 3.1.1 (what axe-selenium-python 2.1.6 ships) predates the ``wcag21a`` and
    ``wcag21aa`` tags and refuses unknown tags, so only the tags this axe knows are asked for
    (with 3.1.1 that is every WCAG 2.0 A/AA rule). Before 3.2 its ``dlitem`` rule also
    rejected ``<div>`` groups inside ``<dl>``, which HTML allows (dequelabs/axe-core#1265),
    so that rule is left out for those versions only.
    """
    skip = ["dlitem"] if AXE_VERSION < (3, 2) else []

    def run(page: Any) -> list[dict[str, Any]]:
        if not page.evaluate("typeof window.axe === 'object'"):
            page.evaluate(axe_source)
        result: dict[str, Any] = page.evaluate(
            """([tags, skip]) => {
                 const known = new Set(axe.getRules().flatMap(rule => rule.tags))
                 const values = tags.filter(tag => known.has(tag))
                 const rules = Object.fromEntries(skip.map(id => [id, {enabled: false}]))
                 return axe.run(document, {runOnly: {type: 'tag', values}, rules})
               }""", [WCAG_TAGS, skip])
        return list(result["violations"])

    return run


# -- a server whose background jobs run at once (the send-out journey) ----------------------


@pytest.fixture(scope="session")
def eager_app(app: Flask, tmp_path_factory: pytest.TempPathFactory) -> Flask:
    """A second app on the session's database (migrated, designs stored by ``app``) whose
    Celery tasks run in the process as soon as the request that queued them commits, the way a
    worker would a moment later: confirming a send-out fills it and delivers its e-mails to
    ``MAIL_OUTBOX_DIR`` before the follow-up page loads. Under TESTING the broker is in-memory
    and nobody consumes it, so the shared ``app`` would leave every send-out queued."""
    from formular import create_app

    keep = ("TESTING", "DEMO", "SECRET_KEY", "DATABASE_URL", "SERVER_NAME")
    return create_app({**{key: app.config[key] for key in keep},
                       "CELERY_TASK_ALWAYS_EAGER": True,
                       "MAIL_OUTBOX_DIR": str(tmp_path_factory.mktemp("eager-outbox"))})


@pytest.fixture(scope="session")
def eager_live_server(eager_app: Flask) -> Iterator[str]:
    """The base URL of ``eager_app`` served on a free local port for the whole session."""
    server = make_server("127.0.0.1", 0, eager_app, threaded=True,
                         request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="eager-live-server",
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def tn(app: Flask) -> Callable[..., str]:
    """The app's Swedish wording of a text that depends on a number (``ngettext``): call it
    with the English singular, plural and the number, e.g. ``tn("%(num)s recipient",
    "%(num)s recipients", 2)``."""
    from flask_babel import force_locale, ngettext

    def translate(singular: str, plural: str, num: int, **values: Any) -> str:
        with app.test_request_context("/"), force_locale("sv"):
            return str(ngettext(singular, plural, num, **values))

    return translate


# -- the catalog editor (tests/translate/test_browser.py) ------------------------------------


@pytest.fixture
def translator_page(browser: Any, live_server: str, app: Flask) -> Iterator[Any]:
    """A fresh page logged in as a translator (role ``translator``), in Swedish."""
    from formular.storage.identity import Role
    from tests.auth.support import cookie_name, staff_session_cookie

    context = browser.new_context(base_url=live_server, locale="sv-SE",
                                  timezone_id="Europe/Stockholm",
                                  viewport={"width": 1000, "height": 800})
    context.add_cookies([{"name": cookie_name(app), "url": live_server,
                          "value": staff_session_cookie(app, (Role.TRANSLATOR,), "translators")}])
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield page
    finally:
        context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
