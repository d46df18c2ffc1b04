"""Server-side log-in sessions (revocable at logout) and log-in attempts (rate limiting).

The cookie holds only a random session id; its SHA-256 is stored, so a database leak does not
hand out live sessions. Attempts are rows rather than process memory, so the limit holds
across all workers and machines.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class LoginSession(Base):
    __tablename__ = "login_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: SHA-256 of the session id held in the cookie.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: "staff" or "citizen"
    kind: Mapped[str] = mapped_column(String(20))
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"), index=True)
    citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizen.id"), index=True)
    #: A guardian acting for a child under 13.
    acting_for_id: Mapped[int | None] = mapped_column(ForeignKey("citizen.id"))
    #: The identity provider's assurance level (citizens need 3: BankID and equivalents).
    assurance_level: Mapped[int] = mapped_column(default=0)
    #: "local", "oidc" or "demo"
    method: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[dt.datetime | None]


class LoginAttempt(Base):
    __tablename__ = "login_attempt"
    __table_args__ = (Index("ix_login_attempt_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: "user:<username>" or "ip:<address>"
    key: Mapped[str] = mapped_column(String(200))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    succeeded: Mapped[bool] = mapped_column(default=False)
