"""A profile's texts in another language, from the ``designs`` catalogs the forms use.

Profile texts are form content (:func:`formular.i18n.extract.profile_texts`): translated in
``translations/<locale>/LC_MESSAGES/designs.po`` by context ``"<profile id>:<pointer>"``, with
translators' saved edits laid over the shipped catalog inside an app (the same
:data:`formular.i18n.service.CATALOGS` machinery as :func:`formular.i18n.service.compile_for`).
A missing or stale text falls back to the source language, never to a blank; only texts change,
so levels and rules are the same in every language.
"""

from __future__ import annotations

import hashlib
import json
import logging

from formular.i18n.service import (
    CATALOGS,
    ContentCatalogs,
    offered_languages,
    translate_document,
)
from formular.lru import Lru

from .loader import ProfileInvalid, load_profile
from .model import ProfileDefinition

log = logging.getLogger(__name__)

_MAX_CACHED = 64
_cache: Lru[tuple[str, ...], ProfileDefinition] = Lru(_MAX_CACHED)


def _digest(profile: ProfileDefinition) -> str:
    raw = json.dumps(profile.document, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:16]


def profile_for(profile: ProfileDefinition, locale: str,
                catalogs: ContentCatalogs | None = None) -> ProfileDefinition:
    """*profile* with its texts in *locale* (the profile itself for its source language).

    Untranslated texts stay in the source language (and are logged); a translation that makes
    the profile invalid (a label too long, say) is logged and the source profile returned.
    """
    if locale == profile.language:
        return profile
    catalogs = catalogs or CATALOGS
    loaded = catalogs.get(locale)
    key = (profile.id, str(profile.version), _digest(profile), locale, str(catalogs.folder),
           loaded.version)
    found = _cache.get(key)
    if found is not None:
        return found
    translated = translate_document(profile.document, locale, catalogs)
    if not translated.complete:
        log.warning("profile %s version %s in %s: %d texts missing and %d stale in the designs "
                    "catalog; they are shown in the source language", profile.id,
                    profile.version, locale, translated.missing, translated.stale)
    try:
        result = load_profile(translated.document)
    except ProfileInvalid as invalid:
        log.error("profile %s version %s: the %s translation makes it invalid (%s); shown in "
                  "the source language", profile.id, profile.version, locale,
                  "; ".join(str(p) for p in invalid.problems[:3]))
        result = profile
    return _cache.put(key, result)


def profile_languages(profile: ProfileDefinition,
                      catalogs: ContentCatalogs | None = None) -> list[str]:
    """The languages the profile can be shown in completely, its source language first (a
    language listed in ``languages`` whose catalog translates every text, nothing stale)."""
    return offered_languages(profile.document, catalogs=catalogs)
