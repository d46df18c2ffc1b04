"""The multi-page flow without JavaScript: next, back, save, follow-up questions, review with
change links, submit and receipt (scores, bands, flags), one submission per draft, stale saves
and autosave."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from formular.definitions.service import compile_definition
from formular.storage.db import db
from formular.storage.models import Submission
from tests.conftest import csrf_token
from tests.functional.support import (
    VALID_PAGES,
    assert_accessible,
    assert_no_raw_messages,
    count_rows,
    draft_answers,
    draft_row,
    fill_showcase,
    page_of,
    parse,
    showcase,
    summary_links,
    translate,
)


def revision_on(html: str) -> int:
    found = re.search(r'name="_revision" value="(\d+)"', html)
    assert found
    return int(found.group(1))


def raw_post(form: Any, page: int, data: dict[str, Any], revision: int,
             action: str = "next") -> Any:
    """A post built by hand, with the given revision (as a second tab would send it)."""
    token = csrf_token(form.get(page).get_data(as_text=True))
    return form.client.post(f"{form.base}/{page}", data={
        "csrf_token": token, "_action": action, "_revision": str(revision), **data})


# --- next, back, save -------------------------------------------------------------------------


def test_next_back_and_save(driver: Any, app: Flask) -> None:
    form = driver("showcase")
    html = form.get(0).get_data(as_text=True)
    dom = assert_accessible(html)
    buttons = {b.attrs.get("value") for b in dom.find_all("button")}
    assert "back" not in buttons, "the first page has no way back"
    assert {"save", "next"} <= buttons

    response = form.post(0, VALID_PAGES[0])
    assert response.status_code == 302
    assert page_of(response) == "1"

    response = form.post(1, {"smoking": "former", "quit_year": "2001"}, action="back")
    assert response.status_code == 302
    assert page_of(response) == "0"
    assert draft_answers(app, form)["quit_year"] == 2001, "going back keeps what was typed"

    response = form.post(0, {**VALID_PAGES[0], "email": "tolvan@exempel.se"}, action="save")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert translate(app, "Your answers have been saved.") in html
    assert 'value="tolvan@exempel.se"' in html
    assert draft_answers(app, form)["email"] == "tolvan@exempel.se"
    # Reloading shows the saved answers.
    again = parse(form.get(0).get_data(as_text=True))
    assert again.find(id="f-email") is not None
    assert again.find(id="f-email").attrs["value"] == "tolvan@exempel.se"  # type: ignore[union-attr]


def test_follow_up_question_is_shown_before_moving_on(driver: Any, app: Flask) -> None:
    form = driver("showcase")
    response = form.post(1, {"smoking": "daily"})
    assert response.status_code == 200, "the page is shown again with the new question"
    html = response.get_data(as_text=True)
    dom = assert_accessible(html)
    assert translate(app, "Your answers led to more questions on this page.") in html
    field = dom.find(data_element="cigarettes")
    assert field is not None
    assert "hidden" not in field.attrs
    assert summary_links(dom) == [], "no error for a question the filler has not seen yet"

    response = form.post(1, {"smoking": "daily"})
    dom = assert_accessible(response.get_data(as_text=True))
    assert summary_links(dom) == [("#f-cigarettes", translate(app, "Answer this question."))]

    response = form.post(1, {"smoking": "daily", "cigarettes": "10"})
    assert response.status_code == 302
    assert page_of(response) == "2"


# --- review -----------------------------------------------------------------------------------


def test_review_lists_every_visible_answer_with_change_links(driver: Any, app: Flask) -> None:
    form = driver("showcase")
    fill_showcase(form)
    response = form.review()
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert_no_raw_messages(html)
    dom = parse(html)
    rows = dom.find_all("div", class_="review-row")
    labels = [row.find("dt").text() for row in rows]  # type: ignore[union-attr]

    compiled = compile_definition(showcase())
    hidden = {"cigarettes", "quit_year", "pain_where", "medications", "staff_note"}
    expected = []
    for page in compiled.pages:
        for item in page.items():
            if item.type == "info" or item.name in hidden:
                continue
            if item.type == "matrix":
                expected += [row.label for row in item.rows]
            else:
                expected.append(item.label)
    assert labels == expected

    answers = dict(zip(labels, [row.find_all("dd")[0].text() for row in rows], strict=True))
    assert answers["Namn"] == "Tolvan Tolvansson"
    assert answers["Röker du?"] == "Nej, har aldrig rökt"
    assert answers["Vilka besvär har du haft den senaste veckan?"] == "Oro, Sömnproblem" or (
        answers["Vilka besvär har du haft den senaste veckan?"] == "Sömnproblem, Oro")
    assert answers["Tar du några läkemedel?"] == translate(app, "No")
    assert answers["E-postadress"] == translate(app, "Not answered")

    # Every change link opens the page of its question at the question's id.
    pages: dict[str, Any] = {}
    for row in rows:
        link = row.find("a")
        assert link is not None
        assert link.text().startswith(translate(app, "Change"))
        target, _sep, fragment = link.attrs["href"].partition("#")
        assert target.startswith(form.base)
        if target not in pages:
            page = form.client.get(target)
            assert page.status_code == 200, target
            pages[target] = parse(page.get_data(as_text=True))
        assert pages[target].find(id=fragment) is not None, link.attrs["href"]
    # No problems: the send button is there.
    assert dom.find(id="error-summary") is None
    assert dom.find("form", action=f"{form.base}/submit") is not None


def test_review_lists_answers_of_group_rows(driver: Any) -> None:
    form = driver("showcase")
    fill_showcase(form, {3: {"has_medication": "true", "medications-0-drug": "Alvedon",
                             "medications-0-dose_mg": "500", "medications-0-as_needed": "false",
                             "medications-1-drug": "Ipren", "medications-1-as_needed": "true",
                             "medications-1-as_needed_reason": "Vid huvudvärk"}})
    dom = parse(form.review().get_data(as_text=True))
    rows = {row.find("dt").text(): row for row in dom.find_all("div", class_="review-row")}  # type: ignore[union-attr]
    assert rows["Läkemedel 1: Läkemedlets namn"].find("dd").text() == "Alvedon"  # type: ignore[union-attr]
    assert rows["Läkemedel 2: När tar du det?"].find("dd").text() == "Vid huvudvärk"  # type: ignore[union-attr]
    assert "Läkemedel 1: När tar du det?" not in rows, "a hidden row child is not listed"
    link = rows["Läkemedel 2: Läkemedlets namn"].find("a")
    assert link is not None
    assert link.attrs["href"].endswith("/3#f-medications-1-drug")


# --- submit and receipt -----------------------------------------------------------------------


def submissions_of(app: Flask, form: Any) -> list[Submission]:
    draft_id = draft_row(app, form).id
    with app.app_context():
        rows = list(db.session.scalars(select(Submission).where(Submission.draft_id == draft_id)))
        for row in rows:
            db.session.expunge(row)
        return rows


def test_submit_shows_receipt_with_scores_bands_and_flags(driver: Any, app: Flask) -> None:
    form = driver("showcase")
    # Answers to a hidden question and to a staff-only one are posted along.
    fill_showcase(form, {1: {**VALID_PAGES[1], "cigarettes": "20"},
                         4: {**VALID_PAGES[4], "staff_note": "Från medborgaren"}})
    response = form.submit()
    assert response.status_code == 302
    assert page_of(response) == "receipt"
    receipt = form.client.get(response.headers["Location"])
    assert receipt.status_code == 200
    html = receipt.get_data(as_text=True)
    dom = parse(html)
    [submission] = submissions_of(app, form)
    assert submission.receipt in html
    stress = dom.find("tr", data_score="stress")
    assert stress is not None
    assert stress.find_all("td")[0].text() == "14"
    assert stress.find_all("td")[1].text() == "Hög stress"
    assert submission.scores["scores"]["stress"]["band"]["id"] == "high"
    assert dom.find("li", data_flag="high-stress") is not None
    assert submission.scores["scores"]["wellbeing-score"]["value"] == 7
    assert [f["id"] for f in submission.scores["flags"]] == ["high-stress"]
    assert submission.answers["bmi"] == 24.7
    assert "cigarettes" not in submission.answers
    assert "staff_note" not in submission.answers
    assert set(submission.answers) <= set(showcase()["schema"]["properties"])


PHQ_14 = {"phq1": "2", "phq2": "2", "phq3": "2", "phq4": "2", "phq5": "2", "phq6": "2",
          "phq7": "1", "phq8": "0", "phq9": "1"}


def test_phq9_receipt_moderate_band_and_item_nine_flag(driver: Any, app: Flask) -> None:
    form = driver("phq-9")
    response = form.post(0, PHQ_14)
    # Question 10 appears because some answer is above 0.
    assert response.status_code == 302
    assert page_of(response) == "1"
    response = form.post(1, {"phq10": "ganska-svart"})
    assert response.status_code == 302
    assert page_of(response) == "review"
    response = form.submit()
    assert page_of(response) == "receipt"
    dom = parse(form.client.get(response.headers["Location"]).get_data(as_text=True))
    row = dom.find("tr", data_score="phq-9")
    assert row is not None
    cells = row.find_all("td")
    assert cells[0].text() == "14"
    band = cells[1].find("span")
    assert band is not None
    assert band.text() == "Måttliga symtom"
    assert band.has_class("severity-moderate")
    flag = dom.find("li", data_flag="phq9-item9")
    assert flag is not None
    assert flag.has_class("severity-critical")
    [submission] = submissions_of(app, form)
    score = submission.scores["scores"]["phq-9"]
    assert score["value"] == 14
    assert score["band"]["id"] == "moderate"
    assert [f["id"] for f in submission.scores["flags"]] == ["phq9-item9"]


def test_phq9_all_zero_gives_minimal_band_and_no_flag(driver: Any, app: Flask) -> None:
    form = driver("phq-9")
    form.post(0, {f"phq{n}": "0" for n in range(1, 10)})
    form.submit()
    [submission] = submissions_of(app, form)
    assert submission.scores["scores"]["phq-9"]["band"]["id"] == "minimal"
    assert submission.scores["flags"] == []


def test_page_whose_questions_are_all_hidden_is_skipped(driver: Any) -> None:
    form = driver("phq-9")
    response = form.post(0, {f"phq{n}": "0" for n in range(1, 10)})
    assert page_of(response) == "review"
    assert form.get(1).status_code == 302
    app = form.client.application
    assert translate(app, "Page %(n)s of %(total)s", n=1, total=1) in form.get(0).get_data(
        as_text=True)


def test_second_submit_stores_exactly_one_submission(driver: Any, app: Flask) -> None:
    form = driver("phq-9")
    form.post(0, PHQ_14)
    form.post(1, {"phq10": "inte-svart"})
    token = csrf_token(form.review().get_data(as_text=True))
    first = form.client.post(f"{form.base}/submit", data={"csrf_token": token})
    second = form.client.post(f"{form.base}/submit", data={"csrf_token": token})
    assert first.status_code == second.status_code == 302
    assert page_of(first) == page_of(second) == "receipt"
    assert count_rows(app, Submission, form) == 1
    # After submitting, posting a page changes nothing and leads to the receipt.
    response = form.client.post(f"{form.base}/0", data={
        "csrf_token": token, "_action": "next", "_revision": "99", **{"phq1": "0"}})
    assert page_of(response) == "receipt"
    [submission] = submissions_of(app, form)
    assert submission.answers["phq1"] == 2


def test_submit_with_problems_goes_back_to_review(driver: Any, app: Flask) -> None:
    form = driver("phq-9")
    form.post(0, {"phq1": "1"}, action="save")
    response = form.submit()
    assert page_of(response) == "review"
    assert count_rows(app, Submission, form) == 0
    receipt = form.client.get(f"{form.base}/receipt")
    assert page_of(receipt) == "review"


# --- stale saves and autosave ---------------------------------------------------------------


def test_stale_save_returns_409_and_does_not_overwrite(driver: Any, app: Flask) -> None:
    form = driver("showcase")
    old = revision_on(form.get(0).get_data(as_text=True))
    saved = form.post(0, {"name": "Nyare Namn", "birth_date": "1970-05-05"}, action="save")
    assert saved.status_code == 200
    response = raw_post(form, 0, {"name": "Gammalt Namn", "birth_date": "1970-05-05"}, old)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert translate(app, "These answers were changed in another window or on another device, "
                     "so nothing was saved. Check the answers below and save again to keep "
                     "them.") in html
    assert 'value="Gammalt Namn"' in html, "what the stale tab sent is still on screen"
    assert draft_answers(app, form)["name"] == "Nyare Namn"
    # Saving again from the refreshed page works.
    assert revision_on(html) == draft_row(app, form).revision
    response = raw_post(form, 0, {"name": "Gammalt Namn", "birth_date": "1970-05-05"},
                        revision_on(html), action="save")
    assert response.status_code == 200
    assert draft_answers(app, form)["name"] == "Gammalt Namn"


def test_autosave_returns_revision_and_409_json_when_stale(driver: Any, app: Flask) -> None:
    form = driver("showcase")
    old = revision_on(form.get(0).get_data(as_text=True))
    response = form.post(0, {"name": "Tolvan"}, action="autosave")
    assert response.status_code == 200
    assert response.is_json
    revision = response.get_json()["revision"]
    assert revision == draft_row(app, form).revision == old + 1
    assert draft_answers(app, form)["name"] == "Tolvan"

    response = raw_post(form, 0, {"name": "Inaktuell"}, old, action="autosave")
    assert response.status_code == 409
    assert response.is_json
    body = response.get_json()
    assert set(body) == {"error"}
    assert body["error"] == translate(
        app, "These answers were changed in another window. Reload the page to see the "
        "latest version.")
    assert draft_answers(app, form)["name"] == "Tolvan"
    assert draft_row(app, form).revision == revision


def test_autosave_needs_the_csrf_token(driver: Any, client: FlaskClient, app: Flask) -> None:
    form = driver("showcase")
    response = client.post(f"{form.base}/0", data={"_action": "autosave", "_revision": "0",
                                                   "name": "Tolvan"})
    assert response.status_code == 400
    assert "name" not in draft_answers(app, form)
