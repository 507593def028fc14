"""G5 tamper evidence: every change, deletion, insertion, reordering or truncation of stored
records is found by `verify`, which names the first bad position; a checkpoint an auditor
saved earlier proves the log only grew since.

One clean store (~3000 simulated Alingsås events, checkpoints every 500 records) is built
once per module; every
tampering test works on a copy of its data dir, edits the SQLite file with the stdlib
`sqlite3` module while the ledger is closed, then verifies twice: through
`iubledger.integrity.verify.verify` and through the command line (`verify --checkpoint`),
which must agree.
"""

from __future__ import annotations

import base64
import json
import os
import random
import shutil
import sqlite3
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import combinations_with_replacement, pairwise
from pathlib import Path
from typing import Any

import nacl.signing
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from iubledger import catalogs, cli
from iubledger.config import resolve
from iubledger.integrity import checkpoints, merkle
from iubledger.integrity import log as merkle_log
from iubledger.integrity.checkpoints import Checkpoint
from iubledger.integrity.note import Verifier
from iubledger.schemas.beslut import BeslutsFil
from iubledger.services import append, decisions, integrity
from iubledger.services.integrity import verify
from iubledger.simulate import simulate
from iubledger.store.keys import KeyStore
from iubledger.store.ledger import Ledger

INSATS = "alingsas/3.1.1"
UTFORARE = "familjeradgivningen"
FIRST_DAY = date(2025, 10, 1)
LAST_DAY = date(2026, 9, 30)
DAYS = (LAST_DAY - FIRST_DAY).days + 1

SEED, SCALE = 7, 0.22  # ~3100 simulated events over one year
EVERY = 500  # checkpoint policy of the module store
BEFORE_SAVE = 1700  # events appended before the auditor saves a checkpoint

ENV = (
    "IUBLEDGER_DATA_DIR",
    "IUBLEDGER_DATABASE_URL",
    "IUBLEDGER_CHECKPOINT_EVERY",
    "IUBLEDGER_CHECKPOINT_SECONDS",
)
EVENTS = "iubledger_events"


# -- building stores -----------------------------------------------------------------------


def stream(seed: int, scale: float) -> list[dict[str, Any]]:
    """A realistic year of utförare events for the Alingsås decisions."""
    fil = BeslutsFil.model_validate_json(catalogs.read("alingsas"))
    return list(simulate(fil, FIRST_DAY, LAST_DAY, seed, scale))


