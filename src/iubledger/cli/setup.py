"""`iubledger init|catalogs|simulate|demo`: setting up a store, the shipped catalogs,
simulated utförare events and the main job end to end."""

from __future__ import annotations

import shutil
from typing import Annotated

import typer

from iubledger import catalogs
from iubledger.cli.common import (
    context,
    emit,
    err,
    fail,
    open_ledger,
    out,
    parse_day,
    progress,
    usage,
)
from iubledger.reports.render.labels import andring, tal
from iubledger.schemas.beslut import BeslutsFil
from iubledger.services import demo as job
from iubledger.services import integrity
from iubledger.simulate import main_lines
from iubledger.store.keys import KeyStore

DEMO_MARKER = ".iubledger-demo"


def init(
    ctx: typer.Context,
    origin: Annotated[
        str | None,
        typer.Option(help="The instance's name in its checkpoints, e.g. alingsas.se/iubledger"),
    ] = None,
    new_keys: Annotated[
        bool,
        typer.Option(
            "--new-keys",
            help="Make missing keys for a store that holds records (loses idempotency and "
            "every sealed identity; verify then fails against the old signing key)",
        ),
    ] = False,
) -> None:
    """Create the store and keys (never overwrites existing keys; never makes new keys
    for a store that holds records unless told to)."""
    c = context(ctx)
    if origin is not None and (not origin or any(ch.isspace() or ch == "+" for ch in origin)):
        usage("--origin has no spaces and no '+'")
    c.settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    keys = KeyStore(c.settings.key_dir)
    missing = keys.missing()
    held = integrity.records_in(c.settings.database_url) if missing else 0
    if held and not new_keys:
        fail(
            c,
            "nycklar_saknas",
            f"the store holds {held} records but the key folder lacks {', '.join(missing)}: "
            "restore it from its backup (--new-keys makes new ones and loses the "
            "idempotency of earlier lines and every sealed identity)",
        )
    if held:
        err.print(
            f"warning: new {', '.join(missing)} for a store of {held} records: lines sent "
            "again are stored twice, sealed identity cannot be opened, and the checkpoints "
            "signed before no longer verify under the new key",
            highlight=False,
            markup=False,
        )
    created = keys.init(origin)
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
