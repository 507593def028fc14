"""The `iubledger` command line: the contract users and auditors script against.

Exit codes: 0 success, 1 rejected input or failed check, 2 usage.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import sqlalchemy.exc
import typer
from eventsourcing.persistence import InterfaceError, MapperDeserialisationError, OperationalError
from rich.console import Console
from rich.table import Table

from iubledger import catalogs
from iubledger.api.cli import register as register_api
from iubledger.config import Settings, resolve
from iubledger.decisions.index import natural_key
from iubledger.keys import KeyCustodyError, KeyStore
from iubledger.roles import Forbidden
from iubledger.schemas.base import Problem, Rejected
from iubledger.store.cipher import CipherKeyError
from iubledger.store.ledger import Ledger

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Documentation ledger for insatser utan individuell behovsprövning (SoL 2025:400).",
)
decisions_app = typer.Typer(no_args_is_help=True, help="Nämnd decisions (11 kap. 5 § SoL).")
app.add_typer(decisions_app, name="decisions")

out = Console()
err = Console(stderr=True)


@dataclass
class Context:
    settings: Settings
    as_json: bool


def _ctx(ctx: typer.Context) -> Context:
    return ctx.find_root().obj


@app.callback()
def _global(
    ctx: typer.Context,
    data_dir: Annotated[
        str | None,
        typer.Option(envvar="IUBLEDGER_DATA_DIR", help="SQLite file and keys [./iubledger-data]"),
    ] = None,
    db: Annotated[
        str | None,
        typer.Option(
            envvar="IUBLEDGER_DATABASE_URL", help="Database URL (overrides the SQLite file)"
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    ctx.obj = Context(resolve(data_dir, db), as_json)


def fail(c: Context, code: str, message: str, problems: list[dict[str, str]] | None = None) -> None:
    """Report a rejection on stderr (JSON on stdout with --json) and exit 1."""
    if c.as_json:
        print(
            json.dumps(
                {
                    "ok": False,
                    "error": {"code": code, "message": message, "problems": problems or []},
                },
                ensure_ascii=False,
            )
        )
    else:
        err.print(f"[red]error[/red] ({code}): {message}", highlight=False, markup=True)
        for p in problems or []:
            err.print(
                f"  - {p['field']}: {p['message']} [{p['code']}]", highlight=False, markup=False
            )
    raise typer.Exit(1)


@contextmanager
def open_ledger(c: Context, **kw: Any) -> Iterator[Ledger]:
    """Open the store; clear errors for missing or wrong keys and refused input."""
    ledger: Ledger | None = None
    try:
        ledger = Ledger(c.settings, **kw)
        yield ledger
    except (KeyCustodyError, CipherKeyError) as e:
        fail(c, "nycklar", str(e))
    except MapperDeserialisationError:
        fail(c, "post", "a stored record cannot be decoded: run 'iubledger verify'")
    except (
        OperationalError,
        InterfaceError,
        sqlalchemy.exc.OperationalError,
        sqlalchemy.exc.InterfaceError,
    ) as e:
        fail(
            c,
            "databas",
            f"the database is unavailable ({_driver_message(e)}): run the command again when "
            "it is back; a line without a result above was not confirmed (sent again, a line "
            "already stored returns its first result)",
        )
    except Rejected as e:
        fail(
            c,
            "avvisad",
            f"{e.source or 'input'} refused; nothing was stored",
            [p.as_dict() for p in e.problems],
        )
    except Forbidden as e:
        fail(c, "behorighet", str(e))
    finally:
        if ledger is not None:
            ledger.close()


def _driver_message(e: BaseException) -> str:
    """The database driver's own first line (never the statement or its parameters)."""
    cause: BaseException | None = e
    while cause is not None and not isinstance(cause, sqlalchemy.exc.DBAPIError):
        cause = cause.__cause__
    text = str(cause.orig) if cause is not None else type(e).__name__
    return text.strip().splitlines()[0] if text.strip() else type(e).__name__


def emit(c: Context, data: Any, render: Callable[[], None]) -> None:
    if c.as_json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        render()


