"""Administration of a unit's case types (issue #6, R-31, R-34, R-35): ``/admin/casetypes``.

A unit administrator (``CASETYPE_MANAGE``) of the unit, and nobody else, may:

* enable or disable each usable case type, allow attachments on it, and mark it restricted;
* edit the terms text of the unit's own (local) case types — central ones show their terms
  read-only ("locked");
* keep the unit's standard replies (create, edit, deactivate);
* hand a restricted case type out to a named citizen (personnummer) until a date, and revoke.

Every unit id in a URL is checked against the actor's units (another unit answers 404), and
every object (standard reply, hand-out) is looked up within that unit. The rules and the
event log live in :mod:`formular.casetypes.service`; this module only turns requests into
calls and errors into messages. These pages show no health data: a hand-out names a citizen
and a case type, as a note in the unit's administration.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from formular.auth.clock import swedish_today
from formular.auth.permissions import Permission
from formular.casetypes import service
from formular.casetypes.service import CaseTypeError
from formular.definitions.personnummer import IdentityNumber, InvalidIdentityNumber
from formular.storage.base import utcnow
from formular.storage.casetypes import CaseTypeGrant, StandardReply
from formular.storage.db import db
from formular.storage.identity import Citizen, Unit

from .access import current_actor, require
from .unit_admin import choose_unit, unit_or_404

bp = Blueprint("casetypes_admin", __name__, url_prefix="/admin/casetypes")

#: The choice value meaning "every case type" for a standard reply.
ALL_TYPES = "*"


# -- forms ---------------------------------------------------------------------------------


class SettingForm(FlaskForm):
    enabled = BooleanField(_l("The unit offers this case type"))
    attachments_enabled = BooleanField(_l("Citizens may attach files (PDF, GIF, JPEG, PNG)"))
    restricted = BooleanField(_l("Restricted: only citizens it is handed out to see it"))
    terms_text = TextAreaField(
        _l("Terms text"), validators=[Optional(), Length(max=service.MAX_TERMS)],
        description=_l("Shown before the citizen starts. Markdown: **bold**, lists and links "
                       "[text](https://…). Leave empty to use the case type's own terms."))


class ReplyForm(FlaskForm):
    title = StringField(_l("Title"), validators=[
        DataRequired(_l("Write a title.")), Length(max=service.MAX_REPLY_TITLE)])
    body = TextAreaField(_l("Text"), validators=[
        DataRequired(_l("Write the text of the reply.")), Length(max=service.MAX_REPLY_BODY)],
        description=_l("Staff can edit the text before sending it."))
    definition = SelectField(_l("For case type"), validate_choice=True)
    active = BooleanField(_l("Active (offered to staff)"), default=True)


class GrantForm(FlaskForm):
    definition = SelectField(_l("Case type"), validate_choice=True)
    personnummer = StringField(
        _l("Personal identity number"),
        validators=[DataRequired(_l("Write the citizen's personal identity number.")),
                    Length(max=20)],
        description=_l("12 digits, for example 19121212-1212."))
    valid_until = DateField(
        _l("Last day"), validators=[Optional()],
        description=_l("Leave empty to hand it out until further notice."))


# -- helpers -------------------------------------------------------------------------------


def _locale() -> str:
    return str(get_locale() or "sv")


def _unit_or_404(unit_id: int) -> Unit:
    return unit_or_404(Permission.CASETYPE_MANAGE, unit_id)


def _staff_id() -> int | None:
    return current_actor().staff_user_id


def _type_choices(unit_id: int, *, restricted_only: bool = False) -> list[SelectChoice]:
    locale = _locale()
    return [SelectChoice(s.definition_id, service.localized_title(s.version, locale))
            for s in service.usable_case_types(db.session(), unit_id)
            if s.restricted or not restricted_only]


def _titles(unit_id: int) -> dict[str, str]:
    locale = _locale()
    return {s.definition_id: service.localized_title(s.version, locale)
            for s in service.usable_case_types(db.session(), unit_id)}


# -- pages ---------------------------------------------------------------------------------


@bp.get("/")
@require(Permission.CASETYPE_MANAGE)
def index() -> Any:
    return choose_unit(Permission.CASETYPE_MANAGE, ".unit", _("Case types"),
                       _("Choose the unit whose case types you want to manage."))


@bp.get("/<int:unit_id>/")
@require(Permission.CASETYPE_MANAGE)
def unit(unit_id: int) -> str:
    found = _unit_or_404(unit_id)
    session = db.session()
    locale = _locale()
    settings = service.usable_case_types(session, unit_id)
    titles = {s.definition_id: service.localized_title(s.version, locale) for s in settings}
    settings.sort(key=lambda s: (not s.local, titles[s.definition_id].casefold()))
    return render_template(
        "casetypes_admin/unit.html", unit=found, settings=settings, titles=titles,
        replies=len(service.standard_replies(session, unit_id, None)),
        grants=len(service.grants(session, unit_id, today=swedish_today(utcnow()))))


@bp.route("/<int:unit_id>/types/<definition_id>", methods=["GET", "POST"])
@require(Permission.CASETYPE_MANAGE)
def setting(unit_id: int, definition_id: str) -> Any:
    found = _unit_or_404(unit_id)
    session = db.session()
    current = service.setting_of(session, unit_id, definition_id)
    if current is None:
        abort(404)
    form = SettingForm()
    if request.method == "GET":
        form.enabled.data = current.enabled
        form.attachments_enabled.data = current.attachments_enabled
        form.restricted.data = current.restricted
        form.terms_text.data = current.row.terms_text if current.local and current.row else ""
    if form.validate_on_submit():
        try:
            service.save_setting(
                session, unit_id=unit_id, definition_id=definition_id,
                enabled=bool(form.enabled.data),
                attachments_enabled=bool(form.attachments_enabled.data),
                restricted=bool(form.restricted.data),
                terms_text=form.terms_text.data if current.local else None,
                staff_user_id=_staff_id())
        except CaseTypeError as error:
            session.rollback()
            form.terms_text.errors = [*form.terms_text.errors, str(error)]
        else:
            session.commit()
            flash(_("The settings of the case type are saved."), "success")
            return redirect(url_for(".unit", unit_id=unit_id))
    title = service.localized_title(current.version, _locale())
    offered = service.as_offered(current, _locale())
    return render_template("casetypes_admin/setting.html", unit=found, setting=current,
                           title=title, form=form, central_terms_html=offered.terms_html
                           if not current.local else "")


@bp.get("/<int:unit_id>/replies")
@require(Permission.CASETYPE_MANAGE)
def replies(unit_id: int) -> str:
    found = _unit_or_404(unit_id)
    rows = service.standard_replies(db.session(), unit_id, None, include_inactive=True)
    return render_template("casetypes_admin/replies.html", unit=found, replies=rows,
                           titles=_titles(unit_id))


@bp.route("/<int:unit_id>/replies/new", methods=["GET", "POST"])
@require(Permission.CASETYPE_MANAGE)
def new_reply(unit_id: int) -> Any:
    return _reply_page(unit_id, None)


@bp.route("/<int:unit_id>/replies/<int:reply_id>", methods=["GET", "POST"])
@require(Permission.CASETYPE_MANAGE)
def reply(unit_id: int, reply_id: int) -> Any:
    return _reply_page(unit_id, reply_id)


def _reply_page(unit_id: int, reply_id: int | None) -> Any:
    """Create (``reply_id`` None) or edit one of the unit's standard replies."""
    found = _unit_or_404(unit_id)
    session = db.session()
    existing: StandardReply | None = None
    if reply_id is not None:
        existing = session.get(StandardReply, reply_id)
        if existing is None or existing.unit_id != unit_id:
            abort(404)
    form = ReplyForm()
    form.definition.choices = [SelectChoice(ALL_TYPES, _("Every case type"))] + _type_choices(
        unit_id)
    if request.method == "GET" and existing is not None:
        form.title.data = existing.title
        form.body.data = existing.body
        form.definition.data = existing.definition_id or ALL_TYPES
        form.active.data = existing.active
    if form.validate_on_submit():
        chosen = form.definition.data
        try:
            saved = service.save_standard_reply(
                session, unit_id=unit_id, reply_id=reply_id,
                definition_id=None if chosen == ALL_TYPES else chosen,
                title=form.title.data or "", body=form.body.data or "",
                active=bool(form.active.data), staff_user_id=_staff_id())
        except CaseTypeError as error:
            session.rollback()
            form.body.errors = [*form.body.errors, str(error)]
        else:
            session.commit()
            flash(_("The standard reply “%(title)s” is saved.", title=saved.title), "success")
            return redirect(url_for(".replies", unit_id=unit_id))
    return render_template("casetypes_admin/reply.html", unit=found, form=form,
                           reply=existing)


