"""The citizen's pages: inbox, answering forms sent to them, receipts, and who read what.

A citizen reaches only their own assignments — or, acting as a guardian, those of their child
under 13. Age is computed when the form is opened, not when it was sent: a child who has
turned 13 answers with their own log-in, and the guardian no longer can.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, abort, g, redirect, render_template, request
from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from formular.auth.clock import as_utc, swedish_today
from formular.auth.permissions import Actor, Permission
from formular.definitions.service import Subject
from formular.i18n.service import localized_scores
from formular.sendouts import answering, transitions
from formular.sendouts.answering import AssignmentRow, CitizenRow
from formular.sendouts.recipients import GUARDIAN_AGE
from formular.storage import drafts
from formular.storage.alongside import Alongside
from formular.storage.audit import AccessLog
from formular.storage.base import utcnow
from formular.storage.db import commit_bookkeeping, db
from formular.storage.identity import Citizen, StaffUser, Unit
from formular.storage.models import Submission
from formular.storage.sendouts import Assignment, InboxMessage

from .access import current_actor, reads_alongside, require
from .filling import Filler, FillHooks
from .i18n import offer_form_languages

bp = Blueprint("citizen", __name__)

ENDPOINTS = {"page": "citizen.page", "review": "citizen.review", "submit": "citizen.submit",
             "receipt": "citizen.receipt"}


@bp.get("/inbox")
@require(Permission.INBOX_READ)
def inbox() -> str:
    actor = current_actor()
    session = db.session()
    now = utcnow()
    messages = session.scalars(select(InboxMessage).where(
        InboxMessage.citizen_id == actor.subject_citizen_id, InboxMessage.visible_from <= now)
        .order_by(InboxMessage.created_at.desc()).limit(200)).all()
    assignments = session.scalars(select(Assignment).where(
        Assignment.citizen_id == actor.subject_citizen_id,
        Assignment.state.in_(("sent", "opened", "in-progress", "answered", "handled",
                              "expired")))
        .order_by(Assignment.created_at.desc()).limit(200)).all()
    subject = session.get(Citizen, actor.subject_citizen_id)
    return render_template("citizen/inbox.html", messages=messages, assignments=assignments,
                           subject=subject, acting_for=actor.acting_for_id is not None)


@bp.get("/inbox/<int:message_id>")
@require(Permission.INBOX_READ)
def message(message_id: int) -> str:
    actor = current_actor()
    session = db.session()
    row = session.get(InboxMessage, message_id)
    if (row is None or row.citizen_id != actor.subject_citizen_id
            or as_utc(row.visible_from) > utcnow()):
        abort(404)
    if row.read_at is None:
        row.read_at = utcnow()
        commit_bookkeeping(session)
    assignment = session.get(Assignment, row.assignment_id) if row.assignment_id else None
    return render_template("citizen/message.html", message=row, assignment=assignment)


def may_answer(actor: Actor, citizen: Citizen | CitizenRow, today: dt.date) -> bool:
    """The journal rules on who answers for whom, applied at the time of access."""
    if not actor.is_citizen:
        return False
    if citizen.age_on(today) < GUARDIAN_AGE:
        return actor.acting_for_id == citizen.id
    return actor.citizen_id == citizen.id and actor.acting_for_id is None


class AssignmentHooks(FillHooks):
    """Moves the assignment through the send-out workflow as the citizen works."""

    def __init__(self, assignment: AssignmentRow, actor: Actor) -> None:
        self.assignment = assignment
        self.actor = actor

    def saved(self) -> None:
        if self.assignment.state == "opened":
            transitions.fire(db.session(), self.assignment, "save_draft", self.actor, utcnow())

    def adopt(self, draft: drafts.AnyDraft) -> bool:
        # The first save moves "opened" on and records the draft in one compare-and-set: of
        # two windows saving a first draft at once, one wins.
        assert draft.id is not None
        if self.assignment.state == "opened":
            return transitions.fire(db.session(), self.assignment, "save_draft", self.actor,
                                    utcnow(), also={"draft_id": draft.id}).ok
        return _claim_draft(db.session(), self.assignment, draft.id)

    def reload_draft(self, draft: drafts.AnyDraft) -> drafts.AnyDraft:
        found = answering.find(db.session(), self.assignment.token)
        if found is None:
            abort(404)
        self.assignment = found.assignment
        g.assignment = found.assignment
        return found.draft or drafts.unsaved_draft(
            found.assignment.send_out.definition_version, found.assignment.citizen_id)

    def submission_fields(self) -> dict[str, Any]:
        return {"citizen_id": self.assignment.citizen_id,
                "answered_by_id": self.actor.citizen_id,
                "answered_by_kind": "guardian" if self.actor.acting_for_id else "citizen"}

    def submitted(self, submission: drafts.StoredSubmission) -> None:
        # One compare-and-set UPDATE moves the assignment to "answered" and records the
        # submission (and the draft, when it was stored by this very send): of two concurrent
        # submits of one draft only one moves it (the other's submission insert already found
        # the first one's row); of two windows' first drafts only one is recorded.
        claims = self.assignment.draft_id is None
        also = {"submission_id": submission.id}
        if claims:
            also["draft_id"] = submission.draft_id
        moved = transitions.fire(
            db.session(), self.assignment, "submit", self.actor, utcnow(),
            {"answered_by": "guardian" if self.actor.acting_for_id else "citizen",
             "answers_valid": True}, also=also)
        if claims and not moved.ok:
            raise drafts.StaleDraft


def _assignment_of_token(view_args: dict[str, Any]) -> Alongside | None:
    """A form view's first read (see ``_filler``), made with the log-in session lookup."""
    token = view_args.get("token", "")
    return answering.alongside(token) if len(token) <= 64 else None


