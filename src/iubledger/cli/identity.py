"""`iubledger identity show|shred`: sealed identity under 14 kap. 3 § SoL (G3)."""

from __future__ import annotations

from typing import Annotated

import typer

from iubledger.cli.common import context, emit, fail, open_ledger, out, parse_uuid
from iubledger.services import identity

app = typer.Typer(no_args_is_help=True, help="Sealed identity under 14 kap. 3 § SoL.")


@app.command("show")
def show(
    ctx: typer.Context,
    deltagande: Annotated[str, typer.Argument(help="Participation id")],
    reason: Annotated[str, typer.Option(help="Why (recorded in the ledger, seen by tillsyn)")],
) -> None:
    """Authorised recovery of sealed identity (full_14_3; the name under deltagardata).
    The recovery and its reason are recorded in the ledger first."""
    c = context(ctx)
    with open_ledger(c) as ledger:
        opened, _ = identity.recover(ledger, parse_uuid(deltagande), reason, "admin", "kommandorad")

    def render() -> None:
        for k, v in opened.items():
            out.print(f"{k}: {v}", highlight=False)

    emit(c, opened, render)


@app.command("shred")
def shred(
    ctx: typer.Context, deltagande: Annotated[str, typer.Argument(help="Participation id")]
) -> None:
    """Gallring: delete the subject key, so the sealed identity can never be opened again."""
    c = context(ctx)
    with open_ledger(c) as ledger:
        deleted = identity.shred(ledger, parse_uuid(deltagande))
    if not deleted:
        fail(c, "ingen_nyckel", "no subject key for that participation")
    emit(c, {"ok": True}, lambda: out.print("Subject key deleted; the log still verifies."))
