"""The pages: a start page per role, the reports, tillsyn's view of the log, the decisions
and identity recovery. Each page names the action it needs (`roles.PERMISSIONS`, as the
API's routes do) and calls the same `api.service.Service` methods, which check ownership
where the data is known: one place decides for both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from iubledger.api.problems import ApiError
from iubledger.api.service import Service
from iubledger.integrity.checkpoints import Checkpoint
from iubledger.reports import perioder
from iubledger.reports.render import FILE_FORMATS, FileFormat, render, render_file
from iubledger.reports.render.labels import regim
from iubledger.roles import Forbidden, may
from iubledger.schemas.base import Rejected
from iubledger.services import integrity
from iubledger.services.reports import Kind
from iubledger.web import auth
from iubledger.web.auth import Anvandare

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
T = TypeVar("T")


class WebError(Exception):
    """A refusal shown as a page: status and one Swedish line (never an input value)."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


@dataclass(frozen=True)
class Sida:
    """A page in the navigation, shown to the roles that may do its action."""

    titel: str
    url: str
    action: str
    text: str


@dataclass(frozen=True)
class Rapport:
    kind: Kind
    action: str
    titel: str


RAPPORTER = {
    "deltagande": Rapport("participation", "read_reports", "Deltagande"),
    "effekt": Rapport("effect", "read_reports", "Effekt av nämndens beslut"),
    "efterlevnad": Rapport("compliance", "read_compliance", "Efterlevnad"),
}

SIDOR = [
    Sida(
        "Deltagande",
        "/rapporter/deltagande",
        "read_reports",
        "Kontakter, deltagare och aktivitet per insats och period, med röjandeskydd.",
    ),
    Sida(
        "Effekt av besluten",
        "/rapporter/effekt",
        "read_reports",
        "Lika långa perioder före och efter varje ändring av nämndens beslut.",
    ),
    Sida(
        "Efterlevnad",
        "/rapporter/efterlevnad",
        "read_compliance",
        "Efterlevnad av 11 kap. 5–6 § och 14 kap. 3–5 § SoL.",
    ),
    Sida(
        "Granskning av loggen",
        "/tillsyn",
        "verify",
        "Senaste signerade kontrollpunkt, verifiering och uppslag av förseglad identitet.",
    ),
    Sida(
        "Beslut",
        "/beslut",
        "read_decisions",
        "Nämndens beslut om insatser utan individuell behovsprövning och deras historik.",
    ),
    Sida(
        "Identitetsuppslag",
        "/admin/identitet",
        "recover_identity",
        "Öppna förseglad identitet (14 kap. 3 § SoL); varje uppslag registreras med skäl.",
    ),
    Sida(
        "Gallring",
        "/admin/gallring",
        "shred_identity",
        "Radera ett deltagandes nycklar så att identiteten aldrig kan öppnas igen; registreras.",
    ),
]

ROLLNAMN = {
    "namnd": "nämnd",
    "tillsyn": "tillsyn",
    "admin": "administratör",
    "utforare": "utförare",
}

#: No script, no external resource, no framing (the pages hold no JavaScript at all).
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    user = auth.current(request)
    nav = [s for s in SIDOR if user is not None and may(user.key().actor, s.action)]
    response = templates.TemplateResponse(
        request,
        name,
        {
            "user": user,
            "rollnamn": ROLLNAMN.get(user.roll, user.roll) if user else None,
            "nav": nav,
            "csrf": auth.csrf_token(request) if user else "",
            "path": request.url.path,
            **context,
        },
        status_code=status,
    )
    response.headers.update(HEADERS)
    return response


def signed_in(request: Request, action: str) -> Anvandare:
    """The signed-in user, if their role may do `action` (roles.may, as for an API key)."""
    user = auth.current(request)
    if user is None:
        raise auth.NeedSignIn
    request.state.caller = user.key()  # the access log names the role and the person's id
    if not may(user.key().actor, action):
        raise WebError(403, "Din roll ger inte tillgång till den här sidan.")
    return user


