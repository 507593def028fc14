"""Identity recovery, and the list of every recovery for tillsyn."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from iubledger.api import models as m
from iubledger.api.deps import allowed
from iubledger.api.routes.common import Svc, parse, read_body
from iubledger.services.apikeys import ApiKey

router = APIRouter(prefix="/v1")


@router.post(
    "/identity/{deltagande}",
    tags=["identitet"],
    summary="Recover sealed identity (full_14_3); recorded in the ledger",
    response_model=m.IdentityOut,
    openapi_extra=m.IDENTITY_BODY,
)
async def recover_identity(
    request: Request,
    svc: Svc,
    key: Annotated[ApiKey, Depends(allowed("recover_identity"))],
    deltagande: UUID,
) -> Any:
    """Every recovery — opened or refused — is first recorded as an event in the ledger
    (role, key id, time, participation, reason, outcome), visible to tillsyn at
    GET /v1/audit/identity-access."""
    req = parse(m.IdentityRequest, await read_body(request))
    return await run_in_threadpool(svc.recover_identity, key, deltagande, req.skal)


@router.post(
    "/identity/{deltagande}/gallring",
    tags=["identitet"],
    summary="Gallring of a participation (14 kap. 3 § SoL); recorded in the ledger",
    response_model=m.GallringOut,
    openapi_extra=m.GALLRING_BODY,
)
async def shred_identity(
    request: Request,
    svc: Svc,
    key: Annotated[ApiKey, Depends(allowed("shred_identity"))],
    deltagande: UUID,
) -> Any:
    """Deletes the participation's subject key, course and the person's look-up, so its
    identity can never be opened and nothing links its records. The gallring (role, key
    id, time, participation, reason) is recorded in the ledger first and listed at
    GET /v1/audit/identity-access."""
    req = parse(m.GallringRequest, await read_body(request))
    return await run_in_threadpool(svc.shred_identity, key, deltagande, req.skal)


@router.get(
    "/audit/identity-access",
    tags=["tillsyn"],
    summary="Every identity recovery and gallring",
    response_model=list[m.AccessOut],
)
async def identity_access(
    svc: Svc, _: Annotated[ApiKey, Depends(allowed("read_identity_access"))]
) -> Any:
    return await run_in_threadpool(svc.identity_access)
