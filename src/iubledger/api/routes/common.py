"""Request helpers shared by the routers: the service dependency, JSON bodies, refusals."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from pydantic import BaseModel, ValidationError

from iubledger.api.deps import service
from iubledger.api.problems import ApiError, safe
from iubledger.api.service import Service
from iubledger.roles import Forbidden
from iubledger.schemas.base import Problem, Rejected, problems_from

Svc = Annotated[Service, Depends(service)]
T = TypeVar("T", bound=BaseModel)


def is_json(content_type: str) -> bool:
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
    if content_type is not None and not is_json(content_type):
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
        found = [safe(r.problem())]
        status = 403
    return {"index": index, "ok": False, "status": status, "error": found[0], "problems": found}
