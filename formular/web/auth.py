"""Log-in and log-out: staff passwords, OpenID Connect, the demo citizen, idle time, act-as.

The log-in cookie (``formular_session``: HttpOnly, SameSite=Lax, Secure in production) holds
only a random session id; Flask's signed session keeps the CSRF token and the language. Every
log-in makes a new id and revokes whatever session the browser had (no session fixation,
ASVS 7.2.4), and starts a fresh signed session, so a CSRF token from before the log-in is void.
Failures say only "Wrong username or password", whether the user exists, is locked or mistyped
(ASVS 6.3.8); a locked account learns nothing more than anyone else.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import requests
from authlib.common.errors import AuthlibBaseError
from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from joserfc.errors import JoseError
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from formular.auth import accounts, citizens, oidc, passwords, ratelimit, sessions
from formular.auth.clock import swedish_today
from formular.auth.permissions import ROLE_PERMISSIONS, Permission
from formular.storage.audit import EventLog
from formular.storage.db import db
from formular.storage.identity import Citizen, Role, StaffUser

from . import access
from .access import public, require

bp = Blueprint("auth", __name__)

EXTENSION = "formular.auth"

#: Settings read here, with their defaults (``setdefault``: the app's values win).
DEFAULTS: dict[str, Any] = {
    "LOGIN_MAX_ATTEMPTS": 5,
    "LOGIN_MAX_ATTEMPTS_PER_IP": 20,
    "LOGIN_WINDOW_MINUTES": 15,
    "LOGIN_LOCKOUT_MINUTES": 15,
    "OIDC_ACR_LEVELS": dict(oidc.DEFAULT_ACR_LEVELS),
    "OIDC_CITIZEN_PNR_CLAIM": oidc.DEFAULT_PNR_CLAIM,
}

#: The one message for every failed password log-in.
WRONG_CREDENTIALS = _l("Wrong username or password.")
#: The assurance level demo log-ins are given, so the citizen side can be tried out.
DEMO_ASSURANCE_LEVEL = 3
#: How many demo citizens the demo log-in lists.
DEMO_CITIZEN_LIMIT = 100
MAX_USERNAME_LENGTH = 100

CITIZEN_REFUSALS = {
    "assurance": _l("Your log-in method is not strong enough for health data. Log in with "
                    "BankID, Freja+ or another e-legitimation at assurance level 3."),
    "identity": _l("Your identity number could not be read from the log-in. Try again, or "
                   "contact the clinic."),
    "too_young": _l("You can log in yourself from the age of 13. A guardian can answer for "
                    "a child under 13."),
    "locked": _l("This account is locked. Contact the clinic or support to open it."),
    "deceased": _l("This account is closed."),
}


def init_app(app: Flask) -> None:
    """Install log-in for an app: access checks, OIDC clients and the ``auth`` blueprint.
    Idempotent, so a test can call it on an app that the factory already wired."""
    if EXTENSION in app.extensions:
        return
    app.extensions[EXTENSION] = True
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    access.init_app(app)
    oidc.init_app(app)
    app.register_blueprint(bp)


# -- helpers --------------------------------------------------------------------------------


def _event(db_session: Session, event: str, actor_kind: str, actor_id: int | None,
           object_id: int | None = None, **data: Any) -> None:
    """A security event (ASVS 16.3.1): log-ins, failures, lockouts, logouts, act-as."""
    db_session.add(EventLog(at=access.now(), actor_kind=actor_kind, actor_id=actor_id,
                            event=event, object_type="citizen" if object_id else None,
                            object_id=object_id, data=data))


def _fresh_flask_session() -> None:
    """Start a new signed session (new CSRF token, no leftovers), keeping the language."""
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language


def _log_in(kind: str, method: str, next_url: str, *, staff_user_id: int | None = None,
            citizen_id: int | None = None, assurance_level: int = 0) -> Response:
    """Open a new log-in session and send the browser on; the old session id is revoked."""
    db_session = db.session()
    moment = access.now()
    old_cookie = request.cookies.get(current_app.config["LOGIN_COOKIE_NAME"])
    if old_cookie:
        old = sessions.find(db_session, old_cookie)
        if old is not None:
            sessions.revoke(db_session, old, moment)
    record, cookie_value = sessions.create(
        db_session, kind=kind, method=method, now=moment, staff_user_id=staff_user_id,
        citizen_id=citizen_id, assurance_level=assurance_level)
    _event(db_session, "auth:login", kind, staff_user_id or citizen_id, method=method,
           assurance_level=assurance_level)
    db_session.commit()
    _fresh_flask_session()
    response = redirect(next_url)
    access.set_login_cookie(response, cookie_value)
    return response


def _next_url() -> str:
    return access.safe_next(request.values.get("next"), "")


def _page(template: str, status: int = 200, **context: Any) -> Response:
    response = make_response(render_template(template, **context))
    response.status_code = status
    return response


def _refused(message: Any, status: int = 403, kind: str = "citizen") -> Response:
    return _page("auth/refused.html", status, message=message, kind=kind)


def _citizen_login_available() -> bool:
    return bool(current_app.config.get("DEMO")) or oidc.is_configured("citizen")


def _citizen_landing(citizen_id: int, next_url: str) -> str:
    """After a citizen logs in: where they were going; else the act-as choice for a guardian
    of young children; else the start page."""
    if next_url:
        return next_url
    today = swedish_today(access.now())
    if citizens.children_in_agency(db.session(), citizen_id, today):
        return url_for("auth.act_as")
    return _landing("citizen")


def _landing(kind: str) -> str:
    """The home of each kind of user, where that part of the site is installed."""
    endpoint = {"staff": "staff.index", "citizen": "citizen.inbox"}[kind]
    return url_for(endpoint if endpoint in current_app.view_functions else "home.index")


#: Where staff land after log-in: the first part of the site their roles open (a designer
#: or a case handler has no send-outs to follow up, so the follow-up page would refuse them).
STAFF_HOMES: tuple[tuple[Permission, str], ...] = (
    (Permission.SENDOUT_READ, "staff.index"),
    (Permission.CASE_READ, "cases_staff.index"),
    (Permission.DEFINITION_EDIT, "design.index"),
    (Permission.CASETYPE_MANAGE, "casetypes_admin.index"),
    (Permission.ACCESS_LOG_AUDIT, "audit.index"),
    (Permission.CATALOG_READ, "translate.index"),
)


def _staff_landing(roles: Iterable[Role]) -> str:
    granted: set[Permission] = set()
    for role in roles:
        granted |= ROLE_PERMISSIONS[role]
    for permission, endpoint in STAFF_HOMES:
        if permission in granted and endpoint in current_app.view_functions:
            return url_for(endpoint)
    return url_for("home.index")


def _roles_of(user: StaffUser) -> list[Role]:
    return [Role(assignment.role) for assignment in user.roles]


# -- staff password log-in ------------------------------------------------------------------


def _login_page(next_url: str, username: str = "", error: Any = None,
                status: int = 200) -> Response:
    return _page("auth/login.html", status, next=next_url, username=username, error=error,
                 citizen_login=_citizen_login_available(),
                 staff_oidc=oidc.is_configured("staff"))


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> Response:
    next_url = _next_url()
    if request.method == "GET":
        actor = access.current_actor()
        if actor.is_staff:
            roles = [role for held in actor.units.values() for role in held]
            return redirect(next_url or _staff_landing(roles))
        return _login_page(next_url)

    username = request.form.get("username", "").strip()[:MAX_USERNAME_LENGTH]
    password = request.form.get("password", "")
    if not username or not password:
        return _login_page(next_url, username, _("Enter your username and password."))

    db_session = db.session()
    moment = access.now()
    limits = ratelimit.Limits.from_config(current_app.config)
    address = request.remote_addr
    wait = ratelimit.retry_after(db_session, username, address, moment, limits)
    if wait is not None:
        response = _login_page(next_url, username, _(
            "Too many failed log-in attempts. Wait %(minutes)s minutes and try again.",
            minutes=math.ceil(wait / 60)), status=429)
        response.headers["Retry-After"] = str(wait)
        return response

    user = accounts.staff_by_username(db_session, username)
    matched, new_hash = False, None
    if user is None:
        passwords.dummy_verify(password)
    else:
        matched, new_hash = passwords.verify_password(user.password_hash, password)

    if user is None or not matched or not user.active or ratelimit.is_locked(user, moment):
        ratelimit.record_attempt(db_session, username, address, moment, False, limits)
        if user is not None:
            was_locked = ratelimit.is_locked(user, moment)
            if not matched:
                ratelimit.register_failure(user, moment, limits)
            _event(db_session, "auth:login_failed", "staff", user.id, method="local")
            if not was_locked and ratelimit.is_locked(user, moment):
                _event(db_session, "auth:locked", "staff", user.id)
        db_session.commit()
        return _login_page(next_url, username, WRONG_CREDENTIALS)

    if new_hash is not None:
        user.password_hash = new_hash
    ratelimit.register_success(user)
    ratelimit.record_attempt(db_session, username, address, moment, True, limits)
    return _log_in("staff", "local", next_url or _staff_landing(_roles_of(user)),
                   staff_user_id=user.id)


@bp.post("/logout")
@public
def logout() -> Response:
    record = access.current_login_session()
    if record is not None:
        db_session = db.session()
        sessions.revoke(db_session, record, access.now())
        _event(db_session, "auth:logout", record.kind,
               record.staff_user_id or record.citizen_id)
        db_session.commit()
    _fresh_flask_session()
    response = redirect(url_for("auth.logged_out"))
    access.clear_login_cookie(response)
    return response


@bp.get("/logged-out")
@public
def logged_out() -> str:
    return render_template("auth/logged_out.html")


# -- citizens -------------------------------------------------------------------------------


def _demo_citizens() -> list[Citizen]:
    """Citizens old enough to log in themselves, for the demo's "log in as" list."""
    today = swedish_today(access.now())
    found = db.session.scalars(
        select(Citizen).where(Citizen.locked.is_(False), Citizen.deceased.is_(False))
        .order_by(Citizen.name, Citizen.id).limit(DEMO_CITIZEN_LIMIT * 2)).all()
    adults = [person for person in found
              if person.age_on(today) >= citizens.LOGIN_MIN_AGE]
    return adults[:DEMO_CITIZEN_LIMIT]


