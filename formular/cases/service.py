"""Cases: creating them from a submitted form, moving them through the case workflow, messages
and attachments.

The engine (``formular.workflow``) decides whether an event may be taken and what follows; this
module stores the new state and a :class:`CaseEvent`, and performs the actions (the message of
the event, inbox messages and content-free e-mails, the overdue flag) in the same transaction.
Views never change ``Case.state`` themselves.

Attachments are checked by content (``formular.web.uploads``) *before* anything is written:
callers run :func:`check_attachments` first and refuse the whole request when it reports a
problem, so a bad file never leaves half a message behind.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from formular.auth.permissions import CITIZEN_PERMISSIONS, ROLE_PERMISSIONS, Actor, Permission
from formular.storage import drafts
from formular.storage.cases import Case, CaseAttachment, CaseDraft, CaseEvent, CaseMessage
from formular.storage.drafts import StoredSubmission
from formular.storage.identity import Citizen, RoleAssignment, StaffUser, Unit
from formular.storage.models import DefinitionVersion, Draft
from formular.storage.sendouts import InboxMessage, Notification
from formular.web import uploads
from formular.workflow import service as workflow

WORKFLOW: Final = "case"
#: States in the order lists show them.
STATE_ORDER: Final = ("new", "assigned", "waiting-for-citizen", "answered", "closed")
#: States in which the case is still open (the citizen may withdraw in the first three).
OPEN_STATES: Final = ("new", "assigned", "waiting-for-citizen", "answered")

#: Attachment rules (R-35): formats by content, files per message, bytes per file.
ACCEPT: Final = uploads.DEFAULT_ACCEPT
MAX_FILE_SIZE: Final = 20 * 1024 * 1024
CITIZEN_MAX_FILES: Final = 5
STAFF_MAX_FILES: Final = 10

#: Length of the subject columns of inbox messages and e-mails (unit names may be long).
SUBJECT_MAX: Final = 200

#: The message kind an event's ``send_message`` action writes.
MESSAGE_KIND_OF_EVENT: Final = {
    "partial_reply": "partial_reply",
    "ask_citizen": "question",
    "citizen_reply": "citizen_reply",
    "answer": "answer",
    "close": "closing",
}

#: Refusals decided here, before the engine is asked (the engine's own are in its REASONS).
CASE_REASONS: Final = {
    "not-assignable": _l("That person cannot handle cases at this unit."),
    "closed": _l("The errand is closed and can no longer be answered."),
    "attachments-disabled": _l("Attachments are not accepted for this errand."),
}


@dataclass(frozen=True)
class Result:
    ok: bool
    reason: str | None = None
    target: str | None = None
    #: The message the event wrote (``send_message``), if any.
    message: CaseMessage | None = None


@dataclass(frozen=True)
class AttachmentProblem:
    """Why one file (or the set of files) was refused: ``empty``, ``too-large``, ``type``,
    ``name`` (its ending says another type) or ``too-many`` (then ``filename`` is empty)."""

    filename: str
    reason: str
    #: The most files allowed (for ``too-many``).
    limit: int = 0

    def text(self) -> str:
        name = self.filename
        if self.reason == "too-many":
            return str(_("Too many files. Attach at most %(limit)s files.", limit=self.limit))
        if self.reason == "empty":
            return str(_("The file %(name)s is empty.", name=name))
        if self.reason == "too-large":
            return str(_("The file %(name)s is larger than 20 MB.", name=name))
        if self.reason == "name":
            return str(_("The name of %(name)s does not match what the file contains. Rename "
                         "the file (for example .pdf for a PDF, .jpg for a photo) and attach "
                         "it again.", name=name))
        return str(_("The file %(name)s is not a PDF, PNG, JPEG or GIF file (its content was "
                     "checked, not its name).", name=name))


def new_token() -> str:
    return secrets.token_urlsafe(32)


# -- drafts and creation -------------------------------------------------------------------


def start_draft(session: Session, *, unit_id: int, version: DefinitionVersion,
                citizen_id: int, created_by_citizen_id: int, now: dt.datetime) -> CaseDraft:
    """A new errand being written (the terms were accepted now), with its form draft."""
    draft = drafts.create_draft(session, version, citizen_id=citizen_id)
    row = CaseDraft(token=new_token(), unit_id=unit_id, definition_version_id=version.id,
                    citizen_id=citizen_id, created_by_citizen_id=created_by_citizen_id,
                    draft_id=draft.id, terms_accepted_at=now, created_at=now)
    session.add(row)
    session.flush()
    return row


def unsent_draft(session: Session, *, unit_id: int, version_id: int,
                 citizen_id: int) -> CaseDraft | None:
    """The citizen's errand of this case type version at the unit begun and not sent yet."""
    return session.scalars(
        select(CaseDraft).join(Draft, Draft.id == CaseDraft.draft_id)
        .where(CaseDraft.unit_id == unit_id, CaseDraft.definition_version_id == version_id,
               CaseDraft.citizen_id == citizen_id, Draft.submitted_at.is_(None))
        .order_by(CaseDraft.created_at.desc()).limit(1)).first()


