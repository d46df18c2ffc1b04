"""Who is asking, and may they: the one place where every request is authorised.

``init_app`` installs a ``before_request`` hook that turns the log-in cookie into an
:class:`~formular.auth.permissions.Actor` on ``g.actor`` and then applies the policy the view
declared with :func:`require` or :func:`public`. A view that declares nothing is refused
(``ACCESS_REQUIRE_POLICY``, on by default), and :func:`undeclared_endpoints` lets a test fail
whenever a new route is left unclassified (security brief §6, test 1). ``@require`` also checks
by itself when the hook did not run, so a view is never open because of wiring.

Object-level checks stay in the views, which know the object: :func:`authorize_or_404` answers
404 for another unit's object so ids cannot be probed (ASVS 8.2.2, 8.4.1).
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
from collections import defaultdict
from collections.abc import Callable
from typing import Any, Literal, TypeVar, cast
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, g, jsonify, redirect, request, url_for
from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from formular.auth import citizens, sessions
from formular.auth.clock import as_utc, swedish_today, utcnow
from formular.auth.permissions import ANONYMOUS, Actor, Permission, is_citizen_permission
from formular.auth.ratelimit import lock_holds
from formular.storage.alongside import Alongside
from formular.storage.db import db
from formular.storage.identity import Role, RoleAssignment
from formular.storage.sessions import LoginSession

F = TypeVar("F", bound=Callable[..., Any])

#: Settings this module reads, with their defaults (``setdefault``: the app's values win).
DEFAULTS: dict[str, Any] = {
    "LOGIN_COOKIE_NAME": "formular_session",
    "SESSION_IDLE_MINUTES": 30,
    "SESSION_ABSOLUTE_HOURS": 12,
    "SESSION_WARN_SECONDS": 120,
    "ACCESS_REQUIRE_POLICY": True,
    "AUTH_CLOCK": None,
}

POLICY_ATTR = "__formular_policy__"
#: Attribute of a view naming the read to make with the session lookup (see reads_alongside).
ALONGSIDE_ATTR = "__formular_alongside__"
#: Every declared view: qualified function name → the permission it needs (None: public).
POLICIES: dict[str, Permission | None] = {}

#: Requests that must not count as activity: the idle-time poll would otherwise keep an
#: abandoned session alive for ever.
NO_TOUCH_ENDPOINTS = frozenset({"auth.session_status"})


class Undeclared(enum.Enum):
    """The policy of a view that declared none."""

    UNDECLARED = "undeclared"


UNDECLARED = Undeclared.UNDECLARED


# -- declaring ------------------------------------------------------------------------------


def _declare(view: Callable[..., Any], policy: Permission | None) -> None:
    setattr(view, POLICY_ATTR, policy)
    POLICIES[f"{view.__module__}.{view.__qualname__}"] = policy


def public(view: F) -> F:
    """Declare a view open to everybody, logged in or not (a decision, not an omission)."""
    _declare(view, None)
    return view


def require(permission: Permission) -> Callable[[F], F]:
    """Declare that a view needs ``permission`` (held in some unit, for staff).

    Anonymous visitors are sent to the staff or citizen log-in (HTML) or get 401 (JSON); a
    logged-in actor without the permission gets 403. Put it *below* the route decorator, so the
    registered view is the declared one.
    """

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if g.get("access_checked") != request.endpoint:
                if "actor" not in g:
                    _load_actor()
                denied = check(permission)
                if denied is not None:
                    return denied
            return view(*args, **kwargs)

        _declare(wrapper, permission)
        return cast(F, wrapper)

    return decorate


def reads_alongside(make: Callable[[dict[str, Any]], Alongside | None]) -> Callable[[F], F]:
    """Declare the read a view makes first, ``make(view_args)``, so the log-in session
    lookup makes it in the same statement (see :mod:`formular.storage.alongside`)."""

    def decorate(view: F) -> F:
        setattr(view, ALONGSIDE_ATTR, make)
        return view

    return decorate


def _alongside() -> Alongside | None:
    view = current_app.view_functions.get(request.endpoint or "")
    make = getattr(view, ALONGSIDE_ATTR, None)
    return make(request.view_args or {}) if make is not None else None


def policy_of(
        view: Callable[..., Any] | None) -> Permission | None | Literal[Undeclared.UNDECLARED]:
    """The permission a view declared, None for public, :data:`UNDECLARED` for neither."""
    if view is None or not hasattr(view, POLICY_ATTR):
        return UNDECLARED
    policy: Permission | None = getattr(view, POLICY_ATTR)
    return policy


def _is_static(endpoint: str) -> bool:
    return endpoint == "static" or endpoint.endswith(".static")


def undeclared_endpoints(app: Flask) -> list[str]:
    """Endpoints in ``app.url_map`` whose view declares no policy (static files exempt)."""
    return sorted(
        rule.endpoint for rule in app.url_map.iter_rules()
        if not _is_static(rule.endpoint)
        and policy_of(app.view_functions.get(rule.endpoint)) is UNDECLARED)


# -- the actor ------------------------------------------------------------------------------


def now() -> dt.datetime:
    """The current instant for log-in decisions; ``AUTH_CLOCK`` (a callable) overrides it in
    tests that move time."""
    clock = current_app.config.get("AUTH_CLOCK")
    return as_utc(clock() if callable(clock) else utcnow())


def current_actor() -> Actor:
    """Who is making this request (ANONYMOUS outside a request or before log-in)."""
    actor = g.get("actor") if g else None
    return actor if isinstance(actor, Actor) else ANONYMOUS


def current_login_session() -> LoginSession | None:
    """The log-in session row behind this request, for the few views that change it (log
    out, stay logged in, act for a child): loaded on first use, once per request."""
    live = current_live_session()
    if live is None:
        return None
    record = g.get("login_session_row")
    if not isinstance(record, LoginSession):
        record = db.session().get(LoginSession, live.id)
        g.login_session_row = record
    return record if isinstance(record, LoginSession) else None


def current_live_session() -> sessions.LiveSession | None:
    """The live log-in session behind this request as it was read at its start, if any."""
    record = g.get("login_session") if g else None
    return record if isinstance(record, sessions.LiveSession) else None


def idle_minutes() -> float:
    return float(current_app.config["SESSION_IDLE_MINUTES"])


def absolute_hours() -> float | None:
    value = current_app.config.get("SESSION_ABSOLUTE_HOURS")
    return float(value) if value else None


def _staff_actor(db_session: Session, record: sessions.LiveSession,
                 moment: dt.datetime) -> Actor | None:
    if record.staff_user_id is None or not record.owner_active or lock_holds(
            record.owner_locked_until, moment):
        return None
    units: dict[int, set[Role]] = defaultdict(set)
    for unit_id, role in db_session.execute(_ROLES_OF, {"user_id": record.staff_user_id}):
        units[unit_id].add(Role(role))
    return Actor(kind="staff", staff_user_id=record.staff_user_id,
                 display_name=record.owner_name or "",
                 units={unit: frozenset(roles) for unit, roles in units.items()},
                 login_session_id=record.id)


_ROLES = cast(Table, RoleAssignment.__table__)
_ROLES_OF = (select(_ROLES.c.unit_id, _ROLES.c.role)
             .where(_ROLES.c.user_id == bindparam("user_id")))


def _citizen_actor(db_session: Session, record: sessions.LiveSession,
                   moment: dt.datetime) -> Actor | None:
    if record.citizen_id is None or not record.owner_active:
        return None
    acting_for = record.acting_for_id
    if acting_for is not None and citizens.agency_child(
            db_session, record.citizen_id, acting_for, swedish_today(moment)) is None:
        # Custody ended, the child turned 13 or got protected identity: back to oneself.
        sessions.stop_acting_for(db_session, record)
        acting_for = None
    return Actor(kind="citizen", citizen_id=record.citizen_id, acting_for_id=acting_for,
                 display_name=record.owner_name or "", login_session_id=record.id)


def actor_for(db_session: Session, record: sessions.LiveSession, moment: dt.datetime,
              demo: bool) -> Actor | None:
    """The actor a live session stands for, or None when its owner may no longer act
    (disabled or locked account, a demo session after the demo setting was turned off)."""
    if record.method == "demo" and not demo:
        return None
    if record.kind == "staff":
        return _staff_actor(db_session, record, moment)
    if record.kind == "citizen":
        return _citizen_actor(db_session, record, moment)
    return None


def _load_actor() -> None:
    g.actor = ANONYMOUS
    g.login_session = None
    cookie = request.cookies.get(current_app.config["LOGIN_COOKIE_NAME"])
    if not cookie:
        return
    moment = now()
    db_session = db.session()
    record = sessions.resolve(db_session, cookie, moment, idle_minutes(),
                              absolute_hours=absolute_hours(),
                              touch=request.endpoint not in NO_TOUCH_ENDPOINTS,
                              alongside=_alongside())
    actor = actor_for(db_session, record, moment, bool(current_app.config.get("DEMO"))) \
        if record is not None else None
    if record is not None and actor is None:
        sessions.revoke_live(db_session, record, moment)
    if db_session.info.pop(sessions.WROTE, False):
        db_session.commit()
    if actor is None:
        g.clear_login_cookie = True
        return
    g.actor = actor
    g.login_session = record


# -- checking -------------------------------------------------------------------------------


def wants_json() -> bool:
    """Whether the client asked for JSON rather than a page (fetch calls, API clients)."""
    if request.is_json:
        return True
    accepted = request.accept_mimetypes
    return accepted["application/json"] > accepted["text/html"]


def safe_next(target: str | None, default: str = "/") -> str:
    """``target`` if it is a path on this site, else ``default`` (no open redirects)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") \
            or "\\" in target:
        return default
    return target


