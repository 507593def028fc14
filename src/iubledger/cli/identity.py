"""`iubledger identity show|shred`: sealed identity and gallring under 14 kap. 3 § SoL (G3)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from iubledger.cli.common import (
    context,
    emit,
    open_ledger,
    out,
    parse_day,
    parse_uuid,
    progress,
    usage,
)
from iubledger.services import gallring, identity

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
    ctx: typer.Context,
    deltaganden: Annotated[
        list[str] | None, typer.Argument(help="Participation ids (or select by rule)")
    ] = None,
    reason: Annotated[
        str, typer.Option(help="Why (required; recorded in the ledger, seen by tillsyn)")
    ] = "",
    older_than: Annotated[
        str | None,
        typer.Option(help="By rule: participations whose latest record is before this date"),
    ] = None,
    insats: Annotated[
        list[str] | None, typer.Option(help="By rule: the insatser (repeatable)")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only list what the rule selects")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")] = False,
) -> None:
    """Gallring (14 kap. 3 § SoL): delete the subject key, the course and the person's
    look-up, so the sealed identity can never be opened and nothing links the records; the
    gallring, with its reason, is recorded in the ledger first and listed to tillsyn."""
    c = context(ctx)
    if bool(deltaganden) == (older_than is not None):
        usage("name participations, or select them with --older-than and --insats")
    if older_than is not None and not insats:
        usage("--older-than needs at least one --insats")
    urval = (
        None
        if older_than is None
        else gallring.Urval(parse_day(older_than, "--older-than"), tuple(insats or ()))
    )
    with open_ledger(c) as ledger:
        ids = (
            [parse_uuid(d) for d in deltaganden or ()]
            if urval is None
            else gallring.selected(ledger, urval)
        )
        if dry_run:
            emit(
                c,
                {"ok": True, "valda": [str(d) for d in ids]},
                lambda: out.print(f"{len(ids)} deltaganden skulle gallras.", highlight=False),
            )
            return
        gallring.checked_reason(reason)
        if not yes:
            if not sys.stdin.isatty():
                usage("gallring cannot be undone: confirm with --yes")
            if not typer.confirm(f"Gallra {len(ids)} deltaganden? Det kan inte ångras", err=True):
                usage("nothing was gallrat")
        regel = None if urval is None else urval.regel
        with progress("gallring", len(ids)) as tick:
            done = gallring.shred(ledger, ids, reason, "admin", "kommandorad", regel, tick)
    emit(
        c,
        {"ok": True, "gallrade": done},
        lambda: out.print(
            f"{done} deltaganden gallrade; gallringen är registrerad och loggen verifierar.",
            highlight=False,
        ),
    )
