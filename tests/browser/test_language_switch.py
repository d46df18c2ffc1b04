"""A person switches from Swedish to English in the middle of a form and keeps every answer.

The language is chosen in the page header; the form is offered in English because its
designs catalog is complete for this version (the publish gate), and answers are codes, so
the same options stay chosen whatever the language of their labels.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import start_form
from tests.browser.test_phq9 import ANSWERS, Phq9, answer_rows

pytestmark = pytest.mark.browser

#: The English wording of the first PHQ-9 row, as Pfizer publishes it.
ROW_1_EN = "Little interest or pleasure in doing things"


@pytest.fixture
def phq9(designs: dict[str, dict[str, Any]]) -> Phq9:
    return Phq9(designs["phq-9"])


def test_switching_to_english_mid_form_keeps_the_answers(page: Page, phq9: Phq9,
                                                         t: Any) -> None:
    start_form(page, phq9.title, t)
    half = {name: ANSWERS[name] for name in ("phq1", "phq2", "phq3")}
    answer_rows(page, phq9, half)
    # Save what is on the page, then switch language from the header.
    page.get_by_role("button", name=t("Save and continue later")).click()
    expect(page.get_by_role("status").first).to_be_visible()
    page.get_by_role("navigation", name=t("Language")).get_by_role("button",
                                                                   name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    row = page.get_by_role("radiogroup", name=ROW_1_EN)
    expect(row).to_be_visible()
    # phq1 was answered 2 ("Mer än hälften av dagarna"): the same option, now in English.
    expect(row.get_by_label("More than half the days", exact=True)).to_be_checked()
    # Every saved answer is still chosen, and the page goes on in English.
    expect(page.locator("input[type=radio]:checked")).to_have_count(len(half))
    expect(page.get_by_role("button", name="Next")).to_be_visible()
