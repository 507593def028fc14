"""Operational faults are clear errors, never tracebacks or the driver's text:

- the database unavailable: 503 with Retry-After and problem+json over HTTP (SQLite disk
  faults, a stopped PostgreSQL server), a one-line error on the command line;
- the keystore unusable (a full disk): a one-line error naming the keystore, 503 over
  HTTP, nothing stored, and work goes on once it is mended;
- /readyz fails when the at-rest key does not open the stored records or the keystore is
  missing, instead of answering 200 and then failing every append.

No identity value given in the input appears in any of these errors (G1, G6).
"""

from __future__ import annotations

import json
import logging
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from typer.testing import CliRunner, Result

from api_support import PERSON, client_for, event, seed
from iubledger.api.app import create_app
from iubledger.cli import app
from iubledger.config import Settings
from iubledger.services import integrity
from iubledger.store import keys as keystore
from iubledger.store import tables
from iubledger.store.cipher import XChaCha20Cipher
from iubledger.store.keys import AT_REST, KEYSTORE, KeyStore, KeystoreError
from iubledger.store.ledger import Ledger
from postgres import Cluster, bin_dir_or_skip, start_cluster

SECRETS = [
    PERSON["personnummer"],
    PERSON["personnummer"].replace("-", ""),
    PERSON["namn"],
    PERSON["adress"],
    PERSON["telefon"],
    PERSON["epost"],
]
#: What a driver's error text holds and an answer must not: the statement, its parameters.
DRIVER_TEXT = ["[SQL", "INSERT", "SELECT", "parameters", "sqlite3", "psycopg", "Traceback"]


def _settings(root: Path, url: str | None = None) -> Settings:
    return Settings(data_dir=root, database_url=url or f"sqlite:///{root / 'ledger.sqlite'}")


@pytest.fixture
def seeded(tmp_path: Path, _initialised_data_dir: Path) -> tuple[Settings, dict[str, Any]]:
    """A data dir of its own with decisions, one stored event, and a key per role."""
    root = tmp_path / "d"
    shutil.copytree(_initialised_data_dir, root)
    s = _settings(root)
    return s, seed(s)


def _auth(seeded: dict[str, Any], role: str = "utforare") -> dict[str, str]:
    return {"Authorization": f"Bearer {seeded['tokens'][role]}"}


def _post_event(client: Any, seeded: dict[str, Any]) -> Any:
    body = json.dumps(event("kontakt", deltagare=PERSON), ensure_ascii=False)
    return client.post("/v1/events", headers=_auth(seeded), content=body.encode())


def assert_unavailable(r: Any, code: str) -> dict[str, Any]:
    """503, Retry-After, problem+json with the code; no driver text, no identity."""
    assert r.status_code == 503, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert int(r.headers["retry-after"]) > 0
    p = r.json()
    assert set(p) == {"type", "title", "status", "detail", "code", "errors"}
    assert (p["status"], p["code"], p["errors"]) == (503, code, [])
    assert p["type"] == "urn:iubledger:problem:" + code
    for text in [*DRIVER_TEXT, *SECRETS, "disk I/O", "disk is full"]:
        assert text not in r.text, text
    return p


def _size(client: Any) -> int:
    return integrity.size(client.app.state.service.ledger)


# -- the database unavailable ---------------------------------------------------------------


class DatabaseFault:
    """SQLite: while on, every statement the drivers execute whose text holds `where`
    fails as the driver would fail (a disk I/O error, or a broken connection)."""

    def __init__(self, error: Exception, where: str = "") -> None:
        self.error = error
        self.where = where
        self.on = False

    def __call__(self, cursor: Any, statement: str, *args: Any) -> bool:
        if self.on and self.where in statement:
            raise self.error
        return False  # not handled: the driver executes the statement


@pytest.fixture
def fault(request: pytest.FixtureRequest) -> Iterator[DatabaseFault]:
    f = DatabaseFault(*request.param)
    names = ("do_execute", "do_executemany", "do_execute_no_params")
    for name in names:
        sa_event.listen(Engine, name, f)
    try:
        yield f
    finally:
        for name in names:
            sa_event.remove(Engine, name, f)


FAULTS = [
    pytest.param((sqlite3.OperationalError("disk I/O error"), "iubledger_events"), id="io"),
    pytest.param((sqlite3.InterfaceError("connection lost"), "iubledger_events"), id="interface"),
    pytest.param((sqlite3.OperationalError("disk I/O error"), ""), id="everything"),
]


