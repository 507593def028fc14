"""G5 without trusting the operator: C2SP checkpoints read by an independent implementation
of the signed-note format, the public key pinned, offline audit bundles, witness
cosigning, and a verify that checks every stored node, the read models and the rows
outside the log — while appends run beside it.

Each tamper below is made the way an insider with file access would (stdlib `sqlite3`,
the key folder), then `verify` must exit 1 naming the first bad position.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import shutil
import sqlite3
import struct
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import nacl.exceptions
import nacl.signing
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

import iubledger
from iubledger import catalogs, cli
from iubledger.config import resolve
from iubledger.integrity import checkpoints, merkle
from iubledger.integrity import log as merkle_log
from iubledger.integrity.checkpoints import Checkpoint
from iubledger.integrity.merkle import CompactRange, consistency_proof_from_leaves
from iubledger.integrity.note import Verifier
from iubledger.integrity.witness import Witness, WitnessError
from iubledger.services import append, decisions, reports
from iubledger.services.witness import cosign_files
from iubledger.store.keys import KeyStore
from iubledger.store.ledger import Ledger

INSATS = "alingsas/3.1.1"
UTFORARE = "familjeradgivningen"
EVERY = 40
EVENTS = "iubledger_events"
ENV = (
    "IUBLEDGER_DATA_DIR",
    "IUBLEDGER_DATABASE_URL",
    "IUBLEDGER_CHECKPOINT_EVERY",
    "IUBLEDGER_CHECKPOINT_SECONDS",
)


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("IUBLEDGER_CHECKPOINT_EVERY", str(EVERY))


def kontakt(rng: random.Random, utforare: str = UTFORARE) -> dict[str, Any]:
    return {
        "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "type": "kontakt",
        "insats": INSATS,
        "utforare": utforare,
        "datum": (date(2025, 10, 1) + timedelta(days=rng.randrange(300))).isoformat(),
        "informerad_om_ansokan": rng.random() < 0.9,
    }


def run(data_dir: Path, *args: str) -> Result:
    return CliRunner().invoke(
        cli.app,
        ["--data-dir", str(data_dir), "--json", *args],
        env={"IUBLEDGER_DATABASE_URL": None, "IUBLEDGER_DATA_DIR": None},
    )


def build(data_dir: Path, n: int = 300, seed: str = "trust") -> None:
    """A store with the Alingsås decisions and `n` contacts, a refusal, and the read model
    brought up to date."""
    settings = resolve(str(data_dir), None)
    KeyStore(settings.key_dir).init(origin="test.kommun.se/iubledger")
    ledger = Ledger(settings)
    try:
        decisions.import_files(ledger, [("alingsas", catalogs.read("alingsas"))])
        rng = random.Random(seed)
        for i in range(0, n, 7):
            append.batch(ledger, [kontakt(rng) for _ in range(min(7, n - i))])
        append.batch(ledger, [{"id": "inte-ett-uuid"}])
        reports.project(ledger)
    finally:
        ledger.close()


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("trust") / "d"
    with pytest.MonkeyPatch.context() as mp:
        for name in ENV:
            mp.delenv(name, raising=False)
        mp.setenv("IUBLEDGER_CHECKPOINT_EVERY", str(EVERY))
        build(data_dir)
    return data_dir


@pytest.fixture
def copy(base: Path, tmp_path: Path) -> Path:
    target = tmp_path / "d"
    shutil.copytree(base, target)
    return target


@contextmanager
def db(data_dir: Path) -> Iterator[sqlite3.Connection]:
    con = sqlite3.connect(data_dir / "ledger.sqlite")
    try:
        with con:
            yield con
    finally:
        con.close()


def verify(data_dir: Path, *args: str) -> dict[str, Any]:
    out = run(data_dir, "verify", *args)
    data = json.loads(out.stdout)
    assert out.exit_code == (0 if data.get("ok") else 1), out.output
    return data


def rules(data: dict[str, Any]) -> set[str]:
    return {f["rule"] for f in data["findings"]}


def public_key(data_dir: Path, target: Path) -> Path:
    out = run(data_dir, "keys", "public")
    assert out.exit_code == 0, out.output
    target.write_text(json.loads(out.stdout)["verifier"] + "\n", encoding="utf-8")
    return target


def leaves(con: sqlite3.Connection) -> list[bytes]:
    rows = con.execute(
        f"SELECT originator_id, originator_version, topic, state FROM {EVENTS} ORDER BY id"
    )
    return [
        merkle.leaf_hash(merkle_log.record_bytes(uuid.UUID(bytes=o), v, t, s))
        for o, v, t, s in rows
    ]


def rewrite_merkle(con: sqlite3.Connection) -> list[bytes]:
    tree, nodes, current = CompactRange(), [], leaves(con)
    for leaf in current:
        nodes.extend(tree.append(leaf))
    con.execute("DELETE FROM iub_merkle_node")
    con.executemany("INSERT INTO iub_merkle_node (level, idx, hash) VALUES (?, ?, ?)", nodes)
    con.execute(
        "UPDATE iub_merkle_state SET size = ?, frontier = ? WHERE id = 1",
        (tree.size, b"".join(tree.to_hashes())),
    )
    return current


def row_id(con: sqlite3.Connection, position: int) -> int:
    return con.execute(
        f"SELECT id FROM {EVENTS} ORDER BY id LIMIT 1 OFFSET ?", (position,)
    ).fetchone()[0]


def flip(con: sqlite3.Connection, position: int) -> None:
    """One bit of the record's stored ciphertext changed."""
    i = row_id(con, position)
    (state,) = con.execute(f"SELECT state FROM {EVENTS} WHERE id = ?", (i,)).fetchone()
    changed = bytes([state[0] ^ 1]) + state[1:]
    con.execute(f"UPDATE {EVENTS} SET state = ? WHERE id = ?", (changed, i))


