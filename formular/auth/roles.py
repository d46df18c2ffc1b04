"""Who holds which role in a unit, as the unit's administrators change it on the web.

An administrator (``admin:user:manage`` in the unit) sees the unit's staff, gives a role in
the unit to an existing account, takes one away, and adds accounts that log in through the
identity provider (SITHS): local passwords are set on the command line only
(``formular staff``), so no password ever passes through an administrator's browser. Nothing
here reaches beyond the unit: a role elsewhere is another unit's business, and disabling an
account (which may work in several units) is the command line's. An administrator cannot
take away their own administrator role, so a unit is never left without one by accident,
and cannot give themselves a role: the administrator role opens no answers (inner
confidentiality, see ``permissions.ROLE_PERMISSIONS``), and an administrator who needs, say,
the reviewer role gets it from another administrator, in the event log.
Roles are read on every request, so a change applies from the account's next request on.
``formular staff grant/revoke`` goes through the same functions.
Every change is written to the event log. No Flask here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from formular.audit.service import log_event
from formular.storage.identity import Role, RoleAssignment, StaffUser

from . import accounts


class RoleChangeRefused(ValueError):
    """A change that is not made; ``reason`` names why (for the page's message)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Member:
    """A staff account with its roles in one unit."""

    user: StaffUser
    roles: list[RoleAssignment]


def members(session: Session, unit_id: int) -> list[Member]:
    """The unit's staff (anyone holding a role in it), by name."""
    held = session.scalars(select(RoleAssignment).join(StaffUser)
                           .where(RoleAssignment.unit_id == unit_id)
                           .order_by(StaffUser.display_name, StaffUser.id,
                                     RoleAssignment.role)).all()
    found: dict[int, Member] = {}
    for assignment in held:
        found.setdefault(assignment.user_id, Member(assignment.user, [])).roles.append(assignment)
    return list(found.values())


def grant(session: Session, *, unit_id: int, username: str, role: Role, by: int | None,
          context: Mapping[str, str] | None = None) -> RoleAssignment:
    """Give the account ``username`` the role in the unit. ``by``: the staff user making the
    change (None: the command line, which describes itself in ``context`` for the log)."""
    user = accounts.staff_by_username(session, username)
    if user is None:
        raise RoleChangeRefused("unknown-account")
    if user.id == by:
        raise RoleChangeRefused("own-account")
    if session.scalar(select(RoleAssignment.id).where(
            RoleAssignment.user_id == user.id, RoleAssignment.unit_id == unit_id,
            RoleAssignment.role == role)) is not None:
        raise RoleChangeRefused("held-already")
    assignment = RoleAssignment(user_id=user.id, unit_id=unit_id, role=role)
    try:
        with session.begin_nested():  # (two administrators giving the same role at once)
            session.add(assignment)
    except IntegrityError as error:
        raise RoleChangeRefused("held-already") from error
    _logged(session, "staff.role.granted", unit_id, user.id, by, context, role=role.value)
    return assignment


def revoke(session: Session, *, unit_id: int, assignment_id: int, by: int | None,
           context: Mapping[str, str] | None = None) -> RoleAssignment:
    """Take away one role held in the unit (another unit's answers as unknown); ``by`` and
    ``context`` as for :func:`grant`."""
    assignment = session.get(RoleAssignment, assignment_id)
    if assignment is None or assignment.unit_id != unit_id:
        raise RoleChangeRefused("unknown-role")
    if assignment.user_id == by and assignment.role == Role.ADMIN:
        raise RoleChangeRefused("own-admin")
    _logged(session, "staff.role.revoked", unit_id, assignment.user_id, by, context,
            role=assignment.role.value)
    session.delete(assignment)
    session.flush()
    return assignment


def add_account(session: Session, *, unit_id: int, unit_slug: str, username: str,
                display_name: str, email: str | None, oidc_subject: str, role: Role,
                by: int | None) -> StaffUser:
    """A new account that logs in through the identity provider, with one role here."""
    if accounts.staff_by_username(session, username) is not None:
        raise RoleChangeRefused("username-taken")
    if session.scalar(select(StaffUser.id).where(
            StaffUser.oidc_subject == oidc_subject)) is not None:
        raise RoleChangeRefused("subject-taken")
    try:
        with session.begin_nested():  # (two administrators adding the same person at once)
            user = accounts.create_staff(session, username, display_name, None,
                                         [(unit_slug, role)], email=email,
                                         oidc_subject=oidc_subject)
    except IntegrityError as error:
        raise RoleChangeRefused("username-taken") from error
    _logged(session, "staff.created", unit_id, user.id, by, None, role=role.value)
    return user


def _logged(session: Session, event: str, unit_id: int, user_id: int, by: int | None,
            context: Mapping[str, str] | None, **data: str) -> None:
    log_event(session, actor_kind="staff" if by is not None else "system", actor_id=by,
              event=event, unit_id=unit_id, object_type="staff_user", object_id=user_id,
              data={**(context or {}), **data})
