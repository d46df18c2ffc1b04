"""Which case types a unit offers to which citizen, and the unit's settings for them.

A case type is a published form definition of kind ``case-type`` whose workflow is ``case``
(the staff reply forms are kind ``case-type`` too, but with workflow ``none``: they are never
offered to citizens). A unit may offer the shipped (central) case types and its own (local)
ones, plus those of templates it subscribes to; it offers one only when its administrator has
enabled it (``UnitCaseType``). The newest usable version is offered, so a case keeps the
version it was started with while new cases get the new one.

Central case types have locked terms texts (R-31): only a local case type can carry a terms
text of the unit's own. Restricted case types are seen only by citizens they were handed out to
(R-34). Every change writes an event-log row in the same transaction.

The functions here take a SQLAlchemy session and plain values, no Flask request, so citizen
pages, the staff inbox, the administration pages and the demo share them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from formular.audit.service import log_event
from formular.design.workspace import offered_versions
from formular.rendering.markdown import to_html
from formular.storage.base import utcnow
from formular.storage.casetypes import CaseTypeGrant, StandardReply, UnitCaseType
from formular.storage.identity import Citizen, Unit
from formular.storage.models import DefinitionVersion

__all__ = [
    "CASE_KIND", "MAX_REPLY_BODY", "MAX_REPLY_TITLE", "MAX_TERMS", "CaseTypeError",
    "CaseTypeSetting", "OfferedCaseType", "as_offered", "case_type_for", "clinics", "grant",
    "grants", "is_case_type", "localized_title", "offered_case_types", "reply_form_for",
    "revoke_grant", "save_setting", "save_standard_reply", "setting_of", "settings_for_unit",
    "standard_replies", "usable_case_types",
]

CASE_KIND = "case-type"
MAX_TERMS = 20_000
MAX_REPLY_TITLE = 200
MAX_REPLY_BODY = 10_000


class CaseTypeError(ValueError):
    """A change the rules refuse; the message is translated and shown to the administrator."""


@dataclass(frozen=True)
class OfferedCaseType:
    """A case type as a citizen (or the staff inbox) sees it at one unit."""

    definition_id: str
    version: DefinitionVersion
    title: str
    #: Markdown (the definition's ``description``), may be empty.
    description: str
    #: Markdown: the unit's local terms text, or the definition's ``policy.terms``.
    terms: str
    #: Central case types: the terms text is maintained centrally and cannot be changed.
    terms_locked: bool
    attachments_enabled: bool
    restricted: bool

    @property
    def local(self) -> bool:
        return not self.terms_locked

    @property
    def terms_html(self) -> str:
        """Sanitised HTML of the terms text (links allowed, no raw HTML)."""
        return to_html(self.terms) if self.terms else ""

    @property
    def description_html(self) -> str:
        return to_html(self.description) if self.description else ""

    @property
    def reply_form(self) -> str | None:
        """The id of the staff reply definition (workflow setting ``reply_form``)."""
        value = _mapping(self.version.document.get("workflow")).get("reply_form")
        return str(value) if value else None


@dataclass(frozen=True)
class CaseTypeSetting:
    """One usable case type and the unit's settings for it (the administration list)."""

    version: DefinitionVersion
    local: bool
    row: UnitCaseType | None

    @property
    def definition_id(self) -> str:
        return self.version.definition_id

    @property
    def enabled(self) -> bool:
        return self.row is not None and self.row.enabled

    @property
    def attachments_enabled(self) -> bool:
        return self.row is not None and self.row.attachments_enabled

    @property
    def restricted(self) -> bool:
        return self.row is not None and self.row.restricted

    @property
    def central_terms(self) -> str:
        return _terms_of(self.version.document)

    @property
    def terms(self) -> str:
        if self.local and self.row is not None and self.row.terms_text is not None:
            return self.row.terms_text
        return self.central_terms


# -- reading -------------------------------------------------------------------------------


def is_case_type(document: Mapping[str, Any]) -> bool:
    """A definition citizens can start as a case (not a staff reply form)."""
    return (document.get("kind") == CASE_KIND
            and _mapping(document.get("workflow")).get("type") == "case")


