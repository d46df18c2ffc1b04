"""The designer's workspace: creating drafts, publishing versions, sharing templates.

Who owns a definition id: the unit whose designer published it first (``owner_unit_id`` of
its versions; None for the forms shipped with Formulär). Ids are one namespace for the whole
installation (versions are unique by id and number), so a unit can neither start a draft
under nor publish to an id another unit (or Formulär itself) owns.

Publishing (R-06, R-07) stores the draft as a new immutable ``DefinitionVersion`` numbered one
above the last, owned by the draft's unit, either for the own unit only or as a shared
template other units may subscribe to or copy. The draft stays open for the next version.
Publishing for the own unit only while the definition is shared withdraws the template, as
Inera's service does; units that followed it keep the last version published while it was
shared.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from formular.audit.service import log_event
from formular.definitions.service import compile_definition, digest
from formular.storage.base import utcnow
from formular.storage.design import DesignDraft, SharedTemplate, TemplateSubscription
from formular.storage.identity import Unit
from formular.storage.models import DefinitionVersion

from . import drafts
from .problems import problems_of

AUDIENCES = ("unit", "shared")


class WorkspaceError(Exception):
    """A refused workspace action, with a translated message for the designer."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


# -- who owns what -------------------------------------------------------------------------


def owners_of(session: Session, definition_id: str) -> set[int | None]:
    """The owner units of the stored versions of an id (None: shipped with Formulär)."""
    return set(session.scalars(select(DefinitionVersion.owner_unit_id).where(
        DefinitionVersion.definition_id == definition_id).distinct()))


def id_problem(session: Session, unit_id: int, definition_id: str, *,
               draft_id: int | None = None) -> str | None:
    """Why ``definition_id`` cannot be the id of a new draft of ``unit_id`` (None: it can)."""
    if not drafts.valid_slug(definition_id):
        return str(_l("Use 1–64 lower-case letters, digits and hyphens (not first or last)."))
    owners = owners_of(session, definition_id)
    if owners and owners != {unit_id}:
        return str(_l("This id belongs to a form of another unit or of Formulär itself. "
                      "Choose another id."))
    other = session.scalar(select(DesignDraft.id).where(
        DesignDraft.unit_id == unit_id, DesignDraft.definition_id == definition_id))
    if other is not None and other != draft_id:
        return str(_l("Your unit already has a draft with this id."))
    return None


def latest_number(session: Session, definition_id: str) -> int:
    return int(session.scalar(select(func.max(DefinitionVersion.version)).where(
        DefinitionVersion.definition_id == definition_id)) or 0)


# -- creating drafts -----------------------------------------------------------------------


def blank_document(definition_id: str, title: str, language: str) -> dict[str, Any]:
    """The smallest definition that passes every check: one page with one information text,
    so the designer starts from a valid document and every operation keeps it checkable."""
    return {
        "formular": 1, "id": definition_id, "version": 1, "kind": "questionnaire",
        "title": title, "language": language, "languages": [language],
        "schema": {"type": "object", "properties": {}, "additionalProperties": False},
        "layout": {"pages": [{
            "id": "page-1", "title": str(_l("Page 1")),
            "sections": [{"id": "section-1", "items": [{
                "type": "info", "name": "intro",
                "text": str(_l("Write an introduction to the form here.")),
            }]}],
        }]},
    }


def create_blank(session: Session, *, unit_id: int, definition_id: str, title: str,
                 language: str, staff_user_id: int) -> DesignDraft:
    problem = id_problem(session, unit_id, definition_id)
    if problem:
        raise WorkspaceError(problem)
    return drafts.create_draft(session, unit_id=unit_id, origin="blank",
                               document=blank_document(definition_id, title, language),
                               staff_user_id=staff_user_id)


