"""The register export of health profiles (CSV, per send-out and per unit) and the health-check
overview: who may, which rows, which columns, and the access log."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from formular.profiles.loader import shipped_profiles
from tests.conftest import DESIGNS
from tests.functional import staff_support as s
from tests.functional.support import parse

from . import support as h

WORLD_PREFIX = "hle"


@pytest.fixture(scope="module")
def profile() -> Any:
    return shipped_profiles(DESIGNS)[h.PROFILE]


@pytest.fixture(scope="module")
def exported(sapp: Flask, world: s.World, reviewer: FlaskClient) -> dict[str, Any]:
    """One send-out: a complete profile (a man and a woman), one without lab values (not
    complete), one answered but not measured, one that has not answered; and a second
    send-out with one complete profile."""
    man = h.add_man(sapp, f"Måns Mätt {WORLD_PREFIX}", dt.date(1976, 4, 5))
    people = world.citizens
    recipients = [people["adult"].id, man.id, people["adult2"].id, people["adult3"].id,
                  people["outsider"].id]
    first = h.send_survey(sapp, world, recipients)
    for citizen_id in recipients[:4]:
        h.answer_survey(sapp, first, citizen_id)
    h.measure(reviewer, h.token_of(sapp, first, people["adult"].id))
    h.measure(reviewer, h.token_of(sapp, first, man.id), visit_date="2026-04-06",
              weight_kg="90", height_cm="180")
    h.measure(reviewer, h.token_of(sapp, first, people["adult2"].id), glucose_fasting="",
              cholesterol_total="", ldl="", hdl="", triglycerides="")
    second = h.send_survey(sapp, world, [people["parent"].id])
    h.answer_survey(sapp, second, people["parent"].id)
    h.measure(reviewer, h.token_of(sapp, second, people["parent"].id))
    return {"first": first, "second": second, "man": man,
            "complete_first": sorted([people["adult"].id, man.id]),
            "complete_all": sorted([people["adult"].id, man.id, people["parent"].id])}


def read_csv(response: Any) -> list[dict[str, str]]:
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:]), delimiter=";"))


def test_send_out_export_has_one_row_per_complete_profile(
        sapp: Flask, world: s.World, reviewer: FlaskClient, exported: dict[str, Any],
        profile: Any) -> None:
    before = s.last_access_id(sapp)
    response = reviewer.get(f"/staff/health/sendouts/{exported['first']}/profiles.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = read_csv(response)
    man: s.Person = exported["man"]
    numbers = {world.citizens["adult"].dashed, man.dashed}
    assert {row["personnummer"] for row in rows} == numbers
    header = list(rows[0])
    assert header[:6] == ["personnummer", "sex", "age", "visit_date", "profile",
                          "profile_version"]
    assert [column for column in header if column.startswith("level_")] == [
        f"level_{area.id}" for area in profile.areas]
    assert "comment" not in header
    his = next(row for row in rows if row["personnummer"] == man.dashed)
    assert his["sex"] == "male"
    assert his["age"] == "50"
    assert his["visit_date"] == "2026-04-06"
    assert his["weight_kg"] == "90"
    assert his["height_cm"] == "180"
    assert his["bmi"] == "27,8"  # decimal comma, as the answer exports
    assert his["profile"] == profile.id
    assert his["profile_version"] == str(profile.version)
    for area in profile.areas:
        assert his[f"level_{area.id}"] in {str(level.value) for level in profile.levels}
    # Exactly the exported citizens are in the access log, before anything was sent.
    logged = s.access_rows(sapp, after_id=before)
    assert sorted(row[2] for row in logged) == exported["complete_first"]
    assert {(row[0], row[1], row[3], row[4], row[5]) for row in logged} == {
        (world.staff["reviewer"].id, world.unit_id, "profile:export", "send_out",
         exported["first"])}


def test_unit_export_covers_every_send_out_of_the_survey(
        sapp: Flask, world: s.World, reviewer: FlaskClient, exported: dict[str, Any],
        profile: Any) -> None:
    before = s.last_access_id(sapp)
    response = reviewer.get(f"/staff/health/units/{world.unit_id}/profiles.csv"
                            f"?profile={profile.id}")
    assert response.status_code == 200
    rows = read_csv(response)
    assert len(rows) == 3
    logged = s.access_rows(sapp, after_id=before)
    assert sorted(row[2] for row in logged) == exported["complete_all"]
    assert {(row[3], row[4], row[5]) for row in logged} == {
        ("profile:export", "unit", world.unit_id)}
    assert reviewer.get(f"/staff/health/units/{world.unit_id}/profiles.csv?profile=nope"
                        ).status_code == 404


def test_export_refusals(sapp: Flask, world: s.World, sender: FlaskClient,
                         other_unit: FlaskClient, exported: dict[str, Any]) -> None:
    send_out_url = f"/staff/health/sendouts/{exported['first']}/profiles.csv"
    unit_url = f"/staff/health/units/{world.unit_id}/profiles.csv"
    before = s.last_access_id(sapp)
    assert sender.get(send_out_url).status_code == 403
    assert sender.get(unit_url).status_code == 403
    assert other_unit.get(send_out_url).status_code == 404
    assert other_unit.get(unit_url).status_code == 404
    assert other_unit.get("/staff/health/units/999999/profiles.csv").status_code == 404
    assert sapp.test_client().get(send_out_url).status_code == 302
    assert s.access_rows(sapp, after_id=before) == []


def test_export_of_a_send_out_without_profile_is_404(sapp: Flask, world: s.World,
                                                    reviewer: FlaskClient) -> None:
    phq = s.send_out_via_service(sapp, world, "phq-9", [world.citizens["adult"].id])
    assert reviewer.get(f"/staff/health/sendouts/{phq}/profiles.csv").status_code == 404
    assert reviewer.get("/staff/health/sendouts/999999/profiles.csv").status_code == 404


def test_formula_text_is_neutralised(sapp: Flask, world: s.World, reviewer: FlaskClient,
                                     exported: dict[str, Any]) -> None:
    from formular.web.health_view import csv_lines

    text = "".join(csv_lines(["a", "b", "c"], [["=HYPERLINK(1)", 1.5, -2]]))
    assert text.splitlines()[1] == "'=HYPERLINK(1);1,5;-2"


def test_overview_counts_and_links(sapp: Flask, world: s.World, reviewer: FlaskClient,
                                   sender: FlaskClient, exported: dict[str, Any]) -> None:
    response = reviewer.get("/staff/health/")
    assert response.status_code == 200
    page = parse(s.body(response))
    link = f"/staff/health/sendouts/{exported['first']}/profiles.csv"
    row = next(tr for tr in page.find_all("tr")
               if any(a.attrs.get("href") == link for a in tr.find_all("a")))
    assert [td.text() for td in row.find_all("td")][:4] == ["5", "4", "3", "3"]
    assert f"/staff/health/units/{world.unit_id}/profiles.csv" in s.body(response)
    assert sender.get("/staff/health/").status_code == 403
    other = s.staff_client(sapp, world.staff["other"])
    assert link not in s.body(other.get("/staff/health/"))