def usable_case_types(session: Session, unit_id: int) -> list[CaseTypeSetting]:
    """Every case type the unit may offer (newest usable version each), with its settings,
    ordered by title."""
    versions = [v for v in offered_versions(session, unit_id) if is_case_type(v.document)]
    rows = {row.definition_id: row for row in session.scalars(
        select(UnitCaseType).where(UnitCaseType.unit_id == unit_id))}
    return [CaseTypeSetting(v, v.owner_unit_id == unit_id, rows.get(v.definition_id))
            for v in versions]


def settings_for_unit(session: Session, unit_id: int) -> list[CaseTypeSetting]:
    """Alias of :func:`usable_case_types` for the administration pages."""
    return usable_case_types(session, unit_id)


def setting_of(session: Session, unit_id: int, definition_id: str) -> CaseTypeSetting | None:
    """The unit's setting of one usable case type; None when the unit cannot use it."""
    for setting in usable_case_types(session, unit_id):
        if setting.definition_id == definition_id:
            return setting
    return None


def offered_case_types(session: Session, unit_id: int, citizen_id: int | None,
                       today: dt.date, *, locale: str | None = None) -> list[OfferedCaseType]:
    """The case types the unit offers this citizen: enabled ones, restricted ones only with a
    live grant. With *locale*, titles, descriptions and central terms are translated when the
    definition is offered in that language (a local terms text stays as the unit wrote it)."""
    settings = [s for s in usable_case_types(session, unit_id) if s.enabled]
    granted = _granted_ids(session, unit_id, citizen_id, today) if any(
        s.restricted for s in settings) else set()
    return [as_offered(s, locale) for s in settings
            if not s.restricted or s.definition_id in granted]


def case_type_for(session: Session, unit_id: int, definition_id: str, citizen_id: int | None,
                  today: dt.date, *, locale: str | None = None) -> OfferedCaseType | None:
    """One offered case type, or None when the unit does not offer it to this citizen (the
    caller answers 404)."""
    setting = setting_of(session, unit_id, definition_id)
    if setting is None or not setting.enabled:
        return None
    if setting.restricted and definition_id not in _granted_ids(session, unit_id, citizen_id,
                                                                 today):
        return None
    return as_offered(setting, locale)


def standard_replies(session: Session, unit_id: int, definition_id: str | None,
                     *, include_inactive: bool = False) -> list[StandardReply]:
    """The unit's standard replies for a case type: those made for it and those for every case
    type (``definition_id`` None), active ones only unless asked, ordered by title. With
    ``definition_id`` None: every reply of the unit (the administration list)."""
    query = select(StandardReply).where(StandardReply.unit_id == unit_id)
    if definition_id is not None:
        query = query.where((StandardReply.definition_id == definition_id)
                            | StandardReply.definition_id.is_(None))
    if not include_inactive:
        query = query.where(StandardReply.active.is_(True))
    return sorted(session.scalars(query), key=lambda r: (r.title.casefold(), r.id))


def clinics(session: Session, query: str) -> list[Unit]:
    """Clinics that offer at least one case type, whose name contains *query* (any case; the
    comparison is done in Python, since SQLite folds only ASCII and clinic names have å, ä, ö).
    An empty query lists them all."""
    units = session.scalars(
        select(Unit).where(Unit.kind == "clinic", Unit.id.in_(
            select(UnitCaseType.unit_id).where(UnitCaseType.enabled.is_(True))))
        .order_by(Unit.name)).all()
    needle = " ".join(query.split()).casefold()
    found = [u for u in units if needle in u.name.casefold()]
    return [u for u in found if any(s.enabled for s in usable_case_types(session, u.id))]


def reply_form_for(session: Session, unit_id: int,
                   version: DefinitionVersion) -> DefinitionVersion | None:
    """The newest usable version of the case type's staff reply definition, if it has one."""
    reply_id = _mapping(version.document.get("workflow")).get("reply_form")
    if not reply_id:
        return None
    for candidate in offered_versions(session, unit_id):
        if candidate.definition_id == reply_id:
            return candidate
    return None


def grants(session: Session, unit_id: int, *, include_ended: bool = False,
           today: dt.date | None = None) -> list[CaseTypeGrant]:
    """The unit's hand-outs, newest first; live ones only unless asked."""
    rows = session.scalars(select(CaseTypeGrant).where(CaseTypeGrant.unit_id == unit_id)
                           .order_by(CaseTypeGrant.created_at.desc(),
                                     CaseTypeGrant.id.desc())).all()
    if include_ended:
        return list(rows)
    day = today or dt.date.today()
    return [row for row in rows if row.live_on(day)]