def swap_state(con: sqlite3.Connection, position: int) -> None:
    """The record given the ciphertext of another of its type: it still opens (an insider
    with the at-rest key could write anything)."""
    i = row_id(con, position)
    (j,) = con.execute(
        f"SELECT max(id) FROM {EVENTS} WHERE id != ? AND topic = "
        f"(SELECT topic FROM {EVENTS} WHERE id = ?)",
        (i, i),
    ).fetchone()
    con.execute(
        f"UPDATE {EVENTS} SET state = (SELECT state FROM {EVENTS} WHERE id = ?) WHERE id = ?",
        (j, i),
    )


# -- an independent reader of the signed-note format (written from the C2SP specs) ---------


def spec_verify_note(note: str, verifier_key: str) -> tuple[str, int, bytes]:
    """c2sp.org/signed-note and tlog-checkpoint, read from the text alone: the verifier
    key is `name+hex(key hash)+base64(0x01 || key)`, key hash = SHA-256(name || 0x0A ||
    0x01 || key)[:4]; the note is text lines, a blank line, signature lines `— name
    base64(key hash || signature)`; the signature covers the text up to and including the
    newline before the blank line. Returns (origin, size, root)."""
    name, key_hash_hex, material = verifier_key.strip().split("+", 2)
    raw = base64.b64decode(material)
    assert raw[0] == 0x01 and len(raw) == 33
    key_hash = hashlib.sha256(name.encode() + b"\x0a\x01" + raw[1:]).digest()[:4]
    assert key_hash.hex() == key_hash_hex
    cut = note.rindex("\n\n")
    text, signatures = note[: cut + 1], note[cut + 2 :]
    assert signatures.endswith("\n")
    ok = False
    for line in signatures[:-1].split("\n"):
        assert line.startswith("\u2014 ")
        signer, b64 = line[2:].split(" ")
        blob = base64.b64decode(b64)
        if signer == name and blob[:4] == key_hash:
            nacl.signing.VerifyKey(raw[1:]).verify(text.encode(), blob[4:])
            ok = True
    assert ok, "no signature line of that key"
    origin, size, root, *_ = text.split("\n")
    assert size.isdigit() and (size == "0" or not size.startswith("0"))
    assert len(base64.b64decode(root)) == 32
    return origin, int(size), base64.b64decode(root)


def spec_cosignature_time(note: str, witness_key: str) -> int:
    """c2sp.org/tlog-cosignature (Ed25519, v1): key hash with type 0x04; the signature is
    u64 big-endian time || Ed25519 over "cosignature/v1\\ntime <t>\\n" + checkpoint text."""
    name, _, material = witness_key.strip().split("+", 2)
    raw = base64.b64decode(material)
    assert raw[0] == 0x04
    key_hash = hashlib.sha256(name.encode() + b"\x0a\x04" + raw[1:]).digest()[:4]
    cut = note.rindex("\n\n")
    text = note[: cut + 1]
    for line in note[cut + 2 : -1].split("\n"):
        signer, b64 = line[2:].split(" ")
        blob = base64.b64decode(b64)
        if signer == name and blob[:4] == key_hash:
            (t,) = struct.unpack(">Q", blob[4:12])
            message = f"cosignature/v1\ntime {t}\n{text}".encode()
            nacl.signing.VerifyKey(raw[1:]).verify(message, blob[12:])
            return int(t)
    raise AssertionError("no cosignature of that witness")


