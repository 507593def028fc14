"""Errors as `application/problem+json` (RFC 9457): type, title, status, detail, and for
refused input `errors: [{code, field, message}]` naming the field and the rule.

G6 and G1: a problem never carries an input value — not a field value, not an unknown key,
not the request path — and never a stack trace. Pydantic messages are cut where they would
quote the input.

Operational faults are 503 with `Retry-After`: the database unavailable
(`databas_otillganglig`), the keystore unusable (`nyckellager_otillgangligt`, e.g. a full
disk), the at-rest key not opening the stored records (`nycklar`). The body never holds the
driver's text (it may quote the statement and its parameters); the log gets the type only.
"""

from __future__ import annotations

import json
import logging
from http import HTTPStatus
from typing import Any

import sqlalchemy.exc
from eventsourcing.persistence import InterfaceError, OperationalError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from iubledger.roles import Forbidden
from iubledger.schemas.base import Problem, Rejected, field_path
from iubledger.store.cipher import CipherKeyError
from iubledger.store.keys import KeyCustodyError, KeystoreError

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "urn:iubledger:problem:"

log = logging.getLogger("iubledger.api")

#: Seconds a client is asked to wait before it tries again after an operational fault.
RETRY_AFTER = 30

#: The database cannot be reached or used now (connection refused or lost, disk I/O).
UNAVAILABLE: tuple[type[Exception], ...] = (
    OperationalError,
    InterfaceError,
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
)


