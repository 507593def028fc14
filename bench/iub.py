"""iubledger side of the benchmarks: each function is one measured run in a worker process.

A store is set up as the command line does it (`resolve`, `KeyStore.init`, `Ledger`,
`import_decisions` of the shipped catalog); setting up is never timed.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import select, text

from bench.measure import Clock, rss_mb
from bench.workloads import CATALOG
from iubledger import catalogs
from iubledger.cli.events import BATCH
from iubledger.config import Settings, resolve
from iubledger.schemas.base import Rejected
from iubledger.services import append, decisions, reports
from iubledger.services.integrity import verify
from iubledger.store import tables
from iubledger.store.keys import KeyStore
from iubledger.store.ledger import Ledger


def settings(data_dir: str, db_url: str | None) -> Settings:
    return resolve(data_dir, db_url)


def init_store(data_dir: str, db_url: str | None) -> None:
    """`iubledger init` + `iubledger decisions import --catalog alingsas`."""
    s = settings(data_dir, db_url)
    s.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    keys = KeyStore(s.key_dir)
    keys.init()
    keys.close()
    ledger = Ledger(s)
    try:
        decisions.import_files(ledger, [(f"catalog {CATALOG}", catalogs.read(CATALOG))])
    finally:
        ledger.close()


def _chunks(lines: Iterable[str], size: int) -> Iterator[list[str]]:
    chunk: list[str] = []
    for line in lines:
        if not line.strip():
            continue
        chunk.append(line)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _tally(results: Iterable[Any], refused: Counter[str]) -> int:
    ok = 0
    for r in results:
        if isinstance(r, dict):
            ok += 1
        elif isinstance(r, Rejected):
            refused[r.problems[0].code] += 1
        else:
            refused[type(r).__name__] += 1
    return ok


def record_count(ledger: Ledger) -> int:
    table = ledger.recorder.events_record_cls.__table__.name  # type: ignore[attr-defined]
    with ledger.transaction() as session:
        return int(session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def batch_import(
    workload: str, data_dir: str, db_url: str | None, batch: int = BATCH, init: bool = True
) -> dict[str, Any]:
    """(b) `iubledger append FILE`: the JSON Lines file read and appended `batch` lines per
    transaction with `append_batch` (each line atomic), as the command does."""
    if init:
        init_store(data_dir, db_url)
    ledger = Ledger(settings(data_dir, db_url))
    try:
        before = record_count(ledger)
        refused: Counter[str] = Counter()
        lines = ok = 0
        with Clock() as clock, open(workload, encoding="utf-8") as f:
            for chunk in _chunks(f, batch):
                ok += _tally(append.batch(ledger, chunk), refused)
                lines += len(chunk)
        records = record_count(ledger) - before
    finally:
        ledger.close()
    return {
        "events": lines,
        "accepted": ok,
        "refused": dict(refused),
        "records": records,
        "batch": batch,
        **clock.as_json(),
        "events_per_s": lines / clock.seconds,
    }


def single_append(
    workload: str, data_dir: str, db_url: str | None, preload: int, sample: int
) -> dict[str, Any]:
    """(a) `services.append.event` one event per transaction, for lines preload+1 … preload+sample
    of the workload, after the first `preload` lines were appended in batches (untimed)."""
    init_store(data_dir, db_url)
    with open(workload, encoding="utf-8") as f:
        lines = [line for line in f if line.strip()]
    if len(lines) < preload + sample:
        raise SystemExit(f"the workload has {len(lines)} lines; needs {preload + sample}")
    ledger = Ledger(settings(data_dir, db_url))
    try:
        refused: Counter[str] = Counter()
        for chunk in _chunks(lines[:preload], BATCH):
            _tally(append.batch(ledger, chunk), refused)
        before = record_count(ledger)
        results: list[Any] = []
        with Clock() as clock:
            for line in lines[preload : preload + sample]:
                try:
                    results.append(append.event(ledger, line))
                except Rejected as e:
                    results.append(e)
        refused_sample: Counter[str] = Counter()
        ok = _tally(results, refused_sample)
        records = record_count(ledger) - before
    finally:
        ledger.close()
    return {
        "events": sample,
        "first_line": preload + 1,
        "preload": preload,
        "preload_refused": dict(refused),
        "accepted": ok,
        "refused": dict(refused_sample),
        "records": records,
        "transactions": sample,
        **clock.as_json(),
        "events_per_s": sample / clock.seconds,
    }


def rebuild(data_dir: str, db_url: str | None) -> dict[str, Any]:
    """(c) `services.reports.rebuild()`: the projection tables dropped and rebuilt from
    the whole log."""
    ledger = Ledger(settings(data_dir, db_url))
    try:
        with Clock() as clock:
            processed = reports.rebuild(ledger)
    finally:
        ledger.close()
    return {"records": processed, **clock.as_json(), "events_per_s": processed / clock.seconds}


def run_verify(data_dir: str, db_url: str | None) -> dict[str, Any]:
    """(d) `verify(ledger, None)`: the whole log recomputed, every record opened."""
    ledger = Ledger(settings(data_dir, db_url))
    try:
        rss_open = rss_mb()
        with Clock() as clock:
            result = verify(ledger, None)
    finally:
        ledger.close()
    return {
        "ok": result.ok,
        "records": result.records,
        "checkpoints_checked": result.checkpoints_checked,
        "findings": len(result.findings),
        "rss_after_open_mb": rss_open,
        "rss_peak_self_mb": rss_mb(),
        **clock.as_json(),
        "events_per_s": result.records / clock.seconds,
    }


def mirror(data_dir: str, db_url: str | None, out: str) -> dict[str, Any]:
    """What the bare baseline must store to match this store: for each accepted input line,
    in order, the records it added as (aggregate number, version, stored state bytes).
    The nämnd's decision records (stored before the first line) are left out."""
    ledger = Ledger(settings(data_dir, db_url))
    try:
        table = ledger.recorder.events_record_cls.__table__.name  # type: ignore[attr-defined]
        with ledger.transaction() as session:
            rows = session.execute(
                text(
                    f"SELECT originator_id, originator_version, length(state) FROM {table} "
                    "ORDER BY id"
                )
            ).all()
            starts = sorted(
                json.loads(r)["position"]
                for r in session.execute(select(tables.klient_id.c.resultat)).scalars()
            )
    finally:
        ledger.close()
    numbers: dict[Any, int] = {}
    groups: list[list[tuple[int, int, int]]] = []
    bounds = [*starts, len(rows)]
    for a, b in itertools.pairwise(bounds):
        group = []
        for oid, version, size in rows[a:b]:
            number = numbers.setdefault(oid, len(numbers))
            group.append((number, int(version), int(size)))
        groups.append(group)
    Path(out).write_text(json.dumps({"groups": groups}), encoding="utf-8")
    sizes = [s for g in groups for _, _, s in g]
    new = sum(1 for g in groups for _, v, _ in g if v == 1)
    return {
        "lines": len(groups),
        "records": len(sizes),
        "decision_records": starts[0] if starts else len(rows),
        "aggregates": len(numbers),
        "new_aggregate_records": new,
        "follow_up_records": len(sizes) - new,
        "state_bytes_mean": sum(sizes) / len(sizes) if sizes else 0,
        "state_bytes_min": min(sizes, default=0),
        "state_bytes_max": max(sizes, default=0),
    }