def test_checkpoint_is_a_c2sp_signed_note_an_independent_reader_verifies(
    base: Path, tmp_path: Path
) -> None:
    out = run(base, "checkpoint")
    assert out.exit_code == 0, out.output
    cp = json.loads(out.stdout)
    key = public_key(base, tmp_path / "pub").read_text(encoding="utf-8")
    origin, size, root = spec_verify_note(cp["note"], key)
    assert origin == "test.kommun.se/iubledger"
    assert (size, root.hex()) == (cp["tree_size"], cp["root"])
    # the note carries no time; the JSON keeps only the start of the ISO week (G8)
    lines = cp["note"].split("\n")
    assert lines[:5] == [origin, str(size), lines[2], "every 40", ""]
    week = datetime.fromisoformat(cp["timestamp"])
    assert week.weekday() == 0 and week.time() == datetime.min.time() and week.tzinfo
    # a changed byte of the text, or another key, does not verify
    with pytest.raises(nacl.exceptions.BadSignatureError):
        spec_verify_note(cp["note"].replace(f"\n{size}\n", f"\n{size + 1}\n"), key)
    other = Verifier("test.kommun.se/iubledger", nacl.signing.SigningKey.generate().verify_key)
    with pytest.raises(AssertionError):
        spec_verify_note(cp["note"], other.text())
    # the bare note is accepted by verify --checkpoint
    bare = tmp_path / "cp.note"
    bare.write_text(cp["note"], encoding="utf-8")
    assert verify(base, "--checkpoint", str(bare))["ok"] is True


def test_checkpoint_file_of_the_earlier_form_is_still_read(base: Path, tmp_path: Path) -> None:
    """An auditor's JSON file from before the signed notes: origin `iubledger`, a 16-hex
    key id, a signature over origin, size, root and time."""
    ledger = Ledger(resolve(str(base), None))
    try:
        key = ledger.signing_key
        with ledger.transaction() as session:
            size = merkle_log.load(session).size - 3
            root = merkle_log.subtree_root(session, 0, size)
    finally:
        ledger.close()
    ts = "2026-01-07T10:11:12+00:00"
    text = f"iubledger\n{size}\n{base64.b64encode(root).decode()}\n{ts}\n".encode()
    legacy = {
        "origin": "iubledger",
        "tree_size": size,
        "root": root.hex(),
        "timestamp": ts,
        "key_id": hashlib.sha256(bytes(key.verify_key)).hexdigest()[:16],
        "signature": base64.b64encode(key.sign(text).signature).decode(),
    }
    kept = tmp_path / "old.json"
    kept.write_text(json.dumps(legacy), encoding="utf-8")
    data = verify(base, "--checkpoint", str(kept))
    assert data["ok"] is True and data["checkpoints_checked"] >= 2
    legacy["root"] = bytes(32).hex()
    kept.write_text(json.dumps(legacy), encoding="utf-8")
    assert rules(verify(base, "--checkpoint", str(kept))) == {"checkpoint_signature"}


# -- public key and offline bundles --------------------------------------------------------


