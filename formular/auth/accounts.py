"""Staff accounts: creation (for the demo command and administrators) and disabling.

Roles are held per unit (``RoleAssignment``), named here by unit slug so a seed script reads
like the organisation chart.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from formular.storage.identity import Role, RoleAssignment, StaffUser, Unit

from . import sessions
from .passwords import MAX_PASSWORD_LENGTH, hash_password

#: ASVS 6.2.1 asks for at least 8 characters; 12 leaves room without hurting pass-phrases.
MIN_PASSWORD_LENGTH = 12


def check_password_policy(password: str) -> None:
    """Raise ValueError when ``password`` is too short or too long to be accepted."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValueError("password too long")


def unit_by_slug(db_session: Session, slug: str) -> Unit | None:
    return db_session.scalars(select(Unit).where(Unit.slug == slug)).first()


def ensure_unit(db_session: Session, slug: str, name: str, kind: str = "clinic",
                parent_slug: str | None = None) -> Unit:
    """The unit with ``slug``, created if missing (idempotent, for seeding)."""
    unit = unit_by_slug(db_session, slug)
    if unit is not None:
        return unit
    parent = unit_by_slug(db_session, parent_slug) if parent_slug else None
    if parent_slug and parent is None:
        raise ValueError(f"no unit {parent_slug!r}")
    unit = Unit(slug=slug, name=name, kind=kind, parent_id=parent.id if parent else None)
    db_session.add(unit)
    db_session.flush()
    return unit


def staff_by_username(db_session: Session, username: str) -> StaffUser | None:
    """The account with this username, ignoring case (as log-in matches it)."""
    return db_session.scalars(select(StaffUser).where(
        func.lower(StaffUser.username) == username.strip().lower())).first()


def create_staff(db_session: Session, username: str, display_name: str, password: str | None,
                 roles: Iterable[tuple[str, Role]], *, email: str | None = None,
                 oidc_subject: str | None = None) -> StaffUser:
    """A staff user with an Argon2id password (None: OIDC log-in only) and roles per unit.

    Raises ValueError for an unknown unit slug, a taken username or a password that breaks
    :data:`MIN_PASSWORD_LENGTH`.
    """
    username = username.strip()
    if not username:
        raise ValueError("a username is needed")
    if staff_by_username(db_session, username) is not None:
        raise ValueError(f"username {username!r} is taken")
    if password is not None:
        check_password_policy(password)
    user = StaffUser(username=username, display_name=display_name, email=email,
                     password_hash=hash_password(password) if password is not None else None,
                     oidc_subject=oidc_subject, active=True, failed_logins=0)
    db_session.add(user)
    db_session.flush()
    for slug, role in roles:
        unit = unit_by_slug(db_session, slug)
        if unit is None:
            raise ValueError(f"no unit {slug!r}")
        db_session.add(RoleAssignment(user_id=user.id, unit_id=unit.id, role=Role(role)))
    db_session.flush()
    db_session.refresh(user)
    return user


def ensure_staff(db_session: Session, username: str, display_name: str, password: str | None,
                 roles: Iterable[tuple[str, Role]]) -> StaffUser:
    """The account with ``username``, created as by :func:`create_staff` if missing; an existing
    account is left as it is (so a seed command can run again without resetting passwords)."""
    existing = staff_by_username(db_session, username)
    if existing is not None:
        return existing
    return create_staff(db_session, username, display_name, password, roles)


def set_password(db_session: Session, user: StaffUser, password: str, now: dt.datetime) -> None:
    """Replace a password and end the user's other sessions (a changed password must lock out
    whoever knew the old one)."""
    check_password_policy(password)
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    sessions.revoke_all_for_staff(db_session, user.id, now)
    db_session.flush()


def disable_staff(db_session: Session, user: StaffUser, now: dt.datetime) -> None:
    """Disable an account and end its live sessions at once (ASVS 7.4.2)."""
    user.active = False
    sessions.revoke_all_for_staff(db_session, user.id, now)
    db_session.flush()
