"""`iubledger checkpoint|receipt|verify`: what tillsyn uses to prove the log was never
rewritten (G5)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from iubledger.cli.common import Context, context, emit, fail, open_ledger, out, progress, usage
from iubledger.integrity.bundle import BundleError
from iubledger.integrity.checkpoints import Checkpoint
from iubledger.integrity.note import NoteError, Verifier
from iubledger.services import integrity
from iubledger.store.keys import AT_REST


def checkpoint(ctx: typer.Context) -> None:
    """The latest signed checkpoint (signed now if records were added since)."""
    c = context(ctx)
    with open_ledger(c) as ledger:
        cp = integrity.checkpoint(ledger)
    if cp is None:
        fail(c, "tom_logg", "the log is empty: nothing to checkpoint")
    data = cp.as_json()
    emit(c, data, lambda: print(cp.note(), end=""))


def receipt(
    ctx: typer.Context,
    position: Annotated[int, typer.Argument(help="Log position of a record")],
    tree_size: Annotated[int | None, typer.Option(help="Prove against this checkpoint")] = None,
) -> None:
    """Inclusion proof of a record against a signed checkpoint (RFC 9162)."""
    c = context(ctx)
    with open_ledger(c) as ledger:
        data = integrity.receipt(ledger, position, tree_size)
    emit(c, data, lambda: out.print_json(data=data))


def verify(
    ctx: typer.Context,
    checkpoint_file: Annotated[
        Path | None,
        typer.Option("--checkpoint", help="A checkpoint saved earlier (JSON or signed note)"),
    ] = None,
    public_key: Annotated[
        Path | None,
        typer.Option(help="The ledger's verifier key (`keys public`): no private key needed"),
    ] = None,
    bundle: Annotated[
        Path | None, typer.Option(help="Verify an audit bundle offline (needs --public-key)")
    ] = None,
    deep: Annotated[
        bool, typer.Option(help="Also the database's own check of its pages and indexes")
    ] = False,
    witness_key: Annotated[
        list[Path] | None,
        typer.Option(help="A witness's verifier key to trust (repeatable; default: all)"),
    ] = None,
) -> None:
    """Integrity: recompute the Merkle log and check every node, checkpoint, cosignature,
    decryption and decoding, the read models and the rows outside the log, and that the log
    only grew since a saved checkpoint. Exit 1 naming the first bad position."""
    c = context(ctx)
    saved = None if checkpoint_file is None else read_checkpoint(c, checkpoint_file)
    pinned = None if public_key is None else read_verifier(c, public_key)
    witnesses = None if not witness_key else [read_verifier(c, w) for w in witness_key]
    if bundle is not None:
        if pinned is None:
            usage("--bundle needs --public-key: a bundle is verified with the public key alone")
        with progress("verify") as tick:
            try:
                result = integrity.verify_bundle(bundle, pinned, saved, witnesses, tick=tick)
            except BundleError as e:
                fail(c, "paket", str(e))
    else:
        opened = pinned is None or (c.settings.key_dir / AT_REST).exists()
        with (
            open_ledger(c, at_rest_cipher=opened, signing=pinned is None) as ledger,
            progress("verify") as tick,
        ):
            result = integrity.verify(
                ledger,
                saved,
                public_key=pinned,
                deep=deep,
                decode=opened,
                witnesses=witnesses,
                tick=tick,
            )
    data = result.as_json()

    def render() -> None:
        first = result.first_bad
        for note in result.notes:
            out.print(f"note: {note}", highlight=False, markup=False)
        if first is None:
            witnessed = ", ".join(f"{w}: {n}" for w, n in result.witnessed.items())
            out.print(
                f"[green]OK[/green]: {result.records} records, Merkle log intact, "
                f"{result.checkpoints_checked} checkpoint(s) match"
                + (f"; witnessed up to {witnessed}." if witnessed else ".")
            )
            return
        out.print(f"[red]FAILED[/red] at position {first.position}: {first.message} [{first.rule}]")
        for f in result.findings[1:10]:
            out.print(f"  also: position {f.position}: {f.message} [{f.rule}]")

    emit(c, data, render)
    if not result.ok:
        raise typer.Exit(1)


def read_checkpoint(c: Context, path: Path) -> Checkpoint:
    """A checkpoint file: the JSON `checkpoint --json` prints (this form or the earlier
    one), or the bare signed note."""
    try:
        raw = path.read_text(encoding="utf-8")
        if raw.lstrip().startswith("{"):
            return Checkpoint.from_json(json.loads(raw))
        return Checkpoint.from_note(raw)
    except (OSError, UnicodeDecodeError, ValueError) as e:
        fail(c, "checkpoint", f"{path}: {e}")


def read_verifier(c: Context, path: Path) -> Verifier:
    """A verifier key file (`keys public`)."""
    try:
        return Verifier.parse(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, NoteError) as e:
        fail(c, "publik_nyckel", f"{path}: {e}")


def register(app: typer.Typer) -> None:
    app.command()(checkpoint)
    app.command()(receipt)
    app.command()(verify)
