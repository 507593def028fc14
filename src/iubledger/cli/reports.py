"""`iubledger report` and `iubledger replay`: what the nämnd and tillsyn read."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, get_args

import typer
from rich.table import Table

from iubledger.audit.replay import GRUNDER
from iubledger.cli.common import (
    context,
    err,
    fail,
    open_ledger,
    optional_day,
    out,
    parse_day,
    progress,
    usage,
)
from iubledger.decisions.index import natural_key
from iubledger.reports.facts import Indelning
from iubledger.reports.protect import Skydd
from iubledger.reports.render import FILE_FORMATS, Format, render, render_file
from iubledger.reports.render.pdf import PdfUnavailable
from iubledger.services import reports

INDELNINGAR: tuple[Indelning, ...] = get_args(Indelning)
FORMATS: tuple[Format, ...] = get_args(Format)


def report(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(help="participation | compliance | effect")],
    fmt: Annotated[
        str, typer.Option("--format", help="table | json | csv | html | xlsx | pdf")
    ] = "table",
    excel: Annotated[
        bool, typer.Option("--excel", help="CSV for Excel in Sweden: ; , and a byte order mark")
    ] = False,
    fran: Annotated[str | None, typer.Option("--from", help="First day (YYYY-MM-DD)")] = None,
    till: Annotated[str | None, typer.Option("--to", help="Last day (YYYY-MM-DD)")] = None,
    insats: Annotated[list[str] | None, typer.Option(help="Only these insatser")] = None,
    namnd: Annotated[str | None, typer.Option(help="Only this nämnd's katalog")] = None,
    indelning: Annotated[str, typer.Option(help="dag | vecka | manad | kvartal | ar")] = "manad",
    threshold: Annotated[int, typer.Option(help="Suppress counts below this (min 3)")] = 5,
    exact_for: Annotated[
        str | None,
        typer.Option(help="Exact counts, no suppression: state who may use them"),
    ] = None,
    output: Annotated[Path | None, typer.Option(help="Write to this file")] = None,
) -> None:
    """Reports: participation and effect for the nämnd (disclosure-controlled), compliance
    with 14 kap. 3–5 § and 11 kap. 6 § SoL for tillsyn."""
    c = context(ctx)
    if kind not in reports.KINDS:
        usage("the report is one of: participation, compliance, effect")
    if fmt not in (*FORMATS, "xlsx", "pdf") or indelning not in INDELNINGAR:
        usage("--format is table|json|csv|html|xlsx|pdf; --indelning dag|vecka|manad|kvartal|ar")
    if excel and fmt != "csv":
        usage("--excel applies to --format csv")
    # A file people open: XLSX, PDF or CSV for Excel in Sweden.
    file_format = next((f for f in FILE_FORMATS if f == ("csv-excel" if excel else fmt)), None)
    if fmt in ("xlsx", "pdf") and output is None:
        usage(f"--format {fmt} writes a binary file: give --output FILE")
    try:
        skydd = Skydd(k=None if exact_for else threshold, exakt_for=exact_for)
    except ValueError as e:
        usage(str(e))
    req = reports.Request(
        kind=kind,
        fran=optional_day(fran, "--from"),
        till=optional_day(till, "--to"),
        insatser=insats,
        namnd=namnd,
        indelning=indelning,
        skydd=skydd,
    )
    with open_ledger(c) as ledger, progress("projektioner") as tick:
        data = reports.build(ledger, req, tick)
    if file_format is not None and not c.as_json:
        try:
            content = render_file(data, file_format)
        except PdfUnavailable as e:
            fail(c, "pdf", str(e))
        if output is None:
            sys.stdout.buffer.write(content)
        else:
            output.write_bytes(content)
            err.print(f"Wrote {output}")
        return
    text = render(data, "json" if c.as_json or fmt not in FORMATS else fmt)
    if output is not None:
        output.write_text(text, encoding="utf-8")
        err.print(f"Wrote {output}")
    else:
        print(text)


def replay(
    ctx: typer.Context,
    as_of: Annotated[str, typer.Option("--as-of", help="The day to replay (YYYY-MM-DD)")],
    tree_size: Annotated[int | None, typer.Option(help="Only the first N records")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table | json")] = "table",
    by: Annotated[
        str,
        typer.Option(
            help="recorded: what had been recorded by the end of the day (what the nämnd "
            "could see then); occurred: everything recorded about what had happened by then"
        ),
    ] = "recorded",
) -> None:
    """Decisions and projections as they stood then, rebuilt from the log (live projections
    untouched)."""
    c = context(ctx)
    day = parse_day(as_of, "--as-of")
    if by not in GRUNDER:
        usage("--by is recorded or occurred")
    with open_ledger(c) as ledger:
        data = reports.replay(ledger, day, tree_size, by)

    def show() -> None:
        t = Table("beslut", "i kraft " + data["as_of"])
        for beslut_id, v in sorted(
            data["beslut_i_kraft"].items(), key=lambda kv: natural_key(kv[0])
        ):
            t.add_row(beslut_id, f"v{v['version']} {v['regim']}" if v else "inget beslut")
        out.print(t)
        print(render(data["rapport"], "table"))

    if c.as_json or fmt == "json":
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        show()
    if "anmarkning" in data:
        err.print(data["anmarkning"], highlight=False, markup=False)


def register(app: typer.Typer) -> None:
    app.command()(report)
    app.command()(replay)
