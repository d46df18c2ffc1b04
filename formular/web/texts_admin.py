"""A unit's saved message texts, kept by its administrators (``UNIT_MANAGE``):
``/admin/texts``. Senders pick them in the send-out and cohort forms.

Every unit id in a URL is checked against the actor's units (another unit answers 404), and
every text is looked up within that unit. The rules and the event log live in
:mod:`formular.sendouts.saved_texts`.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from formular.auth.permissions import Permission
from formular.sendouts import saved_texts
from formular.storage.db import db
from formular.storage.identity import Unit
from formular.storage.sendouts import SavedText

from .access import current_actor, require
from .unit_admin import choose_unit, unit_or_404

bp = Blueprint("texts_admin", __name__, url_prefix="/admin/texts")


class TextForm(FlaskForm):
    title = StringField(_l("Subject"), validators=[
        DataRequired(_l("Write a subject.")), Length(max=saved_texts.MAX_TITLE)])
    body = TextAreaField(_l("Message"), validators=[
        DataRequired(_l("Write the message.")), Length(max=saved_texts.MAX_BODY)],
        description=_l("The inbox message recipients get with the form. Write no health "
                       "information: the notification e-mail says only that a message "
                       "is waiting."))


def _unit_or_404(unit_id: int) -> Unit:
    return unit_or_404(Permission.UNIT_MANAGE, unit_id)


def _text_or_404(unit_id: int, text_id: int) -> SavedText:
    text = saved_texts.text_of(db.session(), unit_id, text_id)
    if text is None:
        abort(404)
    return text


@bp.get("/")
@require(Permission.UNIT_MANAGE)
def index() -> Any:
    return choose_unit(Permission.UNIT_MANAGE, ".texts", _("Message texts"),
                       _("Choose the unit whose saved message texts you want to manage."))


@bp.get("/<int:unit_id>/")
@require(Permission.UNIT_MANAGE)
def texts(unit_id: int) -> str:
    unit = _unit_or_404(unit_id)
    return render_template("texts_admin/texts.html", unit=unit,
                           texts=saved_texts.texts_of(db.session(), unit_id))


@bp.route("/<int:unit_id>/new", methods=["GET", "POST"])
@require(Permission.UNIT_MANAGE)
def new_text(unit_id: int) -> Any:
    return _text_page(unit_id, None)


@bp.route("/<int:unit_id>/<int:text_id>", methods=["GET", "POST"])
@require(Permission.UNIT_MANAGE)
def text(unit_id: int, text_id: int) -> Any:
    return _text_page(unit_id, text_id)


def _text_page(unit_id: int, text_id: int | None) -> Any:
    """Create (``text_id`` None) or edit one of the unit's texts."""
    unit = _unit_or_404(unit_id)
    existing = _text_or_404(unit_id, text_id) if text_id is not None else None
    form = TextForm(obj=existing)
    if form.validate_on_submit():
        session = db.session()
        saved = saved_texts.save_text(
            session, unit_id=unit_id, text=existing, title=form.title.data or "",
            body=form.body.data or "", staff_user_id=current_actor().staff_user_id)
        session.commit()
        flash(_("The message “%(title)s” is saved.", title=saved.title), "success")
        return redirect(url_for(".texts", unit_id=unit_id))
    return render_template("texts_admin/text.html", unit=unit, form=form, text=existing), (
        400 if form.errors else 200)


@bp.post("/<int:unit_id>/<int:text_id>/delete")
@require(Permission.UNIT_MANAGE)
def delete(unit_id: int, text_id: int) -> Response:
    _unit_or_404(unit_id)
    existing = _text_or_404(unit_id, text_id)
    title = existing.title
    session = db.session()
    saved_texts.delete_text(session, text=existing,
                            staff_user_id=current_actor().staff_user_id)
    session.commit()
    flash(_("The message “%(title)s” is deleted. Send-outs made with it keep their copy.",
            title=title), "success")
    return redirect(url_for(".texts", unit_id=unit_id))
