"""Importing the listed population through the real pages: the preview's per-row report, the
confirmation (once, in one transaction), file errors, and who may see what."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from formular.population.texts import FILE_PROBLEMS, ROW_PROBLEMS
from formular.storage.audit import EventLog
from formular.storage.db import db
from formular.storage.identity import Citizen
from formular.storage.population import PopulationImport
from tests.functional import staff_support as s
from tests.functional.support import assert_accessible, assert_no_inline_script, parse

from .support import confirm, csv_bytes, digest_of, free_number, upload

WORLD_PREFIX = "popimp"


def swedish(app: Flask, message: Any, **values: Any) -> str:
    """An interface text as the (Swedish) page shows it."""
    from flask_babel import gettext

    with app.test_request_context("/"):
        text = gettext(message) if isinstance(message, str) else str(message)
        return text % values if values else text


def report_rows(html: str) -> dict[str, tuple[str, str]]:
    """Row number → (result, reasons) of the preview's report table."""
    dom = parse(html)
    table = next((t for t in dom.find_all("table", class_="results")
                  if "Row" in t.text() or "Rad" in t.text()), None)
    if table is None:
        return {}
    rows = {}
    body = table.find("tbody")
    assert body is not None
    for tr in body.find_all("tr"):
        cells = [c.text() for c in tr.find_all("td")]
        rows[cells[0]] = (cells[3], cells[4])
    return rows


def count(app: Flask, model: Any, *where: Any) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def citizen(app: Flask, number: str) -> Citizen | None:
    with app.app_context():
        row = db.session.scalars(select(Citizen).where(Citizen.personnummer == number)).first()
        if row is not None:
            db.session.expunge(row)
        return row


@pytest.fixture(scope="module")
def slugs(world: s.World) -> tuple[str, str]:
    return f"{world.label}-a", f"{world.label}-b"


def test_preview_reports_every_row_and_confirm_imports_the_valid_ones(
        sapp: Flask, world: s.World, sender: Any, slugs: tuple[str, str]) -> None:
    mine, theirs = slugs
    fresh1 = free_number(sapp, dt.date(1976, 1, 1))
    fresh2 = free_number(sapp, dt.date(1976, 12, 31), coordination=True)
    bad_check = fresh1[:-1] + str((int(fresh1[-1]) + 1) % 10)
    adult, deceased, hidden = (world.citizens[k] for k in ("adult", "deceased", "protected"))
    data = csv_bytes([
        (fresh1, "Nya Nilsson", mine, "nya@example.org"),          # 2 created
        (f"{fresh2[:8]}-{fresh2[8:]}", "Sam Ordning", world.unit_name, ""),  # 3 created
        (bad_check, "Fel Siffra", mine, ""),                       # 4 error
        (adult.personnummer, "Fel Namn", mine, "ny@example.org"),  # 5 listed, name kept
        (deceased.personnummer, "Död", mine, ""),                  # 6 error
        (hidden.personnummer, "Hemlig Fil", mine, "x@example.org"),  # 7 listed, protected
        (free_number(sapp, dt.date(1976, 3, 3)), "Annan Enhet", theirs, ""),  # 8 error
        (fresh1, "Nya Nilsson", mine, "nya@example.org"),          # 9 repeat: once
        (free_number(sapp, dt.date(1976, 3, 4)), "", mine, ""),    # 10 error
    ], bom=True)
    events_before = count(sapp, EventLog, EventLog.event == "population.imported")
    uploaded = upload(sender, data)
    assert uploaded.import_id is not None, uploaded.html[:2000]
    html = uploaded.html
    assert_accessible(html)
    assert_no_inline_script(html)
    rows = report_rows(html)
    assert set(rows) == {"4", "5", "6", "7", "8", "9", "10"}
    assert swedish(sapp, ROW_PROBLEMS["pnr-checksum"]) in rows["4"][1]
    assert swedish(sapp, ROW_PROBLEMS["name-differs"]) in rows["5"][1]
    assert swedish(sapp, ROW_PROBLEMS["deceased"]) in rows["6"][1]
    assert swedish(sapp, ROW_PROBLEMS["protected"]) in rows["7"][1]
    assert swedish(sapp, ROW_PROBLEMS["unit-not-allowed"]) in rows["8"][1]
    assert swedish(sapp, ROW_PROBLEMS["duplicate-same"], line=2) in rows["9"][1]
    assert swedish(sapp, ROW_PROBLEMS["name-missing"]) in rows["10"][1]
    # Nothing is stored before the confirmation.
    assert citizen(sapp, fresh1) is None
    with sapp.app_context():
        record = db.session.get(PopulationImport, uploaded.import_id)
        assert record is not None
        assert record.status == "preview"
        assert (record.counts["import"], record.counts["create"], record.counts["error"]) == (
            4, 2, 4)

    response = confirm(sender, uploaded.import_id)
    assert response.status_code == 302
    created = citizen(sapp, fresh1)
    assert created is not None
    assert (created.name, created.email, created.listed_unit_id) == (
        "Nya Nilsson", "nya@example.org", world.unit_id)
    coordination = citizen(sapp, fresh2)
    assert coordination is not None
    assert coordination.listed_unit_id == world.unit_id
    kept = citizen(sapp, adult.personnummer)
    assert kept is not None
    assert (kept.name, kept.listed_unit_id) == (adult.name, world.unit_id)
    secret = citizen(sapp, hidden.personnummer)
    assert secret is not None
    assert (secret.name, secret.listed_unit_id) == (hidden.name, world.unit_id)
    assert secret.email != "x@example.org"
    assert citizen(sapp, bad_check) is None
    dead = citizen(sapp, deceased.personnummer)
    assert dead is not None
    assert dead.listed_unit_id is None
    with sapp.app_context():
        record = db.session.get(PopulationImport, uploaded.import_id)
        assert record is not None
        assert (record.status, record.staged, record.unit_ids) == ("applied", {},
                                                                   [world.unit_id])
        assert record.applied_at is not None
        staff_id = world.staff["sender"].id
        assert record.created_by_id == staff_id
        assert len(record.digest) == 64
        event = db.session.scalars(select(EventLog).where(
            EventLog.event == "population.imported", EventLog.object_id == record.id)).one()
        assert (event.unit_id, event.actor_id, event.data["listed"], event.data["create"]) == (
            world.unit_id, staff_id, 4, 2)
    assert count(sapp, EventLog, EventLog.event == "population.imported") == events_before + 1
    result = sender.get(s.location(response))
    assert "digest" not in s.body(result)
    assert "Nya Nilsson" not in s.body(result), "the staged rows are gone after applying"


