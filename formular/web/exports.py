"""Exports of answers: CSV (streamed, constant memory), Excel and PDF.

The access log gets one row per citizen *before* anything is sent: an export is a read of
every submission in it. The CSV streams from a server-side cursor, so 100,000 answers use the
same memory as 100.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, abort, send_file, stream_with_context
from flask_babel import get_locale
from sqlalchemy import select

from formular.audit.service import log_access
from formular.auth.permissions import Permission
from formular.definitions.service import compile_cached
from formular.interop.service import ExportRow, stream_csv, submission_pdf, write_xlsx
from formular.storage.db import db
from formular.storage.identity import Citizen
from formular.storage.models import Submission
from formular.storage.sendouts import Assignment, SendOut

from .access import authorize_or_404, current_actor, require

bp = Blueprint("exports", __name__, url_prefix="/staff")

#: Rows fetched per round trip when streaming.
FETCH = 2000


def _send_out(send_out_id: int) -> SendOut:
    row = db.session.get(SendOut, send_out_id)
    if row is None:
        abort(404)
    authorize_or_404(Permission.SUBMISSION_EXPORT, row.unit_id)
    return row


def _log_export(send_out: SendOut, action: str) -> None:
    session = db.session()
    citizen_ids = session.scalars(select(Assignment.citizen_id).where(
        Assignment.send_out_id == send_out.id, Assignment.submission_id.is_not(None))).all()
    log_access(session, current_actor(), unit_id=send_out.unit_id, citizen_ids=citizen_ids,
               action=action, object_type="send_out", object_id=send_out.id,
               reason=f"export:{send_out.id}")
    session.commit()


def _rows(send_out: SendOut) -> Iterator[ExportRow]:
    query = (select(Submission.answers, Submission.scores, Submission.receipt,
                    Submission.created_at, Submission.answered_by_kind, Assignment.state,
                    Citizen.personnummer, Citizen.name)
             .join(Assignment, Assignment.submission_id == Submission.id)
             .join(Citizen, Citizen.id == Assignment.citizen_id)
             .where(Assignment.send_out_id == send_out.id)
             .order_by(Citizen.name, Submission.id)
             .execution_options(yield_per=FETCH))
    for answers, scores, receipt, created, by, state, number, name in db.session.execute(query):
        yield ExportRow(personnummer=number, name=name, receipt=receipt, submitted_at=created,
                        answered_by=by, status=state, answers=answers, scores=scores)


def _language() -> str:
    return str(get_locale() or "sv")


@bp.get("/sendouts/<int:send_out_id>/answers.csv")
@require(Permission.SUBMISSION_EXPORT)
def send_out_csv(send_out_id: int) -> Response:
    send_out = _send_out(send_out_id)
    _log_export(send_out, "export:csv")
    version = send_out.definition_version
    compiled = compile_cached(version.document, key=version.cache_key)
    language = _language()
    body = stream_with_context(stream_csv(compiled, _rows(send_out), language=language))
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{version.definition_id}-'
                               f'{send_out.id}.csv"'})


@bp.get("/sendouts/<int:send_out_id>/answers.xlsx")
@require(Permission.SUBMISSION_EXPORT)
def send_out_xlsx(send_out_id: int) -> Any:
    send_out = _send_out(send_out_id)
    _log_export(send_out, "export:xlsx")
    version = send_out.definition_version
    compiled = compile_cached(version.document, key=version.cache_key)
    # Spooled: small exports stay in memory, large ones go to a temporary file.
    target = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)  # noqa: SIM115
    write_xlsx(compiled, _rows(send_out), target, language=_language())
    target.seek(0)
    return send_file(target, download_name=f"{version.definition_id}-{send_out.id}.xlsx",
                     as_attachment=True, mimetype="application/vnd.openxmlformats-"
                     "officedocument.spreadsheetml.sheet")


@bp.get("/assignments/<token>/answers.pdf")
@require(Permission.SUBMISSION_EXPORT)
def submission_pdf_view(token: str) -> Response:
    assignment = db.session.scalars(select(Assignment).where(Assignment.token == token)).first()
    if assignment is None or assignment.submission_id is None:
        abort(404)
    authorize_or_404(Permission.SUBMISSION_EXPORT, assignment.send_out.unit_id)
    submission = db.session.get(Submission, assignment.submission_id)
    if submission is None:
        abort(404)
    session = db.session()
    log_access(session, current_actor(), unit_id=assignment.send_out.unit_id,
               citizen_ids=[assignment.citizen_id], action="export:pdf",
               object_type="submission", object_id=submission.id,
               reason=f"follow-up:{assignment.send_out_id}")
    session.commit()
    return submission_pdf_response(submission, assignment, for_citizen=False)


def submission_pdf_response(submission: Submission, assignment: Assignment,
                            for_citizen: bool) -> Response:
    """A submission as PDF: the staff copy, or the citizen's own copy (citizen-visible
    results only)."""
    version = submission.definition_version
    compiled = compile_cached(version.document, key=version.cache_key)
    citizen = assignment.citizen
    row = ExportRow(personnummer=citizen.personnummer, name=citizen.name,
                    receipt=submission.receipt, submitted_at=submission.created_at,
                    answered_by=submission.answered_by_kind, status=assignment.state,
                    answers=submission.answers, scores=submission.scores)
    data = submission_pdf(compiled, row, _language(),
                          audience="citizen" if for_citizen else "staff")
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{version.definition_id}-'
                               f'{submission.receipt}.pdf"'})
