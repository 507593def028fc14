"""Utförare events: one at a time or a batch."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from iubledger.api import models as m
from iubledger.api.deps import allowed
from iubledger.api.routes.common import Svc, parse, read_body, refusal
from iubledger.schemas.base import Problem, Rejected
from iubledger.services.apikeys import ApiKey

router = APIRouter(prefix="/v1")


@router.post(
    "/events",
    tags=["händelser"],
    summary="Append one utförare event",
    status_code=201,
    response_model=m.Appended,
    responses={200: {"model": m.Appended, "description": "A repeated client id: the first result"}},
    openapi_extra=m.EVENT_BODY,
)
async def append_event(
    request: Request,
    svc: Svc,
    key: Annotated[ApiKey, Depends(allowed("append"))],
    sign: Annotated[
        bool, Query(description="Sign a checkpoint now, so the receipt is in the answer")
    ] = False,
) -> Any:
    """Same semantics as `iubledger append`: atomic, idempotent on the client `id`
    (a repeated id returns the first result with status 200). Refusals are 422 with
    field and rule; another organisation or insats is 403."""
    raw = await read_body(request)
    result, replayed = await run_in_threadpool(svc.append, key, raw, sign)
    return JSONResponse(
        m.Appended(**result).model_dump(mode="json"), status_code=200 if replayed else 201
    )


@router.post(
    "/events/batch",
    tags=["händelser"],
    summary="Append a batch of utförare events",
    response_model=m.BatchOut,
    openapi_extra=m.BATCH_BODY,
)
async def append_batch(
    request: Request,
    svc: Svc,
    key: Annotated[ApiKey, Depends(allowed("append"))],
    sign: Annotated[
        bool, Query(description="Sign a checkpoint after the batch: every receipt included")
    ] = False,
) -> Any:
    """One result per event, in order; each event atomic on its own (a refused event
    stores nothing, the others are kept)."""
    batch = parse(m.Batch, await read_body(request))
    if len(batch.events) > request.app.state.max_batch:
        raise Rejected(
            [
                Problem(
                    "too_long",
                    "events",
                    f"at most {request.app.state.max_batch} events per batch",
                )
            ]
        )
    outcomes = await run_in_threadpool(svc.append_batch, key, batch.events, sign)
    results = [
        {"index": i, **r} if isinstance(r, dict) else refusal(i, r) for i, r in enumerate(outcomes)
    ]
    accepted = sum(1 for r in results if r["ok"])
    return {"accepted": accepted, "refused": len(results) - accepted, "results": results}
