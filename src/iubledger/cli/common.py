"""What every command shares: the global options, opening the store with clear errors,
output (text, or JSON with --json), refusals on stderr, progress on stderr, argument parsing.

stdout carries the command's output (result lines, receipts, reports) and is never
redirected, also while a progress bar runs on stderr: `iubledger append FILE > out.jsonl`
fills out.jsonl with the JSON result lines whether or not stderr is a terminal.

Exit codes: 0 success, 1 rejected input or failed check, 2 usage.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any, NoReturn
from uuid import UUID

import sqlalchemy.exc
import typer
from eventsourcing.persistence import (
    DatabaseError,
    InterfaceError,
    MapperDeserialisationError,
    OperationalError,
)
from rich.console import Console

from iubledger.config import Settings
from iubledger.roles import Forbidden
from iubledger.schemas.base import Rejected
from iubledger.store.cipher import CipherKeyError
from iubledger.store.keys import KeyCustodyError, KeystoreError
from iubledger.store.ledger import Ledger

out = Console()
err = Console(stderr=True)


@dataclass
class Context:
    settings: Settings
    as_json: bool


def context(ctx: typer.Context) -> Context:
    """The global options of the command line (set by the root callback)."""
    c: Context = ctx.find_root().obj
    return c


def fail(
    c: Context, code: str, message: str, problems: list[dict[str, str]] | None = None
) -> NoReturn:
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


def usage(message: str) -> NoReturn:
    """A usage error: the message on stderr, exit 2."""
    err.print(message, highlight=False, markup=False)
    raise typer.Exit(2)


@contextmanager
def open_ledger(c: Context, **kw: Any) -> Iterator[Ledger]:
    """Open the store; clear errors for missing or wrong keys and refused input."""
    ledger: Ledger | None = None
    try:
        ledger = Ledger(c.settings, **kw)
        yield ledger
    except (KeyCustodyError, CipherKeyError) as e:
        fail(c, "nycklar", str(e))
    except KeystoreError as e:
        fail(
            c,
            "nyckellager",
            f"{e}: run the command again when it is mended; a line without a result above "
            "was not stored (sent again, a line already stored returns its first result)",
        )
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
    except (sqlalchemy.exc.DatabaseError, DatabaseError) as e:
        fail(c, "databas", f"the database cannot be read ({_driver_message(e)})")
    except Rejected as e:
        fail(
            c,
            "avvisad",
            f"{e.source or 'input'} refused; nothing was stored",
            [p.as_dict() for p in e.problems],
        )
    except Forbidden as e:
        fail(c, Forbidden.CODE, str(e))
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


@contextmanager
def progress(
    label: str, total: int | None = None, *, prints: bool = False
) -> Iterator[Callable[[int], None]]:
    """Progress on stderr: a live bar when stderr is a terminal, otherwise a line now and
    then. Yields `advance(n)`. stdout is never redirected: what the command prints goes to
    stdout as it is. `prints`: the command prints results while it progresses, so when they
    go to the terminal too (where a live bar would be torn by them) it gets the lines."""
    if not err.is_terminal or (prints and out.is_terminal):
        step = max(1, total // 10) if total else 10_000
        done = 0

        def count(n: int) -> None:
            nonlocal done
            for _ in range(n):
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
    with Progress(
        *columns, console=err, transient=True, redirect_stdout=False, redirect_stderr=False
    ) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


def parse_day(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        usage(f"{name} must be a date YYYY-MM-DD")


def optional_day(value: str | None, name: str) -> date | None:
    return None if value is None else parse_day(value, name)


def parse_uuid(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        usage("the participation id must be a UUID")
