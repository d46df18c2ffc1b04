"""Form content as gettext messages: the ``designs`` domain's extractor and its template.

A definition is written in one language (its ``language``, Swedish for every shipped design)
and keeps one set of values, codes, weights and rules for every language; only its texts are
translated. Those texts reach translators the way interface strings do — through a ``.pot``
template and one ``.po`` per language — but in a domain of their own (``designs``), so content
and interface can be translated and released separately.

Every text gets a message context ``"<definition id>:<JSON pointer of the text>"``, for example
``phq-9:/layout/pages/0/sections/1/items/0/rows/8/label``. The context, not the wording, is the
key: the same Swedish word in two places ("Läkemedel" as a page title and as a group label) is
two entries that may be translated differently, and the runtime finds a translation by context
(:mod:`formular.i18n.content`). The auto comment (``#.``) says which item, option or band the
text belongs to, so a translator need not read the JSON.

Health-profile definitions (``designs/profiles/*.json``, :mod:`formular.profiles`) are form
content too: their title, notice, level and area texts are extracted into the same domain with
the context ``"<profile id>:<JSON pointer>"`` (:func:`profile_texts`).

:func:`texts_of` is the single list of translatable texts: the Babel extractor
(:func:`extract_designs`, registered as the ``formular_designs`` extraction method) and the
runtime translation both use it, so what is extracted is exactly what is translated.

The template is written by ``pybabel extract`` with :data:`EXTRACT_OPTIONS` (or
``formular i18n extract``); :func:`write_template` runs the same extraction in process.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from json.decoder import scanstring  # type: ignore[attr-defined]
from pathlib import Path
from typing import IO, Any

from formular.definitions.problems import pointer_join
from formular.definitions.tree import iter_items

ROOT = Path(__file__).resolve().parents[2]
#: The designs domain: ``translations/designs.pot`` and ``<locale>/LC_MESSAGES/designs.po``.
DOMAIN = "designs"
TEMPLATE = ROOT / "translations" / f"{DOMAIN}.pot"

#: The options of ``pybabel extract`` after the subcommand, minus ``-o`` and the input folder.
EXTRACT_OPTIONS: tuple[str, ...] = (
    "-F", "babel-designs.cfg", "--no-location", "--sort-output",
    "--project", "Formulär", "--copyright-holder", "Formulär contributors",
)
EXTRACT_COMMAND = (
    ".venv/bin/pybabel extract -F babel-designs.cfg --no-location --sort-output "
    '--project Formulär --copyright-holder "Formulär contributors" '
    "-o translations/designs.pot ."
)
#: Fuzzy matching stays on: a changed source text keeps its old translation as a *fuzzy*
#: suggestion, which the runtime treats as stale (never shown) until a translator confirms it.
UPDATE_COMMAND = (
    ".venv/bin/pybabel update -D designs -i translations/designs.pot -d translations "
    "--ignore-pot-creation-date"
)

Json = dict[str, Any]

#: Item keys holding text, in the order a translator meets them on screen.
ITEM_TEXT_KEYS = ("label", "help", "text", "unit", "min_label", "max_label", "add_label",
                  "remove_label", "error_text")


@dataclass(frozen=True)
class TextEntry:
    """One translatable text of a definition."""

    #: JSON pointer of the text inside the definition.
    pointer: str
    #: The message context: ``"<definition id>:<pointer>"``.
    context: str
    #: The text in the definition's own language (the msgid).
    text: str
    #: Where the text is used, for the translator (``#.`` in the catalog).
    comment: str = ""


def is_profile(document: Any) -> bool:
    """Whether a JSON document is a profile definition (``designs/profiles/``, its format key
    is ``profile``) rather than a form definition (``formular``)."""
    return isinstance(document, Mapping) and "profile" in document and "formular" not in document


def texts_of(document: Mapping[str, Any]) -> list[TextEntry]:
    """Every translatable text of a definition (or of a profile definition, see
    :func:`profile_texts`), in document order, empty texts left out.

    Codes, values, weights, ids, rules and test cases are never listed: they are the same in
    every language. Licence and copyright lines are legal text quoted as published and stay
    in the source language.
    """
    if is_profile(document):
        return profile_texts(document)
    design = str(document.get("id", ""))
    found: list[TextEntry] = []

    def add(value: Any, comment: str, *parts: str | int) -> None:
        if isinstance(value, str) and value.strip():
            pointer = pointer_join(*parts)
            found.append(TextEntry(pointer, f"{design}:{pointer}", value, comment))

    add(document.get("title"), "form title", "title")
    add(document.get("description"), "form description", "description")
    add(document.get("contact"), "form contact", "contact")
    for set_name, options in _mapping(document.get("option_sets")).items():
        for index, option in enumerate(_list(options)):
            add(_mapping(option).get("label"),
                f"option set {set_name}: option {_mapping(option).get('value')!r}",
                "option_sets", set_name, index, "label")
    for page_index, page in enumerate(_list(_mapping(document.get("layout")).get("pages"))):
        page = _mapping(page)
        where = ("layout", "pages", page_index)
        add(page.get("title"), f"page {page.get('id')}: title", *where, "title")
        add(page.get("intro"), f"page {page.get('id')}: introduction", *where, "intro")
        for section_index, section in enumerate(_list(page.get("sections"))):
            section = _mapping(section)
            inner = (*where, "sections", section_index)
            add(section.get("title"), f"section {section.get('id')}: title", *inner, "title")
            add(section.get("help"), f"section {section.get('id')}: help", *inner, "help")
    if isinstance(document.get("layout"), Mapping):
        for placed in iter_items(dict(document)):
            found += _item_texts(design, placed.item, placed.pointer, placed.group)
    for index, score in enumerate(_list(document.get("scores"))):
        score = _mapping(score)
        name = f"score {score.get('id')}"
        add(score.get("label"), f"{name}: label", "scores", index, "label")
        add(score.get("description"), f"{name}: description", "scores", index, "description")
        for set_index, band_set in enumerate(_list(score.get("band_sets"))):
            for band_index, band in enumerate(_list(_mapping(band_set).get("bands"))):
                band = _mapping(band)
                add(band.get("label"), f"{name}: band {band.get('id') or band_index} "
                    f"({band.get('min')}–{band.get('max')})", "scores", index, "band_sets",
                    set_index, "bands", band_index, "label")
    for index, flag in enumerate(_list(document.get("flags"))):
        add(_mapping(flag).get("label"), f"flag {_mapping(flag).get('id')}: label (for staff"
            f"{' and the citizen' if _mapping(flag).get('citizen_visible') else ''})",
            "flags", index, "label")
    add(_mapping(document.get("policy")).get("terms"), "terms shown before sending",
        "policy", "terms")
    return found


def profile_texts(document: Mapping[str, Any]) -> list[TextEntry]:
    """Every translatable text of a health-profile definition (``designs/profiles/*.json``):
    title, description, notice, level labels and descriptions, and each area's label,
    description, unit and help. Contexts are ``"<profile id>:<JSON pointer>"`` like a form's, so
    a profile id must not be a form definition's id (``formular designs check`` says so)."""
    profile = str(document.get("id", ""))
    found: list[TextEntry] = []

    def add(value: Any, comment: str, *parts: str | int) -> None:
        if isinstance(value, str) and value.strip():
            found.append(_entry(profile, pointer_join(*parts), value, comment))

    add(document.get("title"), "health profile title", "title")
    add(document.get("description"), "health profile description", "description")
    add(document.get("notice"), "health profile notice, shown wherever the profile is shown",
        "notice")
    for index, level in enumerate(_list(document.get("levels"))):
        level = _mapping(level)
        add(level.get("label"), f"profile level {level.get('value')}: label",
            "levels", index, "label")
        add(level.get("description"), f"profile level {level.get('value')}: description",
            "levels", index, "description")
    for index, area in enumerate(_list(document.get("areas"))):
        area = _mapping(area)
        for key in ("label", "description", "unit", "help"):
            add(area.get(key), f"profile area {area.get('id')}: {key}", "areas", index, key)
    return found


def _item_texts(design: str, item: Json, pointer: str, group: Json | None) -> list[TextEntry]:
    name = f"item {item.get('name')} ({item.get('type')})"
    if group is not None:
        name += f" in group {group.get('name')}"
    entries = []
    for key in ITEM_TEXT_KEYS:
        value = item.get(key)
        if isinstance(value, str) and value.strip():
            comment = f"{name}: {key.replace('_', ' ')}"
            if key == "text":
                comment += " (Markdown: keep the ** and [links](…))"
            entries.append(_entry(design, f"{pointer}/{key}", value, comment))
    if isinstance(item.get("options"), list):
        for index, option in enumerate(item["options"]):
            label = _mapping(option).get("label")
            if isinstance(label, str) and label.strip():
                entries.append(_entry(design, f"{pointer}/options/{index}/label", label,
                                      f"{name}: option {_mapping(option).get('value')!r}"))
    for index, row in enumerate(_list(item.get("rows"))):
        label = _mapping(row).get("label")
        if isinstance(label, str) and label.strip():
            entries.append(_entry(design, f"{pointer}/rows/{index}/label", label,
                                  f"{name}: row {_mapping(row).get('name')}"))
    return entries


def _entry(design: str, pointer: str, text: str, comment: str) -> TextEntry:
    return TextEntry(pointer, f"{design}:{pointer}", text, comment)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


# -- the Babel extractor ----------------------------------------------------------------------


def extract_designs(
    fileobj: IO[bytes], keywords: Collection[str], comment_tags: Collection[str],
    options: Mapping[str, Any],
) -> Iterator[tuple[int, str, tuple[str, str], list[str]]]:
    """Babel extraction method for definition files (``designs/*.json``) and health-profile
    definitions (``designs/profiles/*.json``).

    Yields ``(lineno, "pgettext", (context, text), [comment])`` for every text of
    :func:`texts_of`; ``pgettext`` is one of Babel's default keywords, so the context lands in
    ``msgctxt``. A JSON file without a definition's ``formular`` key (or a profile's
    ``profile`` key) yields nothing; a file that is not JSON fails the extraction (a broken
    design should not silently lose its texts from the template).

    :param options: from the mapping file; ``encoding`` (default UTF-8) is honoured.
    """
    if "pgettext" not in keywords:
        raise ValueError("the designs extractor emits pgettext messages: keep Babel's default "
                         "keywords (no --no-default-keywords) or add -k pgettext:1c,2")
    source = fileobj.read().decode(str(options.get("encoding", "utf-8")))
    document = json.loads(source)
    if not isinstance(document, dict) or not ("formular" in document or is_profile(document)):
        return
    lines = value_lines(source)
    for entry in texts_of(document):
        yield lines.get(entry.pointer, 1), "pgettext", (entry.context, entry.text), [
            entry.comment]


_SPACE = re.compile(r"[ \t\n\r]*")
_SCALAR = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null")


def value_lines(source: str) -> dict[str, int]:
    """The line (1-based) on which each value of a JSON text starts, by JSON pointer.

    The standard parser forgets positions; the catalog's ``#:`` locations (when extracted
    without ``--no-location``) should point translators at the right line. The text must
    already be valid JSON: this walks it, it does not check it.
    """
    starts = [index for index, char in enumerate(source) if char == "\n"]
    lines: dict[str, int] = {}

    def skip(position: int) -> int:
        found = _SPACE.match(source, position)
        return found.end() if found else position

    def value(position: int, pointer: str) -> int:
        position = skip(position)
        lines[pointer] = bisect.bisect_left(starts, position) + 1
        char = source[position]
        if char in "{[":
            closing, index = ("}" if char == "{" else "]"), 0
            position = skip(position + 1)
            while source[position] != closing:
                if char == "{":
                    key, position = scanstring(source, position + 1)
                    position = skip(position) + 1  # the colon
                    position = value(position, pointer + pointer_join(key))
                else:
                    position = value(position, f"{pointer}/{index}")
                    index += 1
                position = skip(position)
                if source[position] == ",":
                    position = skip(position + 1)
            return position + 1
        if char == '"':
            return int(scanstring(source, position + 1)[1])
        scalar = _SCALAR.match(source, position)
        return scalar.end() if scalar else position + 1

    value(0, "")
    return lines


# -- the template ------------------------------------------------------------------------------


def write_template(output: Path, root: Path = ROOT) -> None:
    """Extract the designs domain into *output* with :data:`EXTRACT_OPTIONS`, in process.

    The same code as ``pybabel extract`` (Babel's command-line interface), with absolute paths
    so the working directory does not matter.
    """
    from babel.messages.frontend import CommandLineInterface

    options = list(EXTRACT_OPTIONS)
    options[options.index("-F") + 1] = str(root / "babel-designs.cfg")
    status = CommandLineInterface().run(  # type: ignore[no-untyped-call]
        ["pybabel", "-q", "extract", *options, "-o", str(output), str(root)])
    if status:
        raise RuntimeError(f"pybabel extract (designs) failed with status {status}")


def update_catalogs(root: Path = ROOT) -> None:
    """Merge ``designs.pot`` into every ``<locale>/LC_MESSAGES/designs.po`` (:data:`UPDATE_COMMAND`,
    in process), then fill the source-language entries (:func:`fill_source_language`)."""
    from babel.messages.frontend import CommandLineInterface

    translations = root / "translations"
    status = CommandLineInterface().run(  # type: ignore[no-untyped-call]
        ["pybabel", "-q", "update", "-D", DOMAIN, "-i", str(translations / f"{DOMAIN}.pot"),
         "-d", str(translations), "--ignore-pot-creation-date"])
    if status:
        raise RuntimeError(f"pybabel update (designs) failed with status {status}")
    fill_source_language(translations, root / "designs")


def fill_source_language(translations: Path, designs: Path) -> list[Path]:
    """Copy msgid to msgstr, in each designs catalog, for the texts of definitions written in
    that catalog's language; returns the catalogs changed.

    The source language needs no translator (its text *is* the msgid), but a catalog with
    empty entries would read as incomplete to every check; this keeps it complete by
    construction, and clears a fuzzy mark that ``pybabel update`` may have set on it.
    """
    from babel.messages.pofile import read_po, write_po

    languages: dict[str, str] = {}
    # Every JSON file under designs/ (the mapping file extracts designs/**.json): the forms,
    # the health profiles in profiles/ and any other folder of definitions.
    for path in sorted(designs.rglob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(document, dict) and "id" in document:
            languages[str(document["id"])] = str(document.get("language", ""))
    changed = []
    for po in sorted(translations.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        locale = po.parts[-3]
        with po.open("rb") as handle:
            catalog = read_po(handle, locale=locale, domain=DOMAIN)
        touched = False
        for message in catalog:
            design = (message.context or "").partition(":")[0]
            if (message.id and languages.get(design) == locale
                    and (message.string != message.id or message.fuzzy)):
                message.string = message.id
                message.flags.discard("fuzzy")
                touched = True
        if touched:
            with po.open("wb") as handle:
                write_po(handle, catalog)
            changed.append(po)
    return changed
