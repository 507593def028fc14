"""The `iubledger` command line: the contract users and auditors script against.

Exit codes: 0 success, 1 rejected input or failed check, 2 usage.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import typer
from rich.console import Console
from rich.table import Table

from iubledger import catalogs
from iubledger.config import Settings, resolve
from iubledger.keys import KeyCustodyError, KeyStore
from iubledger.roles import Forbidden
from iubledger.schemas.base import Rejected
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
        _entry_json(e)
        for _, history in sorted(index.histories.items(), key=lambda kv: _natural(kv[0]))
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
) -> None:
    """Append utförare events: one result line per input line; each line atomic; a repeated
    client id returns the first result."""
    c = _ctx(ctx)
    try:
        source = sys.stdin if path == "-" else open(path, encoding="utf-8")  # noqa: SIM115
    except OSError as e:
        fail(c, "fil", f"{path}: cannot read ({type(e).__name__})")
    refused = 0
    with open_ledger(c) as ledger, source, progress(c, "append") as tick:
        for number, line in enumerate(source, start=1):
            if not line.strip():
                continue
            try:
                result = {"line": number, "ok": True, **ledger.append(line)}
            except Rejected as e:
                refused += 1
                result = {
                    "line": number,
                    "ok": False,
                    "error": e.problems[0].as_dict(),
                    "problems": [p.as_dict() for p in e.problems],
                }
            except Forbidden as e:
                refused += 1
                result = {
                    "line": number,
                    "ok": False,
                    "error": {"code": "behorighet", "field": "utforare", "message": str(e)},
                }
            print(json.dumps(result, ensure_ascii=False), flush=False)
            tick()
    sys.stdout.flush()
    if refused:
        err.print(f"{refused} line(s) refused; nothing was stored for them")
        raise typer.Exit(1)


@contextmanager
def progress(c: Context, label: str) -> Iterator[Callable[[], None]]:
    """A live counter on stderr when it is a terminal; silent otherwise."""
    if not err.is_terminal:
        yield lambda: None
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description} {task.completed}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=None)
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


identity_app = typer.Typer(no_args_is_help=True, help="Sealed identity under 14 kap. 3 § SoL.")
app.add_typer(identity_app, name="identity")


@identity_app.command("show")
def identity_show(
    ctx: typer.Context, deltagande: Annotated[str, typer.Argument(help="Participation id")]
) -> None:
    """Authorised recovery of sealed identity (full_14_3; the name under deltagardata)."""
    c = _ctx(ctx)
    with open_ledger(c) as ledger:
        opened = ledger.identity(_uuid(deltagande))
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


def _entry_json(e: Any) -> dict[str, Any]:
    from iubledger.decisions.index import Upphavande

    if isinstance(e, Upphavande):
        return {
            "typ": "upphavande",
            "beslut": e.beslut_id,
            "version": e.version,
            "fran": e.fran.isoformat(),
            "skal": e.skal,
        }
    return {
        "typ": "version",
        "beslut": e.beslut_id,
        "version": e.version,
        "giltig_fran": e.giltig_fran.isoformat(),
        "giltig_till": e.giltig_till.isoformat() if e.giltig_till else None,
        "beslut_header": e.header,
        "insats": e.insats.model_dump(mode="json", exclude_none=True),
        "registrerad": e.recorded_at.isoformat(),
    }


def _natural(key: str) -> list[int | str]:
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", key)]


def main() -> None:
    """Entry point; `--json` is accepted anywhere on the line, as the contract says."""
    args = sys.argv[1:]
    cut = args.index("--") if "--" in args else len(args)
    if "--json" in args[:cut]:
        args = ["--json", *[a for a in args[:cut] if a != "--json"], *args[cut:]]
    app(args=args, prog_name="iubledger")


if __name__ == "__main__":
    sys.exit(main())
