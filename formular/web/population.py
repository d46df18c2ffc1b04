"""Staff pages of the listed population and cohort invitations (issue #7, R-44).

* **Import the listed population** (``/staff/population/import``, ``POPULATION_IMPORT``): upload
  a CSV file, see every row's verdict, confirm. The preview belongs to the person who uploaded
  it (anyone else gets 404); the confirmation applies it once (see
  :mod:`formular.population.service`).
* **Invite a cohort** (``/staff/cohorts/new``, ``SENDOUT_CREATE``): everyone listed at the unit
  who turns N in a year gets a form, with the send-out wizard's scheduling, deadline, automatic
  reminder and inbox message; confirming makes a normal send-out through
  :mod:`formular.sendouts.service` (filled by the background job, followed up as usual).
* **Invitation letters** (``/staff/sendouts/<id>/letters``, ``SENDOUT_READ`` in the send-out's
  unit): one PDF page per recipient, in Swedish or English.

None of these pages show answers or other health data, but they show personal data: every
object is checked against the actor's units (another unit's ids answer 404), and imports and
letters are written to the event log.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale, format_date, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response as BaseResponse
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from formular.audit.service import log_access, log_event
from formular.auth.clock import as_utc, swedish_today
from formular.auth.permissions import Permission
from formular.i18n.service import translate_document
from formular.population import cohort as cohorts
from formular.population import service as population
from formular.population.csv_import import MAX_BYTES, MAX_ROWS, FileProblem
from formular.population.letters import Letter, LetterTexts, letters_pdf
from formular.population.texts import file_problem_text, problem_text
from formular.sendouts import service as sendouts
from formular.sendouts.recipients import RawRow, RowVerdict
from formular.storage.base import utcnow
from formular.storage.db import db
from formular.storage.identity import Citizen, StaffUser, Unit
from formular.storage.models import DefinitionVersion
from formular.storage.population import CohortInvitation, PopulationImport
from formular.storage.sendouts import Assignment, Job, SavedText, SendOut

from .access import authorize_or_404, current_actor, require
from .staff import _definitions_for, reason_text
from .timezone import end_of_local_day, local_to_utc, to_local
from .uploads import safe_filename

bp = Blueprint("population", __name__, url_prefix="/staff")

#: Assignment states a letter still makes sense for (not answered, withdrawn or closed).
LETTER_STATES = ("scheduled", "sent", "opened", "in-progress")
#: Rows of the cohort shown on its preview page.
PREVIEW_ROWS = 20
#: The default deadline of a cohort send-out: six weeks, the lead time a reminder needs
#: (brief R-44).
DEFAULT_WEEKS = 6
#: Why the send-out service refused a confirmed cohort, in words.
SEND_OUT_ERRORS = {
    "no-recipients": _l("Nobody in the cohort can get the form."),
    "deadline-before-send": _l("The deadline must be after the send time."),
}

# -- forms ---------------------------------------------------------------------------------


class ImportForm(FlaskForm):
    file = FileField(_l("CSV file"), description=_l(
        "UTF-8, with a header row; fields separated by semicolons or commas."))


class CohortForm(FlaskForm):
    unit = SelectField(_l("Unit"), coerce=int, validators=[DataRequired()])
    definition = SelectField(_l("Form"), validators=[DataRequired()])
    year = IntegerField(_l("Year"), validators=[
        InputRequired(), NumberRange(cohorts.MIN_YEAR, cohorts.MAX_YEAR)])
    age = IntegerField(_l("The age they turn that year"), default=50, validators=[
        InputRequired(), NumberRange(cohorts.MIN_AGE, cohorts.MAX_AGE)],
        description=_l("Everyone listed at the unit who is born in the year minus the age "
                       "gets the form: born 1 January to 31 December of that year."))
    scheduled_at = DateTimeLocalField(
        _l("Send at (Swedish time)"), format="%Y-%m-%dT%H:%M", validators=[Optional()],
        description=_l("Leave empty to send now."))
    deadline = DateField(_l("Answer by"), validators=[Optional()])
    reminder_days = IntegerField(
        _l("Automatic reminder, days before the deadline"), default=14,
        validators=[Optional(), NumberRange(1, 365)],
        description=_l("Leave empty for no automatic reminder. A reminder raises "
                       "participation; send the invitation at least six weeks before the "
                       "visits."))
    saved_text = SelectField(_l("Saved message"), coerce=int, validators=[Optional()])
    subject = StringField(_l("Message subject"), validators=[Optional(), Length(max=200)])
    body = TextAreaField(_l("Message to the recipients"),
                         validators=[Optional(), Length(max=5000)])
    notify_staff = BooleanField(_l("E-mail me when someone answers"))


class LettersForm(FlaskForm):
    language = RadioField(_l("Language of the letters"), choices=[
        SelectChoice("sv", "Svenska"), SelectChoice("en", "English")], default="sv")
    recipients = RadioField(_l("Letters for"), choices=[
        SelectChoice("without-email", _l("Recipients without an e-mail address (they get no "
                                         "e-mail notification)")),
        SelectChoice("all", _l("All recipients who have not answered"))],
        default="without-email")
    kind = RadioField(_l("Letter text"), choices=[
        SelectChoice("health-check", _l("Invitation to a health check")),
        SelectChoice("questionnaire", _l("A questionnaire to answer"))],
        default="questionnaire")
    contact = StringField(_l("Contact details on the letter"), validators=[
        Optional(), Length(max=300)],
        description=_l("For example a telephone number and when to call."))


# -- import ---------------------------------------------------------------------------------


def _unit_names(unit_ids: list[int]) -> dict[int, str]:
    if not unit_ids:
        return {}
    return {row.id: row.name for row in db.session.execute(
        select(Unit.id, Unit.name).where(Unit.id.in_(unit_ids)))}


def _recent_imports(unit_ids: list[int]) -> list[tuple[PopulationImport, str]]:
    """Applied imports touching the actor's units (counts only; no personal data)."""
    mine = set(unit_ids)
    rows = db.session.execute(
        select(PopulationImport, StaffUser.display_name)
        .outerjoin(StaffUser, StaffUser.id == PopulationImport.created_by_id)
        .where(PopulationImport.status == "applied")
        .order_by(PopulationImport.applied_at.desc()).limit(200)).all()
    return [(row[0], row[1] or "") for row in rows
            if mine & set(row[0].unit_ids or [])][:20]


