"""The case-type demo: the clinic offers the ten shipped and three local case types with
standard replies, Söder offers three, the case staff get their roles, and a second run
changes nothing. Run inside a transaction that is rolled back, so the demo's fixed usernames
and the clinic examples' ids stay free in the shared test database."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from formular.casetypes import demo, service
from formular.storage.db import db
from formular.storage.identity import Role, RoleAssignment, StaffUser, Unit
from formular.storage.models import DefinitionVersion
from tests.functional import staff_support as s

WORLD_PREFIX = "ctdemo"


def test_demo_content(sapp: Flask, world: s.World) -> None:
    with sapp.app_context():
        session = db.session()
        try:
            clinic = session.get(Unit, world.unit_id)
            other = session.get(Unit, world.other_unit_id)
            assert clinic is not None
            assert other is not None
            added = demo.seed(session, clinic, other, "not-a-real-hash")
            assert [name for name, _display in added] == ["gunilla", "hugo"]
            assert demo.seed(session, clinic, other, "not-a-real-hash") == []
            today = dt.date.today()
            citizen = world.citizens["adult"].id
            offered = {o.definition_id: o for o in service.offered_case_types(
                session, clinic.id, citizen, today)}
            # all but the restricted one (handed out to a demo citizen absent here)
            assert set(offered) == set(demo.CENTRAL + demo.LOCAL) - demo.RESTRICTED
            assert offered["case-renew-prescription"].attachments_enabled
            assert offered["case-renew-prescription"].terms_locked
            assert not offered["case-message-doctor"].terms_locked
            local = session.scalars(select(DefinitionVersion).where(
                DefinitionVersion.definition_id.in_(demo.LOCAL))).all()
            assert {v.owner_unit_id for v in local} == {clinic.id}
            assert sorted(o.definition_id for o in service.offered_case_types(
                session, other.id, citizen, today)) == sorted(demo.SODER)
            replies = service.standard_replies(session, clinic.id, "case-renew-prescription")
            assert len(replies) == 4  # two for renewals, two for every case type
            roles = session.scalars(select(RoleAssignment.role).join(StaffUser).where(
                StaffUser.username == "gunilla")).all()
            assert sorted(roles) == sorted([Role.CASE_RECEIVER, Role.CASE_HANDLER])
            assert every_reply_form_exists(session, clinic.id, list(offered.values()))
        finally:
            session.rollback()


def every_reply_form_exists(session: Session, unit_id: int,
                            offered: list[service.OfferedCaseType]) -> bool:
    return all(service.reply_form_for(session, unit_id, o.version) is not None
               for o in offered)
