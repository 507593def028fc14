"""Profile one path and count its SQL statements: where the time of a figure goes.

    python -m bench.profile batch|append|rebuild|verify [--size 10000] [--sample 2000]
                            [--top 25] [--pyinstrument]

`batch` imports the workload of `--size` lines with `append_batch` (500 per transaction);
`append` imports all but the last `--sample` lines, then profiles those one per
transaction; `rebuild` and `verify` profile the path over the cached store of `--size`
(built when missing). Prints wall and CPU time, SQL statements per event by kind (from a
SQLAlchemy `before_cursor_execute` hook), the time in named components (cumulative, so
nested components overlap) and the top functions. cProfile by default (its per-call
overhead inflates call-heavy code such as SQLAlchemy); `--pyinstrument` uses the sampling
profiler instead when it is installed (it is not a project dependency).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import pstats
import re
import shutil
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy import event

from bench import iub, runner
from bench.measure import Clock
from bench.workloads import workload
from iubledger.cli.events import BATCH
from iubledger.schemas.base import Rejected
from iubledger.services import append, reports
from iubledger.services.integrity import verify
from iubledger.store.ledger import Ledger

#: (label, file name ends with, function name): cumulative time of each is reported.
COMPONENTS = {
    "batch": [
        ("append.batch (everything)", "services/append.py", "batch"),
        ("validation (pydantic validate_json)", "pydantic/type_adapter.py", "validate_json"),
        ("client-id key (keyed BLAKE2b)", "services/append.py", "_klient_nyckel"),
        ("idempotency look-ups (one per batch)", "store/batch.py", "stored_results"),
        ("participation versions (one per batch)", "store/batch.py", "stored_versions"),
        ("Merkle lock + frontier (UPDATE … RETURNING)", "integrity/log.py", "lock"),
        ("one line checked and staged (_stage)", "services/append.py", "_stage"),
        ("decision lookup (in_force)", "decisions/index.py", "in_force"),
        ("participation (_participation)", "services/append.py", "_participation"),
        ("  cache look-up or Repository.get", "eventsourcing/application.py", "get"),
        ("policy layer (regimes.apply)", "policies/regimes.py", "apply"),
        ("subject keys to keystore (one transaction)", "iubledger/store/keys.py", "persist"),
        ("write (save + Merkle + checkpoint, once)", "store/ledger.py", "write"),
        ("  Application.save", "eventsourcing/application.py", "save"),
        (
            "    mapper.to_stored_event (JSON + cipher)",
            "eventsourcing/persistence.py",
            "to_stored_event",
        ),
        ("      at-rest cipher encrypt", "store/cipher.py", "encrypt"),
        (
            "    recorder insert (ORM add + flush)",
            "eventsourcing_sqlalchemy/recorders.py",
            "insert_events",
        ),
        ("  Merkle extend", "integrity/log.py", "extend"),
        ("  checkpoint due / sign", "store/ledger.py", "sign_if_due"),
        ("Session.execute (all SQLAlchemy statements)", "sqlalchemy/orm/session.py", "execute"),
        ("transaction exit (commit, fsync)", "eventsourcing_sqlalchemy/datastore.py", "__exit__"),
    ],
    "rebuild": [
        ("catch_up (everything)", "projections/runner.py", "catch_up"),
        (
            "select_notifications (ORM query)",
            "eventsourcing_sqlalchemy/recorders.py",
            "select_notifications",
        ),
        ("to_domain_event (decrypt + JSON)", "eventsourcing/persistence.py", "to_domain_event"),
        ("  at-rest cipher decrypt", "store/cipher.py", "decrypt"),
        ("Participation.apply (fold + upserts)", "projections/deltagande.py", "apply"),
        ("  add_counts upsert", "projections/upsert.py", "add_counts"),
        ("  insert_ignore", "projections/upsert.py", "insert_ignore"),
        ("transaction exit (commit)", "eventsourcing_sqlalchemy/datastore.py", "__exit__"),
    ],
    "verify": [
        ("verify (everything)", "integrity/verify.py", "verify"),
        ("_raw_page (Core select)", "integrity/verify.py", "_raw_page"),
        ("to_domain_event (decrypt + JSON)", "eventsourcing/persistence.py", "to_domain_event"),
        ("  at-rest cipher decrypt", "store/cipher.py", "decrypt"),
        ("leaf_of (record bytes + SHA-256)", "integrity/log.py", "leaf_of"),
        ("CompactRange.append", "integrity/merkle.py", "append"),
        ("_notification", "integrity/verify.py", "_notification"),
    ],
}
COMPONENTS["append"] = COMPONENTS["batch"]


def _kind(statement: str) -> str:
    """'SELECT iub_klient_id' style label of a SQL statement."""
    s = " ".join(statement.split())
    verb = s.split(" ", 1)[0].upper()
    table = None
    for pattern in (r"\bINTO\s+(\w+)", r"^UPDATE\s+(\w+)", r"\bFROM\s+(\w+)"):
        m = re.search(pattern, s, re.IGNORECASE)
        if m:
            table = m.group(1)
            break
    return f"{verb} {table}" if table else verb


class Statements:
    def __init__(self, engine: Any) -> None:
        self.kinds: Counter[str] = Counter()
        self.active = False
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        if self.active:
            self.kinds[_kind(statement)] += 1


def _profiled(fn: Callable[[], Any], use_pyinstrument: bool) -> tuple[Any, Any, Clock]:
    if use_pyinstrument:
        from pyinstrument import Profiler

        prof = Profiler(interval=0.0005)
        with Clock() as clock:
            prof.start()
            result = fn()
            prof.stop()
        return result, prof, clock
    prof = cProfile.Profile()
    with Clock() as clock:
        result = prof.runcall(fn)
    return result, prof, clock


def _components(prof: cProfile.Profile, path: str, wall: float) -> list[tuple[str, float, int]]:
    stats = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    total = max((ct for (_, _, _, ct, _) in stats.values()), default=wall)
    out = []
    for label, suffix, name in COMPONENTS[path]:
        ct = 0.0
        calls = 0
        for (filename, _, funcname), (_, nc, _, cum, _) in stats.items():
            # the largest match: one file may hold several functions of that name
            if funcname == name and filename.endswith(suffix) and cum > ct:
                ct, calls = cum, nc
        out.append((label, ct / total if total else 0.0, calls))
    return out


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.profile")
    p.add_argument("path", choices=["batch", "append", "rebuild", "verify"])
    p.add_argument("--size", type=int, default=10000)
    p.add_argument("--sample", type=int, default=2000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--pyinstrument", action="store_true")
    args = p.parse_args(argv)

    w = workload(args.size, args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="iubledger-profile-"))
    try:
        if args.path in ("batch", "append"):
            data = str(tmp / "data")
            iub.init_store(data, None)
        else:
            data = runner.cached_store(w)["data_dir"]
        ledger = Ledger(iub.settings(data, None))
        counter = Statements(ledger.recorder.datastore.engine)  # type: ignore[attr-defined]
        with open(w.path, encoding="utf-8") as f:
            lines = [line for line in f if line.strip()]
        events = len(lines)

        if args.path == "batch":

            def fn() -> Any:
                it = iter(lines)
                while chunk := list(islice(it, BATCH)):
                    append.batch(ledger, chunk)

        elif args.path == "append":
            preload = len(lines) - args.sample
            it = iter(lines[:preload])
            while chunk := list(islice(it, BATCH)):
                append.batch(ledger, chunk)
            events = args.sample

            def fn() -> Any:
                for line in lines[preload:]:
                    with contextlib.suppress(Rejected):
                        append.event(ledger, line)

        elif args.path == "rebuild":

            def fn() -> Any:
                return reports.rebuild(ledger)

        else:

            def fn() -> Any:
                return verify(ledger, None)

        counter.active = True
        _, prof, clock = _profiled(fn, args.pyinstrument)
        counter.active = False
        ledger.close()

        print(f"path: {args.path}  events: {events:,}  workload: {w.path}")
        print(
            f"wall {clock.seconds:.2f} s, CPU {clock.cpu_seconds:.2f} s (profiler overhead "
            "included)"
        )
        total = sum(counter.kinds.values())
        print(f"\nSQL statements: {total:,} ({total / events:.2f} per event)")
        for kind, n in counter.kinds.most_common(20):
            print(f"  {n / events:7.3f}/event  {n:9,}  {kind}")
        if args.pyinstrument:
            print(prof.output_text(unicode=False, color=False, show_all=False))
            return 0
        print("\ncomponents (cumulative share of profiled time; nested ones overlap):")
        for label, share, calls in _components(prof, args.path, clock.seconds):
            print(f"  {share * 100:5.1f}%  {calls:9,} calls  {label}")
        if args.top <= 0:
            return 0
        print(f"\ntop {args.top} by cumulative time:")
        stats = pstats.Stats(prof, stream=sys.stdout)
        stats.sort_stats("cumulative").print_stats(args.top)
        print(f"top {args.top} by own time:")
        stats.sort_stats("tottime").print_stats(args.top)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
