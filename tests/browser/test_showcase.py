"""The showcase form (every question type) filled in a real browser, with and without
JavaScript: conditional questions, a live BMI, a repeating group, an upload, errors, autosave."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from formular.definitions.personnummer import luhn_check_digit

from .helpers import png_bytes, screenshot, start_form

pytestmark = pytest.mark.browser

TITLE = "Visningsformulär: alla frågetyper"
PAGES = ["Om dig", "Levnadsvanor", "Hälsa", "Läkemedel", "Till sist"]
BIRTH = date(1985, 3, 14)


def valid_personnummer(born: date = BIRTH, serial: str = "238") -> str:
    """A valid personnummer in Skatteverket's test series (birth number 238)."""
    nine = born.strftime("%y%m%d") + serial
    return f"{born:%Y%m%d}-{serial}{luhn_check_digit(nine)}"


def heading(page: Page) -> Any:
    return page.get_by_role("heading", level=1)


def button(page: Page, name: str) -> Any:
    return page.get_by_role("button", name=name, exact=True)


def textbox(page: Page, label: str) -> Any:
    """A text input by its label (whose name may end in "(optional)")."""
    return page.get_by_role("textbox", name=re.compile("^" + re.escape(label) + "( |$)"))


def question(page: Page, label: str, exact: bool = False) -> Any:
    """A question answered with a set of options (a fieldset named by its legend): a
    radiogroup for single choices, a group for checkboxes."""
    return page.get_by_role("radiogroup", name=label, exact=exact).or_(
        page.get_by_role("group", name=label, exact=exact))


def expect_page(page: Page, number: int) -> None:
    expect(heading(page)).to_have_text(PAGES[number])


