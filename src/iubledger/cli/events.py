"""`iubledger append` and `iubledger export`: utförare events in, stored records out.

`append` reads its input as bytes, one line at a time, and decodes each line on its own:
a line that is not UTF-8, or longer than MAX_LINE, gets a refusal of its own and the other
lines are appended as usual (G6). A line is never read beyond MAX_LINE bytes, so a huge
line costs no memory.
"""

from __future__ import annotations

import codecs
import io
import json
import sys
from collections.abc import Iterable, Iterator
from typing import IO, Annotated, Any

import typer

from iubledger.cli.common import context, err, fail, open_ledger, progress
from iubledger.schemas.base import Rejected
from iubledger.services import append as appending
from iubledger.services import export as exporting
from iubledger.services import integrity

#: Lines per transaction in `append`; every line is still atomic on its own.
BATCH = 500
#: The longest line `append` takes, in bytes before its newline (1 MiB); a longer line is
#: refused (`rad_for_lang`) and skipped unread.
MAX_LINE = 1024 * 1024
#: Bytes of lines per transaction at most, besides BATCH lines (bounds the memory held).
BATCH_BYTES = 16 * MAX_LINE
#: Bytes read at a time while skipping the rest of a line that is too long.
SKIP_READ = 64 * 1024

#: A line's text, or its refusal when it cannot be read.
Line = str | Rejected


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
    client id returns the first result.

    Input: JSON Lines in UTF-8, one event per line (LF or CRLF); a byte-order mark at the
    start is dropped. Blank lines are skipped: they get no result line, but line numbers
    count them. A line that is not valid UTF-8 (code utf8) or longer than 1 MiB = 1048576
    bytes (code rad_for_lang) gets a refusal of its own; the other lines are appended as
    usual.

    Output: the result lines (and receipts) on stdout, JSON, one per line; progress and the
    counts on stderr: lines stored now, lines already stored before (the same client id
    sent again: the first result is repeated, nothing new is stored), lines refused. Exit 1
    if a line was refused."""
    c = context(ctx)
    try:
        source = _stdin() if path == "-" else open(path, "rb")  # noqa: SIM115
    except OSError as e:
        fail(c, "fil", f"{path}: cannot read ({type(e).__name__})")
    refused = repeated = 0
    accepted: list[tuple[int, int]] = []
    with open_ledger(c) as ledger, source, progress("append", prints=True) as tick:
        for chunk in _chunks(read_lines(source)):
            before = integrity.size(ledger)
            outcomes = appending.batch(ledger, [line for _, line in chunk])
            for (number, _), r in zip(chunk, outcomes, strict=True):
                result = _result_line(number, r)
                print(json.dumps(result, ensure_ascii=False))
                if isinstance(r, dict):
                    accepted.append((number, r["position"]))
                    repeated += r["position"] < before
                else:
                    refused += 1
            sys.stdout.flush()
            tick(len(chunk))
        if receipts and accepted:
            integrity.checkpoint(ledger)
            proofs = integrity.receipts(ledger, [p for _, p in accepted])
            for (number, _), proof in zip(accepted, proofs, strict=True):
                print(json.dumps({"line": number, "receipt": proof}, ensure_ascii=False))
    sys.stdout.flush()
    err.print(_counts(len(accepted) - repeated, repeated, refused), highlight=False, markup=False)
    if refused:
        raise typer.Exit(1)


def _counts(stored: int, repeated: int, refused: int) -> str:
    """The outcome of an append in one line, on stderr."""
    parts = [f"{stored} line(s) stored now"]
    if repeated:
        parts.append(
            f"{repeated} already stored before (the same client id sent again: the first "
            "result is repeated, nothing new stored)"
        )
    if refused:
        parts.append(f"{refused} refused (nothing stored for them)")
    return "; ".join(parts)


def _stdin() -> IO[bytes]:
    """Standard input as bytes (a text stream without a byte buffer is encoded back)."""
    buffer: IO[bytes] | None = getattr(sys.stdin, "buffer", None)
    if buffer is not None:
        return buffer
    return io.BytesIO(sys.stdin.read().encode("utf-8", "surrogateescape"))


def read_lines(stream: IO[bytes]) -> Iterator[tuple[int, Line]]:
    """(line number, text or refusal) for every line of the input that is not blank; blank
    lines (empty or whitespace only) are counted but not returned. A UTF-8 byte-order mark
    at the start of the input is dropped. A refusal never holds the line's bytes (G6)."""
    number = 0
    while raw := stream.readline(MAX_LINE + 1):
        number += 1
        if number == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8) :]
            if len(raw) == MAX_LINE + 1 - len(codecs.BOM_UTF8) and not raw.endswith(b"\n"):
                raw += stream.readline(len(codecs.BOM_UTF8))  # the bytes the mark took
        body = raw[:-1] if raw.endswith(b"\n") else raw
        if len(body) > MAX_LINE:
            if not raw.endswith(b"\n"):
                _skip_line(stream)
            yield number, _unreadable("rad_for_lang", f"longer than {MAX_LINE} bytes")
            continue
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as e:
            yield number, _unreadable("utf8", f"not valid UTF-8 (invalid byte at offset {e.start})")
            continue
        if text.strip():
            yield number, text


def _unreadable(code: str, why: str) -> Rejected:
    """The refusal of a line that was not read as text: the rule, never the bytes (G6)."""
    return Rejected.one(code, "(rad)", f"the line is {why}; nothing of it was read as an event")


def _skip_line(stream: IO[bytes]) -> None:
    """Read past the next newline (or to the end) without holding the line."""
    while (part := stream.readline(SKIP_READ)) and not part.endswith(b"\n"):
        pass


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


def _chunks(
    lines: Iterable[tuple[int, Line]], size: int = BATCH, budget: int = BATCH_BYTES
) -> Iterator[list[tuple[int, Line]]]:
    """The lines in groups of at most `size` lines and about `budget` bytes of text."""
    chunk: list[tuple[int, Line]] = []
    held = 0
    for item in lines:
        chunk.append(item)
        held += len(item[1]) if isinstance(item[1], str) else 0
        if len(chunk) == size or held >= budget:
            yield chunk
            chunk, held = [], 0
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
