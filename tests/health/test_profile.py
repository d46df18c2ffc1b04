"""The health profile of a visit: for staff of the unit and for the citizen, as a star chart, a
table and a PDF; waiting until both the answers and the measurements are in."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from formular.profiles.compute import compute_profile
from formular.profiles.loader import shipped_profiles
from formular.profiles.translate import profile_for
from formular.web import health_view
from formular.web.health_view import score_values
from tests.conftest import DESIGNS
from tests.functional import staff_support as s
from tests.functional.support import parse

from . import support as h

WORLD_PREFIX = "hlp"


@pytest.fixture(scope="module")
def profile() -> Any:
    return shipped_profiles(DESIGNS)[h.PROFILE]


@pytest.fixture(scope="module")
def fifty(sapp: Flask) -> s.Person:
    """A woman who is 50 on the visit day (the age a profile rule may read)."""
    return s.add_citizen(sapp, f"Hanna Hälsa {WORLD_PREFIX}", dt.date(1976, 1, 20))


@pytest.fixture(scope="module")
def visit(sapp: Flask, world: s.World, reviewer: FlaskClient, fifty: s.Person
          ) -> dict[str, Any]:
    people = world.citizens
    send_out = h.send_survey(sapp, world, [fifty.id, people["adult2"].id, people["adult3"].id])
    token = h.answer_survey(sapp, send_out, fifty.id)
    h.measure(reviewer, token)
    return {"send_out": send_out, "token": token,
            "unanswered": h.token_of(sapp, send_out, people["adult2"].id),
            "measured_only": h.token_of(sapp, send_out, people["adult3"].id)}


def expected(profile: Any, locale: str = "sv") -> Any:
    """The engine's own result for the visit (the page must show exactly this)."""
    shown = profile_for(profile, locale)
    from formular.definitions.service import Subject, compile_cached
    from tests.conftest import load_design

    survey = load_design(h.SURVEY)
    compiled = compile_cached(survey)
    validation = compiled.validate(h.survey_answers(), subject=Subject("female", 50))
    from formular.definitions.scores import scoring_to_json

    return compute_profile(shown, survey_answers=validation.answers,
                           survey_scores=score_values(scoring_to_json(validation.scoring)),
                           measurements={**h.STORED, "bmi": 25.7},
                           subject={"sex": "female", "age": 50})


def set_language(client: FlaskClient, lang: str) -> None:
    response = client.post("/language", data={"csrf_token": s.fresh_csrf(client),
                                              "lang": lang, "next": "/"})
    assert response.status_code == 302


# -- staff -----------------------------------------------------------------------------------


def test_staff_see_chart_and_table_and_the_read_is_logged(
        sapp: Flask, world: s.World, reviewer: FlaskClient, visit: dict[str, Any],
        fifty: s.Person, profile: Any) -> None:
    before = s.last_access_id(sapp)
    response = reviewer.get(f"/staff/assignments/{visit['token']}/profile")
    assert response.status_code == 200
    page = parse(s.body(response))
    result = expected(profile)
    assert page.find("h1").text() == profile.title  # type: ignore[union-attr]
    # The example notice comes first, prominently.
    note = page.find(**{"class": "profile-example"})
    assert note is not None
    assert profile.notice in note.text()
    # One chart: an image named by its title and described in words.
    svg = page.find("svg")
    assert svg is not None
    assert svg.attrs["role"] == "img"
    title_id, desc_id = svg.attrs["aria-labelledby"].split()
    assert page.find("title", id=title_id) is not None
    desc = page.find("desc", id=desc_id)
    assert desc is not None
    for area in result.areas:
        assert area.label in desc.text()
    assert len(page.find_all("line", **{"class": "axis"})) == len(profile.areas)
    assert len(page.find_all("line", **{"class": "axis-missing"})) == sum(
        1 for area in result.areas if area.level is None)
    # The same data as a table, row by row in the engine's order.
    table = page.find("table", **{"class": "profile-table"})
    assert table is not None
    rows = table.find("tbody").find_all("tr")  # type: ignore[union-attr]
    names = [row.find("span", **{"class": "area-name"}) for row in rows]
    assert [name.text() for name in names if name] == [a.label for a in result.areas]
    for row, area in zip(rows, result.areas, strict=True):
        cells = row.find_all("td")
        if area.level is None:
            assert cells[1].text() == "–"
        else:
            assert cells[2].text() == area.level_label
    # Values with their units, in Swedish number format.
    waist = next(row for row, area in zip(rows, result.areas, strict=True)
                 if area.area_id == "waist")
    assert "84 cm" in waist.text()
    bmi = next(row for row, area in zip(rows, result.areas, strict=True) if area.area_id == "bmi")
    assert "25,7 kg/m²" in bmi.text()
    assert s.access_rows(sapp, after_id=before) == [
        (world.staff["reviewer"].id, world.unit_id, fifty.id, "profile:read", "assignment",
         s.assignment_of(sapp, visit["send_out"], fifty.id).id)]