def create_from_version(session: Session, *, unit_id: int, version: DefinitionVersion,
                        definition_id: str, title: str | None,
                        staff_user_id: int) -> DesignDraft:
    """A new definition (version 1 of a new id) starting as a copy of ``version``: a copy of
    the unit's own form, of a shared template, or of a form shipped with Formulär."""
    if not can_use_version(session, unit_id, version):
        raise WorkspaceError(str(_l("This form is not available to your unit.")))
    problem = id_problem(session, unit_id, definition_id)
    if problem:
        raise WorkspaceError(problem)
    document = copy.deepcopy(version.document)
    document["id"] = definition_id
    document["version"] = 1
    if title:
        document["title"] = title
    origin = "copy" if version.owner_unit_id == unit_id else "template"
    return drafts.create_draft(session, unit_id=unit_id, origin=origin, document=document,
                               staff_user_id=staff_user_id, based_on_version_id=version.id,
                               data={"from": f"{version.definition_id}@{version.version}"})


def create_from_import(session: Session, *, unit_id: int, document: dict[str, Any],
                       staff_user_id: int) -> DesignDraft:
    """A draft of an imported (already checked) document. Its id must be free at the unit;
    an id the unit already publishes continues that definition (the next version)."""
    definition_id = str(document.get("id", ""))
    problem = id_problem(session, unit_id, definition_id)
    if problem:
        raise WorkspaceError(problem)
    return drafts.create_draft(session, unit_id=unit_id, origin="import", document=document,
                               staff_user_id=staff_user_id)


def open_next_version(session: Session, *, unit_id: int, definition_id: str,
                      staff_user_id: int) -> DesignDraft:
    """The unit's draft of ``definition_id``, made from its latest version if there is none."""
    existing = session.scalars(select(DesignDraft).where(
        DesignDraft.unit_id == unit_id, DesignDraft.definition_id == definition_id)).first()
    if existing is not None:
        return existing
    latest = latest_version(session, definition_id)
    if latest is None or latest.owner_unit_id != unit_id:
        raise WorkspaceError(str(_l("Only the unit that owns a form can make new versions "
                                    "of it.")))
    document = copy.deepcopy(latest.document)
    document["version"] = latest.version + 1
    return drafts.create_draft(session, unit_id=unit_id, origin="version", document=document,
                               staff_user_id=staff_user_id, based_on_version_id=latest.id)


def discard(session: Session, draft: DesignDraft, *, expected_revision: int,
            staff_user_id: int) -> None:
    if draft.revision != expected_revision:
        raise drafts.DraftConflict(draft.revision,
                                   drafts.display_name(session, draft.updated_by_id),
                                   draft.updated_at)
    log_event(session, actor_kind="staff", actor_id=staff_user_id,
              event="design.draft.discarded", unit_id=draft.unit_id,
              object_type="design_draft", object_id=draft.id,
              data={"definition_id": draft.definition_id, "revision": draft.revision})
    session.delete(draft)
    session.flush()


# -- publishing ----------------------------------------------------------------------------


