"""`iubledger checkpoint|receipt|verify`: what tillsyn uses to prove the log was never
rewritten (G5)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from iubledger.cli.common import context, emit, fail, open_ledger, out, progress
from iubledger.integrity.checkpoints import Checkpoint
from iubledger.services import integrity


def checkpoint(ctx: typer.Context) -> None:
    """The latest signed checkpoint (signed now if records were added since)."""
    c = context(ctx)
    with open_ledger(c) as ledger:
        cp = integrity.checkpoint(ledger)
    if cp is None:
        fail(c, "tom_logg", "the log is empty: nothing to checkpoint")
    data = cp.as_json()
    emit(c, data, lambda: out.print_json(data=data))


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
        Path | None, typer.Option("--checkpoint", help="A checkpoint saved earlier (JSON)")
    ] = None,
) -> None:
    """Integrity: recompute the Merkle log, check signatures, decryption and decoding, and
    that the log only grew since a saved checkpoint. Exit 1 naming the first bad position."""
    c = context(ctx)
    saved = None
    if checkpoint_file is not None:
        try:
            saved = Checkpoint.from_json(json.loads(checkpoint_file.read_text(encoding="utf-8")))
        except (OSError, ValueError) as e:
            fail(c, "checkpoint", f"{checkpoint_file}: {e}")
    with open_ledger(c) as ledger, progress("verify") as tick:
        result = integrity.verify(ledger, saved, tick=tick)
    data = result.as_json()

    def render() -> None:
        first = result.first_bad
        if first is None:
            out.print(
                f"[green]OK[/green]: {result.records} records, Merkle log intact, "
                f"{result.checkpoints_checked} checkpoint(s) match."
            )
            return
        out.print(f"[red]FAILED[/red] at position {first.position}: {first.message} [{first.rule}]")
        for f in result.findings[1:10]:
            out.print(f"  also: position {f.position}: {f.message} [{f.rule}]")

    emit(c, data, render)
    if not result.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command()(checkpoint)
    app.command()(receipt)
    app.command()(verify)
