"""Several OS processes append to one store at once, on SQLite (WAL) and on PostgreSQL.

Appenders each take their own participations of a simulated stream (so no line waits for
another process's line), in single appends and batches, and now and then sign a checkpoint
or run the projection. Two more processes hammer ONE participation with follow-ups at the
same time: each writer takes the log's lock before it reads the participation, so neither
writes from a stale version (the unique (aggregate, version) would refuse it).

Afterwards: every line was stored, none refused or failed; every result names an event
that is stored exactly once, at the log position the result gave, and sending it again
gives the same result and stores nothing; `verify` passes (every record's Merkle leaf at its
position in notification order, every checkpoint's root); consecutive checkpoints are
consistent; the projection's counts equal the counts computed from the input.

The workers are this file run as a script (`python test_concurrency.py SPEC`).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import sqlite3
import subprocess
import sys
import time
import traceback
import uuid
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select

from conftest import resent
from iubledger import catalogs
from iubledger.config import resolve
from iubledger.integrity import checkpoints
from iubledger.integrity.merkle import verify_consistency
from iubledger.projections.deltagande import matt
from iubledger.schemas.base import Rejected
from iubledger.schemas.beslut import BeslutsFil
from iubledger.services import append, decisions, integrity, reports
from iubledger.services.integrity import verify
from iubledger.simulate import main_lines
from iubledger.store.ledger import Ledger

CATALOG = "alingsas"
STREAM = (date(2025, 10, 1), date(2025, 11, 14))
SEED = 11
SCALE = 0.5
APPENDERS = 3
HAMMERS = 2
HAMMER_LINES = 25
CHECKPOINT_EVERY = 10
DEADLINE = 90  # seconds for all workers together; they take a few


# -- the input ---------------------------------------------------------------------------------


def stream() -> list[dict[str, Any]]:
    fil = BeslutsFil.model_validate_json(catalogs.read(CATALOG))
    return [json.loads(line) for line in main_lines(fil, *STREAM, seed=SEED, scale=SCALE)]


def chains(events: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The stream cut into participations: an opening event and the follow-ups that name it
    (`oppnad_av`), in order. A group session is a chain of its own."""
    out: dict[str, list[dict[str, Any]]] = {}
    for e in events:
        out.setdefault(e.get("oppnad_av") or e["id"], []).append(e)
    return list(out.values())


def hammer_target(parts: list[list[dict[str, Any]]]) -> tuple[int, int]:
    """(chain, index of its start): a participation that starts and then has sessions."""
    for n, chain in enumerate(parts):
        types = [e["type"] for e in chain]
        if "start" in types and types.count("tillfalle") >= 2:
            return n, types.index("start")
    raise AssertionError("the stream has no started participation")