def case_draft_by_token(session: Session, token: str) -> CaseDraft | None:
    return session.scalars(select(CaseDraft).where(CaseDraft.token == token)).first()


def create_case(session: Session, case_draft: CaseDraft, submission: StoredSubmission,
                actor: Actor, now: dt.datetime,
                attachments: Sequence[uploads.CheckedFile] = ()) -> Case:
    """The case for a submitted draft, created once: a repeated or concurrent submit of the
    same draft gets the case the first one created (``INSERT … ON CONFLICT DO NOTHING`` on
    the unique draft id), and only the creator stores the attachments and the history row."""
    values = {
        "token": new_token(), "unit_id": case_draft.unit_id, "citizen_id": case_draft.citizen_id,
        "created_by_citizen_id": case_draft.created_by_citizen_id,
        "definition_version_id": case_draft.definition_version_id,
        "draft_id": case_draft.draft_id, "submission_id": submission.id, "state": "new",
        "overdue": False, "state_changed_at": now, "created_at": now, "timers_fired": [],
    }
    dialect = session.get_bind().dialect.name
    statement = (postgresql_insert if dialect == "postgresql" else sqlite_insert)(Case)
    case = session.scalars(statement.values(**values)
                           .on_conflict_do_nothing(index_elements=["draft_id"])
                           .returning(Case)).first()
    if case is None:
        return session.scalars(select(Case).where(Case.draft_id == case_draft.draft_id)).one()
    session.add(CaseEvent(case_id=case.id, at=now, event="submit", from_state=None,
                          to_state="new", actor_kind=_actor_kind(actor),
                          actor_id=_actor_id(actor), data={}))
    add_attachments(session, case, None, attachments, "citizen", now)
    session.flush()
    return case


# -- the workflow --------------------------------------------------------------------------


def workflow_settings(case: Case) -> dict[str, Any]:
    """The definition's ``workflow`` settings (``reply_form``, ``reviewer_role``...)."""
    settings = case.definition_version.document.get("workflow")
    return dict(settings) if isinstance(settings, dict) else {}


def _permissions(case: Case, actor: Actor) -> frozenset[str]:
    if actor.is_staff:
        return frozenset(str(p) for p in actor.permissions_in(case.unit_id))
    if actor.is_citizen:
        return frozenset(str(p) for p in CITIZEN_PERMISSIONS)
    return frozenset({workflow.SYSTEM})


def _context(case: Case, actor: Actor, now: dt.datetime,
             data: dict[str, Any] | None) -> workflow.Context:
    return workflow.Context(
        actor_kind=actor.kind if actor.kind in ("staff", "citizen") else workflow.SYSTEM,
        permissions=_permissions(case, actor),
        data=data or {},
        now=now,
        assignment={"assigned": case.assigned_to_id is not None, "overdue": case.overdue,
                    # The acting staff member handles it (a handler may pass their own on).
                    "mine": actor.is_staff and case.assigned_to_id is not None
                    and case.assigned_to_id == actor.staff_user_id},
        settings=workflow_settings(case),
    )


def available_events(case: Case, actor: Actor, now: dt.datetime) -> list[str]:
    """The events this actor may take on the case now (for showing only usable buttons)."""
    definition = workflow.load_builtin(WORKFLOW)
    return list(workflow.available_events(definition, case.state,
                                          _context(case, actor, now, None)))


