"""The translator's catalog editor: entries, progress, saving, PO export and import.

An entry is an entry of a shipped ``.po`` file (``translations/<locale>/LC_MESSAGES/
<domain>.po``) with the saved edit of the same key, if any, laid over it (see
:mod:`.overlay`). Its state:

* **translated** – a translation exists, is not fuzzy, and was made from the current source;
* **stale** – the shipped entry is fuzzy, or the edit was made from an earlier source text
  (shown as :attr:`Entry.earlier_source`);
* **missing** – no translation.

Saving runs :func:`formular.i18n.checks.check_translation` and refuses with reasons; an edit
form and an imported PO file carry the revision they were based on, and a translation saved
after that revision is never overwritten silently: it is reported as a conflict.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from threading import Lock
from typing import Any

from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po, write_po
from sqlalchemy import select
from sqlalchemy.orm import Session

from formular.audit.service import log_event
from formular.storage.base import utcnow
from formular.storage.translations import TranslationEdit

from . import overlay
from .catalogs import TRANSLATIONS
from .checks import Problem, check_translation
from .overlay import DESIGNS, DOMAINS, MESSAGES, Edit, entry_key

__all__ = ["DOMAINS", "DESIGNS", "MESSAGES", "Entry", "ImportReport", "Progress", "SaveResult",
           "entries", "export_po", "import_po", "progress", "save"]

STATES = ("missing", "stale", "translated")
_REVISION = re.compile(r"^rev-(\d+)$")


@dataclass(frozen=True)
class Entry:
    domain: str
    locale: str
    context: str
    msgid: str
    msgid_plural: str | None
    shipped: tuple[str, ...]
    shipped_fuzzy: bool
    previous_id: str | None
    flags: frozenset[str]
    auto_comments: tuple[str, ...]
    user_comments: tuple[str, ...]
    locations: tuple[tuple[str, int | None], ...]
    edit: Edit | None = None

    @property
    def key(self) -> str:
        return entry_key(self.domain, self.context, self.msgid)

    @property
    def group(self) -> str:
        """The catalog part it belongs to: the design id for form content."""
        return self.context.split(":", 1)[0] if self.domain == DESIGNS else MESSAGES

    @property
    def pointer(self) -> str:
        return self.context.split(":", 1)[1] if self.domain == DESIGNS and ":" in self.context \
            else ""

    @property
    def _edit_current(self) -> bool:
        return self.edit is not None and self.edit.based_on_source == self.msgid

    @property
    def _shipped_current(self) -> bool:
        return all(self.shipped) and bool(self.shipped) and not self.shipped_fuzzy

    @property
    def translation(self) -> tuple[str, ...]:
        """The translation in effect (the edit's, unless it is stale and the shipped one is
        current); empty strings when there is none."""
        if self.edit is not None and (self._edit_current or not self._shipped_current):
            return self.edit.msgstr
        return self.shipped

    @property
    def state(self) -> str:
        if self._edit_current or self._shipped_current:
            return "translated"
        if not any(self.translation):
            return "missing"
        return "stale"

    @property
    def earlier_source(self) -> str | None:
        """The source text the (stale) translation was made from, when known."""
        if self.state != "stale":
            return None
        if self.edit is not None:
            return self.edit.based_on_source
        return self.previous_id

    @property
    def comments(self) -> tuple[str, ...]:
        return self.edit.comments if self.edit is not None else self.user_comments

    @property
    def revision(self) -> int:
        return self.edit.revision if self.edit is not None else 0

    @property
    def plural(self) -> bool:
        return self.msgid_plural is not None

    def matches(self, search: str) -> bool:
        folded = search.casefold()
        return any(folded in text.casefold() for text in (
            self.msgid, self.msgid_plural or "", self.context, *self.translation))


# -- reading the shipped catalogs ------------------------------------------------------------

_shipped: dict[Path, tuple[tuple[int, int], Catalog]] = {}
_shipped_lock = Lock()


def catalog_path(domain: str, locale: str, folder: Path = TRANSLATIONS) -> Path:
    return folder / locale / "LC_MESSAGES" / f"{domain}.po"


def shipped_catalog(domain: str, locale: str, folder: Path = TRANSLATIONS) -> Catalog:
    """The shipped catalog, re-read when its file changes. Do not modify it (shared)."""
    path = catalog_path(domain, locale, folder)
    try:
        stat = path.stat()
    except FileNotFoundError:
        return Catalog(locale=locale, domain=domain)
    stamp = (stat.st_mtime_ns, stat.st_size)
    with _shipped_lock:
        cached = _shipped.get(path)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=locale, domain=domain)
    with _shipped_lock:
        _shipped[path] = (stamp, catalog)
    return catalog


def _forms(message: Message) -> tuple[str, ...]:
    if isinstance(message.string, (tuple, list)):
        return tuple(str(s or "") for s in message.string)
    return (str(message.string or ""),)


def _ids(message: Message) -> tuple[str, str | None]:
    if isinstance(message.id, (tuple, list)):
        return str(message.id[0]), str(message.id[1])
    return str(message.id), None


def entries(domain: str, locale: str, folder: Path = TRANSLATIONS) -> list[Entry]:
    """Every entry of the catalog, in file order, with the saved edits laid over it."""
    if domain not in DOMAINS:
        raise ValueError(domain)
    edits = overlay.edits_for(domain, locale)
    result = []
    for message in shipped_catalog(domain, locale, folder):
        if not message.id:
            continue
        msgid, plural = _ids(message)
        context = str(message.context or "")
        previous = message.previous_id
        previous_id = (str(previous[0]) if isinstance(previous, (tuple, list)) and previous
                       else str(previous) if previous else None)
        entry = Entry(domain, locale, context, msgid, plural, _forms(message), message.fuzzy,
                      previous_id, frozenset(message.flags), tuple(message.auto_comments),
                      tuple(message.user_comments), tuple(message.locations))
        edit = edits.get(entry.key)
        result.append(entry if edit is None else _with_edit(entry, edit))
    return result


def _with_edit(entry: Entry, edit: Edit) -> Entry:
    from dataclasses import replace

    return replace(entry, edit=edit)


def find(domain: str, locale: str, key: str, folder: Path = TRANSLATIONS) -> Entry | None:
    return next((entry for entry in entries(domain, locale, folder) if entry.key == key), None)


@dataclass
class Progress:
    total: int = 0
    translated: int = 0
    missing: int = 0
    stale: int = 0

    def add(self, entry: Entry) -> None:
        self.total += 1
        setattr(self, entry.state, getattr(self, entry.state) + 1)


def progress(items: Iterable[Entry]) -> dict[str, Progress]:
    """Counts per group (``messages``, or each design id), in first-seen order."""
    groups: dict[str, Progress] = {}
    for entry in items:
        groups.setdefault(entry.group, Progress()).add(entry)
    return groups


def select_entries(items: Iterable[Entry], state: str = "all", search: str = "",
                   group: str | None = None) -> list[Entry]:
    return [entry for entry in items
            if (state == "all" or entry.state == state)
            and (not group or entry.group == group)
            and (not search or entry.matches(search))]


# -- where a form text is used ---------------------------------------------------------------


def where_used(document: dict[str, Any] | None, pointer: str) -> list[tuple[str, str]]:
    """(kind, label) pairs naming the form, page, section and item a pointer lies in."""
    if document is None:
        return []
    found: list[tuple[str, str]] = [("form", str(document.get("title", "")))]
    node: Any = document
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.strip("/").split("/")]
    previous = ""
    for part in parts:
        try:
            node = node[int(part)] if isinstance(node, list) else node[part]
        except (KeyError, IndexError, ValueError, TypeError):
            break
        if isinstance(node, dict):
            kind = {"pages": "page", "sections": "section", "items": "item"}.get(previous)
            label = node.get("title") or node.get("label") or node.get("id")
            if kind and label:
                found.append((kind, str(label)))
        previous = part
    return found


# -- saving ----------------------------------------------------------------------------------


@dataclass
class SaveResult:
    #: "saved", "unchanged", "refused" or "conflict"
    outcome: str
    problems: list[Problem] = field(default_factory=list)
    edit: Edit | None = None


def _apply(session: Session, entry: Entry, msgstr: Sequence[str], comments: Sequence[str],
           staff_id: int | None, revision: int) -> TranslationEdit:
    row = session.scalar(select(TranslationEdit).where(
        TranslationEdit.domain == entry.domain, TranslationEdit.locale == entry.locale,
        TranslationEdit.key == entry.key))
    if row is None:
        row = TranslationEdit(domain=entry.domain, locale=entry.locale, key=entry.key,
                              context=entry.context)
        session.add(row)
    row.msgid = entry.msgid
    row.msgid_plural = entry.msgid_plural
    row.msgstr = list(msgstr)
    row.based_on_source = entry.msgid
    row.comments = list(comments)
    row.revision = revision
    row.updated_at = utcnow()
    row.updated_by = staff_id
    session.flush()
    return row


def _current_edit(session: Session, entry: Entry) -> TranslationEdit | None:
    return session.scalar(select(TranslationEdit).where(
        TranslationEdit.domain == entry.domain, TranslationEdit.locale == entry.locale,
        TranslationEdit.key == entry.key))


def save(session: Session, entry: Entry, msgstr: Sequence[str], staff_id: int | None,
         base_revision: int) -> SaveResult:
    """Check and save one translation; the caller commits. ``base_revision``: the revision
    of the entry the translator started from (0 for the shipped translation)."""
    msgstr = [text.replace("\r\n", "\n") for text in msgstr]
    current = _current_edit(session, entry)
    if current is not None and current.revision > base_revision:
        return SaveResult("conflict", edit=Edit.of(current))
    problems = check_translation(entry.msgid, entry.msgid_plural, msgstr, entry.locale,
                                 entry.context, sorted(entry.flags))
    if problems:
        return SaveResult("refused", problems)
    if tuple(msgstr) == entry.translation and entry.state == "translated":
        return SaveResult("unchanged")
    revision = overlay.bump_version(session)
    row = _apply(session, entry, msgstr, entry.comments, staff_id, revision)
    log_event(session, actor_kind="staff", actor_id=staff_id, event="translation.edited",
              object_type="translation_edit", object_id=row.id,
              data={"domain": entry.domain, "locale": entry.locale, "context": entry.context,
                    "msgid": entry.msgid[:200], "revision": revision})
    return SaveResult("saved", edit=Edit.of(row))


# -- PO files --------------------------------------------------------------------------------


def export_po(domain: str, locale: str, folder: Path = TRANSLATIONS) -> bytes:
    """The catalog as a standard PO file: the shipped entries with the saved edits merged in.

    A stale translation is exported ``fuzzy`` with its earlier source as ``#| msgid``. The
    catalog version goes into ``Project-Id-Version`` (``rev-N``), so an import knows which
    edits the file has seen.
    """
    path = catalog_path(domain, locale, folder)
    if path.exists():
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=locale, domain=domain)
    else:
        catalog = Catalog(locale=locale, domain=domain)
    by_key = {entry.key: entry for entry in entries(domain, locale, folder)}
    for message in catalog:
        if not message.id:
            continue
        msgid, _plural = _ids(message)
        entry = by_key.get(entry_key(domain, str(message.context or ""), msgid))
        if entry is None:
            continue
        forms = entry.translation
        message.string = tuple(forms) if entry.plural else forms[0]
        message.user_comments = list(entry.comments)
        if entry.state == "stale":
            message.flags.add("fuzzy")
            if entry.earlier_source and entry.earlier_source != entry.msgid:
                message.previous_id = [entry.earlier_source]
        else:
            message.flags.discard("fuzzy")
            if entry.edit is not None:
                message.previous_id = []
    catalog.obsolete.clear()
    catalog.version = f"rev-{overlay.read_version_now()}"
    buffer = io.BytesIO()
    write_po(buffer, catalog, ignore_obsolete=True, include_previous=True)
    return buffer.getvalue()


@dataclass
class Conflict:
    entry: Entry
    imported: tuple[str, ...]


@dataclass
class ImportReport:
    applied: list[Entry] = field(default_factory=list)
    unchanged: int = 0
    conflicts: list[Conflict] = field(default_factory=list)
    #: (source text, problems): entries refused by the checks, fuzzy or unknown entries.
    refused: list[tuple[str, list[Problem]]] = field(default_factory=list)
    #: Why the whole file was refused (None: it was read).
    error: str | None = None
    base_revision: int = 0


def base_revision_of(catalog: Catalog) -> int:
    found = _REVISION.match(str(catalog.version or ""))
    return int(found.group(1)) if found else 0


def import_po(session: Session, domain: str, locale: str, data: bytes, staff_id: int | None,
              folder: Path = TRANSLATIONS) -> ImportReport:
    """Apply a PO file's translations that differ from the current ones; the caller commits.

    An entry is applied only when no edit newer than the file's base revision exists;
    otherwise it is a conflict (nothing is overwritten). Fuzzy entries (work in progress)
    and entries whose source text is not the current one are not applied.
    """
    report = ImportReport()
    try:
        imported = read_po(io.BytesIO(data), locale=locale, domain=domain, abort_invalid=True)
    except Exception as error:  # noqa: BLE001  (any unreadable file is refused as a whole)
        report.error = str(error)[:300] or type(error).__name__
        return report
    if imported.locale is not None and str(imported.locale) != locale:
        report.error = f"Language: {imported.locale}"
        return report
    report.base_revision = base = base_revision_of(imported)
    current = {entry.key: entry for entry in entries(domain, locale, folder)}
    to_apply: list[tuple[Entry, list[str], list[str]]] = []
    for message in imported:
        if not message.id:
            continue
        msgid, _plural = _ids(message)
        entry = current.get(entry_key(domain, str(message.context or ""), msgid))
        forms = list(_forms(message))
        comments = [str(c) for c in message.user_comments]
        if entry is None:
            report.refused.append((msgid, [Problem("unknown")]))
            continue
        if entry.msgid != msgid:
            report.refused.append((msgid, [Problem("source-changed")]))
            continue
        if message.fuzzy:
            if tuple(forms) != entry.translation:
                report.refused.append((msgid, [Problem("fuzzy")]))
            else:
                report.unchanged += 1
            continue
        if not any(forms) or (tuple(forms) == entry.translation
                              and tuple(comments) == entry.comments
                              and entry.state == "translated"):
            report.unchanged += 1
            continue
        if entry.edit is not None and entry.edit.revision > base:
            report.conflicts.append(Conflict(entry, tuple(forms)))
            continue
        problems = check_translation(entry.msgid, entry.msgid_plural, forms, locale,
                                     entry.context, sorted(entry.flags))
        if problems:
            report.refused.append((msgid, problems))
            continue
        to_apply.append((entry, forms, comments))
    if to_apply:
        revision = overlay.bump_version(session)
        for entry, forms, comments in to_apply:
            _apply(session, entry, forms, comments, staff_id, revision)
            report.applied.append(entry)
    log_event(session, actor_kind="staff", actor_id=staff_id, event="translation.imported",
              object_type="translation_catalog",
              data={"domain": domain, "locale": locale, "base_revision": base,
                    "applied": len(report.applied), "unchanged": report.unchanged,
                    "conflicts": len(report.conflicts), "refused": len(report.refused)})
    return report
