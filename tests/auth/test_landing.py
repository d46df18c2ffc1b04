"""After log-in staff land on the first part of the site their roles open, not on a page that
would refuse them (a designer has no send-outs to follow up)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from formular.storage.identity import Role

from .conftest import Factory, log_in


@pytest.mark.parametrize(("role", "landing"), [
    (Role.SENDER, "/staff/"),
    (Role.REVIEWER, "/staff/"),
    (Role.CASE_HANDLER, "/staff/cases/"),
    (Role.CASE_RECEIVER, "/staff/cases/"),
    (Role.DESIGNER, "/design/"),
    (Role.ADMIN, "/admin/casetypes/"),
    (Role.AUDITOR, "/audit/"),
    (Role.TRANSLATOR, "/translate/"),
])
def test_staff_land_where_their_roles_let_them_in(client: FlaskClient, make: Factory,
                                                  role: Role, landing: str) -> None:
    user = make.staff([(make.unit(), role)])
    response = log_in(client, user.username, user.password)
    assert response.status_code == 302
    target = response.headers["Location"]
    assert target.rstrip("/") == landing.rstrip("/")
    assert client.get(target, follow_redirects=True).status_code == 200
    # Asking for the log-in page again while logged in goes to the same place.
    assert client.get("/login").headers["Location"] == target
