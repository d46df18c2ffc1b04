"""The designer's workspace pages in Debian's Chromium: axe-core finds no WCAG 2.1 A/AA
violations on the workspace, the new-form page (with an import's error list), the draft
overview, the publish page, the version diff and the preview frame (with errors and scores).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import Flask

from formular.auth import accounts
from formular.design import drafts, workspace
from formular.storage.db import db
from formular.storage.design import DesignDraft
from formular.storage.identity import Role
from tests.design.workspace_support import scored_definition

from .helpers import assert_no_violations

UNIT = "test-unit"
Axe = Callable[[Any], list[dict[str, Any]]]


def _draft(app: Flask, definition_id: str, *, publish: int = 0) -> int:
    """A draft of the browser tests' unit, published ``publish`` times (each a new version)."""
    with app.app_context(), db.transaction() as session:
        unit = accounts.ensure_unit(session, UNIT, "Test Unit")
        user = accounts.create_staff(session, f"d1-{definition_id}", "Disa Designer", None,
                                     [(UNIT, Role.DESIGNER)])
        draft = drafts.create_draft(session, unit_id=unit.id,
                                    document=scored_definition(definition_id),
                                    origin="blank", staff_user_id=user.id)
        for number in range(publish):
            if number:
                document = dict(draft.document)
                document["title"] = f"Sömn, version {number + 1}"
                drafts.save_document(session, draft, document,
                                     expected_revision=draft.revision, staff_user_id=user.id,
                                     action="op.test")
            workspace.publish(session, draft, expected_revision=draft.revision,
                              audience="shared", staff_user_id=user.id)
        return draft.id


def test_workspace_and_new_form_pages(page: Any, app: Flask, axe: Axe, tmp_path: Any) -> None:
    _draft(app, "d1b-listed", publish=2)
    page.goto("/design/")
    assert page.locator("h1").first.is_visible()
    assert_no_violations(axe(page), "the designer's workspace")
    page.goto("/design/new")
    assert_no_violations(axe(page), "the new-form page")
    bad = tmp_path / "mall.json"
    bad.write_text(json.dumps({"formular": 1, "title": "<script>alert(1)</script>"}),
                   encoding="utf-8")
    page.set_input_files("input[type=file]", str(bad))
    page.locator("form[action$='/new/import'] button[type=submit]").click()
    page.wait_for_selector("#import-problems")
    assert page.locator(".problem").count() > 1
    assert_no_violations(axe(page), "the new-form page with an import's problems")


def test_overview_publish_and_diff_pages(page: Any, app: Flask, axe: Axe) -> None:
    draft_id = _draft(app, "d1b-pub", publish=2)
    page.goto(f"/design/drafts/{draft_id}")
    assert_no_violations(axe(page), "the draft overview")
    page.goto(f"/design/drafts/{draft_id}/publish")
    assert page.locator("input[name=audience]").count() == 2
    assert_no_violations(axe(page), "the publish page")
    page.goto("/design/definitions/d1b-pub/diff")
    assert page.locator("table.diff").count() == 1
    assert_no_violations(axe(page), "the version diff")
    # A draft with problems: the publish page lists them instead.
    with app.app_context(), db.transaction() as session:
        row = session.get(DesignDraft, draft_id)
        assert row is not None
        document = dict(row.document)
        document["rules"] = [{"id": "later", "when": {"==": [{"var": "comment"}, "x"]},
                              "show": ["mood"]}]
        drafts.save_document(session, row, document, expected_revision=row.revision,
                             staff_user_id=row.updated_by_id or 0, action="op.test")
    page.goto(f"/design/drafts/{draft_id}/publish")
    assert page.locator(".problem").count() == 1
    assert_no_violations(axe(page), "the publish page with problems")


def test_preview_page(page: Any, app: Flask, axe: Axe) -> None:
    draft_id = _draft(app, "d1b-preview")
    page.goto(f"/design/drafts/{draft_id}/preview?age=70&sex=female")
    assert_no_violations(axe(page), "the preview")
    page.locator("button[value=next]").click()
    page.wait_for_selector("#error-summary")
    assert_no_violations(axe(page), "the preview with errors")
    page.locator("input[name=mood][value=often]").check()
    page.locator("input[name=sleep][value=always]").check()
    page.locator("button[value=next]").click()
    page.wait_for_selector("#preview-flags")
    assert page.locator("[data-band]").first.get_attribute("data-band") == "high-65"
    assert_no_violations(axe(page), "the preview with scores and flags")
