"""``formular units …`` and ``formular staff …``: units and staff accounts from the command
line, for an operator setting up or running a production installation.

The web pages administer case types, texts and forms; units, accounts and roles are managed
here (administration pages for them are not built yet, see the README). Every change goes
through :mod:`formular.auth.accounts` (Argon2id hashing, the password policy, sessions ended
when an account is disabled or its password replaced) and is written to the event log with
the operating-system user who ran the command. Passwords are never taken as arguments (they
would be visible in the process list and the shell history): they are asked for twice with
the input hidden, or read from standard input with ``--password-stdin`` for scripts.

Registered on the ``formular`` command by ``formular.cli``.
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from formular.audit.service import log_event
from formular.auth.clock import utcnow
from formular.storage.identity import Role, RoleAssignment, StaffUser, Unit

from . import accounts, roles

ROLE_NAMES = [role.value for role in Role]


class Refused(click.ClickException):
    """A change refused with a reason (exit status 1, nothing written)."""


@contextmanager
def _database() -> Iterator[Session]:
    """One transaction in the configured database: committed if the command succeeds."""
    from formular import create_app
    from formular.storage.db import db

    app = create_app()
    with app.app_context(), db.transaction() as session:
        yield session


def _logged(session: Session, event: str, *, unit_id: int | None = None,
            object_type: str, object_id: int, **data: Any) -> None:
    log_event(session, actor_kind="system", actor_id=None, event=event, unit_id=unit_id,
              object_type=object_type, object_id=object_id, data={**_context(), **data})


def _context() -> dict[str, str]:
    """Who made a change, for the event log: the command line and the operating-system user."""
    return {"via": "command line", "os_user": _os_user()}


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # (no name for the uid, e.g. in some containers)
        return "unknown"


def _unit(session: Session, slug: str) -> Unit:
    unit = accounts.unit_by_slug(session, slug)
    if unit is None:
        raise Refused(f"no unit with the code {slug!r}")
    return unit


def _user(session: Session, username: str) -> StaffUser:
    user = accounts.staff_by_username(session, username)
    if user is None:
        raise Refused(f"no staff account {username!r}")
    return user


def _password(from_stdin: bool) -> str:
    """A new password: one line of standard input, or asked for twice, hidden."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = str(click.prompt("Password", hide_input=True, confirmation_prompt=True))
    try:
        accounts.check_password_policy(password)
    except ValueError as problem:
        raise Refused(str(problem)) from problem
    return password


def _unit_role(value: str) -> tuple[str, Role]:
    slug, _colon, name = value.partition(":")
    if not slug or name not in ROLE_NAMES:
        raise click.BadParameter(
            f"{value!r}: give UNIT:ROLE, a role being one of {', '.join(ROLE_NAMES)}")
    return slug, Role(name)


# -- units -----------------------------------------------------------------------------------


@click.group()
def units() -> None:
    """Regions and clinics."""


@units.command("add")
@click.argument("slug")
@click.argument("name")
@click.option("--kind", type=click.Choice(["clinic", "region"]), default="clinic",
              show_default=True)
@click.option("--parent", "parent_slug", help="The code of the region a clinic belongs to.")
def units_add(slug: str, name: str, kind: str, parent_slug: str | None) -> None:
    """Add a unit with the code SLUG (letters, digits and dashes) and the name NAME."""
    if not slug or len(slug) > 64 or not all(c.isalnum() or c == "-" for c in slug):
        raise Refused(f"{slug!r}: a code is 1–64 letters, digits and dashes")
    if not name.strip() or len(name.strip()) > 200:
        raise Refused("a unit needs a name of at most 200 characters")
    with _database() as session:
        if accounts.unit_by_slug(session, slug) is not None:
            raise Refused(f"a unit with the code {slug!r} exists already")
        if parent_slug is not None:
            _unit(session, parent_slug)
        unit = accounts.ensure_unit(session, slug, name.strip(), kind, parent_slug)
        _logged(session, "unit.created", unit_id=unit.id, object_type="unit",
                object_id=unit.id, slug=slug, kind=kind, parent=parent_slug)
    click.echo(f"added {kind} {slug}: {name.strip()}")


@units.command("list")
def units_list() -> None:
    """Every unit, regions first."""
    with _database() as session:
        rows = session.scalars(select(Unit).order_by(Unit.kind.desc(), Unit.slug)).all()
        parents = {unit.id: unit.slug for unit in rows}
        for unit in rows:
            parent = f" (in {parents[unit.parent_id]})" if unit.parent_id in parents else ""
            click.echo(f"{unit.slug}\t{unit.kind}\t{unit.name}{parent}")


# -- staff accounts --------------------------------------------------------------------------


@click.group()
def staff() -> None:
    """Staff accounts and their roles per unit."""


@staff.command("add")
@click.argument("username")
@click.option("--name", "display_name", required=True, help="The name shown to others.")
@click.option("--email", help="For notifications (carrying no health information).")
@click.option("--role", "roles", multiple=True, metavar="UNIT:ROLE",
              help=f"A role in a unit, repeatable; roles: {', '.join(ROLE_NAMES)}.")
