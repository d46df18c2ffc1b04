"""Staff-entered measurements of a health check, tied to the citizen's survey assignment.

The health check is one visit: the citizen answers the survey (an :class:`Assignment` of a
send-out of the survey), and at the clinic staff measure weight, blood pressure and so on and
take blood samples. The measurements are stored beside the assignment — one record per
assignment — as an answer document bound to the exact version of the measurement definition
it was entered against, so a later version of that definition never changes what was measured.

Two nurses may have the same record open. ``revision`` grows on every save and a save names
the revision it was based on; the compare-and-set refuses a save from a stale page rather than
overwriting newer values (nothing is lost: the refused page keeps what was typed).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship
from sqlalchemy.orm.attributes import set_committed_value

from .base import Base, utcnow
from .models import DefinitionVersion


class HealthMeasurement(Base):
    """The measurements and lab values of one health check (one survey assignment)."""

    __tablename__ = "health_measurement"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The visit: the citizen's assignment of the survey. Unique: one record per visit.
    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("assignment.id", ondelete="CASCADE"), unique=True)
    #: Whose values they are (the assignment's citizen), for look-ups and exports.
    citizen_id: Mapped[int] = mapped_column(ForeignKey("citizen.id"), index=True)
    #: The exact measurement definition version the answers were validated against.
    definition_version_id: Mapped[int] = mapped_column(ForeignKey("definition_version.id"))
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    revision: Mapped[int] = mapped_column(default=1)
    entered_by_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"))
    updated_by_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    definition_version: Mapped[DefinitionVersion] = relationship()


class StaleMeasurement(Exception):
    """The record was saved by someone else since the page was loaded."""


def measurement_of(session: Session, assignment_id: int) -> HealthMeasurement | None:
    return session.scalars(select(HealthMeasurement).where(
        HealthMeasurement.assignment_id == assignment_id)).first()


def save_measurement(session: Session, *, assignment_id: int, citizen_id: int,
                     version: DefinitionVersion, answers: dict[str, Any], staff_user_id: int,
                     based_on: int) -> HealthMeasurement:
    """Store the measurements of a visit if nobody saved them since revision ``based_on``.

    ``based_on`` 0 means "there was no record": the insert is ``INSERT … ON CONFLICT DO
    NOTHING``, so of two nurses entering the first values at once exactly one wins. Later
    saves are one compare-and-set UPDATE on the revision. Neither needs a savepoint.

    :raises StaleMeasurement: another save came first; nothing was written.
    """
    now = utcnow()
    if based_on == 0:
        values = {"assignment_id": assignment_id, "citizen_id": citizen_id,
                  "definition_version_id": version.id, "answers": answers, "revision": 1,
                  "entered_by_id": staff_user_id, "updated_by_id": staff_user_id,
                  "created_at": now, "updated_at": now}
        dialect = session.get_bind().dialect.name
        statement = (postgresql_insert if dialect == "postgresql" else sqlite_insert)(
            HealthMeasurement)
        new_id = session.execute(
            statement.values(**values).on_conflict_do_nothing(index_elements=["assignment_id"])
            .returning(HealthMeasurement.id)).scalar_one_or_none()
        if new_id is None:
            raise StaleMeasurement
        found = session.get(HealthMeasurement, new_id)
        assert found is not None
        return found
    record = measurement_of(session, assignment_id)
    if record is None:
        raise StaleMeasurement
    revision = session.execute(
        update(HealthMeasurement)
        .where(HealthMeasurement.id == record.id, HealthMeasurement.revision == based_on)
        .values(answers=answers, revision=HealthMeasurement.revision + 1,
                definition_version_id=version.id, updated_by_id=staff_user_id,
                updated_at=now)
        .returning(HealthMeasurement.revision)
        .execution_options(synchronize_session=False)).scalar_one_or_none()
    if revision is None:
        raise StaleMeasurement
    for name, value in (("answers", answers), ("revision", revision),
                        ("definition_version_id", version.id), ("updated_by_id", staff_user_id),
                        ("updated_at", now)):
        set_committed_value(record, name, value)
    set_committed_value(record, "definition_version", version)
    return record
