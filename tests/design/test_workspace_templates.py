"""Shared templates (R-06, R-07): sharing when publishing, other units subscribing (following
new versions or staying at one), taking a copy, withdrawing; and which version the senders of
each unit are offered."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from sqlalchemy import select

from formular.design import workspace
from formular.storage.db import db
from formular.storage.design import DesignDraft, SharedTemplate, TemplateSubscription
from formular.storage.identity import Role
from tests import factories
from tests.functional import staff_support as s

from .workspace_support import make_draft, post_publish, scored_definition, versions

WORLD_PREFIX = "dtpl"


def _offered_versions(client: Any) -> dict[str, str]:
    """definition id -> the label (with its version) in the send-out wizard's form list."""
    html = s.body(client.get("/staff/sendouts/new"))
    select_html = html[html.index('name="definition"'):]
    select_html = select_html[:select_html.index("</select>")]
    return dict(re.findall(r'value="([^"]+)"[^>]*>([^<]*)<', select_html))


def _set_title(app: Flask, world: s.World, draft_id: int, title: str) -> None:
    from formular.design import drafts

    with app.app_context():
        session = db.session()
        row = session.get(DesignDraft, draft_id)
        assert row is not None
        document = dict(row.document)
        document["title"] = title
        drafts.save_document(session, row, document, expected_revision=row.revision,
                             staff_user_id=world.staff["designer"].id, action="op.test")
        session.commit()


def _subscribe(client: Any, unit_id: int, definition_id: str, follow: bool) -> Any:
    token = s.csrf_of(s.body(client.get(f"/design/?unit={unit_id}")))
    return client.post(f"/design/templates/{definition_id}/subscribe", data={
        "csrf_token": token, "unit": str(unit_id), "follow": "1" if follow else "0"})


def test_sharing_subscribing_following_and_withdrawing(sapp: Flask, world: s.World,
                                                       designer: Any,
                                                       designer_b: Any) -> None:
    with sapp.app_context():
        session = db.session()
        clinic_c = factories.unit(session, slug="dtpl-c", name="Vårdcentralen Cedern dtpl")
        c_sender = factories.staff(session, [(clinic_c, Role.SENDER)], username="dtpl-c-send")
        c_designer = factories.staff(session, [(clinic_c, Role.DESIGNER)],
                                     username="dtpl-c-design")
        session.commit()
        c_id = clinic_c.id
        c_sender_person = s.Person(c_sender.id, c_sender.display_name)
        c_designer_person = s.Person(c_designer.id, c_designer.display_name)
    sender_a = s.staff_client(sapp, world.staff["sender"])
    sender_b = s.staff_client(sapp, world.staff["other"])
    sender_c = s.staff_client(sapp, c_sender_person)
    designer_c = s.staff_client(sapp, c_designer_person)

    draft_id = make_draft(sapp, world, scored_definition("dtpl-sleep", title="Sömn v1"))
    assert post_publish(designer, draft_id, audience="shared").status_code == 302
    with sapp.app_context():
        template = db.session.scalars(select(SharedTemplate).where(
            SharedTemplate.definition_id == "dtpl-sleep")).one()
        assert template.owner_unit_id == world.unit_id
        assert template.withdrawn_at is None

    # Unit B sees the template in its workspace; nobody but A sends it yet.
    listing = s.body(designer_b.get("/design/"))
    assert "Sömn v1" in listing
    assert world.unit_name in listing
    assert "dtpl-sleep" in _offered_versions(sender_a)
    assert "dtpl-sleep" not in _offered_versions(sender_b)
    assert "dtpl-sleep" not in _offered_versions(sender_c)

    # B follows new versions, C stays at version 1.
    assert _subscribe(designer_b, world.other_unit_id, "dtpl-sleep", True).status_code == 302
    assert _subscribe(designer_c, c_id, "dtpl-sleep", False).status_code == 302
    assert "v1" in _offered_versions(sender_b)["dtpl-sleep"]
    assert "v1" in _offered_versions(sender_c)["dtpl-sleep"]

    # Version 2, still shared: B follows, C stays.
    _set_title(sapp, world, draft_id, "Sömn v2")
    assert post_publish(designer, draft_id, audience="shared").status_code == 302
    assert "Sömn v2 (v2)" == _offered_versions(sender_b)["dtpl-sleep"]
    assert "Sömn v1 (v1)" == _offered_versions(sender_c)["dtpl-sleep"]

    # Version 3 for unit A only: withdraws the template; B keeps version 2.
    _set_title(sapp, world, draft_id, "Sömn v3 (bara vi)")
    page = s.body(designer.get(f"/design/drafts/{draft_id}/publish",
                               headers={"Accept-Language": "en"}))
    assert "Publishing for your unit only stops sharing it" in page
    assert post_publish(designer, draft_id, audience="unit").status_code == 302
    assert [v.version for v in versions(sapp, "dtpl-sleep")] == [1, 2, 3]
    assert "Sömn v3 (bara vi) (v3)" == _offered_versions(sender_a)["dtpl-sleep"]
    assert "Sömn v2 (v2)" == _offered_versions(sender_b)["dtpl-sleep"]
    assert "Sömn v1 (v1)" == _offered_versions(sender_c)["dtpl-sleep"]
    listing = s.body(designer_b.get("/design/", headers={"Accept-Language": "en"}))
    assert "Templates no longer shared" in listing
    # Nobody new can subscribe to a withdrawn template.
    with sapp.app_context():
        session = db.session()
        other_unit = factories.unit(session, slug="dtpl-d", name="Vårdcentralen D dtpl")
        session.commit()
        d_id = other_unit.id
        with sapp.test_request_context():
            try:
                workspace.subscribe(db.session(), unit_id=d_id, definition_id="dtpl-sleep",
                                    follow=True, staff_user_id=world.staff["designer"].id)
            except workspace.WorkspaceError:
                pass
            else:
                raise AssertionError("subscribed to a withdrawn template")

    # Unsubscribing removes it from B's senders.
    token = s.csrf_of(s.body(designer_b.get("/design/")))
    response = designer_b.post("/design/templates/dtpl-sleep/unsubscribe", data={
        "csrf_token": token, "unit": str(world.other_unit_id)})
    assert response.status_code == 302
    assert "dtpl-sleep" not in _offered_versions(sender_b)


