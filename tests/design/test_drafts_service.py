"""The drafts service: loading a draft for a designer, compare-and-set saves with the event
log, and the validation panel's problems (``problems_of``)."""

from __future__ import annotations

import copy
import os
import threading
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from formular.design import drafts
from formular.design.problems import element_at, problems_of
from formular.storage.audit import EventLog
from formular.storage.db import db
from formular.storage.design import DesignDraft
from tests.functional import staff_support as s

from .workspace_support import draft_row, make_draft, scored_definition

WORLD_PREFIX = "dsvc"


def test_a_valid_definition_has_no_problems(sapp: Flask) -> None:
    with sapp.test_request_context():
        assert problems_of(scored_definition("dsvc-valid")) == []


def test_problems_name_their_source_pointer_and_item(sapp: Flask) -> None:
    document = scored_definition("dsvc-problems")
    document["title"] = 5
    with sapp.test_request_context():
        found = problems_of(document)
    assert [(p.source, p.pointer, p.keyword) for p in found] == [("schema", "/title", "type")]
    assert found[0].message
    assert found[0].detail

    document = scored_definition("dsvc-problems")
    items = document["layout"]["pages"][0]["sections"][0]["items"]
    items.append(copy.deepcopy(items[0]))  # "mood" twice
    with sapp.test_request_context():
        found = problems_of(document)
    assert found
    assert all(p.source == "lint" for p in found)
    duplicate = next(p for p in found if p.keyword == "duplicate-id")
    assert duplicate.item == "mood"
    assert duplicate.pointer == "/layout/pages/0/sections/0/items/2/name"


def test_a_failing_test_case_is_a_tests_problem(sapp: Flask) -> None:
    document = scored_definition("dsvc-tests")
    document["tests"] = [{"name": "Alltid dåligt", "answers": {"mood": "always",
                                                               "sleep": "always"},
                          "expect": {"scores": {"burden": 5}}}]
    with sapp.test_request_context():
        found = problems_of(document)
    assert [(p.source, p.pointer) for p in found] == [("tests", "/tests/0")]
    assert "expected 5, got 6" in found[0].detail


def test_problem_messages_are_translated(sapp: Flask) -> None:
    document = scored_definition("dsvc-sv")
    document["title"] = 5
    with sapp.test_request_context(headers={"Accept-Language": "en"}):
        english = problems_of(document)[0].message
    assert english == "A value has the wrong type"


def test_element_at_finds_pages_sections_items_and_schema_owners() -> None:
    document = scored_definition("dsvc-at")
    assert element_at(document, "/layout/pages/1") == "more"
    assert element_at(document, "/layout/pages/1/sections/0") == "other"
    assert element_at(document, "/layout/pages/0/sections/0/items/1/label") == "sleep"
    assert element_at(document, "/schema/properties/comment/maxLength") == "comment"
    assert element_at(document, "/scores/0") is None
    assert element_at(document, "/layout/pages/9/sections/0") is None
    assert element_at("not a document", "/title") is None


def test_get_draft_for_answers_404_outside_the_designers_units(sapp: Flask,
                                                               world: s.World) -> None:
    draft_id = make_draft(sapp, world, scored_definition("dsvc-own"))
    with sapp.test_request_context():
        session = db.session()
        assert drafts.get_draft_for(session, world.actor("designer"), draft_id).id == draft_id
        for other in ("b-designer", "sender", "reviewer"):
            with pytest.raises(NotFound):
                drafts.get_draft_for(session, world.actor(other), draft_id)
        with pytest.raises(NotFound):
            drafts.get_draft_for(session, world.actor("designer"), draft_id + 10_000)


def _save(app: Flask, world: s.World, draft_id: int, document: Any, expected: int,
          who: str = "designer") -> int:
    with app.app_context():
        session = db.session()
        draft = session.get(DesignDraft, draft_id)
        assert draft is not None
        drafts.save_document(session, draft, document, expected_revision=expected,
                             staff_user_id=world.staff[who].id, action="op.test")
        session.commit()
        return draft.revision


def test_save_moves_the_revision_on_and_logs_the_event(sapp: Flask, world: s.World) -> None:
    draft_id = make_draft(sapp, world, scored_definition("dsvc-save"))
    changed = scored_definition("dsvc-save", title="Ny titel")
    assert _save(sapp, world, draft_id, changed, expected=1) == 2
    row = draft_row(sapp, draft_id)
    assert row is not None
    assert row.revision == 2
    assert row.document["title"] == "Ny titel"
    assert row.updated_by_id == world.staff["designer"].id
    with sapp.app_context():
        events = db.session.scalars(select(EventLog).where(
            EventLog.object_type == "design_draft", EventLog.object_id == draft_id)
            .order_by(EventLog.id)).all()
        assert [e.event for e in events] == ["design.draft.created", "design.op.test"]
        assert events[-1].data["revision"] == 2
        assert events[-1].actor_id == world.staff["designer"].id


