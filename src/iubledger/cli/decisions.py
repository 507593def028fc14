"""`iubledger decisions import|list|revoke`: the nämnd's decisions (11 kap. 5 § SoL)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from iubledger import catalogs
from iubledger.cli.common import context, emit, fail, open_ledger, out, parse_day, usage
from iubledger.services import decisions

app = typer.Typer(no_args_is_help=True, help="Nämnd decisions (11 kap. 5 § SoL).")


@app.command("import")
def import_(
    ctx: typer.Context,
    paths: Annotated[list[Path] | None, typer.Argument(help="Decision files (JSON)")] = None,
    catalog: Annotated[str | None, typer.Option(help="A shipped catalog by name")] = None,
) -> None:
    """Load nämnd decision files; all or nothing: an invalid file imports nothing."""
    c = context(ctx)
    if bool(paths) == bool(catalog):
        usage("give decision files or --catalog NAME, not both")
    sources: list[tuple[str, str]] = []
    if catalog:
        try:
            sources = [(f"catalog {catalog}", catalogs.read(catalog))]
        except KeyError as e:
            fail(c, "okand_katalog", str(e.args[0]))
    for p in paths or []:
        try:
            sources.append((str(p), p.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError) as e:
            fail(c, "fil", f"{p}: cannot read ({type(e).__name__})")
    with open_ledger(c) as ledger:
        result = decisions.import_files(ledger, sources)
    data = {"ok": True, "imported": [{"beslut": b, "version": v} for b, v in result.imported]}
    emit(c, data, lambda: out.print(f"Imported {len(result.imported)} decision version(s)."))


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """Decisions and their versions."""
    c = context(ctx)
    with open_ledger(c) as ledger:
        rows = decisions.history(ledger.decision_index())

    def render() -> None:
        t = Table("beslut", "v", "giltig", "insats", "regim", "villkor")
        for r in rows:
            if r["typ"] == "upphavande":
                t.add_row(r["beslut"], str(r["version"]), f"upphävt från {r['fran']}", "", "", "")
                continue
            t.add_row(
                r["beslut"],
                str(r["version"]),
                f"{r['giltig_fran']} – {r['giltig_till'] or ''}",
                r["insats"]["namn"],
                r["insats"]["dokumentation"]["regim"],
                ", ".join(v["typ"] for v in r["insats"]["villkor"]),
            )
        out.print(t)

    emit(c, rows, render)


@app.command("revoke")
def revoke(
    ctx: typer.Context,
    beslut: Annotated[str, typer.Argument(help="Decision id, <katalog>/<insats-id>")],
    fran: Annotated[str, typer.Option("--from", help="First day no longer in force (YYYY-MM-DD)")],
    skal: Annotated[str, typer.Option("--reason", help="The nämnd's reason")],
) -> None:
    """Revoke a decision from a date; earlier versions stay in the history."""
    c = context(ctx)
    day = parse_day(fran, "--from")
    with open_ledger(c) as ledger:
        version = decisions.revoke(ledger, beslut, day, skal)
    emit(
        c,
        {"ok": True, "beslut": beslut, "version": version},
        lambda: out.print(f"{beslut} revoked from {fran} (version {version})."),
    )
