"""`iubledger serve` and `iubledger keys create|list|revoke`: the HTTP API and its keys.

FastAPI and uvicorn are imported only when `serve` runs.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from iubledger.cli.common import context, emit, err, fail, open_ledger, out, usage
from iubledger.services.apikeys import ApiKeys

keys_app = typer.Typer(no_args_is_help=True, help="API keys for `iubledger serve`.")


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on (loopback by default)")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8750,
    max_body: Annotated[int, typer.Option(help="Largest request body in bytes")] = 1024 * 1024,
    max_batch: Annotated[int, typer.Option(help="Most events in one batch")] = 1000,
    graceful_seconds: Annotated[
        int, typer.Option(help="On SIGTERM, wait this long for requests in flight")
    ] = 30,
    log_level: Annotated[str, typer.Option(help="debug | info | warning | error")] = "info",
    web_config: Annotated[
        Path | None,
        typer.Option(help="OpenID Connect sign-in of the web interface (JSON; docs/web.md)"),
    ] = None,
) -> None:
    """HTTP API for utförare, nämnd and tillsyn (FastAPI on uvicorn), with API keys, and the
    web interface for people, signed in through OpenID Connect (`--web-config`).

    One JSON access-log line per request on stderr (never bodies, query strings or
    identity). SIGTERM finishes the requests in flight — appends complete — then closes."""
    import uvicorn

    from iubledger.api.app import ApiSettings, create_app
    from iubledger.web.settings import WebConfigError, load

    c = context(ctx)
    if (
        not 0 < port < 65536
        or max_body < 1024
        or not 0 < max_batch <= 100_000
        or graceful_seconds < 0
        or log_level not in ("debug", "info", "warning", "error")
    ):
        usage(
            "--port 1-65535, --max-body at least 1024, --max-batch 1-100000, "
            "--graceful-seconds at least 0, --log-level debug|info|warning|error"
        )
    if host not in ("127.0.0.1", "::1", "localhost"):
        err.print(
            f"warning: listening on {host}, beyond loopback; put TLS in front of it",
            markup=False,
        )
    with open_ledger(c):
        pass  # a missing or wrong key is a clear error now, not a failed startup later
    api = ApiSettings(
        host=host,
        port=port,
        max_body=max_body,
        max_batch=max_batch,
        graceful_seconds=graceful_seconds,
    )
    try:
        oidc = load(web_config) if web_config is not None else None
        app = create_app(c.settings, api, oidc)
    except WebConfigError as e:
        fail(c, "webbkonfiguration", str(e))
    level = getattr(logging, log_level.upper(), logging.INFO)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    for name in ("iubledger.access", "iubledger.api"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level)
        logger.propagate = False
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        access_log=False,  # uvicorn's own line holds the raw path and query string
        log_level=log_level,
        timeout_graceful_shutdown=graceful_seconds,
        server_header=False,
        proxy_headers=False,
        lifespan="on",
    )
    out.print(f"iubledger serve on http://{host}:{port} (data: {c.settings.data_dir})")
    uvicorn.Server(config).run()


@keys_app.command("create")
def keys_create(
    ctx: typer.Context,
    role: Annotated[str, typer.Option("--role", help="admin | namnd | utforare | tillsyn")],
    utforare: Annotated[
        str | None, typer.Option("--utforare", help="The utförare (for role utforare)")
    ] = None,
    insats: Annotated[
        list[str] | None,
        typer.Option("--insats", help="Limit an utförare key to these insatser (repeatable)"),
    ] = None,
    katalog: Annotated[
        str | None, typer.Option("--katalog", help="The nämnd's katalog (for role namnd)")
    ] = None,
    description: Annotated[str | None, typer.Option(help="What the key is for")] = None,
) -> None:
    """Create an API key. It is shown once; only a keyed hash of it is stored."""
    c = context(ctx)
    with open_ledger(c) as ledger:
        token, key = ApiKeys.of(ledger).create(
            role,
            organisation=utforare,
            katalog=katalog,
            insatser=insats,
            beskrivning=description,
        )
    data = {**key.as_json(), "nyckel": token}

    def render() -> None:
        out.print(f"Key {key.nyckel_id} ({key.roll}); shown once, store it now:")
        print(token)

    emit(c, data, render)


@keys_app.command("list")
def keys_list(ctx: typer.Context) -> None:
    """API keys: id, role, limits, created, revoked (never the keys)."""
    c = context(ctx)
    with open_ledger(c) as ledger:
        keys = ApiKeys.of(ledger).list()
    rows = [k.as_json() for k in keys]

    def render() -> None:
        t = Table("id", "roll", "utförare/katalog", "insatser", "skapad", "återkallad")
        for r in rows:
            t.add_row(
                r["nyckel_id"],
                r["roll"],
                r["utforare"] or r["katalog"] or "",
                ", ".join(r["insatser"] or []),
                r["skapad"],
                r["aterkallad"] or "",
            )
        out.print(t)

    emit(c, rows, render)


@keys_app.command("revoke")
def keys_revoke(
    ctx: typer.Context, key_id: Annotated[str, typer.Argument(help="The key id (12 hex digits)")]
) -> None:
    """Revoke an API key for good (a running server refuses it within seconds)."""
    c = context(ctx)
    with open_ledger(c) as ledger:
        key = ApiKeys.of(ledger).revoke(key_id)
    if key is None:
        fail(c, "okand_nyckel", "no API key with that id")
    emit(c, key.as_json(), lambda: out.print(f"Key {key_id} revoked."))


def register(app: typer.Typer) -> None:
    app.command()(serve)
