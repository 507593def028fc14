"""The API's documentation pages: Swagger UI at `/docs` and ReDoc at `/redoc`, rendering
`/openapi.json` from files shipped inside an installed package (fastapi-offline, pinned):
no page loads anything from another host."""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

#: Where the shipped Swagger UI and ReDoc files are served.
STATIC = "/docs/static"
ASSETS = files("fastapi_offline").joinpath("static")


def install(app: FastAPI) -> None:
    """Mount the shipped assets and the two pages (outside the OpenAPI document)."""
    app.mount(STATIC, StaticFiles(directory=str(ASSETS)), name="docs-static")
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} – API",
            swagger_js_url=f"{STATIC}/swagger-ui-bundle.js",
            swagger_css_url=f"{STATIC}/swagger-ui.css",
            swagger_favicon_url=f"{STATIC}/favicon.png",
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{app.title} – API",
            redoc_js_url=f"{STATIC}/redoc.standalone.js",
            redoc_favicon_url=f"{STATIC}/favicon.png",
            with_google_fonts=False,
        )
