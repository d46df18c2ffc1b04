"""Anti-brute-force for password log-in (ASVS 6.1.1, 6.3.1): rate limits and account lockout.

Attempts are rows in ``login_attempt``, not process memory, so the limit holds however many
workers or machines serve the site (an in-memory limiter would give each worker its own
allowance). Two limits apply over a sliding window: failures per username (whether or not the
account exists, so the answer tells nothing about existence) and failures per client address
(one address guessing many usernames). Independently, an account that fails
``lockout_after`` times in a row is locked for a while; a success resets the count.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from formular.storage.identity import StaffUser
from formular.storage.sessions import LoginAttempt

from .clock import as_utc

_KEY_LENGTH = 200


@dataclass(frozen=True)
class Limits:
    per_user: int = 5
    per_ip: int = 20
    window: dt.timedelta = dt.timedelta(minutes=15)
    lockout_after: int = 5
    lockout: dt.timedelta = dt.timedelta(minutes=15)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Limits:
        """Limits from ``LOGIN_*`` settings (environment values arrive as text)."""
        per_user = int(config.get("LOGIN_MAX_ATTEMPTS", cls.per_user))
        return cls(
            per_user=per_user,
            per_ip=int(config.get("LOGIN_MAX_ATTEMPTS_PER_IP", cls.per_ip)),
            window=dt.timedelta(minutes=float(config.get("LOGIN_WINDOW_MINUTES", 15))),
            lockout_after=int(config.get("LOGIN_LOCKOUT_AFTER", per_user)),
            lockout=dt.timedelta(minutes=float(config.get("LOGIN_LOCKOUT_MINUTES", 15))),
        )


def user_key(username: str) -> str:
    return ("user:" + username.strip().casefold())[:_KEY_LENGTH]


def ip_key(address: str | None) -> str:
    return ("ip:" + (address or "unknown"))[:_KEY_LENGTH]


def _failures(db_session: Session, key: str, since: dt.datetime) -> tuple[int, dt.datetime | None]:
    count, oldest = db_session.execute(
        select(func.count(LoginAttempt.id), func.min(LoginAttempt.at))
        .where(LoginAttempt.key == key, LoginAttempt.at >= since,
               LoginAttempt.succeeded.is_(False))).one()
    return int(count), (as_utc(oldest) if oldest is not None else None)


def retry_after(db_session: Session, username: str, address: str | None, now: dt.datetime,
                limits: Limits) -> int | None:
    """Seconds until another attempt is allowed, or None when one is allowed now.

    Checked before the password is looked at, so a limited client learns nothing more.
    """
    since = as_utc(now) - limits.window
    waits = []
    for key, limit in ((user_key(username), limits.per_user), (ip_key(address), limits.per_ip)):
        count, oldest = _failures(db_session, key, since)
        if count >= limit and oldest is not None:
            waits.append(max(1, int((oldest + limits.window - as_utc(now)).total_seconds()) + 1))
    return max(waits) if waits else None


def record_attempt(db_session: Session, username: str, address: str | None, now: dt.datetime,
                   succeeded: bool, limits: Limits) -> None:
    """Note an attempt under both keys, and drop this key's rows that have left the window
    (so the table stays small without a separate clean-up job).

    A success forgives the username's earlier failures (the owner got it right), but not the
    address's: one address may be guessing many usernames.
    """
    cutoff = as_utc(now) - limits.window
    for key in (user_key(username), ip_key(address)):
        db_session.execute(delete(LoginAttempt).where(LoginAttempt.key == key,
                                                      LoginAttempt.at < cutoff))
        db_session.add(LoginAttempt(key=key, at=now, succeeded=succeeded))
    if succeeded:
        db_session.execute(delete(LoginAttempt).where(LoginAttempt.key == user_key(username),
                                                      LoginAttempt.succeeded.is_(False)))
    db_session.flush()


def is_locked(user: StaffUser, now: dt.datetime) -> bool:
    return lock_holds(user.locked_until, now)


def lock_holds(locked_until: dt.datetime | None, now: dt.datetime) -> bool:
    """Whether a lockout ending at ``locked_until`` (None: none) still holds at ``now``."""
    return locked_until is not None and as_utc(locked_until) > as_utc(now)


def register_failure(user: StaffUser, now: dt.datetime, limits: Limits) -> None:
    """Count a failed password for an existing account; lock it after too many in a row.

    The count restarts when the lock is set, so after the lock ends the owner gets the usual
    number of tries rather than being locked again by the next typo.
    """
    user.failed_logins = (user.failed_logins or 0) + 1
    if user.failed_logins >= limits.lockout_after:
        user.locked_until = as_utc(now) + limits.lockout
        user.failed_logins = 0


def register_success(user: StaffUser) -> None:
    user.failed_logins = 0
    user.locked_until = None
