"""Operational faults are clear errors, never tracebacks or the driver's text:

- the database unavailable: a one-line error on the command line;
- the keystore unusable (a full disk): a one-line error naming the keystore, nothing
  stored, and work goes on once it is mended.

No identity value given in the input appears in any of these errors (G1, G6).
"""

from __future__ import annotations

import json
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

from api_support import PERSON, event, seed
from iubledger.cli import app
from iubledger.config import Settings
from iubledger.store import keys as keystore
from iubledger.store import tables
from iubledger.store.keys import KEYSTORE, KeyStore, KeystoreError
from iubledger.store.ledger import Ledger

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