def fire(session: Session, case: Case, event: str, actor: Actor, now: dt.datetime,
         data: dict[str, Any] | None = None) -> Result:
    """Apply *event* to *case* if the workflow allows it; nothing is written if not.

    ``data`` may carry ``message`` (the text of a message event), ``reply_answers`` (the
    staff reply form's answers) and, for ``assign``, ``assigned_to_id`` (a staff user holding
    case-reply permission at the case's unit).
    """
    data = dict(data or {})
    assignee: int | None = None
    if event == "assign":
        candidate = data.get("assigned_to_id")
        if (not isinstance(candidate, int) or isinstance(candidate, bool)
                or not can_handle(session, case.unit_id, candidate)):
            return Result(False, "not-assignable")
        assignee = candidate
    definition = workflow.load_builtin(WORKFLOW)
    outcome = workflow.fire(definition, case.state, event, _context(case, actor, now, data))
    if not outcome.ok:
        return Result(False, outcome.reason)
    source = case.state
    target = outcome.target or source
    case.state = target
    if target != source:
        case.state_changed_at = now
    if target in ("waiting-for-citizen", "answered", "closed"):
        # The clinic has acted: the "not answered in time" flag no longer applies.
        case.overdue = False
    if target == "closed" and case.closed_at is None:
        case.closed_at = now
    if assignee is not None:
        case.assigned_to_id = assignee
    session.add(CaseEvent(
        case_id=case.id, at=now, event=event, from_state=source, to_state=target,
        actor_kind=_actor_kind(actor), actor_id=_actor_id(actor),
        data={"assigned_to_id": assignee} if assignee is not None else {}))
    message: CaseMessage | None = None
    for action in outcome.actions:
        if action == "send_message":
            message = _send_message(session, case, event, actor, data, now)
        else:
            _perform(session, action, case, now)
    session.flush()
    return Result(True, None, target, message)


def _send_message(session: Session, case: Case, event: str, actor: Actor,
                  data: dict[str, Any], now: dt.datetime) -> CaseMessage | None:
    body = data.get("message")
    text = body.strip() if isinstance(body, str) else ""
    answers = data.get("reply_answers")
    if not text and not isinstance(answers, dict):
        return None  # a close without a closing text: no message
    kind = MESSAGE_KIND_OF_EVENT.get(event)
    if kind is None:
        return None
    return add_message(session, case, kind, text, actor, now,
                       reply_answers=answers if isinstance(answers, dict) else None)


def add_message(session: Session, case: Case, kind: str, body: str, actor: Actor,
                now: dt.datetime, *, reply_answers: dict[str, Any] | None = None
                ) -> CaseMessage:
    """Append a message to the thread (the workflow's ``send_message`` uses this; call it
    directly only for messages that are not workflow events)."""
    message = CaseMessage(
        case_id=case.id, kind=kind, body=body, reply_answers=reply_answers, created_at=now,
        author_staff_id=actor.staff_user_id if actor.is_staff else None,
        author_citizen_id=actor.citizen_id if actor.is_citizen else None)
    session.add(message)
    session.flush()
    return message


def _perform(session: Session, action: str, case: Case, now: dt.datetime) -> None:
    if action == "notify_citizen":
        _notify_citizen(session, case, now)
    elif action == "notify_staff":
        _notify_staff(session, case)
    elif action == "flag_overdue":
        case.overdue = True
    # cancel_timers: case timers are computed from the state at every tick (nothing queued),
    # so a closed case simply has none left.


def _notify_citizen(session: Session, case: Case, now: dt.datetime) -> None:
    """An inbox message and an e-mail that say only that there is news: no case type, no
    text (the case type itself may reveal a health matter)."""
    unit = session.get(Unit, case.unit_id)
    name = unit.name if unit else ""
    session.add(InboxMessage(
        citizen_id=case.citizen_id, unit_id=case.unit_id,
        subject=_("News about your errand with %(unit)s", unit=name)[:SUBJECT_MAX],
        body=_("There is news about an errand you sent. Open \"My errands\" to read it."),
        visible_from=now, created_at=now))
    citizen = session.get(Citizen, case.citizen_id)
    if citizen is not None and citizen.email and not citizen.protected_identity:
        session.add(Notification(
            to_address=citizen.email,
            subject=f"Nytt i ditt ärende hos {name} / News about your errand with {name}"[
                :SUBJECT_MAX],
            body=("Det finns nytt i ett ärende du har skickat. Logga in för att läsa det.\n\n"
                  "There is news about an errand you sent. Log in to read it.\n")))


def _notify_staff(session: Session, case: Case) -> None:
    """An e-mail to the handler the case is assigned to, carrying only the case number."""
    if case.assigned_to_id is None:
        return
    staff = session.get(StaffUser, case.assigned_to_id)
    if staff is not None and staff.email and staff.active:
        session.add(Notification(
            to_address=staff.email,
            subject="Formulär: nytt i ett ärende / news in a case",
            body=f"Ärende {case.id}: nytt i ärendet. / Case {case.id}: there is news.\n"))


def _actor_kind(actor: Actor) -> str:
    if actor.is_citizen:
        return "guardian" if actor.acting_for_id else "citizen"
    return "staff" if actor.is_staff else "system"


def _actor_id(actor: Actor) -> int | None:
    if actor.is_staff:
        return actor.staff_user_id
    return actor.citizen_id if actor.is_citizen else None


