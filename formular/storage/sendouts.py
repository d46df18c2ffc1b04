"""Send-outs and their per-recipient assignments, with a timestamped history of every change.

An assignment's ``state`` is owned by the workflow engine (``formular.workflow``); this module
only stores it. Each transition appends an :class:`AssignmentEvent`, so follow-up can show who
did what when, and counts by state are one GROUP BY away.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow
from .identity import Citizen, StaffUser, Unit
from .models import DefinitionVersion


class SavedText(Base):
    """A unit's saved inbox texts (and, later, standard replies)."""

    __tablename__ = "saved_text"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class SendOut(Base):
    __tablename__ = "send_out"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    definition_version_id: Mapped[int] = mapped_column(ForeignKey("definition_version.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"))
    #: The inbox message the recipients get (no health information in notifications).
    message_subject: Mapped[str] = mapped_column(String(200))
    message_body: Mapped[str] = mapped_column(Text)
    #: When the forms become visible and notifications go out (UTC).
    scheduled_at: Mapped[dt.datetime]
    deadline_at: Mapped[dt.datetime | None]
    expires_at: Mapped[dt.datetime | None]
    reminder_days_before: Mapped[list[int]] = mapped_column(default=list)
    notify_staff_on_answer: Mapped[bool] = mapped_column(default=False)
    #: draft → queued → sending → sent, or cancelled / failed.
    status: Mapped[str] = mapped_column(String(20), default="queued")
    #: Keys of the workflow timers already fired for this send-out ("reminder:-P3D", …); the
    #: send-out workflow's timers hang on the send-out's own times, so they fire per send-out.
    timers_fired: Mapped[list[str]] = mapped_column(default=list, server_default="[]")
    total: Mapped[int] = mapped_column(default=0)
    processed: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    unit: Mapped[Unit] = relationship(lazy="joined")
    definition_version: Mapped[DefinitionVersion] = relationship(lazy="joined")
    created_by: Mapped[StaffUser] = relationship()


class Assignment(Base):
    """One recipient's copy of a send-out: the unit of follow-up."""

    __tablename__ = "assignment"
    __table_args__ = (
        UniqueConstraint("send_out_id", "citizen_id"),
        Index("ix_assignment_send_out_state", "send_out_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    send_out_id: Mapped[int] = mapped_column(ForeignKey("send_out.id", ondelete="CASCADE"))
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizen.id"), index=True)
    #: Opaque id used in URLs, so assignment numbers cannot be guessed.
    token: Mapped[str] = mapped_column(String(64), unique=True)
    state: Mapped[str] = mapped_column(String(30), default="scheduled")
    state_changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    #: Whether guardians answer (the child was under 13 when the assignment was opened).
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("citizen.id"))
    reminders_sent: Mapped[int] = mapped_column(default=0)
    last_reminded_at: Mapped[dt.datetime | None]
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    handled_at: Mapped[dt.datetime | None]
    draft_id: Mapped[int | None] = mapped_column(ForeignKey("draft.id"))
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submission.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    send_out: Mapped[SendOut] = relationship(lazy="joined")
    citizen: Mapped[Citizen] = relationship(foreign_keys=[citizen_id], lazy="joined")


class AssignmentEvent(Base):
    """Append-only history of an assignment: every transition, reminder and note."""

    __tablename__ = "assignment_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("assignment.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    event: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str | None] = mapped_column(String(30))
    to_state: Mapped[str | None] = mapped_column(String(30))
    #: "staff", "citizen", "guardian" or "system"
    actor_kind: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None]
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class InboxMessage(Base):
    """A message in a citizen's inbox (a form to answer, a reminder, a reply)."""

    __tablename__ = "inbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizen.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignment.id"))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    visible_from: Mapped[dt.datetime] = mapped_column(default=utcnow)
    read_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    unit: Mapped[Unit] = relationship(lazy="joined")


class Notification(Base):
    """Outbox of e-mails: written in the same transaction as what caused them, sent by a job
    after commit, so a rolled-back request never mails anyone. Carries no health data."""

    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]


class Job(Base):
    """Progress of a background job (bulk send-out, large export) for the page and the CLI."""

    __tablename__ = "job"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="queued")
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]
