"""The send-out journey, step by step: a nurse sends PHQ-9 to two citizens, they answer (one
with JavaScript, one without), the nurse reads and exports the answers, a citizen sees who read
them, and an auditor sees the same reads.

The steps share one world (a clinic, its nurse, two citizens, one send-out), so each step is
done once per test run and remembered: :class:`Journey` runs a step the first time any test
needs it and hands later tests what it left (the follow-up page's URL, the assignments, the
receipt numbers). A test run alone (``-k``) still works: it runs the steps before it first.
A step that failed is not tried again; the tests after it are skipped with the reason.

Each browser context is one person: the nurse logs in through the real log-in form, the
citizens and the auditor get a session cookie (e-legitimation is not what is tested here).
axe-core is run on every page the journey passes, as it passes; the accessibility tests read
the results from :attr:`Journey.axe_results`.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page, expect

from formular.auth import accounts
from formular.storage.db import db
from formular.storage.identity import Role
from tests import factories
from tests.auth.support import citizen_session_cookie, cookie_name, staff_session_cookie

from .conftest import TIMEOUT_MS, WCAG_TAGS
from .helpers import AXE_VERSION, screenshot
from .test_phq9 import Phq9, answer_rows

PASSWORD = "a-long-test-password"
#: Citizen 1 (with JavaScript): 2,2,2,2,2,1,1,1,1 = 14, "moderate", item 9 = 1 (flagged).
ANSWERS_JS = {"phq1": 2, "phq2": 2, "phq3": 2, "phq4": 2, "phq5": 2,
              "phq6": 1, "phq7": 1, "phq8": 1, "phq9": 1}
#: Citizen 2 (without JavaScript): 3,3,3,2,2,2,2,1,2 = 20, "severe", item 9 = 2 (flagged).
ANSWERS_NOJS = {"phq1": 3, "phq2": 3, "phq3": 3, "phq4": 2, "phq5": 2,
                "phq6": 2, "phq7": 2, "phq8": 1, "phq9": 2}

#: The pages axe-core checks, in the order the journey reaches them, and the step that does.
AXE_PAGES = {
    "login": "send", "new-send-out": "send", "new-send-out-with-errors": "send",
    "preview": "send", "follow-up": "send", "citizen-inbox": "answer_with_javascript",
    "citizen-form-page": "answer_with_javascript", "citizen-receipt": "answer_with_javascript",
    "assignment-with-answers": "review", "citizen-access-log": "read_access_log",
    "audit": "audit",
}

T = TypeVar("T")


@dataclass
class Person:
    id: int
    name: str
    personnummer: str
    email: str

    @property
    def formatted(self) -> str:
        """As staff write it: YYYYMMDD-NNNN."""
        return f"{self.personnummer[:8]}-{self.personnummer[8:]}"


@dataclass
class Answered:
    token: str
    receipt: str


def step(method: Callable[..., T]) -> Callable[..., T]:
    """Run a journey step once; later calls get its result; after a failure, skip."""
    name = method.__name__

    @functools.wraps(method)
    def run(self: Journey) -> T:
        if name in self.results:
            return self.results[name]  # type: ignore[no-any-return]
        if name in self.failed:
            pytest.skip(f"the journey's step {name!r} failed in an earlier test")
        try:
            result = method(self)
        except BaseException:
            self.failed.add(name)
            raise
        self.results[name] = result
        return result

    return run


@dataclass
class Journey:
    browser: Browser
    base_url: str
    app: Flask
    t: Callable[..., str]
    tn: Callable[..., str]
    phq9: Phq9
    axe_source: str | None
    outbox: Path
    unit_slug: str = ""
    unit_name: str = ""
    username: str = ""
    staff_name: str = ""
    citizens: list[Person] = field(default_factory=list)
    results: dict[str, Any] = field(default_factory=dict)
    failed: set[str] = field(default_factory=set)
    axe_results: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    downloads: dict[str, bytes] = field(default_factory=dict)
    preview_reason: str = ""
    _contexts: list[BrowserContext] = field(default_factory=list)
    _pages: dict[str, Page] = field(default_factory=dict)
    _errors: list[str] = field(default_factory=list)

    # -- the world --------------------------------------------------------------------------

    def create_people(self) -> None:
        """A clinic, a nurse who sends and reviews there, and two adult citizens."""
        suffix = uuid.uuid4().hex[:6]
        self.unit_slug = f"vc-solbacken-{suffix}"
        self.unit_name = f"Vårdcentralen Solbacken {suffix}"
        self.username = f"sara.{suffix}"
        self.staff_name = "Sara Sjöberg"
        with self.app.app_context(), db.transaction() as session:
            accounts.ensure_unit(session, self.unit_slug, self.unit_name)
            accounts.create_staff(session, self.username, self.staff_name, PASSWORD,
                                  [(self.unit_slug, Role.SENDER),
                                   (self.unit_slug, Role.REVIEWER)])
            for name, birth in (("Alva Lindqvist", dt.date(1984, 3, 14)),
                                ("Bertil Nyström", dt.date(1957, 11, 2))):
                row = factories.citizen(session, birth, name=name)
                self.citizens.append(Person(row.id, row.name, row.personnummer,
                                            row.email or ""))

    # -- browsers ---------------------------------------------------------------------------

    def page(self, who: str, *, cookie: str | None = None, javascript: bool = True) -> Page:
        """The page of ``who`` (one browser context per person, kept for the whole run)."""
        if who in self._pages:
            return self._pages[who]
        context = self.browser.new_context(
            base_url=self.base_url, locale="sv-SE", timezone_id="Europe/Stockholm",
            viewport={"width": 1000, "height": 800}, java_script_enabled=javascript,
            accept_downloads=True)
        self._contexts.append(context)
        if cookie is not None:
            context.add_cookies([{"name": cookie_name(self.app), "value": cookie,
                                  "url": self.base_url}])
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        page = context.new_page()
        page.on("pageerror", lambda error: self._errors.append(f"{who}: {error}"))
        self._pages[who] = page
        return page

    def citizen_page(self, index: int, *, javascript: bool = True) -> Page:
        who = f"citizen-{index + 1}"
        if who in self._pages:
            return self._pages[who]
        cookie = citizen_session_cookie(self.app, self.citizens[index].id)
        return self.page(who, cookie=cookie, javascript=javascript)

    def check_no_script_errors(self) -> None:
        errors = list(self._errors)
        self._errors.clear()
        assert not errors, f"JavaScript errors on the page: {errors}"

    def close(self) -> None:
        for context in self._contexts:
            context.close()
        self._contexts.clear()
        self._pages.clear()

    def axe(self, page: Page, where: str) -> None:
        """Run axe-core's WCAG 2.1 A/AA rules on ``page`` now; keep the violations."""
        if self.axe_source is None:
            return
        skip = ["dlitem"] if AXE_VERSION < (3, 2) else []
        if not page.evaluate("typeof window.axe === 'object'"):
            page.evaluate(self.axe_source)
        result: dict[str, Any] = page.evaluate(
            """([tags, skip]) => {
                 const known = new Set(axe.getRules().flatMap(rule => rule.tags))
                 const values = tags.filter(tag => known.has(tag))
                 const rules = Object.fromEntries(skip.map(id => [id, {enabled: false}]))
                 return axe.run(document, {runOnly: {type: 'tag', values}, rules})
               }""", [WCAG_TAGS, skip])
        self.axe_results[where] = list(result["violations"])

    def download(self, page: Page, link_text: str) -> bytes:
        with page.expect_download() as info:
            page.get_by_role("link", name=link_text, exact=True).click()
        download = info.value
        assert download.failure() is None, download.failure()
        return Path(download.path()).read_bytes()

    # -- 1. the nurse sends PHQ-9 -----------------------------------------------------------

    @step
    def send(self) -> str:
        """Log in through the form, make a send-out to two citizens and one mistyped number,
        check the preview and confirm it; return the follow-up page's URL."""
        t, page = self.t, self.page("staff")
        self.create_people()

        page.goto("/login")
        expect(page.get_by_role("heading", level=1)).to_have_text(t("Log in for staff"))
        self.axe(page, "login")
        page.get_by_label(t("Username"), exact=True).fill(self.username)
        page.get_by_label(t("Password"), exact=True).fill(PASSWORD)
        page.get_by_role("button", name=t("Log in"), exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(t("Send-outs"))
        expect(page.get_by_role("navigation", name=t("Account"))).to_contain_text(
            self.staff_name)

        page.get_by_role("link", name=t("New send-out"), exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(t("New send-out"))
        self.axe(page, "new-send-out")

        # A deadline in the past: the error summary says what is wrong, and axe looks. (An
        # empty recipient list should be refused too, but is not: see the journey's tests.)
        deadline = page.get_by_label(t("Answer by"), exact=True)
        deadline.fill("2020-01-31")
        page.get_by_role("button", name=t("Check recipients"), exact=True).click()
        summary = page.locator("#error-summary")
        expect(summary).to_contain_text(t("The deadline cannot be in the past."))
        self.axe(page, "new-send-out-with-errors")
        deadline.fill("")

        form = page.get_by_label(t("Form"), exact=True)
        option = form.locator("option").filter(has_text=self.phq9.title)
        expect(option).to_have_count(1)
        form.select_option(value=option.get_attribute("value"))
        first, second = self.citizens
        page.get_by_label(t("Personal identity numbers"), exact=True).fill(
            f"{first.formatted}\n{second.formatted}\n{self.mistyped}")
        page.get_by_role("button", name=t("Check recipients"), exact=True).click()

        # The preview: two will get it, the mistyped row cannot be sent, and why.
        expect(page.get_by_role("heading", level=1)).to_have_text(t("Check the send-out"))
        counts = page.locator("p.counts")
        expect(counts).to_contain_text(self.tn("%(num)s person will get the form.",
                                               "%(num)s people will get the form.", 2))
        expect(counts).to_contain_text(self.tn("%(num)s row cannot be sent.",
                                               "%(num)s rows cannot be sent.", 1))
        problems = page.get_by_role("table", name=t("Rows with errors or notes"))
        expect(problems.locator("tbody tr")).to_have_count(1)
        expect(problems.locator("tbody tr td")).to_have_text(
            ["3", self.mistyped, t("Not sent"), t("The check digit is wrong.")])
        self.preview_reason = problems.locator("tbody tr td").last.inner_text()
        self.axe(page, "preview")

        page.get_by_role("button", name=self.tn("Send to %(num)s recipient",
                                                "Send to %(num)s recipients", 2),
                         exact=True).click()
        expect(page).to_have_url(re.compile(r"/staff/sendouts/\d+$"))
        expect(page.get_by_role("heading", level=1)).to_have_text(self.phq9.title)
        self.axe(page, "follow-up")
        self.check_no_script_errors()
        return page.url

    @property
    def mistyped(self) -> str:
        """The second citizen's number with its check digit wrong, as a slip of the finger."""
        number = self.citizens[1].formatted
        return number[:-1] + str((int(number[-1]) + 1) % 10)

    def recipient_row(self, page: Page, person: Person) -> Any:
        table = page.get_by_role("table", name=self.tn("%(num)s recipient",
                                                       "%(num)s recipients", 2))
        return table.get_by_role("row").filter(
            has=page.get_by_role("rowheader", name=person.name, exact=True))

    # -- 2 and 3. the citizens answer -------------------------------------------------------

    def _answer(self, index: int, answers: dict[str, int], *, javascript: bool,
                check_axe: bool) -> Answered:
        t, phq9 = self.t, self.phq9
        self.send()
        page = self.citizen_page(index, javascript=javascript)
        page.goto("/inbox")
        expect(page.get_by_role("heading", level=1)).to_have_text(t("Inbox"))
        to_answer = page.locator("li.card").filter(
            has=page.get_by_role("link", name=phq9.title, exact=True))
        expect(to_answer).to_have_count(1)
        expect(to_answer).to_contain_text(self.unit_name)
        if check_axe:
            self.axe(page, "citizen-inbox")

        to_answer.get_by_role("link", name=phq9.title, exact=True).click()
        expect(page).to_have_url(re.compile(r"/forms/[^/]+/0$"))
        token = page.url.split("/forms/")[1].split("/")[0]
        expect(page.get_by_role("heading", level=1)).to_have_text(phq9.page_titles[0])
        answer_rows(page, phq9, answers)
        if check_axe:
            self.axe(page, "citizen-form-page")
        page.get_by_role("button", name=t("Next"), exact=True).click()

        expect(page.get_by_role("heading", level=1)).to_have_text(phq9.page_titles[1])
        page.get_by_role("radiogroup", name=phq9.function_label).get_by_label(
            phq9.function_options["ganska-svart"], exact=True).check()
        page.get_by_role("button", name=t("Next"), exact=True).click()

        expect(page).to_have_url(re.compile(r"/review$"))
        expect(page.get_by_role("heading", level=1)).to_have_text(
            t("Check your answers before sending"))
        item9 = page.locator(".review-row").filter(has_text=phq9.rows["phq9"])
        expect(item9.locator("dd").first).to_have_text(phq9.options[answers["phq9"]])
        page.get_by_role("button", name=t("Send"), exact=True).click()

        expect(page).to_have_url(re.compile(r"/receipt$"))
        expect(page.get_by_role("heading", level=1)).to_have_text(
            t("Your answers have been sent"))
        prefix = t("Receipt number: %(receipt)s", receipt="")
        line = page.get_by_text(re.compile(re.escape(prefix) + r"\S+"))
        expect(line).to_be_visible()
        receipt = line.inner_text().strip().removeprefix(prefix).strip()
        if check_axe:
            self.axe(page, "citizen-receipt")
        self.check_no_script_errors()
        return Answered(token, receipt)

    @step
    def answer_with_javascript(self) -> Answered:
        return self._answer(0, ANSWERS_JS, javascript=True, check_axe=True)

    @step
    def answer_without_javascript(self) -> Answered:
        return self._answer(1, ANSWERS_NOJS, javascript=False, check_axe=False)

    # -- 4. the nurse reads, exports and handles --------------------------------------------

    @step
    def review(self) -> None:
        """The follow-up page after both answered (screenshot), the exports, and the first
        citizen's answers (screenshot, PDF, mark as handled)."""
        t, phq9 = self.t, self.phq9
        follow_up = self.send()
        self.answer_with_javascript()
        self.answer_without_javascript()
        page = self.page("staff")
        page.goto(follow_up)
        expect(page.get_by_role("heading", level=1)).to_have_text(phq9.title)
        screenshot(page, "sendout-follow-up.png")
        self.downloads["csv"] = self.download(page, t("Export answers (CSV)"))
        self.downloads["xlsx"] = self.download(page, t("Export answers (Excel)"))

        self.recipient_row(page, self.citizens[0]).get_by_role(
            "link", name=self.citizens[0].name, exact=True).click()
        expect(page).to_have_url(re.compile(r"/staff/assignments/[^/]+$"))
        expect(page.get_by_role("heading", level=1)).to_have_text(self.citizens[0].name)
        expect(page.get_by_role("table", name=t("Scores and bands"))).to_be_visible()
        self.axe(page, "assignment-with-answers")
        screenshot(page, "sendout-assignment.png")
        self.downloads["pdf"] = self.download(page, t("Answers as PDF"))
        self.check_no_script_errors()

    # -- 5. the citizen sees who read -------------------------------------------------------

    @step
    def read_access_log(self) -> Page:
        self.review()
        t, page = self.t, self.citizen_page(0)
        page.goto("/inbox")
        page.get_by_role("link", name=t("Who has read my answers?"), exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(t("Who has read my answers"))
        self.axe(page, "citizen-access-log")
        self.check_no_script_errors()
        return page

    # -- the auditor ------------------------------------------------------------------------

    @step
    def audit(self) -> Page:
        self.review()
        cookie = staff_session_cookie(self.app, (Role.AUDITOR,), self.unit_slug)
        page = self.page("auditor", cookie=cookie)
        page.goto("/audit/")
        expect(page.get_by_role("heading", level=1)).to_have_text(self.t("Access log"))
        self.axe(page, "audit")
        self.check_no_script_errors()
        return page

    def run_until_axe(self, where: str) -> list[dict[str, Any]]:
        """The axe-core violations on page ``where``, walking the journey there if needed."""
        getattr(self, AXE_PAGES[where])()
        return self.axe_results[where]
