"""The designs extractor and the ``designs`` catalogs: current with designs/, complete, valid.

When ``test_designs_template_is_current`` fails after you changed a text in designs/, run from
the repository root (see translations/README.md)::

    .venv/bin/formular i18n extract
    .venv/bin/formular i18n update

then translate the new or fuzzy entries in translations/en/LC_MESSAGES/designs.po.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract
from babel.messages.pofile import read_po

from formular.i18n.catalogs import TRANSLATIONS
from formular.i18n.extract import (
    EXTRACT_COMMAND,
    TEMPLATE,
    UPDATE_COMMAND,
    texts_of,
    value_lines,
    write_template,
)
from tests.conftest import DESIGNS, load_design

HOW_TO_FIX = (f"\n\nRun from the repository root:\n  {EXTRACT_COMMAND}\n  {UPDATE_COMMAND}\n"
              "then translate the new or fuzzy entries of translations/en/LC_MESSAGES/designs.po.")
DESIGN_PO = sorted(TRANSLATIONS.glob("*/LC_MESSAGES/designs.po"))
_VOLATILE = ('"POT-Creation-Date:', '"PO-Revision-Date:', '"Generated-By:')


def _extract(document: dict[str, Any]) -> list[tuple[int, Any, list[str], str | None]]:
    """Run the registered extraction method (by its entry-point name) on one definition."""
    data = json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")
    return list(extract("formular_designs", io.BytesIO(data)))


def _catalog(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale, domain="designs")


def _keys(catalog: Catalog) -> set[tuple[str | None, str]]:
    return {(m.context, str(m.id)) for m in catalog if m.id}


# -- the extractor -----------------------------------------------------------------------------


def test_extractor_yields_a_context_for_every_text_of_the_showcase() -> None:
    document = load_design("showcase")
    texts = texts_of(document)
    found = _extract(document)
    assert len(found) == len(texts) == 94
    assert [(context, message) for _line, message, _comments, context in found] == [
        (entry.context, entry.text) for entry in texts]
    assert all(context and context.startswith("showcase:/") for *_rest, context in found)
    assert len({entry.context for entry in texts}) == len(texts), "contexts are unique"
    assert all(comments and comments[0] for _line, _message, comments, _context in found), (
        "every entry tells the translator where it is used")


def test_identical_words_in_two_places_get_two_contexts() -> None:
    texts = [e for e in texts_of(load_design("showcase")) if e.text == "Läkemedel"]
    assert [e.context for e in texts] == [
        "showcase:/layout/pages/3/title",
        "showcase:/layout/pages/3/sections/0/items/1/label",
    ]
    english = {m.context: m.string for m in _catalog(
        TRANSLATIONS / "en" / "LC_MESSAGES" / "designs.po", "en")}
    assert english[texts[0].context] != english[texts[1].context], (
        "a page title and a group label may read differently in English")


def test_every_kind_of_text_is_extracted() -> None:
    """One definition using every translatable key; ids, values, codes and rules are not."""
    document = {
        "formular": 1, "id": "kinds", "version": 1, "kind": "questionnaire", "language": "sv",
        "title": "Titel", "description": "Beskrivning", "contact": "Kontakt",
        "licence": "Licens", "copyright": "©",
        "option_sets": {"ja-nej": [{"value": "ja", "label": "Ja"}, {"value": "nej",
                                                                       "label": "Nej"}]},
        "schema": {"type": "object", "properties": {}},
        "layout": {"pages": [{"id": "p", "title": "Sida", "intro": "Inledning", "sections": [
            {"id": "s", "title": "Avsnitt", "help": "Hjälp", "items": [
                {"type": "info", "name": "i", "text": "**Info**"},
                {"type": "integer", "name": "n", "label": "Tal", "unit": "st",
                 "help": "Skriv ett tal", "error_text": "Fel tal"},
                {"type": "scale", "name": "sk", "label": "Skala", "min_label": "Min",
                 "max_label": "Max"},
                {"type": "choice", "name": "c", "label": "Val", "options": [
                    {"value": 1, "label": "Ett"}]},
                {"type": "matrix", "name": "m", "label": "Matris", "options": "ja-nej",
                 "rows": [{"name": "r", "label": "Rad"}]},
                {"type": "group", "name": "g", "label": "Grupp", "add_label": "Lägg till",
                 "remove_label": "Ta bort", "items": [{"type": "text", "name": "t",
                                                       "label": "Text", "help": ""}]},
            ]}]}]},
        "scores": [{"id": "sc", "label": "Poäng", "description": "Summa", "method": "sum",
                    "items": ["n"], "band_sets": [{"bands": [
                        {"id": "b", "min": 0, "max": 1, "label": "Nivå"}]}]}],
        "flags": [{"id": "f", "when": True, "label": "Flagga"}],
        "policy": {"terms": "Villkor"},
        "tests": [{"name": "Testfall", "answers": {}, "expect": {}}],
    }
    item = "/layout/pages/0/sections/0/items"
    assert {e.pointer: e.text for e in texts_of(document)} == {
        "/title": "Titel", "/description": "Beskrivning", "/contact": "Kontakt",
        "/option_sets/ja-nej/0/label": "Ja", "/option_sets/ja-nej/1/label": "Nej",
        "/layout/pages/0/title": "Sida", "/layout/pages/0/intro": "Inledning",
        "/layout/pages/0/sections/0/title": "Avsnitt", "/layout/pages/0/sections/0/help": "Hjälp",
        f"{item}/0/text": "**Info**",
        f"{item}/1/label": "Tal", f"{item}/1/help": "Skriv ett tal", f"{item}/1/unit": "st",
        f"{item}/1/error_text": "Fel tal",
        f"{item}/2/label": "Skala", f"{item}/2/min_label": "Min", f"{item}/2/max_label": "Max",
        f"{item}/3/label": "Val", f"{item}/3/options/0/label": "Ett",
        f"{item}/4/label": "Matris", f"{item}/4/rows/0/label": "Rad",
        f"{item}/5/label": "Grupp", f"{item}/5/add_label": "Lägg till",
        f"{item}/5/remove_label": "Ta bort", f"{item}/5/items/0/label": "Text",
        "/scores/0/label": "Poäng", "/scores/0/description": "Summa",
        "/scores/0/band_sets/0/bands/0/label": "Nivå",
        "/flags/0/label": "Flagga", "/policy/terms": "Villkor",
    }
    assert all(e.context == f"kinds:{e.pointer}" for e in texts_of(document))


def test_a_json_file_that_is_not_a_definition_yields_nothing() -> None:
    assert list(extract("formular_designs", io.BytesIO(b'{"name": "x", "label": "y"}'))) == []


def test_locations_point_at_the_line_of_the_text() -> None:
    source = (DESIGNS / "phq-9.json").read_text(encoding="utf-8")
    lines = value_lines(source)
    pointer = "/layout/pages/0/sections/1/items/0/rows/8/label"
    assert "9. Tankar på att det vore bättre" in source.splitlines()[lines[pointer] - 1]
    escaped = value_lines('{"a/b": {"c~d": [1, "x"]}}')
    assert escaped["/a~1b/c~0d/1"] == 1


# -- the template and the catalogs ---------------------------------------------------------------


def test_designs_template_is_current(tmp_path: Path) -> None:
    fresh = tmp_path / "designs.pot"
    write_template(fresh)
    want, have = _keys(_catalog(fresh)), _keys(_catalog(TEMPLATE))
    assert want == have, (
        "translations/designs.pot is out of date with designs/:\n  "
        + "\n  ".join([f"missing: {k}" for k in sorted(want - have, key=str)]
                      + [f"not in designs/ any more: {k}" for k in sorted(have - want, key=str)])
        + HOW_TO_FIX)
    stable = [[line for line in path.read_text(encoding="utf-8").splitlines()
               if not line.startswith(_VOLATILE)] for path in (fresh, TEMPLATE)]
    assert stable[0] == stable[1], (
        "designs.pot has the same entries but differs from a fresh extraction (comments, "
        "options or wrapping)" + HOW_TO_FIX)


def test_the_template_counts_every_text_of_every_design() -> None:
    expected = sum(len(texts_of(load_design(path.stem))) for path in DESIGNS.glob("*.json"))
    # Health-profile definitions (designs/profiles/) are form content too.
    # So are the clinic-made case-type examples (designs/clinic-examples/).
    expected += sum(len(texts_of(json.loads(path.read_text(encoding="utf-8"))))
                    for pattern in ("profiles/*.json", "clinic-examples/*.json")
                    for path in DESIGNS.glob(pattern))
    assert len(_keys(_catalog(TEMPLATE))) == expected


def test_there_are_swedish_and_english_designs_catalogs() -> None:
    assert {po.parts[-3] for po in DESIGN_PO} >= {"sv", "en"}


po_params = pytest.mark.parametrize("po", DESIGN_PO, ids=[po.parts[-3] for po in DESIGN_PO])


@po_params
def test_designs_catalog_follows_the_template(po: Path) -> None:
    template, catalog = _keys(_catalog(TEMPLATE)), _keys(_catalog(po, po.parts[-3]))
    assert catalog == template, (
        f"{po.relative_to(TRANSLATIONS)} was not updated from designs.pot: lacks "
        f"{sorted(template - catalog, key=str)[:5]}, has {sorted(catalog - template, key=str)[:5]}"
        + HOW_TO_FIX)


@po_params
def test_designs_catalog_is_complete(po: Path) -> None:
    catalog = _catalog(po, po.parts[-3])
    open_entries = [m.context for m in catalog if m.id and (m.fuzzy or not m.string)]
    assert not open_entries, f"{po.relative_to(TRANSLATIONS)}: untranslated or fuzzy: " + (
        ", ".join(map(str, open_entries)))
    assert not catalog.fuzzy, "the header is marked fuzzy"
    assert not [f"{m.context}: {errors}" for m, errors in catalog.check()]


def test_source_language_catalog_repeats_each_msgid() -> None:
    """Every shipped design is written in Swedish: the sv catalog's msgstr is its msgid."""
    assert {load_design(path.stem)["language"] for path in DESIGNS.glob("*.json")} == {"sv"}
    catalog = _catalog(TRANSLATIONS / "sv" / "LC_MESSAGES" / "designs.po", "sv")
    assert not [m.context for m in catalog if m.id and m.string != m.id]


