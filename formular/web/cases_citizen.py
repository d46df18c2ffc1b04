"""The citizen's errands (ärenden): choose a clinic and a case type, accept its terms, fill in
its form with the same filler as every other form, attach files, and follow the case.

A citizen reaches only their own cases — or, acting as a guardian, those of their child under
13 (the same rule as for forms, applied when the page is opened). Forged tokens, other people's
cases and case types a clinic does not offer (or has not handed out to this citizen) are 404.
State changes go through :mod:`formular.cases.service` (the case workflow); views never set a
state themselves.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.wrappers import Response

from formular.auth.clock import swedish_today
from formular.auth.permissions import Actor, Permission
from formular.cases import service
from formular.cases.retention import DEFAULT_RETENTION_DAYS
from formular.casetypes import service as casetypes
from formular.definitions.service import Subject
from formular.storage.base import utcnow
from formular.storage.cases import Case, CaseDraft
from formular.storage.db import db
from formular.storage.drafts import StoredSubmission
from formular.storage.identity import Citizen, Unit
from formular.storage.models import Draft, Submission

from . import uploads
from .access import current_actor, require
from .citizen import may_answer
from .filling import Filler, FillHooks
from .i18n import offer_form_languages

bp = Blueprint("cases_citizen", __name__)

ENDPOINTS = {"page": "cases_citizen.page", "review": "cases_citizen.review",
             "submit": "cases_citizen.submit", "receipt": "cases_citizen.receipt"}
#: Longest text of a citizen's reply (a message, not a letter).
MAX_REPLY = 5000
#: Longest clinic search text.
MAX_QUERY = 100


def _today() -> dt.date:
    return swedish_today(utcnow())


def _locale() -> str:
    return str(get_locale() or "sv")


def _subject(actor: Actor) -> Citizen:
    """The citizen whose errands these are (the child, when a guardian acts for one)."""
    citizen = db.session.get(Citizen, actor.subject_citizen_id)
    if citizen is None or not may_answer(actor, citizen, _today()):
        abort(404)
    return citizen


def _offered(unit_id: int, definition_id: str, citizen: Citizen
             ) -> casetypes.OfferedCaseType:
    if len(definition_id) > 64:
        abort(404)
    offered = casetypes.case_type_for(db.session(), unit_id, definition_id, citizen.id,
                                      _today(), locale=_locale())
    if offered is None:
        abort(404)
    return offered


def _clinic(unit_id: int) -> Unit:
    unit = db.session.get(Unit, unit_id)
    if unit is None or unit.kind != "clinic":
        abort(404)
    return unit


def _files(name: str) -> list[tuple[str, bytes]]:
    """The files of an upload field, each read up to one byte past the size limit (so an
    oversize file is recognised without keeping it whole in memory)."""
    return [(storage.filename or "", storage.read(service.MAX_FILE_SIZE + 1))
            for storage in request.files.getlist(name) if storage and storage.filename]


# -- choosing a clinic and a case type -------------------------------------------------------


@bp.get("/errands")
@require(Permission.INBOX_READ)
def my_cases() -> str:
    actor = current_actor()
    citizen = _subject(actor)
    session = db.session()
    cases = service.cases_of_citizen(session, citizen.id)
    unread = _unread_by_case(session, [c.id for c in cases])
    unsent = session.execute(
        select(CaseDraft, Draft.page).join(Draft, Draft.id == CaseDraft.draft_id)
        .where(CaseDraft.citizen_id == citizen.id, Draft.submitted_at.is_(None))
        .order_by(CaseDraft.created_at.desc()).limit(20)).all()
    return render_template("cases/citizen_list.html", cases=cases, unread=unread,
                           unsent=unsent, subject=citizen,
                           acting_for=actor.acting_for_id is not None,
                           retention_days=int(current_app.config.get(
                               "CASE_DRAFT_RETENTION_DAYS", DEFAULT_RETENTION_DAYS)))


def _unread_by_case(session: Any, case_ids: list[int]) -> dict[int, int]:
    from sqlalchemy import func

    from formular.storage.cases import CaseMessage

    if not case_ids:
        return {}
    rows = session.execute(
        select(CaseMessage.case_id, func.count()).where(
            CaseMessage.case_id.in_(case_ids), CaseMessage.author_staff_id.is_not(None),
            CaseMessage.read_by_citizen_at.is_(None)).group_by(CaseMessage.case_id)).all()
    return {int(case_id): int(count) for case_id, count in rows}


@bp.get("/errands/new")
@require(Permission.CASE_CREATE)
def choose_clinic() -> str:
    _subject(current_actor())
    query = " ".join(request.args.get("q", "").split())[:MAX_QUERY]
    searched = "q" in request.args
    found = casetypes.clinics(db.session(), query) if searched else []
    return render_template("cases/citizen_clinics.html", query=query, searched=searched,
                           clinics=found)


@bp.get("/errands/new/<int:unit_id>")
@require(Permission.CASE_CREATE)
def choose_case_type(unit_id: int) -> str:
    citizen = _subject(current_actor())
    unit = _clinic(unit_id)
    offered = casetypes.offered_case_types(db.session(), unit.id, citizen.id, _today(),
                                           locale=_locale())
    return render_template("cases/citizen_case_types.html", unit=unit, case_types=offered)


@bp.route("/errands/new/<int:unit_id>/<definition_id>", methods=["GET", "POST"])
@require(Permission.CASE_CREATE)
def terms(unit_id: int, definition_id: str) -> str | Response | tuple[str, int]:
    """The case type's description and terms; accepting them starts the errand."""
    actor = current_actor()
    citizen = _subject(actor)
    unit = _clinic(unit_id)
    offered = _offered(unit.id, definition_id, citizen)
    error = None
    if request.method == "POST":
        if request.form.get("accept") != "yes":
            error = _("You must accept the terms to continue.")
        else:
            session = db.session()
            now = utcnow()
            # Accepting again continues the errand already begun (one draft, not one per
            # click), with the acceptance of now.
            case_draft = service.unsent_draft(session, unit_id=unit.id,
                                              version_id=offered.version.id,
                                              citizen_id=citizen.id)
            if case_draft is not None:
                case_draft.terms_accepted_at = now
            else:
                case_draft = service.start_draft(
                    session, unit_id=unit.id, version=offered.version, citizen_id=citizen.id,
                    created_by_citizen_id=actor.citizen_id or citizen.id, now=now)
            session.commit()
            return redirect(url_for("cases_citizen.page", token=case_draft.token, page=0))
    html = render_template("cases/citizen_terms.html", unit=unit, offer=offered,
                           error=error)
    return (html, 400) if error else html


