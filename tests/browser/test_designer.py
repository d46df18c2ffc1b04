"""The form editor in a real browser (Debian's Chromium), with and without JavaScript.

* A designer builds a three-page form with eleven items of ten kinds, a condition and a score,
  tries the score, fixes the lint error the validation panel shows, and publishes; a citizen
  answers the published version; a second version is published and the first citizen's answers
  still show against version 1.
* Keyboard only: items are selected and reordered with the keyboard; focus stays on the moved
  item and the move is announced — with JavaScript (fetch) and without (plain posts).
* Drag and drop, autosave, the raw JSON view's checking as you type, hostile texts shown as
  text, a conflict that loses nothing, and axe-core on the editor's main states.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect

from formular.auth import accounts, sessions
from formular.design import drafts
from formular.storage.base import utcnow
from formular.storage.db import db
from formular.storage.design import DesignDraft
from tests.auth.support import citizen_session_cookie, cookie_name
from tests.design.workspace_support import scored_definition as scored_document
from tests.functional import staff_support as s

from .conftest import TIMEOUT_MS
from .helpers import assert_no_violations, screenshot

pytestmark = [pytest.mark.browser]

UNIT = "test-unit"
Axe = Callable[[Any], list[dict[str, Any]]]


# -- set-up -----------------------------------------------------------------------------------


def make_draft(app: Flask, document: dict[str, Any], unit_slug: str = UNIT) -> int:
    """A draft of the unit the ``page`` fixture's designer works in (a fresh id each time)."""
    document = {**document, "id": f"{document['id']}-{uuid.uuid4().hex[:6]}"}
    with app.app_context(), db.transaction() as session:
        unit = accounts.ensure_unit(session, unit_slug, unit_slug.replace("-", " ").title())
        draft = drafts.create_draft(session, unit_id=unit.id, document=document,
                                    origin="blank", staff_user_id=None)  # type: ignore[arg-type]
        return draft.id


def document_of(app: Flask, draft_id: int) -> dict[str, Any]:
    with app.app_context():
        draft = db.session.get(DesignDraft, draft_id)
        assert draft is not None
        return dict(draft.document)


