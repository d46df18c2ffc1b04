"""A unit's saved message texts: the subject and body a sender can pick for a send-out's inbox
message instead of writing one (R-16). Kept by the unit's administrators.

A send-out copies the text it was made with, so editing or deleting a saved text never
changes a message already sent. Every change is written to the event log. No Flask here.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from formular.audit.service import log_event
from formular.storage.sendouts import SavedText

#: As the send-out form's subject and message fields.
MAX_TITLE = 200
MAX_BODY = 5000


def texts_of(session: Session, unit_id: int) -> list[SavedText]:
    return list(session.scalars(select(SavedText).where(SavedText.unit_id == unit_id)
                                .order_by(SavedText.title, SavedText.id)))


def text_of(session: Session, unit_id: int, text_id: int) -> SavedText | None:
    """The unit's text ``text_id``, or None (also for another unit's text)."""
    text = session.get(SavedText, text_id)
    return text if text is not None and text.unit_id == unit_id else None


def save_text(session: Session, *, unit_id: int, text: SavedText | None, title: str, body: str,
              staff_user_id: int | None) -> SavedText:
    """Create (``text`` None) or change one of the unit's texts."""
    title, body = title.strip(), body.strip()
    if not title or not body or len(title) > MAX_TITLE or len(body) > MAX_BODY:
        raise ValueError("a saved text needs a title and a body within their limits")
    created = text is None
    if text is None:
        text = SavedText(unit_id=unit_id, title=title, body=body)
        session.add(text)
    else:
        text.title, text.body = title, body
    session.flush()
    log_event(session, actor_kind="staff", actor_id=staff_user_id,
              event="saved-text.created" if created else "saved-text.changed",
              unit_id=unit_id, object_type="saved_text", object_id=text.id,
              data={"title": title})
    return text


def delete_text(session: Session, *, text: SavedText, staff_user_id: int | None) -> None:
    log_event(session, actor_kind="staff", actor_id=staff_user_id, event="saved-text.deleted",
              unit_id=text.unit_id, object_type="saved_text", object_id=text.id,
              data={"title": text.title})
    session.delete(text)
    session.flush()
