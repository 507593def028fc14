"""`iubledger init|catalogs|simulate|demo`: setting up a store, the shipped catalogs,
simulated utförare events and the main job end to end."""

from __future__ import annotations

import shutil
from typing import Annotated

import typer

from iubledger import catalogs
from iubledger.cli.common import context, emit, fail, open_ledger, out, parse_day, progress
from iubledger.reports.render.labels import andring, tal
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
    """The main job end to end on the embedded default, in a fresh data dir (an empty
    one is used as it is): where the reports go first, then a short summary."""
    c = context(ctx)
    d = c.settings.data_dir
    if d.exists() and any(d.iterdir()):
        if not (d / DEMO_MARKER).exists():
            fail(c, "datakatalog", f"{d} holds a ledger that is not a demo; give --data-dir")
        shutil.rmtree(d)
    d.mkdir(mode=0o700, parents=True, exist_ok=True)
    (d / DEMO_MARKER).touch()
    KeyStore(c.settings.key_dir).init()
    paths = job.report_paths(d / "rapporter")
    out.print(f"[bold]iubledger demo[/bold] in {d}")
    out.print("The reports will be written to:")
    for path in paths:
        out.print(f"  {path}")
    lines = job.stream()
    out.print(f"Simulated {len(lines)} utförare events, {job.FRAN} – {job.TILL}.")
    with open_ledger(c) as ledger, progress("append", total=len(lines)) as tick:
        if ledger.recorder.max_notification_id() is not None:
            fail(c, "databas", "the demo needs an empty database; give --db a new one")
        result = job.run(ledger, d / "rapporter", tick=tick, lines=lines)
    assert result.verify is not None and result.participation is not None
    refused = sum(result.refused.values())
    out.print(f"Appended {result.appended} events; refused {refused} {result.refused or ''}")
    for line in _summary(result):
        out.print(line, highlight=False, markup=False)
    v = result.verify
    status = "[green]OK[/green]" if v.ok else f"[red]FAILED[/red] at {v.first_bad}"
    out.print(f"verify: {status} — {v.records} records, {v.checkpoints_checked} checkpoint(s)")
    out.print("Open the reports (or run 'iubledger report participation' for the tables):")
    for path in result.reports:
        out.print(f"  {path}")
    if not v.ok:
        raise typer.Exit(1)


def _summary(result: job.Outcome) -> list[str]:
    """A few lines instead of every table: the year's totals, the effect of the amendment
    and the compliance overview."""
    lines = []
    if result.participation is not None:
        summor = result.participation["summor"]
        lines.append(
            f"Deltagande: {len(result.participation['insatser'])} insatser; "
            f"kontakter {tal(summor['kontakter'])}, nya deltagare {tal(summor['starter'])}, "
            f"avslutade {tal(summor['avslut'])}, avbrott {tal(summor['avbrott'])}."
        )
    for change in (result.effect or {}).get("andringar", []):
        lines.append(
            f"Effekt, {change['namn']} ({andring(change['andring'])}): "
            f"{change['bedomning']['text']}"
        )
    if result.compliance is not None:
        lines.append(f"Efterlevnad: {result.compliance['sammanfattning']['text']}")
    return lines


def register(app: typer.Typer) -> None:
    app.command()(init)
    app.command("catalogs")(list_catalogs)
    app.command()(simulate)
    app.command()(demo)
