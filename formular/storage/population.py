"""The listed population (listning): imports of a clinic's list, and cohort invitations.

Who is listed where is one column on the citizen (``Citizen.listed_unit_id``); this module
keeps the *record* of how it got there. An import is first checked and shown to the person
who uploaded it (status ``preview``: the parsed rows wait in ``staged``), and only their
confirmation applies it (status ``applied``), once: the confirmation flips the status with a
conditional UPDATE, so a double click, a reload or a second tab cannot apply it twice. After
applying (or after a preview went stale) the staged rows — names and personal identity numbers
— are dropped; what stays is who, when, which units, the counts and the file's SHA-256.

A cohort invitation links a send-out to the cohort it was made for (listed at the unit, turning
``age`` in ``year``), so the invitation letters can say why the person is invited.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class PopulationImport(Base):
    __tablename__ = "population_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Who uploaded it (None: the command line).
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    applied_at: Mapped[dt.datetime | None]
    #: preview → applied; a preview not confirmed in time becomes expired.
    status: Mapped[str] = mapped_column(String(20), default="preview")
    filename: Mapped[str] = mapped_column(String(255))
    #: SHA-256 of the uploaded bytes: the confirmation must name it, and the record keeps it.
    digest: Mapped[str] = mapped_column(String(64), index=True)
    #: The listing units the file's rows name (only units the uploader may import for).
    unit_ids: Mapped[list[int]] = mapped_column(default=list)
    #: Totals and per-unit counts (no personal data), filled at preview and again at apply.
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: The parsed rows while the preview waits for confirmation; emptied afterwards.
    staged: Mapped[dict[str, Any]] = mapped_column(default=dict)


class CohortInvitation(Base):
    """The cohort a send-out was made for: everyone listed at the unit turning ``age`` in
    ``year`` (born in ``year - age``)."""

    __tablename__ = "cohort_invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    send_out_id: Mapped[int] = mapped_column(
        ForeignKey("send_out.id", ondelete="CASCADE"), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    year: Mapped[int]
    age: Mapped[int]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
