"""The health check: staff measurements at the visit, the health profile for staff and the
citizen (star chart, table, PDF), and the register export.

A visit is a citizen's assignment of a send-out of a profile's survey (a profile names its
survey and its measurement definition, see :mod:`formular.profiles`). Staff with the
measurement permission in the send-out's unit enter the measurements on a page drawn by the
form renderer (audience "staff"), validated by the compiler like any answer; staff with the
profile permission read the profile, computed on read from the survey's submission and the
measurements; the citizen reads it when the profile allows. Another unit's visit answers 404.

Every staff read of measurements or of a profile, and every exported citizen, writes an
access-log row in the same transaction before anything is shown (fail closed); every save of
measurements writes the event log.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import Form

from formular.audit.service import log_access, log_event
from formular.auth.clock import swedish_today
from formular.auth.permissions import Permission
from formular.definitions.service import (
    CompiledDefinition,
    Evaluation,
    FieldError,
    Subject,
    answers_too_large,
)
from formular.i18n.service import compile_for
from formular.lru import Lru
from formular.profiles.model import ProfileDefinition
from formular.rendering.forms import page_answers, page_items, prefill
from formular.rendering.page import build_page, client_plan_json
from formular.rendering.widgets import labelled_fields
from formular.storage import drafts
from formular.storage.base import utcnow
from formular.storage.db import db
from formular.storage.health import (
    HealthMeasurement,
    StaleMeasurement,
    measurement_of,
    save_measurement,
)
from formular.storage.identity import Citizen, Unit
from formular.storage.models import DefinitionVersion, Submission
from formular.storage.sendouts import Assignment, SendOut

from . import health_view as hv
from .access import authorize_citizen_or_404, authorize_or_404, current_actor, require
from .i18n import content_locale, offer_form_languages
from .messages import describe

bp = Blueprint("health", __name__)

AUDIENCE = "staff"
#: States in which a visit has no measurements to take: not yet sent, withdrawn, failed.
CLOSED = frozenset({"scheduled", "cancelled", "failed"})
#: Rows fetched per round trip when exporting.
FETCH = 500


class MeasurementForm(FlaskForm):
    """Base of the measurement form: CSRF and WTForms' messages in the current language."""


_classes: Lru[tuple[str, type[Form]], type[Form]] = Lru(256)


def measurement_form_class(compiled: CompiledDefinition) -> type[Form]:
    """One form class with every staff item of every page (the measurements are one page in
    practice, but nothing here assumes it), cached per compiled definition."""
    key = (compiled.digest, MeasurementForm)
    found = _classes.get(key)
    if found is not None:
        return found
    attrs: dict[str, Any] = {}
    for page in compiled.pages:
        for item in page_items(compiled, page.index, AUDIENCE):
            attrs.update(labelled_fields(item))
    return _classes.put(key, type(f"Measurements_{compiled.id}", (MeasurementForm,), attrs))


# -- loading a visit ----------------------------------------------------------------------


@dataclass
class Visit:
    assignment: Assignment
    profile: ProfileDefinition

    @property
    def unit_id(self) -> int:
        return self.assignment.send_out.unit_id

    @property
    def citizen(self) -> Citizen:
        return self.assignment.citizen

    @property
    def survey_version(self) -> DefinitionVersion:
        return self.assignment.send_out.definition_version


def _assignment(token: str) -> Assignment:
    if len(token) > 64:
        abort(404)
    row = db.session.scalars(select(Assignment).where(Assignment.token == token)).first()
    if row is None:
        abort(404)
    return row


def _profile_of(assignment: Assignment) -> ProfileDefinition:
    profile = hv.chosen_profile(assignment.send_out.definition_version.definition_id,
                                request.args.get("profile"))
    if profile is None:
        abort(404)  # not a survey with a health profile
    return profile


def staff_visit(token: str, permission: Permission) -> Visit:
    """The visit behind ``token`` if the actor holds ``permission`` in its unit (404
    otherwise, and 404 for an assignment of a form without a health profile)."""
    assignment = _assignment(token)
    authorize_or_404(permission, assignment.send_out.unit_id)
    return Visit(assignment, _profile_of(assignment))


