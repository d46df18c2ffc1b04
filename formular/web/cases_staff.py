"""The staff case inbox (``/staff/cases``): a unit's errands by state, assigning them, reading
them and answering them.

Every view names its permission and loads a case only by its opaque token, then checks that the
actor holds the permission in the case's unit (another unit's case answers 404). Every page
that shows a citizen's case writes the access log first, in the same transaction: the list
(one row per citizen shown), the case (its answers, and one row per message shown) and each
attachment download. State changes go through the case workflow
(:func:`formular.cases.service.fire`); which replies are offered is asked of the workflow too,
so no view decides what a state allows.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any, Final

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import Form

from formular.audit.service import log_access
from formular.auth.clock import swedish_today
from formular.auth.permissions import Actor, Permission
from formular.cases import inbox, replies
from formular.cases import service as cases
from formular.casetypes.service import standard_replies
from formular.definitions.service import CompiledDefinition, Evaluation, FieldError, Subject
from formular.i18n.service import compile_for
from formular.rendering.page import build_page, client_plan_json
from formular.sendouts.transitions import review_of
from formular.storage.base import utcnow
from formular.storage.cases import Case
from formular.storage.db import db
from formular.storage.identity import StaffUser, Unit
from formular.storage.models import DefinitionVersion, Submission

from .access import authorize_or_404, current_actor, require
from .i18n import content_locale
from .messages import describe

bp = Blueprint("cases_staff", __name__, url_prefix="/staff/cases")

#: The events a staff message can be, in the order the reply form offers them.
MESSAGE_EVENTS: Final = ("partial_reply", "ask_citizen", "answer", "close")
#: Longest message text accepted (characters).
MAX_MESSAGE: Final = 10_000

CASE_STATE_LABELS = {
    "new": lazy_pgettext("case state", "New"),
    "assigned": lazy_pgettext("case state", "Assigned"),
    "waiting-for-citizen": lazy_pgettext("case state", "Waiting for the citizen"),
    "answered": lazy_pgettext("case state", "Answered"),
    "closed": lazy_pgettext("case state", "Closed"),
}
MESSAGE_KIND_LABELS = {
    "partial_reply": _l("Partial reply"),
    "question": _l("Question to the citizen"),
    "citizen_reply": _l("The citizen's reply"),
    "answer": _l("Answer"),
    "closing": _l("Closing notice"),
}
#: What each message event is, as the reply form offers it.
REPLY_CHOICES = {
    "partial_reply": (_l("Partial reply"),
                      _l("A message the citizen cannot answer; the errand stays open.")),
    "ask_citizen": (_l("Question"),
                    _l("The citizen must answer it; the errand waits for the reply.")),
    "answer": (_l("Answer"), _l("The clinic's answer to the errand.")),
    "close": (_l("Closing notice"),
              _l("Closes the errand; the text is optional.")),
}
EVENT_LABELS = {
    "submit": _l("sent by the citizen"), "assign": _l("assigned"),
    "partial_reply": _l("partial reply sent"), "ask_citizen": _l("question sent"),
    "citizen_reply": _l("the citizen replied"), "remind": _l("reminder sent"),
    "answer": _l("answered"), "flag_unanswered": _l("flagged as not answered in time"),
    "close": _l("closed"), "withdraw": _l("withdrawn by the citizen"),
}
#: The reply form's own fields, as the error summary names them.
PROBLEM_LABELS = {
    "reply-kind": _l("Kind of message"), "reply-message": _l("Message"),
    "reply-files": _l("Files"), "reply-standard": _l("Standard reply"),
    "reply-close": _l("Close the errand"),
}
DONE_TEXTS = {
    "partial_reply": _l("The partial reply was sent."),
    "ask_citizen": _l("The question was sent. The errand waits for the citizen's reply."),
    "answer": _l("The answer was sent."),
    "close": _l("The errand was closed."),
}


def state_label(state: str) -> str:
    return str(CASE_STATE_LABELS.get(state, state))


@bp.app_context_processor
def _globals() -> dict[str, Any]:
    return {"case_state_label": state_label,
            "case_message_label": lambda kind: str(MESSAGE_KIND_LABELS.get(kind, kind)),
            "case_event_label": lambda event: str(EVENT_LABELS.get(event, event))}


# -- loading -------------------------------------------------------------------------------


def _case(token: str, permission: Permission) -> Case:
    case = cases.case_by_token(db.session(), token)
    if case is None:
        abort(404)
    authorize_or_404(permission, case.unit_id)
    return case


class _Titles:
    """Case type titles in the page's language, worked out once per version and request."""

    def __init__(self) -> None:
        self._found: dict[int, str] = {}

    def __call__(self, version: DefinitionVersion) -> str:
        if version.id not in self._found:
            self._found[version.id] = compile_for(version, content_locale(version)).title
        return self._found[version.id]