def test_showcase_with_javascript(page: Page, t: Callable[..., str]) -> None:
    start_form(page, TITLE, t)
    expect_page(page, 0)
    screenshot(page, "showcase-page-1.png")

    # Something required is missing: the summary takes focus and its links lead to the fields.
    page.get_by_label("Personnummer").fill(valid_personnummer())
    button(page, t("Next")).click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("heading")).to_have_text(t("There is a problem"))
    expect(page).to_have_title(re.compile("^" + re.escape(t("Error:"))))
    expect(summary.get_by_role("link").first).to_have_text("Namn: " + t("Answer this question."))
    expect(summary.get_by_role("link").first).to_have_attribute("href", "#f-name")
    name = page.get_by_label("Namn")
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-name-error")).to_contain_text(t("Answer this question."))
    expect(page.get_by_label("Personnummer")).to_have_value(valid_personnummer())
    screenshot(page, "showcase-page-1-errors.png")
    summary.get_by_role("link").first.click()
    expect(name).to_be_focused()

    name.fill("Tolvan Tolvansson")
    page.get_by_label("Födelsedatum").fill(BIRTH.isoformat())
    button(page, t("Next")).click()

    # Habits: a daily smoker is asked how much at once; the BMI follows what is typed.
    expect_page(page, 1)
    cigarettes = page.get_by_label("Hur många cigaretter om dagen?")
    expect(cigarettes).to_be_hidden()
    question(page, "Röker du?").get_by_label("Ja, dagligen", exact=True).check()
    expect(cigarettes).to_be_visible()
    cigarettes.fill("10")
    bmi = page.get_by_role("status", name="BMI (räknas ut)")
    expect(bmi).to_have_text("–")
    textbox(page, "Vikt").fill("80,5")
    textbox(page, "Längd").fill("180")
    expect(bmi).to_have_text("24,8")
    expect_page(page, 1)  # no page load was needed for any of it
    button(page, t("Next")).click()

    # Health: choosing pain asks where; a scale and a matrix.
    expect_page(page, 2)
    where = page.get_by_label("Var sitter smärtan?")
    expect(where).to_be_hidden()
    question(page, "Vilka besvär har du haft").get_by_label("Smärta", exact=True).check()
    expect(where).to_be_visible()
    where.fill("I vänster knä")
    question(page, "Vilka besvär har du haft").get_by_label("Oro", exact=True).check()
    question(page, "Hur mår du just nu?").get_by_label("7", exact=True).check()
    for row, choice in [("Jag har känt mig stressad.", "Stämmer helt"),
                        ("Jag har kunnat koppla av.", "Stämmer dåligt"),
                        ("Jag har haft för mycket att göra.", "Stämmer ganska bra")]:
        question(page, row).get_by_label(choice, exact=True).check()
    button(page, t("Next")).click()

    # Medication: "yes" shows the list at once; a row is added and filled.
    expect_page(page, 3)
    medications = question(page, "Läkemedel", exact=True)
    expect(medications).to_be_hidden()
    question(page, "Tar du några läkemedel?").get_by_label(t("Yes"), exact=True).check()
    expect(medications).to_be_visible()
    button(page, "Lägg till ett läkemedel").click()
    expect(question(page, "Läkemedel 1", exact=True)).to_be_visible()
    page.get_by_label("Läkemedlets namn").fill("Alvedon")
    textbox(page, "Dos").fill("500")
    reason = page.get_by_label("När tar du det?")
    expect(reason).to_be_hidden()
    question(page, "Tar du det vid behov?").get_by_label(t("Yes"), exact=True).check()
    expect(reason).to_be_visible()
    reason.fill("Vid huvudvärk")
    button(page, t("Next")).click()

    # Finally: a picture, a comment and consent.
    expect_page(page, 4)
    page.get_by_label("Bifoga en bild eller ett intyg").set_input_files(
        files=[{"name": "knä.png", "mimeType": "image/png", "buffer": png_bytes()}])
    page.get_by_label("Något mer du vill berätta?").fill("Nej tack.")
    question(page, "Jag har läst informationen").get_by_label(t("Yes"), exact=True).check()
    button(page, t("Next")).click()

    expect(heading(page)).to_have_text(t("Check your answers before sending"))
    expect(page.locator(".error-summary")).to_have_count(0)
    screenshot(page, "showcase-review.png")
    answers = {row.locator("dt").inner_text(): row.locator("dd").first.inner_text()
               for row in page.locator(".review-row").all()}
    assert answers["Namn"] == "Tolvan Tolvansson"
    assert answers["Personnummer"] == valid_personnummer()
    assert answers["Röker du?"] == "Ja, dagligen"
    assert answers["Hur många cigaretter om dagen?"] == "10"
    assert answers["Var sitter smärtan?"] == "I vänster knä"
    assert answers["Läkemedel 1: Läkemedlets namn"] == "Alvedon"
    assert answers["Läkemedel 1: När tar du det?"] == "Vid huvudvärk"
    assert answers["Bifoga en bild eller ett intyg"] == "knä.png"
    button(page, t("Send")).click()

    expect(heading(page)).to_have_text(t("Your answers have been sent"))
    stress = page.get_by_role("row", name=re.compile("^Stresspoäng"))
    expect(stress.get_by_role("cell").nth(0)).to_have_text("13")  # 5 + (6 - 2) + 4
    expect(stress.get_by_role("cell").nth(1)).to_have_text("Hög stress")
    expect(page.locator("li.flag")).to_contain_text(["Hög stress"])
    screenshot(page, "showcase-receipt.png")


