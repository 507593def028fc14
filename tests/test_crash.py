"""Crash safety and database faults, on SQLite and on PostgreSQL.

Crashes: a worker process appends a simulated stream (single lines and batches), runs
the projection (every third trial from zero, in small pages) and signs checkpoints, and
is killed with SIGKILL after a random delay (fixed seeds). It writes every acknowledged
result to a file, flushed and fsynced, before going on, so the test knows what was
acknowledged. After each kill the store is opened again and must hold: `verify` passes;
every acknowledged event is stored, at the log position its result named; nothing is half
written (every stored line has its client-id row and its event, every event its Merkle
leaf, a ledger-added referral its villkorskontroll); the projection catches up to exactly
the counts of the stored events; sending the lines again returns the acknowledged results
unchanged (client ids are idempotent across the crash) and stores the rest once.

Faults: the database goes away in the middle of a batch (PostgreSQL: the server is
stopped; SQLite: the disk fails under a write). The batch raises a clear error and stores
nothing of itself; the command line says so without a traceback; once the database is
back, the same process and a new one carry on.

The workers are this file run as a script (`python test_crash.py SPEC`).
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import InterfaceError, OperationalError
from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from conftest import resent
from iubledger import catalogs
from iubledger.cli import app
from iubledger.config import resolve
from iubledger.projections import runner
from iubledger.projections.deltagande import Participation, matt
from iubledger.schemas.beslut import BeslutsFil
from iubledger.services import append, decisions, integrity, reports
from iubledger.services.integrity import verify
from iubledger.simulate import main_lines
from iubledger.store import tables
from iubledger.store.keys import KeyStore
from iubledger.store.ledger import Ledger
from postgres import Cluster, bin_dir_or_skip, start_cluster

CATALOG = "alingsas"
STREAM = (date(2025, 10, 1), date(2025, 10, 31))
SEED = 5
SCALE = 0.4
TRIALS = 12
LINES_PER_TRIAL = 25
CHECKPOINT_EVERY = 4
KILL_AFTER = (0.01, 0.3)  # seconds of work before SIGKILL
REBUILD_PAGE = 20  # every third trial starts by rebuilding the projection in small pages


def stream() -> list[str]:
    fil = BeslutsFil.model_validate_json(catalogs.read(CATALOG))
    return list(main_lines(fil, *STREAM, seed=SEED, scale=SCALE))


# -- the worker process ------------------------------------------------------------------------


def worker(spec: dict[str, Any]) -> None:
    """Work through the lines until killed: singles, batches, projection runs and checkpoint
    signing in a random order; every acknowledged result is on disk before the next step."""
    rng = random.Random(spec["seed"])
    lines: list[tuple[int, str]] = [(i, line) for i, line in spec["lines"]]
    ledger = Ledger(resolve(spec["data_dir"], spec["url"]))
    acks = open(spec["acks"], "a", encoding="utf-8")  # noqa: SIM115

    def ack(i: int, result: Any) -> None:
        if isinstance(result, dict):
            acks.write(json.dumps({"i": i, "result": result}) + "\n")
            acks.flush()
            os.fsync(acks.fileno())

    Path(spec["ready"]).touch()
    if spec["rebuild"]:
        runner.catch_up(ledger, Participation(), ledger.transaction, page=REBUILD_PAGE)
    k = 0
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # killed long before
        roll = rng.random()
        if roll < 0.15:
            reports.project(ledger)
        elif roll < 0.25:
            integrity.checkpoint(ledger)
        elif k < len(lines) and roll < 0.6:
            i, line = lines[k]
            ack(i, append.event(ledger, line))
            k += 1
        elif k < len(lines):
            chunk = lines[k : k + rng.randint(2, 8)]
            for (i, _), r in zip(chunk, append.batch(ledger, [x for _, x in chunk]), strict=True):
                ack(i, r)
            k += len(chunk)
    ledger.close()


def run_and_kill(spec: dict[str, Any], delay: float, tmp: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IUBLEDGER_")}
    env["IUBLEDGER_CHECKPOINT_EVERY"] = str(CHECKPOINT_EVERY)
    ready = tmp / "ready"
    ready.unlink(missing_ok=True)
    spec["ready"] = str(ready)
    proc = subprocess.Popen(
        [sys.executable, __file__, json.dumps(spec)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not ready.exists():
            assert proc.poll() is None, proc.communicate()[0]
            assert time.monotonic() < deadline, "the worker did not start"
            time.sleep(0.005)
        time.sleep(delay)
        assert proc.poll() is None, f"the worker stopped by itself: {proc.communicate()[0]}"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        assert proc.returncode == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def read_acks(path: Path) -> dict[int, dict[str, Any]]:
    """Acknowledged results; a line the kill cut off was never acknowledged."""
    out: dict[int, dict[str, Any]] = {}
    if path.exists():
        for line in path.read_text().splitlines(keepends=True):
            if line.endswith("\n"):
                row = json.loads(line)
                out[row["i"]] = row["result"]
    return out


# -- what a store must hold after a crash ------------------------------------------------------


def _key(event_id: str) -> tuple[str, int]:
    agg, _, version = event_id.partition("/")
    return agg, int(version)


def post_counts(posts: list[dict[str, Any]]) -> Counter[tuple[str, str, str]]:
    """(insats, measure, value) -> count, straight from the stored posts."""
    out: Counter[tuple[str, str, str]] = Counter()
    for p in posts:
        i, t = p["insats"], p["type"]
        out[(i, "beslutsversion", str(p["beslut"]["version"]))] += 1
        if t in ("kontakt", "start", "avslut", "hanvisning", "handelse"):
            out[(i, t, "")] += 1
        elif t == "villkorskontroll":
            out[(i, "villkor", p["utfall"])] += 1
        elif t == "avbrott":
            out[(i, "avbrott", p["orsak"])] += 1
        elif t == "tillfalle" and "grupp" in p:
            out[(i, "tillfalle", "grupp")] += 1
            for g in p["grupp"]:
                out[(i, "narvaro", f"{g['kon']}|{g['aldersgrupp']}")] += g["antal"]
        elif t == "tillfalle":
            out[(i, "tillfalle", "individ")] += 1
    return out


MEASURES = {"beslutsversion", "kontakt", "villkor", "start", "tillfalle", "narvaro"} | {
    "avbrott",
    "avslut",
    "hanvisning",
    "handelse",
}


def projected_counts(ledger: Ledger) -> Counter[tuple[str, str, str]]:
    out: Counter[tuple[str, str, str]] = Counter()
    with ledger.transaction() as session:
        for r in session.execute(select(matt.c.insats, matt.c.matt, matt.c.varde, matt.c.antal)):
            if r.matt in MEASURES:
                out[(r.insats, r.matt, r.varde)] += r.antal
    return out


def check_store(ledger: Ledger, acked: dict[int, dict[str, Any]]) -> int:
    """Everything a crash must leave intact; returns the number of stored lines."""
    result = verify(ledger)
    assert result.ok, result.findings[:3]
    assert result.records == result.logged

    positions: dict[tuple[str, int], int] = {}
    posts: dict[tuple[str, int], dict[str, Any]] = {}
    for position, ev in ledger.records():
        key = (str(ev.originator_id), ev.originator_version)
        positions[key] = position
        if isinstance(getattr(ev, "post", None), dict):
            posts[key] = ev.post
    for r in acked.values():
        assert positions.get(_key(r["event_id"])) == r["position"], r

    # Every stored line: one client-id row whose result names a stored event, and the
    # referral the ledger adds to an unclear villkorskontroll is there with it.
    with ledger.transaction() as session:
        results = [json.loads(r) for (r,) in session.execute(select(tables.klient_id.c.resultat))]
    for r in results:
        assert _key(r["event_id"]) in positions, r
    # The referral is the record right after its check (same commit; under 14 kap. 5 § a
    # record of its own, otherwise the participation's next version).
    at = {positions[k]: p for k, p in posts.items()}
    added = [pos for pos, p in at.items() if p.get("orsak") == "villkor_oklart"]
    for pos in added:
        assert at[pos - 1].get("utfall") == "oklart"
    for pos, p in at.items():
        if p["type"] == "villkorskontroll" and p["utfall"] == "oklart":
            assert at.get(pos + 1, {}).get("orsak") == "villkor_oklart"
    assert len(results) == len(posts) - len(added)

    # The projection: whatever the crash interrupted, catching up gives exactly the counts
    # of the stored posts, and its position is the last record.
    reports.project(ledger)
    assert projected_counts(ledger) == post_counts(list(posts.values()))
    batch = ledger.recorder.select_notifications(0, 10**7, inclusive_of_start=False)
    last_id = batch[-1].id if batch else 0
    with ledger.transaction() as session:
        tracked = session.execute(select(runner.tracking.c.notifikation)).scalar()
    assert tracked == last_id
    return len(results)


@pytest.fixture
def opened(backend_store: Any) -> Iterator[tuple[Any, Ledger]]:
    ledger = Ledger(backend_store.settings)
    try:
        decisions.import_files(ledger, [(CATALOG, catalogs.read(CATALOG))])
        yield backend_store, ledger
    finally:
        ledger.close()


def test_killed_workers_leave_a_whole_store(opened: tuple[Any, Ledger], tmp_path: Path) -> None:
    store, ledger = opened
    lines = stream()
    assert len(lines) >= TRIALS * LINES_PER_TRIAL
    acks_file = tmp_path / "acks.jsonl"
    everything: dict[int, dict[str, Any]] = {}
    for trial in range(TRIALS):
        rng = random.Random(f"crash/{trial}")
        part = list(enumerate(lines))[trial * LINES_PER_TRIAL : (trial + 1) * LINES_PER_TRIAL]
        spec = {
            "data_dir": str(store.data_dir),
            "url": store.url,
            "lines": part,
            "acks": str(acks_file),
            "seed": trial,
            "rebuild": trial % 3 == 1,
        }
        if spec["rebuild"]:
            runner.reset(Participation(), ledger.transaction)
        run_and_kill(spec, rng.uniform(*KILL_AFTER), tmp_path)
        acked = read_acks(acks_file)

        stored = check_store(ledger, acked)
        # Send the trial's lines again, as a client that lost its connection would.
        again = {i: append.event(ledger, line) for i, line in part}
        for i in acked.keys() & again.keys():
            assert resent(again[i], acked[i]), "a client id gave another result after the crash"
        everything.update(again)
        assert stored <= check_store(ledger, acked) == len(everything)

    event_ids = [r["event_id"] for r in everything.values()]
    assert len(set(event_ids)) == len(event_ids) == TRIALS * LINES_PER_TRIAL


# -- database faults ---------------------------------------------------------------------------


def _count(ledger: Ledger) -> int:
    with ledger.transaction() as session:
        return int(session.execute(select(func.count()).select_from(tables.klient_id)).scalar())


class DiskFault:
    """SQLite: every insert into the event table fails with a disk I/O error while on."""

    on = False

    def __call__(self, cursor: Any, statement: str, *args: Any) -> bool:
        if self.on and statement.startswith("INSERT INTO iubledger_events"):
            raise sqlite3.OperationalError("disk I/O error")
        return False  # not handled: the driver executes the statement


@pytest.fixture
def disk_fault() -> Iterator[DiskFault]:
    fault = DiskFault()
    hooks = ("do_execute", "do_executemany")  # the records are inserted by executemany
    for hook in hooks:
        event.listen(Engine, hook, fault)
    try:
        yield fault
    finally:
        for hook in hooks:
            event.remove(Engine, hook, fault)


@pytest.fixture(scope="module")
def own_cluster() -> Iterator[Cluster]:
    """A cluster of this module's own, since these tests stop and start it."""
    cluster = start_cluster(bin_dir_or_skip())
    try:
        yield cluster
    finally:
        cluster.destroy()