def test_the_stop_sharing_button(sapp: Flask, world: s.World, designer: Any,
                                 designer_b: Any) -> None:
    draft_id = make_draft(sapp, world, scored_definition("dtpl-stop", title="Att sluta dela"))
    assert post_publish(designer, draft_id, audience="shared").status_code == 302
    assert "Att sluta dela" in s.body(designer_b.get("/design/"))
    # Only the owner unit can withdraw it.
    response = designer_b.post("/design/definitions/dtpl-stop/withdraw", data={
        "csrf_token": s.fresh_csrf(designer_b), "unit": str(world.other_unit_id)})
    assert response.status_code == 404
    response = designer.post("/design/definitions/dtpl-stop/withdraw", data={
        "csrf_token": s.fresh_csrf(designer), "unit": str(world.unit_id)})
    assert response.status_code == 302
    assert "Att sluta dela" not in s.body(designer_b.get("/design/"))
    with sapp.app_context():
        template = db.session.scalars(select(SharedTemplate).where(
            SharedTemplate.definition_id == "dtpl-stop")).one()
        assert template.withdrawn_at is not None
        assert template.last_shared_version == 1


def test_a_copy_of_a_template_is_the_copying_units_own(sapp: Flask, world: s.World,
                                                      designer: Any, designer_b: Any) -> None:
    draft_id = make_draft(sapp, world, scored_definition("dtpl-copyme", title="Mall"))
    assert post_publish(designer, draft_id, audience="shared").status_code == 302
    [version] = versions(sapp, "dtpl-copyme")
    page = designer_b.get(f"/design/new?unit={world.other_unit_id}&from={version.id}")
    html = s.body(page)
    assert f'<option selected value="{version.id}"' in html or \
        f'value="{version.id}" selected' in html
    response = designer_b.post("/design/new/copy", data={
        "csrf_token": s.csrf_of(html), "unit": str(world.other_unit_id),
        "version": str(version.id), "definition_id": "dtpl-our-copy", "title": "Vår mall"})
    assert response.status_code == 302
    with sapp.app_context():
        copy = db.session.scalars(select(DesignDraft).where(
            DesignDraft.definition_id == "dtpl-our-copy")).one()
        assert copy.unit_id == world.other_unit_id
        assert copy.origin == "template"
        assert copy.based_on_version_id == version.id
        # A copy is not a subscription: new versions of the template do not reach it.
        assert db.session.scalars(select(TemplateSubscription).where(
            TemplateSubscription.definition_id == "dtpl-copyme")).first() is None


def test_subscription_routes_check_the_unit(sapp: Flask, world: s.World, designer: Any,
                                            designer_b: Any) -> None:
    draft_id = make_draft(sapp, world, scored_definition("dtpl-guard"))
    assert post_publish(designer, draft_id, audience="shared").status_code == 302
    # B's designer cannot subscribe on behalf of unit A, nor A to its own template.
    assert _subscribe(designer_b, world.unit_id, "dtpl-guard", True).status_code == 404
    response = _subscribe(designer, world.unit_id, "dtpl-guard", True)
    assert response.status_code == 302
    with sapp.app_context():
        assert db.session.scalars(select(TemplateSubscription).where(
            TemplateSubscription.definition_id == "dtpl-guard")).first() is None
    # An unknown template is 404.
    assert _subscribe(designer_b, world.other_unit_id, "dtpl-nothing", True).status_code == 404