# -- filling in the form -------------------------------------------------------------------


class CaseHooks(FillHooks):
    """Creates the case when the form is sent, with the files checked before."""

    def __init__(self, case_draft: CaseDraft, actor: Actor,
                 attachments_url: str | None = None) -> None:
        self.case_draft = case_draft
        self.actor = actor
        self.files: list[uploads.CheckedFile] = []
        #: The attachments step, when the clinic takes files with this case type.
        self.attachments_url = attachments_url

    def step_before_sending(self) -> str | None:
        return self.attachments_url

    def submission_fields(self) -> dict[str, Any]:
        return {"citizen_id": self.case_draft.citizen_id,
                "answered_by_id": self.actor.citizen_id,
                "answered_by_kind": "guardian" if self.actor.acting_for_id else "citizen"}

    def submitted(self, submission: StoredSubmission) -> None:
        service.create_case(db.session(), self.case_draft, submission, self.actor, utcnow(),
                            self.files)


def _filler(token: str) -> Filler:
    actor = current_actor()
    session = db.session()
    case_draft = service.case_draft_by_token(session, token) if len(token) <= 64 else None
    if case_draft is None:
        abort(404)
    citizen = session.get(Citizen, case_draft.citizen_id)
    if citizen is None or not may_answer(actor, citizen, _today()):
        abort(404)
    draft = session.get(Draft, case_draft.draft_id)
    if draft is None:
        abort(404)
    g.case_draft = case_draft
    attachments_url = None
    if draft.submitted_at is None:
        # Still offered? A clinic may have switched the case type off (or the grant ended)
        # while the citizen was writing.
        g.offered = _offered(case_draft.unit_id, case_draft.definition_version.definition_id,
                             citizen)
        if g.offered.attachments_enabled:
            attachments_url = url_for("cases_citizen.attachments", token=token)
    offer_form_languages(case_draft.definition_version)
    return Filler(draft, "citizen", Subject(sex=citizen.sex, age=citizen.age_on(_today())),
                  ENDPOINTS, CaseHooks(case_draft, actor, attachments_url), {"token": token})


def _sent(filler: Filler) -> Response | None:
    """A draft already sent shows its receipt, not the form."""
    if filler.draft.submitted_at is not None:
        return redirect(filler.url("receipt"))
    return None


@bp.get("/errands/draft/<token>/<int:page>")
@require(Permission.CASE_CREATE)
def page(token: str, page: int) -> Any:
    filler = _filler(token)
    return _sent(filler) or filler.show_page(page, check=request.args.get("check") == "1")


@bp.post("/errands/draft/<token>/<int:page>")
@require(Permission.CASE_CREATE)
def post_page(token: str, page: int) -> Any:
    filler = _filler(token)
    return _sent(filler) or filler.post_page(page)


