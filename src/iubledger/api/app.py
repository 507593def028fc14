"""The FastAPI application: a writer and a reader Ledger per process (`api.service`),
opened in the lifespan and closed on shutdown after the ledger calls in progress have
finished.

Graceful shutdown: on SIGTERM/SIGINT uvicorn stops accepting connections and waits (up to
`ApiSettings.graceful_seconds`) for requests in flight — an append in progress completes
and answers — then the lifespan closes the ledger under its lock.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from starlette.concurrency import run_in_threadpool

from iubledger.api import beskrivningar, docs, exempel, models, problems
from iubledger.api.middleware import Guard
from iubledger.api.routes import ops, v1
from iubledger.api.service import Service
from iubledger.config import Settings
from iubledger.services.apikeys import ApiKeys
from iubledger.store.ledger import Ledger
from iubledger.web import install as install_web
from iubledger.web.settings import OidcConfig

VERSION = "1"
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


@dataclass(frozen=True)
class ApiSettings:
    """How `iubledger serve` listens; loopback by default."""

    host: str = "127.0.0.1"
    port: int = 8750
    max_body: int = 1024 * 1024
    max_batch: int = 1000
    graceful_seconds: int = 30


def create_app(
    settings: Settings, api: ApiSettings | None = None, oidc: OidcConfig | None = None
) -> FastAPI:
    """The HTTP API under /v1 and the web interface for people (`web`), signed in through
    `oidc` when it is given."""
    api = api or ApiSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ledger = await run_in_threadpool(Ledger, settings)
        try:
            reader = await run_in_threadpool(Ledger, settings)
        except BaseException:
            ledger.close()
            raise
        svc = Service(ledger, reader, ApiKeys.of(ledger))
        app.state.service = svc
        try:
            yield
        finally:
            await run_in_threadpool(svc.close)

    app = FastAPI(
        title="iubledger",
        version=VERSION,
        summary="Documentation ledger for insatser utan individuell behovsprövning "
        "(SoL 2025:400): utförare append, the nämnd decides and follows up, tillsyn verifies.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.max_batch = api.max_batch
    problems.install(app)
    docs.install(app)
    app.include_router(ops.router)
    app.include_router(v1)
    install_web(app, oidc)
    app.add_middleware(Guard, max_body=api.max_body)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _document(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _statuses(path: str, op: dict[str, Any]) -> list[int]:
    """The problems an operation can answer with (the size limit applies to every request)."""
    out = [413, 500]
    if path.startswith("/v1/"):
        out += [401, 403, 404, 422, 503]
    if "requestBody" in op:
        out.append(415)
    return out


def _document(app: FastAPI) -> dict[str, Any]:
    doc = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description="Errors are `application/problem+json` (RFC 9457) naming field and "
        "rule, never an input value; each rule has a stable `type` URI "
        "(`urn:iubledger:problem:<rule>`) and a Swedish title. Field descriptions are in "
        "Swedish, the language of the nämnd and of tillsyn; every operation carries an "
        "example generated from the simulator. Authenticate with "
        "`Authorization: Bearer <API key>`.",
        routes=app.routes,
    )
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    for name, schema in models.SCHEMAS.items():
        if schemas.setdefault(name, copy.deepcopy(schema)) != schema:
            raise RuntimeError(f"two OpenAPI schemas are called {name}")
    schemas["Batch"]["properties"]["events"]["maxItems"] = app.state.max_batch
    problem = models.ProblemOut.model_json_schema(ref_template=models.REF)
    for name, schema in problem.pop("$defs", {}).items():
        schemas.setdefault(name, schema)
    schemas["Problem"] = problem
    beskrivningar.fill(doc)
    exempel.attach(doc)
    for path, operations in doc["paths"].items():
        for op in operations.values():
            responses = op.setdefault("responses", {})
            for status in _statuses(path, op):
                entry: dict[str, Any] = {
                    "description": problems.titel(status),
                    "content": {problems.MEDIA_TYPE: {"schema": PROBLEM_REF}},
                }
                if status == 401:
                    entry["headers"] = {
                        "WWW-Authenticate": {"schema": {"type": "string"}, "required": True}
                    }
                responses[str(status)] = entry
    return doc