def test_profile_waits_for_both_sources(sapp: Flask, reviewer: FlaskClient, world: s.World,
                                        visit: dict[str, Any]) -> None:
    before = s.last_access_id(sapp)
    page = parse(s.body(reviewer.get(f"/staff/assignments/{visit['unanswered']}/profile")))
    status = page.find(**{"role": "status"})
    assert status is not None
    assert len(status.find_all("li")) == 2  # the answers and the measurements
    assert page.find("svg") is None
    assert page.find("table") is None
    assert reviewer.get(f"/staff/assignments/{visit['unanswered']}/profile.pdf"
                        ).status_code == 404
    h.measure(reviewer, visit["measured_only"])
    page = parse(s.body(reviewer.get(f"/staff/assignments/{visit['measured_only']}/profile")))
    status = page.find(**{"role": "status"})
    assert status is not None
    assert len(status.find_all("li")) == 1
    # Nothing was shown, so no profile read was logged.
    assert [row for row in s.access_rows(sapp, after_id=before)
            if row[3] == "profile:read"] == []


def test_staff_page_in_english(sapp: Flask, world: s.World, visit: dict[str, Any],
                               profile: Any) -> None:
    client = s.staff_client(sapp, world.staff["reviewer"])
    set_language(client, "en")
    page = parse(s.body(client.get(f"/staff/assignments/{visit['token']}/profile")))
    english = profile_for(profile, "en")
    assert english.title != profile.title, "the example profile has no English title"
    assert page.find("h1").text() == english.title  # type: ignore[union-attr]
    assert page.find("html").attrs["lang"] == "en"  # type: ignore[union-attr]
    labels = [area.label for area in english.areas]
    names = page.find("tbody").find_all("span", **{"class": "area-name"})  # type: ignore[union-attr]
    assert [name.text() for name in names] == labels
    assert "25.7 kg/m²" in page.find("tbody").text()  # type: ignore[union-attr]


def test_other_unit_and_other_roles(sapp: Flask, world: s.World, other_unit: FlaskClient,
                                    sender: FlaskClient, visit: dict[str, Any]) -> None:
    url = f"/staff/assignments/{visit['token']}/profile"
    assert other_unit.get(url).status_code == 404
    assert other_unit.get(url + ".pdf").status_code == 404
    assert sender.get(url).status_code == 403
    assert sapp.test_client().get(url).status_code == 302
    designer = s.staff_client(sapp, world.staff["designer"])
    assert designer.get(url).status_code == 403


