"""Log-in shortcuts for tests outside this folder (functional and browser tests).

They make a staff user or citizen and a server-side session directly, skipping the password
form (and its rate limits), and hand over the cookie. Use them where log-in is not what is
being tested, e.g. the shared ``client`` fixture once preview needs a staff log-in::

    from tests.auth.support import log_in_as_staff
    log_in_as_staff(client, app)                      # a designer in unit "test-unit"

and in Playwright: ``context.add_cookies([{"name": "formular_session",
"value": staff_session_cookie(app), "url": live_server}])``.
"""

from __future__ import annotations

import uuid

from flask import Flask
from flask.testing import FlaskClient

from formular.auth import accounts, sessions
from formular.auth.clock import utcnow
from formular.storage.db import db
from formular.storage.identity import Role

DEFAULT_COOKIE = "formular_session"


def cookie_name(app: Flask) -> str:
    return str(app.config.get("LOGIN_COOKIE_NAME", DEFAULT_COOKIE))


def staff_session_cookie(app: Flask, roles: tuple[Role, ...] = (Role.DESIGNER,),
                         unit_slug: str = "test-unit") -> str:
    """The cookie value of a fresh session for a new staff user holding ``roles`` in the unit
    ``unit_slug`` (created if missing)."""
    with app.app_context(), db.transaction() as session:
        accounts.ensure_unit(session, unit_slug, unit_slug.replace("-", " ").title())
        user = accounts.create_staff(session, f"test-{uuid.uuid4().hex[:12]}", "Test Staff",
                                     None, [(unit_slug, role) for role in roles])
        _, value = sessions.create(session, kind="staff", method="local", now=utcnow(),
                                   staff_user_id=user.id)
        return value


def citizen_session_cookie(app: Flask, citizen_id: int, acting_for_id: int | None = None) -> str:
    """The cookie value of a fresh assurance-level-3 session for an existing citizen."""
    with app.app_context(), db.transaction() as session:
        record, value = sessions.create(session, kind="citizen", method="oidc", now=utcnow(),
                                        citizen_id=citizen_id, assurance_level=3)
        record.acting_for_id = acting_for_id
        return value


def log_in_as_staff(client: FlaskClient, app: Flask, roles: tuple[Role, ...] = (Role.DESIGNER,),
                    unit_slug: str = "test-unit") -> None:
    """Put a staff session cookie into a Flask test client."""
    value = staff_session_cookie(app, roles, unit_slug)
    client.set_cookie(cookie_name(app), value, domain=app.config.get("SERVER_NAME") or "localhost")


def log_in_as_citizen(client: FlaskClient, app: Flask, citizen_id: int,
                      acting_for_id: int | None = None) -> None:
    """Put a citizen session cookie into a Flask test client."""
    value = citizen_session_cookie(app, citizen_id, acting_for_id)
    client.set_cookie(cookie_name(app), value, domain=app.config.get("SERVER_NAME") or "localhost")
