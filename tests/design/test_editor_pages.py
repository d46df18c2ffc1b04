"""The editor page: every panel renders for every kind of element, user texts are escaped, and
the page holds no inline script or style."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask

from tests.conftest import load_design
from tests.functional import staff_support as s

from .workspace_support import make_draft, scored_definition

WORLD_PREFIX = "dedp"


def _showcase(definition_id: str) -> dict[str, Any]:
    document = load_design("showcase")
    document["id"] = definition_id
    document["kind"] = "questionnaire"
    return document


@pytest.fixture(scope="module")
def showcase_draft(sapp: Flask, world: s.World) -> int:
    return make_draft(sapp, world, _showcase("dedp-showcase"))


def edit(client: Any, draft_id: int, **query: str) -> str:
    response = client.get(f"/design/drafts/{draft_id}/edit", query_string=query)
    assert response.status_code == 200, s.body(response)[:2000]
    return s.body(response)


def test_every_element_of_the_showcase_can_be_selected(designer: Any, showcase_draft: int) -> None:
    from formular.design.outline import walk

    for located in walk(_showcase("x")):
        html = edit(designer, showcase_draft, select=located.name)
        assert 'aria-current="true" id="tree-selected"' in html
        assert 'id="element-title"' in html


@pytest.mark.parametrize("panel", ["details", "policy", "scores", "json", "problems"])
def test_every_panel_renders(designer: Any, showcase_draft: int, panel: str) -> None:
    html = edit(designer, showcase_draft, panel=panel)
    assert re.search(r'aria-current="page"', html)


def test_score_and_flag_forms_render(designer: Any, showcase_draft: int) -> None:
    for score in ("stress", "symptom-count", "wellbeing-score", "new"):
        html = edit(designer, showcase_draft, panel="scores", score=score)
        assert 'id="score-form"' in html
    for flag in ("low-wellbeing", "high-stress", "new"):
        html = edit(designer, showcase_draft, panel="scores", flag=flag)
        assert 'id="flag-form"' in html


def test_user_texts_are_escaped_everywhere(sapp: Flask, world: s.World, designer: Any) -> None:
    document = scored_definition("dedp-xss", title="<b>Titel</b>")
    hostile = '<img src=x onerror=alert(1)>'
    document["layout"]["pages"][0]["title"] = hostile
    document["layout"]["pages"][0]["sections"][0]["items"][0]["label"] = hostile
    document["layout"]["pages"][0]["sections"][0]["items"][1]["help"] = (
        "[klicka](javascript:alert(1))")
    draft_id = make_draft(sapp, world, document)
    for query in ({"select": "mood"}, {"select": "about"}, {"panel": "scores", "score": "burden"},
                  {"panel": "json"}, {"panel": "details"}):
        html = edit(designer, draft_id, **query)
        assert "<img src=x" not in html
        assert "<b>Titel</b>" not in html
        assert "&lt;img src=x onerror=alert(1)&gt;" in html or query == {"panel": "details"}
        assert 'href="javascript:' not in html


def test_no_inline_script_or_style(designer: Any, showcase_draft: int) -> None:
    from tests.functional.support import assert_no_inline_script

    html = edit(designer, showcase_draft, select="smoking")
    assert_no_inline_script(html)
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert " style=" not in html
    assert not re.search(r"\son[a-z]+=", html)
