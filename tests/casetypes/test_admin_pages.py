"""The case-type administration pages: a unit administrator enables case types, edits local
terms texts, keeps standard replies and hands restricted case types out; everybody else is
refused, and another unit's objects are 404. Bad input gets an error on the page and nothing
is stored."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from formular.auth.clock import swedish_today
from formular.storage.audit import EventLog
from formular.storage.base import utcnow
from formular.storage.casetypes import CaseTypeGrant, StandardReply, UnitCaseType
from formular.storage.db import db
from tests.functional import staff_support as s

from .support import store_case_type

WORLD_PREFIX = "ctadm"
CENTRAL = "case-renew-prescription"


@pytest.fixture(scope="module")
def admin(sapp: Flask, world: s.World) -> FlaskClient:
    return s.staff_client(sapp, world.staff["admin"])


@pytest.fixture(scope="module")
def local_id(sapp: Flask, world: s.World) -> str:
    with sapp.app_context():
        session = db.session()
        row = store_case_type(session, "Lokalt ärende", owner_unit_id=world.unit_id,
                              terms="Ursprungliga villkor.")
        restricted = store_case_type(session, "Begränsat ärende", owner_unit_id=world.unit_id,
                                     definition_id=f"{row.definition_id}-r")
        session.commit()
        assert restricted.definition_id
        return row.definition_id


def post_form(client: FlaskClient, url: str, data: dict[str, Any]) -> Any:
    page = client.get(url)
    assert page.status_code == 200, (url, page.status_code)
    return client.post(url, data={"csrf_token": s.csrf_of(s.body(page)), **data})


def setting_row(app: Flask, unit_id: int, definition_id: str) -> UnitCaseType | None:
    with app.app_context():
        row = db.session().scalars(select(UnitCaseType).where(
            UnitCaseType.unit_id == unit_id,
            UnitCaseType.definition_id == definition_id)).first()
        if row is not None:
            db.session().expunge(row)
        return row


def events(app: Flask, unit_id: int, event: str) -> int:
    with app.app_context():
        return db.session().scalar(select(func.count()).select_from(EventLog).where(
            EventLog.unit_id == unit_id, EventLog.event == event)) or 0


def test_index_goes_to_the_admins_unit_and_lists_case_types(
        sapp: Flask, world: s.World, admin: FlaskClient, local_id: str) -> None:
    response = admin.get("/admin/casetypes/")
    assert response.status_code == 302
    assert s.location(response).endswith(f"/admin/casetypes/{world.unit_id}/")
    html = s.body(admin.get(f"/admin/casetypes/{world.unit_id}/"))
    assert f"/admin/casetypes/{world.unit_id}/types/{CENTRAL}" in html
    assert f"/admin/casetypes/{world.unit_id}/types/{local_id}" in html
    assert "Lokalt ärende" in html
    # reply forms (workflow "none") and other kinds are not case types
    assert f"/types/{CENTRAL}-reply" not in html
    assert "/types/phq-9" not in html


def test_enable_a_central_case_type_ignores_posted_terms(
        sapp: Flask, world: s.World, admin: FlaskClient) -> None:
    url = f"/admin/casetypes/{world.unit_id}/types/{CENTRAL}"
    page = s.body(admin.get(url))
    assert 'name="terms_text"' not in page  # locked: shown read-only
    assert "e-recept" in page  # the central terms text, rendered
    before = events(sapp, world.unit_id, "casetype.settings.changed")
    response = post_form(admin, url, {"enabled": "y", "attachments_enabled": "y",
                                      "terms_text": "Egna villkor"})
    assert response.status_code == 302
    row = setting_row(sapp, world.unit_id, CENTRAL)
    assert row is not None
    assert row.enabled
    assert row.attachments_enabled
    assert not row.restricted
    assert row.terms_text is None
    assert events(sapp, world.unit_id, "casetype.settings.changed") == before + 1
    # unchecking the boxes disables it again
    assert post_form(admin, url, {}).status_code == 302
    row = setting_row(sapp, world.unit_id, CENTRAL)
    assert row is not None
    assert not row.enabled


def test_local_terms_are_editable_and_too_long_is_refused(
        sapp: Flask, world: s.World, admin: FlaskClient, local_id: str) -> None:
    url = f"/admin/casetypes/{world.unit_id}/types/{local_id}"
    assert 'name="terms_text"' in s.body(admin.get(url))
    response = post_form(admin, url, {"enabled": "y", "terms_text": "Våra villkor <b>här</b>"})
    assert response.status_code == 302
    row = setting_row(sapp, world.unit_id, local_id)
    assert row is not None
    assert row.terms_text == "Våra villkor <b>här</b>"
    page = s.body(admin.get(url))
    assert "Våra villkor &lt;b&gt;här&lt;/b&gt;" in page  # escaped in the textarea
    refused = post_form(admin, url, {"enabled": "y", "terms_text": "x" * 20_001})
    assert refused.status_code == 200
    assert 'class="field-error" id="terms_text-error"' in s.body(refused)
    row = setting_row(sapp, world.unit_id, local_id)
    assert row is not None
    assert row.terms_text == "Våra villkor <b>här</b>"  # nothing half-written


def test_unknown_or_foreign_case_types_are_404(
        sapp: Flask, world: s.World, admin: FlaskClient, local_id: str) -> None:
    assert admin.get(f"/admin/casetypes/{world.unit_id}/types/phq-9").status_code == 404
    assert admin.get(f"/admin/casetypes/{world.unit_id}/types/nope").status_code == 404
    assert admin.get(
        f"/admin/casetypes/{world.unit_id}/types/{CENTRAL}-reply").status_code == 404
    other = s.staff_client(sapp, world.staff["b-admin"])
    # clinic A's local case type does not exist for clinic B, and clinic A is not B's unit
    assert other.get(f"/admin/casetypes/{world.other_unit_id}/types/{local_id}").status_code \
        == 404
    assert other.get(f"/admin/casetypes/{world.unit_id}/").status_code == 404
    assert other.get(f"/admin/casetypes/{world.unit_id}/types/{CENTRAL}").status_code == 404


def test_other_roles_are_refused(sapp: Flask, world: s.World) -> None:
    for role in ("sender", "reviewer", "designer", "auditor"):
        client = s.staff_client(sapp, world.staff[role])
        assert client.get("/admin/casetypes/").status_code == 403, role
        assert client.get(f"/admin/casetypes/{world.unit_id}/").status_code == 403, role
    citizen = s.citizen_client(sapp, world.citizens["adult"])
    assert citizen.get(f"/admin/casetypes/{world.unit_id}/").status_code == 403
    anonymous = sapp.test_client()
    assert anonymous.get(f"/admin/casetypes/{world.unit_id}/").status_code == 302


def test_standard_replies(sapp: Flask, world: s.World, admin: FlaskClient) -> None:
    base = f"/admin/casetypes/{world.unit_id}/replies"
    refused = post_form(admin, f"{base}/new", {"title": "", "body": "Text",
                                               "definition": CENTRAL, "active": "y"})
    assert refused.status_code == 200
    assert 'id="title-error"' in s.body(refused)
    forged = post_form(admin, f"{base}/new", {"title": "T", "body": "Text",
                                              "definition": "phq-9", "active": "y"})
    assert forged.status_code == 200
    assert 'id="definition-error"' in s.body(forged)
    created = post_form(admin, f"{base}/new", {
        "title": "<script>alert(1)</script> Förnyat", "body": "Ditt recept är förnyat.",
        "definition": CENTRAL, "active": "y"})
    assert created.status_code == 302
    with sapp.app_context():
        reply = db.session().scalars(select(StandardReply).where(
            StandardReply.unit_id == world.unit_id).order_by(StandardReply.id.desc())).first()
        assert reply is not None
        reply_id, definition_id = reply.id, reply.definition_id
    assert definition_id == CENTRAL
    listing = s.body(admin.get(base))
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Förnyat" in listing
    assert "<script>alert(1)" not in listing
    # deactivate, for every case type
    changed = post_form(admin, f"{base}/{reply_id}", {"title": "Förnyat", "body": "Ny text",
                                                      "definition": "*"})
    assert changed.status_code == 302
    with sapp.app_context():
        row = db.session().get(StandardReply, reply_id)
        assert row is not None
        assert (row.title, row.body, row.definition_id, row.active) == (
            "Förnyat", "Ny text", None, False)
    assert events(sapp, world.unit_id, "casetype.reply.created") >= 1
    assert events(sapp, world.unit_id, "casetype.reply.changed") >= 1
    other = s.staff_client(sapp, world.staff["b-admin"])
    assert other.get(f"/admin/casetypes/{world.other_unit_id}/replies/{reply_id}").status_code \
        == 404
    assert admin.get(f"{base}/999999").status_code == 404


def test_hand_out_and_revoke(sapp: Flask, world: s.World, admin: FlaskClient,
                             local_id: str) -> None:
    restricted = f"{local_id}-r"
    url = f"/admin/casetypes/{world.unit_id}/grants"
    # not restricted yet: it cannot be chosen
    refused = post_form(admin, url, {"definition": restricted,
                                     "personnummer": world.citizens["adult"].personnummer})
    assert refused.status_code == 200
    assert not s.body(refused).count(f'value="{restricted}"')
    assert post_form(admin, f"/admin/casetypes/{world.unit_id}/types/{restricted}",
                     {"enabled": "y", "restricted": "y"}).status_code == 302
    today = swedish_today(utcnow())
    for number, field in (("19121212-1213", "personnummer"),  # wrong check digit
                          ("not a number", "personnummer"),
                          ("19121212-1212", "personnummer")):  # valid, but nobody registered
        bad = post_form(admin, url, {"definition": restricted, "personnummer": number})
        assert bad.status_code == 200
        assert f'id="{field}-error"' in s.body(bad)
    past = post_form(admin, url, {"definition": restricted,
                                  "personnummer": world.citizens["adult"].personnummer,
                                  "valid_until": (today - dt.timedelta(days=1)).isoformat()})
    assert past.status_code == 200
    assert 'id="valid_until-error"' in s.body(past)
    with sapp.app_context():
        assert db.session().scalar(select(func.count()).select_from(CaseTypeGrant).where(
            CaseTypeGrant.definition_id == restricted)) == 0
    granted = post_form(admin, url, {"definition": restricted,
                                     "personnummer": world.citizens["adult"].dashed,
                                     "valid_until": (today + dt.timedelta(days=7)).isoformat()})
    assert granted.status_code == 302
    with sapp.app_context():
        grant = db.session().scalars(select(CaseTypeGrant).where(
            CaseTypeGrant.definition_id == restricted)).one()
        grant_id = grant.id
        assert grant.citizen_id == world.citizens["adult"].id
    listing = s.body(admin.get(url))
    assert world.citizens["adult"].name in listing
    # clinic B cannot revoke it
    other = s.staff_client(sapp, world.staff["b-admin"])
    assert other.post(f"/admin/casetypes/{world.other_unit_id}/grants/{grant_id}/revoke",
                      data={"csrf_token": s.fresh_csrf(other)}).status_code == 404
    assert other.post(f"/admin/casetypes/{world.unit_id}/grants/{grant_id}/revoke",
                      data={"csrf_token": s.fresh_csrf(other)}).status_code == 404
    revoked = admin.post(f"{url}/{grant_id}/revoke", data={"csrf_token": s.fresh_csrf(admin)})
    assert revoked.status_code == 302
    again = admin.post(f"{url}/{grant_id}/revoke", data={"csrf_token": s.fresh_csrf(admin)})
    assert again.status_code == 302  # refused with a message, nothing changes
    with sapp.app_context():
        row = db.session().get(CaseTypeGrant, grant_id)
        assert row is not None
        assert row.revoked_at is not None
    assert events(sapp, world.unit_id, "casetype.granted") == 1
    assert events(sapp, world.unit_id, "casetype.revoked") == 1
    # without a CSRF token nothing happens
    assert admin.post(f"{url}/{grant_id}/revoke").status_code == 400
