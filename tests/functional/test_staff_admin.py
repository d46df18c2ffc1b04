"""A unit's staff and roles (``/admin/staff``): the unit's administrator sees who holds which
role there, gives a role to an existing account (it applies at the account's next page),
takes one away, and adds a SITHS account; refusals are answered at the field and change
nothing; nobody can take away their own administrator role; another unit's administrator
sees nothing of it; every change is in the event log."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select

from formular.auth import accounts
from formular.storage.audit import EventLog
from formular.storage.db import db
from formular.storage.identity import Role, RoleAssignment, StaffUser
from tests.functional import staff_support as s
from tests.functional.support import translate

#: Prefix of this module's objects in the shared database (see tests/functional/conftest.py).
WORLD_PREFIX = "adm"


def _post(client: Any, url: str, **data: str) -> Any:
    return client.post(url, data={"csrf_token": s.fresh_csrf(client), **data})


def _roles(app: Flask, user_id: int, unit_id: int) -> set[str]:
    with app.app_context():
        return {role.value for role in db.session.scalars(select(RoleAssignment.role).where(
            RoleAssignment.user_id == user_id, RoleAssignment.unit_id == unit_id))}


def _assignment_id(app: Flask, user_id: int, unit_id: int, role: Role) -> int:
    with app.app_context():
        found = db.session.scalar(select(RoleAssignment.id).where(
            RoleAssignment.user_id == user_id, RoleAssignment.unit_id == unit_id,
            RoleAssignment.role == role))
        assert found is not None
        return int(found)


def _events(app: Flask, user_id: int) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(EventLog.event).where(
            EventLog.object_type == "staff_user", EventLog.object_id == user_id)
            .order_by(EventLog.id)))


def test_the_unit_page_lists_its_staff_and_only_them(sapp: Flask, world: s.World) -> None:
    admin = s.staff_client(sapp, world.staff["admin"])
    assert s.location(admin.get("/admin/staff/")).endswith(f"/admin/staff/{world.unit_id}/")
    page = s.body(admin.get(f"/admin/staff/{world.unit_id}/"))
    for key in ("sender", "reviewer", "designer", "auditor"):
        assert world.staff[key].username in page
    assert world.staff["b-sender"].username not in page
    assert world.staff["other"].username not in page


def test_a_role_is_given_applies_at_once_and_is_taken_away(sapp: Flask,
                                                          world: s.World) -> None:
    admin = s.staff_client(sapp, world.staff["admin"])
    designer = world.staff["designer"]
    designer_client = s.staff_client(sapp, designer)
    assert designer_client.get("/audit/").status_code == 403
    given = _post(admin, f"/admin/staff/{world.unit_id}/grant", username=designer.username,
                  role="auditor")
    assert s.location(given).endswith(f"/admin/staff/{world.unit_id}/")
    assert _roles(sapp, designer.id, world.unit_id) == {"designer", "auditor"}
    assert designer_client.get("/audit/").status_code == 200  # its next page
    again = _post(admin, f"/admin/staff/{world.unit_id}/grant", username=designer.username,
                  role="auditor")
    assert again.status_code == 400
    assert translate(sapp, "The account has that role in this unit already.") in s.body(again)
    assignment = _assignment_id(sapp, designer.id, world.unit_id, Role.AUDITOR)
    taken = _post(admin, f"/admin/staff/{world.unit_id}/roles/{assignment}/revoke")
    assert taken.status_code == 302
    assert _roles(sapp, designer.id, world.unit_id) == {"designer"}
    assert designer_client.get("/audit/").status_code == 403
    assert _post(admin, f"/admin/staff/{world.unit_id}/roles/{assignment}/revoke"
                 ).status_code == 404
    assert _events(sapp, designer.id)[-2:] == ["staff.role.granted", "staff.role.revoked"]


def test_refusals_are_answered_at_the_field_and_change_nothing(sapp: Flask,
                                                              world: s.World) -> None:
    admin_person = world.staff["admin"]
    admin = s.staff_client(sapp, admin_person)
    unknown = _post(admin, f"/admin/staff/{world.unit_id}/grant", username="nobody-at-all",
                    role="sender")
    assert unknown.status_code == 400
    html = s.body(unknown)
    assert translate(sapp, "There is no account with that username. Add a new account "
                           "instead.") in html
    assert 'aria-describedby="username-error"' in html
    forged_role = _post(admin, f"/admin/staff/{world.unit_id}/grant",
                        username=world.staff["sender"].username, role="emperor")
    assert forged_role.status_code == 400
    assert _roles(sapp, world.staff["sender"].id, world.unit_id) == {"sender"}
    own = _assignment_id(sapp, admin_person.id, world.unit_id, Role.ADMIN)
    refused = _post(admin, f"/admin/staff/{world.unit_id}/roles/{own}/revoke")
    assert refused.status_code == 302
    assert translate(sapp, "You cannot take away your own administrator role. Ask another "
                           "administrator of the unit.") in s.body(admin.get(s.location(refused)))
    assert "admin" in _roles(sapp, admin_person.id, world.unit_id)
    to_self = _post(admin, f"/admin/staff/{world.unit_id}/grant",
                    username=admin_person.username, role="reviewer")
    assert to_self.status_code == 400
    assert translate(sapp, "You cannot give yourself a role. Ask another administrator of "
                           "the unit.") in s.body(to_self)
    assert _roles(sapp, admin_person.id, world.unit_id) == {"admin"}
    assert admin.post(f"/admin/staff/{world.unit_id}/grant",
                      data={"username": world.staff["sender"].username, "role": "admin"}
                      ).status_code == 400  # no CSRF token
    assert _roles(sapp, world.staff["sender"].id, world.unit_id) == {"sender"}


def test_a_siths_account_is_added_with_a_role(sapp: Flask, world: s.World) -> None:
    admin = s.staff_client(sapp, world.staff["admin"])
    url = f"/admin/staff/{world.unit_id}/new"
    assert admin.get(url).status_code == 200
    blank = _post(admin, url, display_name="", username="", email="inte-en-adress",
                  oidc_subject="", role="sender")
    assert blank.status_code == 400
    for message in ("Write the person's name.", "Write a username.",
                    "Write an e-mail address such as name@example.org.",
                    "Write the person's HSA-id."):
        assert translate(sapp, message) in s.body(blank)
    added = _post(admin, url, display_name="Nora <b>Ny</b>", username="adm-nora",
                  email="nora@example.org", oidc_subject="SE2321000016-NORA", role="sender")
    assert added.status_code == 302
    with sapp.app_context():
        user = accounts.staff_by_username(db.session(), "adm-nora")
        assert user is not None
        assert (user.display_name, user.email, user.oidc_subject, user.password_hash) == (
            "Nora <b>Ny</b>", "nora@example.org", "SE2321000016-NORA", None)
        user_id = user.id
    assert _roles(sapp, user_id, world.unit_id) == {"sender"}
    page = s.body(admin.get(f"/admin/staff/{world.unit_id}/"))
    assert "Nora &lt;b&gt;Ny&lt;/b&gt;" in page
    assert _events(sapp, user_id) == ["staff.created"]
    taken = _post(admin, url, display_name="Nora Igen", username="ADM-NORA",
                  oidc_subject="SE2321000016-ANNAN", role="sender")
    assert taken.status_code == 400
    assert translate(sapp, "That username is taken.") in s.body(taken)
    twin = _post(admin, url, display_name="Nora Tvilling", username="adm-nora-2",
                 oidc_subject="SE2321000016-NORA", role="sender")
    assert twin.status_code == 400
    assert translate(sapp, "Another account has that SITHS identity already.") in s.body(twin)
    with sapp.app_context():
        assert db.session.scalar(select(StaffUser.id).where(
            StaffUser.username == "adm-nora-2")) is None


def test_other_units_and_other_roles_see_nothing(sapp: Flask, world: s.World,
                                                 sender: Any) -> None:
    other_admin = s.staff_client(sapp, world.staff["b-admin"])
    assert other_admin.get(f"/admin/staff/{world.unit_id}/").status_code == 404
    assignment = _assignment_id(sapp, world.staff["sender"].id, world.unit_id, Role.SENDER)
    assert _post(other_admin, f"/admin/staff/{world.unit_id}/roles/{assignment}/revoke"
                 ).status_code == 404
    # nor through its own unit's address
    assert _post(other_admin, f"/admin/staff/{world.other_unit_id}/roles/{assignment}/revoke"
                 ).status_code == 404
    assert _post(other_admin, f"/admin/staff/{world.unit_id}/grant",
                 username=world.staff["b-sender"].username, role="admin").status_code == 404
    assert sender.get(f"/admin/staff/{world.unit_id}/").status_code == 403
    assert _roles(sapp, world.staff["sender"].id, world.unit_id) == {"sender"}
    assert _roles(sapp, world.staff["b-sender"].id, world.unit_id) == set()


def test_an_administrator_of_two_units_chooses_one(sapp: Flask, world: s.World) -> None:
    """The unit administration pages (staff, message texts, case types) list the units an
    administrator of several manages, and only those."""
    with sapp.app_context(), db.transaction() as session:
        user = accounts.create_staff(session, "adm-two-units", "Tova Tvåenheter", None,
                                     [("adm-a", Role.ADMIN), ("adm-b", Role.ADMIN)])
        person = s.Person(user.id, user.display_name, username=user.username)
    client = s.staff_client(sapp, person)
    for path, heading in (("/admin/staff/", "Staff and roles"),
                          ("/admin/texts/", "Message texts"),
                          ("/admin/casetypes/", "Case types")):
        page = client.get(path)
        assert page.status_code == 200, path
        html = s.body(page)
        assert f"<h1>{translate(sapp, heading)}</h1>" in html
        assert f'href="{path}{world.unit_id}/"' in html
        assert f'href="{path}{world.other_unit_id}/"' in html
        assert "Region adm" not in html
