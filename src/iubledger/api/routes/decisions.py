"""Decisions: list them, add a decision file, revoke a decision."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from starlette.concurrency import run_in_threadpool

from iubledger.api import models as m
from iubledger.api.deps import allowed
from iubledger.api.routes.common import Svc, parse, read_body
from iubledger.services.apikeys import ApiKey

router = APIRouter(prefix="/v1")


@router.get(
    "/decisions",
    tags=["beslut"],
    summary="Decisions and their versions",
    response_model=list[m.DecisionEntry],
)
async def list_decisions(
    svc: Svc, key: Annotated[ApiKey, Depends(allowed("read_decisions"))]
) -> Any:
    """Every version and revocation, oldest first. A nämnd sees its own katalog, an
    utförare the decisions that name it, tillsyn all."""
    return await run_in_threadpool(svc.decisions, key)


@router.post(
    "/decisions",
    tags=["beslut"],
    summary="Add a decision file (a new decision or an amendment)",
    status_code=201,
    response_model=m.ImportOut,
    openapi_extra=m.DECISION_BODY,
)
async def add_decision(
    request: Request, svc: Svc, key: Annotated[ApiKey, Depends(allowed("decide"))]
) -> Any:
    """A decision file of the nämnd's own katalog: each insats gets a new version (an
    amendment never edits an earlier one). All or nothing (G7)."""
    raw = await read_body(request)
    return {"imported": await run_in_threadpool(svc.import_decision, key, raw)}


@router.post(
    "/decisions/{katalog}/{insats}/revoke",
    tags=["beslut"],
    summary="Revoke a decision from a date",
    status_code=201,
    response_model=m.DecisionVersion,
    openapi_extra=m.REVOKE_BODY,
)
async def revoke_decision(
    request: Request,
    svc: Svc,
    key: Annotated[ApiKey, Depends(allowed("decide"))],
    katalog: Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")],
    insats: Annotated[str, Path(pattern=r"^[0-9A-Za-z][0-9A-Za-z._-]{0,39}$")],
) -> Any:
    """A new version that ends the decision from `fran`; earlier versions stay."""
    req = parse(m.RevokeRequest, await read_body(request))
    return await run_in_threadpool(svc.revoke, key, f"{katalog}/{insats}", req.fran, req.skal)
