"""Writing the access and event logs.

``log_access`` adds its row to the *same* session as the read it records and flushes it at
once: if the row cannot be written the flush raises, the request fails and nothing is shown
(fail closed). Callers log before they render the data.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from formular.auth.permissions import Actor
from formular.storage.audit import AccessLog, EventLog
from formular.storage.base import utcnow


class AccessLogUnavailable(Exception):
    """The access log could not be written, so the read is refused."""


def log_access(session: Session, actor: Actor, *, unit_id: int, citizen_ids: Iterable[int],
               action: str, object_type: str | None = None, object_id: int | None = None,
               reason: str | None = None) -> None:
    """Record that a staff member read data about each of ``citizen_ids`` (a list page that
    shows many citizens writes one row per citizen)."""
    if not actor.is_staff or actor.staff_user_id is None:
        raise AccessLogUnavailable("only staff reads are access-logged")
    now = utcnow()
    rows = [
        {"at": now, "staff_user_id": actor.staff_user_id, "unit_id": unit_id,
         "citizen_id": citizen_id, "action": action, "object_type": object_type,
         "object_id": object_id, "reason": reason}
        for citizen_id in sorted(set(citizen_ids))
    ]
    if not rows:
        return
    try:
        session.execute(insert(AccessLog), rows)
        session.flush()
    except Exception as error:  # noqa: BLE001  (any failure must refuse the read)
        raise AccessLogUnavailable(str(type(error).__name__)) from None


def log_event(session: Session, *, actor_kind: str, actor_id: int | None, event: str,
              unit_id: int | None = None, object_type: str | None = None,
              object_id: int | None = None, data: dict[str, Any] | None = None) -> None:
    session.add(EventLog(actor_kind=actor_kind, actor_id=actor_id, unit_id=unit_id,
                         event=event, object_type=object_type, object_id=object_id,
                         data=data or {}))
