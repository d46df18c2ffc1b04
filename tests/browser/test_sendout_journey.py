"""A send-out from start to end in a real browser: a nurse sends PHQ-9, two citizens answer
(with and without JavaScript), the nurse reads, exports and handles the answers, and a citizen
sees who has read them. axe-core checks every page on the way.

The steps live in :mod:`.journey_support` and run once per test run (the module's
``journey``); each test here checks what a person sees after its step. The server is
``eager_live_server``: the send-out's fill job runs as soon as the confirmation commits.
"""

from __future__ import annotations

import email
import email.policy
import io
import re
import warnings
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect

from .helpers import assert_no_violations, axe_script
from .journey_support import ANSWERS_JS, ANSWERS_NOJS, AXE_PAGES, Journey, Person
from .test_phq9 import Phq9

#: WTForms 3.3 warns that SelectField choices given as tuples go away in 3.4; the send-out
#: form still passes tuples (reported; see test_send_out_form_uses_no_deprecated_wtforms_api).
#: The warning would otherwise be an error in the live server's thread and answer 500.
WTFORMS_TUPLES = "ignore:Passing SelectField choices:DeprecationWarning"
pytestmark = [pytest.mark.browser]

UTF8_BOM = "\ufeff".encode()


@pytest.fixture(scope="module")
def journey(browser: Browser, eager_live_server: str, eager_app: Flask,
            t: Callable[..., str], tn: Callable[..., str],
            designs: dict[str, dict[str, Any]]) -> Iterator[Journey]:
    script = axe_script()
    walk = Journey(browser, eager_live_server, eager_app, t, tn, Phq9(designs["phq-9"]),
                   script.read_text(encoding="utf-8") if script and script.is_file() else None,
                   Path(eager_app.config["MAIL_OUTBOX_DIR"]))
    try:
        yield walk
    finally:
        walk.close()


def cells(row: Any) -> Any:
    return row.get_by_role("cell")


# -- 1. the nurse sends PHQ-9 ---------------------------------------------------------------


def test_nurse_sends_phq9_to_two_citizens(journey: Journey, t: Callable[..., str]) -> None:
    follow_up = journey.send()  # logs in, previews (the mistyped row and why), confirms
    assert t("Sent") != "Sent", "the state label is not translated"
    page = journey.page("staff")
    page.goto(follow_up)
    expect(page.locator("p.meta")).to_contain_text(journey.unit_name)
    expect(page.locator("ul.state-counts")).to_contain_text(f"{t('Sent')}: 2")
    expect(page.get_by_role("table", name=journey.tn("%(num)s recipient", "%(num)s recipients",
                                                     2)).locator("tbody tr")).to_have_count(2)
    for person in journey.citizens:
        row = journey.recipient_row(page, person)
        expect(cells(row).nth(0)).to_have_text(person.formatted)
        expect(cells(row).nth(1)).to_have_text(t("Sent"))

    # Each citizen got one e-mail that names neither the form nor the message (discretion).
    mails = [email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
             for path in sorted(journey.outbox.glob("*.eml"))]
    body = t("Please answer the form. Your answers are read by staff at the clinic.")
    for person in journey.citizens:
        theirs = [mail for mail in mails if mail["To"] == person.email]
        assert len(theirs) == 1, f"{len(theirs)} e-mails to {person.email}"
        content = theirs[0].get_body()
        assert content is not None
        text = f"{theirs[0]['Subject']}\n{content.get_content()}"
        for secret in (journey.phq9.title, "PHQ", body):
            assert secret not in text, f"the e-mail to {person.name} says {secret!r}"


def test_empty_recipient_list_is_refused(journey: Journey, t: Callable[..., str]) -> None:
    journey.send()
    page = journey.page("staff")
    page.goto("/staff/sendouts/new")
    form = page.get_by_label(t("Form"), exact=True)
    form.select_option(label=form.locator("option").filter(
        has_text=journey.phq9.title).inner_text())
    with page.expect_navigation():
        page.get_by_role("button", name=t("Check recipients"), exact=True).click()
    assert page.get_by_role("heading", level=1).inner_text() == t("New send-out")
    assert t("Enter at least one personal identity number or upload a file.") in (
        page.locator("#error-summary").all_inner_texts() or [""])[0]


def test_send_out_errors_take_the_focus(journey: Journey, t: Callable[..., str]) -> None:
    journey.send()
    page = journey.page("staff")
    page.goto("/staff/sendouts/new")
    page.get_by_label(t("Answer by"), exact=True).fill("2020-01-31")
    with page.expect_navigation():
        page.get_by_role("button", name=t("Check recipients"), exact=True).click()
    expect(page.locator("#error-summary")).to_be_visible()
    assert page.evaluate("document.activeElement.id") == "error-summary"


