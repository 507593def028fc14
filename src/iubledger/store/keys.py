"""Key custody, outside the event store: at-rest key, signing key, nämnd keys, subject keys.

G2: keys per nämnd and purpose never enter the event store. G3: one key per subject
(participation) seals identity under 14 kap. 3 § SoL; deleting it (gallring) makes the
sealed data unrecoverable while the log still verifies.

The keyed look-up of a person lives here too, never in the log: from a personnummer (keyed
hash per nämnd) to a random person id and the key that seals what the person's
participations imply (`store/kurs.py`), and from each participation to its person.
Gallring deletes a participation's subject key and its person's key and look-up; the
keystore overwrites deleted rows (secure_delete), so nothing is left that links the records
it leaves in the log, or opens what the database still holds of their courses.
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
from uuid import uuid4

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
    "CREATE TABLE IF NOT EXISTS personnyckel ("
    " uppslag BLOB PRIMARY KEY, id TEXT NOT NULL UNIQUE, nyckel BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS deltagarperson (subjekt TEXT PRIMARY KEY, person TEXT NOT NULL);"
)
#: The tables in which an earlier version kept courses and person entries (moved into the
#: database by `store/kurs.migrate`).
_LEGACY = ("forlopp", "person")


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
        persons: dict[bytes, tuple[str, bytes]] | None = None,
        links: dict[str, str] | None = None,
    ) -> None:
        """Store new subjects' sealing keys (never replacing one), new persons (look-up →
        id and key) and which person each participation documents, in one transaction
        (14 kap. 3 § SoL, G3)."""
        with self._locked() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany("INSERT INTO subjektnyckel VALUES (?, ?)", keys.items())
                db.executemany(
                    "INSERT INTO personnyckel VALUES (?, ?, ?)",
                    [(u, i, k) for u, (i, k) in (persons or {}).items()],
                )
                db.executemany(
                    "INSERT OR REPLACE INTO deltagarperson VALUES (?, ?)", (links or {}).items()
                )
                db.execute("COMMIT")
            except BaseException:
                # SQLite has already rolled back after some errors (a full disk): rolling
                # back again would hide the error behind "no transaction is active".
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise

    def person(self, uppslag: bytes) -> str | None:
        """The id of the person with this keyed look-up, if known."""
        with self._locked() as db:
            row = db.execute("SELECT id FROM personnyckel WHERE uppslag = ?", (uppslag,)).fetchone()
        return None if row is None else str(row[0])

    def person_of(self, subjekt: str) -> str | None:
        """The id of the person a participation documents, if any."""
        with self._locked() as db:
            row = db.execute(
                "SELECT person FROM deltagarperson WHERE subjekt = ?", (subjekt,)
            ).fetchone()
        return None if row is None else str(row[0])

    def person_key(self, id: str) -> bytes | None:
        """The key that seals a person's entry (None: no such person, or forgotten)."""
        with self._locked() as db:
            row = db.execute("SELECT nyckel FROM personnyckel WHERE id = ?", (id,)).fetchone()
        return None if row is None else bytes(row[0])

    def legacy_links(self) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]] | None:
        """The courses and person entries (by look-up, hex) an earlier version kept here,
        or None when there are no such tables (or no keystore: a store opened to verify)."""
        if not self._db_path.exists():
            return None
        with self._locked() as db:
            names = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
            if not set(_LEGACY) & names:
                return None
            courses = db.execute("SELECT deltagande, data FROM forlopp").fetchall()
            persons = db.execute("SELECT nyckel, data FROM person").fetchall()
        return (
            {str(k): dict(json.loads(v)) for k, v in courses},
            {bytes(k).hex(): dict(json.loads(v)) for k, v in persons},
        )

    def drop_legacy_links(self) -> None:
        """Drop the earlier version's tables, once their content is in the database."""
        with self._locked() as db:
            for name in _LEGACY:
                db.execute(f"DROP TABLE IF EXISTS {name}")

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

    def shred(self, subjekt: str) -> None:
        """Gallring (G3): delete the subject key and the key and look-up of the person the
        participation documents, in one transaction; its seals and whatever is left of its
        course can never be opened again, and nothing links the person to it."""
        with self._locked() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute(
                    "SELECT person FROM deltagarperson WHERE subjekt = ?", (subjekt,)
                ).fetchone()
                person = None if row is None else str(row[0])
                db.execute("DELETE FROM personnyckel WHERE id = ?", (person,))
                db.execute("DELETE FROM deltagarperson WHERE person = ?", (person,))
                db.execute("DELETE FROM deltagarperson WHERE subjekt = ?", (subjekt,))
                db.execute("DELETE FROM subjektnyckel WHERE subjekt = ?", (subjekt,))
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise


_REVOKED = "CREATE TABLE IF NOT EXISTS aterkallad (nyckel_id TEXT PRIMARY KEY)"


class PendingKeys:
    """Keys made for events that may still be refused, and the persons made and linked by
    them. A line's new subject keys are `kept` once nothing can refuse it and written by
    `persist` (once per transaction of appends, before its records); a refused line's are
    `dropped`, so it leaves no key behind. Persons are made and linked only once nothing
    can refuse the line."""

    def __init__(self, store: KeyStore):
        self._store = store
        self._new: dict[str, bytes] = {}
        self._kept: dict[str, bytes] = {}
        self._persons: dict[bytes, tuple[str, bytes]] = {}
        self._links: dict[str, str] = {}

    def namnd_key(self, namnd: str, syfte: str) -> bytes:
        return self._store.namnd_key(namnd, syfte)

    def subject_key(self, subjekt: str) -> bytes | None:
        for pending in (self._new, self._kept):
            if subjekt in pending:
                return pending[subjekt]
        return self._store.subject_key(subjekt)

    def subject_key_for(self, subjekt: str) -> bytes:
        existing = self.subject_key(subjekt)
        if existing is not None:
            return existing
        self._new[subjekt] = nacl.utils.random(KEY_BYTES)
        return self._new[subjekt]

    def person_for(self, uppslag: bytes) -> str:
        """The id of the person with this keyed look-up; a new person (id and key) when
        none is known."""
        if uppslag in self._persons:
            return self._persons[uppslag][0]
        known = self._store.person(uppslag)
        if known is not None:
            return known
        id = str(uuid4())
        self._persons[uppslag] = (id, nacl.utils.random(KEY_BYTES))
        return id

    def person_key(self, id: str) -> bytes | None:
        for pid, key in self._persons.values():
            if pid == id:
                return key
        return self._store.person_key(id)

    def link(self, subjekt: str, person: str) -> None:
        """The participation documents this person (so its gallring forgets the person)."""
        self._links[subjekt] = person

    def keep(self) -> None:
        self._kept.update(self._new)
        self._new.clear()

    def drop(self) -> None:
        self._new.clear()

    def persist(self) -> None:
        """The kept subject keys, new persons and links: written before the records and
        courses sealed with them are committed (a key without a record is harmless)."""
        if self._kept or self._persons or self._links:
            self._store.add_subject_keys(self._kept, self._persons, self._links)
        self._kept.clear()
        self._persons.clear()
        self._links.clear()