def test_bundle_verified_offline_with_the_public_key_alone(
    base: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pub = public_key(base, tmp_path / "pub")
    bundle = tmp_path / "bundle"
    out = run(base, "audit-bundle", str(bundle))
    assert out.exit_code == 0, out.output
    clean = tmp_path / "clean"
    clean.mkdir()
    shutil.copytree(bundle, clean / "bundle")
    shutil.copy(pub, clean / "pub")
    monkeypatch.chdir(clean)
    nowhere = clean / "no-data-dir"
    data = verify(nowhere, "--bundle", "bundle", "--public-key", "pub")
    assert data["ok"] is True and data["records"] > 300 and data["checkpoints_checked"] > 5
    assert not nowhere.exists()  # nothing of a store was made or needed
    assert sorted(p.name for p in clean.iterdir()) == ["bundle", "pub"]

    # one byte of one record changed in the bundle: found at its position
    records = (clean / "bundle" / "records.jsonl").read_text(encoding="utf-8").splitlines()
    line = json.loads(records[123])
    state = bytearray(base64.b64decode(line["state"]))
    state[10] ^= 1
    line["state"] = base64.b64encode(bytes(state)).decode()
    records[123] = json.dumps(line)
    (clean / "bundle" / "records.jsonl").write_text("\n".join(records) + "\n", encoding="utf-8")
    data = verify(nowhere, "--bundle", "bundle", "--public-key", "pub")
    assert data["first_bad_position"] == 123 and "root_mismatch" in rules(data)

    # a bundle re-signed under another key is refused by the pinned key
    other = Verifier("test.kommun.se/iubledger", nacl.signing.SigningKey.generate().verify_key)
    (clean / "other").write_text(other.text(), encoding="utf-8")
    data = verify(nowhere, "--bundle", "bundle", "--public-key", "other")
    assert "checkpoint_signature" in rules(data)


def test_verify_with_the_public_key_needs_no_private_key(copy: Path, tmp_path: Path) -> None:
    pub = public_key(copy, tmp_path / "pub")
    (copy / "keys" / "signing.key").unlink()
    assert run(copy, "verify").exit_code == 1  # without a pinned key there is nothing to check
    data = verify(copy, "--public-key", str(pub))
    assert data["ok"] is True and data["checkpoints_checked"] > 5


# -- a re-signed log, caught by the pinned key and by a witness ----------------------------


def resign(data_dir: Path, position: int) -> None:
    """The insider's full rewrite: change a record, rebuild every node, make a new signing
    key and re-sign every checkpoint with it under the same name."""
    origin = (data_dir / "keys" / "origin").read_text(encoding="utf-8")
    key = nacl.signing.SigningKey.generate()
    (data_dir / "keys" / "signing.key").write_bytes(bytes(key))
    with db(data_dir) as con:
        swap_state(con, position)
        current = rewrite_merkle(con)
        for (size,) in con.execute("SELECT tree_size FROM iub_checkpoint").fetchall():
            tree = CompactRange()
            for leaf in current[:size]:
                tree.append(leaf)
            cp = checkpoints.sign(tree, key, origin, EVERY, datetime.now(UTC))
            con.execute(
                "UPDATE iub_checkpoint SET root = ?, key_id = ?, signature = ? WHERE tree_size = ?",
                (bytes.fromhex(cp.root), cp.key_id, base64.b64decode(cp.signature), size),
            )


def witness_cosigns(data_dir: Path, folder: Path, pub: Path) -> Result:
    """The witness fetches the latest checkpoint and a proof from its last size (files the
    operator hands over), checks and cosigns; the cosignature goes back to the ledger."""
    out = run(data_dir, "checkpoint")
    cp = folder.parent / "cp.json"
    cp.write_text(out.stdout, encoding="utf-8")
    state = json.loads((folder / "state.json").read_text(encoding="utf-8"))
    args = ["witness", "cosign", "--dir", str(folder), "--log-key", str(pub)]
    args += ["--checkpoint", str(cp)]
    if state:
        (seen,) = state.values()
        proof = run(
            data_dir, "consistency", str(seen["size"]), str(json.loads(out.stdout)["tree_size"])
        )
        (folder.parent / "proof.json").write_text(proof.stdout, encoding="utf-8")
        args += ["--proof", str(folder.parent / "proof.json")]
    done = run(data_dir, *args)
    if done.exit_code == 0:
        cosigned = folder.parent / "cosigned.note"
        cosigned.write_text(json.loads(done.stdout)["note"], encoding="utf-8")
        wkey = folder.parent / "witness.pub"
        wkey.write_text(Witness(folder).verifier().text(), encoding="utf-8")
        added = run(data_dir, "cosignature", "add", str(cosigned), "--witness-key", str(wkey))
        assert added.exit_code == 0, added.output
    return done


def test_resigned_log_caught_by_pinned_key_and_by_witness(copy: Path, tmp_path: Path) -> None:
    pub = public_key(copy, tmp_path / "pub")
    folder = tmp_path / "vittne"
    made = run(copy, "witness", "init", "--dir", str(folder), "--name", "ivo.se/w")
    assert made.exit_code == 0, made.output
    assert witness_cosigns(copy, folder, pub).exit_code == 0
    cosigned = (tmp_path / "cosigned.note").read_text(encoding="utf-8")
    t = spec_cosignature_time(cosigned, Witness(folder).verifier().text())
    moment = datetime.fromtimestamp(t, UTC)
    assert moment.weekday() == 0 and moment.time() == datetime.min.time()  # a week (G8)
    ok = verify(copy)
    size = ok["records"]
    assert ok["ok"] and ok["witnessed"] == {"ivo.se/w": size}

    resign(copy, 200)
    alone = verify(copy)  # under the new key the store agrees with itself...
    assert "witness_contradiction" in rules(alone)  # ...but not with the witness
    pinned = verify(copy, "--public-key", str(pub))
    assert "checkpoint_signature" in rules(pinned)
    # the cosignature removed too: the witness itself refuses the rewritten log
    with db(copy) as con:
        con.execute("DELETE FROM iub_cosignatur")
    assert rules(verify(copy)) <= {"projection"}  # the log agrees with itself (and its key)
    refused = witness_cosigns(copy, folder, pub)
    assert refused.exit_code == 1
    assert "not signed by the log's key" in refused.stdout
    new_pub = public_key(copy, tmp_path / "new-pub")
    refused = witness_cosigns(copy, folder, new_pub)
    assert refused.exit_code == 1 and json.loads(refused.stdout)["error"]["code"] == "vittne"


# -- everything verify relies on -----------------------------------------------------------


def test_delete_recompute_drop_caught_without_an_external_checkpoint(copy: Path) -> None:
    with db(copy) as con:
        sizes = [s for (s,) in con.execute("SELECT tree_size FROM iub_checkpoint")]
        con.execute(f"DELETE FROM {EVENTS} WHERE id = ?", (row_id(con, 100),))
        rewrite_merkle(con)
        con.execute("DELETE FROM iub_checkpoint WHERE tree_size > 100")
    kept = max(s for s in sizes if s <= 100)
    data = verify(copy)
    assert data["first_bad_position"] == kept
    assert "unsigned_tail" in rules(data)


def test_dropped_checkpoints_in_the_middle_are_a_gap(copy: Path) -> None:
    with db(copy) as con:
        sizes = [s for (s,) in con.execute("SELECT tree_size FROM iub_checkpoint ORDER BY 1")]
        con.execute("DELETE FROM iub_checkpoint WHERE tree_size IN (?, ?)", sizes[3:5])
    data = verify(copy)
    assert data["first_bad_position"] == sizes[2]
    assert rules(data) == {"checkpoint_gap"}


@pytest.mark.parametrize("level", [1, 3, 5])
def test_interior_node_flip_caught(copy: Path, level: int, tmp_path: Path) -> None:
    cp = run(copy, "checkpoint")
    kept = tmp_path / "cp.json"
    kept.write_text(cp.stdout, encoding="utf-8")
    with db(copy) as con:
        (h,) = con.execute(
            "SELECT hash FROM iub_merkle_node WHERE level = ? AND idx = 2", (level,)
        ).fetchone()
        con.execute(
            "UPDATE iub_merkle_node SET hash = ? WHERE level = ? AND idx = 2",
            (h[:31] + bytes([h[31] ^ 1]), level),
        )
    data = verify(copy, "--checkpoint", str(kept))
    assert data["first_bad_position"] == 2 << level
    assert rules(data) == {"node_mismatch"}


def test_leaf_rewritten_with_its_record_caught_by_the_node_above(copy: Path) -> None:
    """A record changed and its leaf rewritten to match, the nodes above left alone."""
    with db(copy) as con:
        flip(con, 77)
        leaf = leaves(con)[77]
        con.execute("UPDATE iub_merkle_node SET hash = ? WHERE level = 0 AND idx = 77", (leaf,))
    data = verify(copy)
    assert data["first_bad_position"] == 76  # the pair [76, 77] no longer hashes to its node
    assert "node_mismatch" in rules(data)


def test_read_model_row_edit_caught(copy: Path) -> None:
    with db(copy) as con:
        con.execute("UPDATE iub_p_matt SET antal = antal + 1 WHERE matt = 'kontakt' LIMIT 1")
    assert rules(verify(copy)) == {"projection"}


def test_read_model_row_deleted_caught(copy: Path) -> None:
    with db(copy) as con:
        con.execute(
            "DELETE FROM iub_p_aktiv WHERE rowid IN (SELECT rowid FROM iub_p_aktiv LIMIT 1)"
        )
        con.execute("DELETE FROM iub_p_matt WHERE matt = 'informerad'")
    assert rules(verify(copy)) == {"projection"}


def test_refusal_count_edit_caught(copy: Path) -> None:
    with db(copy) as con:
        assert con.execute("SELECT count(*) FROM iub_avvisning").fetchone()[0] >= 1
        con.execute("UPDATE iub_avvisning SET antal = 0")
    assert rules(verify(copy)) == {"avvisning_mac"}


def test_client_id_result_edit_caught_at_its_position(copy: Path) -> None:
    with db(copy) as con:
        (nyckel, resultat) = con.execute(
            "SELECT nyckel, resultat FROM iub_klient_id LIMIT 1 OFFSET 50"
        ).fetchone()
        changed = json.loads(resultat) | {"deltagande": str(uuid.uuid4())}
        con.execute(
            "UPDATE iub_klient_id SET resultat = ? WHERE nyckel = ?", (json.dumps(changed), nyckel)
        )
    data = verify(copy)
    assert rules(data) == {"klient_id_mac"}
    assert data["first_bad_position"] == changed["position"]


def test_link_state_purged_is_no_finding(copy: Path) -> None:
    """The link state outside the log is deletable by design (14 kap. 5 § SoL, G8)."""
    with db(copy) as con:
        con.execute("DELETE FROM iub_lank_nyckel")
        con.execute("DELETE FROM iub_lank")
    assert verify(copy)["ok"] is True


def test_deep_runs_the_database_check(copy: Path) -> None:
    assert verify(copy, "--deep")["ok"] is True
    with db(copy) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        (page_size,) = con.execute("PRAGMA page_size").fetchone()
        (root,) = con.execute(
            "SELECT rootpage FROM sqlite_master WHERE type = 'index' AND tbl_name = 'iub_p_matt'"
        ).fetchone()
    raw = bytearray((copy / "ledger.sqlite").read_bytes())
    start = root * page_size - 300  # the cell area at the end of the index's root page
    raw[start : start + 200] = random.Random(1).randbytes(200)
    (copy / "ledger.sqlite").write_bytes(bytes(raw))
    out = run(copy, "verify", "--deep")
    assert out.exit_code == 1, out.output
    assert "Traceback" not in out.output
    data = json.loads(out.stdout)
    assert "database" in {f["rule"] for f in data["findings"]} or data["error"]["code"] == "databas"


# -- verify beside appending processes -----------------------------------------------------

APPENDER = textwrap.dedent(
    """
    import random, sys, uuid
    from datetime import date, timedelta
    from iubledger.config import resolve
    from iubledger.services import append
    from iubledger.store.ledger import Ledger

    data_dir, seed, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    rng = random.Random(seed)
    ledger = Ledger(resolve(data_dir, None))
    try:
        for i in range(n):
            line = {
                "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "type": "kontakt", "insats": "alingsas/3.1.1",
                "utforare": "familjeradgivningen",
                "datum": (date(2025, 10, 1) + timedelta(days=rng.randrange(300))).isoformat(),
                "informerad_om_ansokan": True,
            }
            lines = [line] + ([{"id": "x"}] if i % 5 == 0 else [])
            append.batch(ledger, lines)
    finally:
        ledger.close()
    """
)


def test_verify_beside_three_appending_processes_finds_nothing(copy: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(Path(iubledger.__file__).parents[1]))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", APPENDER, str(copy), f"p{n}", "150"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for n in range(3)
    ]
    results = []
    deadline = time.monotonic() + 300
    try:
        while any(p.poll() is None for p in procs) or len(results) < 3:
            assert time.monotonic() < deadline
            out = run(copy, "verify")
            results.append(json.loads(out.stdout))
    finally:
        for p in procs:
            p.wait(timeout=60)
    assert all(p.returncode == 0 for p in procs), [p.communicate()[0] for p in procs]
    assert [r["findings"] for r in results if not r["ok"]] == []
    assert len({r["records"] for r in results}) > 1  # verify ran while the log grew
    final = verify(copy)
    assert final["ok"] and final["records"] >= 300 + 450


