"""OpenID Connect against a local provider: assurance level, personnummer, age, signatures."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from joserfc.errors import BadSignatureError
from joserfc.jwk import RSAKey
from sqlalchemy import select
from werkzeug.test import TestResponse

from formular.auth.oidc import LOA3, LOA4
from formular.storage.db import db
from formular.storage.identity import Citizen
from formular.storage.sessions import LoginSession

from .conftest import COOKIE, Factory, cookie_value, make_app, new_client, status
from .oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider, serve

LOA2 = "http://id.elegnamnden.se/loa/1.0/loa2"


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with serve() as running:
        running.redirect_uris = {f"http://localhost/login/oidc/{kind}/callback"
                                 for kind in ("citizen", "staff")}
        yield running


@pytest.fixture(scope="module")
def oidc_app(database_url: str, provider: Provider) -> Flask:
    """Production-like: no demo, both identity providers configured."""
    settings: dict[str, Any] = {"DEMO": False}
    for kind in ("CITIZEN", "STAFF"):
        settings[f"OIDC_{kind}_METADATA_URL"] = provider.metadata_url
        settings[f"OIDC_{kind}_CLIENT_ID"] = CLIENT_ID
        settings[f"OIDC_{kind}_CLIENT_SECRET"] = CLIENT_SECRET
    return make_app(database_url, **settings)


@pytest.fixture
def browser(oidc_app: Flask) -> FlaskClient:
    return new_client(oidc_app)


def oidc_login(client: FlaskClient, provider: Provider, kind: str,
               claims: dict[str, Any]) -> TestResponse:
    """Walk the code flow as a browser would: app → provider → app's callback."""
    provider.claims = claims
    start = client.get(f"/login/oidc/{kind}")
    assert start.status_code == 302
    location = start.headers["Location"]
    assert location.startswith(provider.issuer + "/authorize?")
    with requests.Session() as at_provider:
        at_provider.trust_env = False
        answer = at_provider.get(location, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    return client.get(answer.headers["Location"])


def citizen_claims(personnummer: str, acr: str | None = LOA3, **extra: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {"sub": f"sub-{personnummer}", "name": "Test Testsson",
                              "personal_identity_number": personnummer, **extra}
    if acr is not None:
        claims["acr"] = acr
    return claims


def test_citizen_with_loa3_is_logged_in_and_created(
        oidc_app: Flask, browser: FlaskClient, provider: Provider, make: Factory) -> None:
    number = make.personnummer(30)
    start = browser.get("/login/oidc/citizen")
    query = parse_qs(urlsplit(start.headers["Location"]).query)
    assert query["acr_values"] == [LOA3]  # asked for, not only checked afterwards
    assert query["code_challenge_method"] == ["S256"]
    assert query["nonce"]

    response = oidc_login(browser, provider, "citizen", citizen_claims(number))
    assert response.status_code == 302, response.get_data(as_text=True)
    assert cookie_value(browser)
    assert status(browser)["logged_in"] is True
    with oidc_app.app_context():
        citizen = db.session.scalars(
            select(Citizen).where(Citizen.personnummer == number)).one()
        assert citizen.name == "Test Testsson"
        record = db.session.scalars(select(LoginSession).where(
            LoginSession.citizen_id == citizen.id)).one()
        assert (record.kind, record.method, record.assurance_level) == ("citizen", "oidc", 3)


def test_loa4_counts_as_level_4(oidc_app: Flask, browser: FlaskClient, provider: Provider,
                                make: Factory) -> None:
    number = make.personnummer(40)
    assert oidc_login(browser, provider, "citizen",
                      citizen_claims(number, LOA4)).status_code == 302
    with oidc_app.app_context():
        levels = db.session.scalars(
            select(LoginSession.assurance_level).join(
                Citizen, Citizen.id == LoginSession.citizen_id)
            .where(Citizen.personnummer == number)).all()
        assert levels == [4]


@pytest.mark.parametrize("acr", [LOA2, None, "urn:unknown"])
def test_weaker_assurance_is_refused(browser: FlaskClient, provider: Provider, make: Factory,
                                     acr: str | None) -> None:
    response = oidc_login(browser, provider, "citizen",
                          citizen_claims(make.personnummer(30), acr))
    assert response.status_code == 403
    assert "assurance level 3" in response.get_data(as_text=True)
    assert cookie_value(browser) is None


def test_under_13_is_refused(browser: FlaskClient, provider: Provider, make: Factory) -> None:
    response = oidc_login(browser, provider, "citizen",
                          citizen_claims(make.personnummer(12, extra_days=-2)))
    assert response.status_code == 403
    assert "from the age of 13" in response.get_data(as_text=True)
    assert cookie_value(browser) is None


def test_thirteenth_birthday_is_enough(browser: FlaskClient, provider: Provider,
                                       make: Factory) -> None:
    response = oidc_login(browser, provider, "citizen", citizen_claims(make.personnummer(13)))
    assert response.status_code == 302


@pytest.mark.parametrize("mangle", ["checksum", "missing", "number"])
def test_bad_personnummer_is_refused(browser: FlaskClient, provider: Provider, make: Factory,
                                     mangle: str) -> None:
    number = make.personnummer(30)
    claims = citizen_claims(number)
    if mangle == "checksum":
        claims["personal_identity_number"] = number[:-1] + str((int(number[-1]) + 1) % 10)
    elif mangle == "missing":
        del claims["personal_identity_number"]
    else:
        claims["personal_identity_number"] = int(number)
    response = oidc_login(browser, provider, "citizen", claims)
    assert response.status_code == 403
    assert "identity number could not be read" in response.get_data(as_text=True)


def test_locked_citizen_is_refused(browser: FlaskClient, provider: Provider,
                                   make: Factory) -> None:
    person = make.citizen(35, locked=True)
    response = oidc_login(browser, provider, "citizen", citizen_claims(person.personnummer))
    assert response.status_code == 403
    assert "locked" in response.get_data(as_text=True)


def test_token_signed_with_another_key_is_refused(browser: FlaskClient, provider: Provider,
                                                  make: Factory,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    provider.signing_key = RSAKey.generate_key(2048, parameters={"kid": "test-key"},
                                               private=True)
    try:
        response = oidc_login(browser, provider, "citizen",
                              citizen_claims(make.personnummer(30)))
    finally:
        provider.signing_key = None
    assert response.status_code == 400
    assert cookie_value(browser) is None
    failures = [record.exc_info[1] for record in caplog.records if record.exc_info]
    assert any(isinstance(error, BadSignatureError) for error in failures), failures


def test_callback_without_a_started_log_in_is_refused(browser: FlaskClient) -> None:
    response = browser.get("/login/oidc/citizen/callback?code=forged&state=forged")
    assert response.status_code == 400
    assert browser.get_cookie(COOKIE) is None


def test_staff_log_in_matches_the_oidc_subject(oidc_app: Flask, provider: Provider,
                                               make: Factory) -> None:
    user = make.staff(password=None, oidc_subject="siths-" + make.personnummer(45))
    with oidc_app.app_context():
        from formular.storage.identity import StaffUser

        subject = db.session.get(StaffUser, user.id).oidc_subject  # type: ignore[union-attr]
    client = new_client(oidc_app)
    response = oidc_login(client, provider, "staff", {"sub": subject, "acr": LOA3})
    assert response.status_code == 302
    assert status(client)["logged_in"] is True
    stranger = new_client(oidc_app)
    refused = oidc_login(stranger, provider, "staff", {"sub": "siths-unknown"})
    assert refused.status_code == 403
    assert cookie_value(stranger) is None


def test_unconfigured_kind_is_404(browser: FlaskClient) -> None:
    assert browser.get("/login/oidc/other").status_code == 404
    assert browser.get("/login/oidc/other/callback").status_code == 404


def test_citizen_page_offers_e_legitimation_and_no_demo(browser: FlaskClient) -> None:
    html = browser.get("/login/citizen").get_data(as_text=True)
    assert "/login/oidc/citizen" in html
    assert "demo-citizen" not in html