async def call(fn: Callable[..., T], *args: Any) -> T:
    """A service call; its refusals as a page (rule and field, never a value)."""
    try:
        return await run_in_threadpool(fn, *args)
    except Rejected as e:
        p = e.problems[0]
        raise WebError(422, f"Begäran avvisades: regeln {p.code} (fältet {p.field}).") from None
    except Forbidden:
        raise WebError(403, "Din roll ger inte tillgång till de här uppgifterna.") from None
    except ApiError as e:
        raise WebError(e.status, f"Begäran kunde inte utföras ({e.code}).") from None


def service(request: Request) -> Service:
    svc: Service = request.app.state.service
    return svc


def first_day(svc: Service) -> date | None:
    with svc.reading() as ledger:
        return ledger.decision_index().first_day()


async def chosen_period(
    request: Request, svc: Service
) -> tuple[perioder.Period | None, list[perioder.Period]]:
    """The period asked for (`?period=<slag>:<första dagen>`), one the reader may choose
    (`reports.perioder`); the newest half-year when none is asked for."""
    first = await run_in_threadpool(first_day, svc)
    options = perioder.choosable(first, date.today()) if first else []
    asked = request.query_params.get("period")
    if asked is None:
        return (options[0] if options else None), options
    for p in options:
        if asked == f"{p.slag}:{p.fran.isoformat()}":
            return p, options
    raise WebError(400, "Perioden kan inte väljas: välj en avslutad period i listan.")


def report_main(document: str) -> Markup:
    """The body of the report's own HTML document (`reports.render.html`): its sections,
    shown inside the page rather than rendered a second time."""
    start, end = document.find("<main>"), document.rfind("</main>")
    if start < 0 or end < start:
        raise ValueError("the rendered report has no main element")
    return Markup(document[start + len("<main>") : end])  # noqa: S704 - escaped by the renderer


#: Downloads of a report: (format, name on the page, media type, file ending).
FORMATS: dict[str, tuple[str, str, str]] = {
    "pdf": ("PDF", "application/pdf", "pdf"),
    "xlsx": (
        "Excel (XLSX)",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "xlsx",
    ),
    "csv-excel": ("CSV för Excel", "text/csv; charset=utf-8", "csv"),
    "csv": ("CSV (komma)", "text/csv; charset=utf-8", "csv"),
    "html": ("HTML", "text/html; charset=utf-8", "html"),
}


FILES: dict[str, FileFormat] = {f: f for f in FILE_FORMATS}


def _file(svc: Service, data: dict[str, Any], fmt: str) -> bytes:
    with svc.render_lock:  # matplotlib figures are not drawn concurrently
        if fmt in FILES:
            return render_file(data, FILES[fmt])
        return render(data, "csv" if fmt == "csv" else "html").encode("utf-8")


router = APIRouter(include_in_schema=False)


@router.get("/")
async def start(request: Request) -> Response:
    user = auth.current(request)
    if user is None:
        return page(request, "logga_in.html", configured=request.app.state.web_sign_in)
    return page(request, "start.html", titel="Start")


@router.get("/rapporter/{slag}")
async def report(request: Request, slag: str) -> Response:
    r = RAPPORTER.get(slag)
    if r is None:
        raise WebError(404, "Det finns ingen sådan rapport.")
    user = signed_in(request, r.action)
    svc = service(request)
    period, options = await chosen_period(request, svc)
    body = None
    if period is not None:
        data = await call(svc.report, user.key(), r.kind, period.fran, period.till, None)
        body = report_main(await run_in_threadpool(svc.render_html, data))
    return page(
        request,
        "rapport.html",
        titel=r.titel,
        slag=slag,
        period=period,
        options=options,
        groups=[(s, [o for o in options if o.slag == s]) for s in perioder.SLAG],
        body=body,
        formats=[(f, v[0]) for f, v in FORMATS.items()],
    )


@router.get("/rapporter/{slag}/fil")
async def report_file(request: Request, slag: str) -> Response:
    """The report of a chosen period as a file to keep (PDF, XLSX, CSV, HTML)."""
    r = RAPPORTER.get(slag)
    fmt = request.query_params.get("format", "")
    if r is None or fmt not in FORMATS:
        raise WebError(404, "Det finns ingen sådan rapport eller inget sådant format.")
    user = signed_in(request, r.action)
    svc = service(request)
    period, _ = await chosen_period(request, svc)
    if period is None:
        raise WebError(404, "Det finns ännu ingen avslutad period att redovisa.")
    data = await call(svc.report, user.key(), r.kind, period.fran, period.till, None)
    content = await run_in_threadpool(_file, svc, data, fmt)
    _, media, ending = FORMATS[fmt]
    name = f"{slag}-{period.fran.isoformat()}-{period.till.isoformat()}.{ending}"
    headers = {**HEADERS, "Content-Disposition": f'attachment; filename="{name}"'}
    return Response(content, media_type=media, headers=headers)