# -- the witness, property-tested ----------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(
    growth=st.lists(st.integers(0, 40), min_size=1, max_size=6),
    fork_at=st.integers(0, 200),
)
def test_witness_cosigns_exactly_the_consistent_updates(
    tmp_path_factory: pytest.TempPathFactory, growth: list[int], fork_at: int
) -> None:
    """Over any sequence of growing checkpoints the witness cosigns each; a checkpoint of
    a log that changed any record it already cosigned is refused, however it grew."""
    folder = tmp_path_factory.mktemp("w") / "w"
    Witness(folder).init("ivo.se/prop")
    key = nacl.signing.SigningKey.generate()
    log = Verifier("kommun.se/log", key.verify_key)
    rng = random.Random(f"{growth}{fork_at}")
    leaves_: list[bytes] = []
    seen = 0
    for grow in growth:
        leaves_ += [merkle.leaf_hash(rng.randbytes(8)) for _ in range(grow)]
        if not leaves_:
            continue
        cp = signed(leaves_, key, log.name)
        proof = consistency_proof_from_leaves(seen, leaves_) if seen else []
        cosign_files(folder, log, cp, proof)
        seen = len(leaves_)
        assert Witness(folder).seen(log.name) is not None
    if not seen:
        return
    forked = list(leaves_)
    forked[fork_at % seen] = merkle.leaf_hash(b"changed")
    forked += [merkle.leaf_hash(b"more")] * (fork_at % 3)
    cp = signed(forked, key, log.name)
    with pytest.raises(WitnessError):
        cosign_files(folder, log, cp, consistency_proof_from_leaves(seen, forked))
    with pytest.raises(WitnessError):  # a re-signed copy of the true log under another key
        cosign_files(folder, log, signed(leaves_, nacl.signing.SigningKey.generate(), log.name), [])


