"""The editor's live preview (the real renderer in a same-origin frame) and the JSON
validation endpoint of the raw JSON view."""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Flask

from formular.design import drafts
from formular.storage.db import db
from formular.storage.design import DesignDraft
from tests.functional import staff_support as s

from .workspace_support import make_draft, scored_definition

WORLD_PREFIX = "dprv"

_ANSWERS = re.compile(r'name="_answers" value="([^"]*)"')


def _band(html: str) -> str:
    found = re.search(r'data-band="([^"]*)"', html)
    return found.group(1) if found else ""


def test_the_preview_renders_the_draft_with_the_real_renderer(sapp: Flask, world: s.World,
                                                             designer: Any) -> None:
    draft_id = make_draft(sapp, world, scored_definition("dprv-form"))
    response = designer.get(f"/design/drafts/{draft_id}/preview")
    assert response.status_code == 200
    html = s.body(response)
    assert '<html lang="sv">' in html
    assert "Hur ofta känner du dig nedstämd?" in html
    assert 'name="mood"' in html
    assert 'type="radio"' in html
    assert "Aldrig" in html
    assert 'data-element="mood"' in html  # the renderer's own markup
    assert "Belastning" in html  # the score table under the form
    assert "<script>" not in html.replace('<script type="application/json"', "")


def test_the_preview_is_frameable_by_the_same_origin_only(sapp: Flask, world: s.World,
                                                          designer: Any) -> None:
    draft_id = make_draft(sapp, world, scored_definition("dprv-frame"))
    preview = designer.get(f"/design/drafts/{draft_id}/preview")
    assert "frame-ancestors 'self'" in preview.headers["Content-Security-Policy"]
    assert preview.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "script-src 'self'" in preview.headers["Content-Security-Policy"]
    # Every other page stays unframeable, the editor's workspace included.
    for url in ("/design/", f"/design/drafts/{draft_id}"):
        other = designer.get(url)
        assert "frame-ancestors 'none'" in other.headers["Content-Security-Policy"]
        assert other.headers["X-Frame-Options"] == "DENY"


def test_stepping_pages_keeps_answers_and_shows_validation(sapp: Flask, world: s.World,
                                                           designer: Any) -> None:
    draft_id = make_draft(sapp, world, scored_definition("dprv-steps"))
    url = f"/design/drafts/{draft_id}/preview?page=0&lang=sv"
    html = s.body(designer.get(url))
    # Next without answers: the citizen's validation, on the same page.
    response = designer.post(url, data={"csrf_token": s.csrf_of(html), "_answers": "{}",
                                        "_action": "next"})
    assert response.status_code == 200
    text = s.body(response)
    assert 'class="error-summary"' in text
    assert "Hur ofta känner du dig nedstämd?" in text
    # Answer page 1: on to page 2, answers carried in the page (nothing stored).
    response = designer.post(url, data={"csrf_token": s.csrf_of(text), "_answers": "{}",
                                        "mood": "often", "sleep": "always",
                                        "_action": "next"})
    text = s.body(response)
    assert "Något mer du vill berätta?" in text
    carried = json.loads(_ANSWERS.search(text).group(1).replace("&#34;", '"')  # type: ignore
                         .replace("&quot;", '"'))
    assert carried == {"mood": "often", "sleep": "always"}
    assert "Sover alltid dåligt" in text  # the flag, raised by the carried answers
    assert _band(text) == "high"  # 2 + 3 = 5: "Hög" for a subject of unknown age
    # Back keeps the answers of page 1 checked.
    page_two = re.search(r'action="([^"]+)"', text).group(1).replace("&amp;", "&")  # type: ignore
    response = designer.post(page_two, data={
        "csrf_token": s.csrf_of(text), "_answers": json.dumps(carried), "comment": "Hej",
        "_action": "back"})
    text = s.body(response)
    assert re.search(r'value="often"[^>]*checked', text)
    with sapp.app_context():
        row = db.session.get(DesignDraft, draft_id)
        assert row is not None
        assert row.revision == 1


def test_the_simulated_subject_changes_the_band(sapp: Flask, world: s.World,
                                                designer: Any) -> None:
    draft_id = make_draft(sapp, world, scored_definition("dprv-age"))
    answers = json.dumps({"mood": "sometimes", "sleep": "often"})  # 1 + 2 = 3
    for age, band in (("40", "low"), ("70", "high-65")):
        url = f"/design/drafts/{draft_id}/preview?page=1&age={age}&sex=female"
        html = s.body(designer.get(url))
        response = designer.post(url, data={"csrf_token": s.csrf_of(html),
                                            "_answers": answers, "_action": "check"})
        text = s.body(response)
        assert _band(text) == band, age


def test_the_language_switch_renders_texts_and_interface_in_that_language(
        sapp: Flask, world: s.World, designer: Any) -> None:
    draft_id = make_draft(sapp, world, scored_definition("dprv-lang"))
    html = s.body(designer.get(f"/design/drafts/{draft_id}/preview?lang=en"))
    assert '<html lang="en">' in html
    assert "Next" in html
    assert "Nästa" not in html
    # The draft has no English catalog yet: its texts fall back, and the page says so.
    assert "not translated into this language yet" in html
    assert "Hur ofta känner du dig nedstämd?" in html


