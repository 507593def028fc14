"""Entrypoint: the web interface for people (nämnd, tillsyn, admin), server-rendered from
Jinja2 templates with the stylesheet shipped in the package; no script, no build step.

Sign-in is OpenID Connect (`web.auth`); without a provider configured the pages say so and
the API's keys remain the only way in.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from iubledger.web import auth, pages
from iubledger.web.settings import OidcConfig

SESSION_COOKIE = "iubledger_session"


def install(app: FastAPI, oidc: OidcConfig | None) -> None:
    """Mount the pages, the static files and (when configured) sign-in on `app`. The
    session cookie is signed with a key made at start: a restart signs everyone out."""
    app.state.web_sign_in = oidc is not None
    app.add_middleware(
        SessionMiddleware,
        secret_key=secrets.token_urlsafe(32),
        session_cookie=SESSION_COOKIE,
        max_age=oidc.session_sekunder if oidc else 3600,
        same_site="lax",
        https_only=oidc.secure_cookies if oidc else True,
    )
    if oidc is not None:
        app.include_router(auth.router(oidc))
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")

    @app.exception_handler(auth.NeedSignIn)
    async def need_sign_in(request: Request, exc: auth.NeedSignIn) -> Response:
        return RedirectResponse("/", status_code=303)

    @app.exception_handler(pages.WebError)
    async def web_error(request: Request, exc: pages.WebError) -> Response:
        return pages.page(request, "fel.html", exc.status, titel="Fel", text=exc.text)

    @app.exception_handler(auth.SignInRefused)
    async def refused(request: Request, exc: auth.SignInRefused) -> Response:
        return pages.page(request, "fel.html", 403, titel="Inloggningen nekades", text=str(exc))

    @app.exception_handler(auth.CsrfError)
    async def csrf(request: Request, exc: auth.CsrfError) -> Response:
        text = "Formuläret hade ingen giltig kontrollkod. Ladda om sidan och försök igen."
        return pages.page(request, "fel.html", 403, titel="Fel", text=text)