# -- the inbox -----------------------------------------------------------------------------


@bp.get("/")
@require(Permission.CASE_READ)
def index() -> str:
    actor = current_actor()
    session = db.session()
    unit_ids = actor.units_with(Permission.CASE_READ)
    units = session.scalars(select(Unit).where(Unit.id.in_(unit_ids))
                            .order_by(Unit.name, Unit.id)).all()
    wanted = request.args.get("unit", "")
    if wanted:
        unit = next((u for u in units if str(u.id) == wanted), None)
        if unit is None:
            abort(404)
    else:
        unit = units[0]
    chosen = inbox.InboxFilter.parse(request.args)
    found = inbox.list_cases(session, unit.id, chosen, actor.staff_user_id)
    log_access(session, actor, unit_id=unit.id,
               citizen_ids=[case.citizen_id for case in found.cases], action="case:list",
               object_type="unit", object_id=unit.id, reason=f"case-inbox:{unit.id}")
    counts = inbox.counts_by_state(session, unit.id)
    overdue = inbox.overdue_count(session, unit.id)
    types = inbox.case_types_in(session, unit.id)
    staff = inbox.assignable_staff(session, unit.id)
    session.commit()
    titles = _Titles()
    return render_template(
        "cases/staff_inbox.html", unit=unit, units=units, chosen=chosen, found=found,
        counts=counts, overdue=overdue, open_count=sum(
            n for state, n in counts.items() if state not in inbox.final_states()),
        states=inbox.states(), types=[(key, titles(v)) for key, v in types], staff=staff,
        title_of=titles, OPEN=inbox.OPEN)


# -- one case ------------------------------------------------------------------------------


@dataclass
class ReplyDraft:
    """What the reply form shows: a fresh form, or what was posted (with its problems)."""

    kind: str = ""
    message: str = ""
    standard_id: str = ""
    close_after: bool = False
    #: The reply form's answers (typed), shown in its fields.
    answers: dict[str, Any] = field(default_factory=dict)
    #: Problems with the message fields, by field id (``reply-kind``, ``reply-message``…).
    problems: dict[str, list[str]] = field(default_factory=dict)
    #: Problems with the reply form's answers.
    form_errors: list[FieldError] = field(default_factory=list)
    #: The posted reply form (keeps unreadable input visible); None: built from ``answers``.
    form: Form | None = None
    #: Shown above the reply form (files must be chosen again, a standard reply was added…).
    notice: str | None = None


@dataclass
class ReplyFormView:
    version: DefinitionVersion
    compiled: CompiledDefinition
    form: Form
    views: list[Any]
    evaluation: Evaluation


def _reply_compiled(version: DefinitionVersion | None) -> CompiledDefinition | None:
    return compile_for(version, content_locale(version)) if version is not None else None


