"""What the unit administration pages share (case types, message texts, staff): the unit
in a URL checked against the actor's units, and the page that picks one of them.

A unit the actor may not administer answers 404, not 403, so the pages never confirm that
another unit's id exists.
"""

from __future__ import annotations

from typing import Any

from flask import abort, redirect, render_template, url_for
from sqlalchemy import select

from formular.auth.permissions import Permission
from formular.storage.db import db
from formular.storage.identity import Unit

from .access import authorize_or_404, current_actor


def unit_or_404(permission: Permission, unit_id: int) -> Unit:
    """The unit ``unit_id`` if the actor holds ``permission`` there, else 404."""
    authorize_or_404(permission, unit_id)
    unit = db.session().get(Unit, unit_id)
    if unit is None:
        abort(404)
    return unit


def choose_unit(permission: Permission, endpoint: str, title: str, intro: str) -> Any:
    """The units the actor administers with ``permission``; straight to ``endpoint`` (which
    takes ``unit_id``) when there is only one."""
    unit_ids = current_actor().units_with(permission)
    units = db.session().scalars(select(Unit).where(Unit.id.in_(unit_ids))
                                 .order_by(Unit.name)).all()
    if len(units) == 1:
        return redirect(url_for(endpoint, unit_id=units[0].id))
    return render_template("admin/choose_unit.html", units=units, endpoint=endpoint,
                           title=title, intro=intro)