# -- changing ------------------------------------------------------------------------------


def save_setting(session: Session, *, unit_id: int, definition_id: str, enabled: bool,
                 attachments_enabled: bool, restricted: bool, terms_text: str | None,
                 staff_user_id: int | None) -> UnitCaseType:
    """Store the unit's settings for a usable case type.

    ``terms_text``: None or blank means "the definition's own terms"; a text is refused for a
    central case type (its terms are locked).

    :raises CaseTypeError: the case type is not usable by the unit, or the terms are locked.
    """
    setting = setting_of(session, unit_id, definition_id)
    if setting is None:
        raise CaseTypeError(_("This case type is not available to the unit."))
    terms = _clean_text(terms_text)
    if terms is not None and not setting.local:
        if terms != setting.central_terms.strip():
            raise CaseTypeError(_("The terms text of a central case type is locked."))
        terms = None
    if terms is not None and len(terms) > MAX_TERMS:
        raise CaseTypeError(_("The terms text is too long (at most %(count)d characters).",
                               count=MAX_TERMS))
    row = setting.row
    before = _setting_data(row)
    if row is None:
        row = UnitCaseType(unit_id=unit_id, definition_id=definition_id)
        session.add(row)
    row.enabled = enabled
    row.attachments_enabled = attachments_enabled
    row.restricted = restricted
    row.terms_text = terms if setting.local else None
    row.updated_at = utcnow()
    row.updated_by_id = staff_user_id
    session.flush()
    after = _setting_data(row)
    if before != after:
        log_event(session, actor_kind="staff", actor_id=staff_user_id,
                  event="casetype.settings.changed", unit_id=unit_id,
                  object_type="unit_case_type", object_id=row.id,
                  data={"definition_id": definition_id, "before": before, "after": after})
        session.flush()
    return row


def save_standard_reply(session: Session, *, unit_id: int, reply_id: int | None,
                        definition_id: str | None, title: str, body: str, active: bool,
                        staff_user_id: int | None) -> StandardReply:
    """Create (``reply_id`` None) or change one of the unit's standard replies.

    :raises CaseTypeError: empty or too long texts, a case type the unit cannot use, or a
        reply of another unit (reported as not found).
    """
    clean_title = " ".join(title.split())
    clean_body = body.replace("\r\n", "\n").strip()
    if not clean_title or not clean_body:
        raise CaseTypeError(_("A standard reply needs a title and a text."))
    if len(clean_title) > MAX_REPLY_TITLE or len(clean_body) > MAX_REPLY_BODY:
        raise CaseTypeError(_("The standard reply is too long (title at most %(title)d, text "
                               "at most %(body)d characters).", title=MAX_REPLY_TITLE,
                               body=MAX_REPLY_BODY))
    if definition_id is not None and setting_of(session, unit_id, definition_id) is None:
        raise CaseTypeError(_("This case type is not available to the unit."))
    if reply_id is None:
        reply = StandardReply(unit_id=unit_id, created_by_id=staff_user_id)
        session.add(reply)
        event = "casetype.reply.created"
    else:
        found = session.get(StandardReply, reply_id)
        if found is None or found.unit_id != unit_id:
            raise CaseTypeError(_("No such standard reply."))
        reply = found
        event = "casetype.reply.changed"
    reply.definition_id = definition_id
    reply.title = clean_title
    reply.body = clean_body
    reply.active = active
    reply.updated_at = utcnow()
    session.flush()
    log_event(session, actor_kind="staff", actor_id=staff_user_id, event=event,
              unit_id=unit_id, object_type="standard_reply", object_id=reply.id,
              data={"definition_id": definition_id, "title": clean_title, "active": active})
    session.flush()
    return reply