def publish(session: Session, draft: DesignDraft, *, expected_revision: int, audience: str,
            staff_user_id: int) -> DefinitionVersion:
    """Store the draft as the next immutable version.

    :raises drafts.DraftConflict: the draft changed since the designer looked at it (so what
        is published is exactly what they reviewed); also the loser of two concurrent
        publishes.
    :raises WorkspaceError: problems remain, or the id is not the unit's.
    """
    if audience not in AUDIENCES:
        raise WorkspaceError(str(_l("Choose who may use the form.")))
    if draft.revision != expected_revision:
        raise drafts.DraftConflict(draft.revision,
                                   drafts.display_name(session, draft.updated_by_id),
                                   draft.updated_at)
    if not isinstance(draft.document, dict):
        raise WorkspaceError(str(_l("The form has problems. Fix every problem in the "
                                    "list before publishing.")))
    document = copy.deepcopy(draft.document)
    definition_id = str(document.get("id", ""))
    owners = owners_of(session, definition_id)
    if owners and owners != {draft.unit_id}:
        raise WorkspaceError(str(_l("This id belongs to a form of another unit or of "
                                    "Formulär itself. Change the id before publishing.")))
    number = latest_number(session, definition_id) + 1
    document["version"] = number
    if problems_of(document):
        raise WorkspaceError(str(_l("The form has problems. Fix every problem in the "
                                    "list before publishing.")))
    compile_definition(document)  # the platform's own gate, once more
    # The compare-and-set on the draft comes first: of two concurrent publishes one wins
    # here, and the other never reaches the version insert.
    drafts.save_document(session, draft, document, expected_revision=expected_revision,
                         staff_user_id=staff_user_id, action="draft.published",
                         data={"version": number, "audience": audience})
    # Sharing is settled before the version exists: withdrawing by publishing for the own
    # unit only leaves the followers at the version before this one.
    _set_sharing(session, definition_id, draft.unit_id, audience == "shared", staff_user_id)
    row = DefinitionVersion(definition_id=definition_id, version=number,
                            kind=str(document["kind"]), title=str(document["title"]),
                            document=document, digest=digest(document),
                            owner_unit_id=draft.unit_id)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        raise WorkspaceError(str(_l("Another version of this form was published at the same "
                                    "moment. Reload the page and try again."))) from None
    draft.based_on_version_id = row.id
    log_event(session, actor_kind="staff", actor_id=staff_user_id, event="design.published",
              unit_id=draft.unit_id, object_type="definition_version", object_id=row.id,
              data={"definition_id": definition_id, "version": number, "audience": audience,
                    "draft_id": draft.id})
    session.flush()
    return row


def _set_sharing(session: Session, definition_id: str, unit_id: int, shared: bool,
                 staff_user_id: int) -> None:
    template = session.scalars(select(SharedTemplate).where(
        SharedTemplate.definition_id == definition_id)).first()
    now = utcnow()
    if shared:
        if template is None:
            session.add(SharedTemplate(definition_id=definition_id, owner_unit_id=unit_id,
                                       shared_at=now, shared_by_id=staff_user_id))
        elif template.withdrawn_at is not None:
            template.shared_at, template.shared_by_id = now, staff_user_id
            template.withdrawn_at = template.last_shared_version = None
    elif template is not None and template.withdrawn_at is None:
        _mark_withdrawn(session, template, now)


def _mark_withdrawn(session: Session, template: SharedTemplate, now: dt.datetime) -> None:
    template.withdrawn_at = now
    template.last_shared_version = latest_number(session, template.definition_id)


def withdraw(session: Session, *, unit_id: int, definition_id: str,
             staff_user_id: int) -> SharedTemplate:
    """Stop offering a shared template: it leaves the list of shared templates, nobody can
    subscribe or copy any more, and followers keep the versions published until now."""
    template = session.scalars(select(SharedTemplate).where(
        SharedTemplate.definition_id == definition_id,
        SharedTemplate.owner_unit_id == unit_id)).first()
    if template is None or template.withdrawn_at is not None:
        raise WorkspaceError(str(_l("This form is not shared.")))
    _mark_withdrawn(session, template, utcnow())
    log_event(session, actor_kind="staff", actor_id=staff_user_id,
              event="design.template.withdrawn", unit_id=unit_id,
              object_type="shared_template", object_id=template.id,
              data={"definition_id": definition_id})
    session.flush()
    return template


# -- what a unit may use -------------------------------------------------------------------


def latest_version(session: Session, definition_id: str,
                   at_most: int | None = None) -> DefinitionVersion | None:
    query = select(DefinitionVersion).where(DefinitionVersion.definition_id == definition_id)
    if at_most is not None:
        query = query.where(DefinitionVersion.version <= at_most)
    return session.scalars(query.order_by(DefinitionVersion.version.desc()).limit(1)).first()


def template_of(session: Session, definition_id: str) -> SharedTemplate | None:
    return session.scalars(select(SharedTemplate).where(
        SharedTemplate.definition_id == definition_id)).first()