def signed(leaf_hashes: list[bytes], key: nacl.signing.SigningKey, origin: str) -> Checkpoint:
    tree = CompactRange()
    for leaf in leaf_hashes:
        tree.append(leaf)
    return checkpoints.sign(tree, key, origin, EVERY, datetime.now(UTC))


# -- API keys a database edit cannot promote -----------------------------------------------


@pytest.mark.parametrize(
    "edit",
    [
        "UPDATE iub_api_nyckel SET roll = 'admin' WHERE roll = 'utforare'",
        "UPDATE iub_api_nyckel SET organisation = 'annan' WHERE roll = 'utforare'",
        "UPDATE iub_api_nyckel SET insatser = NULL WHERE roll = 'utforare'",
        "UPDATE iub_api_nyckel SET aterkallad = NULL",
        "UPDATE iub_api_nyckel SET insatser = 'not json' WHERE roll = 'utforare'",
    ],
)
def test_api_key_row_edited_is_refused_as_an_invalid_key(copy: Path, edit: str) -> None:
    from api_support import client_for
    from iubledger.api.app import create_app
    from iubledger.services.apikeys import ApiKeys

    settings = resolve(str(copy), None)
    ledger = Ledger(settings)
    try:
        keys = ApiKeys.of(ledger)
        token, _ = keys.create("utforare", organisation=UTFORARE, insatser=[INSATS])
        revoked, made = keys.create("tillsyn")
        keys.revoke(made.nyckel_id)
        assert keys.authenticate(token) is not None and keys.authenticate(revoked) is None
    finally:
        ledger.close()
    with db(copy) as con:
        con.execute(edit)
    ledger = Ledger(settings)
    try:
        unrevoked = "aterkallad" in edit  # only the revoked key's row was edited
        assert (ApiKeys.of(ledger).authenticate(token) is None) is not unrevoked
        assert ApiKeys.of(ledger).authenticate(revoked) is None
    finally:
        ledger.close()
    with client_for(create_app(settings)) as client:
        refused = [revoked, "iub_000000000000_" + "x" * 43] + ([] if unrevoked else [token])
        for t in refused:
            r = client.get("/v1/whoami", headers={"Authorization": f"Bearer {t}"})
            assert r.status_code == 401, r.text


