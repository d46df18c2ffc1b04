"""The access layer: declared policies, redirects/401/403/404, unit scoping, the registry."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask import Blueprint, Flask, jsonify, render_template_string
from flask.testing import FlaskClient
from sqlalchemy import select, update
from werkzeug.wrappers import Response

from formular.auth.clock import utcnow
from formular.auth.permissions import Permission, is_citizen_permission, scope_of
from formular.auth.sessions import key_hash
from formular.storage.db import db
from formular.storage.identity import Citizen, Role, StaffUser
from formular.storage.sessions import LoginSession
from formular.web import access
from formular.web.access import (
    POLICIES,
    UNDECLARED,
    authorize,
    authorize_or_404,
    current_actor,
    policy_of,
    public,
    require,
    undeclared_endpoints,
)

from .conftest import (
    Factory,
    cookie_value,
    log_in,
    log_in_demo_citizen,
    make_app,
    new_client,
)


def _guarded_blueprint() -> Blueprint:
    bp = Blueprint("guarded", __name__, url_prefix="/guarded")

    @bp.get("/staff")
    @require(Permission.SENDOUT_READ)
    def staff_view() -> str:
        return "staff ok"

    @bp.get("/unit/<int:unit_id>")
    @require(Permission.SENDOUT_READ)
    def unit_view(unit_id: int) -> str:
        authorize_or_404(Permission.SENDOUT_READ, unit_id)
        return "unit ok"

    @bp.get("/unit-function/<int:unit_id>")
    @require(Permission.SENDOUT_READ)
    def unit_function_view(unit_id: int) -> str:
        authorize(Permission.SENDOUT_CREATE, unit_id)
        return "may create"

    @bp.get("/admin")
    @require(Permission.UNIT_MANAGE)
    def admin_view() -> str:
        return "admin ok"

    @bp.get("/citizen")
    @require(Permission.INBOX_READ)
    def citizen_view() -> str:
        return f"citizen {current_actor().subject_citizen_id}"

    @bp.get("/open")
    @public
    def open_view() -> str:
        return "open"

    @bp.get("/whoami")
    @public
    def whoami() -> Response:
        actor = current_actor()
        return jsonify(kind=actor.kind, units={str(unit): sorted(roles)
                                               for unit, roles in actor.units.items()})

    @bp.get("/chrome")
    @public
    def chrome() -> str:
        """The partials the lead includes in base.html, rendered on their own."""
        return render_template_string(
            '<head><meta name="csrf-token" content="{{ csrf_token() }}"></head>'
            '{% include "auth/_account_nav.html" %}{% include "auth/_session_dialog.html" %}')

    @bp.get("/forgotten")
    def forgotten() -> str:
        return "served without a policy"

    return bp


@pytest.fixture(scope="module")
def guarded(database_url: str) -> Flask:
    application = make_app(database_url)
    application.register_blueprint(_guarded_blueprint())
    return application


def _staff_browser(guarded: Flask, make: Factory, roles: list[tuple[int, Role]]) -> FlaskClient:
    user = make.staff(roles)
    client = new_client(guarded)
    assert log_in(client, user.username, user.password).status_code == 302
    return client


def test_anonymous_html_is_sent_to_the_right_log_in(guarded: Flask) -> None:
    client = new_client(guarded)
    staff = client.get("/guarded/staff?x=1")
    assert staff.status_code == 302
    assert staff.headers["Location"] == "/login?next=/guarded/staff?x%3D1"
    citizen = client.get("/guarded/citizen")
    assert citizen.headers["Location"].startswith("/login/citizen?next=")
    assert client.get("/guarded/open").status_code == 200


def test_anonymous_json_gets_401(guarded: Flask) -> None:
    response = new_client(guarded).get("/guarded/staff",
                                       headers={"Accept": "application/json"})
    assert response.status_code == 401
    body: dict[str, Any] = response.get_json()
    assert body["error"] == "login_required"
    assert body["login_url"].startswith("/login?")


def test_undeclared_view_is_refused(guarded: Flask, make: Factory,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    assert new_client(guarded).get("/guarded/forgotten").status_code == 403
    client = _staff_browser(guarded, make, [(make.unit(), Role.ADMIN)])
    assert client.get("/guarded/forgotten").status_code == 403
    monkeypatch.setitem(guarded.config, "ACCESS_REQUIRE_POLICY", False)
    assert client.get("/guarded/forgotten").status_code == 200


def test_staff_needs_the_permission_somewhere(guarded: Flask, make: Factory) -> None:
    sender = _staff_browser(guarded, make, [(make.unit(), Role.SENDER)])
    assert sender.get("/guarded/staff").status_code == 200
    assert sender.get("/guarded/admin").status_code == 403
    assert sender.get("/guarded/citizen").status_code == 403
    designer = _staff_browser(guarded, make, [(make.unit(), Role.DESIGNER)])
    assert designer.get("/guarded/staff").status_code == 403


def test_unit_scoped_objects_of_other_units_are_404(guarded: Flask, make: Factory) -> None:
    mine, theirs = make.unit(), make.unit()
    reviewer = _staff_browser(guarded, make, [(mine, Role.REVIEWER)])
    assert reviewer.get(f"/guarded/unit/{mine}").status_code == 200
    assert reviewer.get(f"/guarded/unit/{theirs}").status_code == 404
    # Function-level: a reviewer may read but not create send-outs, in their own unit too.
    assert reviewer.get(f"/guarded/unit-function/{mine}").status_code == 403


def test_staff_actor_carries_roles_per_unit(guarded: Flask, make: Factory) -> None:
    first, second = make.unit(), make.unit()
    client = _staff_browser(guarded, make, [(first, Role.REVIEWER), (first, Role.SENDER),
                                            (second, Role.AUDITOR)])
    me = client.get("/guarded/whoami").get_json()
    assert me == {"kind": "staff", "units": {str(first): ["reviewer", "sender"],
                                             str(second): ["auditor"]}}


def test_citizen_permissions(guarded: Flask, make: Factory) -> None:
    person = make.citizen(33)
    client = new_client(guarded)
    assert log_in_demo_citizen(client, person.id).status_code == 302
    assert client.get("/guarded/citizen").get_data(as_text=True) == f"citizen {person.id}"
    assert client.get("/guarded/staff").status_code == 403
    assert client.get("/guarded/whoami").get_json()["kind"] == "citizen"


def test_account_partials_for_anonymous_and_logged_in(guarded: Flask, make: Factory) -> None:
    anonymous = new_client(guarded).get("/guarded/chrome").get_data(as_text=True)
    assert 'href="/login"' in anonymous
    assert "session-timeout" not in anonymous
    assert "session.js" not in anonymous
    client = _staff_browser(guarded, make, [(make.unit(), Role.SENDER)])
    html = client.get("/guarded/chrome").get_data(as_text=True)
    assert 'action="/logout"' in html
    assert 'data-status-url="/session/status"' in html
    assert 'data-extend-url="/session/extend"' in html
    assert 'data-idle-seconds="1800"' in html
    assert 'data-warn-seconds="120"' in html
    assert '<script type="module" src="/static/js/session.js"></script>' in html
    assert "What you have answered so far is saved." in html


def test_require_checks_even_when_the_hook_did_not_run(guarded: Flask) -> None:
    view = guarded.view_functions["guarded.staff_view"]
    with guarded.test_request_context("/guarded/staff"):
        response = view()
    assert isinstance(response, Response)
    assert response.status_code == 302


def test_registry_lists_the_auth_endpoints(app: Flask) -> None:
    auth_endpoints = {rule.endpoint for rule in app.url_map.iter_rules()
                      if rule.endpoint.startswith("auth.")}
    assert {"auth.login", "auth.logout", "auth.citizen_login", "auth.demo_citizen_login",
            "auth.oidc_start", "auth.oidc_callback", "auth.session_status",
            "auth.session_extend", "auth.act_as", "auth.logged_out"} <= auth_endpoints
    assert not [name for name in undeclared_endpoints(app) if name.startswith("auth.")]
    assert POLICIES["formular.web.auth.act_as"] is Permission.FORM_ANSWER
    assert POLICIES["formular.web.auth.login"] is None
    assert policy_of(app.view_functions["auth.session_extend"]) is None


def test_registry_finds_undeclared_endpoints(guarded: Flask) -> None:
    assert "guarded.forgotten" in undeclared_endpoints(guarded)
    assert policy_of(guarded.view_functions["guarded.forgotten"]) is UNDECLARED
    assert "static" not in undeclared_endpoints(guarded)


def test_every_endpoint_of_the_app_declares_a_policy(app: Flask) -> None:
    assert undeclared_endpoints(app) == []


def test_permission_scope_helpers() -> None:
    assert scope_of(Permission.DEFINITION_EDIT) == "design"
    assert is_citizen_permission(Permission.FORM_ANSWER)
    assert not is_citizen_permission(Permission.ACCESS_LOG_AUDIT)


@pytest.mark.parametrize(("target", "expected"), [
    ("/inbox", "/inbox"), ("/a?b=c", "/a?b=c"), ("https://evil.example/", "/"),
    ("//evil.example", "/"), ("/\\evil.example", "/"), ("javascript:alert(1)", "/"), ("", "/"),
    (None, "/"),
])
def test_safe_next(target: str | None, expected: str) -> None:
    assert access.safe_next(target) == expected


def test_support_shortcuts_log_in_without_the_form(guarded: Flask, make: Factory) -> None:
    from .support import log_in_as_citizen, log_in_as_staff

    staff = new_client(guarded)
    log_in_as_staff(staff, guarded, (Role.SENDER,))
    assert staff.get("/guarded/staff").status_code == 200
    person = make.citizen(28)
    citizen = new_client(guarded)
    log_in_as_citizen(citizen, guarded, person.id)
    assert citizen.get("/guarded/citizen").get_data(as_text=True) == f"citizen {person.id}"


def test_error_pages_still_know_who_is_logged_in(guarded: Flask, make: Factory) -> None:
    client = _staff_browser(guarded, make, [(make.unit(), Role.SENDER)])
    with client:
        assert client.get("/no/such/page").status_code == 404
        assert current_actor().kind == "staff"  # so the page header can show the account


@pytest.mark.parametrize("change", ["locked", "deceased"])
def test_a_citizen_whose_account_changes_is_logged_out_at_the_next_request(
        guarded: Flask, make: Factory, change: str) -> None:
    """The session's owner is checked on every request (one SELECT joins the owner to the
    session row): a citizen locked or recorded as deceased mid-session acts no more, and the
    session is revoked for good."""
    person = make.citizen(40)
    client = new_client(guarded)
    assert log_in_demo_citizen(client, person.id).status_code == 302
    assert client.get("/guarded/whoami").get_json()["kind"] == "citizen"
    with guarded.app_context(), db.transaction() as session:
        session.execute(update(Citizen).where(Citizen.id == person.id).values({change: True}))
    assert client.get("/guarded/whoami").get_json()["kind"] == "anonymous"
    with guarded.app_context(), db.transaction() as session:
        session.execute(update(Citizen).where(Citizen.id == person.id).values({change: False}))
        revoked = session.scalars(select(LoginSession.revoked_at).where(
            LoginSession.citizen_id == person.id)).all()
    assert revoked
    assert all(at is not None for at in revoked)
    assert client.get("/guarded/whoami").get_json()["kind"] == "anonymous"


@pytest.mark.parametrize("change", ["inactive", "locked"])
def test_a_staff_user_disabled_or_locked_out_acts_no_more(guarded: Flask, make: Factory,
                                                          change: str) -> None:
    client = _staff_browser(guarded, make, [(make.unit(), Role.SENDER)])
    me = client.get("/guarded/whoami").get_json()
    assert me["kind"] == "staff"
    values: dict[str, Any] = ({"active": False} if change == "inactive" else
                              {"locked_until": utcnow() + dt.timedelta(minutes=15)})
    with guarded.app_context(), db.transaction() as session:
        user_id = session.scalars(select(LoginSession.staff_user_id).where(
            LoginSession.key_hash == key_hash(cookie_value(client) or ""))).one()
        session.execute(update(StaffUser).where(StaffUser.id == user_id).values(values))
    assert client.get("/guarded/whoami").get_json()["kind"] == "anonymous"
    assert client.get("/guarded/staff").status_code == 302