def append_all(ledger: Ledger, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [append.event(ledger, e) for e in events]


def kontakt(rng: random.Random) -> dict[str, Any]:
    """A valid utförare event that is exactly one record: a contact, told (or not) of the
    right to apply."""
    return {
        "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "type": "kontakt",
        "insats": INSATS,
        "utforare": UTFORARE,
        "datum": (FIRST_DAY + timedelta(days=rng.randrange(DAYS))).isoformat(),
        "informerad_om_ansokan": rng.random() < 0.9,
    }


def open_ledger(data_dir: Path) -> Ledger:
    return Ledger(resolve(str(data_dir), None))


def new_ledger(data_dir: Path) -> Ledger:
    """A fresh store with keys and the Alingsås decisions imported."""
    settings = resolve(str(data_dir), None)
    KeyStore(settings.key_dir).init()
    ledger = Ledger(settings)
    decisions.import_files(ledger, [("alingsas", catalogs.read("alingsas"))])
    return ledger


def run(data_dir: Path, *args: str) -> Result:
    """`iubledger --data-dir DIR --json ARGS...` in-process (CliRunner on the typer app,
    where the root option goes before the command; see test_entry_point_json_anywhere)."""
    return CliRunner().invoke(
        cli.app,
        ["--data-dir", str(data_dir), "--json", *args],
        env={"IUBLEDGER_DATABASE_URL": None, "IUBLEDGER_DATA_DIR": None},
    )


@dataclass(frozen=True)
class Store:
    data_dir: Path
    saved_file: Path  # `checkpoint --json` output kept by an auditor
    saved: Checkpoint
    decisions: int  # records written by the decision import
    events: int  # simulated events appended
    size: int  # records
    appended: list[dict[str, Any]]
    checkpoint_sizes: list[int]


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Where the stores live: tmpfs when there is one. Building the store is thousands of
    small commits, each an fsync; on tmpfs they cost nothing (same SQLite, same code)."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path_factory.mktemp("g5")
        return
    with tempfile.TemporaryDirectory(dir=shm, prefix="iubledger-g5-") as d:
        yield Path(d)


def fresh_dir(scratch: Path) -> Path:
    """A data dir path (not yet created) of its own under `scratch`."""
    return Path(tempfile.mkdtemp(dir=scratch)) / "d"


@pytest.fixture(scope="module")
def store(scratch: Path) -> Store:
    base = scratch / "store"
    data_dir = base / "d"
    events = stream(SEED, SCALE)
    with pytest.MonkeyPatch.context() as mp:
        for name in ENV:
            mp.delenv(name, raising=False)
        mp.setenv("IUBLEDGER_CHECKPOINT_EVERY", str(EVERY))
        ledger = new_ledger(data_dir)
        try:
            with ledger.transaction() as session:
                decisions = merkle_log.load(session).size
            appended = append_all(ledger, events[:BEFORE_SAVE])
            with ledger.transaction() as session:
                saved_size = merkle_log.load(session).size
        finally:
            ledger.close()

        saved = run(data_dir, "checkpoint")
        assert saved.exit_code == 0, saved.output
        saved_file = base / "auditor-checkpoint.json"
        saved_file.write_text(saved.stdout, encoding="utf-8")

        ledger = open_ledger(data_dir)
        try:
            appended += append_all(ledger, events[BEFORE_SAVE:])
            with ledger.transaction() as session:
                size = merkle_log.load(session).size
                sizes = [cp.tree_size for cp in checkpoints.all_checkpoints(session)]
        finally:
            ledger.close()
    cp = Checkpoint.from_json(json.loads(saved_file.read_text(encoding="utf-8")))
    assert cp.tree_size == saved_size
    return Store(data_dir, saved_file, cp, decisions, len(events), size, appended, sizes)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def copy(store: Store, scratch: Path) -> Iterator[Path]:
    """A private copy of the clean store's data dir, to tamper with; removed afterwards."""
    target = fresh_dir(scratch)
    shutil.copytree(store.data_dir, target)
    yield target
    shutil.rmtree(target.parent, ignore_errors=True)


# -- tampering helpers ---------------------------------------------------------------------


@contextmanager
def db(data_dir: Path) -> Iterator[sqlite3.Connection]:
    """The SQLite file opened directly, as an attacker with file access would; commits."""
    con = sqlite3.connect(data_dir / "ledger.sqlite")
    try:
        with con:
            yield con
    finally:
        con.close()


def row_id(con: sqlite3.Connection, position: int) -> int:
    """The notification id of the record at a log position."""
    return con.execute(
        f"SELECT id FROM {EVENTS} ORDER BY id LIMIT 1 OFFSET ?", (position,)
    ).fetchone()[0]


def free_version(con: sqlite3.Connection, originator_id: bytes) -> int:
    return (
        con.execute(
            f"SELECT max(originator_version) FROM {EVENTS} WHERE originator_id = ?",
            (originator_id,),
        ).fetchone()[0]
        + 1
    )


def copy_row(con: sqlite3.Connection, source_id: int, new_id: int) -> None:
    """Insert a copy of a record under a new notification id (next free version, so the
    aggregate index accepts it)."""
    (oid,) = con.execute(
        f"SELECT originator_id FROM {EVENTS} WHERE id = ?", (source_id,)
    ).fetchone()
    con.execute(
        f"INSERT INTO {EVENTS} (id, originator_id, originator_version, topic, state) "
        f"SELECT ?, originator_id, ?, topic, state FROM {EVENTS} WHERE id = ?",
        (new_id, free_version(con, oid), source_id),
    )


def row_leaf(row: tuple[bytes, int, str, bytes]) -> bytes:
    oid, version, topic, state = row
    return merkle.leaf_hash(merkle_log.record_bytes(uuid.UUID(bytes=oid), version, topic, state))


def leaves(con: sqlite3.Connection) -> list[bytes]:
    """Leaf hashes of the stored records, recomputed independently of the ledger."""
    rows = con.execute(
        f"SELECT originator_id, originator_version, topic, state FROM {EVENTS} ORDER BY id"
    )
    return [row_leaf(r) for r in rows]


def tree_of(leaf_hashes: list[bytes]) -> merkle.CompactRange:
    tree = merkle.CompactRange()
    for leaf in leaf_hashes:
        tree.append(leaf)
    return tree


def rewrite_merkle(con: sqlite3.Connection) -> list[bytes]:
    """Rebuild iub_merkle_node and iub_merkle_state for the records as they now are, with
    the library's own functions: the stored log is then self-consistent."""
    tree = merkle.CompactRange()
    nodes: list[tuple[int, int, bytes]] = []
    current = leaves(con)
    for leaf in current:
        nodes.extend(tree.append(leaf))
    con.execute("DELETE FROM iub_merkle_node")
    con.executemany("INSERT INTO iub_merkle_node (level, idx, hash) VALUES (?, ?, ?)", nodes)
    con.execute(
        "UPDATE iub_merkle_state SET size = ?, frontier = ? WHERE id = 1",
        (tree.size, b"".join(tree.to_hashes())),
    )
    return current


def resign_checkpoints(
    con: sqlite3.Connection, above: int, key: nacl.signing.SigningKey, origin: str
) -> None:
    """Replace every stored checkpoint larger than `above` by one of the current records,
    signed with `key` under the ledger's name."""
    current = leaves(con)
    sizes = [
        s
        for (s,) in con.execute(
            "SELECT tree_size FROM iub_checkpoint WHERE tree_size > ?", (above,)
        )
    ]
    for size in sizes:
        cp = checkpoints.sign(tree_of(current[:size]), key, origin, EVERY, datetime.now(UTC))
        con.execute(
            "UPDATE iub_checkpoint SET root = ?, timestamp = ?, key_id = ?, signature = ? "
            "WHERE tree_size = ?",
            (
                bytes.fromhex(cp.root),
                cp.timestamp,
                cp.key_id,
                base64.b64decode(cp.signature),
                size,
            ),
        )


def origin_of(data_dir: Path) -> str:
    return (data_dir / "keys" / "origin").read_text(encoding="utf-8")


# -- verifying -----------------------------------------------------------------------------


def check(data_dir: Path, checkpoint_file: Path | None) -> dict[str, Any]:
    """Verify through the library and the command line; both must agree. Returns the JSON."""
    saved = None
    if checkpoint_file is not None:
        saved = Checkpoint.from_json(json.loads(checkpoint_file.read_text(encoding="utf-8")))
    ledger = open_ledger(data_dir)
    try:
        result = verify(ledger, saved)
    finally:
        ledger.close()
    args = (
        ["verify"] if checkpoint_file is None else ["verify", "--checkpoint", str(checkpoint_file)]
    )
    out = run(data_dir, *args)
    assert out.exit_code == (0 if result.ok else 1), out.output
    data = json.loads(out.stdout)
    assert data == result.as_json()
    return data


def found(data: dict[str, Any]) -> set[tuple[int | None, str]]:
    return {(f["position"], f["rule"]) for f in data["findings"]}


def assert_caught_at(data: dict[str, Any], position: int, rule: str) -> None:
    assert data["ok"] is False
    assert data["first_bad_position"] == position, data["findings"][:5]
    assert (position, rule) in found(data)
    assert all(f["position"] is None or f["position"] >= position for f in data["findings"])


def covering(store: Store, position: int) -> list[int]:
    """Sizes of the signed checkpoints that include `position`."""
    return [s for s in store.checkpoint_sizes if s > position]


def pos(store: Store, spec: int) -> int:
    """A position; negative counts from the end of the store."""
    return spec % store.size


# -- clean store ---------------------------------------------------------------------------


@pytest.mark.backends
def test_clean_store_of_thousands_of_records_verifies(store: Store) -> None:
    assert store.events >= 3000
    assert len(store.appended) == store.events  # the simulated stream is accepted whole
    assert store.size >= store.decisions + store.events
    data = check(store.data_dir, store.saved_file)
    assert data["ok"] is True
    assert data["findings"] == []
    assert data["first_bad_position"] is None
    assert data["records"] == data["logged"] == store.size
    # every stored checkpoint, and the auditor's
    assert data["checkpoints_checked"] == len(store.checkpoint_sizes) + 1 > 1

    plain = check(store.data_dir, None)
    assert plain["ok"] is True
    assert plain["checkpoints_checked"] == len(store.checkpoint_sizes) > 0


@pytest.mark.backends
def test_saved_checkpoint_then_more_appends_verifies(store: Store, copy: Path) -> None:
    assert store.saved.tree_size < store.size  # the module store already grew after saving
    ledger = open_ledger(copy)
    try:
        append_all(ledger, stream(SEED + 1, 0.1)[:150])
        with ledger.transaction() as session:
            grown = merkle_log.load(session).size
    finally:
        ledger.close()
    assert grown >= store.size + 150
    out = run(copy, "verify", "--checkpoint", str(store.saved_file))
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["ok"] is True
    assert data["records"] == data["logged"] == grown


def test_entry_point_json_anywhere(
    store: Store, copy: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The real entry point accepts `--json` after the command, as the contract says."""

    def main(data_dir: Path) -> tuple[int, dict[str, Any]]:
        argv = ["iubledger", "--data-dir", str(data_dir), "verify", "--json"]
        monkeypatch.setattr(sys, "argv", [*argv, "--checkpoint", str(store.saved_file)])
        with pytest.raises(SystemExit) as exited:
            cli.main()
        return exited.value.code or 0, json.loads(capsys.readouterr().out)

    code, data = main(store.data_dir)
    assert (code, data["ok"]) == (0, True)

    position = 1234
    with db(copy) as con:
        i = row_id(con, position)
        (state,) = con.execute(f"SELECT state FROM {EVENTS} WHERE id = ?", (i,)).fetchone()
        con.execute(f"UPDATE {EVENTS} SET state = ? WHERE id = ?", (state[:-1], i))
    code, data = main(copy)
    assert code == 1
    assert data["first_bad_position"] == position


# -- (1) a changed byte --------------------------------------------------------------------


@pytest.mark.parametrize("spec", [0, 50, 700, 1750, 1999, 2000, -1])
def test_changed_byte_in_state(store: Store, copy: Path, spec: int) -> None:
    position = pos(store, spec)
    with db(copy) as con:
        i = row_id(con, position)
        (state,) = con.execute(f"SELECT state FROM {EVENTS} WHERE id = ?", (i,)).fetchone()
        k = len(state) // 2
        changed = state[:k] + bytes([state[k] ^ 0x01]) + state[k + 1 :]
        con.execute(f"UPDATE {EVENTS} SET state = ? WHERE id = ?", (changed, i))
    data = check(copy, store.saved_file)
    assert_caught_at(data, position, "leaf_mismatch")
    assert (position, "undecodable") in found(data)
    for size in covering(store, position):
        assert (size - 1, "root_mismatch") in found(data)
    assert data["records"] == data["logged"] == store.size


def test_changed_merkle_leaf_is_found_at_its_position(store: Store, copy: Path) -> None:
    position = 900
    with db(copy) as con:
        con.execute(
            "UPDATE iub_merkle_node SET hash = ? WHERE level = 0 AND idx = ?",
            (bytes(32), position),
        )
    assert_caught_at(check(copy, store.saved_file), position, "leaf_mismatch")


def test_changed_frontier_is_found(store: Store, copy: Path) -> None:
    with db(copy) as con:
        (frontier,) = con.execute("SELECT frontier FROM iub_merkle_state").fetchone()
        con.execute(
            "UPDATE iub_merkle_state SET frontier = ?", (bytes([frontier[0] ^ 1]) + frontier[1:],)
        )
    data = check(copy, store.saved_file)
    assert data["ok"] is False
    assert found(data) == {(None, "frontier")}


# -- (2) a deleted record ------------------------------------------------------------------


@pytest.mark.parametrize("spec", [0, 1000, 1999, 2000])
def test_deleted_record(store: Store, copy: Path, spec: int) -> None:
    position = pos(store, spec)
    with db(copy) as con:
        con.execute(f"DELETE FROM {EVENTS} WHERE id = ?", (row_id(con, position),))
    data = check(copy, store.saved_file)
    assert_caught_at(data, position, "leaf_mismatch")
    assert (store.size - 1, "missing") in found(data)
    assert (data["records"], data["logged"]) == (store.size - 1, store.size)


def test_deleted_last_record(store: Store, copy: Path) -> None:
    last = store.size - 1
    with db(copy) as con:
        con.execute(f"DELETE FROM {EVENTS} WHERE id = ?", (row_id(con, last),))
    data = check(copy, store.saved_file)
    assert_caught_at(data, last, "missing")


# -- (3) an inserted record ----------------------------------------------------------------


def test_inserted_copy_at_the_end(store: Store, copy: Path) -> None:
    with db(copy) as con:
        (top,) = con.execute(f"SELECT max(id) FROM {EVENTS}").fetchone()
        copy_row(con, row_id(con, 700), top + 1)
    data = check(copy, store.saved_file)
    assert_caught_at(data, store.size, "not_logged")
    assert found(data) == {(store.size, "not_logged")}
    assert (data["records"], data["logged"]) == (store.size + 1, store.size)


def test_inserted_in_the_middle_by_renumbering(store: Store, copy: Path) -> None:
    position = 1500
    with db(copy) as con:
        i = row_id(con, position)
        # make room: shift every later id up by one (via negatives, the primary key is unique)
        con.execute(f"UPDATE {EVENTS} SET id = -(id + 1) WHERE id >= ?", (i,))
        con.execute(f"UPDATE {EVENTS} SET id = -id WHERE id < 0")
        copy_row(con, row_id(con, 2500), i)
    data = check(copy, store.saved_file)
    assert_caught_at(data, position, "leaf_mismatch")
    assert (store.size, "not_logged") in found(data)


@pytest.mark.parametrize("spec", [0, 1000, 2000, -1])
def test_reused_deleted_id(store: Store, copy: Path, spec: int) -> None:
    position = pos(store, spec)
    with db(copy) as con:
        i = row_id(con, position)
        con.execute(f"DELETE FROM {EVENTS} WHERE id = ?", (i,))
        copy_row(con, row_id(con, 2222 if position != 2222 else 2223), i)
    data = check(copy, store.saved_file)
    assert_caught_at(data, position, "leaf_mismatch")
    assert {p for p, rule in found(data) if rule == "leaf_mismatch"} == {position}
    assert data["records"] == data["logged"] == store.size


# -- (4) swapped records -------------------------------------------------------------------

SWAPS = {
    "state": ["state"],
    "originator": ["originator_id", "originator_version"],
    "whole_record": ["originator_id", "originator_version", "topic", "state"],
}


@pytest.mark.parametrize("what", sorted(SWAPS))
@pytest.mark.parametrize(("a", "b"), [(800, 2400), (1999, 2000), (10, 60)])
def test_swapped_records(store: Store, copy: Path, what: str, a: int, b: int) -> None:
    cols = SWAPS[what]
    assign = ", ".join(f"{c} = ?" for c in cols)
    with db(copy) as con:
        ia, ib = row_id(con, a), row_id(con, b)
        va, vb = (
            con.execute(f"SELECT {', '.join(cols)} FROM {EVENTS} WHERE id = ?", (i,)).fetchone()
            for i in (ia, ib)
        )
        if "originator_id" in cols:
            # park a first, so the (originator_id, originator_version) index never collides
            con.execute(f"UPDATE {EVENTS} SET originator_version = -1 WHERE id = ?", (ia,))
        con.execute(f"UPDATE {EVENTS} SET {assign} WHERE id = ?", (*va, ib))
        con.execute(f"UPDATE {EVENTS} SET {assign} WHERE id = ?", (*vb, ia))
    data = check(copy, store.saved_file)
    assert_caught_at(data, a, "leaf_mismatch")
    assert (b, "leaf_mismatch") in found(data)
    assert data["records"] == data["logged"] == store.size


# -- (5) truncation ------------------------------------------------------------------------


def truncate(con: sqlite3.Connection, size: int, *, drop_checkpoints: bool = True) -> None:
    """Delete every record from `size` on and make the stored log consistent with that."""
    con.execute(f"DELETE FROM {EVENTS} WHERE id >= ?", (row_id(con, size),))
    assert len(rewrite_merkle(con)) == size
    if drop_checkpoints:
        con.execute("DELETE FROM iub_checkpoint WHERE tree_size > ?", (size,))


@pytest.mark.parametrize("short_by", [1, 200, 1000])
def test_truncated_tail_caught_by_saved_checkpoint(store: Store, copy: Path, short_by: int) -> None:
    size = store.saved.tree_size - short_by
    with db(copy) as con:
        truncate(con, size)
    # the attacker's store is self-consistent: only the auditor's checkpoint can tell
    alone = check(copy, None)
    assert alone["ok"] is True
    assert alone["records"] == alone["logged"] == size

    data = check(copy, store.saved_file)
    assert_caught_at(data, size, "truncated")
    assert found(data) == {(size, "truncated")}


def test_truncated_tail_caught_by_kept_stored_checkpoints(store: Store, copy: Path) -> None:
    size = 1600
    with db(copy) as con:
        truncate(con, size, drop_checkpoints=False)
    data = check(copy, None)
    assert_caught_at(data, size, "truncated")
    assert len(data["findings"]) == len(covering(store, size))


def test_truncated_and_regrown_caught_by_saved_checkpoint(
    store: Store, copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Truncate, make the log consistent, then let the ledger itself append and sign past
    the auditor's size: the fork verifies on its own, but the auditor's checkpoint refuses it."""
    size = store.saved.tree_size - 200
    with db(copy) as con:
        truncate(con, size)
    monkeypatch.setenv("IUBLEDGER_CHECKPOINT_EVERY", "100")
    ledger = open_ledger(copy)
    try:
        append_all(ledger, stream(SEED + 2, 0.1)[:300])
        with ledger.transaction() as session:
            fork_signed = [cp.tree_size for cp in checkpoints.all_checkpoints(session)]
    finally:
        ledger.close()
    assert max(fork_signed) > store.saved.tree_size  # the real key signed the fork
    assert check(copy, None)["ok"] is True

    data = check(copy, store.saved_file)
    last = store.saved.tree_size - 1
    assert_caught_at(data, last, "root_mismatch")
    assert found(data) == {(last, "root_mismatch")}
    assert "given checkpoint" in data["findings"][0]["message"]


# -- (6) forged or re-signed checkpoint files ----------------------------------------------


def stored_tree(data_dir: Path, size: int) -> merkle.CompactRange:
    with db(data_dir) as con:
        return tree_of(leaves(con)[:size])


def forge(store: Store, how: str) -> dict[str, Any]:
    """The auditor's checkpoint file with its signed note altered, or re-signed."""
    cp = json.loads(store.saved_file.read_text(encoding="utf-8"))
    origin, size, root, every, blank, signature, end = cp["note"].split("\n")
    other = nacl.signing.SigningKey.generate()
    if how == "root":
        digest = bytearray(base64.b64decode(root))
        digest[-1] ^= 1
        root = base64.b64encode(bytes(digest)).decode()
    elif how == "tree_size":
        size = str(int(size) + 1)
    elif how == "policy":
        every = "every 100000"
    else:
        tree = stored_tree(store.data_dir, store.saved.tree_size)
        assert tree.root().hex() == store.saved.root  # the true root, re-signed
        resigned = checkpoints.sign(tree, other, origin, EVERY, datetime.now(UTC)).note()
        if how == "other_key_same_key_id":
            key_id = base64.b64decode(signature.split(" ")[2])[:4]
            sig = base64.b64decode(resigned.split("\n")[5].split(" ")[2])[4:]
            resigned = resigned.replace(
                resigned.split("\n")[5].split(" ")[2], base64.b64encode(key_id + sig).decode()
            )
        return {"note": resigned}
    return {"note": "\n".join([origin, size, root, every, blank, signature, end])}


@pytest.mark.parametrize(
    "how", ["root", "tree_size", "policy", "other_key", "other_key_same_key_id"]
)
def test_forged_checkpoint_refused(store: Store, tmp_path: Path, how: str) -> None:
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(forge(store, how)), encoding="utf-8")
    data = check(store.data_dir, forged)
    assert data["ok"] is False
    assert found(data) == {(None, "checkpoint_signature")}
    assert data["first_bad_position"] is None


@pytest.mark.backends
@pytest.mark.parametrize("text", ["not json", "{}", '{"tree_size": 1, "root": "00"}'])
def test_malformed_checkpoint_file_refused(store: Store, tmp_path: Path, text: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(text, encoding="utf-8")
    out = run(store.data_dir, "verify", "--checkpoint", str(bad))
    assert out.exit_code == 1
    assert json.loads(out.stdout)["error"]["code"] == "checkpoint"


# -- (7) a record moved between aggregates -------------------------------------------------


@pytest.mark.parametrize(("moved", "target"), [(900, 2100), (2100, 900), (5, 1200)])
def test_record_moved_to_another_aggregate(
    store: Store, copy: Path, moved: int, target: int
) -> None:
    with db(copy) as con:
        i = row_id(con, moved)
        (oid,) = con.execute(
            f"SELECT originator_id FROM {EVENTS} WHERE id = ?", (row_id(con, target),)
        ).fetchone()
        con.execute(
            f"UPDATE {EVENTS} SET originator_id = ?, originator_version = ? WHERE id = ?",
            (oid, free_version(con, oid), i),
        )
    data = check(copy, store.saved_file)
    assert_caught_at(data, moved, "leaf_mismatch")
    assert {p for p, rule in found(data) if rule == "leaf_mismatch"} == {moved}


# -- (8) a change with the Merkle log rewritten to match -----------------------------------


def change_and_rewrite(data_dir: Path, position: int) -> None:
    """Give the record another record's ciphertext (it still opens: same key, same topic)
    and rebuild every Merkle node and the frontier to match."""
    with db(data_dir) as con:
        i = row_id(con, position)
        (j,) = con.execute(
            f"SELECT max(id) FROM {EVENTS} "
            f"WHERE topic = (SELECT topic FROM {EVENTS} WHERE id = ?) AND id != ?",
            (i, i),
        ).fetchone()
        con.execute(
            f"UPDATE {EVENTS} SET state = (SELECT state FROM {EVENTS} WHERE id = ?) WHERE id = ?",
            (j, i),
        )
        rewrite_merkle(con)


def test_consistent_rewrite_caught_by_signed_roots(store: Store, copy: Path) -> None:
    position = 700
    change_and_rewrite(copy, position)
    data = check(copy, store.saved_file)
    first = covering(store, position)[0]
    assert_caught_at(data, first - 1, "root_mismatch")
    assert {rule for _, rule in found(data)} == {"root_mismatch"}  # leaves, frontier agree
    assert found(data) == {(s - 1, "root_mismatch") for s in covering(store, position)}


def test_consistent_rewrite_without_stored_checkpoints_caught_by_saved(
    store: Store, copy: Path
) -> None:
    position = 700
    change_and_rewrite(copy, position)
    with db(copy) as con:
        con.execute("DELETE FROM iub_checkpoint WHERE tree_size > ?", (position,))
    # The checkpoints dropped leave more unsigned records than the policy allows.
    kept = max(s for s in store.checkpoint_sizes if s <= position)
    alone = check(copy, None)
    assert_caught_at(alone, kept, "unsigned_tail")
    assert found(alone) == {(kept, "unsigned_tail")}
    data = check(copy, store.saved_file)
    last = store.saved.tree_size - 1
    assert found(data) == {(last, "root_mismatch"), (kept, "unsigned_tail")}


def test_consistent_rewrite_with_resigned_checkpoints(store: Store, copy: Path) -> None:
    position = 700
    change_and_rewrite(copy, position)
    with db(copy) as con:
        resign_checkpoints(con, position, nacl.signing.SigningKey.generate(), origin_of(copy))
    data = check(copy, store.saved_file)
    last = store.saved.tree_size - 1
    assert_caught_at(data, last, "root_mismatch")
    signature_findings = [f for f in data["findings"] if f["rule"] == "checkpoint_signature"]
    assert len(signature_findings) == len(covering(store, position))

    alone = check(copy, None)
    assert alone["ok"] is False
    assert found(alone) == {(None, "checkpoint_signature")}


# -- stored fields the verifier cannot read are findings, not crashes ------------------------------


@pytest.mark.parametrize(
    ("column", "value"),
    [
        pytest.param(
            "originator_version",
            -1,
            id="negative_version",
        ),
        pytest.param(
            "originator_version",
            "x",
            id="text_version",
        ),
        pytest.param(
            "topic",
            b"\xff\x00",
            id="blob_topic",
        ),
        pytest.param(
            "state",
            "text",
            id="text_state",
        ),
        pytest.param(
            "originator_id",
            bytes(15),
            id="short_originator_id",
        ),
    ],
)
def test_unreadable_field_is_a_finding(store: Store, copy: Path, column: str, value: Any) -> None:
    position = 1234
    with db(copy) as con:
        con.execute(
            f"UPDATE {EVENTS} SET {column} = ? WHERE id = ?", (value, row_id(con, position))
        )
    ledger = open_ledger(copy)
    try:
        result = verify(ledger, None)
    finally:
        ledger.close()
    assert not result.ok
    assert result.first_bad is not None
    assert result.first_bad.position == position


def test_malformed_merkle_state_is_a_finding(store: Store, copy: Path) -> None:
    with db(copy) as con:
        con.execute("UPDATE iub_merkle_state SET frontier = substr(frontier, 1, 32)")
    ledger = open_ledger(copy)
    try:
        result = verify(ledger, None)
    finally:
        ledger.close()
    assert not result.ok


# -- receipts, consistency, checkpoint policy, positions ------------------------------------


def verify_key_of(data_dir: Path) -> nacl.signing.VerifyKey:
    ledger = open_ledger(data_dir)
    try:
        return ledger.signing_key.verify_key
    finally:
        ledger.close()


def test_receipt_inclusion_proofs_verify(store: Store) -> None:
    vk = verify_key_of(store.data_dir)
    with db(store.data_dir) as con:
        stored = leaves(con)
    signed = max(store.checkpoint_sizes)
    for position in (0, store.decisions - 1, 1234, store.saved.tree_size - 1, signed - 1):
        out = run(store.data_dir, "receipt", str(position))
        assert out.exit_code == 0, out.output
        data = json.loads(out.stdout)
        assert data["position"] == position
        cp = Checkpoint.from_json(data["checkpoint"])
        assert cp.tree_size == signed  # the latest covering checkpoint
        assert checkpoints.signature_ok(cp, Verifier(origin_of(store.data_dir), vk))
        leaf = bytes.fromhex(data["leaf_hash"])
        assert leaf == stored[position]  # recomputed from the record as stored
        proof = [bytes.fromhex(h) for h in data["proof"]]
        root = bytes.fromhex(cp.root)
        assert merkle.verify_inclusion(leaf, position, cp.tree_size, proof, root)
        assert not merkle.verify_inclusion(stored[position - 1], position, signed, proof, root)
        if proof:
            bent = [bytes([proof[0][0] ^ 1]) + proof[0][1:], *proof[1:]]
            assert not merkle.verify_inclusion(leaf, position, cp.tree_size, bent, root)

    older = store.checkpoint_sizes[1]
    out = run(store.data_dir, "receipt", "100", "--tree-size", str(older))
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["checkpoint"]["tree_size"] == older
    assert merkle.verify_inclusion(
        bytes.fromhex(data["leaf_hash"]),
        100,
        older,
        [bytes.fromhex(h) for h in data["proof"]],
        bytes.fromhex(data["checkpoint"]["root"]),
    )


def test_receipt_refused_past_the_latest_checkpoint(store: Store) -> None:
    out = run(store.data_dir, "receipt", str(max(store.checkpoint_sizes)))
    assert out.exit_code == 1
    problems = json.loads(out.stdout)["error"]["problems"]
    assert problems[0]["code"] == "inget_kvitto"


def test_consistency_between_every_pair_of_checkpoints(store: Store) -> None:
    ledger = open_ledger(store.data_dir)
    try:
        with ledger.transaction() as session:
            roots = {
                cp.tree_size: bytes.fromhex(cp.root) for cp in checkpoints.all_checkpoints(session)
            }
            current = merkle_log.load(session)
        roots[0] = merkle.EMPTY_ROOT
        roots[current.size] = current.root()
        sizes = sorted(roots)
        assert len(sizes) >= 5
        for old, new in combinations_with_replacement(sizes, 2):
            proof = [bytes.fromhex(h) for h in integrity.consistency(ledger, old, new)]
            assert merkle.verify_consistency(old, new, roots[old], roots[new], proof), (old, new)
            if 0 < old < new:
                wrong = roots[sizes[sizes.index(new) - 1]] if sizes.index(new) > 1 else bytes(32)
                assert not merkle.verify_consistency(old, new, roots[old], wrong, proof)
    finally:
        ledger.close()


@given(
    every=st.integers(1, 50),
    seconds=st.integers(1, 100),
    known=st.integers(0, 200),
    later=st.integers(0, 200),
    size=st.integers(0, 400),
    elapsed=st.integers(0, 1000),
)
def test_a_known_checkpoint_not_due_means_the_stored_latest_is_not_due(
    every: int, seconds: int, known: int, later: int, size: int, elapsed: int
) -> None:
    """The ledger skips the look-up of the latest checkpoint while the one it knows says
    'not due': sound only if no later checkpoint (bigger, seen no earlier) can say 'due'."""
    policy = checkpoints.Policy(every=every, seconds=seconds)
    stored = known + later
    size = max(size, stored)
    if not checkpoints.due(known, size, elapsed, policy):
        assert not checkpoints.due(stored, size, elapsed, policy)
    assert checkpoints.due(0, size, elapsed, policy) == (size > 0)
    assert not checkpoints.due(stored, stored, elapsed, policy)


def test_checkpoint_signed_at_least_every_n_records(
    scratch: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    every = 50
    monkeypatch.setenv("IUBLEDGER_CHECKPOINT_EVERY", str(every))
    data_dir = fresh_dir(scratch)
    ledger = new_ledger(data_dir)
    try:
        rng = random.Random("g5-every")
        for _ in range(237):
            append.event(ledger, kontakt(rng))
        with ledger.transaction() as session:
            signed = checkpoints.all_checkpoints(session)
            size = merkle_log.load(session).size
            stored = [merkle_log.subtree_root(session, i, i + 1) for i in range(size)]
        vk = ledger.signing_key.verify_key
        result = verify(ledger)
    finally:
        ledger.close()
    sizes = [cp.tree_size for cp in signed]
    # The decision import is one commit of more than `every` records: signed inside it.
    assert size - 237 > every and sizes[0] == every
    assert all(0 < b - a <= every for a, b in pairwise(sizes))
    assert size - sizes[-1] < every
    verifier = Verifier(origin_of(data_dir), vk)
    for cp in signed:
        assert cp.key_id == verifier.key_id.hex()
        assert cp.every == every
        text = (
            f"{verifier.name}\n{cp.tree_size}\n"
            f"{base64.b64encode(bytes.fromhex(cp.root)).decode()}\nevery {every}\n"
        )
        vk.verify(text.encode(), base64.b64decode(cp.signature))  # raises if bad
        assert (
            cp.note()
            == f"{text}\n\u2014 {verifier.name} "
            + base64.b64encode(verifier.key_id + base64.b64decode(cp.signature)).decode()
            + "\n"
        )
        assert datetime.fromisoformat(cp.timestamp).weekday() == 0
        assert datetime.fromisoformat(cp.timestamp).time() == datetime.min.time()
        assert bytes.fromhex(cp.root) == merkle.root(stored[: cp.tree_size])
        other = Verifier(verifier.name, nacl.signing.SigningKey.generate().verify_key)
        assert not checkpoints.signature_ok(cp, other)
    assert result.ok
    assert result.checkpoints_checked == len(signed)


def test_append_positions_are_consecutive_log_positions(store: Store) -> None:
    """Each append's position is the log position of its record; between two appends lie
    only the records the ledger added in the same commit (a hänvisning after an unclear
    villkor check, same aggregate)."""
    positions = [r["position"] for r in store.appended]
    assert positions[0] == store.decisions
    assert all(a < b for a, b in pairwise(positions))
    ledger = open_ledger(store.data_dir)
    try:
        records = [
            (p, (e.originator_id, e.originator_version), type(e).__qualname__)
            for p, e in ledger.records()
        ]
    finally:
        ledger.close()
    assert [p for p, _, _ in records] == list(range(store.size))
    extra = 0
    for r, following in zip(store.appended, [*positions[1:], store.size], strict=True):
        oid, version = r["event_id"].rsplit("/", 1)
        assert records[r["position"]][1] == (uuid.UUID(oid), int(version))
        # Under 14 kap. 5 § every record is its own (G8); otherwise the participation's.
        unlinked = records[r["position"]][2].startswith("Anonympost")
        assert unlinked or str(oid) == r["deltagande"]
        for p in range(r["position"] + 1, following):
            if unlinked:
                assert records[p][2].startswith("Anonympost") and records[p][1][1] == 1
            else:
                assert records[p][1] == (uuid.UUID(oid), int(version) + p - r["position"])
            extra += 1
    assert extra < len(store.appended) // 10
