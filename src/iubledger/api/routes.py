"""The endpoints, versioned under /v1. Each names the action its role needs
(`roles.PERMISSIONS`); the service checks ownership where the data is known.

| endpoint | roles |
|---|---|
| POST /v1/events, POST /v1/events/batch | utforare (own organisation, own insatser) |
| GET /v1/receipts/{position} | utforare (own records), namnd (own katalog), tillsyn |
| GET /v1/checkpoint, GET /v1/consistency | utforare, namnd, tillsyn |
| GET /v1/decisions | utforare (decisions naming it), namnd (own katalog), tillsyn |
| POST /v1/decisions, POST /v1/decisions/{katalog}/{insats}/revoke | namnd (own katalog) |
| GET /v1/reports/participation, /effect | namnd (own katalog, suppressed), tillsyn |
| GET /v1/reports/compliance | tillsyn |
| POST /v1/verify, GET /v1/replay, GET /v1/export, GET /v1/audit/identity-access | tillsyn |
| POST /v1/identity/{deltagande} | admin (recorded in the ledger) |
| GET/POST /v1/keys, POST /v1/keys/{id}/revoke | admin |
| GET /v1/whoami | every valid key |
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal, TypeVar
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from iubledger.api import models as m
from iubledger.api.deps import allowed, caller, service
from iubledger.api.problems import ApiError, safe
from iubledger.api.service import Service
from iubledger.roles import Forbidden
from iubledger.schemas.base import Problem, Rejected, problems_from
from iubledger.services.apikeys import ApiKey

INSATS_PATTERN = r"^[a-z0-9][a-z0-9-]{0,39}/[0-9A-Za-z][0-9A-Za-z._-]{0,39}$"
MAX_POSITION = 2**62

Svc = Annotated[Service, Depends(service)]
T = TypeVar("T", bound=BaseModel)


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


async def read_body(request: Request, *, required: bool = True) -> bytes:
    """The raw body (size-limited by the middleware); JSON only."""
    content_type = request.headers.get("content-type")
    raw = await request.body()
    if not raw.strip():
        if required:
            raise Rejected([Problem("missing", "(dokument)", "a JSON body is required")])
        return b""
    if content_type is not None and not _is_json(content_type):
        raise ApiError(415, "mediatyp", "the body must be application/json")
    return raw


def parse(model: type[T], raw: bytes) -> T:
    """Strict validation of a JSON body; errors name field and rule, never the value."""
    try:
        return model.model_validate_json(raw)
    except ValidationError as e:
        raise Rejected(problems_from(e)) from None


def refusal(index: int, r: Rejected | Forbidden) -> dict[str, Any]:
    if isinstance(r, Rejected):
        found = [safe(p) for p in r.problems]
        status = 422
    else:
        found = [safe(Problem("behorighet", "utforare", str(r)))]
        status = 403
    return {"index": index, "ok": False, "status": status, "error": found[0], "problems": found}


v1 = APIRouter(prefix="/v1")


# -- utförare events ----------------------------------------------------------------------


@v1.post(
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


@v1.post(
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


# -- integrity ------------------------------------------------------------------------------


@v1.get(
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


@v1.get(
    "/checkpoint",
    tags=["integritet"],
    summary="The latest signed checkpoint",
    response_model=m.CheckpointOut,
)
async def get_checkpoint(
    svc: Svc, _: Annotated[ApiKey, Depends(allowed("read_checkpoints"))]
) -> Any:
    return await run_in_threadpool(svc.checkpoint)


@v1.get(
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


@v1.post(
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
    saved = req.checkpoint.model_dump() if req.checkpoint is not None else None
    return await run_in_threadpool(svc.verify, saved)


@v1.get("/replay", tags=["tillsyn"], summary="Replay as of a date", response_model=dict[str, Any])
async def get_replay(
    svc: Svc,
    _: Annotated[ApiKey, Depends(allowed("replay"))],
    as_of: Annotated[date, Query(description="The day to replay (YYYY-MM-DD)")],
    tree_size: Annotated[int | None, Query(ge=0, le=MAX_POSITION)] = None,
) -> Any:
    """Decisions and the participation report as they stood then, rebuilt from the log."""
    return await run_in_threadpool(svc.replay, as_of, tree_size)


@v1.get(
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


# -- decisions ------------------------------------------------------------------------------


@v1.get(
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


@v1.post(
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


@v1.post(
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


# -- reports --------------------------------------------------------------------------------

REPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The report as data (JSON) or one self-contained HTML document",
        "content": {
            "application/json": {"schema": {"type": "object"}},
            "text/html": {"schema": {"type": "string"}},
        },
    }
}
Fran = Annotated[date | None, Query(alias="from", description="First day (YYYY-MM-DD)")]
Till = Annotated[date | None, Query(alias="to", description="Last day (YYYY-MM-DD)")]
Insatser = Annotated[
    list[Annotated[str, Query(pattern=INSATS_PATTERN)]] | None,
    Query(description="Only these insatser (<katalog>/<insats-id>)"),
]
Format = Annotated[Literal["json", "html"], Query()]


async def _report(
    svc: Service,
    key: ApiKey,
    kind: str,
    fran: date | None,
    till: date | None,
    insats: list[str] | None,
    fmt: str,
    indelning: str = "manad",
) -> Response:
    data = await run_in_threadpool(svc.report, key, kind, fran, till, insats or None, indelning)
    if fmt == "html":
        return HTMLResponse(await run_in_threadpool(svc.render_html, data))
    return JSONResponse(data)


@v1.get(
    "/reports/participation",
    tags=["rapporter"],
    summary="Participation report (disclosure-controlled)",
    response_class=Response,
    responses=REPORT_RESPONSES,
)
async def report_participation(
    svc: Svc,
    key: Annotated[ApiKey, Depends(allowed("read_reports"))],
    fran: Fran = None,
    till: Till = None,
    insats: Insatser = None,
    indelning: Annotated[Literal["dag", "vecka", "manad", "kvartal", "ar"], Query()] = "manad",
    format: Format = "json",
) -> Response:
    """Follow-up of every insats; small counts suppressed (14 kap. 5 § SoL). A nämnd
    sees only its own katalog."""
    return await _report(svc, key, "participation", fran, till, insats, format, indelning)


@v1.get(
    "/reports/effect",
    tags=["rapporter"],
    summary="Effect of the nämnd's decisions (disclosure-controlled)",
    response_class=Response,
    responses=REPORT_RESPONSES,
)
async def report_effect(
    svc: Svc,
    key: Annotated[ApiKey, Depends(allowed("read_reports"))],
    fran: Fran = None,
    till: Till = None,
    insats: Insatser = None,
    format: Format = "json",
) -> Response:
    return await _report(svc, key, "effect", fran, till, insats, format)


@v1.get(
    "/reports/compliance",
    tags=["rapporter"],
    summary="Compliance with 14 kap. 3–5 § and 11 kap. 6 § SoL (for tillsyn)",
    response_class=Response,
    responses=REPORT_RESPONSES,
)
async def report_compliance(
    svc: Svc,
    key: Annotated[ApiKey, Depends(allowed("read_compliance"))],
    fran: Fran = None,
    till: Till = None,
    insats: Insatser = None,
    format: Format = "json",
) -> Response:
    return await _report(svc, key, "compliance", fran, till, insats, format)


# -- identity recovery ----------------------------------------------------------------------


@v1.post(
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


@v1.get(
    "/audit/identity-access",
    tags=["tillsyn"],
    summary="Every identity recovery",
    response_model=list[m.AccessOut],
)
async def identity_access(
    svc: Svc, _: Annotated[ApiKey, Depends(allowed("read_identity_access"))]
) -> Any:
    return await run_in_threadpool(svc.identity_access)


# -- keys -----------------------------------------------------------------------------------


@v1.get("/whoami", tags=["nycklar"], summary="The calling key", response_model=m.KeyOut)
async def whoami(key: Annotated[ApiKey, Depends(caller)]) -> Any:
    return key.as_json()


@v1.get(
    "/keys",
    tags=["nycklar"],
    summary="API keys (never their secrets)",
    response_model=list[m.KeyOut],
)
async def list_keys(svc: Svc, _: Annotated[ApiKey, Depends(allowed("manage_keys"))]) -> Any:
    return [k.as_json() for k in await run_in_threadpool(svc.keys.list)]


@v1.post(
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


@v1.post(
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


# -- operations -----------------------------------------------------------------------------

ops = APIRouter()


@ops.get("/healthz", tags=["drift"], summary="Liveness", response_model=m.Health)
async def healthz() -> Any:
    return {"status": "ok"}


@ops.get(
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
