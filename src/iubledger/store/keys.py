"""Key custody, outside the event store: at-rest key, signing key, nämnd keys, subject keys.

G2: keys per nämnd and purpose never enter the event store. G3: one key per subject
(participation) seals identity under 14 kap. 3 § SoL; deleting it (gallring) makes the
sealed data unrecoverable while the log still verifies.

Linkage lives here too, never in the log: the course of each participation documented
under 14 kap. 3 § (which records are its own) and the keyed look-up from a personnummer to
what the person's earlier participations imply (new or returning participant). Gallring
deletes a participation's key, course and look-up entry; the keystore overwrites deleted
rows (secure_delete), so nothing links the records it leaves in the log.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import nacl.signing
import nacl.utils

from iubledger.store.cipher import XChaCha20Cipher

AT_REST = "at-rest.key"
SIGNING = "signing.key"
KEYSTORE = "keystore.sqlite"
ORIGIN = "origin"  # the instance's name: the origin of its checkpoints (C2SP tlog-checkpoint)
LEGACY_ORIGIN = "iubledger"
KEY_BYTES = 32

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS namndnyckel ("
    " namnd TEXT NOT NULL, syfte TEXT NOT NULL, nyckel BLOB NOT NULL,"
    " PRIMARY KEY (namnd, syfte));"
    "CREATE TABLE IF NOT EXISTS subjektnyckel (subjekt TEXT PRIMARY KEY, nyckel BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS forlopp (deltagande TEXT PRIMARY KEY, data TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS person (nyckel BLOB PRIMARY KEY, data TEXT NOT NULL);"
)


class KeyCustodyError(RuntimeError):
    """A key file is missing or unsafe."""


class KeystoreError(RuntimeError):
    """The keystore database cannot be read or written (a full disk, an I/O error, a file
    that cannot be opened). The message names the keystore and the database's own first
    line, which holds no key, subject or statement."""

    def __init__(self, path: Path, cause: sqlite3.Error) -> None:
        lines = str(cause).strip().splitlines()
        reason = lines[0] if lines else type(cause).__name__
        super().__init__(f"the keystore {path} cannot be used ({reason})")
        self.path = path


def _write_secret(path: Path, data: bytes) -> bool:
    """Create a 0600 file; never overwrite an existing key."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    return True


