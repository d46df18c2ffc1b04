"""axe-core finds no WCAG 2.1 A/AA violations on the pages a person goes through."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from .helpers import AXE_VERSION, assert_no_violations, start_form

pytestmark = pytest.mark.browser

SHOWCASE = "Visningsformulär: alla frågetyper"
PHQ9 = "PHQ-9 – frågor om nedstämdhet"
Axe = Callable[[Page], list[dict[str, Any]]]

ARIA_REQUIRED_BUG = (
    "BUG: required choice/yes-no/scale questions put aria-required on their <fieldset> "
    "(macro describedby() in formular/templates/form/widgets.html, used by radio, checkboxes, "
    "yesno and scale); aria-required is not allowed on role=group (axe: aria-allowed-attr, "
    "critical)")
#: axe-core 3.1.1 does not see that violation; axe-core 4 does.
AXE_SEES_ARIA_REQUIRED = AXE_VERSION >= (4,)


def _reveal(page: Page, number: int, t: Callable[..., str]) -> None:
    """Bring the page's conditional questions on screen, so axe checks them too."""
    if number == 1:
        page.get_by_role("radiogroup", name="Röker du?").get_by_label("Ja, dagligen").check()
        expect(page.get_by_label("Hur många cigaretter om dagen?")).to_be_visible()
    elif number == 2:
        page.get_by_role("group", name="Vilka besvär").get_by_label("Smärta").check()
        expect(page.get_by_label("Var sitter smärtan?")).to_be_visible()
    elif number == 3:
        page.get_by_role("radiogroup", name="Tar du några läkemedel?").get_by_label(
            t("Yes"), exact=True).check()
        page.get_by_role("button", name="Lägg till ett läkemedel").click()
        page.get_by_role("radiogroup", name="Tar du det vid behov?").get_by_label(
            t("Yes"), exact=True).check()
        expect(page.get_by_label("När tar du det?")).to_be_visible()


def _fill_phq9(page: Page, t: Callable[..., str]) -> None:
    start_form(page, PHQ9, t)
    for row in page.locator("fieldset.matrix-row").all():
        row.get_by_role("radio").nth(2).check()
    page.get_by_role("button", name=t("Next"), exact=True).click()
    page.get_by_role("radio").first.check()
    page.get_by_role("button", name=t("Next"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        t("Check your answers before sending"))


def test_preview_list(page: Page, axe: Axe) -> None:
    page.goto("/preview/")
    assert_no_violations(axe(page), "the preview list")


def _showcase_page(number: int) -> Any:
    return pytest.param(number, id=f"page-{number + 1}")


@pytest.mark.parametrize("number", [_showcase_page(n) for n in range(5)])
def test_showcase_page(page: Page, axe: Axe, t: Callable[..., str], number: int) -> None:
    base = start_form(page, SHOWCASE, t)
    page.goto(f"{base}/{number}")
    _reveal(page, number, t)
    assert_no_violations(axe(page), f"showcase page {number + 1}")


@pytest.mark.parametrize("title", [SHOWCASE, PHQ9], ids=["showcase", "phq-9"])
def test_page_with_error_summary(page: Page, axe: Axe, t: Callable[..., str],
                                 title: str) -> None:
    start_form(page, title, t)
    page.get_by_role("button", name=t("Next"), exact=True).click()
    expect(page.locator("#error-summary")).to_be_focused()
    assert_no_violations(axe(page), f"{title}, page 1 with errors")


def test_review_with_problems(page: Page, axe: Axe, t: Callable[..., str]) -> None:
    base = start_form(page, SHOWCASE, t)
    page.goto(f"{base}/review")
    expect(page.locator("#error-summary")).to_be_visible()
    assert_no_violations(axe(page), "the review page listing missing answers")


def test_review_and_receipt(page: Page, axe: Axe, t: Callable[..., str]) -> None:
    _fill_phq9(page, t)
    review = axe(page)
    page.get_by_role("button", name=t("Send"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Your answers have been sent"))
    expect(page.locator("li.flag")).to_have_count(1)
    receipt = axe(page)
    assert_no_violations(review, "the review page")
    assert_no_violations(receipt, "the receipt")


def test_required_option_questions_use_aria_required_where_allowed(
        page: Page, t: Callable[..., str]) -> None:
    """Checked without axe, so the bug shows whatever axe version is installed."""
    base = start_form(page, SHOWCASE, t)
    page.goto(f"{base}/1")
    smoking = page.get_by_role("radiogroup", name="Röker du?")
    expect(smoking).to_be_visible()
    misplaced = page.locator("fieldset[aria-required]:not([role=radiogroup])")
    assert misplaced.count() == 0, misplaced.first.evaluate(
        "el => el.outerHTML.slice(0, el.outerHTML.indexOf('>') + 1)")
