"""The editor's pages: who may use them, saving with reasons, and edits seen by every worker."""

from __future__ import annotations

import time

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale, gettext
from markupsafe import escape

from formular import create_app
from formular.i18n import editor, overlay
from formular.i18n.service import LoadedCatalog
from formular.storage.identity import Role
from tests.auth.support import log_in_as_staff

from .conftest import form_values

SOURCE = "Save and continue later"


def key_of(app: Flask, msgid: str = SOURCE, domain: str = "messages",
           locale: str = "sv") -> str:
    with app.app_context():
        return next(e.key for e in editor.entries(domain, locale) if e.msgid == msgid)


def swedish(app: Flask, msgid: str = SOURCE) -> str:
    with app.test_request_context("/"), force_locale("sv"):
        return str(gettext(msgid))


def test_anonymous_is_sent_to_log_in(client: FlaskClient) -> None:
    response = client.get("/translate/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("role", [Role.SENDER, Role.REVIEWER, Role.ADMIN, Role.AUDITOR])
def test_only_translators(app: Flask, role: Role) -> None:
    client = app.test_client()
    log_in_as_staff(client, app, roles=(role,))
    assert client.get("/translate/").status_code == 403
    assert client.get("/translate/sv/messages.po").status_code == 403


def test_designers_read_progress_but_do_not_edit(app: Flask) -> None:
    client = app.test_client()
    log_in_as_staff(client, app, roles=(Role.DESIGNER,))
    assert client.get("/translate/").status_code == 200
    assert client.get("/translate/sv/messages/import").status_code == 403


def test_overview_shows_progress(translator: FlaskClient) -> None:
    html = translator.get("/translate/").get_data(as_text=True)
    assert html.count("<progress") >= 4  # sv and en: the interface and every form
    assert "PHQ-9" in html
    assert "/translate/sv/designs/?form=phq-9" in html


def test_unknown_language_or_entry(translator: FlaskClient) -> None:
    assert translator.get("/translate/fi/messages/").status_code == 404
    assert translator.get("/translate/sv/other/").status_code == 404
    assert translator.get("/translate/sv/messages/entry/nope").status_code == 404


def test_filters_and_search(app: Flask, translator: FlaskClient) -> None:
    html = translator.get("/translate/sv/messages/?state=all&q=continue+later").get_data(
        as_text=True)
    assert SOURCE in html
    html = translator.get("/translate/sv/messages/?state=stale").get_data(as_text=True)
    assert SOURCE not in html


def test_entry_shows_where_a_form_text_is_used(app: Flask, translator: FlaskClient) -> None:
    with app.app_context():
        item = next(e for e in editor.entries("designs", "en")
                    if e.group == "phq-9" and "/items/" in e.pointer)
    html = translator.get(f"/translate/en/designs/entry/{item.key}").get_data(as_text=True)
    assert "PHQ-9" in html
    assert item.context in html


def test_save_and_see_it_without_restart(app: Flask, translator: FlaskClient) -> None:
    before = swedish(app)
    url = f"/translate/sv/messages/entry/{key_of(app)}"
    response = translator.post(url, data={**form_values(translator.get(url).get_data(
        as_text=True)), "msgstr-0": "Spara och fortsätt en annan dag"})
    assert response.status_code == 302
    assert swedish(app) == "Spara och fortsätt en annan dag" != before


@pytest.mark.parametrize(("hostile", "reason"), [
    ("<img src=x onerror=alert(1)>", "Event attributes (on…=) are not allowed in a translation."),
    ("<script>alert(1)</script>", "Scripts are not allowed in a translation."),
])
def test_hostile_translation_is_refused_at_the_field(app: Flask, translator: FlaskClient,
                                                     hostile: str, reason: str) -> None:
    url = f"/translate/sv/messages/entry/{key_of(app)}"
    response = translator.post(url, data={**form_values(translator.get(url).get_data(
        as_text=True)), "msgstr-0": hostile})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'aria-invalid="true"' in html
    assert str(escape(swedish(app, reason))) in html
    assert hostile not in html
    assert str(escape(hostile)) in html
    assert swedish(app) != hostile


def test_plural_entry_has_a_field_per_form(app: Flask, translator: FlaskClient) -> None:
    with app.app_context():
        plural = next(e for e in editor.entries("messages", "sv") if e.plural)
    html = translator.get(f"/translate/sv/messages/entry/{plural.key}").get_data(as_text=True)
    assert 'name="msgstr-0"' in html
    assert 'name="msgstr-1"' in html
    assert 'name="msgstr-2"' not in html


def test_edit_is_seen_by_another_worker(app: Flask, translator: FlaskClient) -> None:
    """Two app instances on one database stand for two worker processes."""
    other = create_app({**{k: app.config[k] for k in (
        "TESTING", "DEMO", "SECRET_KEY", "DATABASE_URL", "SERVER_NAME", "MAIL_OUTBOX_DIR")},
        "TRANSLATION_OVERLAY_TTL": 0.2})
    before = swedish(other)  # the other worker has read (and cached) the catalog
    url = f"/translate/sv/messages/entry/{key_of(app)}"
    response = translator.post(url, data={**form_values(translator.get(url).get_data(
        as_text=True)), "msgstr-0": "Spara till senare"})
    assert response.status_code == 302
    deadline = time.monotonic() + 3
    while swedish(other) == before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert swedish(other) == "Spara till senare"


def test_designs_overlay_for_the_content_runtime(app: Flask) -> None:
    from formular.i18n.content import Translation

    with app.app_context():
        item = next(e for e in editor.entries("designs", "en") if e.group == "phq-9")
    shipped = LoadedCatalog({item.context: Translation(item.msgid, item.shipped[0])}, "abc")
    with app.app_context():
        assert overlay.overlay_designs("en", shipped) is shipped  # no edits yet
        from formular.storage.db import db

        with db.transaction() as session:
            assert editor.save(session, item, ["Edited text"], None, 0).outcome == "saved"
        overlay.invalidate()
        laid = overlay.overlay_designs("en", shipped)
        assert laid.entries[item.context] == Translation(item.msgid, "Edited text")
        assert laid.version != shipped.version
        assert overlay.translated("designs", "en", item.context, item.msgid,
                                  "fallback") == "Edited text"
        assert overlay.translated("designs", "en", item.context, "another source",
                                  "fallback") == "fallback"
    assert overlay.overlay_designs("en", shipped) is shipped  # outside an app