@app.command()
def init(ctx: typer.Context) -> None:
    """Create the store and keys (never overwrites existing keys)."""
    c = _ctx(ctx)
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


@app.command("catalogs")
def list_catalogs(ctx: typer.Context) -> None:
    """Decision catalogs shipped with the ledger."""
    c = _ctx(ctx)
    emit(c, catalogs.names(), lambda: [out.print(n) for n in catalogs.names()])


@decisions_app.command("import")
def decisions_import(
    ctx: typer.Context,
    paths: Annotated[list[Path] | None, typer.Argument(help="Decision files (JSON)")] = None,
    catalog: Annotated[str | None, typer.Option(help="A shipped catalog by name")] = None,
) -> None:
    """Load nämnd decision files; all or nothing: an invalid file imports nothing."""
    c = _ctx(ctx)
    if bool(paths) == bool(catalog):
        err.print("give decision files or --catalog NAME, not both")
        raise typer.Exit(2)
    if catalog:
        try:
            sources = [(f"catalog {catalog}", catalogs.read(catalog))]
        except KeyError as e:
            fail(c, "okand_katalog", str(e.args[0]))
    else:
        sources = []
        for p in paths or []:
            try:
                sources.append((str(p), p.read_text(encoding="utf-8")))
            except (OSError, UnicodeDecodeError) as e:
                fail(c, "fil", f"{p}: cannot read ({type(e).__name__})")
    with open_ledger(c) as ledger:
        result = ledger.import_decisions(sources)
    data = {"ok": True, "imported": [{"beslut": b, "version": v} for b, v in result.imported]}
    emit(c, data, lambda: out.print(f"Imported {len(result.imported)} decision version(s)."))


@decisions_app.command("list")
def decisions_list(ctx: typer.Context) -> None:
    """Decisions and their versions."""
    c = _ctx(ctx)
    with open_ledger(c) as ledger:
        index = ledger.decision_index()
    rows = [
        e.as_json()
        for _, history in sorted(index.histories.items(), key=lambda kv: natural_key(kv[0]))
        for e in history
    ]

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


@decisions_app.command("revoke")
def decisions_revoke(
    ctx: typer.Context,
    beslut: Annotated[str, typer.Argument(help="Decision id, <katalog>/<insats-id>")],
    fran: Annotated[str, typer.Option("--from", help="First day no longer in force (YYYY-MM-DD)")],
    skal: Annotated[str, typer.Option("--reason", help="The nämnd's reason")],
) -> None:
    """Revoke a decision from a date; earlier versions stay in the history."""
    from datetime import date

    c = _ctx(ctx)
    try:
        day = date.fromisoformat(fran)
    except ValueError:
        err.print("--from must be a date YYYY-MM-DD")
        raise typer.Exit(2) from None
    with open_ledger(c) as ledger:
        version = ledger.revoke_decision(beslut, day, skal)
    emit(
        c,
        {"ok": True, "beslut": beslut, "version": version},
        lambda: out.print(f"{beslut} revoked from {fran} (version {version})."),
    )


@app.command()
def append(
    ctx: typer.Context,
    path: Annotated[
        str, typer.Argument(help="JSON Lines file of utförare events, or - for stdin")
    ] = "-",
    receipts: Annotated[
        bool, typer.Option(help="After the input, sign a checkpoint and print a receipt per event")
    ] = False,
) -> None:
    """Append utförare events: one result line per input line; each line atomic; a repeated
    client id returns the first result."""
    c = _ctx(ctx)
    try:
        source = sys.stdin if path == "-" else open(path, encoding="utf-8")  # noqa: SIM115
    except OSError as e:
        fail(c, "fil", f"{path}: cannot read ({type(e).__name__})")
    refused = 0
    accepted: list[tuple[int, int]] = []
    with open_ledger(c) as ledger, source, progress(c, "append") as tick:
        for chunk in _chunks(enumerate(source, start=1), BATCH):
            lines = [(n, line) for n, line in chunk if line.strip()]
            for (number, _), r in zip(
                lines, ledger.append_batch([x for _, x in lines]), strict=True
            ):
                if isinstance(r, dict):
                    result = {"line": number, "ok": True, **r}
                else:
                    refused += 1
                    problems = (
                        r.problems
                        if isinstance(r, Rejected)
                        else [Problem("behorighet", "utforare", str(r))]
                    )
                    result = {
                        "line": number,
                        "ok": False,
                        "error": problems[0].as_dict(),
                        "problems": [p.as_dict() for p in problems],
                    }
                print(json.dumps(result, ensure_ascii=False))
                if result["ok"]:
                    accepted.append((number, result["position"]))
                tick()
        if receipts and accepted:
            ledger.checkpoint()
            proofs = ledger.receipts([p for _, p in accepted])
            for (number, _), proof in zip(accepted, proofs, strict=True):
                print(json.dumps({"line": number, "receipt": proof}, ensure_ascii=False))
    sys.stdout.flush()
    if refused:
        err.print(f"{refused} line(s) refused; nothing was stored for them")
        raise typer.Exit(1)


