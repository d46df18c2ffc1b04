"""The auditor's view of the access log (PDL): filters by staff, personnummer, unit and dates
(Swedish calendar days), a random sample for review, a region auditor seeing its clinics, no
access for anybody else, and the log being append-only in the database."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from sqlalchemy import insert, select, text
from sqlalchemy.exc import DBAPIError

from formular.storage.audit import AccessLog
from formular.storage.base import utcnow
from formular.storage.db import db
from tests.functional import staff_support as s
from tests.functional.support import assert_accessible, parse

#: Two reads either side of midnight in Stockholm on 10/11 March 2025 (CET, UTC+1).
BEFORE_MIDNIGHT = dt.datetime(2025, 3, 10, 22, 30, tzinfo=dt.UTC)  # 23:30 on the 10th
AFTER_MIDNIGHT = dt.datetime(2025, 3, 10, 23, 30, tzinfo=dt.UTC)  # 00:30 on the 11th
SAMPLED = 10


@pytest.fixture(scope="module")
def sapp(app: Flask, database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Flask:
    return s.staff_app(database_url, tmp_path_factory.mktemp("audit-outbox"))


@pytest.fixture(scope="module")
def world(sapp: Flask) -> s.World:
    """The people, and access-log rows with known times and reasons (what the pages write is
    covered by the send-out and citizen tests; here the rows must be predictable)."""
    built = s.build_world(sapp, "aud")
    people, staff = built.citizens, built.staff
    now = utcnow()
    rows: list[dict[str, Any]] = []

    def row(who: str, unit: int, citizen: str, at: dt.datetime, reason: str,
            action: str = "submission:read") -> None:
        rows.append({"at": at, "staff_user_id": staff[who].id, "unit_id": unit,
                     "citizen_id": people[citizen].id, "action": action,
                     "object_type": "submission", "object_id": None, "reason": reason})

    for index in range(SAMPLED):
        row("reviewer", built.unit_id, "adult" if index % 2 else "adult2",
            now - dt.timedelta(minutes=index + 1), f"aud-sample-{index}")
    row("reviewer", built.unit_id, "adult3", BEFORE_MIDNIGHT, "aud-edge-10")
    row("reviewer", built.unit_id, "adult3", AFTER_MIDNIGHT, "aud-edge-11")
    for index in range(3):
        row("b-reviewer", built.other_unit_id, "adult", now - dt.timedelta(minutes=index + 1),
            f"aud-b-{index}", action="sendout:list")
    with sapp.app_context():
        db.session.execute(insert(AccessLog), rows)
        db.session.commit()
    return built


def audit_page(client: Any, **query: Any) -> Any:
    return client.get("/audit/?" + urlencode(query))


def entries(html: str) -> list[dict[str, str]]:
    table = parse(html).find("table", class_="results")
    assert table is not None
    tbody = table.find("tbody")
    assert tbody is not None
    keys = ("when", "who", "unit", "citizen", "what", "why")
    return [dict(zip(keys, [c.text() for c in tr.find_all("td")], strict=True))
            for tr in tbody.find_all("tr")]


def total_of(html: str) -> int:
    main = parse(html).find("main")
    assert main is not None
    for paragraph in main.find_all("p"):
        found = re.search(r"\d+", paragraph.text())
        if found:
            return int(found.group())
    raise AssertionError("no count of matching entries on the page")


@pytest.fixture(scope="module")
def auditor(sapp: Flask, world: s.World) -> Any:
    return s.staff_client(sapp, world.staff["auditor"])


def test_auditor_sees_the_units_log(sapp: Flask, world: s.World, auditor: Any) -> None:
    response = audit_page(auditor)
    assert response.status_code == 200
    html = s.body(response)
    assert_accessible(html)
    rows = entries(html)
    reasons = {r["why"] for r in rows}
    assert {f"aud-sample-{i}" for i in range(SAMPLED)} <= reasons
    assert not any(r.startswith("aud-b-") for r in reasons)  # unit B is not theirs
    first = next(r for r in rows if r["why"] == "aud-sample-0")
    adult2 = world.citizens["adult2"]
    assert first["who"] == world.staff["reviewer"].name
    assert first["unit"] == world.unit_name
    assert first["citizen"] == f"{adult2.name} ({adult2.dashed})"
    assert first["what"] == s.rendered(sapp, "{{ access_label('submission:read', 'staff') }}")


def test_filter_by_staff_username(sapp: Flask, world: s.World, auditor: Any) -> None:
    html = s.body(audit_page(auditor, staff=world.staff["reviewer"].username))
    rows = entries(html)
    assert total_of(html) == len(rows) == SAMPLED + 2
    assert {r["who"] for r in rows} == {world.staff["reviewer"].name}
    # The display name is not the username: nothing matches it.
    assert entries(s.body(audit_page(auditor, staff=world.staff["reviewer"].name))) == []


def test_filter_by_personnummer(sapp: Flask, world: s.World, auditor: Any) -> None:
    person = world.citizens["adult3"]
    for typed in (person.dashed, person.personnummer, person.personnummer[2:]):
        rows = entries(s.body(audit_page(auditor, citizen=typed)))
        assert {r["why"] for r in rows} == {"aud-edge-10", "aud-edge-11"}, typed
    assert entries(s.body(audit_page(auditor, citizen="not a number"))) == []


def test_filter_by_unit(sapp: Flask, world: s.World, auditor: Any) -> None:
    html = s.body(audit_page(auditor, unit=world.unit_id))
    assert total_of(html) >= SAMPLED + 2
    assert {r["unit"] for r in entries(html)} == {world.unit_name}
    # Choosing a unit one does not audit shows nothing (no probing by id).
    assert entries(s.body(audit_page(auditor, unit=world.other_unit_id))) == []
    options = parse(html).find("select", id="unit")
    assert options is not None
    assert world.other_unit_name not in options.text()
    b_auditor = s.staff_client(sapp, world.staff["b-auditor"])
    rows = entries(s.body(audit_page(b_auditor)))
    assert sorted(r["why"] for r in rows if r["why"].startswith("aud-")) == [
        "aud-b-0", "aud-b-1", "aud-b-2"]


def test_filter_by_swedish_calendar_days(sapp: Flask, world: s.World, auditor: Any) -> None:
    username = world.staff["reviewer"].username
    tenth = entries(s.body(audit_page(auditor, staff=username, **{"from": "2025-03-10",
                                                                  "to": "2025-03-10"})))
    assert [r["why"] for r in tenth] == ["aud-edge-10"]
    assert "23:30" in tenth[0]["when"]
    eleventh = entries(s.body(audit_page(auditor, staff=username, **{"from": "2025-03-11",
                                                                     "to": "2025-03-11"})))
    assert [r["why"] for r in eleventh] == ["aud-edge-11"]
    assert "00:30" in eleventh[0]["when"]
    both = entries(s.body(audit_page(auditor, staff=username, **{"from": "2025-03-01",
                                                                 "to": "2025-03-31"})))
    assert len(both) == 2
    since = entries(s.body(audit_page(auditor, staff=username, **{"from": "2025-03-11"})))
    assert len(since) == SAMPLED + 1
    # An unreadable date is ignored rather than an error.
    assert audit_page(auditor, staff=username, **{"from": "11/3"}).status_code == 200


def test_random_sample_of_the_filtered_set(sapp: Flask, world: s.World, auditor: Any) -> None:
    username = world.staff["reviewer"].username
    everything = {r["why"] for r in entries(s.body(audit_page(auditor, staff=username)))}
    seen: set[str] = set()
    for _ in range(5):
        html = s.body(audit_page(auditor, staff=username, sample=4))
        rows = entries(html)
        reasons = [r["why"] for r in rows]
        assert len(rows) == 4
        assert len(set(reasons)) == 4
        assert set(reasons) <= everything
        assert total_of(html) == SAMPLED + 2  # the size of what was sampled from
        seen |= set(reasons)
    assert len(seen) > 4  # not the same four every time
    # Asking for more than there are gives all of them, once each.
    rows = entries(s.body(audit_page(auditor, staff=username, sample=500)))
    assert sorted(r["why"] for r in rows) == sorted(everything)
    # A sample respects the other filters.
    person = world.citizens["adult3"]
    rows = entries(s.body(audit_page(auditor, citizen=person.dashed, sample=5)))
    assert {r["why"] for r in rows} == {"aud-edge-10", "aud-edge-11"}


def test_region_auditor_sees_its_clinics(sapp: Flask, world: s.World) -> None:
    region = s.staff_client(sapp, world.staff["region-auditor"])
    html = s.body(audit_page(region))
    reasons = {r["why"] for r in entries(html)}
    assert {f"aud-sample-{i}" for i in range(SAMPLED)} <= reasons
    assert not any(r.startswith("aud-b-") for r in reasons)
    options = parse(html).find("select", id="unit")
    assert options is not None
    assert world.unit_name in options.text()
    assert world.other_unit_name not in options.text()
    assert entries(s.body(audit_page(region, unit=world.other_unit_id))) == []


@pytest.mark.parametrize("role", ["sender", "reviewer", "designer", "admin", "other"])
def test_others_may_not_audit(sapp: Flask, world: s.World, role: str) -> None:
    response = s.staff_client(sapp, world.staff[role]).get("/audit/")
    assert response.status_code == 403
    assert "aud-sample" not in s.body(response)


def test_citizens_and_anonymous_may_not_audit(sapp: Flask, world: s.World) -> None:
    citizen = s.citizen_client(sapp, world.citizens["adult"]).get("/audit/")
    assert citizen.status_code == 403
    anonymous = sapp.test_client().get("/audit/")
    assert anonymous.status_code == 302
    assert "/login" in s.location(anonymous)


def test_audit_list_links_to_further_pages(sapp: Flask, world: s.World, auditor: Any,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from formular.web import audit

    monkeypatch.setattr(audit, "PAGE_SIZE", 5)
    html = s.body(audit_page(auditor, staff=world.staff["reviewer"].username))
    assert len(entries(html)) == 5
    assert "page=2" in html
    second = s.body(audit_page(auditor, staff=world.staff["reviewer"].username, page=2))
    assert len(entries(second)) == 5


def test_access_log_is_append_only_on_postgresql(sapp: Flask, world: s.World) -> None:
    with sapp.app_context():
        session = db.session()
        if session.get_bind().dialect.name != "postgresql":
            pytest.skip("the append-only trigger is created on PostgreSQL only")
        row_id = session.scalar(select(AccessLog.id).where(AccessLog.reason == "aud-sample-0"))
        assert row_id is not None
        for statement in ("UPDATE access_log SET reason = 'changed' WHERE id = :id",
                          "DELETE FROM access_log WHERE id = :id",
                          "DELETE FROM access_log WHERE id >= :id"):
            with pytest.raises(DBAPIError, match="append-only"):
                session.execute(text(statement), {"id": row_id})
            session.rollback()
        assert session.scalar(select(AccessLog.reason).where(AccessLog.id == row_id)) == \
            "aud-sample-0"
