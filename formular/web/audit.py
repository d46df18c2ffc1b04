"""The auditor's view of the access log: filter, and draw a random sample for review (PDL
requires regular, systematic checks of who read what)."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from flask import Blueprint, render_template, request
from sqlalchemy import func, select

from formular.auth.permissions import Permission
from formular.definitions.personnummer import IdentityNumber, InvalidIdentityNumber
from formular.storage.audit import AccessLog
from formular.storage.db import db
from formular.storage.identity import Citizen, StaffUser, Unit

from .access import current_actor, require
from .timezone import end_of_local_day, local_to_utc

bp = Blueprint("audit", __name__, url_prefix="/audit")

PAGE_SIZE = 100
MAX_SAMPLE = 200


def _filtered(unit_ids: list[int]) -> tuple[Any, dict[str, str]]:
    args = {key: request.args.get(key, "").strip()[:100]
            for key in ("staff", "citizen", "unit", "action", "from", "to")}
    query = (select(AccessLog, StaffUser.display_name, Unit.name, Citizen.name,
                    Citizen.personnummer)
             .join(StaffUser, StaffUser.id == AccessLog.staff_user_id)
             .join(Unit, Unit.id == AccessLog.unit_id)
             .join(Citizen, Citizen.id == AccessLog.citizen_id)
             .where(AccessLog.unit_id.in_(unit_ids)))
    if args["staff"]:
        query = query.where(StaffUser.username == args["staff"])
    if args["citizen"]:
        try:
            number = IdentityNumber.parse(args["citizen"]).canonical
        except InvalidIdentityNumber:
            number = "-"
        query = query.where(Citizen.personnummer == number)
    if args["unit"].isdigit():
        query = query.where(AccessLog.unit_id == int(args["unit"]))
    if args["action"]:
        query = query.where(AccessLog.action == args["action"])
    for key, edge in (("from", "start"), ("to", "end")):
        try:
            day = dt.date.fromisoformat(args[key]) if args[key] else None
        except ValueError:
            day = None
        if day is not None and edge == "start":
            query = query.where(AccessLog.at >= local_to_utc(dt.datetime.combine(day, dt.time())))
        elif day is not None:
            query = query.where(AccessLog.at <= end_of_local_day(day))
    return query, args


@bp.get("/")
@require(Permission.ACCESS_LOG_AUDIT)
def index() -> str:
    actor = current_actor()
    unit_ids = _audited_units(actor.units_with(Permission.ACCESS_LOG_AUDIT))
    query, args = _filtered(unit_ids)
    session = db.session()
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    sample = request.args.get("sample", "")
    page = max(1, request.args.get("page", 1, type=int) or 1)
    if sample.isdigit() and total:
        size = min(int(sample), MAX_SAMPLE, total)
        ids = session.scalars(select(AccessLog.id).where(
            AccessLog.id.in_(select(query.subquery().c.id)))).all()
        chosen = random.sample(list(ids), size)
        rows = session.execute(query.where(AccessLog.id.in_(chosen))
                               .order_by(AccessLog.at.desc())).all()
    else:
        rows = session.execute(query.order_by(AccessLog.at.desc())
                               .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
    units = session.scalars(select(Unit).where(Unit.id.in_(unit_ids)).order_by(Unit.name)).all()
    return render_template("audit/index.html", rows=rows, total=total, args=args, units=units,
                           sample=sample, page=page, pages=max(1, -(-total // PAGE_SIZE)))


def _audited_units(unit_ids: list[int]) -> list[int]:
    """An auditor of a region audits its clinics too."""
    children = db.session.scalars(select(Unit.id).where(Unit.parent_id.in_(unit_ids))).all()
    return sorted(set(unit_ids) | set(children))
