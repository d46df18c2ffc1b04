"""Errands begun and not sent are deleted with their files after the retention period (by the
minute tick); sent errands and recently changed drafts stay, and the citizen is told."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask, g
from flask_babel import ngettext
from sqlalchemy import func, select, update

from formular.cases import retention, service
from formular.jobs import tasks
from formular.storage import drafts
from formular.storage.base import utcnow
from formular.storage.cases import Case, CaseDraft
from formular.storage.db import db
from formular.storage.models import DefinitionVersion, Draft, Upload
from tests.cases import support as cs
from tests.functional import staff_support as s

WORLD_PREFIX = "c1ret"


def _unsent(app: Flask, case_type: cs.StoredCaseType, person: s.Person,
            changed_days_ago: int, *, with_file: bool = False) -> int:
    """An errand begun (terms accepted, a draft with answers) and not sent; its draft id."""
    with app.app_context():
        session = db.session()
        version = session.get(DefinitionVersion, case_type.version_id)
        assert version is not None
        row = service.start_draft(session, unit_id=case_type.unit_id, version=version,
                                  citizen_id=person.id, created_by_citizen_id=person.id,
                                  now=utcnow())
        draft = session.get(Draft, row.draft_id)
        assert draft is not None
        drafts.save_answers(session, draft, {"message": "Jag har ont i ryggen."}, 0, None)
        if with_file:
            drafts.add_upload(session, draft, "message", "remiss.pdf", "application/pdf",
                              cs.PDF, "0" * 64)
        session.execute(update(Draft).where(Draft.id == row.draft_id).values(
            updated_at=utcnow() - dt.timedelta(days=changed_days_ago)))
        session.commit()
        return row.draft_id


def _exists(app: Flask, draft_id: int) -> dict[str, int]:
    with app.app_context():
        def count(model: Any, column: Any) -> int:
            return int(db.session.scalar(select(func.count()).select_from(model)
                                         .where(column == draft_id)) or 0)

        return {"draft": count(Draft, Draft.id), "case_draft": count(CaseDraft,
                                                                     CaseDraft.draft_id),
                "uploads": count(Upload, Upload.draft_id)}


def test_unsent_errands_are_deleted_after_the_retention_period(
        sapp: Flask, cases_world: s.World, case_type: cs.StoredCaseType) -> None:
    person = cases_world.citizens["adult"]
    old = _unsent(sapp, case_type, person, 31, with_file=True)
    recent = _unsent(sapp, case_type, person, 29)
    sent_token = cs.make_case(sapp, case_type, person, now=utcnow() - dt.timedelta(days=90))
    with sapp.app_context():
        sent_draft = db.session.scalar(select(Case.draft_id).where(Case.token == sent_token))
        db.session.execute(update(Draft).where(Draft.id == sent_draft).values(
            updated_at=utcnow() - dt.timedelta(days=90)))
        db.session.commit()
    assert _exists(sapp, old) == {"draft": 1, "case_draft": 1, "uploads": 1}

    with sapp.app_context():
        purged = retention.purge_unsent_drafts(db.session(), utcnow(), 30)
        db.session.commit()
    assert purged >= 1
    assert _exists(sapp, old) == {"draft": 0, "case_draft": 0, "uploads": 0}
    assert _exists(sapp, recent) == {"draft": 1, "case_draft": 1, "uploads": 0}
    assert sent_draft is not None
    assert _exists(sapp, sent_draft)["draft"] == 1
    assert cs.case_row(sapp, sent_token)["state"] == "new"


def test_the_tick_deletes_them_with_the_configured_period(
        sapp: Flask, cases_world: s.World, case_type: cs.StoredCaseType) -> None:
    person = cases_world.citizens["adult"]
    draft_id = _unsent(sapp, case_type, person, 8)
    sapp.config["CASE_DRAFT_RETENTION_DAYS"] = 7
    try:
        with sapp.app_context():
            outcome = tasks.tick()
    finally:
        sapp.config["CASE_DRAFT_RETENTION_DAYS"] = retention.DEFAULT_RETENTION_DAYS
    assert outcome["purged"] >= 1
    assert _exists(sapp, draft_id)["draft"] == 0


def test_the_citizen_is_told_how_long_a_begun_errand_is_kept(
        sapp: Flask, cases_world: s.World, case_type: cs.StoredCaseType) -> None:
    person = cases_world.citizens["adult2"]
    _unsent(sapp, case_type, person, 1)
    html = s.body(s.citizen_client(sapp, person).get("/errands"))
    with sapp.test_request_context("/"):
        g.offered_languages = ["sv"]
        told = ngettext("An errand you have begun is kept for %(num)d day after you last "
                        "changed it, then deleted.",
                        "An errand you have begun is kept for %(num)d days after you last "
                        "changed it, then deleted.", 30)
    assert "30" in told
    assert told in html
