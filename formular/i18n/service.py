"""Form content in the visitor's language: the public API of content translation.

Try to keep this module small and stable; the work is done in :mod:`.extract` (which texts a
definition has) and :mod:`.content` (replacing them from a catalog). Web code imports from here.

The catalogs are ``translations/<locale>/LC_MESSAGES/designs.po``, read with Babel (not the
compiled ``.mo``: fuzzy entries and the msgid a translation was made from are needed to tell a
stale translation from a current one). A catalog is re-read when its file changes (size or
modification time), so a corrected translation shows without a restart, and every compiled
translation is keyed by the catalog's content hash, so an edit never serves an old compile.

The source language (a definition's ``language``) needs no catalog: its texts are the
definition's own.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from threading import Lock
from typing import Any, Protocol

from babel.messages.pofile import read_po

from formular.definitions.service import (
    CompiledDefinition,
    InvalidDefinition,
    compile_cached,
    compile_stored,
)
from formular.lru import Lru

from .catalogs import TRANSLATIONS
from .content import (
    ContentCatalog,
    TranslatedDocument,
    Translation,
    catalog_entries,
    localized_scores,
    translate,
)
from .content import is_complete as _is_complete
from .extract import DOMAIN, TextEntry, texts_of
from .overlay import overlay_designs

__all__ = [
    "CATALOGS", "ContentCatalogs", "LoadedCatalog", "StoredVersion", "TextEntry",
    "TranslatedDocument", "Translation", "compile_for", "fallbacks", "localized_scores",
    "offered_for", "offered_languages", "source_compiled", "texts_of", "translate_document",
]

log = logging.getLogger(__name__)

Json = dict[str, Any]

_LOCALE = re.compile(r"^[a-z]{2,3}(?:_[A-Z]{2})?$")
#: Translated documents kept (one per version, language and catalog content).
_MAX_TRANSLATED = 256


@dataclass(frozen=True)
class LoadedCatalog:
    """A designs catalog as read from disk."""

    entries: ContentCatalog
    #: A short hash of the file's content ("none" when there is no file): part of every cache
    #: key built from this catalog.
    version: str


_EMPTY = LoadedCatalog({}, "none")


def _with_edits(locale: str, loaded: LoadedCatalog) -> LoadedCatalog:
    """The shipped catalog with translators' saved edits (``/translate``) merged in."""
    merged: LoadedCatalog = overlay_designs(locale, loaded)
    return merged


@dataclass
class ContentCatalogs:
    """The designs catalogs of one translations folder, re-read when a file changes.

    ``recheck_seconds``: how long a file's stamp (modification time and size) is trusted
    before it is looked at again; 0 looks at every call. Form pages ask for the catalogs of
    every language a form offers on every request, so the shipped catalogs are checked at
    most once a second (a deploy replaces them; translators' edits live in the database and
    have their own version check)."""

    folder: Path = TRANSLATIONS
    recheck_seconds: float = 0.0
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    #: locale → (file stamp, when it was last looked at, the catalog read)
    _loaded: dict[str, tuple[tuple[int, int], float, LoadedCatalog]] = field(
        default_factory=dict, repr=False)
    _lock: Lock = field(default_factory=Lock, repr=False)

    def path(self, locale: str) -> Path:
        return self.folder / locale / "LC_MESSAGES" / f"{DOMAIN}.po"

    def get(self, locale: str) -> LoadedCatalog:
        """The catalog of *locale*; empty when the language has no designs catalog."""
        if not _LOCALE.match(locale):
            return _EMPTY
        now = self.clock()
        with self._lock:
            cached = self._loaded.get(locale)
        if cached is not None and self.recheck_seconds and now - cached[1] < self.recheck_seconds:
            return _with_edits(locale, cached[2])
        path = self.path(locale)
        try:
            stat = path.stat()
        except FileNotFoundError:
            return _EMPTY
        stamp = (stat.st_mtime_ns, stat.st_size)
        if cached is not None and cached[0] == stamp:
            with self._lock:
                self._loaded[locale] = (stamp, now, cached[2])
            return _with_edits(locale, cached[2])
        data = path.read_bytes()
        catalog = read_po(io.BytesIO(data), locale=locale, domain=DOMAIN)
        loaded = LoadedCatalog(catalog_entries(catalog),
                               hashlib.sha256(data).hexdigest()[:16])
        with self._lock:
            self._loaded[locale] = (stamp, now, loaded)
        return _with_edits(locale, loaded)


#: The shipped catalogs (``translations/``). Looked up at call time, so tests may replace it.
CATALOGS = ContentCatalogs(recheck_seconds=1.0)


class StoredVersion(Protocol):
    """What :func:`compile_for` needs of a stored definition version (``DefinitionVersion``)."""

    @property
    def document(self) -> Json: ...

    @property
    def cache_key(self) -> str: ...


