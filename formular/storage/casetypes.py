"""Which case types a unit offers, and how (issue #6, R-31, R-34, R-35).

A case type *is* a form definition (kind ``case-type``, workflow ``case``); these tables hold
only a unit's choices about it:

- ``UnitCaseType``: whether the unit offers it, attachments allowed, restricted (only citizens
  it was handed out to see it), and a local terms text. A terms override is allowed only for
  the unit's own (local) case types: central case types have locked terms texts (R-31).
- ``StandardReply``: the unit's ready answers ("standardsvar"), for one case type or all.
- ``CaseTypeGrant``: a restricted case type handed out to one citizen, until a date or
  indefinitely (``valid_until`` None); revoking keeps the row (who had it, when).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class UnitCaseType(Base):
    __tablename__ = "unit_case_type"
    __table_args__ = (UniqueConstraint("unit_id", "definition_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    definition_id: Mapped[str] = mapped_column(String(64))
    enabled: Mapped[bool] = mapped_column(default=False)
    #: A local terms text (Markdown), or None: the definition's own ``policy.terms``.
    terms_text: Mapped[str | None] = mapped_column(Text)
    attachments_enabled: Mapped[bool] = mapped_column(default=False)
    restricted: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))


class StandardReply(Base):
    __tablename__ = "standard_reply"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    #: The case type it is for; None: offered for every case type of the unit.
    definition_id: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CaseTypeGrant(Base):
    __tablename__ = "case_type_grant"
    __table_args__ = (
        Index("ix_case_type_grant_lookup", "unit_id", "definition_id", "citizen_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    definition_id: Mapped[str] = mapped_column(String(64))
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizen.id"), index=True)
    #: The last day the grant holds (inclusive); None: until revoked.
    valid_until: Mapped[dt.date | None] = mapped_column(Date)
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[dt.datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))

    def live_on(self, day: dt.date) -> bool:
        return self.revoked_at is None and (self.valid_until is None or day <= self.valid_until)
