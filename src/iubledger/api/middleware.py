"""The outermost layer of the app: body size limit, one structured access-log line per
request, and a last-resort 500 that carries no stack trace.

The access log (logger `iubledger.access`, one JSON object per line) holds the method,
the route template (never the raw path: it may hold ids), the status, the duration, the
role and the key id — never a query string, a header value, a body or an identity (G1).
"""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime
from typing import Any

from starlette.requests import ClientDisconnect

from iubledger.api import problems

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

access_log = logging.getLogger("iubledger.access")
error_log = logging.getLogger("iubledger.api")


#: Paths without parameters that may be logged as they are when no route template is known.
_STATIC = frozenset({"/openapi.json", "/healthz", "/readyz"})


def _route(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path
    return scope["path"] if scope.get("path") in _STATIC else "(unmatched)"


class Guard:
    """Pure ASGI middleware (no buffering of bodies)."""

    def __init__(self, app: ASGIApp, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        request_id = secrets.token_hex(8)
        state: dict[str, Any] = {"status": None, "started": False, "received": 0}
        request_state = scope.setdefault("state", {})

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                state["started"] = True
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        async def receive_wrapper() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                if state["received"] > self.max_body:
                    raise problems.BodyTooLarge
            return message

        async def refuse(status: int, code: str, detail: str) -> None:
            r = problems.response(status, code, detail)
            await r(scope, receive, send_wrapper)

        try:
            length = _content_length(scope)
            if length is not None and (length < 0 or length > self.max_body):
                await refuse(413, "for_stor", "the request body is larger than the limit")
            else:
                await self.app(scope, receive_wrapper, send_wrapper)
        except problems.BodyTooLarge:
            if not state["started"]:
                await refuse(413, "for_stor", "the request body is larger than the limit")
        except ClientDisconnect:
            state["status"] = state["status"] or 499  # the client went away; nothing to send
        except Exception as e:
            # The type only: an exception's message or traceback could hold input (G1).
            error_log.error(
                json.dumps(
                    {"request_id": request_id, "route": _route(scope), "fel": type(e).__name__}
                )
            )
            if not state["started"]:
                with contextlib.suppress(Exception):
                    await refuse(500, "internt_fel", "an internal error occurred; nothing to show")
        finally:
            caller = request_state.get("caller")
            access_log.info(
                json.dumps(
                    {
                        "tid": datetime.now(UTC).isoformat(timespec="milliseconds"),
                        "request_id": request_id,
                        "method": scope.get("method"),
                        "route": _route(scope),
                        "status": state["status"],
                        "ms": round((time.perf_counter() - start) * 1000, 1),
                        "roll": getattr(caller, "roll", None),
                        "nyckel_id": getattr(caller, "nyckel_id", None),
                        "bytes_in": state["received"],
                    }
                )
            )


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return -1
    return None