def citizen_visit(token: str) -> Visit:
    """The citizen's own visit, when its profile is shown to citizens (404 otherwise)."""
    assignment = _assignment(token)
    authorize_citizen_or_404(assignment.citizen_id)
    if assignment.state in CLOSED:
        abort(404)
    visit = Visit(assignment, _profile_of(assignment))
    if not visit.profile.citizen_visible:
        abort(404)
    return visit


def _sources(visit: Visit) -> tuple[Submission | None, HealthMeasurement | None]:
    session = db.session()
    assignment = visit.assignment
    submission = session.get(Submission, assignment.submission_id) \
        if assignment.submission_id else None
    return submission, measurement_of(session, assignment.id)


def _locale() -> str:
    return str(get_locale() or "sv")


def _reason(visit: Visit) -> str:
    return f"follow-up:{visit.assignment.send_out_id}"


# -- links from other pages ---------------------------------------------------------------


@bp.app_template_global()
def health_links(assignment: Assignment) -> dict[str, str] | None:
    """The measurement and profile links of an assignment's follow-up page, for what the
    actor may do; None when the form has no health profile or the actor may do neither."""
    definition_id = assignment.send_out.definition_version.definition_id
    if not hv.profiles_for_survey(definition_id):
        return None
    actor = current_actor()
    unit_id = assignment.send_out.unit_id
    links: dict[str, str] = {}
    if actor.can(Permission.MEASUREMENT_WRITE, unit_id) and assignment.state not in CLOSED:
        links["measurements"] = url_for("health.measurements", token=assignment.token)
    if actor.can(Permission.PROFILE_READ, unit_id):
        links["profile"] = url_for("health.staff_profile", token=assignment.token)
    return links or None


@bp.app_template_global()
def citizen_profile_url(assignment: Assignment | None) -> str | None:
    """The citizen's link to the health profile of an answered survey, when the profile is
    shown to citizens."""
    if assignment is None or assignment.state in CLOSED:
        return None
    profile = hv.chosen_profile(assignment.send_out.definition_version.definition_id, None)
    if profile is None or not profile.citizen_visible:
        return None
    return url_for("health.citizen_profile", token=assignment.token)


# -- measurements -------------------------------------------------------------------------


def _subject(citizen: Citizen) -> Subject:
    return Subject(sex=citizen.sex, age=citizen.age_on(swedish_today(utcnow())))


def _coercion_errors(form: Form, compiled: CompiledDefinition) -> list[FieldError]:
    """Inputs that could not be read as their type ("abc" for a weight), as field errors."""
    errors = []
    for name, bound in form._fields.items():
        if name == "csrf_token" or not bound.errors:
            continue
        spec = compiled.fields.get(name)
        if spec is not None and spec.type not in ("file", "group"):
            errors.append(FieldError((name,), "coerce", {"type": spec.type}, name,
                                     spec.page_index))
    return errors