@bp.route("/<int:unit_id>/grants", methods=["GET", "POST"])
@require(Permission.CASETYPE_MANAGE)
def grants(unit_id: int) -> Any:
    found = _unit_or_404(unit_id)
    session = db.session()
    today = swedish_today(utcnow())
    form = GrantForm()
    form.definition.choices = _type_choices(unit_id, restricted_only=True)
    if form.validate_on_submit():
        citizen = _citizen_of(form, today)
        if citizen is not None:
            try:
                service.grant(session, unit_id=unit_id, definition_id=form.definition.data,
                              citizen=citizen, valid_until=form.valid_until.data, today=today,
                              staff_user_id=_staff_id())
            except CaseTypeError as error:
                session.rollback()
                form.valid_until.errors = [*form.valid_until.errors, str(error)]
            else:
                session.commit()
                flash(_("The case type is handed out to %(name)s.", name=citizen.name),
                      "success")
                return redirect(url_for(".grants", unit_id=unit_id))
    rows = service.grants(session, unit_id, include_ended=True)
    people = {c.id: c for c in session.scalars(select(Citizen).where(
        Citizen.id.in_({row.citizen_id for row in rows})))} if rows else {}
    return render_template("casetypes_admin/grants.html", unit=found, form=form, rows=rows,
                           people=people, titles=_titles(unit_id), today=today)


@bp.post("/<int:unit_id>/grants/<int:grant_id>/revoke")
@require(Permission.CASETYPE_MANAGE)
def revoke(unit_id: int, grant_id: int) -> Response:
    _unit_or_404(unit_id)
    session = db.session()
    row = session.get(CaseTypeGrant, grant_id)
    if row is None or row.unit_id != unit_id:
        abort(404)
    form = FlaskForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        service.revoke_grant(session, unit_id=unit_id, grant_id=grant_id,
                             staff_user_id=_staff_id())
    except CaseTypeError as error:
        session.rollback()
        flash(str(error), "error")
    else:
        session.commit()
        flash(_("The hand-out is revoked."), "success")
    return redirect(url_for(".grants", unit_id=unit_id))


def _citizen_of(form: GrantForm, today: dt.date) -> Citizen | None:
    """The registered citizen of the number typed, or None with the field's error set."""
    try:
        number = IdentityNumber.parse(form.personnummer.data or "", today)
    except InvalidIdentityNumber:
        form.personnummer.errors = [_("This is not a valid personal identity number.")]
        return None
    citizen = db.session().scalar(select(Citizen).where(
        Citizen.personnummer == number.canonical))
    if citizen is None:
        form.personnummer.errors = [_("No citizen with this personal identity number has "
                                      "logged in to the service yet.")]
    return citizen
