"""Who is who: units (region → clinic), staff and their roles per unit, citizens and guardians.

Citizens are identified by personnummer or samordningsnummer (stored canonically, 12 digits);
birth date, age and sex are derived from it, never stored separately, so they cannot disagree.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from formular.definitions.personnummer import IdentityNumber

from .base import Base, utcnow


class Role(enum.StrEnum):
    """Roles a staff member holds in one unit. Later issues add case-handler, therapist,
    translator and lab."""

    DESIGNER = "designer"
    SENDER = "sender"
    REVIEWER = "reviewer"
    ADMIN = "admin"
    AUDITOR = "auditor"
    TRANSLATOR = "translator"
    #: Case types (issue #6): the receiver assigns incoming cases, handlers answer them.
    CASE_RECEIVER = "case-receiver"
    CASE_HANDLER = "case-handler"


class Unit(Base):
    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    #: "region" or "clinic"; a clinic's parent is its region.
    kind: Mapped[str] = mapped_column(String(20), default="clinic")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    parent: Mapped[Unit | None] = relationship(remote_side=[id])


class StaffUser(Base):
    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))
    #: Argon2id hash for local accounts; None for accounts that log in only through OIDC.
    password_hash: Mapped[str | None] = mapped_column(String(200))
    oidc_subject: Mapped[str | None] = mapped_column(String(200), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    roles: Mapped[list[RoleAssignment]] = relationship(back_populates="user", lazy="selectin")


class RoleAssignment(Base):
    __tablename__ = "role_assignment"
    __table_args__ = (UniqueConstraint("user_id", "unit_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=30,
                                            values_callable=lambda e: [m.value for m in e]))

    user: Mapped[StaffUser] = relationship(back_populates="roles")
    unit: Mapped[Unit] = relationship(lazy="joined")


class Identified:
    """What follows from a person's identity number: birth date, sex and age on a day. Shared
    by the citizen entity and the plain citizen row of the form path, which say how they get
    their :attr:`identity`."""

    @property
    def identity(self) -> IdentityNumber:
        raise NotImplementedError

    @property
    def birth_date(self) -> dt.date:
        return self.identity.birth_date

    @property
    def sex(self) -> str:
        return self.identity.sex

    def age_on(self, day: dt.date) -> int:
        return self.identity.age_on(day)


class Citizen(Identified, Base):
    __tablename__ = "citizen"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Canonical 12-digit personnummer or samordningsnummer.
    personnummer: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    #: Skyddad identitet: address and name never shown beyond what care needs.
    protected_identity: Mapped[bool] = mapped_column(default=False)
    deceased: Mapped[bool] = mapped_column(default=False)
    #: An account locked by the citizen or support: no log-in, no send-outs.
    locked: Mapped[bool] = mapped_column(default=False)
    #: County code (län, two digits) of residence, for eligibility rules.
    county: Mapped[str | None] = mapped_column(String(2))
    #: The unit the citizen is listed at (primary care), for cohort send-outs.
    listed_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    @property
    def identity(self) -> IdentityNumber:
        return IdentityNumber.parse(self.personnummer)


class Guardianship(Base):
    """A guardian (vårdnadshavare) of a child; guardians act for children under 13."""

    __tablename__ = "guardianship"
    __table_args__ = (UniqueConstraint("guardian_id", "child_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    guardian_id: Mapped[int] = mapped_column(ForeignKey("citizen.id"), index=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("citizen.id"), index=True)

    guardian: Mapped[Citizen] = relationship(foreign_keys=[guardian_id])
    child: Mapped[Citizen] = relationship(foreign_keys=[child_id])
