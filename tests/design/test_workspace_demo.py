"""The designer's demo content: valid documents, seeded once, visible where expected."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select

from formular.design import demo
from formular.design.problems import problems_of
from formular.storage.db import db
from formular.storage.design import DesignDraft, TemplateSubscription
from formular.storage.identity import StaffUser, Unit
from formular.storage.models import DefinitionVersion
from tests.functional import staff_support as s

WORLD_PREFIX = "ddemo"


def test_the_demo_documents_are_valid(sapp: Flask) -> None:
    with sapp.test_request_context():
        assert problems_of(demo.sleep_draft()) == []
        assert problems_of(demo.back_pain_template()) == []


def test_seeding_makes_a_draft_a_shared_template_and_a_subscription(
        sapp: Flask, world: s.World, designer: Any) -> None:
    with sapp.app_context():
        session = db.session()
        home = session.get(Unit, world.unit_id)
        other = session.get(Unit, world.other_unit_id)
        user = session.get(StaffUser, world.staff["designer"].id)
        assert home is not None
        assert other is not None
        assert user is not None
        already = session.scalar(select(DefinitionVersion.id).where(
            DefinitionVersion.definition_id == demo.TEMPLATE_ID)) is not None
        if already:  # the full demo seed ran earlier in this database
            return
        demo.seed_at(session, home, other, user)
        session.commit()
        demo.seed_at(session, home, other, user)  # a second run changes nothing
        session.commit()
        rows = session.scalars(select(DesignDraft).where(
            DesignDraft.unit_id == world.unit_id)).all()
        assert sorted(r.definition_id for r in rows) == sorted([demo.DRAFT_ID,
                                                                demo.TEMPLATE_ID])
        assert session.scalars(select(TemplateSubscription).where(
            TemplateSubscription.unit_id == world.other_unit_id)).one().follow
    assert "Sömn och mående" in s.body(designer.get("/design/"))
    other_sender = s.staff_client(sapp, world.staff["other"])
    assert demo.TEMPLATE_ID in s.body(other_sender.get("/staff/sendouts/new"))