def shared_version(session: Session, template: SharedTemplate) -> DefinitionVersion | None:
    """The newest version other units may use: published before a withdrawal, if any."""
    limit = template.last_shared_version if template.withdrawn_at is not None else None
    return latest_version(session, template.definition_id, at_most=limit)


def subscription_of(session: Session, unit_id: int,
                    definition_id: str) -> TemplateSubscription | None:
    return session.scalars(select(TemplateSubscription).where(
        TemplateSubscription.unit_id == unit_id,
        TemplateSubscription.definition_id == definition_id)).first()


def subscribed_version(session: Session, subscription: TemplateSubscription
                       ) -> DefinitionVersion | None:
    template = template_of(session, subscription.definition_id)
    if template is None:
        return None
    if subscription.follow or subscription.pinned_version is None:
        return shared_version(session, template)
    return session.scalars(select(DefinitionVersion).where(
        DefinitionVersion.definition_id == subscription.definition_id,
        DefinitionVersion.version == subscription.pinned_version)).first()


def can_use_version(session: Session, unit_id: int, version: DefinitionVersion) -> bool:
    """Whether the unit may copy (or send) this version: its own or a shipped form, a version
    of a template shared now, or of a template the unit subscribes to."""
    if version.owner_unit_id in (None, unit_id):
        return True
    template = template_of(session, version.definition_id)
    if template is None:
        return False
    if template.withdrawn_at is None:
        return True
    if subscription_of(session, unit_id, version.definition_id) is None:
        return False
    return version.version <= (template.last_shared_version or 0)


def offered_versions(session: Session, unit_id: int) -> list[DefinitionVersion]:
    """The versions senders of a unit choose from, one per definition: the newest of the
    shipped forms and the unit's own, and of each subscribed template the newest shared one
    (following) or the one subscribed to."""
    rows = session.scalars(
        select(DefinitionVersion)
        .where((DefinitionVersion.owner_unit_id.is_(None))
               | (DefinitionVersion.owner_unit_id == unit_id))
        .order_by(DefinitionVersion.definition_id, DefinitionVersion.version.desc())).all()
    offered: dict[str, DefinitionVersion] = {}
    for row in rows:
        offered.setdefault(row.definition_id, row)
    for subscription in session.scalars(select(TemplateSubscription).where(
            TemplateSubscription.unit_id == unit_id)):
        version = subscribed_version(session, subscription)
        if version is not None and version.definition_id not in offered:
            offered[version.definition_id] = version
    return sorted(offered.values(), key=lambda v: (v.title.casefold(), v.definition_id))


# -- subscriptions -------------------------------------------------------------------------


def subscribe(session: Session, *, unit_id: int, definition_id: str, follow: bool,
              staff_user_id: int) -> TemplateSubscription:
    """Subscribe to a shared template (or change whether the subscription follows)."""
    template = template_of(session, definition_id)
    if template is None or template.withdrawn_at is not None:
        raise WorkspaceError(str(_l("This template is not shared (any more).")))
    if template.owner_unit_id == unit_id:
        raise WorkspaceError(str(_l("Your unit owns this form already.")))
    current = shared_version(session, template)
    if current is None:
        raise WorkspaceError(str(_l("This template has no published version.")))
    subscription = subscription_of(session, unit_id, definition_id)
    if subscription is None:
        subscription = TemplateSubscription(unit_id=unit_id, definition_id=definition_id,
                                            created_by_id=staff_user_id, created_at=utcnow())
        session.add(subscription)
    subscription.follow = follow
    subscription.pinned_version = None if follow else current.version
    session.flush()
    log_event(session, actor_kind="staff", actor_id=staff_user_id,
              event="design.template.subscribed", unit_id=unit_id,
              object_type="template_subscription", object_id=subscription.id,
              data={"definition_id": definition_id, "follow": follow,
                    "version": None if follow else current.version})
    session.flush()
    return subscription


