"""A tiny OpenID Connect provider for tests, served on 127.0.0.1 (no other network).

It implements just what a relying party exercises in the authorization-code flow: discovery,
JWKS (an RS256 key made here), the authorize redirect (auto-approving, as if the person had
identified with BankID) and the token endpoint with client_secret_basic and PKCE (S256). The
test sets :attr:`Provider.claims` — who "logs in" and with which ``acr`` — before each log-in.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from flask import Flask, abort, jsonify, redirect, request
from joserfc import jwt
from joserfc.jwk import RSAKey
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Response

CLIENT_ID = "formular-test"
CLIENT_SECRET = "test-client-secret"


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@dataclass
class Provider:
    issuer: str = ""
    redirect_uris: set[str] = field(default_factory=set)
    #: Claims of the next ID token (``iss``, ``aud``, ``exp``, ``nonce`` are added).
    claims: dict[str, Any] = field(default_factory=dict)
    #: Sign with this key instead of the published one (to test signature checks).
    signing_key: RSAKey | None = None
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(
        2048, parameters={"kid": "test-key", "use": "sig", "alg": "RS256"}, private=True))
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def metadata_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def app(self) -> Flask:
        app = Flask("oidc-provider")

        @app.get("/.well-known/openid-configuration")
        def discovery() -> Response:
            return jsonify({
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
                "code_challenge_methods_supported": ["S256"],
                "acr_values_supported": ["http://id.elegnamnden.se/loa/1.0/loa3"],
            })

        @app.get("/jwks")
        def jwks() -> Response:
            return jsonify({"keys": [self.key.as_dict(private=False)]})

        @app.get("/authorize")
        def authorize() -> Response:
            args = request.args
            if args.get("client_id") != CLIENT_ID or args.get("response_type") != "code":
                abort(400)
            if args.get("redirect_uri") not in self.redirect_uris:
                abort(400)
            if args.get("code_challenge_method") != "S256" or not args.get("code_challenge"):
                abort(400)
            code = secrets.token_urlsafe(16)
            self.codes[code] = {"nonce": args.get("nonce"), "claims": dict(self.claims),
                                "challenge": args["code_challenge"],
                                "redirect_uri": args["redirect_uri"],
                                "acr_values": args.get("acr_values")}
            query = urlencode({"code": code, "state": args.get("state", "")})
            return redirect(f"{args['redirect_uri']}?{query}")

        @app.post("/token")
        def token() -> Response:
            auth = request.authorization
            if auth is None or (auth.username, auth.password) != (CLIENT_ID, CLIENT_SECRET):
                return _error("invalid_client", 401)
            grant = self.codes.pop(request.form.get("code", ""), None)
            if grant is None or request.form.get("redirect_uri") != grant["redirect_uri"]:
                return _error("invalid_grant")
            verifier = request.form.get("code_verifier", "")
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            if digest.rstrip(b"=").decode() != grant["challenge"]:
                return _error("invalid_grant")
            now = int(time.time())
            claims = {"iss": self.issuer, "aud": CLIENT_ID, "iat": now, "exp": now + 300,
                      "nonce": grant["nonce"], **grant["claims"]}
            key = self.signing_key or self.key
            id_token = jwt.encode({"alg": "RS256", "kid": "test-key"}, claims, key)
            return jsonify({"access_token": secrets.token_urlsafe(16), "token_type": "Bearer",
                            "expires_in": 300, "id_token": id_token})

        return app


def _error(code: str, status: int = 400) -> Response:
    response = jsonify({"error": code})
    response.status_code = status
    return response


@contextmanager
def serve() -> Iterator[Provider]:
    """Run a provider on a free loopback port for the duration of the block."""
    provider = Provider()
    server = make_server("127.0.0.1", 0, provider.app(), threaded=True,
                         request_handler=_QuietHandler)
    provider.issuer = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, name="oidc-provider", daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