def test_a_second_confirmation_changes_nothing(sapp: Flask, world: s.World, sender: Any,
                                               slugs: tuple[str, str]) -> None:
    number = free_number(sapp, dt.date(1976, 6, 6))
    uploaded = upload(sender, csv_bytes([(number, "Två Gånger", slugs[0], "")]))
    assert uploaded.import_id is not None
    digest = digest_of(uploaded.html)
    assert confirm(sender, uploaded.import_id, digest).status_code == 302
    events = count(sapp, EventLog, EventLog.event == "population.imported")
    with sapp.app_context():
        db.session.execute(update(Citizen).where(Citizen.personnummer == number)
                           .values(listed_unit_id=world.other_unit_id))
        db.session.commit()
    again = sender.post(f"/staff/population/imports/{uploaded.import_id}",
                        data={"csrf_token": s.fresh_csrf(sender), "digest": digest})
    assert again.status_code == 302
    person = citizen(sapp, number)
    assert person is not None
    assert person.listed_unit_id == world.other_unit_id
    assert count(sapp, EventLog, EventLog.event == "population.imported") == events
    assert count(sapp, Citizen, Citizen.personnummer == number) == 1
    page = s.body(sender.get(s.location(again)))
    assert swedish(sapp, "This file has already been imported; nothing was changed.") in (
        parse(page).text())


def test_a_confirmation_naming_another_file_is_refused(sapp: Flask, sender: Any,
                                                       slugs: tuple[str, str]) -> None:
    number = free_number(sapp, dt.date(1976, 6, 7))
    uploaded = upload(sender, csv_bytes([(number, "Fel Fil", slugs[0], "")]))
    assert uploaded.import_id is not None
    response = confirm(sender, uploaded.import_id, "0" * 64)
    assert response.status_code == 302
    assert citizen(sapp, number) is None
    with sapp.app_context():
        record = db.session.get(PopulationImport, uploaded.import_id)
        assert record is not None
        assert record.status == "preview"


def test_a_stale_preview_cannot_be_confirmed(sapp: Flask, sender: Any,
                                             slugs: tuple[str, str]) -> None:
    number = free_number(sapp, dt.date(1976, 6, 8))
    uploaded = upload(sender, csv_bytes([(number, "Gammal Fil", slugs[0], "")]))
    assert uploaded.import_id is not None
    digest = digest_of(uploaded.html)
    with sapp.app_context():
        db.session.execute(update(PopulationImport)
                           .where(PopulationImport.id == uploaded.import_id)
                           .values(created_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=2)))
        db.session.commit()
    assert confirm(sender, uploaded.import_id, digest).status_code == 302
    assert citizen(sapp, number) is None
    with sapp.app_context():
        record = db.session.get(PopulationImport, uploaded.import_id)
        assert record is not None
        assert (record.status, record.staged) == ("expired", {})


@pytest.mark.parametrize(("data", "code"), [
    ("personnummer;namn;listningsenhet\n19760101-2384;Åsa;vc\n".encode("cp1252"), "encoding"),
    (b"personnummer;namn\n197601012384;Kim\n", "missing-columns"),
    (b"personnummer;namn;enhet\n197601012384;\"Kim;vc\n", "malformed"),
    (b"", "empty"),
])
def test_an_unreadable_file_is_a_clear_error_and_stores_nothing(
        sapp: Flask, sender: Any, data: bytes, code: str) -> None:
    before = count(sapp, PopulationImport)
    uploaded = upload(sender, data)
    assert uploaded.import_id is None
    assert uploaded.response.status_code == 400
    dom = assert_accessible(uploaded.html)
    message = dom.find(id="file-error")
    assert message is not None
    expected = swedish(sapp, FILE_PROBLEMS[code], columns="", line=1, size=5, limit=0)
    assert expected.split("%")[0][:25] in message.text()
    assert count(sapp, PopulationImport) == before


