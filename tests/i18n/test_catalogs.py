"""The interface catalogs in ``translations/``: current with the source, complete, well-formed.

When one of these fails after you added or changed an interface string, run from the repository
root (see translations/README.md)::

    .venv/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output \\
        --project Formulär --copyright-holder "Formulär contributors" \\
        -o translations/messages.pot .
    .venv/bin/pybabel update -i translations/messages.pot -d translations \\
        --no-fuzzy-matching --ignore-pot-creation-date

then translate the new entries in translations/sv/LC_MESSAGES/messages.po and copy each msgid
into its msgstr in translations/en/LC_MESSAGES/messages.po.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po, write_po

from formular.i18n.catalogs import TRANSLATIONS, po_files, untranslated
from formular.i18n.extract_check import (
    EXTRACT_COMMAND,
    ROOT,
    UPDATE_COMMAND,
    catalogs_follow_template,
    template_is_current,
)

HOW_TO_FIX = (f"\n\nRun from the repository root:\n  {EXTRACT_COMMAND}\n  {UPDATE_COMMAND}\n"
              "then translate the new entries (sv) and copy msgid to msgstr (en).")

PO_FILES = po_files()
#: Locales whose catalog must repeat each msgid as its msgstr (the source language).
SOURCE_LOCALES = {"en"}

#: A %-conversion: optional (name), flags, width, precision, type; "%%" is a literal percent.
CONVERSION = re.compile(
    r"%(?:\((?P<name>[^)]*)\))?[#0\- +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?(?P<type>[diouxXeEfFgGcrsa%])")


def _catalog(po: Path) -> Catalog:
    with po.open("rb") as handle:
        return read_po(handle, locale=po.parts[-3])


def _entries(po: Path) -> list[Message]:
    return [message for message in _catalog(po) if message.id]


def _texts(value: str | tuple[str, ...] | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else [str(v) for v in value]


def _named(text: str) -> set[str]:
    return {m["name"] for m in CONVERSION.finditer(text) if m["name"] is not None}


def _conversions(text: str) -> Counter[tuple[str | None, str]]:
    return Counter((m["name"], m["type"]) for m in CONVERSION.finditer(text))


po_params = pytest.mark.parametrize(
    "po", PO_FILES, ids=[str(p.relative_to(TRANSLATIONS)) for p in PO_FILES])


def test_there_are_catalogs() -> None:
    assert {p.parts[-3] for p in PO_FILES} >= {"sv", "en"}


def test_template_is_current() -> None:
    differences = template_is_current()
    assert not differences, ("translations/messages.pot is out of date with the source:\n  "
                             + "\n  ".join(differences) + HOW_TO_FIX)


def test_catalogs_follow_the_template() -> None:
    differences = catalogs_follow_template()
    assert not differences, ("a catalog was not updated from messages.pot:\n  "
                             + "\n  ".join(differences) + HOW_TO_FIX)


@po_params
def test_every_entry_is_translated_and_not_fuzzy(po: Path) -> None:
    missing = untranslated(po)
    assert not missing, (f"{po.relative_to(ROOT)}: {len(missing)} entries untranslated or fuzzy:"
                         "\n  " + "\n  ".join(repr(m) for m in missing))
    assert not _catalog(po).fuzzy, f"{po.relative_to(ROOT)}: the header is marked fuzzy"


# Interface strings only: form content (designs.po) is written in Swedish and translated into
# English; tests/i18n/test_extractor.py checks that the sv designs catalog repeats each msgid.
@pytest.mark.parametrize("po", [p for p in PO_FILES
                                if p.parts[-3] in SOURCE_LOCALES and p.name == "messages.po"],
                         ids=lambda p: str(p.relative_to(TRANSLATIONS)))
def test_source_language_catalog_repeats_each_msgid(po: Path) -> None:
    different = [m.id for m in _entries(po) if _texts(m.string) != _texts(m.id)]
    assert not different, (f"{po.relative_to(ROOT)}: msgstr differs from msgid (fix the English "
                           "in the source instead):\n  " + "\n  ".join(map(repr, different)))


@po_params
def test_placeholders_are_kept(po: Path) -> None:
    wrong = []
    for message in _entries(po):
        # A plural entry's forms each carry the placeholders of one form of the msgid.
        sources = _texts(message.id)
        for text in _texts(message.string):
            if not any(_named(text) == _named(source) for source in sources):
                wrong.append(f"{message.id!r}: {sorted(_named(text))} != "
                             f"{sorted(_named(sources[0]))}")
            elif message.python_format and not any(
                    _conversions(text) == _conversions(source) for source in sources):
                wrong.append(f"{message.id!r}: {text!r} changes a conversion")
    assert not wrong, f"{po.relative_to(ROOT)}: placeholders differ:\n  " + "\n  ".join(wrong)


@po_params
def test_msgfmt_check_passes(po: Path) -> None:
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.skip("msgfmt (GNU gettext) is not installed; scripts/test installs it")
    result = subprocess.run([msgfmt, "--check", "-o", os.devnull, str(po)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"msgfmt --check {po.relative_to(ROOT)}:\n{result.stderr}"
    assert "warning" not in result.stderr, (
        f"msgfmt --check {po.relative_to(ROOT)} warns:\n{result.stderr}")


@po_params
def test_babel_check_reports_nothing(po: Path) -> None:
    problems = [f"{message.id!r}: {'; '.join(map(str, errors))}"
                for message, errors in _catalog(po).check()]
    assert not problems, f"{po.relative_to(ROOT)}:\n  " + "\n  ".join(problems)


# The checks themselves: they must notice what they exist to notice.


def test_template_check_notices_a_missing_and_an_extra_message(tmp_path: Path) -> None:
    catalog = _catalog(TRANSLATIONS / "messages.pot")
    dropped = next(m.id for m in catalog if m.id)
    del catalog[dropped]
    catalog.add("No such string in the source")
    stale = tmp_path / "messages.pot"
    with stale.open("wb") as handle:
        write_po(handle, catalog, omit_header=False, sort_output=True, no_location=True)
    differences = template_is_current(template=stale)
    assert f"missing from messages.pot: {dropped!r}" in differences
    assert "not in the source any more: 'No such string in the source'" in differences


def test_catalog_check_notices_a_catalog_not_updated(tmp_path: Path) -> None:
    shutil.copy(TRANSLATIONS / "messages.pot", tmp_path / "messages.pot")
    (tmp_path / "xx" / "LC_MESSAGES").mkdir(parents=True)
    catalog = _catalog(TRANSLATIONS / "sv" / "LC_MESSAGES" / "messages.po")
    dropped = next(m.id for m in catalog if m.id)
    del catalog[dropped]
    with (tmp_path / "xx" / "LC_MESSAGES" / "messages.po").open("wb") as handle:
        write_po(handle, catalog)
    assert catalogs_follow_template(tmp_path) == [
        f"xx/LC_MESSAGES/messages.po lacks: {dropped!r}"]


def test_placeholder_pattern() -> None:
    assert _named("Sent %(when)s by %(who)s, 100 %% done") == {"when", "who"}
    assert _conversions("%(n)d of %(total)s") != _conversions("%(n)s of %(total)s")