@bp.get("/login/citizen")
@public
def citizen_login() -> Response:
    """Choose how to log in as a citizen: e-legitimation, and in the demo a test person."""
    if not _citizen_login_available():
        abort(404)
    demo = bool(current_app.config.get("DEMO"))
    today = swedish_today(access.now())
    return _page("auth/citizen_login.html", next=_next_url(),
                 oidc_available=oidc.is_configured("citizen"), demo=demo,
                 demo_citizens=_demo_citizens() if demo else [], today=today)


@bp.post("/login/demo-citizen")
@public
def demo_citizen_login() -> Response:
    """Log in as a fictional citizen: only in the demo setting, never in production."""
    if not current_app.config.get("DEMO"):
        abort(404)
    choice = request.form.get("citizen", "")
    if not choice.isdigit():
        abort(400)
    citizen = db.session.get(Citizen, int(choice))
    if citizen is None:
        abort(400)
    refusal = citizens.login_refusal(citizen.identity, citizen, swedish_today(access.now()))
    if refusal is not None:
        return _refused(CITIZEN_REFUSALS[refusal])
    return _log_in("citizen", "demo", _citizen_landing(citizen.id, _next_url()),
                   citizen_id=citizen.id, assurance_level=DEMO_ASSURANCE_LEVEL)