class ApiError(Exception):
    """An HTTP-level refusal raised by the API itself."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        errors: list[Problem] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(code)
        self.status = status
        self.code = code
        self.detail = detail
        self.errors = errors or []
        self.headers = headers


class Unauthorized(ApiError):
    def __init__(self, detail: str = "a valid API key is required (Authorization: Bearer)"):
        super().__init__(401, "autentisering", detail, headers={"WWW-Authenticate": "Bearer"})


class NotFound(ApiError):
    def __init__(self, code: str, field: str, detail: str):
        super().__init__(404, code, detail, errors=[Problem(code, field, detail)])


class BodyTooLarge(Exception):
    """The request body exceeds the configured limit (raised while it is read)."""


def safe_message(code: str, message: str) -> str:
    """Pydantic's parsing messages may quote a character of the input ("found `x` at 3");
    keep only the rule."""
    if code.endswith("_parsing") or code in ("uuid_type", "date_from_datetime_inexact"):
        return message.split(",", 1)[0]
    return message


def safe(p: Problem) -> dict[str, str]:
    return {"code": p.code, "field": p.field, "message": safe_message(p.code, p.message)}


#: Problem titles in Swedish, by HTTP status.
TITLAR = {
    400: "Felaktig begäran",
    401: "Giltig API-nyckel krävs",
    403: "Behörighet saknas",
    404: "Finns inte",
    405: "Metoden stöds inte",
    406: "Formatet kan inte levereras",
    409: "Konflikt",
    413: "Begäran är för stor",
    415: "Mediatypen stöds inte",
    422: "Uppgifterna avvisades",
    500: "Internt fel",
    503: "Tjänsten är inte tillgänglig just nu",
}


def titel(status: int) -> str:
    """The Swedish title of a status (HTTP's English phrase only for one not listed)."""
    return TITLAR.get(status) or HTTPStatus(status).phrase


def rule_of(code: str, errors: list[Problem]) -> str:
    """The rule a problem is about: the one rule all its errors share, else its code."""
    rules = {p.code for p in errors}
    return rules.pop() if len(rules) == 1 else code


def body(
    status: int, code: str, detail: str | None = None, errors: list[Problem] | None = None
) -> dict[str, Any]:
    """The problem document; `type` is a stable URI per rule (urn:iubledger:problem:<rule>)."""
    return {
        "type": TYPE_BASE + rule_of(code, errors or []),
        "title": titel(status),
        "status": status,
        "detail": detail,
        "code": code,
        "errors": [safe(p) for p in errors or []],
    }


def response(
    status: int,
    code: str,
    detail: str | None = None,
    errors: list[Problem] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        body(status, code, detail, errors),
        status_code=status,
        media_type=MEDIA_TYPE,
        headers=headers,
    )


def rejected(e: Rejected) -> JSONResponse:
    return response(422, "avvisad", "the input was refused; nothing was stored", e.problems)


def forbidden(e: Forbidden) -> JSONResponse:
    return response(403, Forbidden.CODE, str(e) or "the key's role does not allow this")


def validation_problems(exc: RequestValidationError) -> list[Problem]:
    """FastAPI's validation errors (path and query) without their `input`."""
    out = []
    for e in exc.errors():
        code = str(e.get("type", "invalid"))
        loc = tuple(e.get("loc", ()))
        message = "unknown kind" if code == "union_tag_invalid" else str(e.get("msg", ""))
        out.append(
            Problem(
                code=code,
                field=field_path(loc, unknown_key=code == "extra_forbidden"),
                message=safe_message(code, message),
            )
        )
    return out


_CODES = {
    400: "felaktig_begaran",
    401: "autentisering",
    403: Forbidden.CODE,
    404: "finns_inte",
    405: "metod",
    406: "format",
    413: "for_stor",
    415: "mediatyp",
    422: "avvisad",
    500: "internt_fel",
    503: "ej_redo",
}


def install(app: FastAPI) -> None:
    """Register the handlers: every error the app can produce leaves as problem+json."""

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, e: ApiError) -> JSONResponse:
        return response(e.status, e.code, e.detail, e.errors, e.headers)

    @app.exception_handler(Rejected)
    async def _rejected(_: Request, e: Rejected) -> JSONResponse:
        return rejected(e)

    @app.exception_handler(Forbidden)
    async def _forbidden(_: Request, e: Forbidden) -> JSONResponse:
        return forbidden(e)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, e: RequestValidationError) -> JSONResponse:
        return response(422, "avvisad", "the request was refused", validation_problems(e))

    @app.exception_handler(BodyTooLarge)
    async def _too_large(_: Request, e: BodyTooLarge) -> JSONResponse:
        return response(413, "for_stor", "the request body is larger than the limit")

    for cls in UNAVAILABLE:
        app.add_exception_handler(cls, _unavailable)
    app.add_exception_handler(KeystoreError, _keystore)
    app.add_exception_handler(KeyCustodyError, _keystore)
    app.add_exception_handler(CipherKeyError, _cipher)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, e: StarletteHTTPException) -> JSONResponse:
        status = e.status_code
        code = _CODES.get(status, "http")
        detail = HTTPStatus(status).description if status in HTTPStatus._value2member_map_ else ""
        return response(status, code, detail, headers=getattr(e, "headers", None))


def unavailable(code: str, detail: str, e: Exception, *, own: bool = False) -> JSONResponse:
    """503 with Retry-After. The log line names the exception's type, and its message only
    when it is the ledger's `own` (a driver's text may quote a statement and its
    parameters)."""
    entry = {"fel": type(e).__name__, "code": code}
    if own:
        entry["meddelande"] = str(e)
    log.error(json.dumps(entry, ensure_ascii=False))
    return response(503, code, detail, headers={"Retry-After": str(RETRY_AFTER)})


async def _unavailable(_: Request, e: Exception) -> JSONResponse:
    return unavailable(
        "databas_otillganglig",
        "the database is unavailable; try again later (an event sent again returns its "
        "first result if it was stored)",
        e,
    )


async def _keystore(_: Request, e: Exception) -> JSONResponse:
    return unavailable(
        "nyckellager_otillgangligt",
        "the keystore cannot be used now (the server log says why); nothing was stored by "
        "this request, try again later",
        e,
        own=True,
    )


async def _cipher(_: Request, e: Exception) -> JSONResponse:
    return unavailable(
        "nycklar",
        "the server's at-rest key does not open the stored records; the operator must "
        "mend it (the server log says more)",
        e,
        own=True,
    )
