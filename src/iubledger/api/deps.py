"""Authentication and role checks as FastAPI dependencies.

401 with `WWW-Authenticate: Bearer` when the key is missing, unknown or revoked; 403 when
the key's role may never do the action (`roles.PERMISSIONS`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from iubledger.api.problems import Unauthorized
from iubledger.api.service import Service
from iubledger.roles import Forbidden, may
from iubledger.services.apikeys import ApiKey

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    bearerFormat="iub_<id>_<secret>",
    description="An API key made by `iubledger keys create` (or POST /v1/keys).",
)

ACTIONS = {
    "append": "append utförare events",
    "read_receipts": "read receipts",
    "read_checkpoints": "read checkpoints",
    "read_decisions": "read decisions",
    "decide": "create or change decisions",
    "read_reports": "read reports",
    "read_compliance": "read the compliance report",
    "verify": "run verify",
    "cosign": "hand in a witness cosignature",
    "replay": "run replay",
    "export": "export the ledger",
    "read_identity_access": "read the identity-access log",
    "recover_identity": "recover sealed identity",
    "shred_identity": "gallra a participation",
    "manage_keys": "manage API keys",
}


# The dependencies that only look at the request are `async`: FastAPI runs a plain `def`
# dependency in the thread pool, a hop per dependency per request.


def service_of(request: Request) -> Service:
    svc: Service = request.app.state.service
    return svc


async def service(request: Request) -> Service:
    return service_of(request)


def caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> ApiKey:
    if credentials is None:
        raise Unauthorized()
    key = service_of(request).keys.authenticate(credentials.credentials)
    if key is None:
        raise Unauthorized("the API key is unknown or revoked")
    request.state.caller = key
    return key


def allowed(action: str) -> Callable[..., Awaitable[ApiKey]]:
    """A dependency: the caller, if its role may do `action` at all."""
    what = ACTIONS[action]

    async def check(key: Annotated[ApiKey, Depends(caller)]) -> ApiKey:
        if not may(key.actor, action):
            raise Forbidden(f"the role {key.roll} may not {what}")
        return key

    return check
