"""Policy ``review: false``: the last page's button sends the answers in the same request.

Short surveys need no review step; a problem found on another page still leads to the review
page's list of problems, and a page that a skip rule makes non-final keeps its "Next".
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from formular.storage.db import db
from formular.storage.models import Submission
from tests.functional.support import (
    assert_accessible,
    draft_row,
    minimal_definition,
    parse,
    store_design,
)

ITEMS = [{"type": "text", "name": "note", "label": "Anteckning"},
         {"type": "integer", "name": "age", "label": "Ålder"}]
PROPERTIES = {"note": {"type": "string", "maxLength": 50},
              "age": {"type": "integer", "minimum": 0, "maximum": 130}}


@pytest.fixture(scope="module")
def one_page(app: Flask) -> str:
    return store_design(app, minimal_definition(
        "t-no-review", ITEMS, PROPERTIES, required=["note"],
        policy={"review": False}))


@pytest.fixture(scope="module")
def two_pages(app: Flask) -> str:
    document = minimal_definition("t-no-review-two", ITEMS, PROPERTIES, required=["note"],
                                  policy={"review": False})
    first = document["layout"]["pages"][0]
    first["sections"][0]["items"] = [ITEMS[0]]
    document["layout"]["pages"].append(
        {"id": "second", "title": "Andra", "sections": [{"id": "more", "items": [ITEMS[1]]}]})
    document["schema"]["required"] = ["note", "age"]
    return store_design(app, document)


def buttons(html: str) -> set[str]:
    return {str(b.attrs.get("value")) for b in parse(html).find_all("button")}


def submissions(app: Flask, form: Any) -> list[Submission]:
    draft_id = draft_row(app, form).id
    with app.app_context():
        return list(db.session.scalars(select(Submission).where(
            Submission.draft_id == draft_id)))


def test_the_last_page_sends_at_once(driver: Any, app: Flask, one_page: str) -> None:
    form = driver(one_page)
    html = form.get(0).get_data(as_text=True)
    assert_accessible(html)
    assert "send" in buttons(html)
    assert "next" not in buttons(html)

    response = form.post(0, {"note": "Hej", "age": "50"}, action="send")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/receipt")
    stored = submissions(app, form)
    assert len(stored) == 1
    assert stored[0].answers == {"note": "Hej", "age": 50}


def test_errors_stay_on_the_page_and_nothing_is_sent(driver: Any, app: Flask,
                                                     one_page: str) -> None:
    form = driver(one_page)
    response = form.post(0, {"note": "", "age": "abc"}, action="send")
    assert response.status_code == 200
    assert submissions(app, form) == []
    assert "send" in buttons(response.get_data(as_text=True))


def test_a_replayed_send_stores_one_submission(driver: Any, app: Flask, one_page: str) -> None:
    form = driver(one_page)
    assert form.post(0, {"note": "En gång"}, action="send").status_code == 302
    again = form.post(0, {"note": "Två gånger"}, action="send")
    assert again.status_code == 302
    assert again.headers["Location"].endswith("/receipt")
    stored = submissions(app, form)
    assert [s.answers["note"] for s in stored] == ["En gång"]


def test_only_the_last_page_sends(driver: Any, app: Flask, two_pages: str) -> None:
    form = driver(two_pages)
    first = form.get(0).get_data(as_text=True)
    assert "next" in buttons(first)
    assert "send" not in buttons(first)
    # "send" posted from a page that is not the last one only moves on.
    response = form.post(0, {"note": "Hej"}, action="send")
    assert response.headers["Location"].endswith("/1")
    assert submissions(app, form) == []
    assert "send" in buttons(form.get(1).get_data(as_text=True))
    response = form.post(1, {"age": "51"}, action="send")
    assert response.headers["Location"].endswith("/receipt")
    assert len(submissions(app, form)) == 1


def test_with_a_review_page_send_is_only_next(driver: Any, app: Flask) -> None:
    """Forms with the default policy ignore a forged ``send``: the review page comes first."""
    design = store_design(app, minimal_definition("t-with-review", ITEMS, PROPERTIES))
    form = driver(design)
    assert "send" not in buttons(form.get(0).get_data(as_text=True))
    response = form.post(0, {"note": "Hej"}, action="send")
    assert response.headers["Location"].endswith("/review")
    assert submissions(app, form) == []


def test_a_send_that_fails_leaves_nothing_half_written(driver: Any, app: Flask, one_page: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A clean "send" stores the page's answers and the submission in one transaction: if
    storing the submission fails, the draft keeps its earlier answers and revision."""
    from formular.web import filling

    form = driver(one_page)
    assert form.post(0, {"note": "Först"}, action="save").status_code == 200
    before = draft_row(app, form)

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(filling.drafts, "submit", broken)
    try:
        response = form.post(0, {"note": "Sedan"}, action="send")
    except RuntimeError:
        pass
    else:
        assert response.status_code == 500
    after = draft_row(app, form)
    assert after.answers == {"note": "Först"}
    assert after.revision == before.revision
    assert after.submitted_at is None
    assert submissions(app, form) == []