def test_preview_gives_the_reason_in_swedish(journey: Journey) -> None:
    journey.send()
    assert journey.preview_reason
    assert journey.preview_reason != "The check digit is wrong."


# -- 2 and 3. the citizens answer -----------------------------------------------------------


def _check_receipt_and_inbox(journey: Journey, page: Page, token: str,
                             t: Callable[..., str]) -> None:
    phq9 = journey.phq9
    page.goto(f"/forms/{token}/receipt")
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Your answers have been sent"))
    # PHQ-9's score and item-9 flag are for staff only (citizen_visible: false).
    expect(page.get_by_text(phq9.score_label)).to_have_count(0)
    expect(page.get_by_text(phq9.flag_label)).to_have_count(0)

    page.get_by_role("link", name=t("Back to the inbox"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Inbox"))
    expect(page.get_by_text(t("You have no forms to answer."), exact=True)).to_be_visible()
    heading = page.get_by_role("heading", name=t("Sent answers"), exact=True)
    expect(heading).to_be_visible()
    item = heading.locator("xpath=following-sibling::ul[1]").get_by_role("listitem").filter(
        has=page.get_by_role("link", name=phq9.title, exact=True))
    expect(item).to_have_count(1)
    expect(item.get_by_role("link")).to_have_attribute("href", f"/forms/{token}/receipt")
    expect(item).to_contain_text(t("Answered"))


def test_first_citizen_answers_with_javascript(journey: Journey,
                                               t: Callable[..., str]) -> None:
    answered = journey.answer_with_javascript()
    assert re.fullmatch(r"\S{6,}", answered.receipt), answered.receipt
    _check_receipt_and_inbox(journey, journey.citizen_page(0), answered.token, t)


def test_second_citizen_answers_without_javascript(journey: Journey,
                                                   t: Callable[..., str]) -> None:
    answered = journey.answer_without_javascript()
    assert answered.receipt != journey.answer_with_javascript().receipt
    page = journey.citizen_page(1, javascript=False)
    _check_receipt_and_inbox(journey, page, answered.token, t)


# -- 4. the nurse reads, exports and handles ------------------------------------------------


def _assert_scores(page: Page, phq9: Phq9, t: Callable[..., str], total: int,
                   band: str) -> None:
    scores = page.get_by_role("table", name=t("Scores and bands"))
    row = scores.get_by_role("row").filter(
        has=page.get_by_role("rowheader", name=phq9.score_label, exact=True))
    expect(cells(row)).to_have_text([str(total), phq9.bands[band]])
    flags = page.locator("ul.flags li.flag")
    expect(flags).to_have_count(1)
    expect(flags).to_contain_text(phq9.flag_label)


def test_nurse_follows_up_reads_exports_and_handles(journey: Journey,
                                                    t: Callable[..., str]) -> None:
    journey.review()  # the follow-up page, its exports, the first answers and their PDF
    phq9, page = journey.phq9, journey.page("staff")
    first, second = journey.answer_with_javascript(), journey.answer_without_javascript()

    page.goto(journey.send())
    assert t("Answered") != "Answered", "the state label is not translated"
    counts = page.locator("ul.state-counts")
    expect(counts).to_contain_text(f"{t('Answered')}: 2")
    expect(counts).to_contain_text(re.compile(
        re.escape(t("Response rate")) + r": 100([,.]0)?\s%"))
    for person in journey.citizens:
        expect(cells(journey.recipient_row(page, person)).nth(1)).to_have_text(t("Answered"))

    # The exports: CSV with a BOM (Excel opens UTF-8 right), Excel, and one PDF per answer.
    csv = journey.downloads["csv"]
    assert csv.startswith(UTF8_BOM), csv[:20]
    text = csv.decode("utf-8-sig")
    for answered, person in zip((first, second), journey.citizens, strict=True):
        assert answered.receipt in text, f"receipt {answered.receipt} missing from the CSV"
        assert person.personnummer in text or person.formatted in text
    xlsx = journey.downloads["xlsx"]
    with zipfile.ZipFile(io.BytesIO(xlsx)) as workbook:
        assert "xl/workbook.xml" in workbook.namelist()
        shared = workbook.read("xl/sharedStrings.xml").decode("utf-8") if (
            "xl/sharedStrings.xml" in workbook.namelist()) else ""
        sheets = "".join(workbook.read(name).decode("utf-8") for name in workbook.namelist()
                         if name.startswith("xl/worksheets/"))
    for answered in (first, second):
        assert answered.receipt in shared + sheets, f"receipt {answered.receipt} not in Excel"
    assert journey.downloads["pdf"].startswith(b"%PDF-")

    # The first citizen's answers: scores and the flag on top, then the answers page by page
    # in the form's order.
    page.goto(f"/staff/assignments/{first.token}")
    expect(page.get_by_role("heading", level=1)).to_have_text(journey.citizens[0].name)
    expect(page.locator("p.meta").first).to_contain_text(journey.citizens[0].formatted)
    _assert_scores(page, phq9, t, 14, "moderate")
    expect(page.locator("main h3")).to_have_text(phq9.page_titles)
    assert page.evaluate("""() => {
        const first = document.querySelector('main h3')
        const above = el => el && (el.compareDocumentPosition(first)
                                   & Node.DOCUMENT_POSITION_FOLLOWING)
        return Boolean(above(document.querySelector('table.results'))
                       && above(document.querySelector('ul.flags')))
    }"""), "the scores and the flag must come before the answers"
    expect(page.locator("dl.review dt")).to_have_text(
        [phq9.rows[name] for name in ANSWERS_JS] + [phq9.function_label])
    expect(page.locator("dl.review dd").nth(8)).to_have_text(phq9.options[ANSWERS_JS["phq9"]])

    handle = page.get_by_role("button", name=t("Mark as handled (recorded in the journal)"),
                              exact=True)
    if handle.count():  # (already handled when this test runs a second time on one journey)
        handle.click()
    expect(page.get_by_role("status").filter(has_text=t("Marked as handled."))).to_be_visible()
    expect(page.locator("p.meta").first).to_contain_text(t("Handled"))
    expect(handle).to_have_count(0)
    expect(page.locator("ol.history li").last).to_contain_text(t("marked as handled"))

    # The second citizen's answers, sent without JavaScript, score the same way.
    page.goto(f"/staff/assignments/{second.token}")
    _assert_scores(page, phq9, t, sum(ANSWERS_NOJS.values()), "severe")


def test_response_rate_is_written_the_swedish_way(journey: Journey,
                                                 t: Callable[..., str]) -> None:
    journey.review()
    page = journey.page("staff")
    page.goto(journey.send())
    rate = page.locator("ul.state-counts li").filter(has_text=t("Response rate")).inner_text()
    assert re.search(r": 100(,0)?\s%$", rate), rate


# -- 5. the citizen sees who read -----------------------------------------------------------


def test_citizen_sees_who_read_the_answers(journey: Journey, t: Callable[..., str]) -> None:
    page = journey.read_access_log()
    log = page.get_by_role("table", name=t("Access log"))
    reads = log.locator("tbody tr").filter(has_text=t("Read your answers"))
    expect(reads.first).to_be_visible()
    expect(cells(reads.first).nth(1)).to_have_text(journey.staff_name)
    expect(cells(reads.first).nth(2)).to_have_text(journey.unit_name)
    for action in ("Saw you in a list", "Exported your answers", "Printed your answers"):
        expect(log.locator("tbody tr").filter(has_text=t(action)).first).to_be_visible()


def test_auditor_sees_the_reads(journey: Journey, t: Callable[..., str]) -> None:
    page = journey.audit()
    entries = page.get_by_role("table", name=t("Access log entries")).locator("tbody tr")
    person: Person = journey.citizens[0]
    theirs = entries.filter(has_text=person.formatted).filter(has_text=t("Read the answers"))
    expect(theirs.first).to_contain_text(journey.staff_name)
    expect(theirs.first).to_contain_text(journey.unit_name)


def test_auditor_reads_the_reasons_in_swedish(journey: Journey) -> None:
    page = journey.audit()
    reasons = page.locator("table.results tbody tr td:last-child").all_inner_texts()
    assert reasons
    english = [text for text in reasons if re.match(r"(follow-up|export) of send-out", text)]
    assert not english, english[:3]


# -- 6. axe-core on every page of the journey -----------------------------------------------


@pytest.mark.parametrize("where", list(AXE_PAGES))
def test_no_axe_violations(journey: Journey, where: str) -> None:
    if journey.axe_source is None:
        pytest.skip("no axe-core found: install axe-playwright-python")
    assert_no_violations(journey.run_until_axe(where), where)


def test_send_out_form_uses_no_deprecated_wtforms_api(eager_app: Flask) -> None:
    from formular.web.staff_forms import SendOutForm

    with eager_app.test_request_context("/staff/sendouts/new"), warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        SendOutForm()
