"""Preview: open a stored design and fill it in page by page, as a citizen or as staff.

For logged-in staff with a role in any unit (designers, senders, reviewers): they see exactly
what a citizen will see before sending a form. A draft is reachable only from the browser
session that started it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, session
from werkzeug.wrappers import Response

from formular.auth.permissions import Permission
from formular.definitions.service import Subject
from formular.design.workspace import can_use_version
from formular.i18n.service import localized_scores, offered_for
from formular.storage import drafts
from formular.storage.db import db
from formular.storage.models import DefinitionVersion, Draft

from .access import current_actor, require
from .filling import Filler
from .i18n import offer_form_languages

bp = Blueprint("preview", __name__, url_prefix="/preview")

ENDPOINTS = {"page": "preview.page", "review": "preview.review", "submit": "preview.submit",
             "receipt": "preview.receipt"}
#: How many preview drafts one browser session keeps track of.
MAX_SESSION_DRAFTS = 30


@bp.get("/")
@require(Permission.DEFINITION_PREVIEW)
def index() -> str:
    """Every stored form, with the languages each is complete in (the publish gate), so a
    designer sees at once which translations are still missing."""
    versions = [v for v in drafts.latest_versions(db.session()) if _may_preview(v)]
    languages = {}
    for version in versions:
        offered = offered_for(version)
        wanted = version.document.get("languages", [version.document["language"]])
        languages[version.id] = [(code, code in offered) for code in wanted]
    return render_template("preview/index.html", versions=versions, languages=languages)


@bp.post("/<definition_id>/start")
@require(Permission.DEFINITION_PREVIEW)
def start(definition_id: str) -> Response:
    version = drafts.latest_version(db.session(), definition_id)
    if version is None or not _may_preview(version):
        abort(404)
    audience = request.form.get("audience", "citizen")
    if audience not in ("citizen", "staff"):
        abort(400)
    sex = request.form.get("sex") or None
    if sex not in (None, "female", "male"):
        abort(400)
    age_text = request.form.get("age", "").strip()
    if age_text and not (age_text.isdigit() and 0 <= int(age_text) <= 130):
        abort(400)
    draft = drafts.create_draft(db.session(), version)
    db.session.commit()
    owned: dict[str, Any] = dict(session.get("preview", {}))
    owned[draft.token] = {"audience": audience, "sex": sex,
                          "age": int(age_text) if age_text else None}
    while len(owned) > MAX_SESSION_DRAFTS:
        owned.pop(next(iter(owned)))
    session["preview"] = owned
    return redirect(f"/preview/d/{draft.token}/0")


def _may_preview(version: DefinitionVersion) -> bool:
    """Shipped forms, and a unit's own forms and the templates it may use, for staff of a
    unit where they may preview: another unit's unit-only form is not theirs to see."""
    actor = current_actor()
    return any(can_use_version(db.session(), unit_id, version)
               for unit_id in actor.units_with(Permission.DEFINITION_PREVIEW))


def _filler(token: str) -> Filler:
    settings = session.get("preview", {}).get(token)
    if settings is None:
        abort(404)
    draft: Draft | None = drafts.draft_by_token(db.session(), token)
    if draft is None:
        abort(404)
    offer_form_languages(draft.definition_version)
    return Filler(draft, settings["audience"], Subject(sex=settings["sex"], age=settings["age"]),
                  ENDPOINTS)


@bp.get("/d/<token>/<int:page>")
@require(Permission.DEFINITION_PREVIEW)
def page(token: str, page: int) -> Any:
    return _filler(token).show_page(page, check=request.args.get("check") == "1")


@bp.post("/d/<token>/<int:page>")
@require(Permission.DEFINITION_PREVIEW)
def post_page(token: str, page: int) -> Any:
    return _filler(token).post_page(page)


@bp.get("/d/<token>/review")
@require(Permission.DEFINITION_PREVIEW)
def review(token: str) -> Any:
    return _filler(token).show_review()


@bp.post("/d/<token>/submit")
@require(Permission.DEFINITION_PREVIEW)
def submit(token: str) -> Any:
    return _filler(token).submit()


@bp.get("/d/<token>/receipt")
@require(Permission.DEFINITION_PREVIEW)
def receipt(token: str) -> Any:
    filler = _filler(token)
    from sqlalchemy import select

    from formular.storage.models import Submission

    submission = db.session.scalars(
        select(Submission).where(Submission.draft_id == filler.draft.id)).first()
    if submission is None:
        return redirect(filler.url("review"))
    compiled = filler.compiled
    scores = localized_scores(submission.scores, filler.source_compiled.document,
                              compiled.document)
    shown = ShownSubmission(submission.receipt, submission.created_at, scores)
    return render_template("preview/receipt.html", filler=filler, compiled=compiled,
                           submission=shown, audience=filler.audience)


@dataclass(frozen=True)
class ShownSubmission:
    """What the receipt shows of a submission, its score, band and flag labels in the page's
    language (a submission stores them in the definition's source language)."""

    receipt: str
    created_at: dt.datetime
    scores: dict[str, Any]
