"""Design drafts: loading one for the current designer and saving it safely.

Saving is a compare-and-set on the draft's revision in *one* UPDATE statement
(``… WHERE id = ? AND revision = expected``): of two designers (or two workers) saving the same
revision, exactly one wins; the other gets :class:`DraftConflict` with who saved and when, so
the page can say so and offer to reload without losing what was typed. Every save writes an
event-log row in the same transaction.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from typing import Any

from flask import abort
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from formular.audit.service import log_event
from formular.auth.permissions import Actor, Permission
from formular.storage.base import utcnow
from formular.storage.design import DesignDraft
from formular.storage.identity import StaffUser

#: The definition id column's width (``definition_version.definition_id``).
MAX_DEFINITION_ID = 64


class DraftConflict(Exception):
    """The draft was saved by someone else since the page was loaded."""

    def __init__(self, current_revision: int, updated_by: str, updated_at: dt.datetime) -> None:
        self.current_revision = current_revision
        self.updated_by = updated_by
        self.updated_at = updated_at
        super().__init__(f"draft is at revision {current_revision} (saved by {updated_by})")


class DefinitionIdTaken(Exception):
    """The document's new ``id`` is already the id of another draft of the same unit."""

    def __init__(self, definition_id: str) -> None:
        self.definition_id = definition_id
        super().__init__(f"another draft of this unit already has the id {definition_id!r}")


def get_draft_for(session: Session, actor: Actor, draft_id: int,
                  permission: Permission = Permission.DEFINITION_EDIT) -> DesignDraft:
    """The draft, if the actor holds ``permission`` in the draft's unit; else 404 (a 403
    would tell a designer of another unit that the draft exists)."""
    draft = session.get(DesignDraft, draft_id)
    if draft is None or not actor.can(permission, draft.unit_id):
        abort(404)
    return draft


def column_id(document: Any, fallback: str) -> str:
    """The value for the draft's ``definition_id`` column: the document's id when it is a
    usable one, else the previous value (the validation panel reports a bad id)."""
    value = document.get("id") if isinstance(document, dict) else None
    if isinstance(value, str) and len(value) <= MAX_DEFINITION_ID and valid_slug(value):
        return value
    return fallback


def display_name(session: Session, staff_user_id: int | None) -> str:
    user = session.get(StaffUser, staff_user_id) if staff_user_id is not None else None
    return user.display_name if user is not None else ""


def event_name(action: str) -> str:
    name = action if action.startswith("design.") else f"design.{action}"
    return name[:60]


def save_document(session: Session, draft: DesignDraft, document: Any, *, expected_revision: int,
                  staff_user_id: int, action: str,
                  data: dict[str, Any] | None = None) -> DesignDraft:
    """Store ``document`` as the draft's new content if the draft is still at
    ``expected_revision``; the revision then grows by one.

    :param action: what the save did, for the event log (``op.add_item``, ``raw``, …); the
        event is ``design.<action>``.
    :param data: extra event data (never the document itself: it can be large).
    :raises DraftConflict: another save came first; nothing was written.
    :raises DefinitionIdTaken: the document's id is another draft's of the same unit.
    """
    stored = copy.deepcopy(document)
    definition_id = column_id(stored, draft.definition_id)
    if definition_id != draft.definition_id and session.scalar(
            select(DesignDraft.id).where(DesignDraft.unit_id == draft.unit_id,
                                         DesignDraft.definition_id == definition_id,
                                         DesignDraft.id != draft.id)) is not None:
        raise DefinitionIdTaken(definition_id)
    now = utcnow()
    revision = session.execute(
        update(DesignDraft)
        .where(DesignDraft.id == draft.id, DesignDraft.revision == expected_revision)
        .values(document=stored, definition_id=definition_id, revision=DesignDraft.revision + 1,
                updated_by_id=staff_user_id, updated_at=now)
        .returning(DesignDraft.revision)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    if revision is None:
        raise _conflict(session, draft.id)
    for name, value in (("document", stored), ("definition_id", definition_id),
                        ("revision", int(revision)), ("updated_by_id", staff_user_id),
                        ("updated_at", now)):
        set_committed_value(draft, name, value)
    log_event(session, actor_kind="staff", actor_id=staff_user_id, event=event_name(action),
              unit_id=draft.unit_id, object_type="design_draft", object_id=draft.id,
              data={"revision": int(revision), **(data or {})})
    session.flush()
    return draft


def _conflict(session: Session, draft_id: int) -> DraftConflict:
    row = session.execute(
        select(DesignDraft.revision, DesignDraft.updated_by_id, DesignDraft.updated_at)
        .where(DesignDraft.id == draft_id)
        .execution_options(populate_existing=True)
    ).one_or_none()
    if row is None:
        abort(404)  # deleted by someone else meanwhile
    return DraftConflict(int(row.revision), display_name(session, row.updated_by_id),
                         row.updated_at)


def create_draft(session: Session, *, unit_id: int, document: dict[str, Any], origin: str,
                 staff_user_id: int, based_on_version_id: int | None = None,
                 data: dict[str, Any] | None = None) -> DesignDraft:
    """A new draft at revision 1 (the caller has checked that its id is free at the unit)."""
    now = utcnow()
    draft = DesignDraft(unit_id=unit_id, definition_id=column_id(document, "untitled"),
                        document=copy.deepcopy(document), revision=1,
                        created_by_id=staff_user_id, updated_by_id=staff_user_id,
                        created_at=now, updated_at=now, origin=origin,
                        based_on_version_id=based_on_version_id)
    session.add(draft)
    session.flush()
    log_event(session, actor_kind="staff", actor_id=staff_user_id, event="design.draft.created",
              unit_id=unit_id, object_type="design_draft", object_id=draft.id,
              data={"origin": origin, "definition_id": draft.definition_id, **(data or {})})
    session.flush()
    return draft


def draft_id_taken(session: Session, unit_id: int, definition_id: str) -> bool:
    return session.scalar(select(DesignDraft.id).where(
        DesignDraft.unit_id == unit_id, DesignDraft.definition_id == definition_id)) is not None


def drafts_of(session: Session, unit_ids: list[int]) -> list[DesignDraft]:
    return list(session.scalars(
        select(DesignDraft).where(DesignDraft.unit_id.in_(unit_ids))
        .order_by(DesignDraft.unit_id, DesignDraft.definition_id)))


_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")


def valid_slug(value: str) -> bool:
    """The meta-schema's ``slug``: what a definition id may look like."""
    return bool(_SLUG.match(value))