def test_a_stale_save_is_refused_with_who_saved(sapp: Flask, world: s.World) -> None:
    draft_id = make_draft(sapp, world, scored_definition("dsvc-stale"))
    _save(sapp, world, draft_id, scored_definition("dsvc-stale", title="Först"), expected=1,
          who="designer")
    with pytest.raises(drafts.DraftConflict) as caught:
        _save(sapp, world, draft_id, scored_definition("dsvc-stale", title="Sist"),
              expected=1)
    assert caught.value.current_revision == 2
    assert caught.value.updated_by == world.staff["designer"].name
    assert caught.value.updated_at is not None
    row = draft_row(sapp, draft_id)
    assert row is not None
    assert row.document["title"] == "Först"
    assert row.revision == 2


def test_the_definition_id_follows_the_document_unless_taken(sapp: Flask,
                                                             world: s.World) -> None:
    first = make_draft(sapp, world, scored_definition("dsvc-first"))
    make_draft(sapp, world, scored_definition("dsvc-second"))
    _save(sapp, world, first, scored_definition("dsvc-renamed"), expected=1)
    row = draft_row(sapp, first)
    assert row is not None
    assert row.definition_id == "dsvc-renamed"
    with pytest.raises(drafts.DefinitionIdTaken):
        _save(sapp, world, first, scored_definition("dsvc-second"), expected=2)
    row = draft_row(sapp, first)
    assert row is not None
    assert row.definition_id == "dsvc-renamed"
    assert row.revision == 2
    # A document whose id is not usable keeps the column (the panel reports the bad id).
    broken = scored_definition("dsvc-renamed")
    broken["id"] = "Not A Slug!"
    _save(sapp, world, first, broken, expected=2)
    row = draft_row(sapp, first)
    assert row is not None
    assert row.definition_id == "dsvc-renamed"
    assert row.document["id"] == "Not A Slug!"


def test_saved_documents_are_copies(sapp: Flask, world: s.World) -> None:
    """The caller's document is not shared with the stored one (operations never mutate)."""
    draft_id = make_draft(sapp, world, scored_definition("dsvc-copy"))
    document = scored_definition("dsvc-copy", title="A")
    with sapp.app_context():
        session = db.session()
        draft = session.get(DesignDraft, draft_id)
        assert draft is not None
        drafts.save_document(session, draft, document, expected_revision=1,
                             staff_user_id=world.staff["designer"].id, action="op.test")
        document["title"] = "changed afterwards"
        assert draft.document["title"] == "A"
        session.commit()


@pytest.mark.skipif(
    not os.environ.get("FORMULAR_TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="real write concurrency needs PostgreSQL (set FORMULAR_TEST_DATABASE_URL)")
def test_concurrent_saves_of_one_revision_let_exactly_one_win(sapp: Flask,
                                                              world: s.World) -> None:
    for round_number in range(10):
        draft_id = make_draft(sapp, world, scored_definition(f"dsvc-race-{round_number}"))
        barrier = threading.Barrier(2)
        outcomes: list[str] = []
        lock = threading.Lock()

        def work(title: str, draft_id: int = draft_id, barrier: Any = barrier,
                 round_number: int = round_number, outcomes: list[str] = outcomes,
                 lock: Any = lock) -> None:
            with sapp.app_context():
                session = db.session()
                draft = session.get(DesignDraft, draft_id)
                assert draft is not None
                barrier.wait(30)
                try:
                    drafts.save_document(
                        session, draft, scored_definition(f"dsvc-race-{round_number}", title),
                        expected_revision=1, staff_user_id=world.staff["designer"].id,
                        action="op.race")
                    session.commit()
                    result = title
                except drafts.DraftConflict as conflict:
                    session.rollback()
                    result = f"conflict@{conflict.current_revision}"
                with lock:
                    outcomes.append(result)

        threads = [threading.Thread(target=work, args=(t,)) for t in ("Ett", "Två")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert sorted(o.startswith("conflict") for o in outcomes) == [False, True], outcomes
        assert "conflict@2" in outcomes
        winner = next(o for o in outcomes if not o.startswith("conflict"))
        row = draft_row(sapp, draft_id)
        assert row is not None
        assert row.revision == 2
        assert row.document["title"] == winner