@bp.get("/errands/draft/<token>/review")
@require(Permission.CASE_CREATE)
def review(token: str) -> Any:
    filler = _filler(token)
    return _sent(filler) or filler.show_review()


@bp.post("/errands/draft/<token>/submit")
@require(Permission.CASE_CREATE)
def submit(token: str) -> Any:
    """Send the errand; when the case type takes attachments, the files are chosen first."""
    filler = _filler(token)
    step = filler.hooks.step_before_sending()
    if filler.draft.submitted_at is not None or step is None:
        return filler.submit()  # (a repeated send: the receipt of the first)
    if not _complete(filler):
        return redirect(filler.url("review"))
    return redirect(step)


def _complete(filler: Filler) -> bool:
    """Whether the answers would be accepted on sending (so nobody picks files for a form
    that then goes back to the review)."""
    return not filler.source_compiled.validate(filler.draft.answers, audience=filler.audience,
                                               subject=filler.subject).errors


@bp.route("/errands/draft/<token>/attachments", methods=["GET", "POST"])
@require(Permission.CASE_CREATE)
def attachments(token: str) -> Any:
    filler = _filler(token)
    sent = _sent(filler)
    if sent is not None:
        return sent
    if not g.offered.attachments_enabled:
        abort(404)
    if not _complete(filler):
        return redirect(filler.url("review"))
    problems: list[str] = []
    if request.method == "POST":
        checked, refused = service.check_attachments(_files("files"),
                                                     service.CITIZEN_MAX_FILES)
        if not refused:
            hooks = filler.hooks
            assert isinstance(hooks, CaseHooks)
            hooks.files = checked
            return filler.submit()
        problems = [p.text() for p in refused]
    html = render_template("cases/citizen_attachments.html", filler=filler,
                           offer=g.offered, problems=problems,
                           max_files=service.CITIZEN_MAX_FILES)
    return (html, 400) if problems else html


@bp.get("/errands/draft/<token>/receipt")
@require(Permission.CASE_CREATE)
def receipt(token: str) -> Any:
    filler = _filler(token)
    session = db.session()
    case = session.scalars(select(Case).where(Case.draft_id == filler.draft.id)).first()
    if case is None:
        return redirect(filler.url("page", page=0))
    submission = session.get(Submission, case.submission_id) if case.submission_id else None
    return render_template("cases/citizen_receipt.html", case=case, submission=submission,
                           compiled=filler.compiled,
                           files=service.attachments_of(session, case))


# -- following a case ----------------------------------------------------------------------


def _case(token: str) -> Case:
    actor = current_actor()
    session = db.session()
    case = service.case_by_token(session, token)
    if case is None:
        abort(404)
    citizen = session.get(Citizen, case.citizen_id)
    if citizen is None or not may_answer(actor, citizen, _today()):
        abort(404)
    return case


def _show(case: Case, *, reply_error: str | None = None, reply_text: str = "",
          status: int = 200) -> tuple[str, int] | str:
    from formular.i18n.service import compile_for
    from formular.rendering.page import build_review

    session = db.session()
    actor = current_actor()
    version = case.definition_version
    offer_form_languages(version)
    compiled = compile_for(version, _content_locale(version))
    submission = session.get(Submission, case.submission_id) if case.submission_id else None
    pages = []
    if submission is not None:
        pages = build_review(compiled, "citizen",
                             compiled.evaluate(submission.answers, "citizen"))
    files = service.attachments_of(session, case)
    events = service.available_events(case, actor, utcnow())
    with_files = _attachments_enabled(case)
    messages = service.messages_of(session, case)
    html = render_template(
        "cases/citizen_case.html", case=case, compiled=compiled, pages=pages,
        submission=submission, messages=messages, reply_views=_reply_views(session, messages),
        first_files=[f for f in files if f.message_id is None],
        files_by_message=_group(files), can_reply="citizen_reply" in events,
        can_withdraw="withdraw" in events, reply_error=reply_error, reply_text=reply_text,
        with_files=with_files, max_files=service.CITIZEN_MAX_FILES, max_reply=MAX_REPLY)
    service.mark_read_by_citizen(session, case, utcnow())
    session.commit()
    return (html, status) if status != 200 else html


def _reply_views(session: Any, messages: list[Any]) -> dict[int, Any]:
    """The staff reply form's answers of each message, laid out like the form (the inbox's
    ``formular.cases.replies``), so the citizen reads e.g. the decision per medicine."""
    from formular.cases.replies import reply_review

    views = {}
    for message in messages:
        if message.reply_answers:
            view = reply_review(session, message, _locale())
            if view:
                views[message.id] = view
    return views


