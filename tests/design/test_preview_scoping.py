"""The staff preview (/preview) lists and opens only forms the previewer's units may use: a
unit's own published form is not visible to another unit until it is shared as a template."""

from __future__ import annotations

from typing import Any

from flask import Flask

from tests.functional import staff_support as s

from .workspace_support import make_draft, publish_via_service, scored_definition

WORLD_PREFIX = "dprs"


def start(client: Any, definition_id: str) -> Any:
    return client.post(f"/preview/{definition_id}/start", data={
        "csrf_token": s.fresh_csrf(client), "audience": "citizen"})


def test_a_unit_form_is_previewed_by_its_own_unit_only(sapp: Flask, world: s.World) -> None:
    draft_id = make_draft(sapp, world, scored_definition("dprs-own-form", "Egen blankett"))
    publish_via_service(sapp, world, draft_id, audience="unit")
    own = s.staff_client(sapp, world.staff["sender"])
    other = s.staff_client(sapp, world.staff["b-sender"])

    assert "Egen blankett" in s.body(own.get("/preview/"))
    assert start(own, "dprs-own-form").status_code == 302
    assert "Egen blankett" not in s.body(other.get("/preview/"))
    assert start(other, "dprs-own-form").status_code == 404
    # Shipped forms stay visible to every unit.
    assert start(other, "phq-9").status_code == 302


def test_a_shared_template_is_previewed_by_other_units(sapp: Flask, world: s.World) -> None:
    draft_id = make_draft(sapp, world, scored_definition("dprs-shared-form", "Delad mall"))
    publish_via_service(sapp, world, draft_id, audience="shared")
    other = s.staff_client(sapp, world.staff["b-designer"])
    assert "Delad mall" in s.body(other.get("/preview/"))
    assert start(other, "dprs-shared-form").status_code == 302
