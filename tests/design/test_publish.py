"""Publishing: refused while problems remain, immutable versions numbered N+1, the diff before
publishing, conflicts, and the published form offered to the unit's senders."""

from __future__ import annotations

import os
import re
import threading
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from formular.design import drafts, workspace
from formular.storage.audit import EventLog
from formular.storage.db import db
from formular.storage.design import DesignDraft
from tests.functional import staff_support as s

from .workspace_support import (
    draft_row,
    make_draft,
    post_publish,
    publish_via_service,
    scored_definition,
    versions,
)

WORLD_PREFIX = "dpub"


def _broken(definition_id: str) -> dict[str, Any]:
    document = scored_definition(definition_id)
    document["rules"] = [{"id": "later", "when": {"==": [{"var": "comment"}, "x"]},
                          "show": ["mood"]}]  # reads a later page: a lint problem
    return document


def test_publish_is_refused_while_problems_remain(sapp: Flask, world: s.World,
                                                  designer: Any) -> None:
    draft_id = make_draft(sapp, world, _broken("dpub-broken"))
    page = designer.get(f"/design/drafts/{draft_id}/publish",
                        headers={"Accept-Language": "en"})
    assert page.status_code == 200
    html = s.body(page)
    assert "Fix these problems first" in html
    assert "A condition reads an answer from a later page" in html
    assert f"/design/drafts/{draft_id}" in html
    assert "select=" in html
    assert 'name="audience"' not in html  # no publish button while problems remain
    response = designer.post(f"/design/drafts/{draft_id}/publish", data={
        "csrf_token": s.csrf_of(html), "audience": "unit", "revision": "1"},
        headers={"Accept-Language": "en"})
    assert response.status_code == 409
    assert "Fix every problem in the list before publishing" in s.body(response)
    assert versions(sapp, "dpub-broken") == []


def test_publish_creates_immutable_versions(sapp: Flask, world: s.World,
                                            designer: Any) -> None:
    draft_id = make_draft(sapp, world, scored_definition("dpub-form", title="Första"))
    response = post_publish(designer, draft_id)
    assert response.status_code == 302, s.body(response)[:2000]
    [first] = versions(sapp, "dpub-form")
    assert (first.version, first.owner_unit_id, first.title) == (1, world.unit_id, "Första")
    assert first.document["version"] == 1
    draft = draft_row(sapp, draft_id)
    assert draft is not None
    assert draft.based_on_version_id == first.id
    # The draft goes on; the next publish is version 2, and version 1 never changes.
    with sapp.app_context():
        session = db.session()
        row = session.get(DesignDraft, draft_id)
        assert row is not None
        changed = scored_definition("dpub-form", title="Andra")
        drafts.save_document(session, row, changed, expected_revision=row.revision,
                             staff_user_id=world.staff["designer"].id, action="op.test")
        session.commit()
    assert post_publish(designer, draft_id).status_code == 302
    first_again, second = versions(sapp, "dpub-form")
    assert first_again.document == first.document
    assert first_again.digest == first.digest
    assert first_again.title == "Första"
    assert (second.version, second.title, second.document["version"]) == (2, "Andra", 2)
    with sapp.app_context():
        events = db.session.scalars(select(EventLog).where(
            EventLog.event == "design.published",
            EventLog.unit_id == world.unit_id).order_by(EventLog.id)).all()
        assert [(e.data["definition_id"], e.data["version"]) for e in events
                if e.data["definition_id"] == "dpub-form"] == [("dpub-form", 1),
                                                               ("dpub-form", 2)]


def test_the_publish_page_shows_what_changes_meaning(sapp: Flask, world: s.World,
                                                     designer: Any) -> None:
    draft_id = make_draft(sapp, world, scored_definition("dpub-diff"))
    publish_via_service(sapp, world, draft_id)
    with sapp.app_context():
        session = db.session()
        row = session.get(DesignDraft, draft_id)
        assert row is not None
        changed = scored_definition("dpub-diff")
        changed["option_sets"]["frequency"][2]["weight"] = 3
        changed["scores"][0]["band_sets"][1]["bands"][0]["max"] = 3
        changed["scores"][0]["band_sets"][1]["bands"][1]["min"] = 4
        drafts.save_document(session, row, changed, expected_revision=row.revision,
                             staff_user_id=world.staff["designer"].id, action="op.test")
        session.commit()
    html = s.body(designer.get(f"/design/drafts/{draft_id}/publish",
                               headers={"Accept-Language": "en"}))
    assert "Changes since version 1" in html
    assert "changes alter what answers mean" in html
    assert "option-weights" in html
    assert "bands" in html
    assert "Publish version 2" in html