_NUMBERED = re.compile(r"^(\d+)\. ")
_LINK = re.compile(r"\]\(([^)]*)\)")


def test_english_keeps_numbers_markdown_and_links() -> None:
    """What a translator must not change: the question number, bold marks and link targets."""
    wrong = []
    for message in _catalog(TRANSLATIONS / "en" / "LC_MESSAGES" / "designs.po", "en"):
        if not message.id:
            continue
        source, text = str(message.id), str(message.string)
        number = _NUMBERED.match(source)
        if number and not text.startswith(number.group(0)):
            wrong.append(f"{message.context}: question number")
        if source.count("**") != text.count("**") or (
                Counter(_LINK.findall(source)) != Counter(_LINK.findall(text))):
            wrong.append(f"{message.context}: Markdown")
        if "\n\n" in source and source.count("\n\n") != text.count("\n\n"):
            wrong.append(f"{message.context}: paragraphs")
    assert not wrong, wrong


@pytest.mark.parametrize("po", DESIGN_PO, ids=[po.parts[-3] for po in DESIGN_PO])
def test_designs_catalog_passes_msgfmt_check(po: Path) -> None:
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.skip("msgfmt (GNU gettext) is not installed; scripts/test installs it")
    result = subprocess.run([msgfmt, "--check", "-o", os.devnull, str(po)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"msgfmt --check {po}:\n{result.stderr}"
    assert "warning" not in result.stderr, result.stderr