# -- OpenID Connect -------------------------------------------------------------------------


@bp.get("/login/oidc/<kind>")
@public
def oidc_start(kind: str) -> Response:
    client = oidc.client(kind)
    if client is None:
        abort(404)
    session["login_next"] = _next_url()
    redirect_uri = url_for("auth.oidc_callback", kind=kind, _external=True)
    response: Response = client.authorize_redirect(
        redirect_uri, **oidc.authorize_params(current_app.config, kind))
    return response


@bp.get("/login/oidc/<kind>/callback")
@public
def oidc_callback(kind: str) -> Response:
    """The identity provider sends the browser back here with a code; Authlib exchanges it and
    validates the ID token (signature, issuer, audience, expiry, nonce) before we read it."""
    client = oidc.client(kind)
    if client is None:
        abort(404)
    try:
        token = client.authorize_access_token()
    except (AuthlibBaseError, JoseError, requests.RequestException, ValueError, KeyError):
        current_app.logger.warning("OIDC %s log-in failed", kind, exc_info=True)
        return _refused(_("The log-in could not be completed. Try again."), 400, kind)
    claims = token.get("userinfo") if isinstance(token, dict) else None
    if not claims:
        return _refused(_("The log-in could not be completed. Try again."), 400, kind)
    next_url = access.safe_next(session.pop("login_next", None), "")
    if kind == "citizen":
        return _oidc_citizen(dict(claims), next_url)
    return _oidc_staff(dict(claims), next_url)


