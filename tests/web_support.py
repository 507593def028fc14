"""A small OpenID Connect provider for the tests, on a loopback port in this process, and
the web app signed in through it. Never a network service.

The provider implements what the sign-in uses: discovery, JWKS, the authorization endpoint
(approving the user the test names, as an IdP does after the person has authenticated) and
the token endpoint, which checks the client secret, the redirect URI and the PKCE verifier
(S256) before it signs an RS256 ID token with joserfc.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlencode

import uvicorn
from fastapi import FastAPI, Form, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse
from joserfc import jwt
from joserfc.jwk import RSAKey

from api_support import KATALOG, UTFORARE, decision_file, event, seed
from iubledger.config import Settings
from iubledger.services import append, decisions
from iubledger.store.ledger import Ledger
from iubledger.web.settings import Mappning, OidcConfig

CLIENT_ID = "iubledger-test"
CLIENT_SECRET = "test-secret-" + "x" * 20

#: Role claim values the test configuration maps (as an Entra ID app role would be named).
ROLLER = {
    "IUB.Namnd": Mappning(roll="namnd", katalog="api-namnd"),
    "IUB.Namnd.Annan": Mappning(roll="namnd", katalog="api-annan"),
    "IUB.Tillsyn": Mappning(roll="tillsyn"),
    "IUB.Admin": Mappning(roll="admin"),
    "IUB.Utforare": Mappning(roll="utforare", utforare="samtalsstod"),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Grant:
    claims: dict[str, Any]
    nonce: str | None
    challenge: str
    redirect_uri: str


@dataclass
class Provider:
    url: str = ""
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "k1"}))
    #: The claims of the person who signs in next.
    claims: dict[str, Any] = field(default_factory=dict)
    codes: dict[str, Grant] = field(default_factory=dict)
    pkce_checked: int = 0

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/.well-known/openid-configuration")
        async def discovery() -> Any:
            return {
                "issuer": self.url,
                "authorization_endpoint": f"{self.url}/authorize",
                "token_endpoint": f"{self.url}/token",
                "jwks_uri": f"{self.url}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            }

        @app.get("/jwks")
        async def jwks() -> Any:
            return {"keys": [{**self.key.as_dict(private=False), "use": "sig", "alg": "RS256"}]}

        @app.get("/authorize")
        async def authorize(request: Request) -> Any:
            q = request.query_params
            if (
                q.get("client_id") != CLIENT_ID
                or q.get("response_type") != "code"
                or q.get("code_challenge_method") != "S256"
                or not q.get("code_challenge")
                or "openid" not in (q.get("scope") or "").split()
            ):
                raise HTTPException(400, "bad authorization request")
            code = secrets.token_urlsafe(16)
            self.codes[code] = Grant(
                dict(self.claims), q.get("nonce"), q["code_challenge"], q["redirect_uri"]
            )
            sep = "&" if "?" in q["redirect_uri"] else "?"
            return RedirectResponse(
                q["redirect_uri"] + sep + urlencode({"code": code, "state": q.get("state", "")}),
                status_code=302,
            )

        @app.post("/token")
        async def token(
            request: Request,
            grant_type: str = Form(),
            code: str = Form(),
            redirect_uri: str = Form(),
            code_verifier: str = Form(),
        ) -> Any:
            auth = request.headers.get("authorization", "")
            expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
            if auth != f"Basic {expected}":
                return JSONResponse({"error": "invalid_client"}, status_code=401)
            grant = self.codes.pop(code, None)
            if grant is None or grant_type != "authorization_code":
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            digest = hashlib.sha256(code_verifier.encode()).digest()
            if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != grant.challenge:
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            if redirect_uri != grant.redirect_uri:
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            self.pkce_checked += 1
            now = int(time.time())
            claims = {
                "iss": self.url,
                "aud": CLIENT_ID,
                "iat": now,
                "exp": now + 300,
                **({"nonce": grant.nonce} if grant.nonce else {}),
                **grant.claims,
            }
            id_token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, self.key)
            return {
                "access_token": secrets.token_urlsafe(16),
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": id_token,
            }

        return app

    def config(self, public_url: str) -> OidcConfig:
        return OidcConfig(
            issuer=self.url,
            client_id=CLIENT_ID,
            public_url=public_url,
            anvandar_claim="oid",
            roll_claim="roles",
            roller=ROLLER,
        )


@contextmanager
def serving(app: Any, port: int) -> Iterator[None]:
    """Run an ASGI app with uvicorn on 127.0.0.1:port in a thread."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.02)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def oidc_provider() -> Iterator[Provider]:
    idp = Provider()
    port = free_port()
    idp.url = f"http://127.0.0.1:{port}"
    with serving(idp.app(), port):
        yield idp


def user(role_value: str, oid: str = "a1b2c3d4-0000-4000-8000-000000000001") -> dict[str, Any]:
    """The claims of a person with one app role."""
    return {"sub": "opaque-" + oid[:8], "oid": oid, "roles": [role_value], "name": "Test Testsson"}


H1_2026 = "halvar:2026-01-01"


def effect_seed(settings: Settings) -> dict[str, Any]:
    """api_support's seed, an amendment of the undantag insats from 2026-04-01 (the second
    quarter of 2026) and contacts before and after it."""
    seeded = seed(settings)
    fil = json.loads(decision_file(KATALOG, UTFORARE, {"undantag": "3.2.1"}))
    fil.update(andring=True, diarienummer="2026.011", beslutsdatum="2026-02-10")
    fil["giltig_fran"] = "2026-04-01"
    ledger = Ledger(settings)
    try:
        decisions.import_files(ledger, [("andring", json.dumps(fil, ensure_ascii=False))])
        for day in (date(2026, 1, 12), date(2026, 2, 9), date(2026, 3, 16), date(2026, 4, 20)):
            for _ in range(6):
                append.event(ledger, event("kontakt", "undantag", datum=day))
    finally:
        ledger.close()
    return seeded
