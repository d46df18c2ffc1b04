"""PHQ-9 in a real browser: a citizen answers nine questions and staff see 14, "moderate" and
the item-9 flag; with and without JavaScript, and with the keyboard only."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from .helpers import screenshot, start_form

pytestmark = pytest.mark.browser

#: Answers 2,2,2,2,2,1,1,1,1: a total of 14 (moderate, 10–14) with item 9 = 1 (flagged).
ANSWERS = {"phq1": 2, "phq2": 2, "phq3": 2, "phq4": 2, "phq5": 2,
           "phq6": 1, "phq7": 1, "phq8": 1, "phq9": 1}


class Phq9:
    """What a person reads on the PHQ-9, taken from designs/phq-9.json."""

    def __init__(self, design: dict[str, Any]) -> None:
        self.title: str = design["title"]
        pages = design["layout"]["pages"]
        self.page_titles = [p["title"] for p in pages]
        matrix = pages[0]["sections"][1]["items"][0]
        self.rows = {row["name"]: row["label"] for row in matrix["rows"]}
        self.options = {o["value"]: o["label"] for o in design["option_sets"]["phq-frekvens"]}
        function = pages[1]["sections"][0]["items"][0]
        self.function_label: str = function["label"]
        self.function_options = {o["value"]: o["label"] for o in function["options"]}
        score = design["scores"][0]
        self.score_label: str = score["label"]
        self.bands = {b["id"]: b["label"] for b in score["band_sets"][0]["bands"]}
        self.flag_label: str = design["flags"][0]["label"]


@pytest.fixture
def phq9(designs: dict[str, dict[str, Any]]) -> Phq9:
    return Phq9(designs["phq-9"])


def answer_rows(page: Page, form: Phq9, answers: dict[str, int]) -> None:
    for name, value in answers.items():
        row = page.get_by_role("radiogroup", name=form.rows[name])
        row.get_by_label(form.options[value], exact=True).check()


def heading(page: Page) -> Any:
    return page.get_by_role("heading", level=1)


def press_button(page: Page, t: Callable[..., str], text: str) -> None:
    page.get_by_role("button", name=t(text), exact=True).click()


def assert_receipt(page: Page, form: Phq9, t: Callable[..., str]) -> None:
    expect(page).to_have_url(re.compile(r"/receipt$"))
    expect(heading(page)).to_have_text(t("Your answers have been sent"))
    expect(page.get_by_text(re.compile(re.escape(t("Receipt number: %(receipt)s",
                                                   receipt="")) + r"\S+"))).to_be_visible()
    score = page.get_by_role("row", name=re.compile(re.escape(form.score_label)))
    expect(score.get_by_role("cell").nth(0)).to_have_text("14")
    expect(score.get_by_role("cell").nth(1)).to_have_text(form.bands["moderate"])
    flag = page.locator("li.flag")
    expect(flag).to_have_count(1)
    expect(flag).to_contain_text(form.flag_label)


def test_phq9_with_javascript(page: Page, phq9: Phq9, t: Callable[..., str]) -> None:
    start_form(page, phq9.title, t)
    expect(heading(page)).to_have_text(phq9.page_titles[0])
    expect(page.get_by_text(phq9.function_label)).to_have_count(0)  # it lives on page 2

    answer_rows(page, phq9, ANSWERS)
    for name, value in ANSWERS.items():
        expect(page.get_by_role("radiogroup", name=phq9.rows[name])
               .get_by_label(phq9.options[value], exact=True)).to_be_checked()
    press_button(page, t, "Next")

    # Any answer above 0 brings the question on how the problems affect daily life.
    expect(heading(page)).to_have_text(phq9.page_titles[1])
    function = page.get_by_role("radiogroup", name=phq9.function_label)
    expect(function).to_be_visible()
    function.get_by_label(phq9.function_options["ganska-svart"], exact=True).check()
    press_button(page, t, "Next")

    expect(page).to_have_url(re.compile(r"/review$"))
    expect(heading(page)).to_have_text(t("Check your answers before sending"))
    expect(page.locator(".error-summary")).to_have_count(0)
    item9 = page.locator(".review-row").filter(has_text=phq9.rows["phq9"])
    expect(item9.locator("dd").first).to_have_text(phq9.options[1])
    expect(page.locator(".review-row").filter(has_text=phq9.function_label)
           .locator("dd").first).to_have_text(phq9.function_options["ganska-svart"])
    press_button(page, t, "Send")

    assert_receipt(page, phq9, t)
    screenshot(page, "phq9-receipt.png")


def test_phq9_without_javascript(nojs_page: Page, phq9: Phq9, t: Callable[..., str]) -> None:
    page = nojs_page
    start_form(page, phq9.title, t)
    expect(heading(page)).to_have_text(phq9.page_titles[0])
    # The functional question's page is shown only once some answer is above 0.
    expect(page.get_by_text(t("Page %(n)s of %(total)s", n=1, total=1))).to_be_visible()

    # Sending page 1 half-answered: the server says what is missing, keeping what was chosen.
    answer_rows(page, phq9, {k: ANSWERS[k] for k in ("phq1", "phq2")})
    press_button(page, t, "Next")
    expect(page.get_by_role("heading", name=t("There is a problem"))).to_be_visible()
    expect(page.locator(".error-summary li")).to_have_count(7)
    expect(page.get_by_role("radiogroup", name=phq9.rows["phq1"])
           .get_by_label(phq9.options[2], exact=True)).to_be_checked()

    answer_rows(page, phq9, ANSWERS)
    press_button(page, t, "Next")

    # The server re-evaluated the rules: the follow-up question is shown on the next page.
    expect(heading(page)).to_have_text(phq9.page_titles[1])
    function = page.get_by_role("radiogroup", name=phq9.function_label)
    expect(function).to_be_visible()
    function.get_by_label(phq9.function_options["mycket-svart"], exact=True).check()
    press_button(page, t, "Next")

    expect(heading(page)).to_have_text(t("Check your answers before sending"))
    press_button(page, t, "Send")
    assert_receipt(page, phq9, t)


def test_phq9_all_zero_goes_straight_to_review(nojs_page: Page, phq9: Phq9,
                                               t: Callable[..., str]) -> None:
    page = nojs_page
    start_form(page, phq9.title, t)
    answer_rows(page, phq9, dict.fromkeys(ANSWERS, 0))
    with page.expect_navigation():
        press_button(page, t, "Next")
    assert heading(page).inner_text() == t("Check your answers before sending")


def test_receipt_shows_when_in_swedish_time(nojs_page: Page, phq9: Phq9,
                                            t: Callable[..., str]) -> None:
    page = nojs_page
    start_form(page, phq9.title, t)
    answer_rows(page, phq9, dict.fromkeys(ANSWERS, 1))
    press_button(page, t, "Next")
    page.get_by_role("radiogroup", name=phq9.function_label).get_by_role("radio").first.check()
    press_button(page, t, "Next")
    stockholm = ZoneInfo("Europe/Stockholm")
    before = datetime.now(stockholm)
    press_button(page, t, "Send")
    expect(heading(page)).to_have_text(t("Your answers have been sent"))
    after = datetime.now(stockholm)
    sent = page.locator(".receipt p").filter(has_text=t("Sent %(when)s", when="")).inner_text()
    assert not re.search(r"\d:\d\d:\d\d\.\d", sent), f"fractions of a second: {sent!r}"
    assert any(f"{moment:%H:%M}" in sent for moment in (before, after)), (
        f"expected Swedish time {before:%H:%M} in {sent!r}")


def tab_until(page: Page, condition: str, limit: int, what: str) -> None:
    """Press Tab until ``condition`` (JavaScript, on ``el``, the focused element) holds."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(el => Boolean({condition}))(document.activeElement)"):
            return
    pytest.fail(f"{limit} presses of Tab never reached {what}")


