"""`iubledger append` and `iubledger export`: utförare events in, stored records out."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from typing import Annotated, Any

import typer

from iubledger.cli.common import context, err, fail, open_ledger, progress
from iubledger.schemas.base import Rejected
from iubledger.services import append as appending
from iubledger.services import export as exporting
from iubledger.services import integrity

#: Lines per transaction in `append`; every line is still atomic on its own.
BATCH = 500


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
    c = context(ctx)
    try:
        source = sys.stdin if path == "-" else open(path, encoding="utf-8")  # noqa: SIM115
    except OSError as e:
        fail(c, "fil", f"{path}: cannot read ({type(e).__name__})")
    refused = 0
    accepted: list[tuple[int, int]] = []
    with open_ledger(c) as ledger, source, progress("append") as tick:
        for chunk in _chunks(enumerate(source, start=1), BATCH):
            lines = [(n, line) for n, line in chunk if line.strip()]
            outcomes = appending.batch(ledger, [x for _, x in lines])
            for (number, _), r in zip(lines, outcomes, strict=True):
                result = _result_line(number, r)
                print(json.dumps(result, ensure_ascii=False))
                if isinstance(r, dict):
                    accepted.append((number, r["position"]))
                else:
                    refused += 1
            tick(len(lines))
        if receipts and accepted:
            integrity.checkpoint(ledger)
            proofs = integrity.receipts(ledger, [p for _, p in accepted])
            for (number, _), proof in zip(accepted, proofs, strict=True):
                print(json.dumps({"line": number, "receipt": proof}, ensure_ascii=False))
    sys.stdout.flush()
    if refused:
        err.print(f"{refused} line(s) refused; nothing was stored for them")
        raise typer.Exit(1)


def _result_line(number: int, r: appending.Outcome) -> dict[str, Any]:
    """The contract's result line: `{line, ok, …result}` or `{line, ok: false, error}`."""
    if isinstance(r, dict):
        return {"line": number, "ok": True, **r}
    problems = r.problems if isinstance(r, Rejected) else [r.problem()]
    return {
        "line": number,
        "ok": False,
        "error": problems[0].as_dict(),
        "problems": [p.as_dict() for p in problems],
    }


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def export(ctx: typer.Context) -> None:
    """Stored events as JSON Lines: at-rest cipher opened, identity seals kept closed."""
    c = context(ctx)
    with open_ledger(c) as ledger:
        for line in exporting.lines(ledger):
            print(line)


def register(app: typer.Typer) -> None:
    app.command()(append)
    app.command()(export)
