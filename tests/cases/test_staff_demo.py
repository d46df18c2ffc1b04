"""The demo errands of the case inbox: sent by the demo citizens through the case service and
moved on through the workflow, one of them flagged as not answered in time; a second run adds
nothing."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from formular.cases import demo_inbox
from formular.casetypes import service as casetypes
from formular.storage.cases import Case
from formular.storage.db import db
from formular.storage.identity import Citizen, Role, Unit
from tests import factories
from tests.functional import staff_support as s


def test_the_demo_fills_the_inbox_in_every_state(sapp: Flask) -> None:
    with sapp.app_context():
        session = db.session()
        clinic = factories.unit(session, name="Vårdcentralen Demoprov")
        factories.staff(session, [(clinic, Role.CASE_RECEIVER), (clinic, Role.CASE_HANDLER)])
        handler = factories.staff(session, [(clinic, Role.CASE_HANDLER)])
        for definition_id in {errand[1] for errand in demo_inbox.ERRANDS}:
            casetypes.save_setting(session, unit_id=clinic.id, definition_id=definition_id,
                                   enabled=True, attachments_enabled=False, restricted=False,
                                   terms_text=None, staff_user_id=None)
        for name in {errand[0] for errand in demo_inbox.ERRANDS}:
            if session.scalar(select(Citizen.id).where(Citizen.name == name)) is None:
                s.make_citizen(session, name, s.adult_birth())
        session.commit()
        unit = session.get(Unit, clinic.id)
        assert unit is not None
        assert demo_inbox.seed(session, unit) == len(demo_inbox.ERRANDS)
        session.commit()
        cases = session.scalars(select(Case).where(Case.unit_id == clinic.id)
                                .order_by(Case.id)).all()
        assert [(c.state, c.overdue) for c in cases] == [
            ("new", True), ("new", False), ("assigned", False),
            ("waiting-for-citizen", False), ("closed", False)]
        assert {c.assigned_to_id for c in cases if c.state != "new"} == {handler.id}
        assert demo_inbox.seed(session, unit) == 0