@pytest.mark.parametrize("fault", FAULTS, indirect=True)
def test_database_unavailable_is_503_with_retry_after(
    seeded: tuple[Settings, dict[str, Any]],
    fault: DatabaseFault,
    caplog: pytest.LogCaptureFixture,
) -> None:
    s, seed_ = seeded
    with client_for(create_app(s)) as client:
        before = _size(client)
        fault.on = True
        with caplog.at_level(logging.INFO, logger="iubledger"):
            r = _post_event(client, seed_)
            checkpoint = client.get("/v1/checkpoint", headers=_auth(seed_, "tillsyn"))
        fault.on = False
        assert_unavailable(r, "databas_otillganglig")
        if fault.where == "":
            assert_unavailable(checkpoint, "databas_otillganglig")
        logged = caplog.text
        for text in [*DRIVER_TEXT[:4], *SECRETS]:
            assert text not in logged, text
        assert _size(client) == before, "a part of the refused request was stored"
        again = _post_event(client, seed_)  # the same process carries on
        assert again.status_code == 201, again.text
        assert _size(client) == before + 1
        assert client.get("/readyz").status_code == 200


@pytest.fixture(scope="module")
def own_cluster() -> Iterator[Cluster]:
    """A PostgreSQL server of this module's own, since a test stops and starts it."""
    cluster = start_cluster(bin_dir_or_skip())
    try:
        yield cluster
    finally:
        cluster.destroy()


def test_postgresql_stopped_is_503_and_readyz_fails(
    own_cluster: Cluster, tmp_path: Path, _initialised_data_dir: Path
) -> None:
    root = tmp_path / "d"
    shutil.copytree(_initialised_data_dir / "keys", root / "keys")
    s = _settings(root, own_cluster.url(own_cluster.new_database()))
    seed_ = seed(s)
    with client_for(create_app(s)) as client:
        assert client.get("/readyz").status_code == 200
        own_cluster.stop("fast")
        try:
            assert_unavailable(_post_event(client, seed_), "databas_otillganglig")
            assert client.get("/readyz").status_code == 503
        finally:
            own_cluster.start()
        again = _post_event(client, seed_)
        assert again.status_code == 201, again.text
        assert client.get("/readyz").status_code == 200


@pytest.mark.parametrize("fault", FAULTS[:1], indirect=True)
def test_cli_database_unavailable_is_one_line(
    seeded: tuple[Settings, dict[str, Any]], fault: DatabaseFault
) -> None:
    s, _ = seeded
    fault.on = True
    result = _cli(s, "append", "-", stdin=_line())
    fault.on = False
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "(databas): the database is unavailable" in lines[0]
    for text in [*DRIVER_TEXT[:4], *SECRETS]:
        assert text not in result.output, text
    assert result.stdout == ""


# -- readiness: keys that do not open the store -------------------------------------------------


def test_readyz_fails_for_a_wrong_at_rest_key(seeded: tuple[Settings, dict[str, Any]]) -> None:
    s, seed_ = seeded
    with client_for(create_app(s)) as client:
        assert client.get("/readyz").status_code == 200
    (s.key_dir / AT_REST).write_text(XChaCha20Cipher.create_key())
    with client_for(create_app(s)) as client:
        r = client.get("/readyz")
        assert r.status_code == 503
        assert r.json() == {"status": "ej_redo"}
        appended = _post_event(client, seed_)
        assert_unavailable(appended, "nycklar")


def test_readyz_fails_without_the_keystore(seeded: tuple[Settings, dict[str, Any]]) -> None:
    s, _ = seeded
    with client_for(create_app(s)) as client:
        assert client.get("/readyz").status_code == 200
        moved = s.key_dir / "moved"
        (s.key_dir / KEYSTORE).rename(moved)
        assert client.get("/readyz").status_code == 503
        moved.rename(s.key_dir / KEYSTORE)
        assert client.get("/readyz").status_code == 200
        (s.key_dir / KEYSTORE).chmod(0o644)
        assert client.get("/readyz").status_code == 503


def test_readyz_fails_when_the_keystore_cannot_be_read(
    seeded: tuple[Settings, dict[str, Any]], full_disk: FullDisk
) -> None:
    s, _ = seeded
    with client_for(create_app(s)) as client:
        assert client.get("/readyz").status_code == 200
        full_disk.on, full_disk.reads = True, True
        assert client.get("/readyz").status_code == 503
        full_disk.on = False
        assert client.get("/readyz").status_code == 200


# -- the keystore on a full disk ------------------------------------------------------------------


class FullDisk:
    """Wraps the keystore's sqlite connection: while on, a statement that writes (and
    holds `where`) fails as SQLite fails on a full disk; with `reads`, every statement."""

    def __init__(self) -> None:
        self.on = False
        self.reads = False
        self.where = ""

    def check(self, sql: str) -> None:
        if not self.on:
            return
        if self.reads:
            raise sqlite3.OperationalError("disk I/O error")
        writes = sql.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE", "REPLACE"))
        if writes and self.where in sql:
            raise sqlite3.OperationalError("database or disk is full")

    def connect(self, real: sqlite3.Connection) -> Any:
        disk = self

        class Connection:
            def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
                disk.check(sql)
                return real.execute(sql, *args)

            def executemany(self, sql: str, *args: Any) -> sqlite3.Cursor:
                disk.check(sql)
                return real.executemany(sql, *args)

            def __getattr__(self, name: str) -> Any:
                return getattr(real, name)

        return Connection()


