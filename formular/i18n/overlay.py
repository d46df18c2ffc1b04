"""Translators' edits on top of the shipped catalogs, in every worker, without a restart.

Edits live in the database (:class:`~formular.storage.translations.TranslationEdit`). Each
app (each worker process) keeps them in memory per domain and language and asks the database
for the catalog version (one indexed one-row read) at most once every
``TRANSLATION_OVERLAY_TTL`` seconds (default 1); when the version moved, the edits are read
again. A save in this process is seen at once (:func:`invalidate`), a save in another worker
within the TTL.

Two ways in:

* the **interface** (``messages``): :func:`install` replaces Flask-Babel's default
  :class:`~flask_babel.Domain` by :class:`OverlayDomain`, whose ``get_translations`` returns
  the compiled ``.mo`` translations with the edits laid over them (memoised per request);
* **form content** (``designs``): :func:`overlay_designs` lays the edits over a loaded
  designs catalog (a :class:`formular.i18n.service.LoadedCatalog`), and extends its
  ``version`` so every cache keyed by it is refreshed. :func:`translated` answers one lookup.

The database is read through an engine of this module's own (not the request's session), so a
request whose transaction failed can still render its error page.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import gettext
import hashlib
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from threading import Lock
from typing import Any

from babel import support
from flask import Flask, current_app, g, has_app_context
from flask_babel import Domain, get_locale
from sqlalchemy import Engine, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from formular.storage.translations import CatalogVersion, TranslationEdit

from .content import Translation

log = logging.getLogger(__name__)

MESSAGES = "messages"
DESIGNS = "designs"
DOMAINS = (MESSAGES, DESIGNS)
#: The ``app.extensions`` key of an app's overlay state.
EXTENSION = "formular.i18n.overlay"
DEFAULT_TTL = 1.0


def entry_key(domain: str, context: str | None, msgid: str) -> str:
    """The key of a catalog entry: its context and msgid; for form content (``designs``) its
    context alone (the source text may change, the place does not)."""
    raw = f"{domain}\x00{context or ''}\x04{'' if domain == DESIGNS else msgid}"
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Edit:
    """A saved translation as the runtime and the editor use it (detached from the session)."""

    id: int
    context: str
    msgid: str
    msgid_plural: str | None
    msgstr: tuple[str, ...]
    based_on_source: str
    comments: tuple[str, ...]
    revision: int
    updated_at: dt.datetime
    updated_by: int | None

    @classmethod
    def of(cls, row: TranslationEdit) -> Edit:
        return cls(row.id, row.context, row.msgid, row.msgid_plural, tuple(row.msgstr),
                   row.based_on_source, tuple(row.comments or ()), row.revision,
                   row.updated_at, row.updated_by)


@dataclass
class _State:
    engine: Engine | None = None
    version: int = -1
    checked_at: float = 0.0
    edits: dict[tuple[str, str], dict[str, Edit]] = field(default_factory=dict)
    translations: dict[tuple[str, int, int], Any] = field(default_factory=dict)
    designs: dict[tuple[str, str, int], Any] = field(default_factory=dict)
    lock: Lock = field(default_factory=Lock)


def _state(app: Flask) -> _State:
    state = app.extensions.get(EXTENSION)
    if state is None:
        state = app.extensions.setdefault(EXTENSION, _State())
    assert isinstance(state, _State)
    return state


def _engine(app: Flask, state: _State) -> Engine:
    if state.engine is None:
        from formular.storage.db import make_engine

        state.engine = make_engine(app.config["DATABASE_URL"])
    return state.engine


def read_version(session: Session) -> int:
    return int(session.scalar(select(CatalogVersion.version).where(CatalogVersion.id == 1))
               or 0)


def bump_version(session: Session) -> int:
    """Raise the catalog version (in the caller's transaction) and return the new value."""
    done = session.execute(update(CatalogVersion).where(CatalogVersion.id == 1)
                           .values(version=CatalogVersion.version + 1))
    if not getattr(done, "rowcount", 0):
        session.add(CatalogVersion(id=1, version=1))
        session.flush()
    return read_version(session)


def read_version_now(app: Flask | None = None) -> int:
    """The catalog version in the database right now (no cache)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        with _engine(app, _state(app)).connect() as connection:
            return int(connection.scalar(
                select(CatalogVersion.version).where(CatalogVersion.id == 1)) or 0)
    except DBAPIError:
        # A database without the table (not migrated yet): the shipped catalogs alone.
        log.warning("translation edits unavailable: the catalog version cannot be read",
                    exc_info=True)
        return 0


def current_version(app: Flask | None = None) -> int:
    """The catalog version this app's caches follow (re-read at most once per TTL)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    state = _state(app)
    ttl = float(app.config.get("TRANSLATION_OVERLAY_TTL", DEFAULT_TTL))
    now = time.monotonic()
    if state.version >= 0 and now - state.checked_at < ttl:
        return state.version
    version = read_version_now(app)
    with state.lock:
        if version != state.version:
            state.edits.clear()
            state.translations.clear()
            state.designs.clear()
            state.version = version
        state.checked_at = now
    return version


def invalidate(app: Flask | None = None) -> None:
    """Make the next lookup in this app re-read the version (after a save here)."""
    state = _state(app or current_app._get_current_object())  # type: ignore[attr-defined]
    with state.lock:
        state.checked_at = 0.0
        state.version = -1


def edits_for(domain: str, locale: str, app: Flask | None = None) -> dict[str, Edit]:
    """The saved edits of one catalog, by :func:`entry_key`."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    current_version(app)
    state = _state(app)
    with state.lock:
        cached = state.edits.get((domain, locale))
    if cached is not None:
        return cached
    try:
        with Session(_engine(app, state)) as session:
            rows = session.scalars(select(TranslationEdit).where(
                TranslationEdit.domain == domain, TranslationEdit.locale == locale)).all()
            edits = {row.key: Edit.of(row) for row in rows}
    except DBAPIError:
        log.warning("translation edits unavailable: they cannot be read", exc_info=True)
        edits = {}
    with state.lock:
        state.edits[(domain, locale)] = edits
    return edits


def translated(domain: str, locale: str, context: str | None, msgid: str,
               fallback: str) -> str:
    """One text: the saved edit of the entry when there is a current one, else ``fallback``
    (the shipped translation or the source text). Outside an app: ``fallback``."""
    if not has_app_context() or EXTENSION not in current_app.extensions:
        return fallback
    edit = edits_for(domain, locale).get(entry_key(domain, context, msgid))
    if edit is None or edit.based_on_source != msgid or not edit.msgstr[0]:
        return fallback
    return edit.msgstr[0]


# -- the interface: Flask-Babel ---------------------------------------------------------------


def overlay_translations(base: Any, edits: Mapping[str, Edit]) -> Any:
    """``base`` (gettext translations from the ``.mo``) with ``edits`` laid over it."""
    if not edits:
        return base
    if isinstance(base, gettext.GNUTranslations):
        merged = copy.copy(base)
        merged._catalog = dict(base._catalog)  # type: ignore[attr-defined]
    else:
        merged = support.Translations()
        merged._catalog = {}
        merged.plural = lambda n: int(n != 1)
    catalog: dict[Any, str] = merged._catalog  # type: ignore[attr-defined]
    for edit in edits.values():
        if edit.based_on_source != edit.msgid or not all(edit.msgstr):
            continue
        key = f"{edit.context}\x04{edit.msgid}" if edit.context else edit.msgid
        if edit.msgid_plural is None:
            catalog[key] = edit.msgstr[0]
        else:
            for index, text in enumerate(edit.msgstr):
                catalog[(key, index)] = text
    return merged


class OverlayDomain(Domain):  # type: ignore[misc]
    """Flask-Babel's domain with the translators' saved edits winning over the ``.mo``."""

    def get_translations(self) -> Any:
        """Every gettext call of a page asks for these (a page makes dozens of calls), so
        within a request they come from ``g`` by language before any other work.

        The last answer is kept beside the locale Flask-Babel chose for the request (its
        per-request namespace on ``g``): while that very locale object stands (no
        ``refresh()``, no ``force_locale``), the answer stands too, found without asking for
        the locale or the app (a tenth of the cost of the full lookup)."""
        babel_request = g.get("_flask_babel") if g else None
        if babel_request is not None:
            last = getattr(babel_request, _LAST_ANSWER, None)
            if (last is not None and last[0] is self
                    and last[1] is getattr(babel_request, "babel_locale", None)):
                return last[2]
        if not has_app_context() or EXTENSION not in current_app.extensions:
            return super().get_translations()
        memo: dict[tuple[int, str], Any] = g.setdefault("_translation_overlay", {})
        locale_object = get_locale()
        locale = str(locale_object)
        found = memo.get((id(self), locale))
        if found is None:
            base = super().get_translations()
            app = current_app._get_current_object()  # type: ignore[attr-defined]
            version = current_version(app)
            state = _state(app)
            cache_key = (locale, version, id(base))
            with state.lock:
                found = state.translations.get(cache_key)
            if found is None:
                found = overlay_translations(base, edits_for(self.domain[0], locale, app))
                with state.lock:
                    state.translations[cache_key] = found
            memo[(id(self), locale)] = found
        babel_request = g.get("_flask_babel")
        if babel_request is not None and locale_object is not None:
            setattr(babel_request, _LAST_ANSWER, (self, locale_object, found))
        return found


#: Where :meth:`OverlayDomain.get_translations` keeps its last answer in Flask-Babel's
#: per-request namespace.
_LAST_ANSWER = "formular_overlay_translations"


def install(app: Flask) -> None:
    """Serve this app's interface translations with the saved edits laid over them."""
    _state(app)
    config = app.extensions["babel"]
    instance = config.instance
    if not isinstance(instance.__dict__.get("domain_instance"), OverlayDomain):
        instance.__dict__["domain_instance"] = OverlayDomain(domain=config.default_domain)


# -- form content -----------------------------------------------------------------------------


def overlay_content(entries: Mapping[str, Translation],
                    edits: Mapping[str, Edit]) -> dict[str, Translation]:
    """A designs catalog (by context) with the saved edits laid over it. An edit made from an
    older source text does not replace a shipped translation of the current one."""
    merged = dict(entries)
    for edit in edits.values():
        if not edit.msgstr or not edit.msgstr[0]:
            continue
        shipped = merged.get(edit.context)
        if (shipped is None or shipped.fuzzy or not shipped.msgstr
                or shipped.msgid == edit.based_on_source):
            merged[edit.context] = Translation(edit.based_on_source, edit.msgstr[0])
    return merged


def overlay_designs(locale: str, loaded: Any) -> Any:
    """A :class:`~formular.i18n.service.LoadedCatalog` with this language's saved edits laid
    over it and a ``version`` that names them; ``loaded`` itself outside an app or when
    there are no edits."""
    if not has_app_context() or EXTENSION not in current_app.extensions:
        return loaded
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    version = current_version(app)
    edits = edits_for(DESIGNS, locale, app)
    if not edits:
        return loaded
    state = _state(app)
    key = (locale, str(loaded.version), version)
    with state.lock:
        found = state.designs.get(key)
    if found is None:
        found = dataclasses.replace(loaded, entries=overlay_content(loaded.entries, edits),
                                    version=f"{loaded.version}+edits{version}")
        with state.lock:
            state.designs[key] = found
    return found
