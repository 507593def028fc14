"""Long reads in a process of their own: verify, replay and reports run in one worker
process with its own reader Ledger, so a verify of the whole log or a year-long daily
report never holds the interpreter lock that appends in the serving process need.

Bounded: one worker; a further long read queues for it. The worker is started on the
first long read (spawned, not forked: the serving process has threads and open database
connections) and opens the store as any reader does (on SQLite in WAL mode its snapshot
never blocks the writer). Results and refusals come back as values; the worker holds no
state the serving process relies on.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import date
from typing import Any, TypeVar

from iubledger.audit.replay import Grund
from iubledger.config import Settings
from iubledger.integrity.checkpoints import Checkpoint
from iubledger.services import integrity, reports
from iubledger.store.ledger import Ledger

R = TypeVar("R")

#: The worker's reader (set in the worker process only).
_reader: Ledger | None = None


#: The worker's scheduling priority below the serving process (`os.nice`): on a busy
#: machine the appends get the CPU first and the long reads take longer.
NICE = 10


def _open(settings: Settings) -> None:
    global _reader
    os.nice(NICE)
    _reader = Ledger(settings)
    atexit.register(_reader.close)


def _ledger() -> Ledger:
    if _reader is None:
        raise RuntimeError("not in the worker process")
    return _reader


def verify(saved: Checkpoint | None) -> dict[str, Any]:
    """In the worker: `services.integrity.verify` of the whole store (G5)."""
    return integrity.verify(_ledger(), saved).as_json()


def replay(as_of: date, tree_size: int | None, by: Grund) -> dict[str, Any]:
    """In the worker: `services.reports.replay`."""
    return reports.replay(_ledger(), as_of, tree_size, by)


def report(req: reports.Request) -> dict[str, Any]:
    """In the worker: `services.reports.build`."""
    return reports.build(_ledger(), req)


class Worker:
    """The worker process, started when first needed."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def _executor(self, broken: ProcessPoolExecutor | None = None) -> ProcessPoolExecutor:
        """The pool, started when missing or replacing the `broken` one."""
        with self._lock:
            if self._pool is None or self._pool is broken:
                self._pool = ProcessPoolExecutor(
                    max_workers=1,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_open,
                    initargs=(self._settings,),
                )
            return self._pool

    def run(self, fn: Callable[..., R], *args: Any) -> R:
        """`fn(*args)` in the worker. A worker that died (killed, out of memory) is
        replaced and the read tried once more: reads change nothing the log holds."""
        pool = self._executor()
        try:
            return pool.submit(fn, *args).result()
        except BrokenProcessPool:
            return self._executor(broken=pool).submit(fn, *args).result()

    def close(self) -> None:
        """Let a read in progress finish, drop queued ones, stop the worker."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