def login_url(permission: Permission | None = None, next_url: str | None = None) -> str:
    """Where to log in for ``permission``: citizens use e-legitimation, everybody else the
    staff log-in."""
    endpoint = "auth.citizen_login" if permission is not None and is_citizen_permission(
        permission) else "auth.login"
    return url_for(endpoint, next=safe_next(next_url, "")) if next_url else url_for(endpoint)


def _login_required(permission: Permission) -> Response:
    target = login_url(permission, request.full_path.rstrip("?"))
    if wants_json():
        response = jsonify(error="login_required", login_url=target)
        response.status_code = 401
        return response
    return redirect(target)


def check(policy: Permission | None) -> Response | None:
    """Apply a view's policy to the current actor: None to go on, else the response to send."""
    if policy is None:
        return None
    actor = current_actor()
    if actor.kind == "anonymous":
        return _login_required(policy)
    if not actor.can(policy):
        abort(403)
    return None


def _before_request() -> Response | None:
    endpoint = request.endpoint
    if endpoint is not None and _is_static(endpoint):
        return None  # static files: nobody's data, and no database work
    _load_actor()
    if endpoint is None:
        return None  # a routing error (404/405): its error page shows who is logged in
    policy = policy_of(current_app.view_functions.get(endpoint))
    if policy is UNDECLARED:
        if not current_app.config["ACCESS_REQUIRE_POLICY"]:
            return None
        current_app.logger.error("endpoint %s declares no access policy; refused", endpoint)
        abort(403)
    g.access_checked = endpoint
    return check(policy)