def _reply_form_view(version: DefinitionVersion | None, draft: ReplyDraft
                     ) -> tuple[ReplyFormView | None, Form]:
    compiled = _reply_compiled(version)
    cls = replies.form_class(compiled)
    if compiled is None or version is None:
        return None, draft.form or cls(formdata=None)
    if draft.form is None and not draft.answers:
        draft.answers = replies.initial_answers(compiled)
    form = draft.form or cls(formdata=None, data=replies.form_data(compiled, draft.answers))
    evaluation = compiled.evaluate(draft.answers, replies.AUDIENCE)
    shown = [p.index for p in compiled.pages if p.index not in evaluation.hidden_pages
             and any(not evaluation.is_hidden(item.name) for item in p.items())]
    views = [build_page(compiled, index, replies.AUDIENCE, form, evaluation, draft.form_errors,
                        describe, shown) for index in shown]
    return ReplyFormView(version, compiled, form, views, evaluation), form


def _offered_events(case: Case, actor: Actor) -> list[str]:
    available = set(cases.available_events(case, actor, utcnow()))
    return [event for event in MESSAGE_EVENTS if event in available]


def _render_case(case: Case, draft: ReplyDraft | None = None, status: int = 200
                 ) -> tuple[str, int]:
    """The case page; writes the access log (the answers and every message shown) first."""
    session = db.session()
    actor = current_actor()
    draft = draft or ReplyDraft()
    messages = cases.messages_of(session, case)
    reason = f"case:{case.id}"
    log_access(session, actor, unit_id=case.unit_id, citizen_ids=[case.citizen_id],
               action="case:read", object_type="case", object_id=case.id, reason=reason)
    for message in messages:
        log_access(session, actor, unit_id=case.unit_id, citizen_ids=[case.citizen_id],
                   action="case:message:read", object_type="case_message",
                   object_id=message.id, reason=reason)
    submission = session.get(Submission, case.submission_id) if case.submission_id else None
    review = review_of(submission) if submission is not None else None
    locale = content_locale(case.definition_version)
    decisions = {m.id: replies.reply_review(session, m, locale, replies.AUDIENCE)
                 for m in messages if m.reply_answers}
    attachments = cases.attachments_of(session, case)
    events = cases.events_of(session, case)
    staff_ids: set[int] = {e.actor_id for e in events
                           if e.actor_kind == "staff" and e.actor_id is not None}
    for e in events:
        assignee = e.data.get("assigned_to_id") if isinstance(e.data, dict) else None
        if isinstance(assignee, int):
            staff_ids.add(assignee)
    names = {u.id: u.display_name for u in session.scalars(
        select(StaffUser).where(StaffUser.id.in_(staff_ids)))} if staff_ids else {}
    offered = _offered_events(case, actor) if actor.can(Permission.CASE_REPLY, case.unit_id) \
        else []
    can_assign = "assign" in cases.available_events(case, actor, utcnow())
    assignable = inbox.assignable_staff(session, case.unit_id) if can_assign else []
    version = replies.reply_version(session, case) if offered else None
    reply_view, form = _reply_form_view(version, draft)
    standards = standard_replies(session, case.unit_id,
                                 case.definition_version.definition_id) if offered else []
    session.commit()
    html = render_template(
        "cases/staff_case.html", case=case, citizen=case.citizen,
        title=_Titles()(case.definition_version), submission=submission, review=review,
        messages=messages, decisions=decisions, attachments=attachments,
        files_of={m.id: [a for a in attachments if a.message_id == m.id] for m in messages},
        first_files=[a for a in attachments if a.message_id is None], events=events,
        staff_names=names, reply_events=offered, can_assign=can_assign, assignable=assignable,
        draft=draft, reply_view=reply_view, form=form, standards=standards,
        standards_json={str(r.id): r.body for r in standards},
        problems=[(key, str(PROBLEM_LABELS.get(key, "")), text)
                  for key, texts in draft.problems.items() for text in texts],
        reply_choices=REPLY_CHOICES, max_files=cases.STAFF_MAX_FILES,
        plan_json=(client_plan_json(reply_view.compiled, replies.AUDIENCE) if reply_view
                   else None),
        answers=reply_view.evaluation.answers if reply_view else None,
        summary=[entry for view in reply_view.views for entry in view.summary]
        if reply_view else [],
        by_guardian=case.created_by_citizen_id != case.citizen_id)
    return html, status


