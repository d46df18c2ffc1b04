"""A unit's saved message texts (``/admin/texts``): the unit's administrator adds, edits and
deletes them, senders find them in the send-out form, another unit's administrator sees
nothing, bad input is answered at the field, every change is in the event log, and a
send-out keeps its copy of a text deleted afterwards."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select

from formular.storage.audit import EventLog
from formular.storage.db import db
from formular.storage.sendouts import SavedText, SendOut
from tests.functional import staff_support as s
from tests.functional.support import assert_no_raw_messages, translate

#: Prefix of this module's objects in the shared database (see tests/functional/conftest.py).
WORLD_PREFIX = "txt"


def _texts(app: Flask, unit_id: int) -> list[tuple[str, str]]:
    with app.app_context():
        return [(t.title, t.body) for t in db.session.scalars(
            select(SavedText).where(SavedText.unit_id == unit_id).order_by(SavedText.id))]


def _text_id(app: Flask, unit_id: int, title: str) -> int:
    with app.app_context():
        found = db.session.scalar(select(SavedText.id).where(
            SavedText.unit_id == unit_id, SavedText.title == title))
        assert found is not None
        return int(found)


def _post(client: Any, url: str, **data: str) -> Any:
    return client.post(url, data={"csrf_token": s.fresh_csrf(client), **data})


def test_the_administrator_keeps_the_units_texts(sapp: Flask, world: s.World) -> None:
    admin = s.staff_client(sapp, world.staff["admin"])
    base = f"/admin/texts/{world.unit_id}"
    assert s.location(admin.get("/admin/texts/")).endswith(f"{base}/")
    empty = admin.get(f"{base}/")
    assert empty.status_code == 200
    assert translate(sapp, "The unit has no saved message texts yet.") in s.body(empty)
    added = _post(admin, f"{base}/new", title="Inför ditt besök",
                  body="Fyll i formuläret <b>före</b> besöket.")
    assert s.location(added).endswith(f"{base}/")
    listing = s.body(admin.get(f"{base}/"))
    assert "Inför ditt besök" in listing
    assert "&lt;b&gt;före&lt;/b&gt;" in listing  # user-authored text is escaped
    assert "<b>före</b>" not in listing
    text_id = _text_id(sapp, world.unit_id, "Inför ditt besök")
    edit_page = s.body(admin.get(f"{base}/{text_id}"))
    assert "Fyll i formuläret" in edit_page
    assert_no_raw_messages(edit_page)
    changed = _post(admin, f"{base}/{text_id}", title="Inför ditt besök på mottagningen",
                    body="Fyll i formuläret senast dagen före.")
    assert changed.status_code == 302
    assert _texts(sapp, world.unit_id) == [
        ("Inför ditt besök på mottagningen", "Fyll i formuläret senast dagen före.")]
    with sapp.app_context():
        events = db.session.scalars(select(EventLog.event).where(
            EventLog.object_type == "saved_text", EventLog.object_id == text_id)
            .order_by(EventLog.id)).all()
    assert events == ["saved-text.created", "saved-text.changed"]


def test_bad_input_is_answered_at_the_field_and_nothing_is_saved(sapp: Flask,
                                                                 world: s.World) -> None:
    admin = s.staff_client(sapp, world.staff["admin"])
    base = f"/admin/texts/{world.unit_id}"
    before = _texts(sapp, world.unit_id)
    blank = _post(admin, f"{base}/new", title="   ", body="")
    assert blank.status_code == 400
    page = s.body(blank)
    assert translate(sapp, "Write a subject.") in page
    assert translate(sapp, "Write the message.") in page
    assert 'aria-describedby="title-error"' in page
    too_long = _post(admin, f"{base}/new", title="x" * 201, body="Hej")
    assert too_long.status_code == 400
    assert _texts(sapp, world.unit_id) == before
    assert admin.post(f"{base}/new", data={"title": "Utan token", "body": "Hej"}
                      ).status_code == 400
    assert admin.get(f"{base}/999999").status_code == 404
    assert _texts(sapp, world.unit_id) == before


def test_senders_choose_them_and_a_send_out_keeps_its_copy(sapp: Flask, world: s.World,
                                                           sender: Any) -> None:
    admin = s.staff_client(sapp, world.staff["admin"])
    base = f"/admin/texts/{world.unit_id}"
    _post(admin, f"{base}/new", title="Påminnelse om hälsoenkät", body="Svara gärna i dag.")
    text_id = _text_id(sapp, world.unit_id, "Påminnelse om hälsoenkät")
    wizard = s.body(sender.get("/staff/sendouts/new"))
    assert f'<option value="{text_id}">Påminnelse om hälsoenkät</option>' in wizard
    send_out_id = s.send_out_via_pages(sender, world.unit_id,
                                       [world.citizens["adult"].personnummer],
                                       saved_text=text_id)
    deleted = _post(admin, f"{base}/{text_id}/delete")
    assert s.location(deleted).endswith(f"{base}/")
    assert ("Påminnelse om hälsoenkät", "Svara gärna i dag.") not in _texts(sapp, world.unit_id)
    with sapp.app_context():
        made = db.session.get(SendOut, send_out_id)
        assert made is not None
        assert (made.message_subject, made.message_body) == (
            "Påminnelse om hälsoenkät", "Svara gärna i dag.")
    assert _post(admin, f"{base}/{text_id}/delete").status_code == 404


def test_other_units_and_other_roles_see_nothing(sapp: Flask, world: s.World,
                                                 sender: Any) -> None:
    admin = s.staff_client(sapp, world.staff["admin"])
    _post(admin, f"/admin/texts/{world.unit_id}/new", title="Bara Ängen", body="Hej")
    text_id = _text_id(sapp, world.unit_id, "Bara Ängen")
    other_admin = s.staff_client(sapp, world.staff["b-admin"])
    for url in (f"/admin/texts/{world.unit_id}/", f"/admin/texts/{world.unit_id}/{text_id}"):
        assert other_admin.get(url).status_code == 404
    assert _post(other_admin, f"/admin/texts/{world.unit_id}/{text_id}/delete"
                 ).status_code == 404
    # B's administrator cannot reach A's text through B's own unit either
    assert other_admin.get(f"/admin/texts/{world.other_unit_id}/{text_id}").status_code == 404
    assert sender.get(f"/admin/texts/{world.unit_id}/").status_code == 403
    assert ("Bara Ängen", "Hej") in _texts(sapp, world.unit_id)
