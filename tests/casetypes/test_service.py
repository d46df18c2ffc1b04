"""The case-type service: what a unit offers to whom, locked central terms, standard replies,
hand-outs of restricted case types, clinic search and the event log of every change."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from formular.casetypes import service
from formular.casetypes.service import CaseTypeError
from formular.storage.audit import EventLog
from formular.storage.casetypes import CaseTypeGrant, UnitCaseType
from formular.storage.db import db
from formular.storage.identity import Citizen
from tests.functional import staff_support as s

from .support import store_case_type

WORLD_PREFIX = "ctsvc"
TODAY = dt.date(2026, 11, 26)


@pytest.fixture
def session(sapp: Flask) -> Iterator[Session]:
    with sapp.app_context():
        found = db.session()
        try:
            yield found
        finally:
            found.rollback()


def ids(offered: list[service.OfferedCaseType]) -> list[str]:
    return [o.definition_id for o in offered]


def enable(session: Session, unit_id: int, definition_id: str, **values: object) -> None:
    settings = {"enabled": True, "attachments_enabled": False, "restricted": False,
                "terms_text": None, **values}
    service.save_setting(session, unit_id=unit_id, definition_id=definition_id,
                         staff_user_id=None, **settings)  # type: ignore[arg-type]


def test_nothing_is_offered_until_enabled(session: Session, world: s.World) -> None:
    central = store_case_type(session, "Ärende A")
    citizen = world.citizens["adult"].id
    assert central.definition_id not in ids(service.offered_case_types(
        session, world.unit_id, citizen, TODAY))
    assert service.case_type_for(session, world.unit_id, central.definition_id, citizen,
                                 TODAY) is None
    enable(session, world.unit_id, central.definition_id)
    offered = service.case_type_for(session, world.unit_id, central.definition_id, citizen,
                                    TODAY)
    assert offered is not None
    assert offered.terms == "Centrala villkor."
    assert offered.terms_locked
    assert offered.description == f"Beskrivning av {offered.title}."
    # enabled at clinic A only
    assert service.case_type_for(session, world.other_unit_id, central.definition_id, citizen,
                                 TODAY) is None


def test_reply_forms_and_other_kinds_are_never_offered(session: Session,
                                                       world: s.World) -> None:
    reply = store_case_type(session, "Svarsformulär", workflow="none")
    usable = [x.definition_id for x in service.usable_case_types(session, world.unit_id)]
    assert reply.definition_id not in usable
    with pytest.raises(CaseTypeError):
        enable(session, world.unit_id, reply.definition_id)
    assert "phq-9" not in usable


def test_newest_version_is_offered(session: Session, world: s.World) -> None:
    first = store_case_type(session, "Versionerat")
    store_case_type(session, "Versionerat v2", definition_id=first.definition_id, version=2)
    enable(session, world.unit_id, first.definition_id)
    offered = service.case_type_for(session, world.unit_id, first.definition_id, None, TODAY)
    assert offered is not None
    assert offered.version.version == 2
    assert offered.title == "Versionerat v2"


def test_central_terms_are_locked_and_local_terms_editable(session: Session,
                                                           world: s.World) -> None:
    central = store_case_type(session, "Centralt")
    local = store_case_type(session, "Lokalt", owner_unit_id=world.unit_id)
    with pytest.raises(CaseTypeError, match="locked|låst"):
        enable(session, world.unit_id, central.definition_id, terms_text="Egna villkor")
    # Sending the central text back unchanged (a form re-posting the read-only text) is fine.
    enable(session, world.unit_id, central.definition_id, terms_text="Centrala villkor.")
    row = session.scalars(select(UnitCaseType).where(
        UnitCaseType.definition_id == central.definition_id)).one()
    assert row.terms_text is None

    enable(session, world.unit_id, local.definition_id,
           terms_text="Lokala villkor med [länk](https://example.org).")
    offered = service.case_type_for(session, world.unit_id, local.definition_id, None, TODAY)
    assert offered is not None
    assert offered.local
    assert not offered.terms_locked
    assert offered.terms.startswith("Lokala villkor")
    assert '<a href="https://example.org"' in offered.terms_html
    # Blank: back to the definition's own terms.
    enable(session, world.unit_id, local.definition_id, terms_text="   ")
    offered = service.case_type_for(session, world.unit_id, local.definition_id, None, TODAY)
    assert offered is not None
    assert offered.terms == "Centrala villkor."
    # Another unit cannot use clinic A's local case type at all.
    assert service.setting_of(session, world.other_unit_id, local.definition_id) is None
    with pytest.raises(CaseTypeError):
        enable(session, world.other_unit_id, local.definition_id)


def test_terms_html_cannot_carry_script(session: Session, world: s.World) -> None:
    local = store_case_type(session, "Lokalt farligt", owner_unit_id=world.unit_id)
    enable(session, world.unit_id, local.definition_id,
           terms_text='<script>alert(1)</script> [x](javascript:alert(1))')
    offered = service.case_type_for(session, world.unit_id, local.definition_id, None, TODAY)
    assert offered is not None
    assert "<script" not in offered.terms_html
    assert "href" not in offered.terms_html


def test_restricted_case_type_needs_a_live_grant(session: Session, world: s.World) -> None:
    restricted = store_case_type(session, "Begränsat")
    enable(session, world.unit_id, restricted.definition_id, restricted=True)
    adult = session.get(Citizen, world.citizens["adult"].id)
    other = world.citizens["adult2"].id
    assert adult is not None
    assert service.case_type_for(session, world.unit_id, restricted.definition_id, adult.id,
                                 TODAY) is None
    row = service.grant(session, unit_id=world.unit_id, definition_id=restricted.definition_id,
                        citizen=adult, valid_until=TODAY + dt.timedelta(days=3), today=TODAY,
                        staff_user_id=world.staff["admin"].id)
    assert restricted.definition_id in ids(service.offered_case_types(
        session, world.unit_id, adult.id, TODAY))
    # the last day counts; the day after does not
    assert service.case_type_for(session, world.unit_id, restricted.definition_id, adult.id,
                                 TODAY + dt.timedelta(days=3)) is not None
    assert service.case_type_for(session, world.unit_id, restricted.definition_id, adult.id,
                                 TODAY + dt.timedelta(days=4)) is None
    # another citizen, nobody logged in, another unit: not offered
    assert service.case_type_for(session, world.unit_id, restricted.definition_id, other,
                                 TODAY) is None
    assert service.case_type_for(session, world.unit_id, restricted.definition_id, None,
                                 TODAY) is None
    service.revoke_grant(session, unit_id=world.unit_id, grant_id=row.id, staff_user_id=None)
    assert service.case_type_for(session, world.unit_id, restricted.definition_id, adult.id,
                                 TODAY) is None
    with pytest.raises(CaseTypeError):
        service.revoke_grant(session, unit_id=world.unit_id, grant_id=row.id,
                             staff_user_id=None)


def test_grant_rules(session: Session, world: s.World) -> None:
    open_type = store_case_type(session, "Öppet")
    enable(session, world.unit_id, open_type.definition_id)
    adult = session.get(Citizen, world.citizens["adult"].id)
    assert adult is not None
    with pytest.raises(CaseTypeError, match="restricted|begränsad"):
        service.grant(session, unit_id=world.unit_id, definition_id=open_type.definition_id,
                      citizen=adult, valid_until=None, today=TODAY, staff_user_id=None)
    enable(session, world.unit_id, open_type.definition_id, restricted=True)
    with pytest.raises(CaseTypeError, match="past|passerat"):
        service.grant(session, unit_id=world.unit_id, definition_id=open_type.definition_id,
                      citizen=adult, valid_until=TODAY - dt.timedelta(days=1), today=TODAY,
                      staff_user_id=None)
    first = service.grant(session, unit_id=world.unit_id,
                          definition_id=open_type.definition_id, citizen=adult,
                          valid_until=None, today=TODAY, staff_user_id=None)
    second = service.grant(session, unit_id=world.unit_id,
                           definition_id=open_type.definition_id, citizen=adult,
                           valid_until=TODAY, today=TODAY, staff_user_id=None)
    assert first.revoked_at is not None
    assert second.revoked_at is None
    live = session.scalars(select(CaseTypeGrant).where(
        CaseTypeGrant.definition_id == open_type.definition_id,
        CaseTypeGrant.revoked_at.is_(None))).all()
    assert [g.id for g in live] == [second.id]
    # clinic B cannot revoke clinic A's grant
    with pytest.raises(CaseTypeError):
        service.revoke_grant(session, unit_id=world.other_unit_id, grant_id=second.id,
                             staff_user_id=None)


def test_standard_replies(session: Session, world: s.World) -> None:
    kind = store_case_type(session, "Med standardsvar")
    enable(session, world.unit_id, kind.definition_id)
    own = service.save_standard_reply(
        session, unit_id=world.unit_id, reply_id=None, definition_id=kind.definition_id,
        title="  Receptet är förnyat ", body="Hej!\r\nDitt recept är förnyat.", active=True,
        staff_user_id=None)
    general = service.save_standard_reply(
        session, unit_id=world.unit_id, reply_id=None, definition_id=None,
        title="Allmänt svar", body="Tack för ditt meddelande.", active=True,
        staff_user_id=None)
    assert own.title == "Receptet är förnyat"
    assert own.body == "Hej!\nDitt recept är förnyat."
    found = [r.id for r in service.standard_replies(session, world.unit_id, kind.definition_id)]
    assert own.id in found
    assert general.id in found
    service.save_standard_reply(session, unit_id=world.unit_id, reply_id=own.id,
                                definition_id=kind.definition_id, title=own.title,
                                body=own.body, active=False, staff_user_id=None)
    found = [r.id for r in service.standard_replies(session, world.unit_id, kind.definition_id)]
    assert own.id not in found
    assert general.id in found
    assert own.id in [r.id for r in service.standard_replies(
        session, world.unit_id, kind.definition_id, include_inactive=True)]
    # clinic B sees none of them and cannot change them
    assert service.standard_replies(session, world.other_unit_id, kind.definition_id) == []
    with pytest.raises(CaseTypeError):
        service.save_standard_reply(session, unit_id=world.other_unit_id, reply_id=own.id,
                                    definition_id=None, title="x", body="y", active=True,
                                    staff_user_id=None)
    for title, body in (("", "text"), ("titel", "  "), ("x" * 201, "text")):
        with pytest.raises(CaseTypeError):
            service.save_standard_reply(session, unit_id=world.unit_id, reply_id=None,
                                        definition_id=None, title=title, body=body,
                                        active=True, staff_user_id=None)


def test_clinic_search_is_case_insensitive_and_lists_only_offering_clinics(
        session: Session, world: s.World) -> None:
    kind = store_case_type(session, "Sökbart")
    assert world.unit_name not in [u.name for u in service.clinics(session, "ängen")]
    enable(session, world.unit_id, kind.definition_id)
    assert world.unit_id in [u.id for u in service.clinics(session, "ÄNGEN " + WORLD_PREFIX)]
    assert world.unit_id in [u.id for u in service.clinics(session, "")]
    assert world.unit_id not in [u.id for u in service.clinics(session, "björken")]
    enable(session, world.unit_id, kind.definition_id, enabled=False)
    assert world.unit_id not in [u.id for u in service.clinics(session, WORLD_PREFIX)]


def test_every_change_is_in_the_event_log(session: Session, world: s.World) -> None:
    kind = store_case_type(session, "Loggat")
    before = session.scalar(select(EventLog.id).order_by(EventLog.id.desc()).limit(1)) or 0
    enable(session, world.unit_id, kind.definition_id, restricted=True)
    enable(session, world.unit_id, kind.definition_id, restricted=True)  # no change: no row
    adult = session.get(Citizen, world.citizens["adult"].id)
    assert adult is not None
    row = service.grant(session, unit_id=world.unit_id, definition_id=kind.definition_id,
                        citizen=adult, valid_until=None, today=TODAY, staff_user_id=None)
    service.revoke_grant(session, unit_id=world.unit_id, grant_id=row.id, staff_user_id=None)
    service.save_standard_reply(session, unit_id=world.unit_id, reply_id=None,
                                definition_id=kind.definition_id, title="T", body="B",
                                active=True, staff_user_id=None)
    events = session.scalars(select(EventLog.event).where(EventLog.id > before)
                             .order_by(EventLog.id)).all()
    assert events == ["casetype.settings.changed", "casetype.granted", "casetype.revoked",
                      "casetype.reply.created"]


def test_reply_form_for(session: Session, world: s.World) -> None:
    reply = store_case_type(session, "Svar", workflow="none")
    kind = store_case_type(session, "Med svarsformulär")
    kind.document = {**kind.document, "workflow": {"type": "case",
                                                   "reply_form": reply.definition_id}}
    assert service.reply_form_for(session, world.unit_id, kind) is reply
    kind.document = {**kind.document, "workflow": {"type": "case"}}
    assert service.reply_form_for(session, world.unit_id, kind) is None
