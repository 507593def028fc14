"""What a PostgreSQL database holds, read below the ledger.

test_g1_no_leak, test_g2_no_trace and test_g5_tamper read and alter the SQLite file
itself; these are the same checks on PostgreSQL. G1/G2: with the at-rest cipher off, no
identity value and no unkeyed hash of one is in the database, searched in its relation
files (after CHECKPOINT, TOAST included) and in every column value the server returns; a
note is found there in clear, so the search is not blind. G5: records changed, deleted,
inserted or swapped with SQL are found by `verify` at their position. And `init` a second
time changes nothing.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from psycopg import sql
from typer.testing import CliRunner

from conftest import resent
from iubledger import catalogs
from iubledger.cli import app
from iubledger.config import resolve
from iubledger.integrity import log as merkle_log
from iubledger.schemas.beslut import BeslutsFil
from iubledger.services import append, decisions, integrity
from iubledger.simulate import main_lines
from iubledger.store.keys import KeyStore
from iubledger.store.ledger import Ledger
from postgres import Cluster
from test_g1_no_leak import G1_REGIMES, INSATSER, KATALOGER, Person, _events, leaks, notes, people
from test_g2_no_trace import FULL, PEOPLE, UNDANTAG, _script, encodings, namnd_file, traces

EVENTS = "iubledger_events"


def _dbname(url: str) -> str:
    return url.split("@/", 1)[1].split("?", 1)[0]


def database_bytes(cluster: Cluster, url: str) -> bytes:
    """Every byte of the database's own relations as written to disk, and every column
    value of its tables as the server returns it (bytea as bytes)."""
    dbname = _dbname(url)
    parts: list[bytes] = []
    with cluster.connect(dbname) as con:
        con.execute("CHECKPOINT")
        paths = [
            p
            for (p,) in con.execute(
                "SELECT pg_relation_filepath(c.oid) FROM pg_class c "
                "WHERE c.relnamespace NOT IN ('pg_catalog'::regnamespace, "
                "'information_schema'::regnamespace) AND pg_relation_filepath(c.oid) IS NOT NULL"
            )
        ]
        tables = [
            t for (t,) in con.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ]
        for t in tables:
            for row in con.execute(sql.SQL("SELECT * FROM {}").format(sql.Identifier(t))):
                for v in row:
                    parts.append(bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode())
    assert EVENTS in tables
    for p in paths:
        for segment in sorted((cluster.data / p).parent.glob(Path(p).name + "*")):
            if segment.name == Path(p).name or segment.name[len(Path(p).name)] == ".":
                parts.append(segment.read_bytes())
    return b"\n".join(parts)


@pytest.fixture
def database(pg_cluster: Cluster) -> Iterator[str]:
    with pg_cluster.database() as url:
        yield url


def _open(data_dir: Path, url: str, *, cipher: bool) -> Ledger:
    KeyStore(data_dir / "keys").init()
    return Ledger(resolve(str(data_dir), url), at_rest_cipher=cipher)


# -- G1 ----------------------------------------------------------------------------------------


@hsettings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(persons=st.lists(people(), min_size=2, max_size=2), note=notes)
def test_g1_no_identity_value_in_the_postgresql_database(
    pg_cluster: Cluster, tmp_path: Path, persons: list[Person], note: str
) -> None:
    with pg_cluster.database() as url:
        ledger = _open(tmp_path / uuid.uuid4().hex, url, cipher=False)
        try:
            decisions.import_files(ledger, [(n, catalogs.read(n)) for n in KATALOGER])
            for p in persons:
                for regim in INSATSER:
                    for event in _events(p, regim, note):
                        append.event(ledger, event)
            assert len(list(ledger.records())) > len(persons) * len(INSATSER) * 3
        finally:
            ledger.close()
        stored = database_bytes(pg_cluster, url)
    needles = [n for p in persons for n in p.needles()]
    assert leaks([note], stored) == [note]  # control: the database is read in clear
    assert leaks(needles, stored) == []
    assert set(G1_REGIMES) < set(INSATSER)


# -- G2 ----------------------------------------------------------------------------------------


def test_g2_no_unkeyed_hash_and_no_key_in_the_postgresql_database(
    pg_cluster: Cluster, database: str, tmp_path: Path
) -> None:
    data_dir = tmp_path / "d"
    ledger = _open(data_dir, database, cipher=False)
    try:
        decisions.import_files(
            ledger,
            [
                ("alingsas", catalogs.read("alingsas")),
                ("ks-2025-510", catalogs.read("ks-2025-510")),
                (
                    "a",
                    namnd_file("namnd-a", {"full-1": FULL, "full-2": FULL, "undantag-1": UNDANTAG}),
                ),
                ("b", namnd_file("namnd-b", {"full-1": FULL})),
            ],
        )
        answered = [append.event(ledger, e) for _, events in _script() for e in events]
    finally:
        ledger.close()
    stored = database_bytes(pg_cluster, database)
    # control: values known to be stored in clear (each line's stored result) are found
    event_ids = {a["event_id"] for a in answered}
    assert event_ids and all(e.encode() in stored for e in event_ids)
    lowered = stored.lower()
    for who, person in PEOPLE.items():
        found = [
            what
            for enc, what in traces(person).items()
            if enc in stored or (enc.isalnum() and enc.lower() in lowered)
        ]
        assert found == [], who
    keys = KeyStore(data_dir / "keys")
    try:
        secrets = [keys.namnd_key("namnd-a", "pseudonym"), keys.namnd_key("namnd-b", "pseudonym")]
    finally:
        keys.close()
    for key in secrets:
        assert not any(enc in stored for enc in encodings(key))


# -- G5 ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tamper_base(
    pg_cluster: Cluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, str, dict[str, Any]]]:
    """A store of a few hundred records with an auditor's checkpoint kept half way."""
    data_dir = tmp_path_factory.mktemp("g5pg") / "d"
    name = pg_cluster.new_database()
    url = pg_cluster.url(name)
    fil = BeslutsFil.model_validate_json(catalogs.read("alingsas"))
    lines = list(main_lines(fil, *(fil.giltig_fran, fil.giltig_fran.replace(day=28)), seed=3))
    ledger = _open(data_dir, url, cipher=True)
    try:
        decisions.import_files(ledger, [("alingsas", catalogs.read("alingsas"))])
        append.batch(ledger, lines[: len(lines) // 2])
        saved = integrity.checkpoint(ledger)
        assert saved is not None
        append.batch(ledger, lines[len(lines) // 2 :])
        integrity.checkpoint(ledger)
    finally:
        ledger.close()
    yield data_dir, name, saved.as_json()
    pg_cluster.drop_database(name)


@pytest.fixture
def tampered(
    pg_cluster: Cluster, tamper_base: tuple[Path, str, dict[str, Any]], tmp_path: Path
) -> Iterator[tuple[Path, str, Any, Path]]:
    """A copy of the base store, an admin connection to alter it, the saved checkpoint."""
    data_dir, base, saved = tamper_base
    name = pg_cluster.new_database(template=base)
    saved_file = tmp_path / "cp.json"
    saved_file.write_text(json.dumps(saved))
    try:
        with pg_cluster.connect(name) as con:
            yield data_dir, pg_cluster.url(name), con, saved_file
    finally:
        pg_cluster.drop_database(name)


def _row_id(con: Any, position: int) -> int:
    return con.execute(
        f"SELECT id FROM {EVENTS} ORDER BY id OFFSET %s LIMIT 1", (position,)
    ).fetchone()[0]


def _verify(data_dir: Path, url: str, saved_file: Path) -> dict[str, Any]:
    result = CliRunner().invoke(
        app,
        [
            "--data-dir",
            str(data_dir),
            "--db",
            url,
            "--json",
            "verify",
            "--checkpoint",
            str(saved_file),
        ],
    )
    assert "Traceback" not in result.output
    data = json.loads(result.stdout)
    assert (result.exit_code == 0) == data["ok"], result.output
    return data


def test_g5_clean_postgresql_store_verifies(tampered: tuple[Path, str, Any, Path]) -> None:
    data_dir, url, _, saved_file = tampered
    data = _verify(data_dir, url, saved_file)
    assert data["ok"], data["findings"][:3]
    assert data["records"] > 200 and data["checkpoints_checked"] >= 2


@pytest.mark.parametrize("position", [0, 137, -1])
def test_g5_changed_byte_in_state(tampered: tuple[Path, str, Any, Path], position: int) -> None:
    data_dir, url, con, saved_file = tampered
    count = con.execute(f"SELECT count(*) FROM {EVENTS}").fetchone()[0]
    position %= count
    row = _row_id(con, position)
    (state,) = con.execute(f"SELECT state FROM {EVENTS} WHERE id = %s", (row,)).fetchone()
    altered = bytearray(state)
    altered[len(altered) // 2] ^= 0x20
    con.execute(f"UPDATE {EVENTS} SET state = %s WHERE id = %s", (bytes(altered), row))
    data = _verify(data_dir, url, saved_file)
    assert not data["ok"]
    assert data["first_bad_position"] == position


def test_g5_deleted_record(tampered: tuple[Path, str, Any, Path]) -> None:
    data_dir, url, con, saved_file = tampered
    con.execute(f"DELETE FROM {EVENTS} WHERE id = %s", (_row_id(con, 120),))
    data = _verify(data_dir, url, saved_file)
    assert data["first_bad_position"] == 120


def test_g5_swapped_records(tampered: tuple[Path, str, Any, Path]) -> None:
    data_dir, url, con, saved_file = tampered
    a, b = _row_id(con, 40), _row_id(con, 90)
    con.execute(f"UPDATE {EVENTS} SET id = -1 WHERE id = %s", (a,))
    con.execute(f"UPDATE {EVENTS} SET id = %s WHERE id = %s", (a, b))
    con.execute(f"UPDATE {EVENTS} SET id = %s WHERE id = -1", (b,))
    data = _verify(data_dir, url, saved_file)
    assert data["first_bad_position"] == 40


def test_g5_inserted_copy_at_the_end(tampered: tuple[Path, str, Any, Path]) -> None:
    data_dir, url, con, saved_file = tampered
    count = con.execute(f"SELECT count(*) FROM {EVENTS}").fetchone()[0]
    con.execute(
        f"INSERT INTO {EVENTS} (originator_id, originator_version, topic, state) "
        f"SELECT originator_id, originator_version + 1000, topic, state FROM {EVENTS} "
        "WHERE id = %s",
        (_row_id(con, 60),),
    )
    data = _verify(data_dir, url, saved_file)
    assert data["first_bad_position"] == count
    assert {f["rule"] for f in data["findings"]} == {"not_logged"}


def test_g5_truncated_tail_caught_by_the_saved_checkpoint(
    tampered: tuple[Path, str, Any, Path],
) -> None:
    """The tail removed with its Merkle nodes, state and stored checkpoints: only the
    auditor's copy of an earlier checkpoint is left to tell."""
    data_dir, url, con, saved_file = tampered
    saved = json.loads(saved_file.read_text())
    keep = saved["tree_size"] - 5
    con.execute(f"DELETE FROM {EVENTS} WHERE id >= %s", (_row_id(con, keep),))
    con.execute("DELETE FROM iub_checkpoint")
    con.execute("DELETE FROM iub_merkle_node")
    con.execute("DELETE FROM iub_merkle_state")
    ledger = Ledger(resolve(str(data_dir), url))
    try:  # rebuild a consistent log over what is left, as a forger would
        with ledger.transaction() as session:
            merkle_log.create_state(session)
            merkle_log.extend(
                session,
                merkle_log.lock(session).tree,
                ledger.recorder.select_notifications(0, 10**6, inclusive_of_start=False),
            )
    finally:
        ledger.close()
    data = _verify(data_dir, url, saved_file)
    assert not data["ok"]
    assert "truncated" in {f["rule"] for f in data["findings"]}


# -- init --------------------------------------------------------------------------------------


def test_a_second_init_on_postgresql_changes_nothing(database: str, tmp_path: Path) -> None:
    base = ["--data-dir", str(tmp_path / "d"), "--db", database]
    runner = CliRunner()
    assert runner.invoke(app, [*base, "init"]).exit_code == 0
    assert (
        runner.invoke(app, [*base, "decisions", "import", "--catalog", "alingsas"]).exit_code == 0
    )
    fil = BeslutsFil.model_validate_json(catalogs.read("alingsas"))
    lines = list(main_lines(fil, fil.giltig_fran, fil.giltig_fran, seed=1))
    appended = runner.invoke(app, [*base, "append", "-"], input="\n".join(lines) + "\n")
    assert appended.exit_code == 0, appended.output
    before = runner.invoke(app, [*base, "--json", "verify"])
    assert json.loads(before.stdout)["ok"]

    again = runner.invoke(app, [*base, "--json", "init"])
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["keys_created"] == []
    after = runner.invoke(app, [*base, "--json", "verify"])
    assert json.loads(after.stdout) == json.loads(before.stdout)
    repeated = runner.invoke(app, [*base, "append", "-"], input="\n".join(lines) + "\n")
    # The same first results (but what 14 kap. 5 § shows once): nothing re-stored.
    pairs = zip(repeated.stdout.splitlines(), appended.stdout.splitlines(), strict=True)
    assert all(resent(json.loads(a), json.loads(b)) for a, b in pairs)