def unsubscribe(session: Session, *, unit_id: int, definition_id: str,
                staff_user_id: int) -> None:
    subscription = subscription_of(session, unit_id, definition_id)
    if subscription is None:
        raise WorkspaceError(str(_l("Your unit does not subscribe to this template.")))
    log_event(session, actor_kind="staff", actor_id=staff_user_id,
              event="design.template.unsubscribed", unit_id=unit_id,
              object_type="template_subscription", object_id=subscription.id,
              data={"definition_id": definition_id})
    session.delete(subscription)
    session.flush()


# -- the workspace listing -----------------------------------------------------------------


@dataclass
class Published:
    """One of the unit's published definitions with its versions (newest first)."""

    definition_id: str
    versions: list[DefinitionVersion]
    template: SharedTemplate | None
    subscribers: int
    draft: DesignDraft | None

    @property
    def latest(self) -> DefinitionVersion:
        return self.versions[0]

    @property
    def shared(self) -> bool:
        return self.template is not None and self.template.withdrawn_at is None


@dataclass
class Offered:
    """A template shared by another unit, as a unit sees it."""

    template: SharedTemplate
    owner: Unit
    version: DefinitionVersion
    subscription: TemplateSubscription | None
    subscribed_version: DefinitionVersion | None = None


@dataclass
class Workspace:
    unit: Unit
    drafts: list[DesignDraft]
    published: list[Published]
    templates: list[Offered]
    #: Subscriptions to templates that were withdrawn since (still usable, no longer listed).
    withdrawn: list[Offered]
    library: list[DefinitionVersion] = field(default_factory=list)


def workspace(session: Session, unit: Unit) -> Workspace:
    own_drafts = drafts.drafts_of(session, [unit.id])
    by_id = {d.definition_id: d for d in own_drafts}
    rows = session.scalars(select(DefinitionVersion).where(
        DefinitionVersion.owner_unit_id == unit.id)
        .order_by(DefinitionVersion.definition_id, DefinitionVersion.version.desc())).all()
    grouped: dict[str, list[DefinitionVersion]] = {}
    for row in rows:
        grouped.setdefault(row.definition_id, []).append(row)
    published = []
    for definition_id, versions in grouped.items():
        template = template_of(session, definition_id)
        count = int(session.scalar(select(func.count(TemplateSubscription.id)).where(
            TemplateSubscription.definition_id == definition_id)) or 0)
        published.append(Published(definition_id, versions, template, count,
                                   by_id.get(definition_id)))
    published.sort(key=lambda p: p.latest.title.casefold())
    templates, withdrawn = [], []
    for template in session.scalars(select(SharedTemplate).where(
            SharedTemplate.owner_unit_id != unit.id).order_by(SharedTemplate.definition_id)):
        version = shared_version(session, template)
        owner = session.get(Unit, template.owner_unit_id)
        if version is None or owner is None:
            continue
        subscription = subscription_of(session, unit.id, template.definition_id)
        entry = Offered(template, owner, version, subscription,
                        subscribed_version(session, subscription) if subscription else None)
        if template.withdrawn_at is None:
            templates.append(entry)
        elif subscription is not None:
            withdrawn.append(entry)
    templates.sort(key=lambda o: o.version.title.casefold())
    library = [v for v in session.scalars(select(DefinitionVersion).where(
        DefinitionVersion.owner_unit_id.is_(None))
        .order_by(DefinitionVersion.definition_id, DefinitionVersion.version.desc()))]
    newest: dict[str, DefinitionVersion] = {}
    for version in library:
        newest.setdefault(version.definition_id, version)
    return Workspace(unit, own_drafts, published, templates, withdrawn,
                     sorted(newest.values(), key=lambda v: v.title.casefold()))


def versions_of(session: Session, definition_id: str) -> list[DefinitionVersion]:
    return list(session.scalars(select(DefinitionVersion).where(
        DefinitionVersion.definition_id == definition_id)
        .order_by(DefinitionVersion.version.desc())))
