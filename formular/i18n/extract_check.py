"""Is ``translations/messages.pot`` what extraction would write now, and do the catalogs follow it?

Interface strings are written in English in the source (``_()``, ``lazy_gettext``/``_l``,
``N_`` and ``{{ _("…") }}`` in Jinja) and reach the translators only through the template
``translations/messages.pot``. When someone adds or changes a string without re-extracting, the
new text silently stays English in every language. The test suite (``tests/i18n``) therefore
calls :func:`template_is_current` and :func:`catalogs_follow_template`, so CI fails when the
catalogs are out of date. The fix is always the same two commands, run from the repository root
(see ``translations/README.md``), followed by translating what they add:

    .venv/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_pgettext:1c,2 \\
        --no-location --sort-output \\
        --project Formulär --copyright-holder "Formulär contributors" \\
        -o translations/messages.pot .
    .venv/bin/pybabel update -i translations/messages.pot -d translations \\
        --no-fuzzy-matching --ignore-pot-creation-date

The check re-runs exactly that extraction (the same ``pybabel`` code, through
``python -m babel.messages.frontend``) into a temporary file and compares it with the committed
template. The header's dates (``POT-Creation-Date``, ``PO-Revision-Date``) and Babel's
``Generated-By`` line are ignored: they change on every run without meaning anything.

Run ``python -m formular.i18n.extract_check`` for the same report on the command line (exit
status 1 when something is out of date).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from formular.i18n.catalogs import TRANSLATIONS, po_files

ROOT = TRANSLATIONS.parent
TEMPLATE = TRANSLATIONS / "messages.pot"

#: The options of ``pybabel extract`` after the subcommand, minus ``-o`` and the input folder.
EXTRACT_OPTIONS: tuple[str, ...] = (
    "-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext", "-k", "lazy_pgettext:1c,2",
    "--no-location", "--sort-output",
    "--project", "Formulär", "--copyright-holder", "Formulär contributors",
)

EXTRACT_COMMAND = (
    ".venv/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_pgettext:1c,2 "
    "--no-location --sort-output "
    '--project Formulär --copyright-holder "Formulär contributors" '
    "-o translations/messages.pot ."
)
UPDATE_COMMAND = (
    ".venv/bin/pybabel update -i translations/messages.pot -d translations "
    "--no-fuzzy-matching --ignore-pot-creation-date"
)

#: Header lines that differ between two runs of the same extraction.
_VOLATILE_HEADER = ('"POT-Creation-Date:', '"PO-Revision-Date:', '"Generated-By:')

Key = tuple[str | None, str, str | None]


def extract(output: Path, root: Path = ROOT) -> None:
    """Run the project's extraction into *output* (the same code as the ``pybabel`` script)."""
    command = [sys.executable, "-m", "babel.messages.frontend", "-q", "extract",
               *EXTRACT_OPTIONS, "-o", str(output), "."]
    # A fixed argument list with this interpreter: no shell, no outside input.
    result = subprocess.run(command, cwd=root, capture_output=True, text=True,  # noqa: S603
                            check=False)
    if result.returncode != 0:
        raise RuntimeError(f"pybabel extract failed ({result.returncode}):\n{result.stderr}")


def read_catalog(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def message_keys(catalog: Catalog) -> set[Key]:
    """(msgctxt, msgid, msgid_plural) of every entry but the header and obsolete ones."""
    keys: set[Key] = set()
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, tuple | list):
            singular, plural = str(message.id[0]), str(message.id[1])
            keys.add((message.context, singular, plural))
        else:
            keys.add((message.context, str(message.id), None))
    return keys


def describe(key: Key) -> str:
    context, msgid, plural = key
    text = repr(msgid)
    if plural is not None:
        text += f" (plural {plural!r})"
    if context is not None:
        text += f" [context {context!r}]"
    return text


def _stable_text(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line for line in lines if not line.startswith(_VOLATILE_HEADER)]


def compare_keys(expected: Iterable[Key], found: Iterable[Key], *, missing: str,
                 extra: str) -> list[str]:
    want, have = set(expected), set(found)
    return ([f"{missing}: {describe(key)}" for key in sorted(want - have, key=_sort_key)]
            + [f"{extra}: {describe(key)}" for key in sorted(have - want, key=_sort_key)])


def _sort_key(key: Key) -> tuple[str, str, str]:
    context, msgid, plural = key
    return (msgid, plural or "", context or "")


def template_is_current(root: Path = ROOT, template: Path | None = None) -> list[str]:
    """Differences between a fresh extraction and the committed template; empty when current.

    Each line names one message id that is in the source but not in the template
    ("missing from messages.pot") or in the template but no longer in the source
    ("not in the source any more"). When the message ids agree but the files still differ
    (extracted with other options, say with locations or unsorted, or a ``python-format`` flag
    changed), one line says so. Header dates are ignored.
    """
    template = template or root / "translations" / "messages.pot"
    if not template.exists():
        return [f"{template} does not exist: run {EXTRACT_COMMAND}"]
    with tempfile.TemporaryDirectory(prefix="formular-i18n-") as folder:
        fresh = Path(folder) / "messages.pot"
        extract(fresh, root)
        differences = compare_keys(
            message_keys(read_catalog(fresh)), message_keys(read_catalog(template)),
            missing="missing from messages.pot", extra="not in the source any more")
        if not differences and _stable_text(fresh) != _stable_text(template):
            differences.append(
                "messages.pot has the same message ids but differs from a fresh extraction "
                "(other options, flags or wrapping): re-run the extract command")
    return differences


def catalogs_follow_template(folder: Path = TRANSLATIONS) -> list[str]:
    """Entries each ``.po`` lacks or still has compared with its domain's template
    (``messages.po`` with ``messages.pot``, ``designs.po`` with ``designs.pot``; obsolete ones,
    kept as ``#~`` comments, do not count); empty when every catalog was updated."""
    lines: list[str] = []
    templates: dict[str, set[Key]] = {}
    for po in po_files(folder):
        name = str(po.relative_to(folder))
        pot = folder / f"{po.stem}.pot"
        if not pot.exists():
            lines.append(f"{name}: no template {pot.name}")
            continue
        if po.stem not in templates:
            templates[po.stem] = message_keys(read_catalog(pot))
        lines += compare_keys(templates[po.stem], message_keys(read_catalog(po, po.parts[-3])),
                              missing=f"{name} lacks", extra=f"{name} has, but the template not")
    return lines


def main() -> int:
    lines = template_is_current() + catalogs_follow_template()
    for line in lines:
        print(line)
    if lines:
        print(f"\nRun:\n  {EXTRACT_COMMAND}\n  {UPDATE_COMMAND}\nthen translate the new entries.")
        return 1
    print("messages.pot and the catalogs are current.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