def _content_locale(version: Any) -> str:
    from .i18n import content_locale

    return content_locale(version)


def _group(files: list[Any]) -> dict[int, list[Any]]:
    grouped: dict[int, list[Any]] = {}
    for row in files:
        if row.message_id is not None:
            grouped.setdefault(row.message_id, []).append(row)
    return grouped


def _attachments_enabled(case: Case) -> bool:
    """Whether the clinic takes files for this case type now (the setting may change)."""
    setting = casetypes.setting_of(db.session(), case.unit_id,
                                   case.definition_version.definition_id)
    return setting is not None and setting.attachments_enabled


@bp.get("/errands/<token>")
@require(Permission.INBOX_READ)
def show(token: str) -> Any:
    return _show(_case(token))


@bp.post("/errands/<token>/reply")
@require(Permission.CASE_CITIZEN_REPLY)
def reply(token: str) -> Any:
    """Answer the clinic's question (only while the case waits for the citizen)."""
    case = _case(token)
    actor = current_actor()
    text = request.form.get("message", "")
    if len(text) > MAX_REPLY:
        return _show(case, reply_error=_("Your reply is too long (at most %(count)d "
                                         "characters).", count=MAX_REPLY),
                     reply_text=text[:MAX_REPLY], status=400)
    given = _files("files")
    if given and not _attachments_enabled(case):
        return _show(case, reply_error=str(service.CASE_REASONS["attachments-disabled"]),
                     reply_text=text, status=400)
    checked, problems = service.check_attachments(given, service.CITIZEN_MAX_FILES)
    if problems:
        return _show(case, reply_error=" ".join(p.text() for p in problems),
                     reply_text=text, status=400)
    session = db.session()
    now = utcnow()
    result = service.fire(session, case, "citizen_reply", actor, now, {"message": text})
    if not result.ok:
        session.rollback()
        case = _case(token)
        return _show(case, reply_error=_refusal(case, result.reason), reply_text=text,
                     status=400 if result.reason == "message-empty" else 409)
    if checked and result.message is not None:
        service.add_attachments(session, case, result.message, checked, "citizen", now)
    session.commit()
    flash(_("Your reply has been sent."))
    return redirect(url_for("cases_citizen.show", token=token))


def _refusal(case: Case, reason: str | None) -> str:
    """Why a reply was refused, said the way a citizen understands it."""
    if reason == "no-transition":
        if case.state == "closed":
            return str(service.CASE_REASONS["closed"])
        return str(_("The clinic has not asked you anything to answer right now."))
    return service.refusal_text(reason)


@bp.post("/errands/<token>/withdraw")
@require(Permission.CASE_WITHDRAW)
def withdraw(token: str) -> Any:
    case = _case(token)
    session = db.session()
    result = service.fire(session, case, "withdraw", current_actor(), utcnow())
    if not result.ok:
        session.rollback()
        flash(service.refusal_text(result.reason), "error")
    else:
        session.commit()
        flash(_("Your errand has been withdrawn."))
    return redirect(url_for("cases_citizen.show", token=token))


@bp.get("/errands/<token>/files/<file_token>")
@require(Permission.INBOX_READ)
def download(token: str, file_token: str) -> Response:
    """A file of the citizen's own case (theirs or the clinic's), always as a download."""
    case = _case(token)
    row = service.attachment_by_token(db.session(), case, file_token) \
        if len(file_token) <= 64 else None
    if row is None:
        abort(404)
    response = Response(row.data, mimetype=row.content_type)
    response.headers["Content-Disposition"] = _disposition(row.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response


def _disposition(filename: str) -> str:
    from urllib.parse import quote

    ascii_name = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\' else "_"
                         for ch in filename) or "file"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


# -- labels --------------------------------------------------------------------------------

#: How a citizen sees the case states (the workflow's ``citizen_label``s).
CITIZEN_STATE_LABELS = {
    "new": _l("Sent"),
    "assigned": _l("Being handled"),
    "waiting-for-citizen": _l("Question for you"),
    "answered": _l("Answered"),
    "closed": _l("Closed"),
}
#: The national message types as a citizen reads them.
MESSAGE_KIND_LABELS = {
    "partial_reply": _l("Message from the clinic"),
    "question": _l("Question from the clinic"),
    "citizen_reply": _l("Your answer"),
    "answer": _l("Answer from the clinic"),
    "closing": _l("The errand is closed"),
}


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    def case_citizen_state(state: str) -> str:
        return str(CITIZEN_STATE_LABELS.get(state, state))

    def case_message_kind(kind: str) -> str:
        return str(MESSAGE_KIND_LABELS.get(kind, kind))

    return {"case_citizen_state": case_citizen_state, "case_message_kind": case_message_kind}