def _form_data(compiled: CompiledDefinition, answers: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for page in compiled.pages:
        data.update(prefill(compiled, page.index, AUDIENCE, answers))
    return data


@dataclass
class MeasurementPage:
    visit: Visit
    version: DefinitionVersion
    compiled: CompiledDefinition
    record: HealthMeasurement | None


def _measurement_page(visit: Visit) -> MeasurementPage:
    session = db.session()
    record = measurement_of(session, visit.assignment.id)
    version = record.definition_version if record is not None else drafts.latest_version(
        session, visit.profile.measurements)
    if version is None or version.kind != "measurement":
        abort(404)  # the profile names a measurement form that is not stored
    offer_form_languages(version)
    compiled = compile_for(version, content_locale(version))
    return MeasurementPage(visit, version, compiled, record)


def _render_measurements(page: MeasurementPage, form: Form, evaluation: Evaluation,
                         errors: list[FieldError], revision: int, *,
                         notice: str | None = None, stored: dict[str, Any] | None = None,
                         status: int = 200) -> tuple[str, int]:
    compiled = page.compiled
    shown = [p.index for p in compiled.pages if p.index not in evaluation.hidden_pages]
    views = [build_page(compiled, index, AUDIENCE, form, evaluation, errors, describe, shown)
             for index in shown]
    summary = [entry for view in views for entry in view.summary]
    stored_rows = None
    if stored is not None:
        texts = hv.ValueTexts(None, compiled)
        stored_rows = [(texts.label(f"measurement:{name}", name),
                        texts.value(f"measurement:{name}", value))
                       for name, value in stored.items() if value is not None]
    html = render_template(
        "health/measurements.html", visit=page.visit, compiled=compiled, views=views,
        summary=summary, form=form, revision=revision, notice=notice,
        stored_rows=stored_rows, record=page.record,
        plan_json=client_plan_json(compiled, AUDIENCE), answers=evaluation.answers,
        flags=_flags(compiled, evaluation.answers, page.visit.citizen),
        action_url=url_for("health.measurements", token=page.visit.assignment.token,
                           **_profile_arg(page.visit)))
    return html, status


def _flags(compiled: CompiledDefinition, answers: dict[str, Any], citizen: Citizen) -> list[Any]:
    """The measurement form's own alerts (e.g. diastolic not below systolic) for these
    values."""
    if not answers:
        return []
    scoring = compiled.validate(answers, audience=AUDIENCE, subject=_subject(citizen)).scoring
    return list(scoring.flags)


def _profile_arg(visit: Visit) -> dict[str, Any]:
    """Keeps an explicitly chosen profile in the links between the visit's pages."""
    wanted = request.args.get("profile")
    return {"profile": visit.profile.id} if wanted else {}


@bp.get("/staff/assignments/<token>/measurements")
@require(Permission.MEASUREMENT_WRITE)
def measurements(token: str) -> Any:
    visit = staff_visit(token, Permission.MEASUREMENT_WRITE)
    if visit.assignment.state in CLOSED:
        return _closed(visit)
    page = _measurement_page(visit)
    session = db.session()
    record = page.record
    if record is not None:
        log_access(session, current_actor(), unit_id=visit.unit_id,
                   citizen_ids=[visit.assignment.citizen_id], action="measurement:read",
                   object_type="health_measurement", object_id=record.id,
                   reason=_reason(visit))
        answers = dict(record.answers)
    else:
        answers = {"visit_date": swedish_today(utcnow()).isoformat()}
    session.commit()
    compiled = page.compiled
    form = measurement_form_class(compiled)(formdata=None, data=_form_data(compiled, answers))
    evaluation = compiled.evaluate(answers, AUDIENCE)
    return _render_measurements(page, form, evaluation, [],
                                record.revision if record is not None else 0)


@bp.post("/staff/assignments/<token>/measurements")
@require(Permission.MEASUREMENT_WRITE)
def save_measurements(token: str) -> Any:
    visit = staff_visit(token, Permission.MEASUREMENT_WRITE)
    if visit.assignment.state in CLOSED:
        return _closed(visit)
    page = _measurement_page(visit)
    compiled = page.compiled
    form = measurement_form_class(compiled)()
    if not form.validate_on_submit() and "csrf_token" in form.errors:
        abort(400)
    revision_text = request.form.get("_revision", "")
    if not revision_text.isdigit() or len(revision_text) > 9:
        abort(400)
    based_on = int(revision_text)
    answers: dict[str, Any] = {}
    for each in compiled.pages:
        answers.update({name: value for name, value in
                        page_answers(compiled, each.index, AUDIENCE, form).items()
                        if value is not None})
    if answers_too_large(answers):
        abort(413)
    validation = compiled.validate(answers, audience=AUDIENCE,
                                   subject=_subject(visit.citizen))
    coercion = _coercion_errors(form, compiled)
    taken = {error.path for error in coercion}
    errors = coercion + [e for e in validation.errors if e.path not in taken]
    if errors:
        return _render_measurements(page, form, validation.evaluation, errors, based_on,
                                    status=400)
    session = db.session()
    actor = current_actor()
    try:
        record = save_measurement(
            session, assignment_id=visit.assignment.id, citizen_id=visit.assignment.citizen_id,
            version=page.version, answers=validation.answers,
            staff_user_id=int(actor.staff_user_id or 0), based_on=based_on)
    except StaleMeasurement:
        session.rollback()
        return _stale(visit, form, validation.evaluation)
    log_event(session, actor_kind="staff", actor_id=actor.staff_user_id,
              event="measurement.saved", unit_id=visit.unit_id,
              object_type="health_measurement", object_id=record.id,
              data={"assignment_id": visit.assignment.id, "revision": record.revision,
                    "definition_version_id": record.definition_version_id})
    session.commit()
    flash(_("The measurements were saved."), "info")
    return redirect(url_for("health.measurements", token=token, **_profile_arg(visit)))


def _stale(visit: Visit, form: Form, evaluation: Evaluation) -> tuple[str, int]:
    """Someone saved first: keep what this nurse typed on the page, show what is stored now,
    and let them save again on top of the stored revision."""
    page = _measurement_page(visit)
    session = db.session()
    record = page.record
    if record is None:  # the other record was removed meanwhile: start from nothing
        session.commit()
        return _render_measurements(page, form, evaluation, [], 0, status=409, notice=_(
            "The measurements changed while you were typing, so nothing was saved. Check "
            "the values and save again."))
    log_access(session, current_actor(), unit_id=visit.unit_id,
               citizen_ids=[visit.assignment.citizen_id], action="measurement:read",
               object_type="health_measurement", object_id=record.id, reason=_reason(visit))
    session.commit()
    notice = _("Someone else saved measurements for this visit after you opened the page, so "
               "nothing was saved. Your values are still below and the stored values are "
               "listed under them: check them and save again to keep yours.")
    return _render_measurements(page, form, evaluation, [], record.revision, notice=notice,
                                stored=dict(record.answers), status=409)


def _closed(visit: Visit) -> tuple[str, int]:
    return render_template("health/closed.html", visit=visit), 409


# -- the profile --------------------------------------------------------------------------


def _facts(view: hv.ProfileView, citizen: Citizen, *, staff: bool) -> list[tuple[str, str]]:
    from flask_babel import format_date

    facts = [(_("Name"), citizen.name)]
    if staff:
        number = citizen.personnummer
        facts.append((_("Personal identity number"), f"{number[:8]}-{number[8:]}"))
    if view.visit_date is not None:
        facts.append((_("Visit date"), str(format_date(view.visit_date, format="long"))))
    if view.subject.get("age") is not None:
        facts.append((_("Age at the visit"), _("%(age)s years", age=view.subject["age"])))
    facts.append((_("Sex"), hv.sex_text(view.subject.get("sex"))))
    return facts


def _profile_page(visit: Visit, *, staff: bool) -> str:
    submission, record = _sources(visit)
    view = hv.profile_view(visit.profile, _locale(), citizen=visit.citizen,
                           submission=submission, record=record,
                           survey_version=visit.survey_version)
    session = db.session()
    if staff and view.ready:
        log_access(session, current_actor(), unit_id=visit.unit_id,
                   citizen_ids=[visit.assignment.citizen_id], action="profile:read",
                   object_type="assignment", object_id=visit.assignment.id,
                   reason=_reason(visit))
    session.commit()
    actor = current_actor()
    token = visit.assignment.token
    extra = _profile_arg(visit)
    return render_template(
        "health/profile.html", visit=visit, view=view, staff=staff, labelled=hv.labelled,
        facts=_facts(view, visit.citizen, staff=staff),
        pdf_url=url_for("health.staff_profile_pdf" if staff else "health.citizen_profile_pdf",
                        token=token, **extra),
        measurement_url=url_for("health.measurements", token=token, **extra)
        if staff and actor.can(Permission.MEASUREMENT_WRITE, visit.unit_id)
        and visit.assignment.state not in CLOSED else None,
        other_profiles=[p for p in hv.profiles_for_survey(
            visit.survey_version.definition_id) if p.id != visit.profile.id])


@bp.get("/staff/assignments/<token>/profile")
@require(Permission.PROFILE_READ)
def staff_profile(token: str) -> str:
    return _profile_page(staff_visit(token, Permission.PROFILE_READ), staff=True)


@bp.get("/forms/<token>/profile")
@require(Permission.OWN_PROFILE_READ)
def citizen_profile(token: str) -> str:
    return _profile_page(citizen_visit(token), staff=False)


def _pdf(visit: Visit, *, staff: bool) -> Response:
    from formular.interop.profile_pdf import ProfileRow, ProfileSheet, profile_pdf

    submission, record = _sources(visit)
    locale = _locale()
    view = hv.profile_view(visit.profile, locale, citizen=visit.citizen,
                           submission=submission, record=record,
                           survey_version=visit.survey_version)
    if view.result is None:
        abort(404)  # nothing to print until both the answers and the measurements exist
    session = db.session()
    if staff:
        log_access(session, current_actor(), unit_id=visit.unit_id,
                   citizen_ids=[visit.assignment.citizen_id], action="profile:pdf",
                   object_type="assignment", object_id=visit.assignment.id,
                   reason=_reason(visit))
    session.commit()
    profile = view.profile
    notice = None
    if profile.example:
        notice = _("Example: %(notice)s", notice=profile.notice) if profile.notice else _(
            "Example: these criteria are an example, not a region's own.")
    sheet = ProfileSheet(
        title=profile.title, language=locale,
        facts=_facts(view, visit.citizen, staff=staff), notice=notice,
        headings=(_("Area"), _("Values"), _("Level"), _("Meaning")),
        rows=[ProfileRow(row.area, row.values_text or "–", row.level or "–",
                         row.level_label or row.reason or _("Not assessed"))
              for row in view.rows],
        page_text=_("Page %(page)s of %(pages)s", page="{page}", pages="{pages}"),
        chart_words=hv.chart_words(profile.title), intro=profile.description)
    data = profile_pdf(sheet, view.result, profile.levels)
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{visit.profile.id}-'
                               f'{view.visit_date.isoformat() if view.visit_date else "profile"}'
                               '.pdf"'})