def _check_secret(path: Path) -> None:
    """The key file exists and only its owner may read it."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise KeyCustodyError(
            f"key file {path.name} is missing: restore the key folder from its backup "
            "('iubledger init' makes keys only for a store without records)"
        ) from None
    except OSError as e:
        raise KeyCustodyError(f"the key folder cannot be read ({e.strerror})") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyCustodyError(f"key file {path.name} is readable by others: chmod 600 it")


def _read_secret(path: Path) -> bytes:
    _check_secret(path)
    try:
        return path.read_bytes()
    except OSError as e:
        raise KeyCustodyError(f"key file {path.name} cannot be read ({e.strerror})") from None


class KeyStore:
    """The data dir's key folder (0700) and its keystore database (0600)."""

    def __init__(self, key_dir: Path):
        self.key_dir = key_dir
        self._db_path = key_dir / KEYSTORE
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._namnd_keys: dict[tuple[str, str], bytes] = {}

    def missing(self) -> list[str]:
        """The key files that are not there (a new store lacks them all)."""
        return [n for n in (AT_REST, SIGNING, KEYSTORE) if not (self.key_dir / n).exists()]

    def init(self, origin: str | None = None) -> list[str]:
        """Create whatever keys are missing, and the instance's name (`origin`, default
        `iubledger/<random>`); return the names created."""
        self.key_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.key_dir, 0o700)
        created = []
        name = origin or f"iubledger/{nacl.utils.random(6).hex()}"
        if _write_secret(self.key_dir / ORIGIN, name.encode()):
            created.append(ORIGIN)
        if _write_secret(self.key_dir / AT_REST, XChaCha20Cipher.create_key().encode()):
            created.append(AT_REST)
        if _write_secret(self.key_dir / SIGNING, bytes(nacl.signing.SigningKey.generate())):
            created.append(SIGNING)
        if _write_secret(self._db_path, b""):
            created.append(KEYSTORE)
        with self._locked():
            pass  # the connection creates the tables
        return created

    @contextmanager
    def _locked(self) -> Iterator[sqlite3.Connection]:
        """The keystore connection, one user at a time; a database error (a full disk, an
        I/O error) leaves as a KeystoreError naming the keystore."""
        with self._lock:
            try:
                if self._db is None:
                    _check_secret(self._db_path)
                    self._db = sqlite3.connect(
                        self._db_path, timeout=30, isolation_level=None, check_same_thread=False
                    )
                    self._db.execute("PRAGMA secure_delete=ON")  # gallring leaves no key bytes
                    self._db.executescript(_SCHEMA)  # a keystore of an earlier version grows
                yield self._db
            except sqlite3.Error as e:
                raise KeystoreError(self._db_path, e) from e

    def check(self) -> None:
        """Raise KeyCustodyError or KeystoreError unless the keystore file is there, safe,
        and readable (for readiness checks; reads no key)."""
        _check_secret(self._db_path)
        with self._locked() as db:
            db.execute("SELECT 1 FROM subjektnyckel LIMIT 1").fetchall()

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def at_rest_key(self) -> str:
        return _read_secret(self.key_dir / AT_REST).decode()

    def signing_key(self) -> nacl.signing.SigningKey:
        return nacl.signing.SigningKey(_read_secret(self.key_dir / SIGNING))

    def origin(self) -> str:
        """The instance's name, the origin line of its checkpoints (a store made before
        names were given: `iubledger`)."""
        path = self.key_dir / ORIGIN
        try:
            present = path.exists()
        except OSError:
            present = False
        return _read_secret(path).decode().strip() if present else LEGACY_ORIGIN

    def mac_key(self, syfte: str) -> bytes:
        """A key for MACs over rows outside the log (kept here, never in the database)."""
        return self.namnd_key("*", syfte)

    def namnd_key(self, namnd: str, syfte: str) -> bytes:
        """The nämnd's key for one purpose (e.g. pseudonyms), created on first use (G2)."""
        if (cached := self._namnd_keys.get((namnd, syfte))) is not None:
            return cached
        with self._locked() as db:
            db.execute(
                "INSERT OR IGNORE INTO namndnyckel VALUES (?, ?, ?)",
                (namnd, syfte, nacl.utils.random(KEY_BYTES)),
            )
            (key,) = db.execute(
                "SELECT nyckel FROM namndnyckel WHERE namnd = ? AND syfte = ?", (namnd, syfte)
            ).fetchone()
        self._namnd_keys[(namnd, syfte)] = bytes(key)
        return bytes(key)

    def add_subject_keys(
        self,
        keys: dict[str, bytes],
        courses: dict[str, dict[str, Any]] | None = None,
        persons: dict[bytes, dict[str, Any]] | None = None,
    ) -> None:
        """Store new subjects' sealing keys (never replacing one), and the courses and
        look-up entries a transaction of appends changed, in one transaction (14 kap. 3 §
        SoL, G3)."""
        with self._locked() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany("INSERT INTO subjektnyckel VALUES (?, ?)", keys.items())
                db.executemany(
                    "INSERT OR REPLACE INTO forlopp VALUES (?, ?)",
                    [(k, json.dumps(v)) for k, v in (courses or {}).items()],
                )
                db.executemany(
                    "INSERT OR REPLACE INTO person VALUES (?, ?)",
                    [(k, json.dumps(v)) for k, v in (persons or {}).items()],
                )
                db.execute("COMMIT")
            except BaseException:
                # SQLite has already rolled back after some errors (a full disk): rolling
                # back again would hide the error behind "no transaction is active".
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise

    def course(self, deltagande: str) -> dict[str, Any] | None:
        """The course of a participation documented under 14 kap. 3 § (None: no such, or
        gallrad)."""
        with self._locked() as db:
            row = db.execute(
                "SELECT data FROM forlopp WHERE deltagande = ?", (deltagande,)
            ).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def courses(self) -> dict[str, dict[str, Any]]:
        """Every course kept, by participation (for gallring by rule)."""
        with self._locked() as db:
            rows = db.execute("SELECT deltagande, data FROM forlopp").fetchall()
        return {k: dict(json.loads(v)) for k, v in rows}

    def person(self, nyckel: bytes) -> dict[str, Any] | None:
        """What a person's earlier participations imply, found by the keyed look-up."""
        with self._locked() as db:
            row = db.execute("SELECT data FROM person WHERE nyckel = ?", (nyckel,)).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def subject_key(self, subjekt: str) -> bytes | None:
        with self._locked() as db:
            row = db.execute(
                "SELECT nyckel FROM subjektnyckel WHERE subjekt = ?", (subjekt,)
            ).fetchone()
        return None if row is None else bytes(row[0])

    def revoke(self, nyckel_id: str) -> None:
        """Remember an API key's revocation here, outside the database: a database edit
        cannot take it back."""
        with self._locked() as db:
            db.execute(_REVOKED)
            db.execute("INSERT OR IGNORE INTO aterkallad VALUES (?)", (nyckel_id,))

    def revoked(self, nyckel_id: str) -> bool:
        with self._locked() as db:
            db.execute(_REVOKED)
            row = db.execute("SELECT 1 FROM aterkallad WHERE nyckel_id = ?", (nyckel_id,))
            return row.fetchone() is not None

    def shred(self, subjekt: str) -> bool:
        """Gallring (G3): delete the subject key, the participation's course and the
        person's look-up entry in one transaction; its seals can never be opened again and
        nothing outside the log links its records. Whether there was a key."""
        with self._locked() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute(
                    "SELECT data FROM forlopp WHERE deltagande = ?", (subjekt,)
                ).fetchone()
                person = None if row is None else json.loads(row[0]).get("person")
                if person is not None:
                    db.execute("DELETE FROM person WHERE nyckel = ?", (bytes.fromhex(person),))
                db.execute("DELETE FROM forlopp WHERE deltagande = ?", (subjekt,))
                deleted = db.execute(
                    "DELETE FROM subjektnyckel WHERE subjekt = ?", (subjekt,)
                ).rowcount
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        return deleted > 0