def follow_up(opening: dict[str, Any], datum: str, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    return {
        "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "type": "tillfalle",
        "insats": opening["insats"],
        "utforare": opening["utforare"],
        "datum": datum,
        "oppnad_av": opening["id"],
    }


def expected_counts(events: list[dict[str, Any]]) -> Counter[tuple[str, str, str]]:
    """(insats, measure, value) -> count, from the input alone: one decision-version count
    per stored post, and per type what the participation projection keeps. A villkorskontroll
    with utfall `oklart` makes the ledger add a referral (11 kap. 5 § SoL)."""
    out: Counter[tuple[str, str, str]] = Counter()
    for e in events:
        i, t = e["insats"], e["type"]
        out[(i, "beslutsversion", "1")] += 1
        if t == "kontakt":
            out[(i, "kontakt", "")] += 1
        elif t == "villkorskontroll":
            out[(i, "villkor", e["utfall"])] += 1
            if e["utfall"] == "oklart":
                out[(i, "hanvisning", "")] += 1
                out[(i, "beslutsversion", "1")] += 1
        elif t == "start":
            out[(i, "start", "")] += 1
        elif t == "tillfalle" and "grupp" in e:
            out[(i, "tillfalle", "grupp")] += 1
            for g in e["grupp"]:
                out[(i, "narvaro", f"{g['kon']}|{g['aldersgrupp']}")] += g["antal"]
        elif t == "tillfalle":
            out[(i, "tillfalle", "individ")] += 1
        elif t == "avbrott":
            out[(i, "avbrott", e["orsak"])] += 1
        elif t == "avslut":
            out[(i, "avslut", "")] += 1
        elif t in ("hanvisning", "handelse"):
            out[(i, t, "")] += 1
    return out


KEPT = {"beslutsversion", "kontakt", "villkor", "start", "tillfalle", "narvaro"} | {
    "avbrott",
    "avslut",
    "hanvisning",
    "handelse",
}


def projected_counts(ledger: Ledger) -> Counter[tuple[str, str, str]]:
    out: Counter[tuple[str, str, str]] = Counter()
    with ledger.transaction() as session:
        for r in session.execute(select(matt.c.insats, matt.c.matt, matt.c.varde, matt.c.antal)):
            if r.matt in KEPT:
                out[(r.insats, r.matt, r.varde)] += r.antal
    return out


# -- the worker process ------------------------------------------------------------------------


def _wait_for(go: Path) -> None:
    while not go.exists():
        time.sleep(0.002)


def opener(spec: dict[str, Any]) -> None:
    """Open a ledger on a database nobody has opened yet, at the same moment as others."""
    Path(spec["ready"]).touch()
    _wait_for(Path(spec["go"]))
    Ledger(resolve(spec["data_dir"], spec["url"])).close()


def worker(spec: dict[str, Any]) -> None:
    """Append `spec['lines']` (singles and batches, in order), now and then checkpoint or
    project; write one outcome line per input line to `spec['out']`."""
    rng = random.Random(spec["seed"])
    lines: list[tuple[int, dict[str, Any]]] = [tuple(x) for x in spec["lines"]]  # type: ignore[misc]
    ledger = Ledger(resolve(spec["data_dir"], spec["url"]))
    out = open(spec["out"], "w", encoding="utf-8")  # noqa: SIM115
    Path(spec["ready"]).touch()
    _wait_for(Path(spec["go"]))

    def record(i: int, outcome: Any) -> None:
        if isinstance(outcome, dict):
            row = {"i": i, "ok": True, "result": outcome}
        elif isinstance(outcome, Rejected):
            row = {"i": i, "ok": False, "error": "rejected", "code": outcome.problems[0].code}
        else:
            row = {"i": i, "ok": False, "error": type(outcome).__name__, "text": str(outcome)}
        out.write(json.dumps(row) + "\n")
        out.flush()

    try:
        k = 0
        while k < len(lines):
            if rng.random() < 0.5:
                i, e = lines[k]
                try:
                    record(i, append.event(ledger, e))
                except Exception as err:
                    record(i, err)
                k += 1
            else:
                chunk = lines[k : k + rng.randint(2, 12)]
                try:
                    results: list[Any] = append.batch(ledger, [e for _, e in chunk])
                except Exception as err:
                    results = [err] * len(chunk)
                for (i, _), r in zip(chunk, results, strict=True):
                    record(i, r)
                k += len(chunk)
            roll = rng.random()
            if roll < 0.06:
                integrity.checkpoint(ledger)
            elif roll < 0.12:
                reports.project(ledger)
    except BaseException:
        out.write(json.dumps({"crash": traceback.format_exc()}) + "\n")
        raise
    finally:
        out.close()
        ledger.close()


# -- the test ----------------------------------------------------------------------------------


def run_workers(specs: list[dict[str, Any]], tmp: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IUBLEDGER_")}
    env["IUBLEDGER_CHECKPOINT_EVERY"] = str(CHECKPOINT_EVERY)
    go = tmp / "go"
    procs = []
    for n, spec in enumerate(specs):
        spec.update(go=str(go), ready=str(tmp / f"ready-{n}"))
        procs.append(
            subprocess.Popen(
                [sys.executable, __file__, json.dumps(spec)],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        )
    deadline = time.monotonic() + DEADLINE
    try:
        while not all((tmp / f"ready-{n}").exists() for n in range(len(specs))):
            assert time.monotonic() < deadline, "the workers did not start"
            assert all(p.poll() is None for p in procs), [p.communicate()[0] for p in procs]
            time.sleep(0.01)
        go.touch()  # all at once
        for p in procs:
            output, _ = p.communicate(timeout=max(1.0, deadline - time.monotonic()))
            assert p.returncode == 0, output
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()


def _key(event_id: str) -> tuple[str, int]:
    agg, _, version = event_id.partition("/")
    return agg, int(version)


def outcomes(specs: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    for spec in specs:
        for line in Path(spec["out"]).read_text().splitlines():
            row = json.loads(line)
            assert "crash" not in row, row["crash"]
            assert row["i"] not in out, "two outcomes for one line"
            out[row["i"]] = row
    return out


def test_processes_appending_at_once_lose_and_double_nothing(
    backend_store: Any, tmp_path: Path
) -> None:
    ledger = Ledger(backend_store.settings)
    try:
        decisions.import_files(ledger, [(CATALOG, catalogs.read(CATALOG))])
        parts = chains(stream())
        target, start_at = hammer_target(parts)
        setup = parts[target][: start_at + 1]
        for e in setup:  # the hammered participation, opened and started
            append.event(ledger, e)
    finally:
        ledger.close()

    # Every line gets a global index; appenders get whole participations, round robin.
    lines: list[dict[str, Any]] = []
    slices: list[list[tuple[int, dict[str, Any]]]] = [[] for _ in range(APPENDERS)]
    rest = [c for n, c in enumerate(parts) if n != target]
    for n, chain in enumerate(rest):
        for e in chain:
            slices[n % APPENDERS].append((len(lines), e))
            lines.append(e)
    opening, started_on = setup[0], setup[-1]["datum"]
    for h in range(HAMMERS):
        hammer = []
        for k in range(HAMMER_LINES):
            hammer.append((len(lines), follow_up(opening, started_on, seed=1000 * h + k)))
            lines.append(hammer[-1][1])
        slices.append(hammer)
    specs = [
        {
            "data_dir": str(backend_store.data_dir),
            "url": backend_store.url,
            "lines": s,
            "out": str(tmp_path / f"out-{n}.jsonl"),
            "seed": n,
        }
        for n, s in enumerate(slices)
    ]
    run_workers(specs, tmp_path)
    if backend_store.backend == "sqlite":  # readers and one writer at a time: WAL
        with sqlite3.connect(backend_store.data_dir / "ledger.sqlite") as con:
            assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        con.close()
    got = outcomes(specs)
    assert sorted(got) == list(range(len(lines))), "a line without an outcome"

    # Writers take the log's lock before they read, so none sees a stale participation:
    # every line is stored, none refused, none conflicting.
    failed = {i: r for i, r in got.items() if not r["ok"]}
    assert not failed, failed
    acked = {i: r["result"] for i, r in got.items()}

    ledger = Ledger(backend_store.settings)
    try:
        positions = {}
        for position, ev in ledger.records():
            positions[(str(ev.originator_id), ev.originator_version)] = position
        # Each acknowledged result is one stored event, at the log position it named.
        event_ids = [r["event_id"] for r in acked.values()]
        assert len(set(event_ids)) == len(event_ids), "two lines acknowledged as one event"
        for r in acked.values():
            assert positions.get(_key(r["event_id"])) == r["position"], r

        # Sending every line again gives its first result back and stores nothing.
        before = len(positions)
        again = {i: append.event(ledger, e) for i, e in enumerate(lines)}
        assert again.keys() == acked.keys()
        assert all(resent(again[i], acked[i]) for i in acked), "a resent line's result changed"
        after = sum(1 for _ in ledger.records())
        assert after == before
        all_ids = [r["event_id"] for r in again.values()]
        assert len(set(all_ids)) == len(lines)

        result = verify(ledger)
        assert result.ok, result.findings[:3]
        assert result.records == result.logged == after
        assert result.checkpoints_checked >= 3
        with ledger.transaction() as session:
            signed = checkpoints.all_checkpoints(session)
        for old, new in itertools.pairwise(signed):
            proof = [
                bytes.fromhex(h)
                for h in integrity.consistency(ledger, old.tree_size, new.tree_size)
            ]
            assert verify_consistency(
                old.tree_size,
                new.tree_size,
                bytes.fromhex(old.root),
                bytes.fromhex(new.root),
                proof,
            )

        reports.project(ledger)
        assert projected_counts(ledger) == expected_counts([*setup, *lines])
        hammered = list(ledger.events.get(uuid.UUID(again[slices[-1][0][0]]["deltagande"])))
        assert len(hammered) == len(setup) + HAMMERS * HAMMER_LINES
    finally:
        ledger.close()


def test_processes_opening_a_new_database_at_once_all_succeed(
    backend_store: Any, tmp_path: Path
) -> None:
    """Several API workers or utförare applications started together on a new database:
    the schema is made once, and nobody fails on a table another just created."""
    spec = {"data_dir": str(backend_store.data_dir), "url": backend_store.url, "role": "open"}
    run_workers([dict(spec) for _ in range(4)], tmp_path)
    ledger = Ledger(backend_store.settings)
    try:
        assert verify(ledger).ok
    finally:
        ledger.close()


if __name__ == "__main__":
    task = json.loads(sys.argv[1])
    (opener if task.get("role") == "open" else worker)(task)
