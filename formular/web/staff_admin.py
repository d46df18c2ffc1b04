"""A unit's staff and their roles, kept by the unit's administrators (``USER_MANAGE``):
``/admin/staff``.

Every unit id in a URL is checked against the actor's units (another unit answers 404), and
every role is looked up within that unit. The rules and the event log live in
:mod:`formular.auth.roles`; this module turns requests into calls and refusals into messages.
Accounts added here log in through the identity provider only; passwords, disabling and
units are the command line's (``formular staff``, ``formular units``).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from formular.auth import roles
from formular.auth.permissions import Permission
from formular.storage.db import db
from formular.storage.identity import Role, Unit

from .access import current_actor, require
from .unit_admin import choose_unit, unit_or_404

bp = Blueprint("staff_admin", __name__, url_prefix="/admin/staff")

#: What each role lets its holder do, as the pages name it.
ROLE_NAMES: dict[Role, Any] = {
    Role.SENDER: _l("Sender (send-outs, listed population)"),
    Role.REVIEWER: _l("Reviewer (answers, measurements, health profiles)"),
    Role.DESIGNER: _l("Form designer"),
    Role.ADMIN: _l("Administrator (staff, texts, case types)"),
    Role.AUDITOR: _l("Auditor (the access log)"),
    Role.TRANSLATOR: _l("Translator"),
    Role.CASE_RECEIVER: _l("Case receiver (assigns errands)"),
    Role.CASE_HANDLER: _l("Case handler (answers errands)"),
}

REFUSALS: dict[str, Any] = {
    "unknown-account": _l("There is no account with that username. Add a new account "
                          "instead."),
    "held-already": _l("The account has that role in this unit already."),
    "unknown-role": _l("That role is no longer held; nothing was changed."),
    "own-admin": _l("You cannot take away your own administrator role. Ask another "
                    "administrator of the unit."),
    "own-account": _l("You cannot give yourself a role. Ask another administrator of the "
                      "unit."),
    "username-taken": _l("That username is taken."),
    "subject-taken": _l("Another account has that SITHS identity already."),
}


def _role_choices() -> list[tuple[str, Any]]:
    return [(role.value, name) for role, name in ROLE_NAMES.items()]


class GrantForm(FlaskForm):
    username = StringField(_l("Username"), validators=[
        DataRequired(_l("Write the account's username.")), Length(max=100)])
    role = SelectField(_l("Role"), choices=_role_choices, validate_choice=True)


class AccountForm(FlaskForm):
    display_name = StringField(_l("Name"), validators=[
        DataRequired(_l("Write the person's name.")), Length(max=200)])
    username = StringField(_l("Username"), validators=[
        DataRequired(_l("Write a username.")), Length(max=100)])
    email = StringField(_l("E-mail"), validators=[
        Optional(), Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=_l(
            "Write an e-mail address such as name@example.org.")),
        Length(max=200)], description=_l("For notifications, which carry no health "
                                         "information. May be left empty."))
    oidc_subject = StringField(_l("SITHS identity (HSA-id)"), validators=[
        DataRequired(_l("Write the person's HSA-id.")), Length(max=200)],
        description=_l("The account logs in with SITHS through the identity provider."))
    role = SelectField(_l("Role in this unit"), choices=_role_choices, validate_choice=True)


def _unit_or_404(unit_id: int) -> Unit:
    return unit_or_404(Permission.USER_MANAGE, unit_id)


def _unit_page(unit: Unit, grant_form: GrantForm, status: int = 200) -> tuple[str, int]:
    return render_template("staff_admin/unit.html", unit=unit, form=grant_form,
                           members=roles.members(db.session(), unit.id),
                           role_names=ROLE_NAMES,
                           me=current_actor().staff_user_id), status


@bp.get("/")
@require(Permission.USER_MANAGE)
def index() -> Any:
    return choose_unit(Permission.USER_MANAGE, ".unit", _("Staff and roles"),
                       _("Choose the unit whose staff you want to manage."))


@bp.get("/<int:unit_id>/")
@require(Permission.USER_MANAGE)
def unit(unit_id: int) -> tuple[str, int]:
    return _unit_page(_unit_or_404(unit_id), GrantForm())


@bp.post("/<int:unit_id>/grant")
@require(Permission.USER_MANAGE)
def grant(unit_id: int) -> Any:
    found = _unit_or_404(unit_id)
    form = GrantForm()
    if not form.validate_on_submit():
        return _unit_page(found, form, 400)
    session = db.session()
    try:
        roles.grant(session, unit_id=unit_id, username=form.username.data or "",
                    role=Role(form.role.data), by=current_actor().staff_user_id)
    except roles.RoleChangeRefused as refused:
        session.rollback()
        form.username.errors = [*form.username.errors, str(REFUSALS[refused.reason])]
        return _unit_page(found, form, 400)
    session.commit()
    flash(_("The role is given. It applies from the person's next page."), "success")
    return redirect(url_for(".unit", unit_id=unit_id))


@bp.post("/<int:unit_id>/roles/<int:assignment_id>/revoke")
@require(Permission.USER_MANAGE)
def revoke(unit_id: int, assignment_id: int) -> Response:
    _unit_or_404(unit_id)
    session = db.session()
    try:
        roles.revoke(session, unit_id=unit_id, assignment_id=assignment_id,
                     by=current_actor().staff_user_id)
    except roles.RoleChangeRefused as refused:
        session.rollback()
        if refused.reason == "unknown-role":
            abort(404)
        flash(str(REFUSALS[refused.reason]), "error")
    else:
        session.commit()
        flash(_("The role is taken away. It applies from the person's next page."), "success")
    return redirect(url_for(".unit", unit_id=unit_id))


@bp.route("/<int:unit_id>/new", methods=["GET", "POST"])
@require(Permission.USER_MANAGE)
def new_account(unit_id: int) -> Any:
    found = _unit_or_404(unit_id)
    form = AccountForm()
    if form.validate_on_submit():
        session = db.session()
        try:
            user = roles.add_account(
                session, unit_id=unit_id, unit_slug=found.slug,
                username=(form.username.data or "").strip(),
                display_name=(form.display_name.data or "").strip(),
                email=(form.email.data or "").strip() or None,
                oidc_subject=(form.oidc_subject.data or "").strip(),
                role=Role(form.role.data), by=current_actor().staff_user_id)
        except roles.RoleChangeRefused as refused:
            session.rollback()
            field = form.oidc_subject if refused.reason == "subject-taken" else form.username
            field.errors = [*field.errors, str(REFUSALS[refused.reason])]
        else:
            session.commit()
            flash(_("The account of %(name)s is added.", name=user.display_name), "success")
            return redirect(url_for(".unit", unit_id=unit_id))
    return render_template("staff_admin/new.html", unit=found, form=form), (
        400 if form.errors else 200)
