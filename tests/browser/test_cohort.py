"""The 50-year-olds' invitation in a real browser: a nurse imports the clinic's listed
population from a CSV file, invites everyone who turns 50 in 2026, sees the send-out, and
downloads the invitation letters for those without an e-mail address. axe-core checks the
import and cohort pages (and the others on the way).

The server is ``eager_live_server``: the send-out's fill job runs as soon as the confirmation
commits, as a worker would a moment later.
"""

from __future__ import annotations

import datetime as dt
import io
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect

from formular.storage.identity import Role
from tests.auth.support import staff_session_cookie
from tests.population.support import free_number

from .conftest import new_page
from .helpers import assert_no_violations, screenshot

pytestmark = [pytest.mark.browser]

#: (name, birth date, samordningsnummer, e-mail)
POPULATION = [
    ("Astrid Nyår", dt.date(1976, 1, 1), False, None),
    ("Bengt Nyårsafton", dt.date(1976, 12, 31), False, "bengt@example.org"),
    ("Cemal Samordnad", dt.date(1976, 12, 31), True, None),
    ("Dora Mitt", dt.date(1976, 6, 15), False, "dora@example.org"),
    ("Emil Förra", dt.date(1975, 12, 31), False, None),   # turns 51: not invited
    ("Frida Nästa", dt.date(1977, 1, 1), False, None),    # turns 49: not invited
]
INVITED = ["Astrid Nyår", "Bengt Nyårsafton", "Cemal Samordnad", "Dora Mitt"]
ON_PAPER = ["Astrid Nyår", "Cemal Samordnad"]


@pytest.fixture
def nurse(browser: Browser, eager_live_server: str, eager_app: Flask) -> Iterator[Any]:
    """A sender at a new clinic, logged in, with the clinic's slug and name."""
    slug = f"vc-kohort-{uuid.uuid4().hex[:6]}"
    for page in new_page(browser, eager_live_server, eager_app, accept_downloads=True,
                         cookie=staff_session_cookie(eager_app, (Role.SENDER,), slug)):
        yield page, slug


def listing_file(app: Flask, slug: str) -> bytes:
    lines = ["personnummer;namn;listningsenhet;e-post"]
    taken: list[str] = []
    for name, birth, coordination, email in POPULATION:
        number = free_number(app, birth, coordination, taken)
        taken.append(number)
        lines.append(f"{number[:8]}-{number[8:]};{name};{slug};{email or ''}")
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


def check_axe(page: Page, axe: Callable[[Any], list[dict[str, Any]]], where: str) -> None:
    assert_no_violations(axe(page), where)


def test_a_nurse_imports_the_list_invites_the_1976_cohort_and_prints_letters(
        nurse: Any, eager_app: Flask, axe: Callable[[Any], list[dict[str, Any]]],
        t: Callable[..., str], tn: Callable[..., str]) -> None:
    page, slug = nurse

    # 1. Import the listed population.
    page.goto("/staff/")
    page.get_by_role("link", name=t("Import the listed population")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        t("Import the listed population"))
    check_axe(page, axe, "the import page")
    page.get_by_label(t("CSV file")).set_input_files(files=[{
        "name": "listning.csv", "mimeType": "text/csv",
        "buffer": listing_file(eager_app, slug)}])
    page.get_by_role("button", name=t("Check the file")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Check the import"))
    expect(page.locator("p.counts")).to_contain_text(
        tn("%(num)s person will be listed.", "%(num)s people will be listed.", 6))
    check_axe(page, axe, "the import preview")
    screenshot(page, "cohort-import-preview.png")
    page.get_by_role("button", name=tn("Import %(num)s person", "Import %(num)s people",
                                       6)).click()
    expect(page.get_by_role("status").first).to_contain_text(
        tn("%(num)s person is listed.", "%(num)s people are listed.", 6))

    # 2. Invite everyone who turns 50 in 2026.
    page.goto("/staff/")
    page.get_by_role("link", name=t("Invite a cohort")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Invite a cohort"))
    check_axe(page, axe, "the cohort page")
    page.get_by_label(t("Form"), exact=True).select_option("phq-9")
    page.get_by_label(t("Year"), exact=True).fill("2026")
    expect(page.get_by_label(t("The age they turn that year"))).to_have_value("50")
    expect(page.get_by_label(t("Automatic reminder, days before the deadline"))
           ).to_have_value("14")
    page.get_by_label(t("Message subject")).fill("Inbjudan till hälsosamtal")
    page.get_by_role("button", name=t("Find the cohort")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Check the cohort send-out"))
    check_axe(page, axe, "the cohort preview")
    recipients = page.locator("table.results").first
    for name in INVITED:
        expect(recipients).to_contain_text(name)
    for name in ("Emil Förra", "Frida Nästa"):
        expect(page.locator("main")).not_to_contain_text(name)
    screenshot(page, "cohort-preview.png")
    page.get_by_role("button", name=tn("Send to %(num)s recipient",
                                       "Send to %(num)s recipients", 4)).click()

    # 3. The send-out, followed up as usual.
    expect(page.get_by_role("heading", level=1)).to_contain_text("PHQ-9")
    expect(page.get_by_role("table", name=tn("%(num)s recipient", "%(num)s recipients", 4))
           .locator("tbody tr")).to_have_count(4)
    expect(page.locator("ul.state-counts")).to_contain_text(f"{t('Sent')}: 4")

    # 4. Letters for those without an e-mail address.
    page.get_by_role("link", name=t("Print invitation letters")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Print invitation letters"))
    check_axe(page, axe, "the letters page")
    screenshot(page, "cohort-letters.png")
    page.get_by_label("English").check()
    with page.expect_download() as info:
        page.get_by_role("button", name=t("Make the letters (PDF)")).click()
    download = info.value
    assert download.suggested_filename.endswith("-en.pdf")
    pypdf = pytest.importorskip("pypdf")
    with open(download.path(), "rb") as handle:
        reader = pypdf.PdfReader(io.BytesIO(handle.read()))
    texts = [" ".join((p.extract_text() or "").split()) for p in reader.pages]
    assert len(texts) == len(ON_PAPER)
    for name, text in zip(ON_PAPER, texts, strict=True):
        assert name in text
        assert "Invitation to a health check" in text
        assert "This year you turn 50." in text