@bp.get("/<token>")
@require(Permission.CASE_READ)
def case(token: str) -> tuple[str, int]:
    return _render_case(_case(token, Permission.CASE_READ))


@bp.get("/<token>/files/<file_token>")
@require(Permission.CASE_READ)
def attachment(token: str, file_token: str) -> Response:
    """A file of the case, as a download: the type the server found by content, never shown
    in the page (``attachment``, sandboxed, no sniffing)."""
    found = _case(token, Permission.CASE_READ)
    session = db.session()
    row = cases.attachment_by_token(session, found, file_token[:64])
    if row is None:
        abort(404)
    log_access(session, current_actor(), unit_id=found.unit_id, citizen_ids=[found.citizen_id],
               action="case:attachment:read", object_type="case_attachment",
               object_id=row.id, reason=f"case:{found.id}")
    data = bytes(row.data)
    content_type, filename = row.content_type, row.filename
    session.commit()
    response = send_file(io.BytesIO(data), mimetype=content_type, as_attachment=True,
                         download_name=filename, max_age=0)
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


# -- acting on a case ----------------------------------------------------------------------


def _lock(case: Case) -> None:
    """Re-read the case under a row lock (SELECT … FOR UPDATE on PostgreSQL; SQLite serialises
    writers), so two staff acting at once are decided one after the other on fresh state.
    Only the case row is locked (``OF``): its eagerly joined unit, citizen and definition are
    outer joins, which PostgreSQL cannot lock."""
    db.session.refresh(case, with_for_update={"of": Case})


def _csrf_checked(compiled: CompiledDefinition | None = None) -> Form:
    """The posted form (the reply form's fields when there is one); 400 without a valid CSRF
    token. WTForms' own checks of the reply form's fields are read later, as field errors."""
    form = replies.form_class(compiled)()
    if not form.validate_on_submit() and "csrf_token" in form.errors:
        abort(400)
    return form


@bp.post("/<token>/assign")
@require(Permission.CASE_REPLY)
def assign(token: str) -> Response:
    """Assign an errand, or pass it on. The workflow decides who may: the unit's receiver
    any open errand, a handler only the one they hold (case.json, event ``assign``)."""
    found = _case(token, Permission.CASE_REPLY)
    _csrf_checked()
    text = request.form.get("assignee", "")
    if not text.isdigit() or len(text) > 12:
        flash(_("Choose who is to handle the errand."), "error")
        return redirect(url_for(".case", token=token))
    session = db.session()
    _lock(found)
    outcome = cases.fire(session, found, "assign", current_actor(), utcnow(),
                         {"assigned_to_id": int(text)})
    if not outcome.ok:
        session.rollback()
        flash(cases.refusal_text(outcome.reason), "error")
        return redirect(url_for(".case", token=token))
    name = session.scalar(select(StaffUser.display_name).where(StaffUser.id == int(text)))
    session.commit()
    flash(_("The errand was assigned to %(name)s.", name=name or ""), "info")
    return redirect(url_for(".case", token=token))


def _subject(case: Case) -> Subject:
    citizen = case.citizen
    return Subject(sex=citizen.sex, age=citizen.age_on(swedish_today(utcnow())))


def _insert_standard_reply(case: Case, draft: ReplyDraft) -> None:
    """Put the chosen standard reply into the message (after what is written already)."""
    chosen = next((r for r in standard_replies(db.session(), case.unit_id,
                                               case.definition_version.definition_id)
                   if str(r.id) == draft.standard_id), None)
    if chosen is None:
        draft.problems["reply-standard"] = [_("Choose a standard reply to insert.")]
        return
    written = draft.message.rstrip()
    draft.message = f"{written}\n\n{chosen.body}" if written else chosen.body
    draft.notice = _("The standard reply was inserted. Change it as needed before sending.")