def authorize(permission: Permission, unit_id: int) -> None:
    """403 unless the actor holds ``permission`` in ``unit_id`` (function-level denial)."""
    if not current_actor().can(permission, unit_id):
        abort(403)


def authorize_or_404(permission: Permission, unit_id: int | None) -> None:
    """404 unless the actor holds ``permission`` in the unit that owns the loaded object.

    For object lookups: a 403 would confirm that another unit's object exists.
    """
    if unit_id is None or not current_actor().can(permission, unit_id):
        abort(404)


def authorize_citizen_or_404(citizen_id: int | None) -> None:
    """404 unless the object belongs to the citizen this session works on (themself, or the
    child they act for): citizens see only their own data."""
    actor = current_actor()
    if not actor.is_citizen or citizen_id is None or actor.subject_citizen_id != citizen_id:
        abort(404)


# -- the cookie -----------------------------------------------------------------------------


def set_login_cookie(response: Response, value: str) -> None:
    """Give the browser a new log-in session id. A browser-session cookie (no Max-Age): the
    server decides when it ends."""
    g.clear_login_cookie = False
    response.set_cookie(current_app.config["LOGIN_COOKIE_NAME"], value, path="/",
                        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
                        httponly=True, samesite="Lax")


def clear_login_cookie(response: Response) -> None:
    g.clear_login_cookie = False
    response.delete_cookie(current_app.config["LOGIN_COOKIE_NAME"], path="/",
                           secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
                           httponly=True, samesite="Lax")


def _after_request(response: Response) -> Response:
    if g.get("clear_login_cookie"):
        clear_login_cookie(response)
    return response


def init_app(app: Flask) -> None:
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    app.before_request(_before_request)
    app.after_request(_after_request)

    @app.context_processor
    def _access_globals() -> dict[str, Any]:
        return {"current_actor": current_actor}
