"""Checking a translation before it is saved (pure functions, no I/O).

Translations are untrusted input: the interface renders them as markup and form content as
Markdown. A translation is refused when it

* has other named placeholders (``%(name)s``) or other ``%`` conversions than its source
  (each plural form is compared with the singular and with the plural source: either may
  match, as a language's "one" form may be worded like the singular);
* uses an HTML tag the source does not use, or another set of tags (a tag's attributes are
  part of it, so a link target cannot change), or a tag outside :data:`ALLOWED_TAGS`;
* contains ``<script``, an ``on…=`` event handler or a ``javascript:`` / ``data:`` /
  ``vbscript:`` URL that the source does not have, or other Markdown link targets;
* leaves a plural form empty, has the wrong number of plural forms, or fails one of Babel's
  own catalog checkers (:mod:`babel.messages.checkers`, what ``Catalog.check()`` runs).

Each failure is a :class:`Problem`: a stable reason key and a message for the person.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from babel.messages.catalog import Catalog, Message, TranslationError
from babel.messages.checkers import checkers
from flask_babel import lazy_gettext as _l

#: Tags a translation may contain at all (and then only those its source has).
ALLOWED_TAGS = frozenset({"a", "abbr", "b", "br", "code", "em", "i", "kbd", "li", "ol", "p",
                          "small", "span", "strong", "sub", "sup", "ul"})

_NAMED = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?([diouxXeEfFgGcrsa])")
_POSITIONAL = re.compile(r"%(?!\()[-#0+]*\d*(?:\.\d+)?([diouxXeEfFgGcrs])")
_TAG = re.compile(r"<\s*(/?)\s*([a-zA-Z][\w:-]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>")
_ATTRIBUTE = re.compile(r"([^\s=/>]+)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>]+))?")
_SCRIPT = re.compile(r"<\s*/?\s*script", re.IGNORECASE)
_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)
_BAD_URL = re.compile(r"(?:javascript|vbscript|data)\s*:", re.IGNORECASE)
_MARKDOWN_LINK = re.compile(r"\]\(\s*([^)\s]*)")

MESSAGES = {
    "empty": _l("Write a translation in every field."),
    "plural-forms": _l("The language needs %(num)s plural forms."),
    "placeholder-missing": _l("Keep the placeholders of the source text: %(names)s."),
    "placeholder-extra": _l("Remove placeholders the source text does not have: %(names)s."),
    "conversion": _l("Keep the %% sequences of the source text exactly (%(names)s)."),
    "script": _l("Scripts are not allowed in a translation."),
    "event-handler": _l("Event attributes (on…=) are not allowed in a translation."),
    "unsafe-url": _l("Links to javascript:, data: or vbscript: are not allowed."),
    "tag-not-allowed": _l("This HTML tag is not allowed: %(names)s."),
    "tags-changed": _l("Use the same HTML tags as the source text: %(names)s."),
    "links-changed": _l("Keep the link targets of the source text: %(names)s."),
    "babel": _l("The catalog check failed: %(names)s"),
    "unknown": _l("This entry is not in the catalog."),
    "source-changed": _l("The source text has changed since the file was exported."),
    "fuzzy": _l("Marked as needing work (fuzzy): not applied."),
}


@dataclass(frozen=True)
class Problem:
    """Why a translation is refused: ``key`` for code and tests, ``message`` for people."""

    key: str
    #: Which plural form (0 for a message without plural), or None for the whole entry.
    form: int | None = None
    detail: str = ""

    @property
    def message(self) -> str:
        return str(MESSAGES[self.key]).replace("%(names)s", self.detail).replace(
            "%(num)s", self.detail).replace("%%", "%")


def named_placeholders(text: str) -> Counter[tuple[str, str]]:
    return Counter(_NAMED.findall(text))


def positional_conversions(text: str) -> list[str]:
    return _POSITIONAL.findall(text.replace("%%", ""))


def tags(text: str) -> Counter[tuple[str, str, tuple[tuple[str, str], ...]]]:
    """The HTML tags of a text: (closing "/" or "", lower-case name, sorted attributes)."""
    found: Counter[tuple[str, str, tuple[tuple[str, str], ...]]] = Counter()
    for closing, name, rest in _TAG.findall(text):
        attributes = tuple(sorted(
            (attribute.lower(), html.unescape(value.strip("\"'")))
            for attribute, value in _ATTRIBUTE.findall(rest.strip().rstrip("/"))))
        found[(closing, name.lower(), attributes)] += 1
    return found


def _names(items: object) -> str:
    return ", ".join(sorted(str(item) for item in items)) if items else ""  # type: ignore[attr-defined]


def _format_tag(tag: tuple[str, str, tuple[tuple[str, str], ...]]) -> str:
    closing, name, attributes = tag
    rest = "".join(f' {key}="{value}"' for key, value in attributes)
    return f"<{closing}{name}{rest}>"


def _check_form(sources: Sequence[str], text: str, form: int) -> list[Problem]:
    problems: list[Problem] = []
    plain = html.unescape(text)
    source_plain = " ".join(html.unescape(source) for source in sources)
    if _SCRIPT.search(plain) and not _SCRIPT.search(source_plain):
        problems.append(Problem("script", form))
    if _HANDLER.search(plain) and not _HANDLER.search(source_plain):
        problems.append(Problem("event-handler", form))
    if len(_BAD_URL.findall(re.sub(r"\s+", "", plain))) > len(
            _BAD_URL.findall(re.sub(r"\s+", "", source_plain))):
        problems.append(Problem("unsafe-url", form))
    # Placeholders: the form must match the singular or the plural source exactly.
    wanted = [named_placeholders(source) for source in sources]
    have = named_placeholders(text)
    if have not in wanted:
        closest = wanted[-1] if form else wanted[0]
        have_names = {name for name, _conv in have}
        closest_names = {name for name, _conv in closest}
        missing = {f"%({name})s" for name in closest_names - have_names}
        extra = {f"%({name})s" for name in have_names - closest_names}
        if missing:
            problems.append(Problem("placeholder-missing", form, _names(missing)))
        if extra:
            problems.append(Problem("placeholder-extra", form, _names(extra)))
        if not missing and not extra:
            problems.append(Problem("conversion", form, _names(
                f"%({name}){conv}" for name, conv in closest)))
    if positional_conversions(text) not in [positional_conversions(s) for s in sources]:
        problems.append(Problem("conversion", form, _names(
            "%" + conv for conv in positional_conversions(sources[0]))))
    # HTML: only tags the source has (and that are allowed at all), and the same ones.
    have_tags = tags(text)
    source_tags = [tags(source) for source in sources]
    disallowed = {name for _closing, name, _attrs in have_tags if name not in ALLOWED_TAGS}
    if disallowed:
        problems.append(Problem("tag-not-allowed", form, _names(f"<{n}>" for n in disallowed)))
    elif have_tags not in source_tags:
        expected = source_tags[-1] if form else source_tags[0]
        problems.append(Problem("tags-changed", form, _names(
            {_format_tag(tag) for tag in expected} or {"–"})))
    links = Counter(_MARKDOWN_LINK.findall(text))
    if links not in [Counter(_MARKDOWN_LINK.findall(source)) for source in sources]:
        problems.append(Problem("links-changed", form, _names(
            set(_MARKDOWN_LINK.findall(sources[-1] if form else sources[0])) or {"–"})))
    return problems


def check_translation(msgid: str, msgid_plural: str | None, msgstr: Sequence[str],
                      locale: str, context: str | None = None,
                      flags: Sequence[str] = ()) -> list[Problem]:
    """Every reason to refuse ``msgstr`` as the translation of the entry; [] when it is fine.

    ``msgstr`` holds one string, or one per plural form of ``locale``.
    """
    problems: list[Problem] = []
    catalog = Catalog(locale=locale)
    forms = catalog.num_plurals if msgid_plural is not None else 1
    if len(msgstr) != forms:
        return [Problem("plural-forms", None, str(forms))]
    for index, text in enumerate(msgstr):
        if not text.strip():
            problems.append(Problem("empty", index))
    if problems:
        return problems
    sources = [msgid] if msgid_plural is None else [msgid, msgid_plural]
    for index, text in enumerate(msgstr):
        problems.extend(_check_form(sources, text, index))
    message = Message(
        (msgid, msgid_plural) if msgid_plural is not None else msgid,
        tuple(msgstr) if msgid_plural is not None else msgstr[0],
        flags=set(flags), context=context or None)
    for checker in checkers:
        try:
            checker(catalog, message)
        except TranslationError as error:
            problems.append(Problem("babel", None, str(error)))
    return problems
