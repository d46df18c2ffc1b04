"""Staff enter the measurements of a health check: who may, what is validated, what is stored
and logged, and what happens when two nurses save the same visit."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from formular.auth.clock import swedish_today
from formular.storage.base import utcnow
from formular.storage.db import db
from formular.storage.models import DefinitionVersion
from tests.functional import staff_support as s
from tests.functional.support import parse

from . import support as h

WORLD_PREFIX = "hlm"


@pytest.fixture(scope="module")
def visit(sapp: Flask, world: s.World) -> dict[str, Any]:
    """A health survey sent to three adults; the first has answered."""
    people = world.citizens
    ids = [people["adult"].id, people["adult2"].id, people["adult3"].id]
    send_out = h.send_survey(sapp, world, ids)
    answered = h.answer_survey(sapp, send_out, ids[0])
    return {"send_out": send_out, "answered": answered,
            "open": h.token_of(sapp, send_out, ids[1]),
            "spare": h.token_of(sapp, send_out, ids[2])}


# -- who may ---------------------------------------------------------------------------------


def test_reviewer_gets_the_staff_form_drawn_by_the_renderer(reviewer: Any,
                                                            visit: dict[str, Any]) -> None:
    response = h.page_of(reviewer, visit["open"])
    assert response.status_code == 200
    page = parse(s.body(response))
    for name in ("visit_date", "weight_kg", "height_cm", "waist_cm", "systolic", "diastolic",
                 "glucose_fasting", "cholesterol_total", "ldl", "hdl", "triglycerides",
                 "comment"):
        field = page.find(id=f"f-{name}")
        assert field is not None, name
        assert page.find("label", **{"for": f"f-{name}"}) is not None, name
    # BMI is calculated, never an input.
    assert page.find("input", name="bmi") is None
    assert page.find("output", id="f-bmi") is not None
    # A new record starts at revision 0 with today's date.
    today = swedish_today(utcnow()).isoformat()
    assert page.find("input", name="visit_date").attrs["value"] == today  # type: ignore[union-attr]
    assert h.revision_of(s.body(response)) == "0"
    # Works without JavaScript: a plain form post with CSRF; no autosave.
    form = page.find("form", id="form-page")
    assert form is not None
    assert form.attrs["method"] == "post"
    assert form.attrs["data-autosave"] == "off"


def test_sender_is_refused(sender: Any, visit: dict[str, Any]) -> None:
    assert h.page_of(sender, visit["open"]).status_code == 403


def test_other_units_staff_get_404(other_unit: Any, visit: dict[str, Any]) -> None:
    assert h.page_of(other_unit, visit["open"]).status_code == 404
    response = h.post_measurements(other_unit, visit["open"], html=(
        '<input name="csrf_token" value="x"><input name="_revision" value="0">'))
    assert response.status_code in (400, 404)


def test_anonymous_is_sent_to_log_in(sapp: Flask, visit: dict[str, Any]) -> None:
    response = sapp.test_client().get(f"/staff/assignments/{visit['open']}/measurements")
    assert response.status_code == 302
    assert s.location(response).startswith("/login?")


def test_citizen_is_refused(sapp: Flask, world: s.World, visit: dict[str, Any]) -> None:
    client = s.citizen_client(sapp, world.citizens["adult"])
    assert client.get(f"/staff/assignments/{visit['answered']}/measurements").status_code == 403


def test_forged_and_foreign_tokens_answer_404(sapp: Flask, world: s.World, reviewer: Any
                                              ) -> None:
    assert h.page_of(reviewer, "not-a-token").status_code == 404
    assert h.page_of(reviewer, "x" * 300).status_code == 404
    phq = s.send_out_via_service(sapp, world, "phq-9", [world.citizens["outsider"].id])
    token = h.token_of(sapp, phq, world.citizens["outsider"].id)
    assert h.page_of(reviewer, token).status_code == 404
    assert reviewer.get(f"/staff/assignments/{token}/profile").status_code == 404


# -- saving ----------------------------------------------------------------------------------


def test_saving_stores_values_with_bmi_and_logs(sapp: Flask, reviewer: Any, world: s.World,
                                               visit: dict[str, Any]) -> None:
    token = visit["answered"]
    response = h.post_measurements(reviewer, token)
    assert response.status_code == 302
    record = h.stored(sapp, token)
    assert record is not None
    assert record.revision == 1
    assert record.entered_by_id == world.staff["reviewer"].id
    assert record.answers == {**h.STORED, "bmi": 25.7}
    with sapp.app_context():
        version = db.session.get(DefinitionVersion, record.definition_version_id)
        assert version is not None
        assert version.definition_id == h.MEASUREMENTS
    assert h.events(sapp, record.id) == [{"assignment_id": record.assignment_id, "revision": 1,
                                           "definition_version_id": version.id}]
    # Reading them back is access-logged, and shows what was stored in the page's language.
    before = s.last_access_id(sapp)
    page = s.body(reviewer.get(s.location(response)))
    assert 'value="72.5"' in page  # the renderer's decimal input accepts both forms
    assert "25,7" in page  # the calculated BMI
    assert h.revision_of(page) == "1"
    rows = s.access_rows(sapp, after_id=before)
    assert rows == [(world.staff["reviewer"].id, world.unit_id, world.citizens["adult"].id,
                     "measurement:read", "health_measurement", record.id)]


def test_measurement_event_holds_no_values(sapp: Flask, visit: dict[str, Any]) -> None:
    record = h.stored(sapp, visit["answered"])
    assert record is not None
    for data in h.events(sapp, record.id):
        assert set(data) == {"assignment_id", "revision", "definition_version_id"}


@pytest.mark.parametrize(("field", "typed", "message"), [
    ("weight_kg", "abc", "Enter a number, for example %(example)s."),
    ("weight_kg", "8", "Enter a number of at least %(limit)s."),
    ("height_cm", "300", "Enter a number of at most %(limit)s."),
    ("systolic", "128,5", "Enter a whole number, for example 12."),
    ("visit_date", "2999-01-01", "Enter a date on or before %(date)s."),
    ("visit_date", "31/12/2025", "Enter a date as YYYY-MM-DD, for example 2026-03-31."),
    ("glucose_fasting", "0,2", "Enter a number of at least %(limit)s."),
])
def test_bad_values_are_refused_in_words_and_nothing_is_stored(
        sapp: Flask, reviewer: Any, visit: dict[str, Any], field: str, typed: str,
        message: str) -> None:
    from flask_babel import force_locale, gettext

    token = visit["spare"]
    response = h.post_measurements(reviewer, token, **{field: typed})
    assert response.status_code == 400
    page = parse(s.body(response))
    summary = page.find(id="error-summary")
    assert summary is not None
    with sapp.test_request_context("/"), force_locale("sv"):
        expected = gettext(message).split("%(")[0].strip()
    wrapper = page.find(**{"data-element": field})
    assert wrapper is not None
    assert wrapper.has_class("has-error")
    assert expected in wrapper.text(), (expected, wrapper.text())
    # What was typed stays on the page.
    assert typed in s.body(response)
    assert h.stored(sapp, token) is None


def test_required_values_and_blood_pressure_rule(sapp: Flask, reviewer: Any,
                                                 visit: dict[str, Any]) -> None:
    token = visit["spare"]
    response = h.post_measurements(reviewer, token, weight_kg="", systolic="82",
                                   diastolic="128")
    assert response.status_code == 400
    page = parse(s.body(response))
    links = [a.attrs["href"] for a in page.find("div", id="error-summary").find_all("a")]  # type: ignore[union-attr]
    assert "#f-weight_kg" in links
    assert "#f-comment" in links  # diastolic above systolic must be explained
    assert h.stored(sapp, token) is None


def test_missing_csrf_or_revision_is_refused(sapp: Flask, reviewer: Any,
                                             visit: dict[str, Any]) -> None:
    token = visit["spare"]
    url = f"/staff/assignments/{token}/measurements"
    html = s.body(h.page_of(reviewer, token))
    assert reviewer.post(url, data={**h.TYPED, "_revision": "0"}).status_code == 400
    assert reviewer.post(url, data={**h.TYPED, "csrf_token": s.csrf_of(html)}
                         ).status_code == 400
    assert reviewer.post(url, data={**h.TYPED, "csrf_token": s.csrf_of(html),
                                    "_revision": "-1"}).status_code == 400
    assert h.stored(sapp, token) is None


def test_posted_bmi_is_ignored(sapp: Flask, reviewer: Any, world: s.World) -> None:
    people = world.citizens
    send_out = h.send_survey(sapp, world, [people["parent"].id])
    token = h.token_of(sapp, send_out, people["parent"].id)
    assert h.post_measurements(reviewer, token, bmi="99").status_code == 302
    record = h.stored(sapp, token)
    assert record is not None
    assert record.answers["bmi"] == 25.7


# -- two nurses --------------------------------------------------------------------------------


def test_a_stale_save_is_refused_and_nothing_is_lost(sapp: Flask, world: s.World,
                                                     reviewer: Any, visit: dict[str, Any]
                                                     ) -> None:
    token = visit["open"]
    h.measure(reviewer, token)
    colleague = s.staff_client(sapp, world.staff["reviewer"])
    first = s.body(h.page_of(reviewer, token))
    second = s.body(h.page_of(colleague, token))
    assert h.revision_of(first) == h.revision_of(second) == "1"
    assert h.post_measurements(reviewer, token, html=first, weight_kg="80").status_code == 302
    refused = h.post_measurements(colleague, token, html=second, weight_kg="75")
    assert refused.status_code == 409
    page = parse(s.body(refused))
    # The colleague's value stays in the form, the stored one is listed, and the next save is
    # based on the stored revision.
    assert page.find("input", name="weight_kg").attrs["value"] == "75"  # type: ignore[union-attr]
    stored_list = page.find("section", **{"class": "stored-values"})
    assert stored_list is not None
    assert "80" in stored_list.text()
    assert h.revision_of(s.body(refused)) == "2"
    record = h.stored(sapp, token)
    assert record is not None
    assert record.answers["weight_kg"] == 80
    assert record.revision == 2
    again = h.post_measurements(colleague, token, html=s.body(refused), weight_kg="75")
    assert again.status_code == 302
    record = h.stored(sapp, token)
    assert record is not None
    assert record.answers["weight_kg"] == 75
    assert record.revision == 3
    assert record.updated_by_id == world.staff["reviewer"].id


def test_two_first_entries_store_one_record(sapp: Flask, world: s.World, reviewer: Any) -> None:
    people = world.citizens
    send_out = h.send_survey(sapp, world, [people["teen_parent"].id])
    token = h.token_of(sapp, send_out, people["teen_parent"].id)
    colleague = s.staff_client(sapp, world.staff["reviewer"])
    first = s.body(h.page_of(reviewer, token))
    second = s.body(h.page_of(colleague, token))
    assert h.post_measurements(reviewer, token, html=first).status_code == 302
    assert h.post_measurements(colleague, token, html=second, waist_cm="90").status_code == 409
    record = h.stored(sapp, token)
    assert record is not None
    assert record.answers["waist_cm"] == 84
    assert record.revision == 1


# -- where it is offered ---------------------------------------------------------------------------


def test_withdrawn_form_takes_no_measurements(sapp: Flask, world: s.World, reviewer: Any) -> None:
    person = s.add_citizen(sapp, f"Vera Västerås {WORLD_PREFIX}", dt.date(1976, 2, 3))
    send_out = h.send_survey(sapp, world, [person.id])
    token = h.token_of(sapp, send_out, person.id)
    sender = s.staff_client(sapp, world.staff["sender"])
    page = s.body(sender.get(f"/staff/assignments/{token}"))
    assert sender.post(f"/staff/assignments/{token}/cancel",
                       data={"csrf_token": s.csrf_of(page)}).status_code == 302
    assert h.page_of(reviewer, token).status_code == 409
    closed = s.body(h.page_of(reviewer, token)) + '<input name="_revision" value="0">'
    assert h.post_measurements(reviewer, token, html=closed).status_code == 409
    assert h.stored(sapp, token) is None


def test_follow_up_page_links_only_for_health_surveys(sapp: Flask, world: s.World,
                                                      reviewer: Any, sender: Any,
                                                      visit: dict[str, Any]) -> None:
    page = parse(s.body(reviewer.get(f"/staff/assignments/{visit['answered']}")))
    block = page.find("section", **{"class": "health-links"})
    assert block is not None
    hrefs = [a.attrs["href"] for a in block.find_all("a")]
    assert hrefs == [f"/staff/assignments/{visit['answered']}/measurements",
                     f"/staff/assignments/{visit['answered']}/profile"]
    # A sender may do neither: no block.
    assert "health-links" not in s.body(sender.get(f"/staff/assignments/{visit['answered']}"))
    phq = s.send_out_via_service(sapp, world, "phq-9", [world.citizens["adult"].id])
    token = h.token_of(sapp, phq, world.citizens["adult"].id)
    assert "health-links" not in s.body(reviewer.get(f"/staff/assignments/{token}"))


def test_measurement_form_is_not_offered_for_sending(sapp: Flask, world: s.World,
                                                     sender: Any) -> None:
    page = s.body(sender.get("/staff/sendouts/new"))
    values = re.findall(r'<option[^>]*value="([^"]*)"', page)
    assert h.SURVEY in values
    assert h.MEASUREMENTS not in values
    wizard = s.start_send_out(sender, world.unit_id, world.citizens["adult"].personnummer,
                              definition=h.MEASUREMENTS)
    assert wizard.job_id is None
    assert wizard.response.status_code == 400
    with sapp.app_context():
        from formular.storage.sendouts import SendOut

        assert db.session.scalars(select(SendOut).join(DefinitionVersion).where(
            DefinitionVersion.definition_id == h.MEASUREMENTS)).first() is None