def _fault_store(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> tuple[Path, str, Any]:
    data_dir = tmp_path / "d"
    KeyStore(data_dir / "keys").init()
    if backend == "sqlite":
        return data_dir, resolve(str(data_dir)).database_url, request.getfixturevalue("disk_fault")
    cluster: Cluster = request.getfixturevalue("own_cluster")
    return data_dir, cluster.url(cluster.new_database()), cluster


def _break(backend: str, fault: Any) -> None:
    if backend == "sqlite":
        fault.on = True
    else:
        fault.stop("fast")


def _mend(backend: str, fault: Any) -> None:
    if backend == "sqlite":
        fault.on = False
    else:
        fault.start()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_database_gone_mid_batch_stores_nothing_of_it_and_work_goes_on(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("IUBLEDGER_DATA_DIR", "IUBLEDGER_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    data_dir, url, fault = _fault_store(backend, tmp_path, request)
    lines = stream()[:60]
    ledger = Ledger(resolve(str(data_dir), url))
    try:
        decisions.import_files(ledger, [(CATALOG, catalogs.read(CATALOG))])
        assert all(isinstance(r, dict) for r in append.batch(ledger, lines[:20]))
        before = _count(ledger)

        # The database goes away after the third line of the next batch has been written.
        original = append._stage
        calls = Counter[str]()

        def stage(*args: Any, **kw: Any) -> Any:
            calls["n"] += 1
            if calls["n"] == 4:
                _break(backend, fault)
            return original(*args, **kw)

        monkeypatch.setattr(append, "_stage", stage)
        with pytest.raises((OperationalError, InterfaceError)):
            append.batch(ledger, lines[20:40])
        monkeypatch.undo()

        _mend(backend, fault)
        assert _count(ledger) == before, "a part of the failed batch was stored"
        again = append.batch(ledger, lines[20:40])  # the same process carries on
        refused = [r for r in again if not isinstance(r, dict)]
        assert not refused, refused
        assert _count(ledger) == before + 20
        assert verify(ledger).ok
    finally:
        ledger.close()

    # The command line: a clear error, no traceback, nothing of the batch stored; then on.
    path = tmp_path / "more.jsonl"
    path.write_text("\n".join(lines[40:60]) + "\n")
    args = ["--data-dir", str(data_dir), "--db", url, "append", str(path)]
    _break(backend, fault)
    try:
        result = CliRunner().invoke(app, args)
    finally:
        _mend(backend, fault)
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert "(databas): the database is unavailable" in " ".join(result.output.split())
    assert '"ok": true' not in result.output

    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert result.output.count('"ok": true') == 20
    ledger = Ledger(resolve(str(data_dir), url))
    try:
        assert _count(ledger) == before + 40
        assert verify(ledger).ok
    finally:
        ledger.close()


def test_an_idle_process_carries_on_after_a_postgresql_restart(
    own_cluster: Cluster, tmp_path: Path
) -> None:
    """A long-running process (the API server) whose pooled connections died with the
    server: its next operations succeed, none fails on a dead connection."""
    data_dir = tmp_path / "d"
    KeyStore(data_dir / "keys").init()
    ledger = Ledger(resolve(str(data_dir), own_cluster.url(own_cluster.new_database())))
    try:
        decisions.import_files(ledger, [(CATALOG, catalogs.read(CATALOG))])
        lines = stream()[:10]
        assert all(isinstance(r, dict) for r in append.batch(ledger, lines[:5]))
        own_cluster.stop("fast")
        own_cluster.start()
        assert isinstance(append.event(ledger, lines[5]), dict)
        assert all(isinstance(r, dict) for r in append.batch(ledger, lines[6:]))
        assert verify(ledger).ok
    finally:
        ledger.close()


def test_a_database_that_does_not_exist_is_a_clear_error(
    own_cluster: Cluster, tmp_path: Path
) -> None:
    data_dir = tmp_path / "d"
    missing = own_cluster.url("no_such_database")
    result = CliRunner().invoke(app, ["--data-dir", str(data_dir), "--db", missing, "init"])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert 'database "no_such_database" does not exist' in " ".join(result.output.split())


if __name__ == "__main__":
    worker(json.loads(sys.argv[1]))
