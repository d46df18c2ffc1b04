"""OpenID Connect log-in through Authlib: SITHS for staff, e-legitimation for citizens.

A client is registered per kind ("staff", "citizen") only when its settings are present, so a
development install without identity providers has no half-configured OIDC routes. Authlib does
the protocol work: discovery, state and nonce, PKCE (S256), the code exchange, and the ID
token's signature (JWKS), issuer, audience and expiry. What is ours is the policy on the claims:
citizens must arrive with assurance level 3 or more (BankID, Freja+; ASVS 6.8.4), carry a valid
personnummer, and be 16 or older.

Settings, per ``KIND`` in ``STAFF`` and ``CITIZEN``:

``OIDC_<KIND>_METADATA_URL`` (or ``OIDC_<KIND>_ISSUER``, to which the well-known path is added),
``OIDC_<KIND>_CLIENT_ID``, ``OIDC_<KIND>_CLIENT_SECRET``, ``OIDC_<KIND>_SCOPE`` (default
"openid profile") and ``OIDC_<KIND>_ACR_VALUES`` (requested levels; citizens default to loa3).
Shared: ``OIDC_ACR_LEVELS`` (acr URI → level; JSON text allowed), ``OIDC_CITIZEN_PNR_CLAIM``
(default "personal_identity_number") and ``OIDC_TIMEOUT_SECONDS`` (default 10).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app

from formular.definitions.personnummer import IdentityNumber, InvalidIdentityNumber

from .citizens import LOGIN_MIN_AGE

KINDS = ("staff", "citizen")
EXTENSION = "formular.oidc"
LOA3 = "http://id.elegnamnden.se/loa/1.0/loa3"
LOA4 = "http://id.elegnamnden.se/loa/1.0/loa4"
DEFAULT_ACR_LEVELS: dict[str, int] = {LOA3: 3, LOA4: 4}
DEFAULT_SCOPE = "openid profile"
DEFAULT_PNR_CLAIM = "personal_identity_number"
#: Citizens' data is health data: only substantial assurance (eIDAS "substantial", LoA 3) will do.
CITIZEN_MIN_ASSURANCE = 3

#: Why an identity provider's answer does not log the citizen in.
Refusal = Literal["assurance", "identity", "too_young"]


class LoginRefused(Exception):
    """The identity provider vouched for someone we must not log in; :attr:`reason` says why."""

    def __init__(self, reason: Refusal) -> None:
        self.reason: Refusal = reason
        super().__init__(reason)


@dataclass(frozen=True)
class CitizenClaims:
    identity: IdentityNumber
    assurance_level: int
    name: str


def client_settings(config: Mapping[str, Any], kind: str) -> dict[str, Any] | None:
    """Authlib ``register`` arguments for ``kind``, or None when it is not configured."""
    prefix = f"OIDC_{kind.upper()}_"
    client_id = config.get(prefix + "CLIENT_ID")
    metadata_url = config.get(prefix + "METADATA_URL")
    issuer = config.get(prefix + "ISSUER")
    if not client_id or not (metadata_url or issuer):
        return None
    if not metadata_url:
        metadata_url = str(issuer).rstrip("/") + "/.well-known/openid-configuration"
    return {
        "client_id": client_id,
        "client_secret": config.get(prefix + "CLIENT_SECRET"),
        "server_metadata_url": metadata_url,
        "client_kwargs": {
            "scope": config.get(prefix + "SCOPE") or DEFAULT_SCOPE,
            "code_challenge_method": "S256",
            "default_timeout": float(config.get("OIDC_TIMEOUT_SECONDS", 10)),
        },
    }


def init_app(app: Flask) -> None:
    """Register a client per configured kind. One ``OAuth`` per app: its registry is per
    instance, and two apps in one process (tests, multi-tenant hosting) must not share it."""
    oauth = OAuth(app)
    for kind in KINDS:
        settings = client_settings(app.config, kind)
        if settings is not None:
            oauth.register(name=kind, **settings)
    app.extensions[EXTENSION] = oauth


def client(kind: str) -> Any | None:
    """The registered Authlib client for ``kind`` in the current app, or None."""
    oauth: OAuth | None = current_app.extensions.get(EXTENSION)
    if oauth is None or kind not in KINDS:
        return None
    return oauth.create_client(kind)


def is_configured(kind: str) -> bool:
    return client(kind) is not None


def authorize_params(config: Mapping[str, Any], kind: str) -> dict[str, str]:
    """Extra authorization-request parameters: the assurance levels asked for."""
    acr_values = config.get(f"OIDC_{kind.upper()}_ACR_VALUES")
    if acr_values is None and kind == "citizen":
        acr_values = LOA3
    return {"acr_values": str(acr_values)} if acr_values else {}


def acr_levels(config: Mapping[str, Any]) -> dict[str, int]:
    levels = config.get("OIDC_ACR_LEVELS") or DEFAULT_ACR_LEVELS
    if isinstance(levels, str):
        levels = json.loads(levels)
    return {str(acr): int(level) for acr, level in dict(levels).items()}


def assurance_level(claims: Mapping[str, Any], levels: Mapping[str, int]) -> int:
    """The level the ID token's ``acr`` maps to; 0 for a missing or unknown ``acr``."""
    acr = claims.get("acr")
    return levels.get(acr, 0) if isinstance(acr, str) else 0


def citizen_claims(claims: Mapping[str, Any], config: Mapping[str, Any],
                   today: dt.date) -> CitizenClaims:
    """Check a citizen's validated ID-token claims; raise :class:`LoginRefused` if they fail.

    The order matters for what the citizen is told: a weak log-in method is reported before
    anything is read from the token.
    """
    level = assurance_level(claims, acr_levels(config))
    if level < CITIZEN_MIN_ASSURANCE:
        raise LoginRefused("assurance")
    raw = claims.get(config.get("OIDC_CITIZEN_PNR_CLAIM") or DEFAULT_PNR_CLAIM)
    if not isinstance(raw, str):
        raise LoginRefused("identity")
    try:
        identity = IdentityNumber.parse(raw, today=today)
    except InvalidIdentityNumber:
        raise LoginRefused("identity") from None
    if identity.age_on(today) < LOGIN_MIN_AGE:
        raise LoginRefused("too_young")
    name = claims.get("name")
    if not isinstance(name, str) or not name.strip():
        given, family = claims.get("given_name"), claims.get("family_name")
        name = " ".join(part for part in (given, family) if isinstance(part, str) and part)
    return CitizenClaims(identity=identity, assurance_level=level, name=name or "")
