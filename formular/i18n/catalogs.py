"""Compile and check the interface catalogs with Babel's own reader and writer.

The compiled ``.mo`` files are build output (not committed): the demo command and the test
command compile them, so a fresh clone always runs with catalogs matching its ``.po`` files.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

TRANSLATIONS = Path(__file__).resolve().parents[2] / "translations"


def po_files(folder: Path = TRANSLATIONS) -> list[Path]:
    return sorted(folder.glob("*/LC_MESSAGES/*.po"))


def compile_all(folder: Path = TRANSLATIONS) -> list[Path]:
    """Write a ``.mo`` beside every ``.po``; fuzzy entries are left out, as msgfmt does."""
    written = []
    for po in po_files(folder):
        with po.open("rb") as handle:
            catalog = read_po(handle, locale=po.parts[-3])
        mo = po.with_suffix(".mo")
        with mo.open("wb") as handle:
            write_mo(handle, catalog, use_fuzzy=False)
        written.append(mo)
    return written


def untranslated(po: Path) -> list[str]:
    """Message ids without a translation (or only a fuzzy one)."""
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=po.parts[-3])
    return [
        str(message.id) for message in catalog
        if message.id and (message.fuzzy or not (
            all(message.string) if isinstance(message.string, tuple) else message.string))
    ]
