"""Cases (ärenden): errands a citizen starts with a clinic through one of its case types.

A case is bound to the exact definition version the citizen filled in (like a submission) and
its ``state`` is owned by the case workflow (``formular/workflow/definitions/case.json``);
this module only stores it. Messages follow the national message types (partial reply,
question, the citizen's reply, answer, closing notice); every transition appends a
:class:`CaseEvent`, so the history is never rewritten.

Before it is sent, a case is only a :class:`CaseDraft`: the citizen accepted the terms and is
filling in the form. Keeping drafts out of the ``case`` table means the clinic's inbox never
sees (or has to filter out) errands nobody has sent yet.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow
from .identity import Citizen, StaffUser, Unit
from .models import DefinitionVersion

#: Message kinds, after the national code list (delsvar, fråga, svar, avslut) plus the answer.
MESSAGE_KINDS = ("partial_reply", "question", "citizen_reply", "answer", "closing")


class CaseDraft(Base):
    """A case being written: the terms were accepted and a form draft exists, nothing sent.

    ``token`` is the opaque id in the citizen's URLs; the form draft's own token is never
    shown, so a draft cannot be reached outside the case flow (with its ownership checks).
    """

    __tablename__ = "case_draft"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    definition_version_id: Mapped[int] = mapped_column(ForeignKey("definition_version.id"))
    #: Who the errand is about (a child, when a guardian writes for one) and who writes it.
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizen.id"), index=True)
    created_by_citizen_id: Mapped[int] = mapped_column(ForeignKey("citizen.id"))
    draft_id: Mapped[int] = mapped_column(ForeignKey("draft.id", ondelete="CASCADE"),
                                          unique=True)
    terms_accepted_at: Mapped[dt.datetime]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    unit: Mapped[Unit] = relationship(lazy="joined")
    definition_version: Mapped[DefinitionVersion] = relationship(lazy="joined")


class Case(Base):
    """A sent errand. The table is ``citizen_case``: ``case`` is an SQL keyword."""

    __tablename__ = "citizen_case"
    __table_args__ = (Index("ix_citizen_case_unit_state", "unit_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Opaque id used in URLs (citizen and staff), so case numbers cannot be guessed.
    token: Mapped[str] = mapped_column(String(64), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    #: Who the case is about, and who sent it (a guardian may write for a child under 13).
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizen.id"), index=True)
    created_by_citizen_id: Mapped[int] = mapped_column(ForeignKey("citizen.id"))
    definition_version_id: Mapped[int] = mapped_column(ForeignKey("definition_version.id"))
    draft_id: Mapped[int | None] = mapped_column(ForeignKey("draft.id"), unique=True)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submission.id"), unique=True)
    #: new → assigned → waiting-for-citizen → answered → closed (the case workflow).
    state: Mapped[str] = mapped_column(String(30), default="new")
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"), index=True)
    #: Raised by the workflow timer ``flag_unanswered``; cleared once the clinic has acted.
    overdue: Mapped[bool] = mapped_column(default=False)
    state_changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[dt.datetime | None]
    #: Keys of workflow timers already fired (like ``SendOut.timers_fired``); the keys of
    #: ``state_entered`` timers carry the state entry, so they re-arm on a new entry.
    timers_fired: Mapped[list[str]] = mapped_column(default=list, server_default="[]")

    unit: Mapped[Unit] = relationship(lazy="joined")
    citizen: Mapped[Citizen] = relationship(foreign_keys=[citizen_id], lazy="joined")
    definition_version: Mapped[DefinitionVersion] = relationship(lazy="joined")
    assigned_to: Mapped[StaffUser | None] = relationship(foreign_keys=[assigned_to_id])


class CaseMessage(Base):
    """One message in a case's thread; the first message is the submitted form itself."""

    __tablename__ = "case_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("citizen_case.id", ondelete="CASCADE"),
                                         index=True)
    #: One of :data:`MESSAGE_KINDS`.
    kind: Mapped[str] = mapped_column(String(20))
    author_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    author_citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizen.id"))
    body: Mapped[str] = mapped_column(Text)
    #: The staff reply form's answers (workflow setting ``reply_form``), if one was filled.
    reply_answers: Mapped[dict[str, Any] | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    read_by_citizen_at: Mapped[dt.datetime | None]

    author_staff: Mapped[StaffUser | None] = relationship(lazy="joined")


class CaseAttachment(Base):
    """A file sent with a case (``message_id`` None: with the citizen's first submission)."""

    __tablename__ = "case_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Opaque id in download URLs.
    token: Mapped[str] = mapped_column(String(64), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("citizen_case.id", ondelete="CASCADE"),
                                         index=True)
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("case_message.id", ondelete="CASCADE"), index=True)
    #: "citizen" or "staff": who sent the file.
    author_kind: Mapped[str] = mapped_column(String(20))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    #: Deferred: listing a case's files must not read every file's bytes.
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CaseEvent(Base):
    """Append-only history of a case: every transition (and who took it)."""

    __tablename__ = "case_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("citizen_case.id", ondelete="CASCADE"),
                                         index=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    event: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str | None] = mapped_column(String(30))
    to_state: Mapped[str | None] = mapped_column(String(30))
    #: "staff", "citizen", "guardian" or "system"
    actor_kind: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None]
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
