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


def test_translator_edit_shows_in_the_form(translator_page: Any, page: Any,
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