def test_showcase_without_javascript(nojs_page: Page, t: Callable[..., str]) -> None:
    page = nojs_page
    base = start_form(page, TITLE, t)

    # An empty page 1: the summary and each field's message come back from the server.
    button(page, t("Next")).click()
    expect_page(page, 0)
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary.locator('a[href="#f-name"]')).to_have_text(
        "Namn: " + t("Answer this question."))
    expect(summary.locator('a[href="#f-birth_date"]', has_text=t("Answer this question."))
           ).to_have_count(1)
    expect(page.locator("#f-name-error")).to_contain_text(t("Answer this question."))
    expect(page.locator("#f-birth_date-error")).to_contain_text(t("Answer this question."))
    summary.get_by_role("link").first.click()
    expect(page).to_have_url(re.compile("#f-name$"))

    page.get_by_label("Namn").fill("Tolvan Tolvansson")
    page.get_by_label("Födelsedatum").fill(BIRTH.isoformat())
    button(page, t("Next")).click()

    # Daily smoking: the server shows the follow-up on the same page, with a notice, and
    # does not scold about a question the person has not seen yet.
    expect_page(page, 1)
    cigarettes = page.get_by_label("Hur många cigaretter om dagen?")
    expect(cigarettes).to_be_hidden()
    question(page, "Röker du?").get_by_label("Ja, dagligen", exact=True).check()
    button(page, t("Next")).click()
    expect_page(page, 1)
    expect(page.get_by_role("status").filter(
        has_text=t("Your answers led to more questions on this page."))).to_be_visible()
    expect(cigarettes).to_be_visible()
    expect(page.get_by_text(t("Answer this question."))).to_have_count(0)
    cigarettes.fill("5")
    button(page, t("Next")).click()
    expect_page(page, 2)

    # The repeating group: "yes" reveals it (after a post), and rows come and go without JS.
    page.goto(f"{base}/3")
    expect_page(page, 3)
    question(page, "Tar du några läkemedel?").get_by_label(t("Yes"), exact=True).check()
    button(page, t("Next")).click()
    add = button(page, "Lägg till ett läkemedel")
    expect(add).to_be_visible()
    add.click()
    expect(question(page, "Läkemedel 1", exact=True)).to_be_visible()
    page.get_by_label("Läkemedlets namn").fill("Alvedon")
    add.click()
    expect(question(page, "Läkemedel 2", exact=True)).to_be_visible()
    expect(page.locator("#f-medications-0-drug")).to_have_value("Alvedon")
    page.locator("#f-medications-1-drug").fill("Ipren")
    button(page, "Ta bort Läkemedel 1").click()
    expect(question(page, "Läkemedel 2", exact=True)).to_have_count(0)
    expect(page.get_by_label("Läkemedlets namn")).to_have_value("Ipren")
    button(page, t("Next")).click()
    expect_page(page, 4)


def test_empty_optional_date_is_not_an_error(nojs_page: Page, t: Callable[..., str]) -> None:
    page = nojs_page
    start_form(page, TITLE, t)
    with page.expect_navigation():
        button(page, t("Next")).click()
    messages = page.locator("#error-summary .summary-message")
    assert messages.all_inner_texts() == [t("Answer this question.")] * 2
    assert page.locator("#f-birth_date-error").inner_text().split() == (
        f"{t('Error:')} {t('Answer this question.')}".split())
    assert page.locator("#f-visit_date-error").count() == 0


def test_question_that_just_appeared_is_not_marked_wrong(nojs_page: Page,
                                                         t: Callable[..., str]) -> None:
    page = nojs_page
    base = start_form(page, TITLE, t)
    page.goto(f"{base}/1")
    question(page, "Röker du?").get_by_label("Ja, dagligen", exact=True).check()
    with page.expect_navigation():
        button(page, t("Next")).click()
    expect(page.get_by_role("status").filter(
        has_text=t("Your answers led to more questions on this page."))).to_be_visible()
    assert page.locator("#error-summary").count() == 0
    assert page.locator("#f-cigarettes-error").count() == 0


def test_review_writes_decimals_as_they_were_typed(nojs_page: Page,
                                                   t: Callable[..., str]) -> None:
    page = nojs_page
    base = start_form(page, TITLE, t)
    page.goto(f"{base}/1")
    textbox(page, "Vikt").fill("80,5")
    textbox(page, "Längd").fill("180")
    button(page, t("Save and continue later")).click()
    expect(page.get_by_role("status", name="BMI (räknas ut)")).to_have_text("24,8")
    page.goto(f"{base}/review")
    answers = {row.locator("dt").inner_text(): row.locator("dd").first.inner_text()
               for row in page.locator(".review-row").all()}
    assert (answers["Vikt"], answers["BMI (räknas ut)"]) == ("80,5", "24,8")


def test_autosave_keeps_what_was_typed(page: Page, t: Callable[..., str]) -> None:
    start_form(page, TITLE, t)
    status = page.locator("#autosave-status")
    expect(status).to_have_text("")
    page.get_by_label("Namn").fill("Tolvan Tolvansson")
    page.get_by_label("Postnummer").fill("123 45")
    # Saved in the background about 1.5 s after the last keystroke.
    expect(status).to_have_text(re.compile("^" + re.escape(t("Saved")) + r" \d\d[:.]\d\d$"),
                                timeout=5_000)
    page.reload()
    expect(page.get_by_label("Namn")).to_have_value("Tolvan Tolvansson")
    expect(page.get_by_label("Postnummer")).to_have_value("123 45")
