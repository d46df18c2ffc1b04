"""Tables of the form designer: drafts being edited, shared templates and subscriptions.

A design draft is the *editable* definition document of one unit (published versions live in
``definition_version`` and never change). ``revision`` grows on every save; a save names the
revision it was based on and is refused when another designer saved in between, so two people
editing the same draft never silently overwrite each other.

A shared template is a published definition its owner unit offers to other units
("Gemensamma mallar", R-06). A subscription makes the template's published versions usable at
the subscribing unit: ``follow`` units always get the newest version (R-07: subscribers follow
new versions); non-following subscriptions stay at the version that was current when they
subscribed (``pinned_version``). Taking a copy is not a subscription: it creates a draft of the
unit's own.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow

#: How a draft came to be.
ORIGINS = ("blank", "template", "copy", "import", "version")


class DesignDraft(Base):
    __tablename__ = "design_draft"
    __table_args__ = (
        # One open draft per definition id and unit: two drafts of "phq9" at one clinic would
        # race to publish the same next version number.
        Index("uq_design_draft_unit_definition", "unit_id", "definition_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    #: The definition's slug (the document's ``id``), kept in step with the document.
    definition_id: Mapped[str] = mapped_column(String(64))
    document: Mapped[dict[str, Any]]
    revision: Mapped[int] = mapped_column(default=1)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    #: "blank", "template", "copy", "import" or "version" (a new version of a published one)
    origin: Mapped[str] = mapped_column(String(20), default="blank")
    based_on_version_id: Mapped[int | None] = mapped_column(ForeignKey("definition_version.id"))


class SharedTemplate(Base):
    """A definition offered to other units. Withdrawn templates keep their row (who shared
    what, when) with ``withdrawn_at`` set; sharing again clears it. Versions are compared by
    number, not by time, so a version published in the same instant as a withdrawal cannot
    leak to the units that followed the template."""

    __tablename__ = "shared_template"
    __table_args__ = (UniqueConstraint("definition_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[str] = mapped_column(String(64))
    owner_unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    shared_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    shared_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    withdrawn_at: Mapped[dt.datetime | None]
    #: The newest version other units may still use after a withdrawal (set when withdrawn).
    last_shared_version: Mapped[int | None]


class TemplateSubscription(Base):
    __tablename__ = "template_subscription"
    __table_args__ = (UniqueConstraint("unit_id", "definition_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    definition_id: Mapped[str] = mapped_column(String(64), index=True)
    #: True: the newest published version is offered; False: ``pinned_version`` stays.
    follow: Mapped[bool] = mapped_column(default=True)
    pinned_version: Mapped[int | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
