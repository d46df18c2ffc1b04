"""Hostile posts: unknown fields, wrong types, oversize answers, markup in answers, forged and
foreign draft tokens, missing CSRF tokens, unknown row actions and hostile file uploads. None
of them may give a 500 or store anything they should not."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from formular.storage.models import Upload
from tests.auth.support import log_in_as_staff
from tests.conftest import csrf_token
from tests.functional.support import (
    assert_no_raw_messages,
    by_id,
    count_rows,
    draft_answers,
    draft_row,
    fill_showcase,
    minimal_definition,
    page_of,
    parse,
    showcase,
    store_design,
    summary_links,
    token_of,
    translate,
)

SCHEMA_NAMES = set(showcase()["schema"]["properties"])


# --- unknown fields and wrong types -----------------------------------------------------------


def test_unknown_fields_are_ignored(driver: Any, app: Flask) -> None:
    form = driver("showcase")
    response = form.post(0, {
        "name": "Tolvan", "birth_date": "1970-05-05", "evil": "x", "__proto__": "y",
        "smoking": "daily", "staff_note": "z", "bmi": "1", "medications-0-drug": "Alvedon",
        "name-0-x": "q", "csrf_token_2": "w", "_revision2": "1",
    })
    assert response.status_code == 302
    answers = draft_answers(app, form)
    assert set(answers) <= SCHEMA_NAMES
    assert answers == {"name": "Tolvan", "birth_date": "1970-05-05"}


def test_wrong_type_for_a_required_integer_keeps_what_was_typed(driver: Any) -> None:
    form = driver("showcase")
    form.post(1, {"smoking": "daily"}, action="save")
    response = form.post(1, {"smoking": "daily", "cigarettes": "abc"})
    assert response.status_code == 200
    dom = parse(response.get_data(as_text=True))
    assert by_id(dom, "f-cigarettes").attrs["value"] == "abc"
    assert "#f-cigarettes" in [href for href, _ in summary_links(dom)]


@pytest.mark.parametrize(("page", "data", "field"), [
    (1, {"smoking": "never", "weight": "abc"}, "weight"),
    (0, {"name": "Tolvan", "birth_date": "1970-05-05", "contact_way": "fax"}, "contact_way"),
])
def test_wrong_type_for_an_optional_field_is_an_error(driver: Any, page: int,
                                                      data: dict[str, str], field: str) -> None:
    form = driver("showcase")
    response = form.post(page, data)
    assert response.status_code == 200, f"moved on to {page_of(response)}"
    dom = parse(response.get_data(as_text=True))
    assert f"#f-{field}" in [href for href, _ in summary_links(dom)]


def test_wrong_types_never_break_a_page(driver: Any) -> None:
    form = driver("showcase")
    posts: list[tuple[int, dict[str, Any]]] = [
        (0, {"birth_date": "31/12/1999", "name": ["a", "b"], "contact_way": "fax"}),
        (1, {"smoking": "sometimes", "cigarettes": "1e400", "weight": "NaN", "height": "inf"}),
        (2, {"symptoms": "everything", "wellbeing": "-1e9", "stress_1": "true"}),
        (3, {"has_medication": "maybe", "medications-x-drug": "a",
             "medications-99999999999999999999-drug": "b", "medications--1-drug": "c"}),
        (4, {"consent": "yes", "photo": "not-a-file", "photo__keep": "forged-token"}),
    ]
    for page, data in posts:
        response = form.post(page, data)
        assert response.status_code in (200, 302), (page, response.status_code)
        assert_no_raw_messages(response.get_data(as_text=True))


# --- oversize ---------------------------------------------------------------------------------


def test_two_megabyte_answer_is_refused_not_500(driver: Any, app: Flask) -> None:
    form = driver("showcase")
    form.post(0, {"name": "Tolvan", "birth_date": "1970-05-05"}, action="save")
    revision = draft_row(app, form).revision
    response = form.post(0, {"name": "x" * (2 * 1024 * 1024), "birth_date": "1970-05-05"})
    assert response.status_code in (200, 413)
    if response.status_code == 200:
        assert "#f-name" in [h for h, _ in summary_links(parse(response.get_data(as_text=True)))]
    else:
        assert draft_row(app, form).revision == revision, "nothing was saved"
        assert draft_answers(app, form)["name"] == "Tolvan"


def test_oversize_multipart_answer_is_refused_not_500(driver: Any) -> None:
    form = driver("showcase")
    response = form.post(4, {"other": "x" * (3 * 1024 * 1024)},
                         content_type="multipart/form-data")
    assert response.status_code in (200, 413)


def test_answer_over_the_field_limit_is_a_field_error(driver: Any, app: Flask) -> None:
    form = driver("showcase")
    response = form.post(0, {"name": "x" * 300_000, "birth_date": "1970-05-05"})
    assert response.status_code == 200
    links = summary_links(parse(response.get_data(as_text=True)))
    assert ("#f-name", translate(app, "Enter at most %(limit)s characters.", limit=100)) in links


def test_too_many_form_fields_is_refused_not_500(driver: Any) -> None:
    form = driver("showcase")
    response = form.post(0, {f"junk{i}": "x" for i in range(3000)})
    assert response.status_code in (200, 302, 413)


# --- markup in answers ------------------------------------------------------------------------

SCRIPT = "</script><script>alert('x')</script><img src=x onerror=alert(1)>"


def test_markup_in_answers_is_escaped_on_the_page_and_the_review(driver: Any) -> None:
    form = driver("showcase")
    fill_showcase(form, {
        0: {"name": "Tolvan " + SCRIPT[:80], "birth_date": "1970-05-05"},
        4: {"consent": "true", "other": SCRIPT + '"><svg onload=alert(2)>'},
    })
    for response in (form.get(0), form.get(4), form.review()):
        html = response.get_data(as_text=True)
        assert "<script>alert" not in html
        assert "<img src=x" not in html
        assert "<svg" not in html
        dom = parse(html)
        for script in dom.find_all("script"):
            assert "src" in script.attrs or script.attrs.get("type") == "application/json"
        for node in dom.iter():
            assert not any(name.startswith("on") for name in node.attrs), node.attrs
    review = form.review().get_data(as_text=True)
    assert "&lt;script&gt;alert(" in review
    assert "&lt;svg onload=alert(2)&gt;" in review
    # The JSON data block cannot be closed by an answer either.
    page = form.get(4).get_data(as_text=True)
    block = page.split('id="form-answers">', 1)[1].split("</script>", 1)[0]
    assert "<" not in block


def test_markup_in_an_invalid_answer_is_escaped_when_shown_again(driver: Any) -> None:
    form = driver("showcase")
    response = form.post(0, {"name": "x", "email": SCRIPT, "birth_date": "1970-05-05"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<script>alert" not in html
    assert by_id(parse(html), "f-email").attrs["value"] == SCRIPT


# --- tokens and CSRF ------------------------------------------------------------------------


def test_forged_draft_token_is_404(driver: Any, client: FlaskClient) -> None:
    form = driver("showcase")
    token = csrf_token(form.get(0).get_data(as_text=True))
    forged = form.base.rsplit("/", 1)[0] + "/" + "A" * 43
    for path in ("/0", "/review", "/receipt"):
        assert client.get(forged + path).status_code == 404
    assert client.post(forged + "/0", data={"csrf_token": token}).status_code == 404
    assert client.post(forged + "/submit", data={"csrf_token": token}).status_code == 404
    assert client.get(form.base + "/99").status_code == 404
    assert client.get(form.base + "/-1").status_code == 404


def test_token_of_another_browser_session_is_404(driver: Any, app: Flask) -> None:
    form = driver("showcase")
    form.post(0, {"name": "Tolvan"}, action="save")
    stranger = app.test_client()
    log_in_as_staff(stranger, app)  # another staff member, in another browser
    home = stranger.get("/preview/").get_data(as_text=True)
    token = csrf_token(home)
    assert stranger.get(f"{form.base}/0").status_code == 404
    assert stranger.get(f"{form.base}/review").status_code == 404
    response = stranger.post(f"{form.base}/0", data={
        "csrf_token": token, "_action": "save", "_revision": "1", "name": "Inkräktare"})
    assert response.status_code == 404
    assert stranger.post(f"{form.base}/submit", data={"csrf_token": token}).status_code == 404
    assert draft_answers(app, form)["name"] == "Tolvan"


def test_post_without_or_with_a_wrong_csrf_token_is_400(driver: Any, app: Flask) -> None:
    form = driver("showcase")
    client = form.client
    response = client.post(f"{form.base}/0", data={"_action": "save", "name": "Tolvan"})
    assert response.status_code == 400
    response = client.post(f"{form.base}/0", data={"_action": "save", "name": "Tolvan",
                                                   "csrf_token": "forged"})
    assert response.status_code == 400
    response = client.post(f"{form.base}/submit", data={})
    assert response.status_code == 400
    assert draft_answers(app, form) == {}
    assert draft_row(app, form).revision == 0


def test_unknown_row_action_is_400(driver: Any, app: Flask) -> None:
    form = driver("showcase")
    for action in ("add:doesnotexist", "add:name", "remove:smoking:0", "add:"):
        response = form.post(3, {"has_medication": "true"}, action=action)
        assert response.status_code == 400, action
    assert draft_row(app, form).revision == 0, "nothing was saved"


# --- hostile uploads --------------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"


@pytest.fixture(scope="module")
def png_design(app: Flask) -> str:
    return store_design(app, minimal_definition(
        "t-hostile-upload",
        [{"type": "file", "name": "scan", "label": "Bild", "accept": ["image/png"],
          "max_size": 1024, "max_count": 2},
         {"type": "text", "name": "note", "label": "Anteckning"}],
        {"scan": {"type": "array", "maxItems": 2},
         "note": {"type": "string", "maxLength": 200}}))


def upload(form: Any, *files: tuple[bytes, str], data: dict[str, Any] | None = None) -> Any:
    payload = {**(data or {}), "scan": [(io.BytesIO(content), name) for content, name in files]}
    return form.post(0, payload, content_type="multipart/form-data")


def uploads_of(app: Flask, form: Any) -> int:
    return count_rows(app, Upload, form)


@pytest.mark.parametrize(("content", "name", "reason"), [
    (PDF, "intyg.png", "The file is not a PDF, PNG, JPEG or GIF file (its content was checked)."),
    (b"<html><script>alert(1)</script></html>", "sida.png",
     "The file is not a PDF, PNG, JPEG or GIF file (its content was checked)."),
    (b"GIF89a" + b"\x00" * 20, "bild.png",
     "The file is not a PDF, PNG, JPEG or GIF file (its content was checked)."),
    (b"", "tom.png", "The file is empty."),
    (PNG + b"\x00" * 2048, "stor.png", "The file is too large."),
    (PNG, "intyg.pdf", "The file name's ending does not match what the file contains. Rename "
     "the file (for example .pdf for a PDF, .jpg for a photo) and attach it again."),
    (PNG, "bild.exe", "The file name's ending does not match what the file contains. Rename "
     "the file (for example .pdf for a PDF, .jpg for a photo) and attach it again."),
], ids=["pdf-as-png", "html-as-png", "gif-not-accepted", "empty", "too-large", "png-as-pdf",
        "png-as-exe"])
def test_refused_file_is_a_field_error_and_not_stored(driver: Any, app: Flask, png_design: str,
                                                      content: bytes, name: str,
                                                      reason: str) -> None:
    form = driver(png_design)
    response = upload(form, (content, name))
    assert response.status_code == 200
    dom = parse(response.get_data(as_text=True))
    assert ("#f-scan", translate(app, reason)) in summary_links(dom)
    assert uploads_of(app, form) == 0
    assert "scan" not in draft_answers(app, form)


def test_too_many_files_stores_only_the_allowed_number(driver: Any, app: Flask,
                                                       png_design: str) -> None:
    form = driver(png_design)
    response = upload(form, (PNG, "1.png"), (PNG, "2.png"), (PNG, "3.png"))
    assert response.status_code == 200
    links = summary_links(parse(response.get_data(as_text=True)))
    assert ("#f-scan", translate(app, "Attach at most %(limit)s files.", limit=2)) in links
    assert uploads_of(app, form) == 2
    assert [f["name"] for f in draft_answers(app, form)["scan"]] == ["1.png", "2.png"]


def test_accepted_file_keeps_a_safe_name_and_the_sniffed_type(driver: Any, app: Flask,
                                                             png_design: str) -> None:
    form = driver(png_design)
    response = upload(form, (PNG, "..\\..\\windows\\<b>bild</b>.png"))
    assert response.status_code == 302
    [stored] = draft_answers(app, form)["scan"]
    assert stored["type"] == "image/png"
    assert "/" not in stored["name"]
    assert "\\" not in stored["name"]
    assert stored["size"] == len(PNG)
    html = form.get(0).get_data(as_text=True)
    assert "<b>bild" not in html


def test_keep_token_of_another_draft_is_ignored(driver: Any, app: Flask,
                                                png_design: str) -> None:
    owner = driver(png_design)
    upload(owner, (PNG, "egen.png"))
    [stored] = draft_answers(app, owner)["scan"]
    thief = driver(png_design)
    response = thief.post(0, {"scan__keep": stored["token"]})
    assert response.status_code == 302
    assert "scan" not in draft_answers(app, thief)
    assert uploads_of(app, thief) == 0
    assert token_of(owner) != token_of(thief)


def test_nul_character_in_an_answer_is_refused_or_removed(driver: Any, app: Flask) -> None:
    form = driver("showcase")
    response = form.post(0, {"name": "Tol\x00van", "birth_date": "1970-05-05"})
    assert response.status_code in (200, 302)
    assert "\\u0000" not in json.dumps(draft_answers(app, form))
