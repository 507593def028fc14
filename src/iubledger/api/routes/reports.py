"""Reports: participation, effect and compliance, as JSON or one HTML document."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.concurrency import run_in_threadpool

from iubledger.api.deps import allowed
from iubledger.api.routes.common import Svc
from iubledger.api.service import Service
from iubledger.reports.facts import Indelning
from iubledger.services.apikeys import ApiKey
from iubledger.services.reports import Kind

INSATS_PATTERN = r"^[a-z0-9][a-z0-9-]{0,39}/[0-9A-Za-z][0-9A-Za-z._-]{0,39}$"
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

router = APIRouter(prefix="/v1")


async def _report(
    svc: Service,
    key: ApiKey,
    kind: Kind,
    fran: date | None,
    till: date | None,
    insats: list[str] | None,
    fmt: str,
    indelning: Indelning = "manad",
) -> Response:
    data = await run_in_threadpool(svc.report, key, kind, fran, till, insats or None, indelning)
    if fmt == "html":
        return HTMLResponse(await run_in_threadpool(svc.render_html, data))
    return JSONResponse(data)


@router.get(
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


@router.get(
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


@router.get(
    "/reports/compliance",
    tags=["rapporter"],
    summary="Compliance with 14 kap. 3–5 § and 11 kap. 6 § SoL (tillsyn; a nämnd's egenkontroll)",
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
    """One line per paragraph, then the deviations per insats and rule, then every check.
    A nämnd sees only its own katalog (its egenkontroll); tillsyn sees all, with the
    refused events counted per rule."""
    return await _report(svc, key, "compliance", fran, till, insats, format)