def grant(session: Session, *, unit_id: int, definition_id: str, citizen: Citizen,
          valid_until: dt.date | None, today: dt.date,
          staff_user_id: int | None) -> CaseTypeGrant:
    """Hand a restricted case type out to one citizen, until *valid_until* (inclusive) or
    until revoked. A live grant for the same citizen and case type is replaced (revoked and
    a new one made), so the history shows every change.

    :raises CaseTypeError: the case type is not usable by the unit or not restricted, or the
        date has passed.
    """
    setting = setting_of(session, unit_id, definition_id)
    if setting is None:
        raise CaseTypeError(_("This case type is not available to the unit."))
    if not setting.restricted:
        raise CaseTypeError(_("Only a restricted case type can be handed out; mark it as "
                               "restricted first."))
    if valid_until is not None and valid_until < today:
        raise CaseTypeError(_("The last day cannot be in the past."))
    now = utcnow()
    for old in session.scalars(select(CaseTypeGrant).where(
            CaseTypeGrant.unit_id == unit_id, CaseTypeGrant.definition_id == definition_id,
            CaseTypeGrant.citizen_id == citizen.id, CaseTypeGrant.revoked_at.is_(None))):
        old.revoked_at = now
        old.revoked_by_id = staff_user_id
    row = CaseTypeGrant(unit_id=unit_id, definition_id=definition_id, citizen_id=citizen.id,
                        valid_until=valid_until, granted_by_id=staff_user_id, created_at=now)
    session.add(row)
    session.flush()
    log_event(session, actor_kind="staff", actor_id=staff_user_id, event="casetype.granted",
              unit_id=unit_id, object_type="case_type_grant", object_id=row.id,
              data={"definition_id": definition_id, "citizen_id": citizen.id,
                    "valid_until": valid_until.isoformat() if valid_until else None})
    session.flush()
    return row


def revoke_grant(session: Session, *, unit_id: int, grant_id: int,
                 staff_user_id: int | None) -> CaseTypeGrant:
    """:raises CaseTypeError: no such live grant at the unit."""
    row = session.get(CaseTypeGrant, grant_id)
    if row is None or row.unit_id != unit_id or row.revoked_at is not None:
        raise CaseTypeError(_("No such hand-out (it may have been revoked already)."))
    row.revoked_at = utcnow()
    row.revoked_by_id = staff_user_id
    session.flush()
    log_event(session, actor_kind="staff", actor_id=staff_user_id, event="casetype.revoked",
              unit_id=unit_id, object_type="case_type_grant", object_id=row.id,
              data={"definition_id": row.definition_id, "citizen_id": row.citizen_id})
    session.flush()
    return row


# -- helpers -------------------------------------------------------------------------------


def _granted_ids(session: Session, unit_id: int, citizen_id: int | None,
                 today: dt.date) -> set[str]:
    if citizen_id is None:
        return set()
    rows = session.scalars(select(CaseTypeGrant).where(
        CaseTypeGrant.unit_id == unit_id, CaseTypeGrant.citizen_id == citizen_id,
        CaseTypeGrant.revoked_at.is_(None)))
    return {row.definition_id for row in rows if row.live_on(today)}


def as_offered(setting: CaseTypeSetting, locale: str | None) -> OfferedCaseType:
    """The case type as citizens of the unit see it (whether or not it is enabled)."""
    document = _localized(setting.version, locale)
    own_terms = (setting.row.terms_text if setting.local and setting.row is not None
                 else None)
    return OfferedCaseType(
        definition_id=setting.definition_id, version=setting.version,
        title=str(document.get("title") or setting.version.title),
        description=str(document.get("description") or ""),
        terms=own_terms if own_terms is not None else _terms_of(document),
        terms_locked=not setting.local, attachments_enabled=setting.attachments_enabled,
        restricted=setting.restricted)


def localized_title(version: DefinitionVersion, locale: str | None) -> str:
    """The definition's title in *locale* when it is offered in that language."""
    return str(_localized(version, locale).get("title") or version.title)


def _localized(version: DefinitionVersion, locale: str | None) -> Mapping[str, Any]:
    document = version.document
    if locale is None or locale == document.get("language"):
        return document
    from formular.i18n.service import offered_for, translate_document

    if locale not in offered_for(version):
        return document
    return translate_document(document, locale).document


def _terms_of(document: Mapping[str, Any]) -> str:
    return str(_mapping(document.get("policy")).get("terms") or "")


def _setting_data(row: UnitCaseType | None) -> dict[str, Any]:
    if row is None:
        return {"enabled": False, "attachments_enabled": False, "restricted": False,
                "terms_text": None}
    return {"enabled": row.enabled, "attachments_enabled": row.attachments_enabled,
            "restricted": row.restricted, "terms_text": row.terms_text}


def _clean_text(text: str | None) -> str | None:
    if text is None:
        return None
    cleaned = text.replace("\r\n", "\n").strip()
    return cleaned or None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}

