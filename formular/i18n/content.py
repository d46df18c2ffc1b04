"""Translating a definition's texts with a ``designs`` catalog (pure functions, no I/O).

A translation is found by its message context (``"<definition id>:<JSON pointer>"``, see
:mod:`formular.i18n.extract`), never by its wording, so that the same Swedish word in two places
may be translated differently. Each text is in one of three states:

* **translated** – the catalog has the context, a translation, is not fuzzy, and its msgid is
  the definition's current text;
* **stale** – the catalog has the context, but the entry is fuzzy, or its msgid is not the text
  the definition has now (the source changed after translation and the catalog was not updated);
* **missing** – no entry for the context, or an empty translation.

A stale or missing text falls back to the source text — never a blank, never an outdated
translation — and is counted. A language is offered for a definition version only when nothing
is missing or stale (the publish gate, :func:`is_complete`).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from babel.messages.catalog import Catalog

from .extract import TextEntry, texts_of

Json = dict[str, Any]


@dataclass(frozen=True)
class Translation:
    """One entry of a designs catalog, as the runtime needs it."""

    #: The source text the translation was made from.
    msgid: str
    msgstr: str
    fuzzy: bool = False


#: A designs catalog keyed by message context.
ContentCatalog = Mapping[str, Translation]


@dataclass(frozen=True)
class TranslatedDocument:
    """A definition with its texts in one language, and what fell back to the source."""

    document: Json
    #: Texts without a translation (shown in the source language).
    missing: int = 0
    #: Texts whose translation is fuzzy or was made from an older source text (shown in the
    #: source language).
    stale: int = 0

    @property
    def complete(self) -> bool:
        return not self.missing and not self.stale


def catalog_entries(catalog: Catalog) -> dict[str, Translation]:
    """The entries of a Babel catalog that carry a context; the header, obsolete entries and
    entries without a context (not from the designs extractor) are left out."""
    entries: dict[str, Translation] = {}
    for message in catalog:
        if not message.id or message.context is None or isinstance(message.id, tuple | list):
            continue
        string = message.string
        text = string if isinstance(string, str) else ""
        entries[message.context] = Translation(str(message.id), text, message.fuzzy)
    return entries


def status(entry: TextEntry, catalog: ContentCatalog) -> str:
    """``"translated"``, ``"stale"`` or ``"missing"`` for one text (see the module docs)."""
    found = catalog.get(entry.context)
    if found is None or not found.msgstr:
        return "missing"
    if found.fuzzy or found.msgid != entry.text:
        return "stale"
    return "translated"


def translate(document: Json, catalog: ContentCatalog) -> TranslatedDocument:
    """A copy of *document* with every translated text replaced; the original is untouched.

    Only texts change: values, codes, weights, rules and test cases are the same objects'
    copies, so a translated definition compiles to the same scoring as the source.
    """
    translated = copy.deepcopy(document)
    missing = stale = 0
    for entry in texts_of(document):
        state = status(entry, catalog)
        if state == "translated":
            set_pointer(translated, entry.pointer, catalog[entry.context].msgstr)
        elif state == "stale":
            stale += 1
        else:
            missing += 1
    return TranslatedDocument(translated, missing, stale)


def is_complete(document: Json, catalog: ContentCatalog) -> bool:
    """Whether every text of the definition is translated and none is stale (the gate)."""
    return all(status(entry, catalog) == "translated" for entry in texts_of(document))


def set_pointer(document: Any, pointer: str, value: str) -> None:
    """Replace the value at a JSON pointer (RFC 6901) that exists in *document*."""
    parts = [part.replace("~1", "/").replace("~0", "~") for part in pointer.split("/")[1:]]
    target = document
    for part in parts[:-1]:
        target = target[int(part)] if isinstance(target, list) else target[part]
    last = parts[-1]
    if isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value


def localized_scores(stored: Mapping[str, Any], source: Json, translated: Json) -> Json:
    """Stored scores, bands and flags (the shape of ``scoring_to_json``) with their labels
    taken from *translated*, the same definition version in the page's language.

    A submission stores labels in the definition's source language, so that the record and
    the exports read the same whatever language the citizen chose; a receipt shows them in
    the page's language. Scores and flags are found by id; a band by id and source label
    (two band sets may reuse an id). Anything not found keeps its stored label.
    """
    if source is translated:
        return dict(stored)
    source_scores = {s.get("id"): s for s in source.get("scores", [])}
    target_scores = {s.get("id"): s for s in translated.get("scores", [])}
    scores: Json = {}
    for score_id, result in _mapping_of(stored.get("scores")).items():
        shown = dict(result)
        target = target_scores.get(score_id)
        if target is not None:
            shown["label"] = target.get("label", shown.get("label"))
            band = shown.get("band")
            if isinstance(band, Mapping):
                shown["band"] = {**band, "label": _band_label(
                    band, source_scores.get(score_id, {}), target)}
        scores[score_id] = shown
    target_flags = {f.get("id"): f for f in translated.get("flags", [])}
    flags = [
        {**flag, "label": target_flags.get(flag.get("id"), {}).get("label", flag.get("label"))}
        for flag in stored.get("flags", []) if isinstance(flag, Mapping)
    ]
    return {**stored, "scores": scores, "flags": flags}


def _band_label(band: Mapping[str, Any], source: Json, target: Json) -> Any:
    pairs = [
        (mine, theirs)
        for mine_set, their_set in zip(source.get("band_sets", []), target.get("band_sets", []),
                                       strict=False)
        for mine, theirs in zip(mine_set.get("bands", []), their_set.get("bands", []),
                                strict=False)
        if mine.get("id") == band.get("id")
    ]
    for mine, theirs in pairs:
        if mine.get("label") == band.get("label"):
            return theirs.get("label")
    return pairs[0][1].get("label") if pairs else band.get("label")


def _mapping_of(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
