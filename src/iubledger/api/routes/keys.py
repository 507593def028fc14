"""The calling key, and API key management."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from starlette.concurrency import run_in_threadpool

from iubledger.api import models as m
from iubledger.api.deps import allowed, caller
from iubledger.api.routes.common import Svc, parse, read_body
from iubledger.services.apikeys import ApiKey

router = APIRouter(prefix="/v1")


@router.get("/whoami", tags=["nycklar"], summary="The calling key", response_model=m.KeyOut)
async def whoami(key: Annotated[ApiKey, Depends(caller)]) -> Any:
    return key.as_json()


@router.get(
    "/keys",
    tags=["nycklar"],
    summary="API keys (never their secrets)",
    response_model=list[m.KeyOut],
)
async def list_keys(svc: Svc, _: Annotated[ApiKey, Depends(allowed("manage_keys"))]) -> Any:
    return [k.as_json() for k in await run_in_threadpool(svc.keys.list)]


@router.post(
    "/keys",
    tags=["nycklar"],
    summary="Create an API key (shown once)",
    status_code=201,
    response_model=m.KeyCreated,
    openapi_extra=m.KEY_BODY,
)
async def create_key(
    request: Request, svc: Svc, _: Annotated[ApiKey, Depends(allowed("manage_keys"))]
) -> Any:
    req = parse(m.KeyRequest, await read_body(request))
    token, key = await run_in_threadpool(svc.create_key, req.model_dump())
    return {**key.as_json(), "nyckel": token}


@router.post(
    "/keys/{nyckel_id}/revoke",
    tags=["nycklar"],
    summary="Revoke an API key",
    response_model=m.KeyOut,
)
async def revoke_key(
    svc: Svc,
    _: Annotated[ApiKey, Depends(allowed("manage_keys"))],
    nyckel_id: Annotated[str, Path(pattern=r"^[0-9a-f]{12}$")],
) -> Any:
    return (await run_in_threadpool(svc.revoke_key, nyckel_id)).as_json()
