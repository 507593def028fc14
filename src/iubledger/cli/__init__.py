"""The `iubledger` command line: the contract users and auditors script against.

One module per command group; each only translates between the command line and
`iubledger.services`. Exit codes: 0 success, 1 rejected input or failed check, 2 usage.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from iubledger.cli import decisions, events, identity, integrity, reports, serve, setup, trust
from iubledger.cli.common import Context
from iubledger.config import resolve

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Documentation ledger for insatser utan individuell behovsprövning (SoL 2025:400).",
)


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


for group in (setup, events, integrity, reports, serve):
    group.register(app)
app.add_typer(decisions.app, name="decisions")
app.add_typer(identity.app, name="identity")
app.add_typer(serve.keys_app, name="keys")
trust.register(app, serve.keys_app)


def main() -> None:
    """Entry point; `--json` is accepted anywhere on the line, as the contract says."""
    args = sys.argv[1:]
    cut = args.index("--") if "--" in args else len(args)
    if "--json" in args[:cut]:
        args = ["--json", *[a for a in args[:cut] if a != "--json"], *args[cut:]]
    app(args=args, prog_name="iubledger")