_REVOKED = "CREATE TABLE IF NOT EXISTS aterkallad (nyckel_id TEXT PRIMARY KEY)"


class PendingKeys:
    """Subject keys, courses and look-up entries made for events that may still be
    refused. A line's new keys are `kept` once nothing can refuse it and written by
    `persist` (once per transaction of appends); a refused line's keys are `dropped`, so
    it leaves no key behind. Courses and look-up entries are set only once nothing can
    refuse the line."""

    def __init__(self, store: KeyStore):
        self._store = store
        self._new: dict[str, bytes] = {}
        self._kept: dict[str, bytes] = {}
        self._courses: dict[str, dict[str, Any]] = {}
        self._persons: dict[bytes, dict[str, Any]] = {}

    def namnd_key(self, namnd: str, syfte: str) -> bytes:
        return self._store.namnd_key(namnd, syfte)

    def subject_key_for(self, subjekt: str) -> bytes:
        for pending in (self._new, self._kept):
            if subjekt in pending:
                return pending[subjekt]
        existing = self._store.subject_key(subjekt)
        if existing is not None:
            return existing
        self._new[subjekt] = nacl.utils.random(KEY_BYTES)
        return self._new[subjekt]

    def course(self, deltagande: str) -> dict[str, Any] | None:
        if deltagande in self._courses:
            return self._courses[deltagande]
        return self._store.course(deltagande)

    def set_course(self, deltagande: str, data: dict[str, Any]) -> None:
        self._courses[deltagande] = data

    def person(self, nyckel: bytes) -> dict[str, Any] | None:
        if nyckel in self._persons:
            return self._persons[nyckel]
        return self._store.person(nyckel)

    def set_person(self, nyckel: bytes, data: dict[str, Any]) -> None:
        self._persons[nyckel] = data

    def keep(self) -> None:
        self._kept.update(self._new)
        self._new.clear()

    def drop(self) -> None:
        self._new.clear()

    def persist(self) -> None:
        """The kept subject keys: written before the records sealed with them."""
        if self._kept:
            self._store.add_subject_keys(self._kept)
        self._kept.clear()

    def persist_links(self) -> None:
        """The courses and look-up entries: written once the records they name are stored
        (a transaction that fails leaves none of them behind)."""
        if self._courses or self._persons:
            self._store.add_subject_keys({}, self._courses, self._persons)
        self._courses.clear()
        self._persons.clear()