def test_staff_pdf(sapp: Flask, world: s.World, reviewer: FlaskClient, visit: dict[str, Any],
                   fifty: s.Person, profile: Any) -> None:
    pypdf = pytest.importorskip("pypdf")
    before = s.last_access_id(sapp)
    response = reviewer.get(f"/staff/assignments/{visit['token']}/profile.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-")
    reader = pypdf.PdfReader(io.BytesIO(response.data))
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    result = expected(profile)
    assert fifty.name in text
    assert f"{fifty.personnummer[:8]}-{fifty.personnummer[8:]}" in text
    for area in result.areas:
        assert area.label in text, area.label
        if area.level_label:
            assert area.level_label in text
    assert "Exempel" in text
    assert s.access_rows(sapp, after_id=before) == [
        (world.staff["reviewer"].id, world.unit_id, fifty.id, "profile:pdf", "assignment",
         s.assignment_of(sapp, visit["send_out"], fifty.id).id)]


# -- the citizen -----------------------------------------------------------------------------


def test_citizen_sees_own_profile_without_access_log(sapp: Flask, visit: dict[str, Any],
                                                     fifty: s.Person, profile: Any) -> None:
    client = s.citizen_client(sapp, fifty)
    before = s.last_access_id(sapp)
    response = client.get(f"/forms/{visit['token']}/profile")
    assert response.status_code == 200
    page = parse(s.body(response))
    assert page.find("svg", role="img") is not None
    assert page.find("table") is not None
    # The citizen's page does not show the personal identity number.
    assert fifty.personnummer[:8] not in s.body(response)
    assert s.access_rows(sapp, after_id=before) == []
    pdf = client.get(f"/forms/{visit['token']}/profile.pdf")
    assert pdf.status_code == 200
    assert pdf.data.startswith(b"%PDF-")
    assert s.access_rows(sapp, after_id=before) == []


def test_citizen_links_from_inbox_and_receipt(sapp: Flask, visit: dict[str, Any],
                                              fifty: s.Person) -> None:
    client = s.citizen_client(sapp, fifty)
    link = f"/forms/{visit['token']}/profile"
    assert f'href="{link}"' in s.body(client.get("/inbox"))
    assert f'href="{link}"' in s.body(client.get(f"/forms/{visit['token']}/receipt"))


def test_other_citizens_and_staff_cannot_read_it(sapp: Flask, world: s.World,
                                                 reviewer: FlaskClient,
                                                 visit: dict[str, Any]) -> None:
    url = f"/forms/{visit['token']}/profile"
    other = s.citizen_client(sapp, world.citizens["outsider"])
    assert other.get(url).status_code == 404
    assert other.get(url + ".pdf").status_code == 404
    assert reviewer.get(url).status_code == 403
    anonymous = sapp.test_client().get(url)
    assert anonymous.status_code == 302
    assert s.location(anonymous).startswith("/login/citizen")


def test_citizen_profile_hidden_when_the_profile_says_so(
        sapp: Flask, visit: dict[str, Any], fifty: s.Person, profile: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    hidden = dataclasses.replace(profile, citizen_visible=False)
    monkeypatch.setattr(health_view, "profiles", lambda: {hidden.id: hidden})
    client = s.citizen_client(sapp, fifty)
    assert client.get(f"/forms/{visit['token']}/profile").status_code == 404
    assert client.get(f"/forms/{visit['token']}/profile.pdf").status_code == 404
    assert "/profile" not in s.body(client.get("/inbox"))


def test_hostile_profile_texts_are_escaped(sapp: Flask, reviewer: FlaskClient,
                                           visit: dict[str, Any], profile: Any,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    evil = '<script>alert("x")</script>&'
    document = {**profile.document, "title": evil,
                "areas": [{**profile.document["areas"][0], "label": evil}]
                + profile.document["areas"][1:]}
    from formular.profiles.loader import load_profile

    hostile = load_profile(document)
    monkeypatch.setattr(health_view, "profiles", lambda: {hostile.id: hostile})
    monkeypatch.setattr(health_view, "translated", lambda p, locale: p)
    html = s.body(reviewer.get(f"/staff/assignments/{visit['token']}/profile"))
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&amp;" in html or (
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;" in html)
