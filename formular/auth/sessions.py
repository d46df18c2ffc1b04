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
from dataclasses import dataclass, replace
from typing import Protocol, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from formular.storage import alongside as reads_alongside
from formular.storage.alongside import Alongside
from formular.storage.identity import Citizen, StaffUser
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
    if not _plausible(cookie_value):
        return None
    return db_session.scalars(_BY_KEY_HASH, {"key_hash": key_hash(cookie_value)}).first()


def _plausible(cookie_value: str) -> bool:
    return bool(cookie_value) and len(cookie_value) <= _MAX_COOKIE_LENGTH


_BY_KEY_HASH = select(LoginSession).where(LoginSession.key_hash == bindparam("key_hash"))


class Timed(Protocol):
    """What the time limits are computed from: a session row or a :class:`LiveSession`."""

    @property
    def created_at(self) -> dt.datetime: ...

    @property
    def last_seen_at(self) -> dt.datetime: ...


def expires_at(record: Timed, idle_minutes: float,
               absolute_hours: float | None = None) -> dt.datetime:
    """When the session ends if nothing more happens: the idle limit, capped by the absolute
    one (ASVS 7.3.1, 7.3.2)."""
    end = as_utc(record.last_seen_at) + dt.timedelta(minutes=idle_minutes)
    if absolute_hours is not None:
        end = min(end, as_utc(record.created_at) + dt.timedelta(hours=absolute_hours))
    return end


def seconds_left(record: Timed, now: dt.datetime, idle_minutes: float,
                 absolute_hours: float | None = None) -> int:
    """Whole seconds until the session ends (0 when it has)."""
    left = (expires_at(record, idle_minutes, absolute_hours) - as_utc(now)).total_seconds()
    return max(0, int(left))


@dataclass(frozen=True)
class LiveSession:
    """A log-in session as a request sees it: the row's columns and what deciding who is
    acting needs of its owner (a citizen's name and account state, a staff user's name and
    account state). Every request reads it, so it is one prebuilt Core SELECT joining the
    owner, not ORM entities (a third of the cost)."""

    id: int
    kind: str
    method: str
    staff_user_id: int | None
    citizen_id: int | None
    acting_for_id: int | None
    assurance_level: int
    created_at: dt.datetime
    last_seen_at: dt.datetime
    revoked_at: dt.datetime | None
    #: The owner's display name (citizen or staff user).
    owner_name: str | None
    #: False when the owner may not act: a locked or deceased citizen, a disabled staff user.
    owner_active: bool
    #: A staff user's lockout after failed passwords (None for citizens).
    owner_locked_until: dt.datetime | None


def lookup(db_session: Session, cookie_value: str,
           alongside: Alongside | None = None) -> LiveSession | None:
    """The session a cookie value names, whatever its state, with its owner's summary.

    ``alongside``: a read the request's view will make, done in the same statement and left
    for it in ``db_session`` (see :mod:`formular.storage.alongside`)."""
    if not _plausible(cookie_value):
        return None
    params = {"key_hash": key_hash(cookie_value)}
    if alongside is None:
        row = db_session.connection().execute(_LIVE, params).first()
    else:
        statement, names = reads_alongside.joined(_LIVE, alongside.statement)
        row = db_session.connection().execute(statement, {**alongside.params, **params}
                                              ).first()
    if row is None:
        return None
    values = row._asdict()
    if alongside is not None:
        reads_alongside.stash(db_session, alongside,
                              {name: values.pop(name) for name in names})
    locked, deceased = values.pop("citizen_locked"), values.pop("citizen_deceased")
    staff_active = values.pop("staff_active")
    citizen_name, staff_name = values.pop("citizen_name"), values.pop("staff_name")
    if values["kind"] == "staff":
        return LiveSession(**values, owner_name=staff_name,
                           owner_active=staff_name is not None and bool(staff_active))
    return LiveSession(**values, owner_name=citizen_name,
                       owner_active=citizen_name is not None and not locked and not deceased)


def resolve(db_session: Session, cookie_value: str, now: dt.datetime, idle_minutes: float,
            *, absolute_hours: float | None = None, touch: bool = True,
            alongside: Alongside | None = None) -> LiveSession | None:
    """The live session a cookie opens, or None if it is unknown, revoked or timed out.

    A session found timed out is revoked on the spot, so it stays dead even if the limits are
    raised later. With ``touch`` the request counts as activity: ``last_seen_at`` moves to
    ``now`` when it is more than :data:`TOUCH_INTERVAL` old (a status poll passes
    ``touch=False``, or polling would keep an abandoned session alive for ever).
    ``alongside``: see :func:`lookup`.
    """
    record = lookup(db_session, cookie_value, alongside)
    if record is None or record.revoked_at is not None:
        return None
    if seconds_left(record, now, idle_minutes, absolute_hours) <= 0:
        revoke_live(db_session, record, now)
        return None
    if touch and as_utc(now) - as_utc(record.last_seen_at) >= TOUCH_INTERVAL:
        db_session.execute(_TOUCH, {"_id": record.id, "last_seen_at": now})
        db_session.info[WROTE] = True
        record = replace(record, last_seen_at=now)
    return record


def revoke_live(db_session: Session, record: LiveSession, now: dt.datetime) -> None:
    """End the session a request found (its owner may no longer act)."""
    db_session.execute(_REVOKE_ONE, {"_id": record.id, "revoked_at": now})
    db_session.info[WROTE] = True


def stop_acting_for(db_session: Session, record: LiveSession) -> LiveSession:
    """Back to acting as oneself (custody ended, the child turned 13 or got a protected
    identity)."""
    db_session.execute(_ACT_AS_SELF, {"_id": record.id})
    db_session.info[WROTE] = True
    return replace(record, acting_for_id=None)


_SESSIONS = cast(Table, LoginSession.__table__)
_CITIZENS = cast(Table, Citizen.__table__)
_STAFF = cast(Table, StaffUser.__table__)
_LIVE = (select(_SESSIONS.c.id, _SESSIONS.c.kind, _SESSIONS.c.method,
                _SESSIONS.c.staff_user_id, _SESSIONS.c.citizen_id, _SESSIONS.c.acting_for_id,
                _SESSIONS.c.assurance_level, _SESSIONS.c.created_at, _SESSIONS.c.last_seen_at,
                _SESSIONS.c.revoked_at,
                _CITIZENS.c.name.label("citizen_name"),
                _CITIZENS.c.locked.label("citizen_locked"),
                _CITIZENS.c.deceased.label("citizen_deceased"),
                _STAFF.c.display_name.label("staff_name"),
                _STAFF.c.active.label("staff_active"),
                _STAFF.c.locked_until.label("owner_locked_until"))
         .select_from(_SESSIONS
                      .outerjoin(_CITIZENS, _CITIZENS.c.id == _SESSIONS.c.citizen_id)
                      .outerjoin(_STAFF, _STAFF.c.id == _SESSIONS.c.staff_user_id))
         .where(_SESSIONS.c.key_hash == bindparam("key_hash")))
_REVOKE_ONE = (update(_SESSIONS).where(_SESSIONS.c.id == bindparam("_id"))
               .values(revoked_at=bindparam("revoked_at")))
_TOUCH = (update(_SESSIONS).where(_SESSIONS.c.id == bindparam("_id"))
          .values(last_seen_at=bindparam("last_seen_at")))
_ACT_AS_SELF = (update(_SESSIONS).where(_SESSIONS.c.id == bindparam("_id"))
                .values(acting_for_id=None))


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
