"""PO export and import: a lossless round trip, conflicts, refusals and stale entries."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po
from flask import Flask
from sqlalchemy import select, update

from formular.audit.service import EventLog  # type: ignore[attr-defined]
from formular.i18n import editor, overlay
from formular.i18n.catalogs import TRANSLATIONS
from formular.i18n.content import Translation
from formular.storage.db import db
from formular.storage.translations import TranslationEdit


def parse(data: bytes, locale: str = "sv", domain: str = "messages") -> Catalog:
    return read_po(io.BytesIO(data), locale=locale, domain=domain)


def dump(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    write_po(buffer, catalog, include_previous=True)
    return buffer.getvalue()


def fields(catalog: Catalog) -> list[tuple[object, ...]]:
    return [(m.id, m.context, m.string, sorted(m.flags), m.auto_comments, m.user_comments,
             m.locations, m.previous_id) for m in catalog if m.id]


def entry(app: Flask, domain: str, locale: str, msgid: str,
          context: str = "") -> editor.Entry:
    with app.app_context():
        return next(e for e in editor.entries(domain, locale)
                    if e.msgid == msgid and e.context == context)


def do_import(app: Flask, domain: str, locale: str, data: bytes) -> editor.ImportReport:
    with app.app_context(), db.transaction() as session:
        report = editor.import_po(session, domain, locale, data, None)
    overlay.invalidate(app)
    return report


def export(app: Flask, domain: str = "messages", locale: str = "sv") -> bytes:
    with app.app_context():
        return editor.export_po(domain, locale)


def test_round_trip_is_lossless(app: Flask) -> None:
    first = parse(export(app))
    assert str(first.version).startswith("rev-")
    plural = next(m for m in first if isinstance(m.id, tuple))
    with_context = next(m for m in first if m.context and not isinstance(m.id, tuple))
    plain = next(m for m in first if m.id == "Save and continue later")
    # Edit in the file, as a PO editor would: a plural, a contextual entry, a comment.
    plural.string = ("%(num)s rad (ändrad)", "%(num)s rader (ändrad)") if "%(num)s" in str(
        plural.id[0]) else plural.string
    with_context.string = f"{with_context.string} (ändrad)"
    plain.string = "Spara och fortsätt en annan gång"
    plain.user_comments = ["Checked by the language team"]
    edited = dump(first)
    report = do_import(app, "messages", "sv", edited)
    assert report.error is None, report
    assert not report.conflicts, report
    assert not report.refused, report
    assert len(report.applied) == (3 if "%(num)s" in str(plural.id[0]) else 2)
    again = parse(export(app))
    assert fields(again) == fields(parse(edited))
    assert int(str(again.version).removeprefix("rev-")) > int(
        str(first.version).removeprefix("rev-"))
    # Importing the same file again changes nothing.
    assert do_import(app, "messages", "sv", edited).applied == []


def test_round_trip_of_form_content(app: Flask) -> None:
    first = parse(export(app, "designs", "en"), "en", "designs")
    message = next(m for m in first if m.id and str(m.context).startswith("phq-9:"))
    message.string = f"{message.string} (revised)"
    report = do_import(app, "designs", "en", dump(first))
    assert [e.context for e in report.applied] == [message.context]
    assert fields(parse(export(app, "designs", "en"), "en", "designs")) == fields(first)


def test_hostile_import_is_refused(app: Flask) -> None:
    catalog = parse(export(app))
    target = next(m for m in catalog if m.id == "Save and continue later")
    target.string = "<img src=x onerror=alert(1)>"
    report = do_import(app, "messages", "sv", dump(catalog))
    assert report.applied == []
    [(source, problems)] = report.refused
    assert source == "Save and continue later"
    assert "event-handler" in {p.key for p in problems}
    assert entry(app, "messages", "sv", "Save and continue later").edit is None


def test_import_never_overwrites_a_newer_edit(app: Flask) -> None:
    old_file = parse(export(app))  # translator B downloads
    # Translator A saves in the editor afterwards.
    target = entry(app, "messages", "sv", "Save and continue later")
    with app.app_context(), db.transaction() as session:
        saved = editor.save(session, target, ["Spara nu, fortsätt sedan"], None, 0)
    overlay.invalidate(app)
    assert saved.outcome == "saved"
    # B's file changes the same entry, based on the older revision.
    next(m for m in old_file if m.id == "Save and continue later").string = "B:s version"
    report = do_import(app, "messages", "sv", dump(old_file))
    assert [c.entry.msgid for c in report.conflicts] == ["Save and continue later"]
    assert report.conflicts[0].imported == ("B:s version",)
    assert entry(app, "messages", "sv", "Save and continue later").translation == (
        "Spara nu, fortsätt sedan",)
    # A file exported after A's save applies.
    new_file = parse(export(app))
    next(m for m in new_file if m.id == "Save and continue later").string = "B:s version"
    assert len(do_import(app, "messages", "sv", dump(new_file)).applied) == 1
    with app.app_context():
        events = db.session.scalars(select(EventLog.event).where(
            EventLog.event.like("translation.%"))).all()
    assert "translation.edited" in events
    assert "translation.imported" in events


def test_editor_form_never_overwrites_a_newer_edit(app: Flask) -> None:
    target = entry(app, "messages", "sv", "Save and continue later")
    with app.app_context(), db.transaction() as session:
        assert editor.save(session, target, ["Först"], None, 0).outcome == "saved"
    overlay.invalidate(app)
    with app.app_context(), db.transaction() as session:
        result = editor.save(session, target, ["Sedan"], None, 0)
    assert result.outcome == "conflict"
    assert result.edit is not None
    assert result.edit.msgstr == ("Först",)


def test_stale_edit_is_listed_with_its_earlier_source(app: Flask, tmp_path: Path) -> None:
    """A translator saves; then the form's text changes and ``formular i18n update`` marks
    the shipped entry fuzzy: the edit is stale, and the editor shows what it was made from."""
    shutil.copytree(TRANSLATIONS / "en", tmp_path / "en")
    with app.app_context():
        target = next(e for e in editor.entries("designs", "en", tmp_path)
                      if e.group == "phq-9" and e.state == "translated")
    with app.app_context(), db.transaction() as session:
        assert editor.save(session, target, ["New wording"], None, 0).outcome == "saved"
    overlay.invalidate(app)
    path = editor.catalog_path("designs", "en", tmp_path)
    catalog = read_po(path.open("rb"), locale="en", domain="designs")
    message = next(m for m in catalog if m.context == target.context)
    catalog.delete(message.id, message.context)
    catalog.add("Ny källtext", message.string, context=message.context, flags={"fuzzy"},
                previous_id=[message.id], auto_comments=message.auto_comments)
    path.write_bytes(dump(catalog))
    with app.app_context():
        now = next(e for e in editor.entries("designs", "en", tmp_path)
                   if e.context == target.context)
        stale = editor.select_entries(editor.entries("designs", "en", tmp_path), "stale")
        raw = editor.export_po("designs", "en", tmp_path)
        exported = parse(raw, "en", "designs")
    assert now.state == "stale"
    assert now.msgid == "Ny källtext"
    assert now.earlier_source == target.msgid
    assert now.translation == ("New wording",)
    assert [e.context for e in stale] == [target.context]
    exported_message = next(m for m in exported if m.context == target.context)
    assert exported_message.fuzzy  # and "#| msgid" names the earlier source (Babel skips it):
    assert f'#| msgid "{target.msgid}"'.encode() in raw
    # At run time a stale edit does not replace a shipped translation of the current text.
    shipped = {target.context: Translation(target.msgid, target.shipped[0])}
    with app.app_context(), db.transaction() as session:
        session.execute(update(TranslationEdit).values(based_on_source="Äldre text"))
        overlay.bump_version(session)
    overlay.invalidate(app)
    with app.app_context():
        assert overlay.overlay_content(shipped, overlay.edits_for("designs", "en")) == shipped


def editor_entries(app: Flask, domain: str, locale: str) -> list[editor.Entry]:
    with app.app_context():
        return [e for e in editor.entries(domain, locale) if e.state == "translated"]


def test_progress_counts(app: Flask) -> None:
    with app.app_context():
        items = editor.entries("designs", "en")
        counts = editor.progress(items)
    assert "phq-9" in counts
    assert "messages" not in counts
    phq = counts["phq-9"]
    assert phq.total == sum(1 for e in items if e.group == "phq-9")
    assert phq.translated + phq.missing + phq.stale == phq.total
    with app.app_context():
        messages = editor.progress(editor.entries("messages", "sv"))["messages"]
    assert messages.missing == 0
    assert messages.translated == messages.total > 100