def _oidc_citizen(claims: dict[str, Any], next_url: str) -> Response:
    db_session = db.session()
    today = swedish_today(access.now())
    try:
        found = oidc.citizen_claims(claims, current_app.config, today)
    except oidc.LoginRefused as refusal:
        _event(db_session, "auth:login_refused", "citizen", None, method="oidc",
               reason=refusal.reason)
        db_session.commit()
        return _refused(CITIZEN_REFUSALS[refusal.reason])
    existing = citizens.by_identity(db_session, found.identity)
    refusal_code = citizens.login_refusal(found.identity, existing, today)
    if refusal_code is not None:
        return _refused(CITIZEN_REFUSALS[refusal_code])
    citizen = citizens.find_or_create(db_session, found.identity, found.name)
    return _log_in("citizen", "oidc", _citizen_landing(citizen.id, next_url),
                   citizen_id=citizen.id, assurance_level=found.assurance_level)


def _oidc_staff(claims: dict[str, Any], next_url: str) -> Response:
    subject = claims.get("sub")
    user = db.session.scalars(
        select(StaffUser).where(StaffUser.oidc_subject == str(subject))).first() \
        if subject else None
    if user is None or not user.active:
        return _refused(_("No active staff account is linked to this log-in. Contact your "
                          "administrator."), kind="staff")
    level = oidc.assurance_level(claims, oidc.acr_levels(current_app.config))
    return _log_in("staff", "oidc", next_url or _staff_landing(_roles_of(user)),
                   staff_user_id=user.id,
                   assurance_level=level)


# -- idle time ------------------------------------------------------------------------------


def _status(record: sessions.Timed | None) -> dict[str, Any]:
    if record is None:
        return {"logged_in": False, "seconds_left": 0}
    return {
        "logged_in": True,
        "seconds_left": sessions.seconds_left(record, access.now(), access.idle_minutes(),
                                              access.absolute_hours()),
        "idle_seconds": int(access.idle_minutes() * 60),
        "warn_seconds": int(current_app.config["SESSION_WARN_SECONDS"]),
    }


@bp.get("/session/status")
@public
def session_status() -> Response:
    """Seconds left before the idle time-out; polling this does not count as activity."""
    return jsonify(_status(access.current_live_session()))


@bp.post("/session/extend")
@public
def session_extend() -> Response:
    """"Stay logged in": count now as activity. Needs the CSRF token (header X-CSRFToken)."""
    record = access.current_login_session()
    if record is None:
        response = jsonify(error="login_required", logged_in=False, seconds_left=0)
        response.status_code = 401
        return response
    sessions.extend(db.session(), record, access.now())
    db.session.commit()
    return jsonify(_status(record))


# -- guardians ------------------------------------------------------------------------------


@bp.route("/act-as", methods=["GET", "POST"])
@require(Permission.FORM_ANSWER)
def act_as() -> Response:
    """A guardian chooses whom to act for: themself or a child under 13 (1177's agent rule)."""
    actor = access.current_actor()
    record = access.current_login_session()
    if actor.citizen_id is None or record is None:
        abort(403)
    db_session = db.session()
    today = swedish_today(access.now())
    me = db_session.get(Citizen, actor.citizen_id)
    children = citizens.children_in_agency(db_session, actor.citizen_id, today)
    next_url = _next_url()
    if request.method == "GET":
        return _page("auth/act_as.html", me=me, children=children, next=next_url,
                     acting_for_id=actor.acting_for_id, error=None)

    choice = request.form.get("subject", "")
    if choice == "self":
        record.acting_for_id = None
    elif choice.isdigit() and (child := citizens.agency_child(
            db_session, actor.citizen_id, int(choice), today)) is not None:
        record.acting_for_id = child.id
    else:
        _event(db_session, "auth:act_as_refused", "citizen", actor.citizen_id)
        db_session.commit()
        return _page("auth/act_as.html", 403, me=me, children=children, next=next_url,
                     acting_for_id=actor.acting_for_id,
                     error=_("You cannot act for this person. A guardian can act for a child "
                             "only until the child turns 13."))
    _event(db_session, "auth:act_as", "citizen", actor.citizen_id,
           object_id=record.acting_for_id)
    db_session.commit()
    return redirect(next_url or _landing("citizen"))
