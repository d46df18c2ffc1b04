"""Staff pages (``/staff``): send forms out and follow them up.

Every view names its permission; views on one send-out or assignment check that the actor
holds the permission in *that* unit (another unit's ids answer 404, so they cannot be probed).
Pages that show citizens' answers, or lists of citizens, write the access log first.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import ColumnElement, func, or_, select
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from formular.audit.service import log_access, log_event
from formular.auth.clock import swedish_today
from formular.auth.permissions import Permission
from formular.design.workspace import offered_versions
from formular.sendouts import recipients as recipient_checks
from formular.sendouts import service as sendouts
from formular.sendouts import transitions
from formular.storage.base import utcnow
from formular.storage.db import db
from formular.storage.identity import Citizen, Unit
from formular.storage.models import DefinitionVersion, Submission
from formular.storage.sendouts import Assignment, AssignmentEvent, Job, SavedText, SendOut

from .access import authorize_or_404, current_actor, require
from .staff_forms import SendOutForm
from .timezone import end_of_local_day, local_to_utc

bp = Blueprint("staff", __name__, url_prefix="/staff")

PAGE_SIZE = 50
SORTS = {
    "name": Citizen.name, "state": Assignment.state, "changed": Assignment.state_changed_at,
}
REASONS = {
    "invalid-format": _l("Not a personal identity number."),
    "invalid-checksum": _l("The check digit is wrong."),
    "invalid-date": _l("The birth date does not exist."),
    "unknown": _l("No person with this number is registered in Formulär."),
    "duplicate": _l("The number appears more than once; it is sent once."),
    "deceased": _l("The person is deceased."),
    "locked": _l("The person's account is locked."),
    "protected": _l("Protected identity: sent to the inbox only, no e-mail."),
    "guardians": _l("Under 13: the guardians answer for the child."),
    "no-guardian": _l("Under 13 and no guardian is registered."),
    "too-young": _l("Younger than the form allows."),
    "too-old": _l("Older than the form allows."),
}


def reason_text(reason: str | None) -> str:
    return str(REASONS[reason]) if reason in REASONS else ""


@bp.get("/")
@require(Permission.SENDOUT_READ)
def index() -> str:
    actor = current_actor()
    unit_ids = actor.units_with(Permission.SENDOUT_READ)
    session = db.session()
    rows = session.scalars(select(SendOut).where(SendOut.unit_id.in_(unit_ids))
                           .order_by(SendOut.created_at.desc()).limit(200)).all()
    counts = {row.id: sendouts.counts_by_state(session, row.id) for row in rows}
    return render_template("staff/index.html", send_outs=rows, counts=counts,
                           rate=sendouts.response_rate,
                           can_create=bool(actor.units_with(Permission.SENDOUT_CREATE)))


#: Definition kinds that are never sent out as forms.
NOT_SENT_KINDS = frozenset({"showcase", "measurement", "case-type", "order"})


def _definitions_for(unit_id: int) -> list[DefinitionVersion]:
    # Own and shipped forms, plus the shared templates the unit subscribes to (#4).
    # Measurements are staff-only; case types and orders are started by citizens, not sent.
    return [v for v in offered_versions(db.session(), unit_id)
            if v.kind not in NOT_SENT_KINDS]


@bp.route("/sendouts/new", methods=["GET", "POST"])
@require(Permission.SENDOUT_CREATE)
def new_send_out() -> Any:
    actor = current_actor()
    session = db.session()
    unit_ids = actor.units_with(Permission.SENDOUT_CREATE)
    units = session.scalars(select(Unit).where(Unit.id.in_(unit_ids)).order_by(Unit.name)).all()
    form = SendOutForm()
    form.unit.choices = [SelectChoice(u.id, u.name) for u in units]
    chosen_unit = form.unit.data if form.unit.data in unit_ids else units[0].id
    versions = _definitions_for(chosen_unit)
    form.definition.choices = [SelectChoice(v.definition_id, f"{v.title} (v{v.version})")
                               for v in versions]
    texts = session.scalars(select(SavedText).where(SavedText.unit_id == chosen_unit)).all()
    form.saved_text.choices = [SelectChoice(0, _("No saved message"))] + [
        SelectChoice(t.id, t.title) for t in texts]
    if not form.validate_on_submit():
        return render_template("staff/sendout_new.html", form=form), (
            400 if request.method == "POST" else 200)
    version = next((v for v in versions if v.definition_id == form.definition.data), None)
    if version is None:
        abort(400)
    upload = form.recipients_file.data
    if upload and upload.filename:
        rows = recipient_checks.rows_from_csv(upload.read(10 * 1024 * 1024 + 1))
    else:
        rows = recipient_checks.rows_from_text(form.recipients.data or "")
    if len(rows) > recipient_checks.MAX_ROWS:
        form.recipients.errors.append(_("Choose at most %(limit)s recipients, or split them "
                                        "into several send-outs.",
                                        limit=recipient_checks.MAX_ROWS))
        return render_template("staff/sendout_new.html", form=form), 400
    age = version.document.get("policy", {}).get("age", {})
    verdicts = recipient_checks.check_rows(session, rows, swedish_today(utcnow()),
                                           age.get("min"), age.get("max"))
    subject, body = form.subject.data or "", form.body.data or ""
    saved = next((t for t in texts if t.id == form.saved_text.data), None)
    if saved is not None:
        subject, body = subject or saved.title, body or saved.body
    scheduled = local_to_utc(form.scheduled_at.data) if form.scheduled_at.data else utcnow()
    job = Job(kind="send-out-preview", status="waiting", unit_id=chosen_unit, total=len(rows),
              done=len(rows), data={
                  "definition_version_id": version.id,
                  "scheduled_at": scheduled.isoformat(),
                  "deadline": form.deadline.data.isoformat() if form.deadline.data else None,
                  "reminders": sorted(int(r) for r in form.reminders.data or []),
                  "subject": subject or _("A form from %(unit)s",
                                          unit=next(u.name for u in units
                                                    if u.id == chosen_unit)),
                  "body": body or _("Please answer the form. Your answers are read by staff "
                                    "at the clinic."),
                  "notify_staff": bool(form.notify_staff.data),
                  "verdicts": [
                      {"row": v.row.number, "text": v.row.text[:40], "status": v.status,
                       "reason": v.reason, "citizen_id": v.citizen_id}
                      for v in verdicts
                  ],
              })
    session.add(job)
    session.commit()
    return redirect(url_for("staff.preview_send_out", job_id=job.id))


def _preview_job(job_id: int) -> Job:
    job = db.session.get(Job, job_id)
    if job is None or job.kind != "send-out-preview" or job.unit_id is None:
        abort(404)
    authorize_or_404(Permission.SENDOUT_CREATE, job.unit_id)
    return job


@bp.get("/sendouts/preview/<int:job_id>")
@require(Permission.SENDOUT_CREATE)
def preview_send_out(job_id: int) -> str:
    job = _preview_job(job_id)
    verdicts = job.data["verdicts"]
    version = db.session.get(DefinitionVersion, job.data["definition_version_id"])
    counts = {"ok": 0, "warning": 0, "error": 0}
    for verdict in verdicts:
        counts[verdict["status"]] += 1
    problems = [v for v in verdicts if v["status"] != "ok"][:1000]
    return render_template("staff/sendout_preview.html", job=job, version=version,
                           counts=counts, problems=problems, reason_text=reason_text,
                           scheduled_at=dt.datetime.fromisoformat(job.data["scheduled_at"]))


@bp.post("/sendouts/preview/<int:job_id>")
@require(Permission.SENDOUT_CREATE)
def confirm_send_out(job_id: int) -> Response:
    job = _preview_job(job_id)
    if job.status != "waiting":
        abort(409)
    session = db.session()
    data = job.data
    version = session.get(DefinitionVersion, data["definition_version_id"])
    if version is None:
        abort(404)
    deadline = (end_of_local_day(dt.date.fromisoformat(data["deadline"]))
                if data["deadline"] else None)
    verdicts = [recipient_checks.RowVerdict(recipient_checks.RawRow(v["row"], v["text"]),
                                            v["status"], v["reason"], v["citizen_id"])
                for v in data["verdicts"]]
    try:
        send_out, fill_job = sendouts.create_send_out(
            session, current_actor(), unit_id=int(job.unit_id or 0), version=version,
            verdicts=verdicts, scheduled_at=dt.datetime.fromisoformat(data["scheduled_at"]),
            deadline_at=deadline, expires_at=None, reminder_days_before=data["reminders"],
            subject=data["subject"], body=data["body"],
            notify_staff_on_answer=data["notify_staff"])
    except sendouts.SendOutError as error:
        flash(_("The send-out could not be made: %(reason)s", reason=str(error)), "error")
        return redirect(url_for("staff.preview_send_out", job_id=job.id))
    job.status = "done"
    log_event(session, actor_kind="staff", actor_id=current_actor().staff_user_id,
              event="send-out.created", unit_id=send_out.unit_id, object_type="send_out",
              object_id=send_out.id, data={"recipients": send_out.total})
    from formular.jobs.queue import enqueue_after_commit

    enqueue_after_commit(session, "formular.fill_send_out", fill_job.id)
    session.commit()
    return redirect(url_for("staff.send_out", send_out_id=send_out.id))


def _send_out(send_out_id: int, permission: Permission) -> SendOut:
    send_out = db.session.get(SendOut, send_out_id)
    if send_out is None:
        abort(404)
    authorize_or_404(permission, send_out.unit_id)
    return send_out


@bp.get("/sendouts/<int:send_out_id>")
@require(Permission.SENDOUT_READ)
def send_out(send_out_id: int) -> str:
    row = _send_out(send_out_id, Permission.SENDOUT_READ)
    session = db.session()
    state = request.args.get("state", "")
    search = request.args.get("q", "").strip()[:100]
    sort = request.args.get("sort", "name")
    page = max(1, request.args.get("page", 1, type=int) or 1)
    query = (select(Assignment).join(Citizen, Assignment.citizen_id == Citizen.id)
             .where(Assignment.send_out_id == row.id))
    if state:
        query = query.where(Assignment.state == state)
    if search:
        digits = "".join(ch for ch in search if ch.isdigit())
        escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conditions: list[ColumnElement[bool]] = [
            Citizen.name.ilike(f"%{escaped}%", escape="\\")]
        if len(digits) >= 4:
            conditions.append(Citizen.personnummer.contains(digits))
        query = query.where(or_(*conditions))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    order = SORTS.get(sort, Citizen.name)
    assignments = session.scalars(query.order_by(order, Assignment.id)
                                  .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
    flags: dict[int, list[Any]] = {}
    if current_actor().can(Permission.SUBMISSION_READ, row.unit_id):
        # Flags are part of the answers: shown only to readers of answers, and logged below.
        submission_ids = [a.submission_id for a in assignments if a.submission_id]
        for submission_id, scores in session.execute(select(Submission.id, Submission.scores)
                                                     .where(Submission.id.in_(submission_ids))):
            flags[submission_id] = list((scores or {}).get("flags", []))
    log_access(session, current_actor(), unit_id=row.unit_id,
               citizen_ids=[a.citizen_id for a in assignments], action="sendout:list",
               object_type="send_out", object_id=row.id,
               reason=f"follow-up:{row.id}")
    counts = sendouts.counts_by_state(session, row.id)
    session.commit()
    return render_template(
        "staff/sendout.html", send_out=row, assignments=assignments, counts=counts,
        rate=sendouts.response_rate(counts), state=state, search=search, sort=sort, page=page,
        pages=max(1, -(-total // PAGE_SIZE)), total=total, flags=flags,
        can_remind=current_actor().can(Permission.SENDOUT_REMIND, row.unit_id),
        can_cancel=current_actor().can(Permission.SENDOUT_CANCEL, row.unit_id),
        can_read=current_actor().can(Permission.SUBMISSION_READ, row.unit_id),
        can_export=current_actor().can(Permission.SUBMISSION_EXPORT, row.unit_id),
        states=transitions.STATE_ORDER)


@bp.get("/sendouts/<int:send_out_id>/progress.json")
@require(Permission.SENDOUT_READ)
def send_out_progress(send_out_id: int) -> Response:
    row = _send_out(send_out_id, Permission.SENDOUT_READ)
    return jsonify(status=row.status, total=row.total, processed=row.processed)


@bp.post("/sendouts/<int:send_out_id>/remind")
@require(Permission.SENDOUT_REMIND)
def remind_all(send_out_id: int) -> Response:
    row = _send_out(send_out_id, Permission.SENDOUT_REMIND)
    session = db.session()
    reminded = transitions.remind_unanswered(session, row, current_actor(), utcnow())
    session.commit()
    if reminded:
        flash(ngettext("A reminder was sent to %(num)s recipient.",
                       "Reminders were sent to %(num)s recipients.", reminded), "info")
    else:
        flash(_("Everyone has answered, or was reminded less than a day ago: no reminders "
                "were sent."), "info")
    return redirect(url_for("staff.send_out", send_out_id=row.id))


@bp.post("/sendouts/<int:send_out_id>/cancel")
@require(Permission.SENDOUT_CANCEL)
def cancel_send_out(send_out_id: int) -> Response:
    row = _send_out(send_out_id, Permission.SENDOUT_CANCEL)
    session = db.session()
    cancelled = transitions.cancel_send_out(session, row, current_actor(), utcnow())
    session.commit()
    flash(ngettext("Send-out cancelled; %(num)s unanswered form was withdrawn.",
                   "Send-out cancelled; %(num)s unanswered forms were withdrawn.", cancelled),
          "info")
    return redirect(url_for("staff.send_out", send_out_id=row.id))


def _assignment(token: str, permission: Permission) -> Assignment:
    row = db.session.scalars(select(Assignment).where(Assignment.token == token)).first()
    if row is None:
        abort(404)
    authorize_or_404(permission, row.send_out.unit_id)
    return row


@bp.get("/assignments/<token>")
@require(Permission.SENDOUT_READ)
def assignment(token: str) -> str:
    row = _assignment(token, Permission.SENDOUT_READ)
    session = db.session()
    actor = current_actor()
    history = session.scalars(select(AssignmentEvent).where(
        AssignmentEvent.assignment_id == row.id).order_by(AssignmentEvent.at,
                                                          AssignmentEvent.id)).all()
    submission = session.get(Submission, row.submission_id) if row.submission_id else None
    review = None
    if submission is not None and actor.can(Permission.SUBMISSION_READ, row.send_out.unit_id):
        log_access(session, actor, unit_id=row.send_out.unit_id, citizen_ids=[row.citizen_id],
                   action="submission:read", object_type="submission", object_id=submission.id,
                   reason=f"follow-up:{row.send_out_id}")
        review = transitions.review_of(submission)
    session.commit()
    return render_template(
        "staff/assignment.html", assignment=row, history=history, submission=submission,
        review=review, can_read=actor.can(Permission.SUBMISSION_READ, row.send_out.unit_id),
        can_handle=actor.can(Permission.SUBMISSION_HANDLE, row.send_out.unit_id),
        can_remind=actor.can(Permission.SENDOUT_REMIND, row.send_out.unit_id),
        can_cancel=actor.can(Permission.SENDOUT_CANCEL, row.send_out.unit_id),
        can_export=actor.can(Permission.SUBMISSION_EXPORT, row.send_out.unit_id))


def _act(token: str, permission: Permission, event: str) -> Response:
    row = _assignment(token, permission)
    session = db.session()
    outcome = transitions.fire(session, row, event, current_actor(), utcnow())
    if outcome.ok:
        session.commit()
        flash(transitions.event_done_text(event), "info")
    else:
        session.rollback()
        flash(transitions.refusal_text(outcome.reason), "error")
    return redirect(url_for("staff.assignment", token=token))


@bp.post("/assignments/<token>/remind")
@require(Permission.SENDOUT_REMIND)
def remind(token: str) -> Response:
    return _act(token, Permission.SENDOUT_REMIND, "remind")


@bp.post("/assignments/<token>/cancel")
@require(Permission.SENDOUT_CANCEL)
def cancel(token: str) -> Response:
    return _act(token, Permission.SENDOUT_CANCEL, "cancel")


@bp.post("/assignments/<token>/handle")
@require(Permission.SUBMISSION_HANDLE)
def handle(token: str) -> Response:
    return _act(token, Permission.SUBMISSION_HANDLE, "handle")