# -- keystore loss is loud -----------------------------------------------------------------


def test_keystore_loss_is_loud(copy: Path) -> None:
    rng = random.Random("resend")
    line = kontakt(rng)
    lines = copy.parent / "line.jsonl"
    lines.write_text(json.dumps(line) + "\n", encoding="utf-8")
    first = run(copy, "append", str(lines))
    assert first.exit_code == 0, first.output
    (copy / "keys" / "keystore.sqlite").unlink()

    again = run(copy, "append", str(lines))
    assert again.exit_code == 1
    error = json.loads(again.stdout.splitlines()[-1])["error"]
    assert error["code"] == "nycklar" and "backup" in error["message"]
    assert "Traceback" not in again.output

    refused = run(copy, "init")
    assert refused.exit_code == 1
    assert json.loads(refused.stdout)["error"]["code"] == "nycklar_saknas"
    assert not (copy / "keys" / "keystore.sqlite").exists()

    deliberate = run(copy, "init", "--new-keys")
    assert deliberate.exit_code == 0, deliberate.output
    assert "warning" in deliberate.output
    assert run(copy, "append", str(lines)).exit_code == 0  # stored a second time...
    data = verify(copy)  # ...and verify says so: no stored result holds under the new key
    assert "klient_id_mac" in rules(data) and "avvisning_mac" in rules(data)