def test_phq9_with_the_keyboard_only(page: Page, phq9: Phq9, t: Callable[..., str]) -> None:
    start_form(page, phq9.title, t)
    focused = page.locator(":focus")

    # From the top of the page, Tab reaches the first question after the header's links,
    # and the focus can be seen.
    tab_until(page, "el.name === 'phq1'", 6, "the first question")
    expect(focused).to_have_attribute("type", "radio")
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"

    # Tab moves group by group; the arrow keys choose within a group (Space takes the first).
    for index, (name, value) in enumerate(ANSWERS.items()):
        if index:
            page.keyboard.press("Tab")
        expect(focused).to_have_attribute("name", name)
        if value == 0:
            page.keyboard.press("Space")
        for _ in range(value):
            page.keyboard.press("ArrowRight")
        expect(page.get_by_role("radiogroup", name=phq9.rows[name])
               .get_by_label(phq9.options[value], exact=True)).to_be_checked()

    # After the last group, Tab reaches the buttons; Enter on "Next" sends the page.
    tab_until(page, "el.value === 'next'", 3, "the Next button")
    expect(focused).to_have_text(t("Next"))
    page.keyboard.press("Enter")

    expect(heading(page)).to_have_text(phq9.page_titles[1])
    tab_until(page, "el.name === 'phq10'", 6, "the follow-up question")
    page.keyboard.press("ArrowDown")
    expect(page.get_by_label(phq9.function_options["ganska-svart"], exact=True)).to_be_checked()
    tab_until(page, "el.value === 'next'", 4, "the Next button on page 2")
    page.keyboard.press("Space")

    # The review lists a "Change" link per answer before the Send button.
    expect(heading(page)).to_have_text(t("Check your answers before sending"))
    tab_until(page, f"el.textContent.trim() === {json.dumps(t('Send'))}", 20,
              "the Send button")
    page.keyboard.press("Enter")
    assert_receipt(page, phq9, t)