#: Lines per transaction in `append`; every line is still atomic on its own.
BATCH = 500


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@contextmanager
def progress(c: Context, label: str, total: int | None = None) -> Iterator[Callable[[], None]]:
    """A live progress bar on stderr when it is a terminal; otherwise a line now and then."""
    if not err.is_terminal:
        step = max(1, total // 10) if total else 10_000
        done = 0

        def count() -> None:
            nonlocal done
            done += 1
            if done % step == 0:
                err.print(f"{label}: {done}" + (f" / {total}" if total else ""))

        yield count
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = [
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    ]
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda: bar.advance(task)


@app.command()
def export(ctx: typer.Context) -> None:
    """Stored events as JSON Lines: at-rest cipher opened, identity seals kept closed."""
    c = _ctx(ctx)
    with open_ledger(c) as ledger:
        for position, e in ledger.records():
            print(json.dumps(export_record(position, e), ensure_ascii=False, default=str))


def export_record(position: int, e: Any) -> dict[str, Any]:
    data = {
        k: v
        for k, v in e.__dict__.items()
        if k not in ("originator_id", "originator_version", "timestamp", "originator_topic")
    }
    return {
        "position": position,
        "aggregat": type(e).__qualname__.split(".")[0],
        "handelse": type(e).__name__,
        "id": str(e.originator_id),
        "version": e.originator_version,
        "tidpunkt": e.timestamp.isoformat(),
        "data": data,
    }


@app.command()
def checkpoint(ctx: typer.Context) -> None:
    """The latest signed checkpoint (signed now if records were added since)."""
    c = _ctx(ctx)
    with open_ledger(c) as ledger:
        cp = ledger.checkpoint()
    if cp is None:
        fail(c, "tom_logg", "the log is empty: nothing to checkpoint")
    data = cp.as_json()
    emit(c, data, lambda: out.print_json(data=data))


@app.command()
def receipt(
    ctx: typer.Context,
    position: Annotated[int, typer.Argument(help="Log position of a record")],
    tree_size: Annotated[int | None, typer.Option(help="Prove against this checkpoint")] = None,
) -> None:
    """Inclusion proof of a record against a signed checkpoint (RFC 9162)."""
    c = _ctx(ctx)
    with open_ledger(c) as ledger:
        data = ledger.receipt(position, tree_size)
    emit(c, data, lambda: out.print_json(data=data))


@app.command()
def verify(
    ctx: typer.Context,
    checkpoint_file: Annotated[
        Path | None, typer.Option("--checkpoint", help="A checkpoint saved earlier (JSON)")
    ] = None,
) -> None:
    """Integrity: recompute the Merkle log, check signatures, decryption and decoding, and
    that the log only grew since a saved checkpoint. Exit 1 naming the first bad position."""
    from iubledger.integrity.checkpoints import Checkpoint
    from iubledger.integrity.verify import verify as run_verify

    c = _ctx(ctx)
    saved = None
    if checkpoint_file is not None:
        try:
            saved = Checkpoint.from_json(json.loads(checkpoint_file.read_text(encoding="utf-8")))
        except (OSError, ValueError) as e:
            fail(c, "checkpoint", f"{checkpoint_file}: {e}")
    with open_ledger(c) as ledger, progress(c, "verify") as tick:
        result = run_verify(ledger, saved, tick=lambda n: [tick() for _ in range(n)] and None)
    data = result.as_json()

    def render() -> None:
        if result.ok:
            out.print(
                f"[green]OK[/green]: {result.records} records, Merkle log intact, "
                f"{result.checkpoints_checked} checkpoint(s) match."
            )
        else:
            first = result.first_bad
            out.print(
                f"[red]FAILED[/red] at position {first.position}: {first.message} [{first.rule}]"
            )
            for f in result.findings[1:10]:
                out.print(f"  also: position {f.position}: {f.message} [{f.rule}]")

    emit(c, data, render)
    if not result.ok:
        raise typer.Exit(1)


def _day(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        err.print(f"{name} must be a date YYYY-MM-DD")
        raise typer.Exit(2) from None


@app.command()
def report(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(help="participation | compliance | effect")],
    fmt: Annotated[str, typer.Option("--format", help="table | json | csv | html")] = "table",
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
    from iubledger.audit import compliance
    from iubledger.reports import effect, participation
    from iubledger.reports.protect import Skydd
    from iubledger.reports.render import render

    c = _ctx(ctx)
    if kind not in ("participation", "compliance", "effect"):
        err.print("the report is one of: participation, compliance, effect")
        raise typer.Exit(2)
    if fmt not in ("table", "json", "csv", "html") or indelning not in (
        "dag",
        "vecka",
        "manad",
        "kvartal",
        "ar",
    ):
        err.print("--format is table|json|csv|html; --indelning dag|vecka|manad|kvartal|ar")
        raise typer.Exit(2)
    try:
        skydd = Skydd(k=None if exact_for else threshold, exakt_for=exact_for)
    except ValueError as e:
        err.print(str(e))
        raise typer.Exit(2) from None
    with open_ledger(c) as ledger:
        index = ledger.decision_index()
        first = _day(fran, "--from") or index.first_day() or date.today()
        last = _day(till, "--to") or date.today()
        if kind == "compliance":
            data = compliance.build(ledger, index, first, last, insatser=insats, namnd=namnd)
        else:
            with progress(c, "projektioner") as tick:
                ledger.project(tick=lambda n: [tick() for _ in range(n)] and None)
            with ledger.transaction() as session:
                if kind == "participation":
                    data = participation.build(
                        session,
                        index,
                        first,
                        last,
                        insatser=insats,
                        namnd=namnd,
                        indelning=indelning,
                        skydd=skydd,
                    )
                else:
                    data = effect.build(
                        session, index, first, last, insatser=insats, namnd=namnd, skydd=skydd
                    )
    text = render(data, "json" if c.as_json else fmt)
    if output is not None:
        output.write_text(text, encoding="utf-8")
        err.print(f"Wrote {output}")
    else:
        print(text)


@app.command()
def replay(
    ctx: typer.Context,
    as_of: Annotated[str, typer.Option("--as-of", help="The day to replay (YYYY-MM-DD)")],
    tree_size: Annotated[int | None, typer.Option(help="Only the first N records")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table | json")] = "table",
) -> None:
    """Decisions and projections as they stood then, rebuilt from the log (live projections
    untouched)."""
    from iubledger.audit.replay import replay as run_replay
    from iubledger.reports.render import render

    c = _ctx(ctx)
    day = _day(as_of, "--as-of")
    assert day is not None
    with open_ledger(c) as ledger:
        data = run_replay(ledger, day, tree_size)

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


@app.command()
def simulate(
    ctx: typer.Context,
    catalog: Annotated[str, typer.Option(help="A shipped catalog")],
    fran: Annotated[str, typer.Option("--from", help="First day (YYYY-MM-DD)")],
    till: Annotated[str, typer.Option("--to", help="Last day (YYYY-MM-DD)")],
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same stream")] = 1,
    scale: Annotated[float, typer.Option(help="Volume multiplier")] = 1.0,
) -> None:
    """Realistic utförare events as JSON Lines, reproducible from the seed."""
    from iubledger.schemas.beslut import BeslutsFil
    from iubledger.simulate import main_lines

    c = _ctx(ctx)
    first, last = _day(fran, "--from"), _day(till, "--to")
    assert first is not None and last is not None
    try:
        fil = BeslutsFil.model_validate_json(catalogs.read(catalog))
    except KeyError as e:
        fail(c, "okand_katalog", str(e.args[0]))
    for line in main_lines(fil, first, last, seed, scale):
        print(line)


DEMO_MARKER = ".iubledger-demo"


@app.command()
def demo(ctx: typer.Context) -> None:
    """The main job end to end on the embedded default, in a fresh data dir."""
    import shutil

    from iubledger import demo as job
    from iubledger.reports.render import render

    c = _ctx(ctx)
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
    with open_ledger(c) as ledger, progress(c, "append", total=len(lines)) as tick:
        if ledger.recorder.max_notification_id() is not None:
            fail(c, "databas", "the demo needs an empty database; give --db a new one")
        result = job.run(ledger, d / "rapporter", render, tick=tick, lines=lines)
    assert result.verify is not None and result.participation is not None
    out.print(
        f"Appended {result.appended} events; refused {sum(result.refused.values())} "
        f"{result.refused or ''}"
    )
    print(render(result.participation, "table"))
    print(render(result.effect, "table"))
    summary = result.compliance["sammanfattning"]["text"] if result.compliance else ""
    out.print(f"Compliance (14 kap. 3–5 §, 11 kap. 6 § SoL): {summary}")
    v = result.verify
    status = "[green]OK[/green]" if v.ok else f"[red]FAILED[/red] at {v.first_bad}"
    out.print(f"verify: {status} — {v.records} records, {v.checkpoints_checked} checkpoint(s)")
    for path in result.reports:
        out.print(f"Report: {path}")
    if not v.ok:
        raise typer.Exit(1)


identity_app = typer.Typer(no_args_is_help=True, help="Sealed identity under 14 kap. 3 § SoL.")
app.add_typer(identity_app, name="identity")


@identity_app.command("show")
def identity_show(
    ctx: typer.Context,
    deltagande: Annotated[str, typer.Argument(help="Participation id")],
    reason: Annotated[str, typer.Option(help="Why (recorded in the ledger, seen by tillsyn)")],
) -> None:
    """Authorised recovery of sealed identity (full_14_3; the name under deltagardata).
    The recovery and its reason are recorded in the ledger first."""
    c = _ctx(ctx)
    with open_ledger(c) as ledger:
        opened, _ = ledger.recover_identity(_uuid(deltagande), reason, "admin", "kommandorad")
    emit(c, opened, lambda: [out.print(f"{k}: {v}", highlight=False) for k, v in opened.items()])


@identity_app.command("shred")
def identity_shred(
    ctx: typer.Context, deltagande: Annotated[str, typer.Argument(help="Participation id")]
) -> None:
    """Gallring: delete the subject key, so the sealed identity can never be opened again."""
    c = _ctx(ctx)
    with open_ledger(c) as ledger:
        deleted = ledger.keys.shred(str(_uuid(deltagande)))
    if not deleted:
        fail(c, "ingen_nyckel", "no subject key for that participation")
    emit(c, {"ok": True}, lambda: out.print("Subject key deleted; the log still verifies."))


def _uuid(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        err.print("the participation id must be a UUID")
        raise typer.Exit(2) from None


register_api(app)  # `serve` and `keys` (iubledger.api.cli)


def main() -> None:
    """Entry point; `--json` is accepted anywhere on the line, as the contract says."""
    args = sys.argv[1:]
    cut = args.index("--") if "--" in args else len(args)
    if "--json" in args[:cut]:
        args = ["--json", *[a for a in args[:cut] if a != "--json"], *args[cut:]]
    app(args=args, prog_name="iubledger")


if __name__ == "__main__":
    sys.exit(main())
