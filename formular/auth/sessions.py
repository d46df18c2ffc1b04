"""Server-side log-in sessions: created at log-in, resolved on each request, revoked at logout.

Flask's signed cookie session cannot be revoked (ASVS 7.4.1), so a log-in is a row in
``login_session`` and the browser holds only a random 256-bit id (ASVS 7.2.1, 7.2.3). The row
stores the id's SHA-256, so reading the table does not give anyone a live session. No Flask
globals here: callers pass the database session and the time, which keeps this testable with a
frozen clock and usable from jobs (e.g. "log this user out everywhere").
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from formular.storage.sessions import LoginSession

from .clock import as_utc

#: Bytes of randomness in a session id (the cookie value is its URL-safe base64 form).
ID_BYTES = 32
#: ``last_seen_at`` is written at most this often, so a busy page does not write on every hit.
TOUCH_INTERVAL = dt.timedelta(minutes=1)
#: Longer cookie values cannot be ours; they are refused before hashing.
_MAX_COOKIE_LENGTH = 100

KINDS = frozenset({"staff", "citizen"})
METHODS = frozenset({"local", "oidc", "demo"})


#: Key in ``Session.info`` set when resolving wrote to the session row, so the caller commits
#: only then (most requests only read it: no COMMIT round trip).
WROTE = "formular.login_session.wrote"

def key_hash(cookie_value: str) -> str:
    """The stored form of a session id."""
    return hashlib.sha256(cookie_value.encode("ascii", "replace")).hexdigest()


def create(db_session: Session, *, kind: str, method: str, now: dt.datetime,
           staff_user_id: int | None = None, citizen_id: int | None = None,
           assurance_level: int = 0) -> tuple[LoginSession, str]:
    """A new log-in session and the cookie value that opens it (shown once, never stored)."""
    if kind not in KINDS or method not in METHODS:
        raise ValueError("unknown session kind or method")
    if (kind == "staff") != (staff_user_id is not None) or (
            (kind == "citizen") != (citizen_id is not None)):
        raise ValueError("a session belongs to exactly one staff user or citizen")
    cookie_value = secrets.token_urlsafe(ID_BYTES)
    record = LoginSession(
        key_hash=key_hash(cookie_value), kind=kind, method=method,
        staff_user_id=staff_user_id, citizen_id=citizen_id, assurance_level=assurance_level,
        created_at=now, last_seen_at=now,
    )
    db_session.add(record)
    db_session.flush()
    return record, cookie_value


def find(db_session: Session, cookie_value: str) -> LoginSession | None:
    """The session row for a cookie value, whatever its state."""
    if not cookie_value or len(cookie_value) > _MAX_COOKIE_LENGTH:
        return None
    return db_session.scalars(_BY_KEY_HASH, {"key_hash": key_hash(cookie_value)}).first()


#: Every request's first query, built once (no statement construction or cache key per call).
_BY_KEY_HASH = select(LoginSession).where(LoginSession.key_hash == bindparam("key_hash"))


def expires_at(record: LoginSession, idle_minutes: float,
               absolute_hours: float | None = None) -> dt.datetime:
    """When the session ends if nothing more happens: the idle limit, capped by the absolute
    one (ASVS 7.3.1, 7.3.2)."""
    end = as_utc(record.last_seen_at) + dt.timedelta(minutes=idle_minutes)
    if absolute_hours is not None:
        end = min(end, as_utc(record.created_at) + dt.timedelta(hours=absolute_hours))
    return end


def seconds_left(record: LoginSession, now: dt.datetime, idle_minutes: float,
                 absolute_hours: float | None = None) -> int:
    """Whole seconds until the session ends (0 when it has)."""
    left = (expires_at(record, idle_minutes, absolute_hours) - as_utc(now)).total_seconds()
    return max(0, int(left))


def resolve(db_session: Session, cookie_value: str, now: dt.datetime, idle_minutes: float,
            *, absolute_hours: float | None = None, touch: bool = True) -> LoginSession | None:
    """The live session a cookie opens, or None if it is unknown, revoked or timed out.

    A session found timed out is revoked on the spot, so it stays dead even if the limits are
    raised later. With ``touch`` the request counts as activity: ``last_seen_at`` moves to
    ``now`` when it is more than :data:`TOUCH_INTERVAL` old (a status poll passes
    ``touch=False``, or polling would keep an abandoned session alive for ever).
    """
    record = find(db_session, cookie_value)
    if record is None or record.revoked_at is not None:
        return None
    if seconds_left(record, now, idle_minutes, absolute_hours) <= 0:
        record.revoked_at = now
        db_session.flush()
        db_session.info[WROTE] = True
        return None
    if touch and as_utc(now) - as_utc(record.last_seen_at) >= TOUCH_INTERVAL:
        record.last_seen_at = now
        db_session.flush()
        db_session.info[WROTE] = True
    return record


def extend(db_session: Session, record: LoginSession, now: dt.datetime) -> None:
    """Count ``now`` as activity regardless of :data:`TOUCH_INTERVAL` ("Stay logged in")."""
    record.last_seen_at = now
    db_session.flush()


def revoke(db_session: Session, record: LoginSession, now: dt.datetime) -> None:
    """End one session (logout); the cookie value stops working at once, on every worker."""
    if record.revoked_at is None:
        record.revoked_at = now
        db_session.flush()


def revoke_all_for_staff(db_session: Session, user_id: int, now: dt.datetime) -> int:
    """End every live session of a staff user (account disabled, password changed, or an
    administrator's "log out everywhere"; ASVS 7.4.2, 7.4.5). Returns how many were live."""
    result = db_session.execute(
        update(LoginSession)
        .where(LoginSession.staff_user_id == user_id, LoginSession.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session="fetch"))
    return int(getattr(result, "rowcount", 0) or 0)


def revoke_all_for_citizen(db_session: Session, citizen_id: int, now: dt.datetime) -> int:
    """End every live session of a citizen (account locked by the citizen or support)."""
    result = db_session.execute(
        update(LoginSession)
        .where(LoginSession.citizen_id == citizen_id, LoginSession.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session="fetch"))
    return int(getattr(result, "rowcount", 0) or 0)