@click.option("--oidc-subject", help="The identity provider's subject, for SITHS log-in.")
@click.option("--no-password", is_flag=True,
              help="No local password: log-in through the identity provider only.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def staff_add(username: str, display_name: str, email: str | None, roles: tuple[str, ...],
              oidc_subject: str | None, no_password: bool, password_stdin: bool) -> None:
    """Add a staff account USERNAME."""
    unit_roles = [_unit_role(value) for value in roles]
    for label, value, limit in (("a username", username.strip(), 100),
                                ("a name", display_name.strip(), 200),
                                ("an e-mail address", email or "", 200),
                                ("an identity provider subject", oidc_subject or "", 200)):
        if len(value) > limit:
            raise Refused(f"{label} has at most {limit} characters")
    if no_password and not oidc_subject:
        raise Refused("an account without a password needs --oidc-subject to log in")
    password = None if no_password else _password(password_stdin)
    with _database() as session:
        for slug, _role in unit_roles:
            _unit(session, slug)
        try:
            user = accounts.create_staff(session, username, display_name.strip(), password,
                                         unit_roles, email=email or None,
                                         oidc_subject=oidc_subject or None)
        except ValueError as problem:
            raise Refused(str(problem)) from problem
        _logged(session, "staff.created", object_type="staff_user", object_id=user.id,
                username=user.username, roles=[f"{slug}:{role.value}"
                                               for slug, role in unit_roles])
    click.echo(f"added {user.username} ({user.display_name})")


@staff.command("grant")
@click.argument("username")
@click.argument("unit_role", metavar="UNIT:ROLE")
def staff_grant(username: str, unit_role: str) -> None:
    """Give USERNAME a role in a unit."""
    _change_role(username, unit_role, grant=True)


@staff.command("revoke")
@click.argument("username")
@click.argument("unit_role", metavar="UNIT:ROLE")
def staff_revoke(username: str, unit_role: str) -> None:
    """Take a role in a unit from USERNAME (from their next request on)."""
    _change_role(username, unit_role, grant=False)


def _change_role(username: str, unit_role: str, *, grant: bool) -> None:
    """The same rules and log entries as the web page (:mod:`formular.auth.roles`)."""
    slug, role = _unit_role(unit_role)
    with _database() as session:
        user, unit = _user(session, username), _unit(session, slug)
        try:
            if grant:
                roles.grant(session, unit_id=unit.id, username=user.username, role=role,
                            by=None, context=_context())
            else:
                held = _assignment(session, user, unit, role)
                if held is None:
                    raise roles.RoleChangeRefused("unknown-role")
                roles.revoke(session, unit_id=unit.id, assignment_id=held.id, by=None,
                             context=_context())
        except roles.RoleChangeRefused as refused:
            state = "already" if refused.reason == "held-already" else "not"
            raise Refused(f"{user.username} is {state} {role.value} in {slug}") from refused
    click.echo(f"{user.username} is {'now' if grant else 'no longer'} {role.value} in {slug}")


def _assignment(session: Session, user: StaffUser, unit: Unit,
                role: Role) -> RoleAssignment | None:
    return session.scalars(select(RoleAssignment).where(
        RoleAssignment.user_id == user.id, RoleAssignment.unit_id == unit.id,
        RoleAssignment.role == role)).first()


@staff.command("disable")
@click.argument("username")
def staff_disable(username: str) -> None:
    """Disable an account; its live sessions end at once."""
    with _database() as session:
        user = _user(session, username)
        accounts.disable_staff(session, user, utcnow())
        _logged(session, "staff.disabled", object_type="staff_user", object_id=user.id)
    click.echo(f"disabled {user.username}; their sessions have ended")


@staff.command("enable")
@click.argument("username")
def staff_enable(username: str) -> None:
    """Enable a disabled account again."""
    with _database() as session:
        user = _user(session, username)
        user.active = True
        _logged(session, "staff.enabled", object_type="staff_user", object_id=user.id)
    click.echo(f"enabled {user.username}")


@staff.command("password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def staff_password(username: str, password_stdin: bool) -> None:
    """Set a new password (a lockout is lifted; the account's other sessions end)."""
    password = _password(password_stdin)
    with _database() as session:
        user = _user(session, username)
        accounts.set_password(session, user, password, utcnow())
        _logged(session, "staff.password.set", object_type="staff_user", object_id=user.id)
    click.echo(f"set a new password for {user.username}; their sessions have ended")


@staff.command("list")
@click.option("--unit", "unit_slug", help="Only accounts with a role in this unit.")
def staff_list(unit_slug: str | None) -> None:
    """Accounts with their roles: username, name, state, UNIT:ROLE …"""
    with _database() as session:
        query = select(StaffUser).options(selectinload(StaffUser.roles)).order_by(
            StaffUser.username)
        if unit_slug is not None:
            unit = _unit(session, unit_slug)
            query = query.where(StaffUser.id.in_(
                select(RoleAssignment.user_id).where(RoleAssignment.unit_id == unit.id)))
        for user in session.scalars(query):
            held = " ".join(sorted(f"{a.unit.slug}:{a.role.value}" for a in user.roles))
            state = "active" if user.active else "disabled"
            click.echo(f"{user.username}\t{user.display_name}\t{state}\t{held}")
