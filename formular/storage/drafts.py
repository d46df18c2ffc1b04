"""Drafts, uploads and submissions: the part of storage the form filler writes.

Saving is guarded by a revision number: a save based on an older revision than the stored one
(another tab, another device) is refused rather than overwriting newer answers. Submitting is
idempotent: the submission's unique draft id makes the second of two concurrent submits a
no-op that returns the first one's receipt.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from .base import utcnow
from .models import DefinitionVersion, Draft, Submission, Upload
from .rows import is_entity, record


class StaleDraft(Exception):
    """The draft was saved elsewhere since this page was loaded."""


@dataclass
class DraftRow:
    """A draft as a plain row (a citizen's form requests read it with Core, see
    ``formular.sendouts.answering``); the functions here take it or a :class:`Draft`."""

    id: int | None
    token: str
    definition_version_id: int
    answers: dict[str, Any]
    page: int
    revision: int
    submitted_at: dt.datetime | None
    citizen_id: int | None
    #: The stored version (an entity or a row with ``cache_key`` and ``document``).
    definition_version: Any


#: What the functions below accept as a draft.
AnyDraft = Draft | DraftRow


def new_token() -> str:
    return secrets.token_urlsafe(32)


def latest_versions(session: Session) -> list[DefinitionVersion]:
    rows = session.scalars(
        select(DefinitionVersion).order_by(DefinitionVersion.definition_id,
                                           DefinitionVersion.version.desc())
    ).all()
    seen: set[str] = set()
    latest = []
    for row in rows:
        if row.definition_id not in seen:
            seen.add(row.definition_id)
            latest.append(row)
    return latest


def latest_version(session: Session, definition_id: str) -> DefinitionVersion | None:
    return session.scalars(
        select(DefinitionVersion).where(DefinitionVersion.definition_id == definition_id)
        .order_by(DefinitionVersion.version.desc()).limit(1)
    ).first()


def create_draft(session: Session, version: DefinitionVersion,
                 citizen_id: int | None = None) -> Draft:
    """A new empty draft of ``version``, stored at once (see :func:`store_draft`)."""
    draft = Draft(id=None, token="", definition_version_id=version.id, answers={}, page=0,
                  revision=0, submitted_at=None, citizen_id=citizen_id)
    set_committed_value(draft, "definition_version", version)
    store_draft(session, draft, {}, 0, revision=0)
    return draft


def unsaved_draft(version: Any, citizen_id: int | None = None) -> DraftRow:
    """An empty draft of ``version`` that is not stored (``id`` None): what a form shows
    before its first save. Looking at a form writes no draft; :func:`store_draft` stores it
    when there is something to keep."""
    return DraftRow(None, "", version.id, {}, 0, 0, None, citizen_id, version)


def store_draft(session: Session, draft: AnyDraft, answers: dict[str, Any], page: int, *,
                revision: int, submitted_at: dt.datetime | None = None) -> None:
    """Store an :func:`unsaved_draft` with ``answers`` as ``revision`` (1 for a first save, 0
    for an empty draft). One prebuilt ``INSERT … RETURNING id``; the object becomes the
    stored row without a flush or a re-select. Where the draft is recorded (an
    assignment's ``draft_id``) is the caller's business."""
    values = _draft_values(draft, answers, page, revision, submitted_at)
    _stored(session, draft, session.connection().execute(_INSERT_DRAFT, values).scalar_one(),
            values)


def _draft_values(draft: AnyDraft, answers: dict[str, Any], page: int, revision: int,
                  submitted_at: dt.datetime | None) -> dict[str, Any]:
    now = utcnow()
    return {"token": new_token(), "definition_version_id": draft.definition_version_id,
            "answers": answers, "page": page, "revision": revision, "created_at": now,
            "updated_at": now, "submitted_at": submitted_at, "citizen_id": draft.citizen_id}


def _stored(session: Session, draft: AnyDraft, draft_id: int, values: dict[str, Any]) -> None:
    """Make the object the row just inserted with ``values``."""
    draft.id = draft_id
    for name, value in values.items():
        setattr(draft, name, value)
    if is_entity(draft):
        make_transient_to_detached(draft)
        session.add(draft)


def draft_by_token(session: Session, token: str) -> Draft | None:
    return session.scalars(select(Draft).where(Draft.token == token)).first()


def save_answers(session: Session, draft: AnyDraft, answers: dict[str, Any], page: int,
                 based_on: int | None, *, submitted_at: dt.datetime | None = None) -> int:
    """Store answers if the draft is still at ``based_on`` (None: unconditionally).

    The compare-and-set is one UPDATE, so two workers cannot both win. ``submitted_at``:
    the answers are being sent in this transaction (a last page that sends), so the same
    UPDATE marks the draft submitted and :func:`submit` need not.
    :return: the new revision.
    """
    now = utcnow()
    values = {"_id": draft.id, "answers": answers, "page": page, "updated_at": now,
              "submitted_at": submitted_at}
    if based_on is None:
        revision = session.connection().execute(_SAVE_ANY, values).scalar_one_or_none()
    else:
        revision = session.connection().execute(_SAVE, {**values, "_based_on": based_on}
                                   ).scalar_one_or_none()
    if revision is None:
        raise StaleDraft
    # What was written is known: no re-select of the row (and its definition) needed.
    for name, value in (("answers", answers), ("page", page), ("revision", revision),
                        ("updated_at", now), ("submitted_at", submitted_at)):
        record(draft, name, value)
    return int(revision)


@dataclass(frozen=True)
class StoredSubmission:
    """What the sender of answers needs of the submission just stored (or found stored): its
    id for the workflow and the case that record it, the draft, and the receipt number."""

    id: int
    draft_id: int
    receipt: str


def submit(session: Session, draft: AnyDraft, answers: dict[str, Any],
           scores: dict[str, Any], **who: Any) -> StoredSubmission:
    """Store the submission once; a repeated submit returns the stored one.

    One ``INSERT … ON CONFLICT (draft_id) DO NOTHING RETURNING id``: of two concurrent
    submits exactly one inserts, and neither needs a savepoint or a prior SELECT. The
    submission is not loaded as an entity (views that show it read it by id).

    :param who: ``citizen_id``, ``answered_by_id`` and ``answered_by_kind`` of the submission.
    """
    assert draft.id is not None
    values = _submission_values(draft, answers, scores, who)
    connection = session.connection()
    new_id = connection.execute(_insert_submission(connection.dialect.name),
                                {"draft_id": draft.id, **values}).scalar()
    if new_id is None:
        stored = connection.execute(_STORED_OF_DRAFT, {"draft_id": draft.id}).one()
        return StoredSubmission(stored.id, draft.id, stored.receipt)
    if draft.submitted_at is None:  # (else the save that sent the answers marked it)
        now = values["created_at"]
        connection.execute(_MARK_SUBMITTED, {"_id": draft.id, "submitted_at": now,
                                             "updated_at": now})
        record(draft, "submitted_at", now)
    return StoredSubmission(int(new_id), draft.id, values["receipt"])


def store_and_submit(session: Session, draft: AnyDraft, answers: dict[str, Any],
                     scores: dict[str, Any], **who: Any) -> StoredSubmission:
    """Store an :func:`unsaved_draft` already sent, with the answers and page it holds, and
    its submission (``answers``, ``scores`` and ``who`` as for :func:`submit`): a form whose
    first save is its last (a one-page form without a review page, or one sent unanswered).

    The draft is new, so no other submit of it can exist and no conflict is possible. On
    PostgreSQL the two inserts are one statement (``WITH stored AS (INSERT INTO draft …
    RETURNING id) INSERT INTO submission … SELECT … FROM stored``), one round trip fewer on
    the commonest short survey; elsewhere they are the two prebuilt inserts.
    """
    assert draft.id is None
    values = _submission_values(draft, answers, scores, who)
    drafted = _draft_values(draft, draft.answers, draft.page, 1, values["created_at"])
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        row = connection.execute(_STORE_AND_SUBMIT, {
            **values, **{f"draft_{name}": value for name, value in drafted.items()}}).one()
        new_id, draft_id = row.id, row.draft_id
    else:
        draft_id = connection.execute(_INSERT_DRAFT, drafted).scalar_one()
        new_id = connection.execute(_insert_submission(connection.dialect.name),
                                    {"draft_id": draft_id, **values}).scalar_one()
    _stored(session, draft, draft_id, drafted)
    return StoredSubmission(int(new_id), int(draft_id), values["receipt"])


def _submission_values(draft: AnyDraft, answers: dict[str, Any], scores: dict[str, Any],
                       who: dict[str, Any]) -> dict[str, Any]:
    return {"definition_version_id": draft.definition_version_id, "answers": answers,
            "scores": scores, "created_at": utcnow(),
            "receipt": secrets.token_hex(4).upper() + "-" + secrets.token_hex(2).upper(),
            "answered_by_kind": "preview", "citizen_id": None, "answered_by_id": None, **who}


# The writes of every page post and every send, prebuilt once with parameters: no statement
# is constructed and no cache key computed per call.
_DRAFTS = cast(Table, Draft.__table__)
_SUBMISSIONS = cast(Table, Submission.__table__)
_INSERT_DRAFT = insert(_DRAFTS).returning(_DRAFTS.c.id)
_SAVE_ANY = (update(_DRAFTS)
             .where(_DRAFTS.c.id == bindparam("_id"), _DRAFTS.c.submitted_at.is_(None))
             .values(answers=bindparam("answers"), page=bindparam("page"),
                     revision=_DRAFTS.c.revision + 1, updated_at=bindparam("updated_at"),
                     submitted_at=bindparam("submitted_at"))
             .returning(_DRAFTS.c.revision))
_SAVE = _SAVE_ANY.where(_DRAFTS.c.revision == bindparam("_based_on"))
_MARK_SUBMITTED = (update(_DRAFTS).where(_DRAFTS.c.id == bindparam("_id"))
                   .values(submitted_at=bindparam("submitted_at"),
                           updated_at=bindparam("updated_at")))
_INSERT_SUBMISSION: dict[str, Any] = {}
_STORED_OF_DRAFT = select(_SUBMISSIONS.c.id, _SUBMISSIONS.c.receipt).where(
    _SUBMISSIONS.c.draft_id == bindparam("draft_id"))
_DRAFT_COLUMNS = ("token", "definition_version_id", "answers", "page", "revision",
                  "created_at", "updated_at", "submitted_at", "citizen_id")
_SUBMISSION_COLUMNS = ("definition_version_id", "answers", "scores", "receipt", "citizen_id",
                       "answered_by_id", "answered_by_kind", "created_at")
_STORED_DRAFT = (insert(_DRAFTS)
                 .values({name: bindparam(f"draft_{name}", type_=_DRAFTS.c[name].type)
                          for name in _DRAFT_COLUMNS})
                 .returning(_DRAFTS.c.id).cte("stored"))
#: PostgreSQL: a new draft and its submission in one statement (see store_and_submit).
_STORE_AND_SUBMIT = (
    insert(_SUBMISSIONS)
    .from_select(["draft_id", *_SUBMISSION_COLUMNS],
                 select(_STORED_DRAFT.c.id,
                        *(bindparam(name, type_=_SUBMISSIONS.c[name].type)
                          for name in _SUBMISSION_COLUMNS)))
    .returning(_SUBMISSIONS.c.id, _SUBMISSIONS.c.draft_id))


def _insert_submission(dialect: str) -> Any:
    """``INSERT … ON CONFLICT (draft_id) DO NOTHING RETURNING id`` in the dialect's syntax."""
    statement = _INSERT_SUBMISSION.get(dialect)
    if statement is None:
        statement = ((postgresql_insert if dialect == "postgresql" else sqlite_insert)(
            _SUBMISSIONS).on_conflict_do_nothing(index_elements=["draft_id"])
            .returning(_SUBMISSIONS.c.id))
        _INSERT_SUBMISSION[dialect] = statement
    return statement


def uploads_of(session: Session, draft: AnyDraft) -> list[Upload]:
    return list(session.scalars(select(Upload).where(Upload.draft_id == draft.id)))


def add_upload(session: Session, draft: AnyDraft, field: str, filename: str, content_type: str,
               data: bytes, sha256: str) -> Upload:
    upload = Upload(token=new_token(), draft_id=draft.id, field=field, filename=filename,
                    content_type=content_type, size=len(data), sha256=sha256, data=data)
    session.add(upload)
    session.flush()
    return upload
