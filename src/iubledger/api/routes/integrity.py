"""Integrity: receipts, checkpoints and consistency; verify, replay and export."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from iubledger.api import models as m
from iubledger.api.deps import allowed
from iubledger.api.routes.common import Svc, parse, read_body
from iubledger.audit.replay import Grund
from iubledger.services.apikeys import ApiKey

MAX_POSITION = 2**62

router = APIRouter(prefix="/v1")


@router.get(
    "/receipts/{position}",
    tags=["integritet"],
    summary="Receipt: inclusion proof of one record",
    response_model=m.ReceiptOut,
)
async def get_receipt(
    svc: Svc,
    key: Annotated[ApiKey, Depends(allowed("read_receipts"))],
    position: Annotated[int, Path(ge=0, le=MAX_POSITION)],
    tree_size: Annotated[int | None, Query(ge=1, le=MAX_POSITION)] = None,
) -> Any:
    """RFC 9162 inclusion proof against a signed checkpoint (signed now when none covers
    the position yet; or the checkpoint of `tree_size`)."""
    return await run_in_threadpool(svc.receipt, key, position, tree_size)


@router.get(
    "/checkpoint",
    tags=["integritet"],
    summary="The latest signed checkpoint",
    response_model=m.CheckpointOut,
)
async def get_checkpoint(
    svc: Svc, _: Annotated[ApiKey, Depends(allowed("read_checkpoints"))]
) -> Any:
    return await run_in_threadpool(svc.checkpoint)


@router.get(
    "/consistency",
    tags=["integritet"],
    summary="Consistency proof between two tree sizes",
    response_model=m.ConsistencyOut,
)
async def get_consistency(
    svc: Svc,
    _: Annotated[ApiKey, Depends(allowed("read_checkpoints"))],
    old: Annotated[int, Query(ge=1, le=MAX_POSITION)],
    new: Annotated[int, Query(ge=1, le=MAX_POSITION)],
) -> Any:
    """RFC 9162 proof that the log of size `new` extends the log of size `old`."""
    return await run_in_threadpool(svc.consistency, old, new)


@router.post(
    "/cosignatures",
    tags=["integritet"],
    summary="Hand in a witness cosignature",
    response_model=m.CosignatureOut,
    openapi_extra=m.COSIGNATURE_BODY,
)
async def post_cosignature(
    request: Request, svc: Svc, _: Annotated[ApiKey, Depends(allowed("cosign"))]
) -> Any:
    """A witness's cosignature of one of the ledger's checkpoints (C2SP tlog-cosignature):
    kept when it verifies under the witness key given, over a checkpoint this ledger
    signed; verify then checks the log against it."""
    req = parse(m.CosignatureIn, await read_body(request, required=True))
    return await run_in_threadpool(svc.add_cosignature, req.note, req.witness)


@router.post(
    "/verify",
    tags=["tillsyn"],
    summary="Verify the whole log",
    response_model=m.VerifyOut,
    openapi_extra=m.VERIFY_BODY,
)
async def post_verify(
    request: Request, svc: Svc, _: Annotated[ApiKey, Depends(allowed("verify"))]
) -> Any:
    """Recompute the Merkle log, check every signature, decryption and decoding, and —
    given a checkpoint kept earlier — that the log only grew since. `ok` says the result;
    `first_bad_position` names the first bad record."""
    raw = await read_body(request, required=False)
    req = parse(m.VerifyRequest, raw) if raw else m.VerifyRequest()
    saved = req.checkpoint.model_dump(exclude_none=True) if req.checkpoint else None
    return await run_in_threadpool(svc.verify, saved)


@router.get(
    "/replay", tags=["tillsyn"], summary="Replay as of a date", response_model=dict[str, Any]
)
async def get_replay(
    svc: Svc,
    _: Annotated[ApiKey, Depends(allowed("replay"))],
    as_of: Annotated[date, Query(description="The day to replay (YYYY-MM-DD)")],
    tree_size: Annotated[int | None, Query(ge=0, le=MAX_POSITION)] = None,
    by: Annotated[
        Grund,
        Query(
            description="recorded: what had been recorded by the end of the day; occurred: "
            "everything recorded about what had happened by then"
        ),
    ] = "recorded",
) -> Any:
    """Decisions and the participation report as they stood then, rebuilt from the log."""
    return await run_in_threadpool(svc.replay, as_of, tree_size, by)


@router.get(
    "/export",
    tags=["tillsyn"],
    summary="Export for tillsyn (JSON Lines)",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "One stored record per line; at-rest cipher opened, seals closed",
            "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
        }
    },
)
async def get_export(svc: Svc, _: Annotated[ApiKey, Depends(allowed("export"))]) -> Any:
    return StreamingResponse(svc.export(), media_type="application/x-ndjson")