@bp.post("/<token>/reply")
@require(Permission.CASE_REPLY)
def reply(token: str) -> Any:
    found = _case(token, Permission.CASE_REPLY)
    session = db.session()
    actor = current_actor()
    version = replies.reply_version(session, found)
    compiled = _reply_compiled(version)
    form = _csrf_checked(compiled)
    action = request.form.get("_action", "send")
    draft = ReplyDraft(kind=request.form.get("_kind", ""),
                       message=request.form.get("_message", "").replace("\r\n", "\n"),
                       standard_id=request.form.get("_standard", ""),
                       close_after=request.form.get("_close_after") == "1",
                       answers=replies.posted_answers(compiled, form) if compiled else {},
                       form=form)
    files = [upload for upload in request.files.getlist("_files") if upload and upload.filename]
    if action != "send":
        if action == "insert":
            _insert_standard_reply(found, draft)
        elif compiled is not None and (changed := replies.row_action(
                compiled, action, draft.answers)) is not None:
            draft.answers, draft.form = changed, None
        else:
            abort(400)
        if files:
            draft.notice = " ".join(filter(None, [draft.notice, _(
                "Files are not kept until the message is sent: choose them again.")]))
        return _render_case(found, draft, 400 if draft.problems else 200)
    if found.state in inbox.final_states():
        flash(cases.refusal_text("closed"), "error")
        return redirect(url_for(".case", token=token))
    offered = _offered_events(found, actor)
    if draft.kind not in MESSAGE_EVENTS:
        draft.problems["reply-kind"] = [_("Choose what kind of message to send.")]
    elif draft.kind not in offered:
        draft.problems["reply-kind"] = [cases.refusal_text(
            "forbidden" if draft.kind == "close" and not actor.can(
                Permission.CASE_CLOSE, found.unit_id) else "no-transition")]
    text = draft.message.strip()
    if draft.kind != "close" and not text:
        draft.problems["reply-message"] = [_("Write a message before sending.")]
    elif len(draft.message) > MAX_MESSAGE:
        draft.problems["reply-message"] = [_("The message is too long (at most %(count)s "
                                             "characters).", count=MAX_MESSAGE)]
    if files and draft.kind == "close" and not text:
        draft.problems.setdefault("reply-message", []).append(
            _("Write a closing text to send files with it."))
    checked, problems = cases.check_attachments(
        ((upload.filename or "", upload.read(cases.MAX_FILE_SIZE + 1)) for upload in files),
        cases.STAFF_MAX_FILES)
    if problems:
        draft.problems["reply-files"] = [problem.text() for problem in problems]
    answers: dict[str, Any] | None = None
    if compiled is not None and version is not None and draft.kind == "answer":
        result = replies.check(compiled, form, _subject(found))
        draft.form_errors = result.errors
        answers = replies.stored(version, result.answers)
    if draft.close_after and draft.kind == "answer" and not actor.can(Permission.CASE_CLOSE,
                                                                      found.unit_id):
        draft.problems["reply-close"] = [cases.refusal_text("forbidden")]
    if draft.problems or draft.form_errors:
        if files:
            draft.notice = _("Nothing was sent. Files are not kept: choose them again.")
        return _render_case(found, draft, 400)
    _lock(found)  # a colleague's reply in the meantime is seen by the workflow below
    now = utcnow()
    data: dict[str, Any] = {"message": text}
    if answers is not None:
        data["reply_answers"] = answers
    outcome = cases.fire(session, found, draft.kind, actor, now, data)
    if outcome.ok and checked:
        cases.add_attachments(session, found, outcome.message, checked, "staff", now)
    if outcome.ok and draft.close_after and draft.kind == "answer":
        outcome = cases.fire(session, found, "close", actor, now, {})
    if not outcome.ok:
        session.rollback()
        flash(cases.refusal_text(outcome.reason), "error")
        return redirect(url_for(".case", token=token))
    session.commit()
    done = DONE_TEXTS[draft.kind]
    if draft.close_after and draft.kind == "answer":
        flash(_("The answer was sent and the errand was closed."), "info")
    else:
        flash(str(done), "info")
    return redirect(url_for(".case", token=token))