def person_page(browser: Browser, live_server: str, app: Flask, cookie: str, *,
                javascript: bool = True) -> Page:
    context = browser.new_context(base_url=live_server, locale="sv-SE",
                                  timezone_id="Europe/Stockholm", java_script_enabled=javascript,
                                  viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": cookie_name(app), "value": cookie, "url": live_server}])
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.on("pageerror", lambda error: page.context.errors.append(str(error)))  # type: ignore
    page.context.errors = []  # type: ignore[attr-defined]
    return page


def staff_cookie(app: Flask, person: s.Person) -> str:
    with app.app_context(), db.transaction() as session:
        _, value = sessions.create(session, kind="staff", method="local", now=utcnow(),
                                   staff_user_id=person.id)
    return value


def close(page: Page) -> None:
    errors = list(page.context.errors)  # type: ignore[attr-defined]
    page.context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


class Editor:
    """What a designer does in the editor, in the words the page uses."""

    def __init__(self, page: Page, t: Callable[..., str]) -> None:
        self.page, self.t = page, t

    @property
    def live(self) -> Any:
        return self.page.locator("#editor-live")

    @property
    def tree(self) -> Any:
        return self.page.get_by_role("navigation", name=self.t("Structure"))

    def ready(self) -> None:
        """Wait until the editor's script has taken over the page (after a page load)."""
        expect(self.page.locator("#editor")).to_have_attribute("data-enhanced", "1")

    def idle(self) -> None:
        """Wait until every change sent has been answered (the editor is not busy)."""
        expect(self.page.locator(".editor-grid")).not_to_have_attribute("aria-busy", "true")

    def select(self, label: str) -> None:
        self.tree.get_by_role("link", name=re.compile(re.escape(label))).first.click()
        expect(self.tree.locator('[aria-current="true"]')).to_contain_text(label)
        self.ready()

    def add_after(self, kind: str) -> None:
        t = self.t
        self.page.get_by_label(t("Add after this item"), exact=True).select_option(label=kind)
        self.page.get_by_role("button", name=t("Add"), exact=True).first.click()
        self.idle()
        expect(self.page.locator("#item-label, #item-text")).to_be_focused()

    def set_label(self, label: str) -> None:
        field = self.page.get_by_label(self.t("Question"), exact=True)
        field.fill(label)
        self.save()
        expect(self.tree.locator('[aria-current="true"]')).to_contain_text(label)

    def save(self) -> None:
        self.page.locator("#save-item").click()
        self.idle()

    def panel(self, name: str) -> None:
        self.page.get_by_role("navigation", name=self.t("Editor panels")).get_by_role(
            "link", name=re.compile("^" + re.escape(name))).click()
        expect(self.page.locator(".panel-tabs [aria-current=page]")).to_have_text(
            re.compile("^" + re.escape(name)))
        self.ready()

    def problems(self) -> Any:
        return self.page.locator("[data-region=header]").get_by_role(
            "link", name=re.compile(r"\d"))


# -- the journey: build, try, fix, publish, answer, publish again -----------------------------


def fill_option(page: Page, t: Callable[..., str], row: int, value: str, label: str,
                weight: str = "") -> None:
    name = t("option %(n)s", n=row)
    page.get_by_label(f"{t('Value')}, {name}", exact=True).fill(value)
    page.get_by_label(f"{t('Label')}, {name}", exact=True).fill(label)
    if weight:
        page.get_by_label(f"{t('Weight')}, {name}", exact=True).fill(weight)


def test_designer_builds_publishes_and_a_citizen_answers(
        browser: Browser, live_server: str, app: Flask, t: Callable[..., str],
        axe: Axe) -> None:
    world = s.build_world(app, "d2j")
    page = person_page(browser, live_server, app, staff_cookie(app, world.staff["designer"]))
    editor = Editor(page, t)
    kinds = {key: t(label) for key, label in [
        ("choice", "Single choice"), ("yes-no", "Yes or no"), ("text", "Short text"),
        ("integer", "Whole number"), ("date", "Date"), ("scale", "Scale"),
        ("textarea", "Long text"), ("multi-choice", "Multiple choice"),
        ("email", "E-mail address"), ("decimal", "Decimal number"), ("info", "Information text")]}

    # A blank draft through the workspace (the workspace's page) opens in the editor.
    page.goto(f"/design/new?unit={world.unit_id}")
    blank = page.locator("form", has=page.get_by_role("button", name=t("Create the draft")))
    blank.first.get_by_label(t("Title"), exact=True).fill("Levnadsvanor")
    blank.first.get_by_label(t("Id"), exact=True).fill("d2j-habits")
    blank.first.get_by_role("button", name=t("Create the draft")).click()
    expect(page).to_have_url(re.compile(r"/design/drafts/\d+/edit"))
    editor.ready()
    draft_id = int(re.search(r"/drafts/(\d+)/", page.url).group(1))  # type: ignore[union-attr]

    # Page 1: a single choice with weighted options, a yes/no question, a follow-up text.
    editor.add_after(kinds["choice"])
    page.get_by_label(t("Question"), exact=True).fill("Hur ofta tränar du?")
    fill_option(page, t, 1, "0", "Sällan")
    fill_option(page, t, 2, "1", "Ibland")
    fill_option(page, t, 3, "2", "Ofta")
    editor.save()
    expect(editor.tree.locator('[aria-current="true"]')).to_contain_text("Hur ofta tränar du?")
    editor.add_after(kinds["yes-no"])
    editor.set_label("Röker du?")
    editor.add_after(kinds["text"])
    editor.set_label("Vad röker du?")

    # The condition: "what do you smoke" only when "do you smoke" is yes.
    page.get_by_text(t("Show only when …")).click()
    row = t("row %(n)s", n=1)
    page.get_by_label(f"{t('Field')}, {row}", exact=True).select_option(label="Röker du?")
    page.get_by_label(f"{t('Comparison')}, {row}", exact=True).select_option(
        label=t("equals"))
    page.get_by_label(f"{t('Option')}, {row}", exact=True).select_option(label=t("Yes"))
    page.get_by_role("button", name=t("Save the condition")).click()
    expect(page.locator(".condition")).to_contain_text("Röker du?")
    violations = axe(page)
    assert_no_violations(violations, "the editor with the condition builder open")

    # Page 2 starts with a whole number; a date and a scale follow.
    page.get_by_label(t("First item on the page"), exact=True).select_option(
        label=kinds["integer"])
    page.get_by_role("button", name=t("Add a page"), exact=True).click()
    expect(editor.tree.get_by_text(t("Page %(n)s:", n=2))).to_be_visible()
    editor.select(t("New question"))
    editor.set_label("Hur många steg går du om dagen?")
    editor.add_after(kinds["date"])
    editor.set_label("När var du senast hos läkare?")
    editor.add_after(kinds["scale"])
    editor.set_label("Hur mår du i dag?")

    # Page 3: long text, multiple choice, e-mail, decimal number, information.
    page.get_by_label(t("First item on the page"), exact=True).select_option(
        label=kinds["textarea"])
    page.get_by_role("button", name=t("Add a page"), exact=True).click()
    expect(editor.tree.get_by_text(t("Page %(n)s:", n=3))).to_be_visible()
    editor.select(t("New question"))
    editor.set_label("Något mer?")
    for kind, label in (("multi-choice", "Vilka besvär har du?"), ("email", "E-post"),
                        ("decimal", "Vikt i kg")):
        editor.add_after(kinds[kind])
        editor.set_label(label)
    editor.add_after(kinds["info"])

    # The score: training (0–2) plus the scale (0–10); the bands leave a gap at 6.
    editor.panel(t("Scores and flags"))
    page.get_by_role("link", name=t("New score"), exact=True).click()
    score = page.locator("#score-form")
    score.get_by_label(t("Name"), exact=True).fill("Hälsopoäng")
    score.get_by_label("Hur ofta tränar du?", exact=True).check()
    score.get_by_label("Hur mår du i dag?", exact=True).check()
    bands = score.get_by_role("group", name=t("Bands"), exact=True)
    for number, (low, high, label) in enumerate([("0", "5", "Låg"), ("7", "12", "Hög")], 1):
        band = t("band %(n)s", n=number)
        bands.get_by_label(f"{t('From')}, {band}", exact=True).fill(low)
        bands.get_by_label(f"{t('To')}, {band}", exact=True).fill(high)
        bands.get_by_label(f"{t('Label')}, {band}", exact=True).fill(label)
    score.get_by_role("button", name=t("Save the score")).click()
    expect(page.get_by_role("link", name="Hälsopoäng", exact=True)).to_be_visible()
    violations = axe(page)
    assert_no_violations(violations, "the editor's score panel")

    # The validation panel shows the gap; its link opens the score, where it is fixed.
    expect(editor.problems()).to_have_text(re.compile(r"^1\b"))
    editor.panel(t("Problems (%(num)s)", num=1))
    page.get_by_role("link", name=t("The bands of a score leave a gap")).click()
    bands = page.locator("#score-form").get_by_role("group", name=t("Bands"), exact=True)
    bands.get_by_label(f"{t('From')}, {t('band %(n)s', n=2)}", exact=True).fill("6")
    page.get_by_role("button", name=t("Save the score")).click()
    expect(editor.problems()).to_have_text(re.compile(r"^0\b"))

    # Try it: sample answers give the score and the band at once; kept as a test case.
    trial = page.locator("#try-form")
    trial.get_by_label("Hur ofta tränar du?", exact=True).select_option(label="Ofta")
    trial.get_by_label(re.compile("^Hur mår du i dag?")).fill("7")
    trial.get_by_label(re.compile("^Hur mår du i dag?")).press("Tab")
    result = page.locator("#try-result")
    expect(result).to_contain_text("Hälsopoäng")
    expect(result.get_by_role("cell", name="9", exact=True)).to_be_visible()
    expect(result).to_contain_text("Hög")
    trial.get_by_label(t("Name of the test case"), exact=True).fill("Tränar ofta, mår bra")
    page.get_by_role("button", name=t("Save as a test case")).click()
    case = page.get_by_role("region", name=t("Test cases")).get_by_role("listitem")
    expect(case).to_contain_text("Tränar ofta, mår bra")
    expect(case).to_contain_text(t("passes"))
    expect(editor.problems()).to_have_text(re.compile(r"^0\b"))
    screenshot(page, "designer-scores.png")

    document = document_of(app, draft_id)
    types = [i["type"] for p in document["layout"]["pages"] for sec in p["sections"]
             for i in sec["items"]]
    assert len(document["layout"]["pages"]) == 3
    assert len(types) >= 10
    assert len(set(types)) >= 10, types

    # Publish version 1 for the own unit (the workspace's page).
    page.get_by_role("link", name=t("Publish"), exact=True).click()
    page.get_by_label(t("Only our unit"), exact=True).check()
    page.get_by_role("button", name=t("Publish version %(n)s", n=1)).click()
    expect(page.get_by_text(t("Version %(n)s of “%(title)s” was published.", n=1,
                              title="Levnadsvanor"))).to_be_visible()
    close(page)

    # A citizen answers version 1.
    citizen = world.citizens["adult"]
    send_out = s.send_out_via_service(app, world, "d2j-habits", [citizen.id])
    token = s.assignment_of(app, send_out, citizen.id).token
    answer = person_page(browser, live_server, app, citizen_session_cookie(app, citizen.id))
    answer.goto(f"/forms/{token}/0")
    answer.get_by_role("radiogroup", name=re.compile("Hur ofta tränar du?")).get_by_label(
        "Ofta", exact=True).check()
    answer.get_by_role("radiogroup", name=re.compile("Röker du?")).get_by_label(
        t("Yes"), exact=True).check()
    expect(answer.get_by_label(re.compile("Vad röker du?"))).to_be_visible()  # the condition
    answer.get_by_label(re.compile("Vad röker du?")).fill("Cigarr")
    answer.get_by_role("button", name=t("Next"), exact=True).click()
    answer.get_by_label(re.compile("Hur många steg")).fill("4000")
    answer.get_by_role("radiogroup", name=re.compile("Hur mår du i dag?")).get_by_label(
        "7", exact=True).check()
    answer.get_by_role("button", name=t("Next"), exact=True).click()
    answer.get_by_role("button", name=t("Next"), exact=True).click()
    expect(answer).to_have_url(re.compile(r"/review$"))
    answer.get_by_role("button", name=t("Send"), exact=True).click()
    expect(answer).to_have_url(re.compile(r"/receipt$"))
    close(answer)

    # Version 2 renames the first question.
    page = person_page(browser, live_server, app, staff_cookie(app, world.staff["designer"]))
    editor = Editor(page, t)
    page.goto(f"/design/drafts/{draft_id}/edit")
    editor.select("Hur ofta tränar du?")
    editor.set_label("Hur ofta motionerar du?")
    page.get_by_role("link", name=t("Publish"), exact=True).click()
    page.get_by_label(t("Only our unit"), exact=True).check()
    page.get_by_role("button", name=t("Publish version %(n)s", n=2)).click()
    expect(page.get_by_text(t("Version %(n)s of “%(title)s” was published.", n=2,
                              title="Levnadsvanor"))).to_be_visible()
    close(page)

    # The first citizen's answers still show against version 1.
    reviewer = person_page(browser, live_server, app,
                           staff_cookie(app, world.staff["reviewer"]))
    reviewer.goto(f"/staff/assignments/{token}")
    expect(reviewer.get_by_text("Hur ofta tränar du?")).to_be_visible()
    expect(reviewer.get_by_text("Hur ofta motionerar du?")).to_have_count(0)
    expect(reviewer.get_by_text("Cigarr")).to_be_visible()
    close(reviewer)


# -- keyboard only ----------------------------------------------------------------------------


@pytest.fixture
def keyboard_draft(app: Flask) -> int:
    return make_draft(app, scored_document("d2-keys"))


def tab_to(page: Page, name: str, limit: int = 80) -> None:
    """Press Tab until the focused element's accessible text starts with ``name``."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        text = page.evaluate("document.activeElement && (document.activeElement.innerText "
                             "|| document.activeElement.value || '')")
        if str(text).strip().startswith(name):
            return
    raise AssertionError(f"never reached {name!r} with Tab")


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "plain-posts"])
def test_keyboard_only_reorders_items(browser: Browser, live_server: str, app: Flask,
                                      t: Callable[..., str], keyboard_draft: int,
                                      javascript: bool) -> None:
    from tests.auth.support import staff_session_cookie

    page = person_page(browser, live_server, app, staff_session_cookie(app), javascript=javascript)
    page.goto(f"/design/drafts/{keyboard_draft}/edit")
    if javascript:
        Editor(page, t).ready()
    tab_to(page, "Hur ofta sover du dåligt?")  # the second question, in the tree
    page.keyboard.press("Enter")
    selected = page.locator('[aria-current="true"]')
    expect(selected).to_contain_text("Hur ofta sover du dåligt?")
    if javascript:
        Editor(page, t).ready()
    tab_to(page, t("Move up"))
    page.keyboard.press("Enter")
    # Focus stays on the moved item (now first: "Move up" is at its edge, so "Move down").
    expect(page.locator("#move-down")).to_be_focused()
    expect(page.locator(".tree-row.is-selected")).to_contain_text("Hur ofta sover du dåligt?")
    expect(page.locator("#editor-live")).to_contain_text(t(
        "Moved %(label)s to position %(position)s of %(count)s in %(place)s.",
        label="Hur ofta sover du dåligt?", position=1, count=2, place="Om dig"))
    # And down again, twice: across the section edge onto page 2.
    page.keyboard.press("Enter")
    expect(page.locator("#editor-live")).to_contain_text(t(
        "Moved %(label)s to position %(position)s of %(count)s in %(place)s.",
        label="Hur ofta sover du dåligt?", position=2, count=2, place="Om dig"))
    expect(page.locator("#move-down")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#editor-live")).to_contain_text(t(
        "Moved %(label)s to position %(position)s of %(count)s in %(place)s.",
        label="Hur ofta sover du dåligt?", position=1, count=2, place="Övrigt"))
    expect(page.locator("#move-down")).to_be_focused()
    expect(page.locator(".tree-row.is-selected")).to_contain_text("Hur ofta sover du dåligt?")
    document = document_of(app, keyboard_draft)
    assert [i["name"] for i in document["layout"]["pages"][1]["sections"][0]["items"]] == [
        "sleep", "comment"]
    close(page)


# -- autosave, drag and drop, JSON, hostile texts, conflicts, axe ------------------------------


def test_autosave_drag_and_drop_and_json_checking(page: Page, app: Flask,
                                                  t: Callable[..., str]) -> None:
    draft_id = make_draft(app, scored_document("d2-auto"))
    page.goto(f"/design/drafts/{draft_id}/edit?select=comment")
    editor = Editor(page, t)
    editor.ready()
    # Typing saves by itself, and the tree follows; the field keeps focus and its text.
    field = page.get_by_label(t("Question"), exact=True)
    field.fill("Vill du berätta något mer?")
    expect(editor.tree.locator('[aria-current="true"]')).to_contain_text(
        "Vill du berätta något mer?")
    expect(field).to_be_focused()
    expect(field).to_have_value("Vill du berätta något mer?")
    assert document_of(app, draft_id)["layout"]["pages"][1]["sections"][0]["items"][0][
        "label"] == "Vill du berätta något mer?"

    # Dragging the second question onto the first puts it before it.
    editor.select("Hur ofta sover du dåligt?")
    source = editor.tree.locator(".tree-row", has_text="Hur ofta sover du dåligt?")
    target = editor.tree.locator(".tree-row", has_text="Hur ofta känner du dig nedstämd?")
    source.drag_to(target)
    expect(editor.tree.locator(".tree-item").first).to_contain_text("Hur ofta sover du dåligt?")
    assert [i["name"] for i in document_of(app, draft_id)["layout"]["pages"][0]["sections"][0][
        "items"]] == ["sleep", "mood"]

    # The JSON view checks as you type.
    editor.panel(t("JSON"))
    area = page.get_by_label(t("JSON"), exact=True)
    area.fill('{"formular": 1}')
    expect(page.locator("#json-check")).to_contain_text(re.compile(r"\d"))
    area.fill("{not json")
    expect(page.locator("#json-check")).to_contain_text(t("This is not valid JSON."))


HOSTILE = "<img src=x onerror=alert(1)>"


def test_hostile_texts_show_as_text(page: Page, app: Flask, t: Callable[..., str]) -> None:
    document = scored_document("d2-hostile")
    items = document["layout"]["pages"][0]["sections"][0]["items"]
    items[0]["label"] = HOSTILE
    items[1]["help"] = "[klicka här](javascript:alert(1))"
    draft_id = make_draft(app, document)
    dialogs: list[str] = []

    def refuse(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", refuse)
    page.goto(f"/design/drafts/{draft_id}/edit?select=mood")
    expect(page.get_by_role("navigation", name=re.compile(".")).get_by_text(HOSTILE).first
           ).to_be_visible()
    expect(page.locator("#element-title")).to_contain_text(HOSTILE)
    expect(page.get_by_label(t("Question"), exact=True)).to_have_value(HOSTILE)
    assert page.locator("img[src=x]").count() == 0
    frame = page.frame_locator("#preview-frame")
    expect(frame.get_by_text(HOSTILE).first).to_be_visible()
    assert frame.locator("img[src=x]").count() == 0
    assert frame.locator('a[href^="javascript:"]').count() == 0
    assert not dialogs


def test_a_conflict_loses_nothing(page: Page, app: Flask, t: Callable[..., str],
                                  axe: Axe) -> None:
    draft_id = make_draft(app, scored_document("d2-conflict"))
    page.goto(f"/design/drafts/{draft_id}/edit?select=comment")
    Editor(page, t).ready()
    # Somebody else saves meanwhile.
    with app.app_context():
        draft = db.session.get(DesignDraft, draft_id)
        assert draft is not None
        changed = dict(draft.document)
        changed["title"] = "Ändrad av någon annan"
        drafts.save_document(db.session(), draft, changed, expected_revision=1,
                             staff_user_id=None, action="test")  # type: ignore[arg-type]
        db.session.commit()
    field = page.get_by_label(t("Question"), exact=True)
    field.fill("Min text")
    page.locator("#save-item").click()
    conflict = page.locator("#conflict")
    expect(conflict).to_be_visible()
    expect(conflict).to_be_focused()
    expect(page.get_by_label(t("Question"), exact=True)).to_have_value("Min text")
    assert_no_violations(axe(page), "the editor showing a conflict")
    conflict.get_by_role("button", name=t("Save my change on the latest version")).click()
    expect(page.locator("#conflict")).to_have_count(0)
    document = document_of(app, draft_id)
    assert document["title"] == "Ändrad av någon annan"
    assert document["layout"]["pages"][1]["sections"][0]["items"][0]["label"] == "Min text"


@pytest.mark.parametrize("query", ["select=mood", "select=about", "panel=details",
                                   "panel=policy", "panel=json", "panel=problems"])
def test_axe_finds_nothing_on_the_editor(page: Page, app: Flask, axe: Axe, query: str) -> None:
    draft_id = make_draft(app, scored_document(f"d2-axe-{query.split('=')[1]}"))
    page.goto(f"/design/drafts/{draft_id}/edit?{query}")
    expect(page.locator("#editor")).to_be_visible()
    assert_no_violations(axe(page), f"the editor ({query})")



def test_delete_asks_first(page: Page, app: Flask, t: Callable[..., str], axe: Axe) -> None:
    draft_id = make_draft(app, scored_document("d2-delete"))
    page.goto(f"/design/drafts/{draft_id}/edit?select=comment")
    Editor(page, t).ready()
    page.get_by_role("navigation", name=t("Structure")).get_by_role(
        "button", name=re.compile("^" + re.escape(t("Delete")))).click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_be_focused()
    assert_no_violations(axe(page), "the editor asking before a delete")
    dialog.get_by_role("button", name=t("Yes, delete")).click()
    expect(page.locator("#editor-live")).to_contain_text(
        t("Deleted %(label)s.", label="Något mer du vill berätta?"))
    expect(page.locator("#tree-selected")).to_be_focused()
    assert "comment" not in document_of(app, draft_id)["schema"]["properties"]