def test_texts_with_html_or_javascript_links_show_as_text(sapp: Flask, world: s.World,
                                                          designer: Any) -> None:
    document = scored_definition("dprv-xss")
    items = document["layout"]["pages"][0]["sections"][0]["items"]
    items[0]["label"] = "<img src=x onerror=alert(1)> Hur mår du?"
    items[0]["help"] = "<b>fet</b>"
    items.insert(0, {"type": "info", "name": "intro",
                     "text": "[Klicka](javascript:alert(1)) <script>x</script>"})
    draft_id = make_draft(sapp, world, document)
    html = s.body(designer.get(f"/design/drafts/{draft_id}/preview"))
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<b>fet</b>" not in html
    assert "&lt;b&gt;fet&lt;/b&gt;" in html
    assert 'href="javascript:' not in html
    assert "<script>x</script>" not in html
    overview = s.body(designer.get(f"/design/drafts/{draft_id}"))
    assert "<img src=x" not in overview


def test_a_draft_with_problems_previews_its_problem_list(sapp: Flask, world: s.World,
                                                         designer: Any) -> None:
    document = scored_definition("dprv-broken")
    document["layout"]["pages"][0]["sections"][0]["items"][0]["type"] = "nonsense"
    draft_id = make_draft(sapp, world, document)
    # The frame's interface speaks the previewed language (here English, as a citizen's would).
    response = designer.get(f"/design/drafts/{draft_id}/preview?lang=en")
    assert response.status_code == 200
    assert "The preview appears when these problems are fixed" in s.body(response)


def test_bad_preview_parameters_are_400(sapp: Flask, world: s.World, designer: Any) -> None:
    draft_id = make_draft(sapp, world, scored_definition("dprv-params"))
    for query in ("lang=de", "age=200", "sex=other", "page=x", "audience=god"):
        assert designer.get(f"/design/drafts/{draft_id}/preview?{query}").status_code == 400
    html = s.body(designer.get(f"/design/drafts/{draft_id}/preview"))
    response = designer.post(f"/design/drafts/{draft_id}/preview", data={
        "csrf_token": s.csrf_of(html), "_answers": "not json", "_action": "next"})
    assert response.status_code == 400


def test_the_preview_follows_the_latest_save(sapp: Flask, world: s.World,
                                             designer: Any) -> None:
    draft_id = make_draft(sapp, world, scored_definition("dprv-live"))
    with sapp.app_context():
        session = db.session()
        row = session.get(DesignDraft, draft_id)
        assert row is not None
        changed = scored_definition("dprv-live")
        changed["layout"]["pages"][0]["sections"][0]["items"][0]["label"] = "Ny fråga?"
        drafts.save_document(session, row, changed, expected_revision=1,
                             staff_user_id=world.staff["designer"].id, action="op.test")
        session.commit()
    assert "Ny fråga?" in s.body(designer.get(f"/design/drafts/{draft_id}/preview"))


# -- the validation endpoint ---------------------------------------------------------------


def _validate(client: Any, draft_id: int, body: bytes | str) -> Any:
    token = s.csrf_of(s.body(client.get(f"/design/drafts/{draft_id}")))
    return client.post(f"/design/drafts/{draft_id}/validate", data=body,
                       headers={"X-CSRFToken": token, "Content-Type": "application/json",
                                "Accept-Language": "en"})


def test_validate_lists_problems_as_json(sapp: Flask, world: s.World, designer: Any) -> None:
    draft_id = make_draft(sapp, world, scored_definition("dprv-json"))
    ok = _validate(designer, draft_id, json.dumps(scored_definition("dprv-json")))
    assert ok.status_code == 200
    assert ok.get_json() == {"problems": []}
    broken = scored_definition("dprv-json")
    broken["layout"]["pages"][0]["sections"][0]["items"].append(
        dict(broken["layout"]["pages"][0]["sections"][0]["items"][0]))
    response = _validate(designer, draft_id, json.dumps(broken))
    assert response.status_code == 200
    problems = response.get_json()["problems"]
    assert problems
    assert problems[0]["source"] == "lint"
    assert problems[0]["item"] == "mood"
    assert set(problems[0]) >= {"pointer", "message", "source", "item"}


def test_validate_refuses_bad_json_and_oversize(sapp: Flask, world: s.World,
                                                designer: Any) -> None:
    draft_id = make_draft(sapp, world, scored_definition("dprv-badjson"))
    response = _validate(designer, draft_id, "{oops")
    assert response.status_code == 400
    assert response.get_json()["error"] == "This is not valid JSON."
    response = _validate(designer, draft_id, json.dumps({"x": "y" * (2 * 1024 * 1024)}))
    assert response.status_code == 400
    assert "too large" in response.get_json()["error"]


def test_validate_needs_the_csrf_header_and_the_unit(sapp: Flask, world: s.World,
                                                    designer: Any, designer_b: Any) -> None:
    draft_id = make_draft(sapp, world, scored_definition("dprv-csrf"))
    response = designer.post(f"/design/drafts/{draft_id}/validate", data="{}",
                             headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    token = s.fresh_csrf(designer_b)
    response = designer_b.post(f"/design/drafts/{draft_id}/validate", data="{}",
                               headers={"Content-Type": "application/json",
                                        "X-CSRFToken": token})
    assert response.status_code == 404


def test_validate_also_takes_a_plain_form_post(sapp: Flask, world: s.World,
                                               designer: Any) -> None:
    draft_id = make_draft(sapp, world, scored_definition("dprv-form-post"))
    token = s.csrf_of(s.body(designer.get(f"/design/drafts/{draft_id}")))
    response = designer.post(f"/design/drafts/{draft_id}/validate", data={
        "csrf_token": token, "document": json.dumps({"formular": 1})})
    assert response.status_code == 200
    pointers = {p["pointer"] for p in response.get_json()["problems"]}
    assert pointers == {""}  # the missing top-level keys