def can_handle(session: Session, unit_id: int, staff_user_id: int) -> bool:
    """Whether the staff user is active and holds case-reply permission at the unit."""
    roles = [role for role, granted in ROLE_PERMISSIONS.items()
             if Permission.CASE_REPLY in granted]
    found = session.scalar(
        select(func.count()).select_from(RoleAssignment)
        .join(StaffUser, StaffUser.id == RoleAssignment.user_id)
        .where(RoleAssignment.user_id == staff_user_id, RoleAssignment.unit_id == unit_id,
               RoleAssignment.role.in_(roles), StaffUser.active.is_(True)))
    return bool(found)


def refusal_text(reason: str | None) -> str:
    """Why a case event was refused, in the page's language."""
    if reason in CASE_REASONS:
        return str(CASE_REASONS[reason])
    text = workflow.REASONS.get(reason or "")
    return str(_(text)) if text else str(_("That cannot be done now."))


# -- attachments ---------------------------------------------------------------------------


def check_attachments(files: Iterable[tuple[str, bytes]], max_count: int
                      ) -> tuple[list[uploads.CheckedFile], list[AttachmentProblem]]:
    """The files checked by content (PDF, GIF, JPEG, PNG; not empty; at most 20 MB each;
    at most *max_count*). Any problem means the caller stores none of them."""
    checked: list[uploads.CheckedFile] = []
    problems: list[AttachmentProblem] = []
    given = list(files)
    if len(given) > max_count:
        problems.append(AttachmentProblem("", "too-many", max_count))
    for filename, data in given:
        ok, reason = uploads.check_file(filename, data, ACCEPT, MAX_FILE_SIZE)
        if ok is None:
            problems.append(AttachmentProblem(uploads.safe_filename(filename),
                                              reason or "type"))
        else:
            checked.append(ok)
    return checked, problems


def add_attachments(session: Session, case: Case, message: CaseMessage | None,
                    files: Sequence[uploads.CheckedFile], author_kind: str,
                    now: dt.datetime) -> list[CaseAttachment]:
    """Store already checked files (see :func:`check_attachments`) on the case."""
    rows = [CaseAttachment(token=new_token(), case_id=case.id,
                           message_id=message.id if message is not None else None,
                           author_kind=author_kind, filename=f.filename,
                           content_type=f.content_type, size=len(f.data), sha256=f.sha256,
                           data=f.data, created_at=now) for f in files]
    session.add_all(rows)
    session.flush()
    return rows


# -- reading -------------------------------------------------------------------------------


def case_by_token(session: Session, token: str) -> Case | None:
    if not token or len(token) > 64:
        return None
    return session.scalars(select(Case).where(Case.token == token)).first()


def cases_of_citizen(session: Session, citizen_id: int, limit: int = 200) -> list[Case]:
    return list(session.scalars(select(Case).where(Case.citizen_id == citizen_id)
                                .order_by(Case.created_at.desc(), Case.id.desc())
                                .limit(limit)))


def messages_of(session: Session, case: Case) -> list[CaseMessage]:
    return list(session.scalars(select(CaseMessage).where(CaseMessage.case_id == case.id)
                                .order_by(CaseMessage.created_at, CaseMessage.id)))


def attachments_of(session: Session, case: Case) -> list[CaseAttachment]:
    """The case's files without their bytes (``data`` is deferred)."""
    return list(session.scalars(select(CaseAttachment).where(CaseAttachment.case_id == case.id)
                                .order_by(CaseAttachment.created_at, CaseAttachment.id)))


def attachment_by_token(session: Session, case: Case, token: str) -> CaseAttachment | None:
    return session.scalars(select(CaseAttachment).where(
        CaseAttachment.case_id == case.id, CaseAttachment.token == token)).first()


def events_of(session: Session, case: Case) -> list[CaseEvent]:
    return list(session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)
                                .order_by(CaseEvent.at, CaseEvent.id)))


def unread_for_citizen(session: Session, citizen_id: int) -> int:
    """Staff messages the citizen has not opened yet, over all their cases."""
    return int(session.scalar(
        select(func.count()).select_from(CaseMessage).join(Case, Case.id == CaseMessage.case_id)
        .where(Case.citizen_id == citizen_id, CaseMessage.author_staff_id.is_not(None),
               CaseMessage.read_by_citizen_at.is_(None))) or 0)


def mark_read_by_citizen(session: Session, case: Case, now: dt.datetime) -> None:
    """The citizen opened the case: its staff messages count as read."""
    session.execute(update(CaseMessage).where(
        CaseMessage.case_id == case.id, CaseMessage.author_staff_id.is_not(None),
        CaseMessage.read_by_citizen_at.is_(None)).values(read_by_citizen_at=now)
        .execution_options(synchronize_session=False))