@bp.route("/population/import", methods=["GET", "POST"])
@require(Permission.POPULATION_IMPORT)
def import_population() -> Any:
    actor = current_actor()
    allowed = actor.units_with(Permission.POPULATION_IMPORT)
    form = ImportForm()
    session = db.session()
    status = 200
    if form.validate_on_submit():
        upload = form.file.data
        if not upload or not getattr(upload, "filename", ""):
            form.file.errors.append(_("Choose a CSV file to upload."))
        else:
            data = upload.read(MAX_BYTES + 1)
            try:
                population.expire_stale(session)
                record = population.stage_import(
                    session, data=data, filename=safe_filename(str(upload.filename)),
                    staff_user_id=actor.staff_user_id, allowed_unit_ids=allowed,
                    today=swedish_today(utcnow()))
            except FileProblem as problem:
                session.rollback()
                form.file.errors.append(file_problem_text(problem))
            else:
                session.commit()
                return redirect(url_for("population.import_preview", import_id=record.id))
        status = 400
    elif request.method == "POST":
        status = 400
    recent = _recent_imports(allowed)
    shown_units = sorted(set(allowed) | {u for r, _n in recent for u in r.unit_ids or []})
    units = db.session.scalars(select(Unit).where(Unit.id.in_(allowed))
                               .order_by(Unit.name)).all()
    return render_template("population/import.html", form=form, units=units,
                           recent=recent, unit_names=_unit_names(shown_units),
                           max_size=MAX_BYTES // (1024 * 1024), max_rows=MAX_ROWS), status


def _own_import(import_id: int) -> PopulationImport:
    """An import is shown only to the person who uploaded it (404 for everybody else)."""
    record = db.session.get(PopulationImport, import_id)
    actor = current_actor()
    if record is None or record.created_by_id is None \
            or record.created_by_id != actor.staff_user_id:
        abort(404)
    return record


def _is_stale(record: PopulationImport) -> bool:
    return as_utc(record.created_at) < utcnow() - population.PREVIEW_LIFETIME


@bp.get("/population/imports/<int:import_id>")
@require(Permission.POPULATION_IMPORT)
def import_preview(import_id: int) -> str:
    record = _own_import(import_id)
    counts = record.counts or {}
    per_unit = {int(unit): values for unit, values in (counts.get("units") or {}).items()}
    earlier = db.session.scalar(select(func.max(PopulationImport.applied_at)).where(
        PopulationImport.digest == record.digest, PopulationImport.status == "applied",
        PopulationImport.id != record.id)) if record.status == "preview" else None
    return render_template(
        "population/import_preview.html", record=record, counts=counts, per_unit=per_unit,
        unit_names=_unit_names(list(per_unit)), report=(record.staged or {}).get("report", []),
        problem_text=problem_text, stale=record.status == "preview" and _is_stale(record),
        earlier=earlier)


@bp.post("/population/imports/<int:import_id>")
@require(Permission.POPULATION_IMPORT)
def confirm_import(import_id: int) -> BaseResponse:
    record = _own_import(import_id)
    session = db.session()
    actor = current_actor()
    here = url_for("population.import_preview", import_id=record.id)
    if record.status == "expired" or (record.status == "preview" and _is_stale(record)):
        population.expire_stale(session)
        session.commit()
        flash(_("The preview has expired: upload the file again."), "error")
        return redirect(here)
    if record.status == "applied":
        flash(_("This file has already been imported; nothing was changed."), "info")
        return redirect(here)
    if request.form.get("digest", "") != record.digest:
        flash(_("The confirmation does not match the uploaded file: upload it again."), "error")
        return redirect(here)
    try:
        outcome = population.apply_import(
            session, record, digest=record.digest,
            allowed_unit_ids=actor.units_with(Permission.POPULATION_IMPORT),
            today=swedish_today(utcnow()), actor_id=actor.staff_user_id)
        session.commit()
    except IntegrityError:
        session.rollback()
        flash(_("Someone registered the same people while the file was imported, so nothing "
                "was imported. Confirm again."), "error")
        return redirect(here)
    if not outcome.applied:
        flash(_("This file has already been imported; nothing was changed."), "info")
        return redirect(here)
    counts = outcome.counts
    flash(ngettext("%(num)s person is listed.", "%(num)s people are listed.",
                   int(counts.get("import", 0))) + " " +
          ngettext("%(num)s of them is new in Formulär.", "%(num)s of them are new in Formulär.",
                   int(counts.get("create", 0))), "info")
    return redirect(here)


# -- cohort send-out -------------------------------------------------------------------------


def _cohort_form_setup(form: CohortForm) -> tuple[int, list[DefinitionVersion],
                                                  list[SavedText], list[Unit]]:
    actor = current_actor()
    session = db.session()
    unit_ids = actor.units_with(Permission.SENDOUT_CREATE)
    units = list(session.scalars(select(Unit).where(Unit.id.in_(unit_ids)).order_by(Unit.name)))
    form.unit.choices = [SelectChoice(u.id, u.name) for u in units]
    chosen = form.unit.data if form.unit.data in unit_ids else units[0].id
    versions = _definitions_for(chosen)
    form.definition.choices = [SelectChoice(v.definition_id, f"{v.title} (v{v.version})")
                               for v in versions]
    texts = list(session.scalars(select(SavedText).where(SavedText.unit_id == chosen)))
    form.saved_text.choices = [SelectChoice(0, _("No saved message"))] + [
        SelectChoice(t.id, t.title) for t in texts]
    return chosen, versions, texts, units


def _timing_errors(form: CohortForm, scheduled: dt.datetime) -> bool:
    """Deadline and reminder against the send time; adds field errors, True if any."""
    deadline = end_of_local_day(form.deadline.data) if form.deadline.data else None
    found = False
    if deadline is not None and deadline <= scheduled:
        form.deadline.errors.append(_("The deadline must be after the send time."))
        found = True
    days = form.reminder_days.data
    if days and deadline is None:
        form.reminder_days.errors.append(_("An automatic reminder needs a deadline."))
        found = True
    elif days and deadline is not None and deadline - dt.timedelta(days=days) < scheduled:
        form.reminder_days.errors.append(_("The reminder would come before the send-out: "
                                           "choose fewer days or a later deadline."))
        found = True
    return found


@bp.route("/cohorts/new", methods=["GET", "POST"])
@require(Permission.SENDOUT_CREATE)
def new_cohort() -> Any:
    today = swedish_today(utcnow())
    form = CohortForm(year=today.year,
                      deadline=today + dt.timedelta(weeks=DEFAULT_WEEKS))
    chosen, versions, texts, units = _cohort_form_setup(form)
    if not form.validate_on_submit():
        return render_template("population/cohort.html", form=form), (
            400 if request.method == "POST" else 200)
    if form.deadline.data is not None and form.deadline.data < today:
        form.deadline.errors.append(_("The deadline cannot be in the past."))
    version = next((v for v in versions if v.definition_id == form.definition.data), None)
    if version is None:
        abort(400)
    scheduled = local_to_utc(form.scheduled_at.data) if form.scheduled_at.data else utcnow()
    if _timing_errors(form, scheduled) or form.deadline.errors:
        return render_template("population/cohort.html", form=form), 400
    year, age = int(form.year.data or 0), int(form.age.data or 0)
    if not cohorts.MIN_YEAR <= year - age:
        form.age.errors.append(_("Nobody listed can be born that early."))
        return render_template("population/cohort.html", form=form), 400
    session = db.session()
    policy = version.document.get("policy", {}).get("age", {})
    verdicts = population.cohort_verdicts(session, chosen, year, age, today,
                                          policy.get("min"), policy.get("max"))
    subject, body = form.subject.data or "", form.body.data or ""
    saved = next((t for t in texts if t.id == form.saved_text.data), None)
    if saved is not None:
        subject, body = subject or saved.title, body or saved.body
    unit_name = next(u.name for u in units if u.id == chosen)
    job = Job(kind="cohort-preview", status="waiting", unit_id=chosen, total=len(verdicts),
              done=len(verdicts), data={
                  "definition_version_id": version.id,
                  "cohort": {"year": year, "age": age, "born": year - age},
                  "scheduled_at": scheduled.isoformat(),
                  "deadline": form.deadline.data.isoformat() if form.deadline.data else None,
                  "reminders": [int(form.reminder_days.data)] if form.reminder_days.data
                  else [],
                  "subject": subject or _("A form from %(unit)s", unit=unit_name),
                  "body": body or _("Please answer the form. Your answers are read by staff "
                                    "at the clinic."),
                  "notify_staff": bool(form.notify_staff.data),
                  "verdicts": [{"row": v.row.number, "text": v.row.text, "status": v.status,
                                "reason": v.reason, "citizen_id": v.citizen_id}
                               for v in verdicts],
              })
    session.add(job)
    session.commit()
    return redirect(url_for("population.cohort_preview", job_id=job.id))


def _cohort_job(job_id: int) -> Job:
    job = db.session.get(Job, job_id)
    if job is None or job.kind != "cohort-preview" or job.unit_id is None:
        abort(404)
    authorize_or_404(Permission.SENDOUT_CREATE, job.unit_id)
    return job


@bp.get("/cohorts/preview/<int:job_id>")
@require(Permission.SENDOUT_CREATE)
def cohort_preview(job_id: int) -> str:
    job = _cohort_job(job_id)
    session = db.session()
    verdicts = job.data["verdicts"]
    included = [v for v in verdicts if v["status"] != "error"]
    excluded = [v for v in verdicts if v["status"] == "error"]
    people = {c.id: c for c in session.scalars(select(Citizen).where(Citizen.id.in_(
        [v["citizen_id"] for v in [*included[:PREVIEW_ROWS], *excluded[:1000]]
         if v["citizen_id"]])))}
    included_ids = [v["citizen_id"] for v in included]
    without_email = 0
    for start in range(0, len(included_ids), population.CHUNK):
        without_email += session.scalar(select(func.count()).select_from(Citizen).where(
            Citizen.id.in_(included_ids[start:start + population.CHUNK]),
            or_(Citizen.email.is_(None), Citizen.email == "",
                Citizen.protected_identity.is_(True)))) or 0
    reasons = Counter(v["reason"] for v in excluded)
    return render_template(
        "population/cohort_preview.html", job=job, cohort=job.data["cohort"],
        version=session.get(DefinitionVersion, job.data["definition_version_id"]),
        unit=session.get(Unit, job.unit_id), included=included, excluded=excluded,
        shown=included[:PREVIEW_ROWS], people=people, reasons=reasons,
        without_email=without_email, reason_text=reason_text,
        notes=sum(1 for v in included if v["status"] == "warning"),
        scheduled_at=dt.datetime.fromisoformat(job.data["scheduled_at"]),
        deadline=dt.date.fromisoformat(job.data["deadline"]) if job.data["deadline"] else None)


@bp.post("/cohorts/preview/<int:job_id>")
@require(Permission.SENDOUT_CREATE)
def confirm_cohort(job_id: int) -> BaseResponse:
    job = _cohort_job(job_id)
    session = db.session()
    actor = current_actor()
    claimed = session.execute(update(Job).where(Job.id == job.id, Job.status == "waiting")
                              .values(status="done")
                              .execution_options(synchronize_session=False))
    if not getattr(claimed, "rowcount", 0):
        session.rollback()
        session.refresh(job)
        flash(_("This cohort send-out has already been made; nothing was sent twice."), "info")
        made = job.data.get("send_out_id")
        return redirect(url_for("staff.send_out", send_out_id=made) if made
                        else url_for("population.cohort_preview", job_id=job.id))
    session.refresh(job)
    data = job.data
    version = session.get(DefinitionVersion, data["definition_version_id"])
    if version is None:
        abort(404)
    deadline = (end_of_local_day(dt.date.fromisoformat(data["deadline"]))
                if data["deadline"] else None)
    verdicts = [RowVerdict(RawRow(v["row"], v["text"]), v["status"], v["reason"],
                           v["citizen_id"]) for v in data["verdicts"]]
    try:
        send_out, fill_job = sendouts.create_send_out(
            session, actor, unit_id=int(job.unit_id or 0), version=version, verdicts=verdicts,
            scheduled_at=dt.datetime.fromisoformat(data["scheduled_at"]), deadline_at=deadline,
            expires_at=None, reminder_days_before=data["reminders"], subject=data["subject"],
            body=data["body"], notify_staff_on_answer=data["notify_staff"])
    except sendouts.SendOutError as error:
        session.rollback()
        reason = SEND_OUT_ERRORS.get(str(error))
        flash(str(reason) if reason is not None else
              _("The send-out could not be made: %(reason)s", reason=str(error)), "error")
        return redirect(url_for("population.cohort_preview", job_id=job.id))
    cohort = data["cohort"]
    session.add(CohortInvitation(send_out_id=send_out.id, unit_id=send_out.unit_id,
                                 year=int(cohort["year"]), age=int(cohort["age"])))
    job.data = {**data, "send_out_id": send_out.id}
    log_event(session, actor_kind="staff", actor_id=actor.staff_user_id,
              event="send-out.created", unit_id=send_out.unit_id, object_type="send_out",
              object_id=send_out.id, data={"recipients": send_out.total, "cohort": cohort})
    from formular.jobs.queue import enqueue_after_commit

    enqueue_after_commit(session, "formular.fill_send_out", fill_job.id)
    session.commit()
    return redirect(url_for("staff.send_out", send_out_id=send_out.id))


# -- invitation letters ---------------------------------------------------------------------


def _send_out(send_out_id: int) -> SendOut:
    row = db.session.get(SendOut, send_out_id)
    if row is None:
        abort(404)
    authorize_or_404(Permission.SENDOUT_READ, row.unit_id)
    return row


def _letter_query(send_out: SendOut, which: str) -> Any:
    query = (select(Citizen.id, Citizen.name)
             .join(Assignment, Assignment.citizen_id == Citizen.id)
             .where(Assignment.send_out_id == send_out.id, Assignment.state.in_(LETTER_STATES),
                    Citizen.protected_identity.is_(False)))
    if which == "without-email":
        query = query.where(or_(Citizen.email.is_(None), Citizen.email == ""))
    return query


def _letter_counts(send_out: SendOut) -> dict[str, int]:
    session = db.session()

    def count(query: Any) -> int:
        return int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)

    protected = (select(Assignment.id).join(Citizen, Assignment.citizen_id == Citizen.id)
                 .where(Assignment.send_out_id == send_out.id,
                        Assignment.state.in_(LETTER_STATES),
                        Citizen.protected_identity.is_(True)))
    return {"without-email": count(_letter_query(send_out, "without-email")),
            "all": count(_letter_query(send_out, "all")), "protected": count(protected)}


