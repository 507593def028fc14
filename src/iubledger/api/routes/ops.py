"""Operations outside /v1: liveness and readiness."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from iubledger.api import models as m
from iubledger.api.service import Service

router = APIRouter()


@router.get("/healthz", tags=["drift"], summary="Liveness", response_model=m.Health)
async def healthz() -> Any:
    return {"status": "ok"}


@router.get(
    "/readyz",
    tags=["drift"],
    summary="Readiness: the ledger is open and its database answers",
    response_model=m.Health,
    responses={503: {"model": m.Health, "description": "Not ready (starting or closing)"}},
)
async def readyz(request: Request) -> Any:
    svc: Service | None = getattr(request.app.state, "service", None)
    ok = svc is not None and await run_in_threadpool(svc.ready)
    return JSONResponse({"status": "ok" if ok else "ej_redo"}, status_code=200 if ok else 503)