def test_a_stale_publish_is_refused_and_nothing_is_lost(sapp: Flask, world: s.World,
                                                        designer: Any) -> None:
    draft_id = make_draft(sapp, world, scored_definition("dpub-stale"))
    page = designer.get(f"/design/drafts/{draft_id}/publish")
    html = s.body(page)
    other = s.staff_client(sapp, world.staff["designer"])
    with sapp.app_context():
        session = db.session()
        row = session.get(DesignDraft, draft_id)
        assert row is not None
        drafts.save_document(session, row, scored_definition("dpub-stale", title="Nyare"),
                             expected_revision=1, staff_user_id=world.staff["designer"].id,
                             action="op.test")
        session.commit()
    response = designer.post(f"/design/drafts/{draft_id}/publish", data={
        "csrf_token": s.csrf_of(html), "audience": "unit", "revision": "1"},
        headers={"Accept-Language": "en"})
    assert response.status_code == 409
    text = s.body(response)
    assert world.staff["designer"].name in text
    assert "saved this draft after you opened it" in text
    assert "Reload the latest version of the draft" in text
    assert versions(sapp, "dpub-stale") == []
    assert draft_row(sapp, draft_id).document["title"] == "Nyare"  # type: ignore[union-attr]
    assert other.get(f"/design/drafts/{draft_id}/publish").status_code == 200


def test_publishing_needs_the_designer_of_the_unit(sapp: Flask, world: s.World,
                                                   designer_b: Any) -> None:
    draft_id = make_draft(sapp, world, scored_definition("dpub-guard"))
    assert designer_b.get(f"/design/drafts/{draft_id}/publish").status_code == 404
    response = designer_b.post(f"/design/drafts/{draft_id}/publish", data={
        "csrf_token": s.fresh_csrf(designer_b), "audience": "unit", "revision": "1"})
    assert response.status_code == 404
    sender = s.staff_client(sapp, world.staff["sender"])
    assert sender.get(f"/design/drafts/{draft_id}/publish").status_code == 403
    assert versions(sapp, "dpub-guard") == []


def test_an_id_owned_by_another_unit_cannot_be_published(sapp: Flask,
                                                         world: s.World) -> None:
    theirs = make_draft(sapp, world, scored_definition("dpub-owned"), unit="B")
    publish_via_service(sapp, world, theirs, unit="B")
    mine = make_draft(sapp, world, scored_definition("dpub-mine"))
    with sapp.app_context():
        session = db.session()
        row = session.get(DesignDraft, mine)
        assert row is not None
        drafts.save_document(session, row, scored_definition("dpub-owned"),
                             expected_revision=1, staff_user_id=world.staff["designer"].id,
                             action="op.test")
        session.commit()
    with sapp.test_request_context(), pytest.raises(workspace.WorkspaceError):
        publish_via_service(sapp, world, mine)
    assert [v.owner_unit_id for v in versions(sapp, "dpub-owned")] == [world.other_unit_id]


def _offered(client: Any) -> set[str]:
    html = s.body(client.get("/staff/sendouts/new"))
    select_html = html[html.index('name="definition"'):]
    select_html = select_html[:select_html.index("</select>")]
    return set(re.findall(r'value="([^"]+)"', select_html))


def test_published_forms_are_offered_to_the_units_senders(sapp: Flask, world: s.World,
                                                          designer: Any) -> None:
    draft_id = make_draft(sapp, world, scored_definition("dpub-send", title="Att skicka"))
    sender_a = s.staff_client(sapp, world.staff["sender"])
    sender_b = s.staff_client(sapp, world.staff["other"])
    assert "dpub-send" not in _offered(sender_a)
    assert post_publish(designer, draft_id).status_code == 302
    assert "dpub-send" in _offered(sender_a)
    assert "dpub-send" not in _offered(sender_b)
    assert "phq-9" in _offered(sender_b)  # shipped forms stay offered everywhere
    # A sender can send it and a citizen of the unit gets version 1.
    person = world.citizens["adult"]
    send_out_id = s.send_out_via_pages(sender_a, world.unit_id, person.personnummer,
                                       definition="dpub-send")
    assignment = s.assignment_of(sapp, send_out_id, person.id)
    assert assignment.state in ("sent", "scheduled")


@pytest.mark.skipif(
    not os.environ.get("FORMULAR_TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="real write concurrency needs PostgreSQL (set FORMULAR_TEST_DATABASE_URL)")
def test_concurrent_publishes_create_one_version(sapp: Flask, world: s.World) -> None:
    for round_number in range(5):
        definition_id = f"dpub-race-{round_number}"
        draft_id = make_draft(sapp, world, scored_definition(definition_id))
        barrier = threading.Barrier(2)
        outcomes: list[str] = []
        lock = threading.Lock()

        def work(barrier: Any = barrier, draft_id: int = draft_id,
                 outcomes: list[str] = outcomes, lock: Any = lock) -> None:
            with sapp.app_context():
                session = db.session()
                draft = session.get(DesignDraft, draft_id)
                assert draft is not None
                barrier.wait(30)
                try:
                    workspace.publish(session, draft, expected_revision=1, audience="unit",
                                      staff_user_id=world.staff["designer"].id)
                    session.commit()
                    result = "published"
                except (drafts.DraftConflict, workspace.WorkspaceError) as error:
                    session.rollback()
                    result = type(error).__name__
                with lock:
                    outcomes.append(result)

        threads = [threading.Thread(target=work) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert sorted(outcomes) == ["DraftConflict", "published"], outcomes
        assert [v.version for v in versions(sapp, definition_id)] == [1]