def test_key_file_with_wrong_mode_is_one_line(copy: Path) -> None:
    os.chmod(copy / "keys" / "signing.key", 0o644)
    out = run(copy, "verify")
    assert out.exit_code == 1
    assert "chmod 600" in json.loads(out.stdout)["error"]["message"]
    assert "Traceback" not in out.output


def test_damaged_database_file_is_one_line(copy: Path) -> None:
    (copy / "ledger.sqlite").write_bytes(b"not a database at all" * 100)
    for name in ("ledger.sqlite-wal", "ledger.sqlite-shm"):
        (copy / name).unlink(missing_ok=True)
    out = run(copy, "verify")
    assert out.exit_code == 1, out.output
    assert json.loads(out.stdout)["error"]["code"] == "databas"
    assert "Traceback" not in out.output


def test_witness_over_http_cosigns_and_hands_the_cosignature_back(
    copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The witness reaches the ledger only through its HTTP API (urlopen routed to the
    app in-process): checkpoint, consistency proof, cosignature handed back."""
    import io
    import urllib.parse

    from api_support import client_for
    from iubledger.api.app import create_app
    from iubledger.services import witness
    from iubledger.services.apikeys import ApiKeys

    settings = resolve(str(copy), None)
    ledger = Ledger(settings)
    try:
        token, _ = ApiKeys.of(ledger).create("tillsyn")
        pub = Verifier.parse(ledger.verifier.text())
    finally:
        ledger.close()
    folder = tmp_path / "vittne"
    Witness(folder).init("ivo.se/http")
    with client_for(create_app(settings)) as client:

        def urlopen(req: Any, timeout: float) -> Any:
            url = urllib.parse.urlsplit(req.full_url)
            r = client.request(
                req.get_method(),
                url.path + ("?" + url.query if url.query else ""),
                headers=dict(req.header_items()),
                content=req.data,
            )
            assert r.status_code < 300, r.text
            return contextmanager(lambda: iter([io.BytesIO(r.content)]))()

        monkeypatch.setattr(witness.urllib.request, "urlopen", urlopen)
        reach = witness.Ledger("http://ledger.test", token)
        first = witness.cosign_http(folder, pub, reach, submit=True)
        rng = random.Random("http")
        ledger = Ledger(settings)
        try:
            append.batch(ledger, [kontakt(rng) for _ in range(5)])
        finally:
            ledger.close()
        second = witness.cosign_http(folder, pub, reach, submit=True)
    assert second.previous == first.tree_size < second.tree_size
    data = verify(copy)
    assert data["ok"] and data["witnessed"] == {"ivo.se/http": second.tree_size}


def test_only_pinned_witnesses_count(copy: Path, tmp_path: Path) -> None:
    """An operator's own 'witness' adds cosignatures; tillsyn counts only the keys it trusts."""
    pub = public_key(copy, tmp_path / "pub")
    keys = {}
    for name in ("ivo.se/w", "operator.kommun.se/w"):
        folder = tmp_path / name.split("/")[0] / "vittne"
        Witness(folder).init(name)
        assert witness_cosigns(copy, folder, pub).exit_code == 0
        keys[name] = folder.parent / "witness.pub"
    assert set(verify(copy)["witnessed"]) == set(keys)
    data = verify(copy, "--witness-key", str(keys["ivo.se/w"]))
    assert data["ok"] and set(data["witnessed"]) == {"ivo.se/w"}
    assert any("operator.kommun.se/w" in n for n in data["notes"])
