"""Unsent errands are not kept for ever: a citizen who begins an errand and leaves it holds
health information in a draft nobody at the clinic can see. The minute tick deletes the
drafts not changed for ``CASE_DRAFT_RETENTION_DAYS`` days (30 by default), with their files;
the citizen's list of errands says so.
"""

from __future__ import annotations

import datetime as dt
from typing import cast

from sqlalchemy import Table, delete, select
from sqlalchemy.orm import Session

from formular.storage.cases import CaseDraft
from formular.storage.models import Draft, Upload

#: How long an unsent errand is kept after its last change, unless configured.
DEFAULT_RETENTION_DAYS = 30


def purge_unsent_drafts(session: Session, now: dt.datetime, retention_days: int) -> int:
    """Delete the errands begun and not sent whose draft was last changed more than
    ``retention_days`` days before ``now``; returns how many. The caller commits."""
    cutoff = now - dt.timedelta(days=retention_days)
    stale = list(session.scalars(
        select(CaseDraft.draft_id).join(Draft, Draft.id == CaseDraft.draft_id)
        .where(Draft.submitted_at.is_(None), Draft.updated_at < cutoff)))
    # Explicit deletes in dependency order (the database cascades too, but a connection
    # without foreign-key enforcement must not leave files behind), in chunks that stay
    # under the drivers' limits on bound parameters.
    for start in range(0, len(stale), _CHUNK):
        chunk = stale[start:start + _CHUNK]
        session.execute(delete(_UPLOADS).where(_UPLOADS.c.draft_id.in_(chunk)))
        session.execute(delete(_CASE_DRAFTS).where(_CASE_DRAFTS.c.draft_id.in_(chunk)))
        session.execute(delete(_DRAFTS).where(_DRAFTS.c.id.in_(chunk),
                                              _DRAFTS.c.submitted_at.is_(None)))
    return len(stale)


_CHUNK = 500
_UPLOADS = cast(Table, Upload.__table__)
_CASE_DRAFTS = cast(Table, CaseDraft.__table__)
_DRAFTS = cast(Table, Draft.__table__)