def _filler(token: str) -> Filler:
    actor = current_actor()
    session = db.session()
    found = answering.find(session, token) if len(token) <= 64 else None
    if found is None:
        abort(404)
    assignment = found.assignment
    citizen = assignment.citizen
    today = swedish_today(utcnow())
    if not may_answer(actor, citizen, today):
        abort(404)
    if assignment.state in ("scheduled", "cancelled", "failed"):
        abort(404)
    version = assignment.send_out.definition_version
    if assignment.state == "sent":
        transitions.fire(session, assignment, "open", actor, utcnow())
        commit_bookkeeping(session)
    # Looking at a form stores nothing: the draft is stored (and recorded on the assignment)
    # by its first save, see AssignmentHooks.adopt and .submitted.
    draft = found.draft or drafts.unsaved_draft(version, citizen.id)
    offer_form_languages(version)
    g.assignment = assignment
    filler = Filler(draft, "citizen", Subject(sex=citizen.sex, age=citizen.age_on(today)),
                    ENDPOINTS, AssignmentHooks(assignment, actor), {"token": token})
    return filler


def _claim_draft(session: Session, assignment: AssignmentRow, draft_id: int) -> bool:
    """Record a first draft on an assignment already past "opened" without one (made before
    drafts were stored at the first save); a compare-and-set, so of two windows one wins."""
    claimed: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(Assignment).where(Assignment.id == assignment.id,
                                 Assignment.draft_id.is_(None))
        .values(draft_id=draft_id).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        return False
    assignment.draft_id = draft_id
    return True


def _closed(filler: Filler) -> Response | str | None:
    """Answered, expired or past the deadline: show the state instead of the form."""
    assignment: AssignmentRow = g.assignment
    if assignment.state in ("answered", "handled"):
        return redirect(filler.url("receipt"))
    if assignment.state == "expired":
        return render_template("citizen/closed.html", assignment=assignment, reason="expired")
    return None


@bp.get("/forms/<token>/<int:page>")
@require(Permission.FORM_ANSWER)
@reads_alongside(_assignment_of_token)
def page(token: str, page: int) -> Any:
    filler = _filler(token)
    return _closed(filler) or filler.show_page(page, check=request.args.get("check") == "1")


@bp.post("/forms/<token>/<int:page>")
@require(Permission.FORM_ANSWER)
@reads_alongside(_assignment_of_token)
def post_page(token: str, page: int) -> Any:
    filler = _filler(token)
    return _closed(filler) or filler.post_page(page)


@bp.get("/forms/<token>/review")
@require(Permission.FORM_ANSWER)
@reads_alongside(_assignment_of_token)
def review(token: str) -> Any:
    filler = _filler(token)
    return _closed(filler) or filler.show_review()


@bp.post("/forms/<token>/submit")
@require(Permission.FORM_ANSWER)
@reads_alongside(_assignment_of_token)
def submit(token: str) -> Any:
    filler = _filler(token)
    if g.assignment.state == "expired":
        return _closed(filler)
    return filler.submit()


@bp.get("/forms/<token>/receipt")
@require(Permission.FORM_ANSWER)
@reads_alongside(_assignment_of_token)
def receipt(token: str) -> Any:
    filler = _filler(token)
    submission = db.session.scalars(select(Submission).where(
        Submission.draft_id == filler.draft.id)).first()
    if submission is None:
        return redirect(filler.url("page", page=0))
    compiled = filler.compiled
    policy = compiled.policy
    # Stored in the source language; shown in the language of the page.
    shown = localized_scores(submission.scores, filler.source_compiled.document,
                             compiled.document)
    scores = {k: v for k, v in shown.get("scores", {}).items() if v.get("citizen_visible")}
    flags = [f for f in shown.get("flags", []) if f.get("citizen_visible")]
    return render_template("citizen/receipt.html", filler=filler, compiled=compiled,
                           submission=submission, scores=scores, flags=flags,
                           pdf=policy.get("copy_to_citizen") == "pdf", token=token)


@bp.get("/forms/<token>/copy.pdf")
@require(Permission.FORM_ANSWER)
@reads_alongside(_assignment_of_token)
def copy_pdf(token: str) -> Response:
    filler = _filler(token)
    if filler.compiled.policy.get("copy_to_citizen") != "pdf":
        abort(404)
    submission = db.session.scalars(select(Submission).where(
        Submission.draft_id == filler.draft.id)).first()
    if submission is None:
        abort(404)
    from .exports import submission_pdf_response

    assignment = db.session.get(Assignment, g.assignment.id)
    if assignment is None:
        abort(404)
    response: Response = submission_pdf_response(submission, assignment, for_citizen=True)
    return response


@bp.get("/access-log")
@require(Permission.OWN_ACCESS_LOG_READ)
def access_log() -> str:
    """Who at which unit has read the citizen's answers, and when (PDL)."""
    actor = current_actor()
    rows = db.session.execute(
        select(AccessLog, StaffUser.display_name, Unit.name)
        .join(StaffUser, StaffUser.id == AccessLog.staff_user_id)
        .join(Unit, Unit.id == AccessLog.unit_id)
        .where(AccessLog.citizen_id == actor.subject_citizen_id)
        .order_by(AccessLog.at.desc()).limit(500)).all()
    return render_template("citizen/access_log.html", rows=rows)