@pytest.fixture
def full_disk(monkeypatch: pytest.MonkeyPatch) -> FullDisk:
    """Every keystore connection opened from now on goes through a FullDisk switch (other
    sqlite connections, the ledger's own, are left alone)."""
    disk = FullDisk()
    connect = sqlite3.connect

    def connecting(database: Any, *args: Any, **kw: Any) -> Any:
        real = connect(database, *args, **kw)
        return disk.connect(real) if Path(str(database)).name == KEYSTORE else real

    monkeypatch.setattr(keystore.sqlite3, "connect", connecting)
    return disk


def _line() -> str:
    """A full_14_3 kontakt with identity: it needs a new subject key in the keystore."""
    return json.dumps(event("kontakt", deltagare=PERSON), ensure_ascii=False) + "\n"


def _cli(s: Settings, *args: str, stdin: str | None = None) -> Result:
    base = ["--data-dir", str(s.data_dir), "--db", s.database_url]
    return CliRunner().invoke(app, [*base, *args], input=stdin, env={"COLUMNS": "1000"})


def _stored(s: Settings) -> int:
    ledger = Ledger(s)
    try:
        with ledger.transaction() as session:
            n = session.execute(select(func.count()).select_from(tables.klient_id)).scalar()
    finally:
        ledger.close()
    return int(n or 0)


@pytest.mark.parametrize("where", ["subjektnyckel", ""])
def test_cli_keystore_full_disk_is_one_line_naming_the_keystore(
    seeded: tuple[Settings, dict[str, Any]], full_disk: FullDisk, where: str
) -> None:
    s, _ = seeded
    before = _stored(s)
    lines = "".join(_line() for _ in range(3))
    full_disk.on, full_disk.where = True, where
    result = _cli(s, "append", "-", stdin=lines)
    full_disk.on = False
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 1, result.stderr
    assert f"(nyckellager): the keystore {s.key_dir / KEYSTORE} cannot be used" in errors[0]
    assert "(database or disk is full)" in errors[0]
    assert "cannot rollback" not in result.output
    for text in ["Traceback", *SECRETS]:
        assert text not in result.output, text
    assert result.stdout == ""  # no line got a result: none was stored
    assert _stored(s) == before

    again = _cli(s, "append", "-", stdin=lines)  # mended: the same lines go in
    assert again.exit_code == 0, again.output
    assert [json.loads(x)["ok"] for x in again.stdout.splitlines()] == [True] * 3
    assert _stored(s) == before + 3


def test_cli_keystore_full_disk_as_json(
    seeded: tuple[Settings, dict[str, Any]], full_disk: FullDisk
) -> None:
    s, _ = seeded
    full_disk.on = True
    result = _cli(s, "--json", "append", "-", stdin=_line())
    full_disk.on = False
    assert result.exit_code == 1
    error = json.loads(result.stdout)
    assert error["ok"] is False and error["error"]["code"] == "nyckellager"


def test_api_keystore_full_disk_is_503(
    seeded: tuple[Settings, dict[str, Any]], full_disk: FullDisk
) -> None:
    s, seed_ = seeded
    with client_for(create_app(s)) as client:
        assert _post_event(client, seed_).status_code == 201
        before = _size(client)
        full_disk.on, full_disk.where = True, "subjektnyckel"
        p = assert_unavailable(_post_event(client, seed_), "nyckellager_otillgangligt")
        assert "keystore" in p["detail"]
        full_disk.on = False
        assert _size(client) == before
        assert _post_event(client, seed_).status_code == 201


def test_a_really_full_keystore_is_a_keystore_error(tmp_path: Path) -> None:
    """SQLite itself out of room (max_page_count): it rolls the transaction back itself;
    the error says so, naming the keystore, not "cannot rollback - no transaction is
    active", and the keystore works on, holding none of the keys of the failed write."""
    store = KeyStore(tmp_path / "keys")
    store.init()
    try:
        store.add_subject_keys({"before": b"k" * 32})
        with store._locked() as db:
            (pages,) = db.execute("PRAGMA page_count").fetchone()
            db.execute(f"PRAGMA max_page_count = {pages}")
        many = {f"subjekt-{i}": bytes(32) for i in range(2000)}
        with pytest.raises(KeystoreError) as raised:
            store.add_subject_keys(many)
        message = str(raised.value)
        assert str(tmp_path / "keys" / KEYSTORE) in message
        assert "database or disk is full" in message
        assert isinstance(raised.value.__cause__, sqlite3.OperationalError)
        assert "cannot rollback" not in message
        assert store.subject_key("subjekt-0") is None
        assert store.subject_key("before") == b"k" * 32
        with store._locked() as db:
            assert not db.in_transaction
    finally:
        store.close()