def test_a_file_over_the_size_limit_is_refused(sapp: Flask, sender: Any,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from formular.population import csv_import

    data = csv_bytes([(f"19760101238{i}", "Kim", "x", "") for i in range(10)])
    monkeypatch.setattr(csv_import, "MAX_BYTES", len(data) - 1)
    monkeypatch.setattr("formular.web.population.MAX_BYTES", len(data) - 1)
    uploaded = upload(sender, data)
    assert uploaded.response.status_code == 400
    assert uploaded.import_id is None


def test_a_post_without_a_file_is_an_error(sender: Any) -> None:
    page = sender.get("/staff/population/import")
    response = sender.post("/staff/population/import",
                           data={"csrf_token": s.csrf_of(s.body(page))},
                           content_type="multipart/form-data")
    assert response.status_code == 400
    assert_accessible(s.body(response))


def test_the_preview_is_only_for_the_uploader(sapp: Flask, world: s.World, sender: Any,
                                              slugs: tuple[str, str]) -> None:
    number = free_number(sapp, dt.date(1976, 6, 9))
    uploaded = upload(sender, csv_bytes([(number, "Bara Min", slugs[0], "")]))
    assert uploaded.import_id is not None
    url = f"/staff/population/imports/{uploaded.import_id}"
    for key in ("admin", "b-sender", "b-admin"):
        other = s.staff_client(sapp, world.staff[key])
        assert other.get(url).status_code == 404, key
        posted = other.post(url, data={"csrf_token": s.fresh_csrf(other),
                                       "digest": digest_of(uploaded.html)})
        assert posted.status_code == 404, key
    for key in ("reviewer", "designer", "auditor"):
        other = s.staff_client(sapp, world.staff[key])
        assert other.get(url).status_code == 403, key
        assert other.get("/staff/population/import").status_code == 403, key
    assert citizen(sapp, number) is None


def test_an_admin_imports_for_their_unit(sapp: Flask, world: s.World,
                                         slugs: tuple[str, str]) -> None:
    admin = s.staff_client(sapp, world.staff["admin"])
    number = free_number(sapp, dt.date(1976, 6, 10))
    uploaded = upload(admin, csv_bytes([(number, "Adam Importerad", slugs[0], ""),
                                        (number[:-1] + "0" if number[-1] != "0" else
                                         number[:-1] + "1", "Fel", slugs[0], "")]))
    assert uploaded.import_id is not None
    assert confirm(admin, uploaded.import_id).status_code == 302
    person = citizen(sapp, number)
    assert person is not None
    assert person.listed_unit_id == world.unit_id


def test_an_existing_person_without_email_gets_the_files(sapp: Flask, world: s.World,
                                                         sender: Any,
                                                         slugs: tuple[str, str]) -> None:
    person = s.add_citizen(sapp, f"Utan Post {world.label}", dt.date(1976, 7, 7), email=None)
    uploaded = upload(sender, csv_bytes([(person.personnummer, person.name, slugs[0],
                                          "utan.post@example.org")]))
    assert uploaded.import_id is not None
    assert confirm(sender, uploaded.import_id).status_code == 302
    stored = citizen(sapp, person.personnummer)
    assert stored is not None
    assert (stored.email, stored.listed_unit_id) == ("utan.post@example.org", world.unit_id)


def test_the_import_page_lists_earlier_imports_of_the_units(
        sapp: Flask, world: s.World, sender: Any) -> None:
    page = sender.get("/staff/population/import")
    assert page.status_code == 200
    dom = assert_accessible(s.body(page))
    assert world.unit_name in dom.text()
    other = s.staff_client(sapp, world.staff["b-sender"])
    theirs = s.body(other.get("/staff/population/import"))
    assert world.staff["sender"].name not in theirs


def test_markup_in_the_file_is_escaped_and_stored_as_text(sapp: Flask, world: s.World,
                                                         sender: Any,
                                                         slugs: tuple[str, str]) -> None:
    number = free_number(sapp, dt.date(1976, 6, 11))
    hostile = '<script>alert(1)</script> =HYPERLINK("x")'
    uploaded = upload(sender, csv_bytes([(number, hostile, slugs[0], ""),
                                         ("<b>19760101</b>", "X", slugs[0], "")]))
    assert uploaded.import_id is not None
    assert "<script>alert(1)" not in uploaded.html
    assert "<b>19760101</b>" not in uploaded.html
    assert "&lt;b&gt;19760101&lt;/b&gt;" in uploaded.html
    assert_no_inline_script(uploaded.html)
    assert confirm(sender, uploaded.import_id).status_code == 302
    stored = citizen(sapp, number)
    assert stored is not None
    assert stored.name == hostile
