"""Tables of the core: stored definition versions, drafts, uploads and submissions.

A definition version is immutable once stored; drafts and submissions point at the exact
version they were filled against, so a new version never changes what was answered.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow


class DefinitionVersion(Base):
    __tablename__ = "definition_version"
    __table_args__ = (UniqueConstraint("definition_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int]
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(500))
    document: Mapped[dict[str, Any]]
    digest: Mapped[str] = mapped_column(String(64))
    #: The unit that owns the definition (None: shipped with Formulär, usable by every unit).
    owner_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    @property
    def cache_key(self) -> str:
        """Immutable rows make their id a safe cache key for the compiled definition."""
        return f"row:{self.id}:{self.digest}"


class Draft(Base):
    """Answers in progress. ``revision`` grows on every save so a stale tab is detected."""

    __tablename__ = "draft"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    definition_version_id: Mapped[int] = mapped_column(ForeignKey("definition_version.id"))
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    page: Mapped[int] = mapped_column(default=0)
    revision: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[dt.datetime | None]
    #: The citizen the answers are about (None in the preview).
    citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizen.id"), index=True)

    #: Loaded on access: usually already in the session (through the assignment's send-out),
    #: so a joined load would only decode the definition document a second time.
    definition_version: Mapped[DefinitionVersion] = relationship()


class Upload(Base):
    """A file attached to a draft; the answer holds only its token and metadata."""

    __tablename__ = "upload"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("draft.id", ondelete="CASCADE"), index=True)
    field: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    #: Deferred: listing a draft's files must not read every file's bytes.
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Submission(Base):
    """A submitted answer document. One per draft: the unique draft id makes a double submit
    (double click, retry, two tabs) store exactly one row."""

    __tablename__ = "submission"

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("draft.id"), unique=True)
    definition_version_id: Mapped[int] = mapped_column(ForeignKey("definition_version.id"))
    answers: Mapped[dict[str, Any]]
    scores: Mapped[dict[str, Any]] = mapped_column(default=dict)
    receipt: Mapped[str] = mapped_column(String(32), unique=True)
    #: The citizen the answers are about, and who gave them (the citizen or a guardian).
    citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizen.id"), index=True)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("citizen.id"))
    #: "citizen", "guardian", "staff" or "preview"
    answered_by_kind: Mapped[str] = mapped_column(String(20), default="preview")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    definition_version: Mapped[DefinitionVersion] = relationship(lazy="joined")