@bp.get("/staff/assignments/<token>/profile.pdf")
@require(Permission.PROFILE_READ)
def staff_profile_pdf(token: str) -> Response:
    return _pdf(staff_visit(token, Permission.PROFILE_READ), staff=True)


@bp.get("/forms/<token>/profile.pdf")
@require(Permission.OWN_PROFILE_READ)
def citizen_profile_pdf(token: str) -> Response:
    return _pdf(citizen_visit(token), staff=False)


# -- the overview and the register export ---------------------------------------------------


@bp.get("/staff/health/")
@require(Permission.PROFILE_READ)
def index() -> str:
    """The unit's health-check send-outs with how far each has come (counts only: no
    citizen is shown, so nothing is access-logged)."""
    actor = current_actor()
    unit_ids = actor.units_with(Permission.PROFILE_READ)
    surveys = hv.survey_ids()
    session = db.session()
    send_outs = session.scalars(
        select(SendOut).join(DefinitionVersion, DefinitionVersion.id ==
                             SendOut.definition_version_id)
        .where(SendOut.unit_id.in_(unit_ids), DefinitionVersion.definition_id.in_(surveys))
        .order_by(SendOut.created_at.desc()).limit(200)).all()
    counts: dict[int, dict[str, int]] = {row.id: {"total": 0, "answered": 0, "measured": 0,
                                                  "both": 0} for row in send_outs}
    if send_outs:
        measured = (select(HealthMeasurement.assignment_id)
                    .where(HealthMeasurement.assignment_id == Assignment.id).exists())
        rows = session.execute(
            select(Assignment.send_out_id, Assignment.submission_id.is_not(None), measured,
                   func.count())
            .where(Assignment.send_out_id.in_(list(counts)))
            .group_by(Assignment.send_out_id, Assignment.submission_id.is_not(None),
                      measured)).all()
        for send_out_id, answered, has_measurements, number in rows:
            entry = counts[send_out_id]
            entry["total"] += number
            entry["answered"] += number if answered else 0
            entry["measured"] += number if has_measurements else 0
            entry["both"] += number if answered and has_measurements else 0
    units = session.scalars(select(Unit).where(Unit.id.in_(unit_ids)).order_by(Unit.name)).all()
    return render_template(
        "health/index.html", send_outs=send_outs, counts=counts,
        export_units=[u for u in units if actor.can(Permission.PROFILE_EXPORT, u.id)],
        can_export={unit: actor.can(Permission.PROFILE_EXPORT, unit) for unit in unit_ids},
        can_follow={unit: actor.can(Permission.SENDOUT_READ, unit) for unit in unit_ids},
        profiles=sorted(hv.profiles().values(), key=lambda p: p.id))