@router.get("/tillsyn")
async def tillsyn(request: Request) -> Response:
    user = signed_in(request, "verify")
    return await _tillsyn_page(request, user, None)


@router.post("/tillsyn/verifiera")
async def verify(request: Request) -> Response:
    user = signed_in(request, "verify")
    form = await request.form()
    auth.check_csrf(request, form.get("csrf"))
    result = await call(service(request).verify, None)
    return await _tillsyn_page(request, user, result)


def _latest(svc: Service) -> Checkpoint | None:
    with svc.reading() as ledger:
        return integrity.latest_checkpoint(ledger)


async def _tillsyn_page(
    request: Request, user: Anvandare, result: dict[str, Any] | None
) -> Response:
    svc = service(request)
    latest = await run_in_threadpool(_latest, svc)
    may_read = may(user.key().actor, "read_identity_access")
    accesses = await call(svc.identity_access) if may_read else None
    return page(
        request,
        "tillsyn.html",
        titel="Granskning av loggen",
        checkpoint=latest,
        result=result,
        accesses=accesses,
    )


@router.get("/beslut")
async def decisions(request: Request) -> Response:
    user = signed_in(request, "read_decisions")
    entries = await call(service(request).decisions, user.key())
    grouped: dict[str, list[dict[str, Any]]] = {}
    for e in entries:
        grouped.setdefault(e["beslut"], []).append(e)
    return page(request, "beslut.html", titel="Beslut", beslut=grouped, regim=regim)


@router.get("/admin/identitet")
async def identity_form(request: Request) -> Response:
    signed_in(request, "recover_identity")
    return page(request, "identitet.html", titel="Identitetsuppslag", fel=None, opened=None)


@router.post("/admin/identitet")
async def identity_recover(request: Request) -> Response:
    user = signed_in(request, "recover_identity")
    form = await _reasoned(request, "uppslaget", "att uppslaget registreras i loggen med ditt skäl")
    if isinstance(form, str):
        return page(
            request, "identitet.html", 422, titel="Identitetsuppslag", fel=form, opened=None
        )
    opened = await call(service(request).recover_identity, user.key(), *form)
    return page(request, "identitet.html", titel="Identitetsuppslag", fel=None, opened=opened)


async def _reasoned(request: Request, vad: str, bekraftelse: str) -> tuple[UUID, str] | str:
    """A form naming a participation with a reason and a confirmation (CSRF checked):
    the participation and the reason, or what is missing, in words."""
    form = await request.form()
    auth.check_csrf(request, form.get("csrf"))
    skal = str(form.get("skal") or "").strip()
    try:
        deltagande = UUID(str(form.get("deltagande") or "").strip())
    except ValueError:
        return "Ange deltagandets id (ett UUID)."
    if len(skal) < 10:
        return f"Ange skälet till {vad} (minst 10 tecken); det registreras och visas för tillsyn."
    if form.get("bekraftar") != "ja":
        return f"Bekräfta {bekraftelse}."
    return deltagande, skal


@router.get("/admin/gallring")
async def shred_form(request: Request) -> Response:
    signed_in(request, "shred_identity")
    return page(request, "gallring.html", titel="Gallring", fel=None, gallrad=None)


@router.post("/admin/gallring")
async def shred(request: Request) -> Response:
    """Gallring of one participation (14 kap. 3 § SoL): a reason and a confirmation, then
    the service records it in the ledger before the keys are deleted."""
    user = signed_in(request, "shred_identity")
    form = await _reasoned(
        request, "gallringen", "att gallringen inte kan ångras och att den registreras i loggen"
    )
    if isinstance(form, str):
        return page(request, "gallring.html", 422, titel="Gallring", fel=form, gallrad=None)
    done = await call(service(request).shred_identity, user.key(), *form)
    return page(request, "gallring.html", titel="Gallring", fel=None, gallrad=done)
