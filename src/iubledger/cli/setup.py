"""`iubledger init|catalogs|simulate|demo`: setting up a store, the shipped catalogs,
simulated utförare events and the main job end to end."""

from __future__ import annotations

import shutil
from typing import Annotated

import typer

from iubledger import catalogs
from iubledger.cli.common import context, emit, fail, open_ledger, out, parse_day, progress
from iubledger.reports.render import render
from iubledger.schemas.beslut import BeslutsFil
from iubledger.services import demo as job
from iubledger.simulate import main_lines
from iubledger.store.keys import KeyStore

DEMO_MARKER = ".iubledger-demo"


def init(ctx: typer.Context) -> None:
    """Create the store and keys (never overwrites existing keys)."""
    c = context(ctx)
    c.settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    created = KeyStore(c.settings.key_dir).init()
    with open_ledger(c):
        pass
    data = {"data_dir": str(c.settings.data_dir), "keys_created": created}
    emit(
        c,
        data,
        lambda: out.print(
            f"Store ready in {c.settings.data_dir}; "
            + (f"created {', '.join(created)}" if created else "existing keys kept")
        ),
    )


def list_catalogs(ctx: typer.Context) -> None:
    """Decision catalogs shipped with the ledger."""
    c = context(ctx)
    names = catalogs.names()
    emit(c, names, lambda: out.print("\n".join(names)))


def simulate(
    ctx: typer.Context,
    catalog: Annotated[str, typer.Option(help="A shipped catalog")],
    fran: Annotated[str, typer.Option("--from", help="First day (YYYY-MM-DD)")],
    till: Annotated[str, typer.Option("--to", help="Last day (YYYY-MM-DD)")],
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same stream")] = 1,
    scale: Annotated[float, typer.Option(help="Volume multiplier")] = 1.0,
) -> None:
    """Realistic utförare events as JSON Lines, reproducible from the seed."""
    c = context(ctx)
    first, last = parse_day(fran, "--from"), parse_day(till, "--to")
    try:
        fil = BeslutsFil.model_validate_json(catalogs.read(catalog))
    except KeyError as e:
        fail(c, "okand_katalog", str(e.args[0]))
    for line in main_lines(fil, first, last, seed, scale):
        print(line)


def demo(ctx: typer.Context) -> None:
    """The main job end to end on the embedded default, in a fresh data dir."""
    c = context(ctx)
    d = c.settings.data_dir
    if d.exists() and any(d.iterdir()):
        if not (d / DEMO_MARKER).exists():
            fail(c, "datakatalog", f"{d} holds a ledger that is not a demo; give --data-dir")
        shutil.rmtree(d)
    d.mkdir(mode=0o700, parents=True)
    (d / DEMO_MARKER).touch()
    KeyStore(c.settings.key_dir).init()
    out.print(f"[bold]iubledger demo[/bold] in {d}")
    lines = job.stream()
    out.print(f"Simulated {len(lines)} utförare events, {job.FRAN} – {job.TILL}.")
    with open_ledger(c) as ledger, progress("append", total=len(lines)) as tick:
        if ledger.recorder.max_notification_id() is not None:
            fail(c, "databas", "the demo needs an empty database; give --db a new one")
        result = job.run(ledger, d / "rapporter", tick=tick, lines=lines)
    assert result.verify is not None and result.participation is not None
    out.print(
        f"Appended {result.appended} events; refused {sum(result.refused.values())} "
        f"{result.refused or ''}"
    )
    print(render(result.participation, "table"))
    print(render(result.effect or {}, "table"))
    summary = result.compliance["sammanfattning"]["text"] if result.compliance else ""
    out.print(f"Compliance (14 kap. 3–5 §, 11 kap. 6 § SoL): {summary}")
    v = result.verify
    status = "[green]OK[/green]" if v.ok else f"[red]FAILED[/red] at {v.first_bad}"
    out.print(f"verify: {status} — {v.records} records, {v.checkpoints_checked} checkpoint(s)")
    for path in result.reports:
        out.print(f"Report: {path}")
    if not v.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command()(init)
    app.command("catalogs")(list_catalogs)
    app.command()(simulate)
    app.command()(demo)
