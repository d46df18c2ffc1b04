"""Security headers on every kind of response, no inline script in any page, and the preview
closed (404) outside the demo setting."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from formular import create_app
from tests.conftest import csrf_token
from tests.functional.support import assert_no_inline_script, fill_showcase


def assert_security_headers(response: Any) -> None:
    csp = response.headers.get("Content-Security-Policy", "")
    directives = {part.split()[0]: part.split()[1:] for part in csp.split(";") if part.strip()}
    assert "'unsafe-inline'" not in csp
    assert "'unsafe-eval'" not in csp
    assert directives["script-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert response.headers.get("X-Frame-Options") == "DENY"


@pytest.fixture
def pages(driver: Any) -> list[tuple[str, Any]]:
    """One response of every kind a citizen can meet."""
    form = driver("showcase")
    client = form.client
    collected: list[tuple[str, Any]] = [
        ("home", client.get("/")),
        ("preview index", client.get("/preview/")),
        ("page", form.get(0)),
        ("page with errors", form.post(0, {"name": "<script>x</script>"})),
        ("autosave", form.post(0, {"name": "Tolvan"}, action="autosave")),
        ("not found", client.get("/preview/d/nope/0")),
        ("csrf error", client.post(f"{form.base}/0", data={})),
        ("bad action", form.post(0, {}, action="add:nope")),
    ]
    fill_showcase(form)
    collected.append(("review", form.review()))
    submitted = form.submit()
    collected.append(("submit redirect", submitted))
    collected.append(("receipt", client.get(submitted.headers["Location"])))
    return collected


def test_every_response_has_the_security_headers(pages: list[tuple[str, Any]]) -> None:
    for name, response in pages:
        assert response.status_code < 500, name
        assert_security_headers(response)


def test_form_pages_are_not_cached(pages: list[tuple[str, Any]]) -> None:
    for name, response in pages:
        assert response.headers.get("Cache-Control") == "no-store", name


def test_no_page_has_inline_script(pages: list[tuple[str, Any]]) -> None:
    for name, response in pages:
        if response.mimetype == "text/html":
            html = response.get_data(as_text=True)
            assert_no_inline_script(html)
            assert " onclick=" not in html, name
            assert " onload=" not in html, name


def test_static_script_is_served_with_nosniff(client: Any) -> None:
    response = client.get("/static/js/form.js")
    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "javascript" in response.mimetype


def test_preview_needs_a_staff_log_in(app: Flask) -> None:
    """The preview is for logged-in staff (designers, senders, reviewers), demo or not:
    anonymous visitors are sent to the staff log-in, citizens are refused, and a draft started
    by one staff member is not reachable by another."""
    from tests.auth.support import log_in_as_citizen, log_in_as_staff
    from tests.factories import citizen

    closed = create_app({"DEMO": False, "SECRET_KEY": "x", "TESTING": True,
                         "DATABASE_URL": app.config["DATABASE_URL"]})
    client = closed.test_client()
    home = client.get("/")
    assert home.status_code == 200
    token = csrf_token(home.get_data(as_text=True))
    anonymous = client.get("/preview/")
    assert anonymous.status_code == 302
    assert "/login" in anonymous.headers["Location"]
    assert client.post("/preview/showcase/start",
                       data={"csrf_token": token, "audience": "citizen"}).status_code == 302
    with closed.app_context():
        from formular.storage.db import db

        person = citizen(db.session())
        db.session.commit()
    resident = closed.test_client()
    log_in_as_citizen(resident, closed, person.id)
    assert resident.get("/preview/").status_code == 403
    demo = app.test_client()
    log_in_as_staff(demo, app)
    started = demo.post("/preview/showcase/start", data={
        "csrf_token": csrf_token(demo.get("/preview/").get_data(as_text=True))})
    draft = started.headers["Location"]
    other = closed.test_client()
    log_in_as_staff(other, closed)
    assert other.get(draft).status_code == 404
    assert other.get(draft.rsplit("/", 1)[0] + "/review").status_code == 404
    response = other.get("/preview/")
    assert_security_headers(response)