def _render_letters(send_out: SendOut, form: LettersForm, status: int = 200,
                    nothing: bool = False) -> tuple[str, int]:
    return render_template("population/letters.html", send_out=send_out, form=form,
                           counts=_letter_counts(send_out), nothing=nothing), status


def _invitation(send_out: SendOut) -> CohortInvitation | None:
    return db.session.scalars(select(CohortInvitation).where(
        CohortInvitation.send_out_id == send_out.id)).first()


@bp.get("/sendouts/<int:send_out_id>/letters")
@require(Permission.SENDOUT_READ)
def letters(send_out_id: int) -> tuple[str, int]:
    send_out = _send_out(send_out_id)
    form = LettersForm(kind="health-check" if _invitation(send_out) else "questionnaire",
                       language=current_locale_code())
    return _render_letters(send_out, form)


def current_locale_code() -> str:
    from flask_babel import get_locale

    code = str(get_locale() or "sv")
    return code if code in ("sv", "en") else "sv"


def public_url() -> str:
    """The address citizens go to: ``FORMULAR_PUBLIC_URL`` if set, else this request's."""
    configured = current_app.config.get("PUBLIC_URL")
    return str(configured or request.url_root).rstrip("/")


def letter_texts(send_out: SendOut, invitation: CohortInvitation | None, kind: str,
                 contact: str, language: str) -> LetterTexts:
    """The letter's texts in ``language`` (call inside ``force_locale(language)``)."""
    unit = send_out.unit.name
    version = send_out.definition_version
    title = str(translate_document(version.document, language).document.get("title")
                or version.title)
    url = public_url()
    paragraphs: list[str] = []
    if kind == "health-check":
        heading = _("Invitation to a health check")
        if invitation is not None:
            paragraphs.append(_("This year you turn %(age)s. %(unit)s invites everyone listed "
                                "at the clinic who turns %(age)s this year to a free health "
                                "check.", age=invitation.age, unit=unit))
        else:
            paragraphs.append(_("%(unit)s invites you to a free health check.", unit=unit))
        paragraphs.append(_("The health check is a conversation with a nurse about your health "
                            "and your habits – physical activity, food, alcohol, tobacco, "
                            "sleep and stress – with measurements of blood pressure, weight "
                            "and waist, and blood tests. Afterwards you get your results as a "
                            "health profile, which you talk through together."))
        paragraphs.append(_("Before the visit, please answer the questionnaire “%(form)s” "
                            "online.", form=title))
    else:
        heading = _("A questionnaire from %(unit)s", unit=unit)
        paragraphs.append(_("%(unit)s asks you to answer the questionnaire “%(form)s” online.",
                            unit=unit, form=title))
    after: list[str] = []
    if send_out.deadline_at is not None:
        local = to_local(send_out.deadline_at)
        if local is not None:
            after.append(_("Please answer by %(date)s.",
                           date=format_date(local.date(), "long")))
    after.append(_("Your answers are read only by the staff at %(unit)s who care for you.",
                   unit=unit))
    if contact:
        after.append(_("If you cannot answer online, or have questions, contact us: "
                       "%(contact)s", contact=contact))
    else:
        after.append(_("If you cannot answer online, or have questions, contact %(unit)s.",
                       unit=unit))
    return LetterTexts(
        language=language, document_title=_("Invitation letters – %(form)s", form=title),
        unit=unit,
        date_line=format_date(swedish_today(utcnow()), "long"),
        address_note=_("[Postal address]"), heading=heading, paragraphs=paragraphs,
        steps_heading=_("How to answer"),
        steps=[_("Go to %(url)s", url=url),
               _("Log in with your e-legitimation, for example BankID – the same way as on "
                 "1177."),
               _("Open the message from %(unit)s in your inbox and answer the questions.",
                 unit=unit)],
        after=after, closing=_("Kind regards,\n%(unit)s", unit=unit),
        footer=f"{unit} · {url}")