def translate_document(document: Json, locale: str,
                       catalogs: ContentCatalogs | None = None) -> TranslatedDocument:
    """The definition with its texts in *locale*; untranslated texts stay in the source
    language and are counted (``missing``, ``stale``). The source language returns the
    document itself."""
    if locale == document.get("language"):
        return TranslatedDocument(document)
    return translate(document, (catalogs or CATALOGS).get(locale).entries)


def offered_languages(document: Json, known: Collection[str] | None = None,
                      catalogs: ContentCatalogs | None = None) -> list[str]:
    """The languages a definition may be shown in, its source language first.

    A further language is offered only when the definition lists it in ``languages``, the
    platform knows it (``LANGUAGES``), and its designs catalog translates every text of *this*
    document with nothing fuzzy or made from an older text: the publish gate. A half-translated
    form is never shown; it stays in the source language until the catalog is complete.
    """
    source = str(document["language"])
    known = _known_languages() if known is None else known
    offered = [source]
    for language in document.get("languages", []):
        if (language not in offered and language in known and _is_complete(
                document, (catalogs or CATALOGS).get(language).entries)):
            offered.append(language)
    return offered


_offered_cache: Lru[tuple[str, ...], list[str]] = Lru(_MAX_TRANSLATED)
_translated_cache: Lru[str, TranslatedDocument] = Lru(_MAX_TRANSLATED)
_fallbacks: dict[tuple[str, int, str], tuple[int, int]] = {}
_cache_lock = Lock()


def source_compiled(version: StoredVersion) -> CompiledDefinition:
    """A stored version compiled in its source language. Its document is read only when the
    compiled definition is not cached yet (form pages load versions without it)."""
    return compile_stored(version.cache_key, lambda: version.document)


def offered_for(version: StoredVersion, catalogs: ContentCatalogs | None = None) -> list[str]:
    """:func:`offered_languages` of a stored version, cached per version and catalog content."""
    catalogs = catalogs or CATALOGS
    document = source_compiled(version).document
    known = tuple(_known_languages())
    key = (version.cache_key, str(catalogs.folder), *known, *(
        f"{language}={catalogs.get(language).version}"
        for language in document.get("languages", [])))
    return list(_offered_cache.get_or_make(
        key, lambda: offered_languages(document, known, catalogs)))


def compile_for(version: StoredVersion, locale: str,
                catalogs: ContentCatalogs | None = None) -> CompiledDefinition:
    """The compiled definition of a stored version with its texts in *locale*.

    Values, codes, weights and rules are the version's own, so answers and scores are the same
    in every language (the compiler also runs the definition's test cases, whose expectations
    are codes and ids, on the translated document). The source language is the version's
    ordinary compile. Callers decide whether the language is offered (:func:`offered_for`);
    a text missing here falls back to the source language and is logged and counted
    (:func:`fallbacks`), never shown blank.
    """
    source = source_compiled(version)
    document = source.document
    if locale == document.get("language"):
        return source
    loaded = (catalogs or CATALOGS).get(locale)
    key = f"{version.cache_key}:{locale}:{loaded.version}"
    translated = _translated_cache.get(key)
    if translated is None:
        translated = translate(document, loaded.entries)
        _note_fallbacks(document, locale, translated)
        _translated_cache.put(key, translated)
    try:
        return compile_cached(translated.document, key=key)
    except InvalidDefinition as invalid:
        # A translation the definition language refuses (too long for a label, say): the form
        # is still served, in its source language, and the catalog is reported.
        log.error("%s version %s: the %s translation makes the definition invalid (%s); "
                  "shown in the source language", document.get("id"), document.get("version"),
                  locale, "; ".join(f"{p.pointer}: {p.message}" for p in invalid.problems[:3]))
        return source


def fallbacks() -> dict[tuple[str, int, str], tuple[int, int]]:
    """(definition id, version, language) -> (missing, stale) texts of the latest translation
    made in this process, for every translation that fell back to the source language."""
    with _cache_lock:
        return dict(_fallbacks)


def _note_fallbacks(document: Json, locale: str, translated: TranslatedDocument) -> None:
    where = (str(document.get("id")), int(document.get("version", 0)), locale)
    with _cache_lock:
        if translated.complete:
            _fallbacks.pop(where, None)
            return
        _fallbacks[where] = (translated.missing, translated.stale)
    log.warning("%s version %s in %s: %d texts missing and %d stale in the designs catalog; "
                "they are shown in the source language", *where, translated.missing,
                translated.stale)


def _known_languages() -> list[str]:
    from flask import current_app, has_app_context

    if has_app_context():
        return list(current_app.config["LANGUAGES"])
    from formular.config import DEFAULTS

    return list(DEFAULTS["LANGUAGES"])
