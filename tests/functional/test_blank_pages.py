"""A blank page's questions are drawn once per worker and reused (``Filler._render``).

What may be reused is exactly what does not depend on the person: the cache must never show
one person's answers to another, a page in the wrong language, or yesterday's date limits.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from formular.web import filling
from tests.functional.support import minimal_definition, parse, store_design
from tests.i18n.test_content import switch_language

ITEMS = [{"type": "text", "name": "note", "label": "Anteckning"},
         {"type": "yes-no", "name": "smokes", "label": "Röker du?"},
         {"type": "text", "name": "brand", "label": "Vilket märke?"}]
PROPERTIES = {"note": {"type": "string", "maxLength": 50}, "smokes": {"type": "boolean"},
              "brand": {"type": "string", "maxLength": 50}}
RULES = [{"id": "brand", "when": {"==": [{"var": "smokes"}, True]}, "show": ["brand"]}]


@pytest.fixture(scope="module")
def design(app: Flask) -> str:
    return store_design(app, minimal_definition("t-blank-pages", ITEMS, PROPERTIES,
                                                rules=RULES))


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The question sections drawn (rather than taken from the cache) during a test."""
    calls: list[str] = []
    real = filling.render_template

    def spy(name: str, **context: Any) -> str:
        if name == "form/_sections.html":
            calls.append(name)
        return real(name, **context)

    monkeypatch.setattr(filling, "render_template", spy)
    return calls


def questions(response: Any) -> str:
    """The page's question sections, as HTML."""
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    start = html.index('<section class="form-section"')
    return html[start:html.index('<div class="actions">', start)]


def test_a_blank_page_is_drawn_once_for_everybody(driver: Any, design: str,
                                                  drawn: list[str]) -> None:
    first = questions(driver(design).get(0))
    second = questions(driver(design).get(0))
    assert first == second
    assert 'name="note"' in first
    assert len(drawn) <= 1, "the second blank page came from the cache"


def test_a_page_with_answers_is_drawn_with_them(driver: Any, design: str,
                                                drawn: list[str]) -> None:
    blank = questions(driver(design).get(0))
    form = driver(design)
    assert form.post(0, {"note": "Mitt eget svar", "smokes": "true", "brand": "Ett märke"},
                     action="save").status_code == 200
    mine = questions(form.get(0))
    assert "Mitt eget svar" in mine
    assert "Ett märke" in mine
    assert drawn, "a page with answers is drawn for its owner"
    # Nobody else sees them: a new filler still gets the blank questions.
    assert questions(driver(design).get(0)) == blank
    assert "Mitt eget svar" not in blank


def test_the_blank_questions_follow_the_visibility_of_the_empty_draft(
        driver: Any, design: str) -> None:
    blank = parse(questions(driver(design).get(0)))
    brand = [node for node in blank.iter() if node.attrs.get("data-element") == "brand"]
    assert len(brand) == 1
    assert "hidden" in brand[0].attrs, "the follow-up starts hidden"


def test_the_cached_questions_follow_the_language(driver: Any, client: FlaskClient) -> None:
    form = driver("phq-9")
    swedish = form.get(0).get_data(as_text=True)
    assert "Lite intresse eller glädje" in questions(form.get(0))
    switch_language(client, swedish, "en", f"{form.base}/0")
    english = questions(form.get(0))
    assert "Little interest or pleasure" in english
    assert "Lite intresse" not in english
    switch_language(client, form.get(0).get_data(as_text=True), "sv", f"{form.base}/0")
    assert "Lite intresse eller glädje" in questions(driver("phq-9").get(0))


def test_the_cache_is_bounded_and_per_app(app: Flask) -> None:
    with app.app_context():
        cache = filling.blank_sections()
        assert cache is filling.blank_sections()
        assert cache.size == 512
    other = Flask("other")
    with other.app_context():
        assert filling.blank_sections() is not cache
