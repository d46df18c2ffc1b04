"""Citizens at log-in: who may log in, who a guardian may act for.

The rules are the 1177 ones (security brief §5.4): citizens log in themselves from 16; a
guardian (vårdnadshavare) acts for a child only until the child turns 13 — the 13–15 gap is
deliberate, it protects teenagers from controlling guardians. Children with protected identity
are never shown to guardians. Ages are computed from the personnummer on the Swedish calendar
day, on every request, so a 13th birthday ends the agency at midnight without any job.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from formular.definitions.personnummer import IdentityNumber
from formular.storage.identity import Citizen, Guardianship

#: Citizens log in themselves from this age.
#: Children answer forms sent to them with their own log-in from 13 (the send-out rules);
#: younger children's guardians act for them. (Reading the journal itself starts at 16, which
#: is not a Formulär service.)
LOGIN_MIN_AGE = 13
#: Guardians act for a child younger than this.
GUARDIAN_AGENCY_MAX_AGE = 13

#: Why a citizen may not log in.
Refusal = Literal["too_young", "locked", "deceased"]


def login_refusal(identity: IdentityNumber, citizen: Citizen | None,
                  today: dt.date) -> Refusal | None:
    """Why this person may not log in today, or None when they may."""
    if identity.age_on(today) < LOGIN_MIN_AGE:
        return "too_young"
    if citizen is not None and citizen.deceased:
        return "deceased"
    if citizen is not None and citizen.locked:
        return "locked"
    return None


def by_identity(db_session: Session, identity: IdentityNumber) -> Citizen | None:
    return db_session.scalars(
        select(Citizen).where(Citizen.personnummer == identity.canonical)).first()


def find_or_create(db_session: Session, identity: IdentityNumber, name: str) -> Citizen:
    """The citizen with this identity number, created on first log-in.

    The identity provider's name replaces an empty stored one but never overwrites a name
    staff have entered (the population register is the authority, not the log-in).
    """
    citizen = by_identity(db_session, identity)
    if citizen is None:
        citizen = Citizen(personnummer=identity.canonical, name=name.strip()[:200])
        db_session.add(citizen)
        db_session.flush()
    elif not citizen.name and name.strip():
        citizen.name = name.strip()[:200]
    return citizen


def may_act_for(child: Citizen, today: dt.date) -> bool:
    """Whether a guardian may act for ``child`` today (guardianship itself checked apart)."""
    return (child.age_on(today) < GUARDIAN_AGENCY_MAX_AGE and not child.protected_identity
            and not child.deceased)


def children_in_agency(db_session: Session, guardian_id: int, today: dt.date) -> list[Citizen]:
    """The children a guardian may act for today, by name."""
    children = db_session.scalars(
        select(Citizen).join(Guardianship, Guardianship.child_id == Citizen.id)
        .where(Guardianship.guardian_id == guardian_id).order_by(Citizen.name)).all()
    return [child for child in children if may_act_for(child, today)]


def agency_child(db_session: Session, guardian_id: int, child_id: int,
                 today: dt.date) -> Citizen | None:
    """The child if the guardian may act for them today, else None (no relation, 13 or older,
    protected identity). Called on every request of an acting session, so custody changes and
    birthdays take effect at once (ASVS 8.3.2)."""
    child = db_session.scalars(
        select(Citizen).join(Guardianship, Guardianship.child_id == Citizen.id)
        .where(Guardianship.guardian_id == guardian_id, Citizen.id == child_id)).first()
    if child is None or not may_act_for(child, today):
        return None
    return child
