"""Importing a definition file: good files become drafts; bad files are refused with a list
of every problem and nothing saved; texts with HTML stay text."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from formular.definitions.loader import MAX_DEFINITION_BYTES
from formular.design.importing import check_import, has_script
from formular.storage.db import db
from formular.storage.design import DesignDraft
from tests.functional import staff_support as s

from .workspace_support import scored_definition

WORLD_PREFIX = "dimp"


def _count(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count(DesignDraft.id))) or 0)


def _import(client: Any, unit_id: int, data: bytes, name: str = "mall.json") -> Any:
    page = client.get(f"/design/new?unit={unit_id}")
    return client.post("/design/new/import", data={
        "csrf_token": s.csrf_of(s.body(page)), "unit": str(unit_id),
        "file": (io.BytesIO(data), name)}, content_type="multipart/form-data",
        headers={"Accept-Language": "en"})


def _refused(app: Flask, client: Any, unit_id: int, data: bytes) -> str:
    before = _count(app)
    response = _import(client, unit_id, data)
    assert response.status_code == 400
    html = s.body(response)
    assert "The file cannot be imported. Nothing was saved." in html
    assert _count(app) == before
    return html


def test_a_good_file_becomes_a_draft(sapp: Flask, world: s.World, designer: Any) -> None:
    data = json.dumps(scored_definition("dimp-good")).encode()
    response = _import(designer, world.unit_id, data)
    assert response.status_code == 302
    with sapp.app_context():
        draft = db.session.scalars(select(DesignDraft).where(
            DesignDraft.definition_id == "dimp-good")).one()
        assert draft.origin == "import"
        assert draft.unit_id == world.unit_id
        assert draft.document == scored_definition("dimp-good")


def test_not_json_is_refused(sapp: Flask, world: s.World, designer: Any) -> None:
    html = _refused(sapp, designer, world.unit_id, b"{\"formular\": 1, oops")
    assert "not valid JSON" in html
    html = _refused(sapp, designer, world.unit_id, b"\xff\xfe not text")
    assert "not UTF-8" in html
    html = _refused(sapp, designer, world.unit_id, b'{"id": "a", "id": "b"}')
    assert "appears twice" in html


def test_a_meta_schema_failure_lists_every_problem(sapp: Flask, world: s.World,
                                                   designer: Any) -> None:
    document = scored_definition("dimp-meta")
    document["title"] = ""
    document["kind"] = "poem"
    del document["layout"]
    html = _refused(sapp, designer, world.unit_id, json.dumps(document).encode())
    for pointer in ("<code>/title</code>", "<code>/kind</code>", "<code>/</code>"):
        assert pointer in html
    assert "layout" in html


def test_an_oversize_file_is_refused(sapp: Flask, world: s.World, designer: Any) -> None:
    document = scored_definition("dimp-big")
    document["description"] = "x" * (MAX_DEFINITION_BYTES + 10)
    html = _refused(sapp, designer, world.unit_id, json.dumps(document).encode())
    assert "too large" in html


def test_a_remote_ref_is_refused(sapp: Flask, world: s.World, designer: Any) -> None:
    document = scored_definition("dimp-ref")
    document["schema"]["properties"]["comment"] = {"$ref": "https://evil.example/s.json"}
    html = _refused(sapp, designer, world.unit_id, json.dumps(document).encode())
    assert "A reference points outside the definition" in html
    assert "evil.example" in html  # named, as text


@pytest.mark.parametrize("text", [
    "<script>alert(1)</script>",
    "Läs [mer](javascript:alert(1))",
    '<img src="x" onerror="alert(1)">',
    "<a href='JaVaScRiPt:alert(1)'>här</a>",
])
def test_script_in_texts_is_refused_and_shown_as_text(sapp: Flask, world: s.World,
                                                       designer: Any, text: str) -> None:
    document = scored_definition("dimp-script")
    document["layout"]["pages"][0]["sections"][0]["items"][0]["help"] = text
    html = _refused(sapp, designer, world.unit_id, json.dumps(document).encode())
    assert "A text contains script" in html
    assert "<script>alert" not in html
    assert "onerror=\"alert" not in html
    assert "/layout/pages/0/sections/0/items/0/help" in html


def test_other_html_in_texts_is_kept_and_shown_as_text(sapp: Flask, world: s.World,
                                                       designer: Any) -> None:
    document = scored_definition("dimp-html")
    document["title"] = "<b>Fet</b> titel"
    response = _import(designer, world.unit_id, json.dumps(document).encode())
    assert response.status_code == 302
    listing = s.body(designer.get(f"/design/?unit={world.unit_id}"))
    assert "&lt;b&gt;Fet&lt;/b&gt; titel" in listing
    assert "<b>Fet</b>" not in listing


def test_lint_problems_do_not_block_an_import(sapp: Flask, world: s.World,
                                              designer: Any) -> None:
    document = scored_definition("dimp-lint")
    document["tests"] = [{"name": "Fel", "answers": {"mood": "never", "sleep": "never"},
                          "expect": {"scores": {"burden": 3}}}]
    response = _import(designer, world.unit_id, json.dumps(document).encode())
    assert response.status_code == 302
    with sapp.app_context():
        assert db.session.scalars(select(DesignDraft).where(
            DesignDraft.definition_id == "dimp-lint")).one() is not None


def test_an_import_under_a_taken_id_is_refused(sapp: Flask, world: s.World,
                                               designer: Any) -> None:
    before = _count(sapp)
    response = _import(designer, world.unit_id, json.dumps(scored_definition("gad-7")).encode())
    assert response.status_code == 400
    assert "another unit or of Formulär" in s.body(response)
    assert _count(sapp) == before


def test_no_file_is_a_clear_error(sapp: Flask, world: s.World, designer: Any) -> None:
    page = designer.get(f"/design/new?unit={world.unit_id}")
    response = designer.post("/design/new/import", data={
        "csrf_token": s.csrf_of(s.body(page)), "unit": str(world.unit_id)},
        headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert "Choose a file to import." in s.body(response)


def test_check_import_and_has_script_directly(sapp: Flask) -> None:
    with sapp.test_request_context():
        document, problems = check_import(json.dumps(scored_definition("dimp-x")).encode())
    assert document is not None
    assert problems == []
    assert has_script("<SCRIPT src=x>")
    assert has_script("vbscript:msgbox")
    assert has_script("data:text/html;base64,PHNjcmlwdD4=")
    assert not has_script("Mätdata: 12 kg")
    assert not has_script("<b>fet</b>")


def test_a_json_value_that_is_not_an_object_is_refused(sapp: Flask, world: s.World,
                                                       designer: Any) -> None:
    html = _refused(sapp, designer, world.unit_id, b"[1, 2, 3]")
    assert "a definition is a JSON object" in html
