"""Sign-in as at work: OpenID Connect authorization code flow with PKCE (S256) through
Authlib; the ID token's claims give the role and its scope (`settings.OidcConfig.roller`).

The signed-in user lives in a signed session cookie (HttpOnly, SameSite=Lax, Secure over
HTTPS), bound to a CSRF token that every form sends back. Lax, not Strict: the provider
redirects back to the callback from another site, and the state cookie must come with it.
What the role may do is decided by `roles.may`, as for an API key.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, cast, get_args

import httpx
from authlib.integrations.starlette_client import OAuth, OAuthError
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from iubledger.policies.textscan import scan
from iubledger.roles import Roll
from iubledger.services.apikeys import ApiKey
from iubledger.web.settings import OidcConfig, client_secret

ROLES: tuple[str, ...] = get_args(Roll)
USER = "anvandare"
UNREACHABLE = "Inloggningstjänsten svarar inte just nu. Försök igen om en stund."


class SignInRefused(Exception):
    """The provider's answer or the user's claims do not give exactly one role; the
    message is Swedish and holds no claim value."""


class NeedSignIn(Exception):
    """The page needs a signed-in user."""


class CsrfError(Exception):
    """A form came without the session's CSRF token."""


@dataclass(frozen=True)
class Anvandare:
    """The signed-in person as the ledger sees them: a role, its scope and who it is (the
    configured user claim, prefixed `webb:` in the ledger's records)."""

    roll: Roll
    katalog: str | None
    utforare: str | None
    id: str

    def key(self) -> ApiKey:
        """The user as a caller of the service, with the same scope an API key would have."""
        return ApiKey(
            nyckel_id=f"webb:{self.id}",
            roll=self.roll,
            organisation=self.utforare,
            katalog=self.katalog,
            insatser=None,
            beskrivning="webbinloggning",
            skapad="",
            aterkallad=None,
        )


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def user_of(claims: Mapping[str, Any], config: OidcConfig) -> Anvandare:
    """The user the claims describe: exactly one mapped role, its katalog (nämnd) or
    organisation (utförare) from the mapping or from the configured claim."""
    values = _strings(claims.get(config.roll_claim))
    granted = [config.roller[v] for v in values if v in config.roller]
    if not granted:
        raise SignInRefused("Ditt konto har ingen roll i iubledger. Kontakta administratören.")
    if len({(g.roll, g.katalog, g.utforare) for g in granted}) > 1:
        raise SignInRefused(
            "Ditt konto har flera roller i iubledger; en inloggning har en roll. "
            "Kontakta administratören."
        )
    g = granted[0]
    katalog, utforare = g.katalog, g.utforare
    if g.roll == "namnd" and katalog is None and config.katalog_claim:
        katalog = next(iter(_strings(claims.get(config.katalog_claim))), None)
    if g.roll == "utforare" and utforare is None and config.utforare_claim:
        utforare = next(iter(_strings(claims.get(config.utforare_claim))), None)
    if (g.roll == "namnd" and not katalog) or (g.roll == "utforare" and not utforare):
        raise SignInRefused("Rollen saknar katalog eller utförare. Kontakta administratören.")
    ident = next(iter(_strings(claims.get(config.anvandar_claim))), "")
    if not ident or len(ident) > 128 or scan(ident, today=date.today()):
        # The person's id is recorded with what they do: never a personnummer.
        raise SignInRefused(
            "Inloggningen saknar en användaridentitet som får registreras. "
            "Kontakta administratören."
        )
    return Anvandare(g.roll, katalog, utforare, ident)


def current(request: Request) -> Anvandare | None:
    data = request.session.get(USER)
    if not isinstance(data, dict) or data.get("utgar", 0) < time.time():
        return None
    roll, ident = data.get("roll"), data.get("id")
    if roll not in ROLES or not isinstance(ident, str):
        return None
    return Anvandare(cast(Roll, roll), data.get("katalog"), data.get("utforare"), ident)


def csrf_token(request: Request) -> str:
    """The session's CSRF token (made on first use)."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def check_csrf(request: Request, sent: object) -> None:
    """Every POST form carries the session's token (compared in constant time)."""
    token = request.session.get("csrf")
    if not isinstance(token, str) or not isinstance(sent, str):
        raise CsrfError
    if not hmac.compare_digest(token.encode(), sent.encode()):
        raise CsrfError


def router(config: OidcConfig) -> APIRouter:
    """/logga-in (to the provider), /auth/callback (back from it), /logga-ut (POST)."""
    oauth = OAuth()
    oauth.register(
        "idp",
        client_id=config.client_id,
        client_secret=client_secret(config),
        server_metadata_url=config.issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={"scope": " ".join(config.scopes), "code_challenge_method": "S256"},
    )
    idp: Any = oauth.create_client("idp")
    r = APIRouter(include_in_schema=False)

    @r.get("/logga-in")
    async def sign_in(request: Request) -> Response:
        request.session.pop(USER, None)
        try:
            response: Response = await idp.authorize_redirect(request, config.redirect_uri)
        except httpx.HTTPError:
            raise SignInRefused(UNREACHABLE) from None
        return response

    @r.get("/auth/callback")
    async def callback(request: Request) -> Response:
        try:
            token = await idp.authorize_access_token(request)
        except OAuthError:
            raise SignInRefused("Inloggningen avbröts eller kunde inte bekräftas.") from None
        except httpx.HTTPError:
            raise SignInRefused(UNREACHABLE) from None
        claims = token.get("userinfo")
        if not isinstance(claims, Mapping):
            raise SignInRefused("Inloggningstjänsten lämnade ingen giltig ID-token.")
        user = user_of(claims, config)
        request.session.clear()
        request.session[USER] = {
            "roll": user.roll,
            "katalog": user.katalog,
            "utforare": user.utforare,
            "id": user.id,
            "utgar": time.time() + config.session_sekunder,
            "inloggad": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        csrf_token(request)
        return RedirectResponse("/", status_code=303)

    @r.post("/logga-ut")
    async def sign_out(request: Request) -> Response:
        form = await request.form()
        check_csrf(request, form.get("csrf"))
        request.session.clear()
        return RedirectResponse("/", status_code=303)

    return r