def _export_query(profile: ProfileDefinition, send_out_id: int | None,
                  unit_id: int) -> Any:
    query = (select(Submission, HealthMeasurement, Citizen)
             .join(Assignment, Assignment.submission_id == Submission.id)
             .join(HealthMeasurement, HealthMeasurement.assignment_id == Assignment.id)
             .join(Citizen, Citizen.id == Assignment.citizen_id)
             .join(SendOut, SendOut.id == Assignment.send_out_id)
             .join(DefinitionVersion, DefinitionVersion.id == SendOut.definition_version_id)
             .where(SendOut.unit_id == unit_id,
                    DefinitionVersion.definition_id == profile.survey))
    if send_out_id is not None:
        query = query.where(Assignment.send_out_id == send_out_id)
    return query.order_by(Citizen.personnummer, Assignment.id)


def _complete(profile: ProfileDefinition, query: Any
              ) -> Iterator[tuple[Citizen, HealthMeasurement, Any, dt.date, dict[str, Any]]]:
    for submission, record, citizen in db.session.execute(
            query.execution_options(yield_per=FETCH)):
        result, day, subject = hv.compute(profile, submission, record, citizen)
        if result.complete:
            yield citizen, record, result, day, subject


def _export(profile: ProfileDefinition, unit_id: int, send_out_id: int | None,
            reason: str, object_type: str, object_id: int, filename: str) -> Response:
    """One row per visit with a complete profile. The citizens are found and access-logged
    first (one row each, committed before the first byte is sent); then the rows stream."""
    query = _export_query(profile, send_out_id, unit_id)
    session = db.session()
    citizen_ids = [citizen.id for citizen, *_rest in _complete(profile, query)]
    log_access(session, current_actor(), unit_id=unit_id, citizen_ids=citizen_ids,
               action="profile:export", object_type=object_type, object_id=object_id,
               reason=reason)
    session.commit()
    version = drafts.latest_version(session, profile.measurements)
    fields = hv.measurement_fields(version.document) if version is not None else []
    header = hv.export_columns(profile, fields)

    def rows() -> Iterator[list[Any]]:
        for citizen, record, result, day, subject in _complete(profile, query):
            yield hv.export_row(profile, result, citizen.personnummer, subject, day,
                                record.answers, fields)

    body = stream_with_context(line.encode("utf-8") for line in hv.csv_lines(header, rows()))
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/staff/health/sendouts/<int:send_out_id>/profiles.csv")
@require(Permission.PROFILE_EXPORT)
def send_out_csv(send_out_id: int) -> Response:
    send_out = db.session.get(SendOut, send_out_id)
    if send_out is None:
        abort(404)
    authorize_or_404(Permission.PROFILE_EXPORT, send_out.unit_id)
    profile = hv.chosen_profile(send_out.definition_version.definition_id,
                                request.args.get("profile"))
    if profile is None:
        abort(404)
    return _export(profile, send_out.unit_id, send_out.id, f"export:{send_out.id}",
                   "send_out", send_out.id, f"{profile.id}-{send_out.id}.csv")


@bp.get("/staff/health/units/<int:unit_id>/profiles.csv")
@require(Permission.PROFILE_EXPORT)
def unit_csv(unit_id: int) -> Response:
    authorize_or_404(Permission.PROFILE_EXPORT, unit_id)
    if db.session.get(Unit, unit_id) is None:
        abort(404)
    wanted = request.args.get("profile")
    shipped = hv.profiles()
    profile = shipped.get(wanted) if wanted else (
        shipped[min(shipped)] if shipped else None)
    if profile is None:
        abort(404)
    return _export(profile, unit_id, None, f"profile-export:{unit_id}", "unit", unit_id,
                   f"{profile.id}-unit-{unit_id}.csv")