@bp.post("/sendouts/<int:send_out_id>/letters")
@require(Permission.SENDOUT_READ)
def print_letters(send_out_id: int) -> Any:
    send_out = _send_out(send_out_id)
    form = LettersForm()
    if not form.validate_on_submit():
        return _render_letters(send_out, form, 400)
    which = str(form.recipients.data)
    language = str(form.language.data)
    session = db.session()
    people = [(int(row[0]), str(row[1])) for row in session.execute(
        _letter_query(send_out, which).order_by(Citizen.name, Citizen.id))]
    if not people:
        return _render_letters(send_out, form, nothing=True)
    actor = current_actor()
    # The letters list the recipients by name: logged like the follow-up list of them.
    log_access(session, actor, unit_id=send_out.unit_id, citizen_ids=[p[0] for p in people],
               action="sendout:list", object_type="send_out", object_id=send_out.id,
               reason=f"follow-up:{send_out.id}")
    log_event(session, actor_kind="staff", actor_id=actor.staff_user_id,
              event="letters.printed", unit_id=send_out.unit_id, object_type="send_out",
              object_id=send_out.id,
              data={"letters": len(people), "language": language, "recipients": which})
    session.commit()
    with force_locale(language):
        texts = letter_texts(send_out, _invitation(send_out), str(form.kind.data),
                             (form.contact.data or "").strip(), language)
        letters_list = [Letter(name, _("Dear %(name)s,", name=name)) for _id, name in people]
    data = letters_pdf(letters_list, texts)
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="invitation-letters-{send_out.id}-'
                               f'{language}.pdf"'})
