"""Citizen log-in in the demo setting, and guardians acting for children under 13."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from formular.auth.clock import swedish_today, utcnow
from formular.storage.db import db
from formular.storage.sessions import LoginSession

from .conftest import (
    COOKIE,
    Clock,
    Factory,
    Person,
    Staff,
    cookie_value,
    csrf_from,
    log_in_demo_citizen,
    make_app,
    new_client,
    status,
)


@pytest.fixture(scope="module")
def production_app(database_url: str) -> Flask:
    return make_app(database_url, DEMO=False)


def test_demo_citizen_log_in_does_not_exist_outside_the_demo(production_app: Flask,
                                                            make: Factory) -> None:
    client = new_client(production_app)
    person = make.citizen(30)
    assert client.get("/login/citizen").status_code == 404
    token = csrf_from(client)
    response = client.post("/login/demo-citizen",
                           data={"csrf_token": token, "citizen": str(person.id)})
    assert response.status_code == 404
    assert cookie_value(client) is None


def test_a_demo_session_dies_when_the_demo_setting_is_off(app: Flask, production_app: Flask,
                                                          make: Factory) -> None:
    demo_browser = new_client(app)
    person = make.citizen(30)
    assert log_in_demo_citizen(demo_browser, person.id).status_code == 302
    cookie = cookie_value(demo_browser)
    assert cookie
    later = new_client(production_app)
    later.set_cookie(COOKIE, cookie, domain="localhost")
    assert status(later)["logged_in"] is False


def test_demo_list_offers_adults_only_and_logs_in(client: FlaskClient, make: Factory) -> None:
    adult = make.citizen(30, name="Alva Demo-Vuxen")
    child = make.citizen(10, name="Bo Demo-Barn")
    html = client.get("/login/citizen").get_data(as_text=True)
    assert adult.name in html
    assert child.name not in html
    assert f'<label for="demo-citizen-{adult.id}">' in html
    response = log_in_demo_citizen(client, adult.id)
    assert response.status_code == 302
    assert status(client)["logged_in"] is True


def test_demo_log_in_as_a_child_is_refused(client: FlaskClient, make: Factory) -> None:
    child = make.citizen(12)
    response = log_in_demo_citizen(client, child.id)
    assert response.status_code == 403
    assert cookie_value(client) is None


def _acting_for(app: Flask, client: FlaskClient) -> int | None:
    from sqlalchemy import select

    from formular.auth.sessions import key_hash

    with app.app_context():
        record = db.session.scalars(select(LoginSession).where(
            LoginSession.key_hash == key_hash(cookie_value(client) or ""))).one()
        return record.acting_for_id


def _choose(client: FlaskClient, subject: str) -> int:
    token = csrf_from(client, "/act-as")
    return client.post("/act-as", data={"csrf_token": token, "subject": subject}).status_code


@pytest.fixture
def family(make: Factory) -> dict[str, Person]:
    guardian = make.citizen(40, name="Greta Förälder")
    young = make.citizen(5, name="Ylva Femåring")
    teen = make.citizen(13, extra_days=30, name="Tore Trettonåring")
    make.guardian_of(guardian, young)
    make.guardian_of(guardian, teen)
    return {"guardian": guardian, "young": young, "teen": teen,
            "stranger": make.citizen(6, name="Sara Främling")}


def test_guardian_acts_for_a_child_under_13(app: Flask, client: FlaskClient,
                                            family: dict[str, Person]) -> None:
    response = log_in_demo_citizen(client, family["guardian"].id)
    assert response.headers["Location"].endswith("/act-as")  # young children: choose first
    html = client.get("/act-as").get_data(as_text=True)
    assert family["young"].name in html
    assert family["teen"].name not in html
    assert family["stranger"].name not in html
    assert _choose(client, str(family["young"].id)) == 302
    assert _acting_for(app, client) == family["young"].id
    assert _choose(client, "self") == 302
    assert _acting_for(app, client) is None


@pytest.mark.parametrize("who", ["teen", "stranger"])
def test_guardian_cannot_act_for_13_plus_or_someone_elses_child(
        app: Flask, client: FlaskClient, family: dict[str, Person], who: str) -> None:
    log_in_demo_citizen(client, family["guardian"].id)
    assert _choose(client, str(family[who].id)) == 403
    assert _acting_for(app, client) is None


def test_agency_ends_on_the_13th_birthday(app: Flask, client: FlaskClient, make: Factory,
                                          clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "SESSION_IDLE_MINUTES", 4 * 24 * 60)  # outlive two days
    monkeypatch.setitem(app.config, "SESSION_ABSOLUTE_HOURS", 4 * 24)
    guardian = make.citizen(41)
    child = make.citizen(13, extra_days=-1)  # 13 tomorrow
    make.guardian_of(guardian, child)
    with app.app_context():
        from formular.storage.identity import Citizen

        row = db.session.get(Citizen, child.id)
        assert row is not None
        assert row.age_on(swedish_today(utcnow())) == 12
    log_in_demo_citizen(client, guardian.id)
    assert _choose(client, str(child.id)) == 302
    assert _acting_for(app, client) == child.id
    clock.advance(days=2)
    client.get("/logged-out")  # any request re-checks the relation
    assert _acting_for(app, client) is None
    assert status(client)["logged_in"] is True  # still logged in, as themself


def test_staff_cannot_act_as(staff_client: tuple[FlaskClient, Staff]) -> None:
    client, _ = staff_client
    assert client.get("/act-as").status_code == 403


def test_anonymous_act_as_goes_to_the_citizen_log_in(client: FlaskClient) -> None:
    response = client.get("/act-as")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login/citizen?next=")


def test_seconds_left_uses_the_same_clock(app: Flask, client: FlaskClient, make: Factory,
                                          clock: Clock) -> None:
    person = make.citizen(50)
    log_in_demo_citizen(client, person.id)
    clock.advance(minutes=29, seconds=30)
    assert 0 < status(client)["seconds_left"] <= 30
    clock.advance(seconds=31)
    assert status(client)["logged_in"] is False
