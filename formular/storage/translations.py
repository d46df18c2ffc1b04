"""Translations saved by translators in the catalog editor (``/translate``).

An edit overrides the shipped ``.po`` entry of the same key at run time (see
:mod:`formular.i18n.overlay`). The key of an interface (``messages``) entry is its context and
msgid; a form-content (``designs``) entry is keyed by its context alone (``"<design id>:<JSON
pointer>"``), and ``msgid`` holds the source text as it was when the translation was saved, so
a later change of the source shows the edit as stale.

:class:`CatalogVersion` is a one-row counter raised by every save: each worker compares it
(at most once a second) with the value its cached catalogs were built from, so an edit shows in
every process without a restart. An edit's ``revision`` is the counter value it was saved at,
which lets an import tell a newer edit from the one a PO file was exported with.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class TranslationEdit(Base):
    __tablename__ = "translation_edit"
    __table_args__ = (UniqueConstraint("domain", "locale", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: "messages" (the interface) or "designs" (form content).
    domain: Mapped[str] = mapped_column(String(40))
    locale: Mapped[str] = mapped_column(String(20))
    #: The entry's key, hashed to a fixed length (long texts are unfit for a unique index):
    #: see :func:`formular.i18n.overlay.entry_key`.
    key: Mapped[str] = mapped_column(String(64))
    #: The message context; "" for none (so the unique key also holds for entries without one).
    context: Mapped[str] = mapped_column(String(500), default="")
    msgid: Mapped[str] = mapped_column(Text)
    msgid_plural: Mapped[str | None] = mapped_column(Text)
    #: The translation: one string, or one per plural form.
    msgstr: Mapped[list[str]]
    #: The source text the translator translated (a changed source makes the edit stale).
    based_on_source: Mapped[str] = mapped_column(Text)
    #: Translator comments (``# …`` lines of a PO entry), kept for a lossless PO round trip.
    comments: Mapped[list[str]] = mapped_column(default=list)
    #: The catalog version this edit was saved at (see :class:`CatalogVersion`).
    revision: Mapped[int]
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))


class CatalogVersion(Base):
    """One row (id 1): raised by every saved translation; workers reload when it changes."""

    __tablename__ = "translation_catalog_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(default=0)
