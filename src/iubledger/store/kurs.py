"""The courses of participations documented under 14 kap. 3 § SoL (full_14_3, deltagardata)
and what a person's participations imply, kept beside the log and never in it (G3, G8).

A course says which records are the participation's own and what the next event is checked
against; a person entry says what the person's earlier participations imply (new or
returning participant, the days already counted). Both are written in the transaction
that stores the records they describe, so a crash leaves them exactly as far as the log.
Each is sealed under a key in the key store — a course under its participation's subject
key, a person entry under the person's own key — so gallring, by deleting those keys, makes
whatever bytes of them remain in the database unreadable. A row is found by the
participation id or a random person id, never by anything computed from a personnummer.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from sqlalchemy import Connection, delete, insert, select
from sqlalchemy.orm import Session

from iubledger.aggregates.forlopp import Forlopp
from iubledger.policies.crypto import open_seal, seal
from iubledger.store import tables
from iubledger.store.keys import KeyStore, PendingKeys

_KURS = "iub-kurs"
_PERSON = "iub-person"


@dataclass
class Kurs(Forlopp):
    """One participation's course: what the next event is checked against, the ids of its
    records (for identity recovery), the person it documents (a random id, full_14_3 with a
    personnummer) and, without one, the days it was active."""

    insats: str
    typer: list[str] = field(default_factory=list)
    villkor_utfall: str | None = None
    startdatum: str | None = None
    poster: list[str] = field(default_factory=list)
    person: str | None = None
    dagar: list[str] = field(default_factory=list)
    #: The latest date documented (for gallring by rule, after a retention period).
    senast: str = ""


@dataclass
class Person:
    """What one person's participations imply, per insats: how many started, and the days
    with a record (for unique participants per calendar period)."""

    startade: dict[str, int] = field(default_factory=dict)
    dagar: dict[str, list[str]] = field(default_factory=dict)


class Kurser:
    """The courses and person entries of one transaction of appends: read through, changed
    in memory, written once by `flush` before the records are stored."""

    def __init__(self, session: Session | Connection, keys: PendingKeys) -> None:
        self.session = session
        self.keys = keys
        self._kurser: dict[str, Kurs | None] = {}
        self._personer: dict[str, Person | None] = {}
        self._changed: set[str] = set()
        self._changed_personer: set[str] = set()

    def get(self, deltagande: str) -> Kurs | None:
        """The participation's course; None when there is none or its key is deleted
        (gallrad)."""
        if deltagande not in self._kurser:
            self._kurser[deltagande] = course(self.session, self.keys, deltagande)
        return self._kurser[deltagande]

    def set(self, deltagande: str, kurs: Kurs) -> None:
        self._kurser[deltagande] = kurs
        self._changed.add(deltagande)

    def person(self, id: str) -> Person | None:
        """The person's entry (empty for a person first seen now); None when the person's
        key is deleted (forgotten by the gallring of one of their participations)."""
        if id not in self._personer:
            key = self.keys.person_key(id)
            row = self.session.execute(
                select(tables.person.c.data).where(tables.person.c.id == id)
            ).scalar()
            self._personer[id] = (
                None
                if key is None
                else Person()
                if row is None
                else Person(**open_seal(key, _PERSON, row))
            )
        return self._personer[id]

    def set_person(self, id: str, person: Person) -> None:
        self._personer[id] = person
        self._changed_personer.add(id)

    def _key(self, key: bytes | None) -> bytes:
        if key is None:  # every course's subject key and person's key is made before
            raise RuntimeError("a course or person entry without its key")
        return key

    def flush(self) -> None:
        """Write the changed courses and person entries, sealed (once per transaction)."""
        courses = {d: k for d in self._changed if (k := self._kurser[d]) is not None}
        t = tables.kurs
        if courses:
            self.session.execute(delete(t).where(t.c.deltagande.in_(list(courses))))
            self.session.execute(
                insert(t),
                [
                    {
                        "deltagande": d,
                        "data": seal(self._key(self.keys.subject_key(d)), _KURS, asdict(k)),
                    }
                    for d, k in courses.items()
                ],
            )
        p = tables.person
        if self._changed_personer:
            ids = list(self._changed_personer)
            self.session.execute(delete(p).where(p.c.id.in_(ids)))
            self.session.execute(
                insert(p),
                [
                    {
                        "id": i,
                        "data": seal(self._key(self.keys.person_key(i)), _PERSON, asdict(e)),
                    }
                    for i in ids
                    if (e := self._personer[i]) is not None
                ],
            )
        self._changed.clear()
        self._changed_personer.clear()


def opened(session: Session | Connection, keys: KeyStore) -> Iterator[tuple[str, Kurs]]:
    """Every course whose key is kept, by participation (for gallring by rule)."""
    for deltagande, data in session.execute(select(tables.kurs.c.deltagande, tables.kurs.c.data)):
        key = keys.subject_key(deltagande)
        if key is not None:
            yield deltagande, Kurs(**open_seal(key, _KURS, data))


class SubjectKeys(Protocol):
    def subject_key(self, subjekt: str) -> bytes | None: ...


def course(session: Session | Connection, keys: SubjectKeys, deltagande: str) -> Kurs | None:
    """One participation's course (None: none, or gallrad: its key is deleted)."""
    key = keys.subject_key(deltagande)
    row = session.execute(
        select(tables.kurs.c.data).where(tables.kurs.c.deltagande == deltagande)
    ).scalar()
    return None if key is None or row is None else Kurs(**open_seal(key, _KURS, row))


def forget(session: Session | Connection, deltagande: str, person: str | None) -> None:
    """Delete a gallrad participation's course and its person's entry (their keys are
    already deleted: what is left of the rows cannot be read)."""
    session.execute(delete(tables.kurs).where(tables.kurs.c.deltagande == deltagande))
    if person is not None:
        session.execute(delete(tables.person).where(tables.person.c.id == person))


def migrate(conn: Connection, store: KeyStore) -> int:
    """Stores of an earlier version kept courses and person entries in the key store
    itself, written after the database commit: move them here, courses sealed under their
    subject keys and person entries under new person keys (the caller drops them there once
    this transaction is committed). How many courses moved."""
    legacy = store.legacy_links()
    if legacy is None:
        return 0
    old_courses, old_persons = legacy
    keys = PendingKeys(store)
    kurser = Kurser(conn, keys)
    ids = {}
    for uppslag, data in old_persons.items():
        ids[uppslag] = keys.person_for(bytes.fromhex(uppslag))
        if not _present(conn, tables.person.c.id, ids[uppslag]):  # moved by a run cut short
            kurser.set_person(ids[uppslag], Person(**data))
    for deltagande, data in old_courses.items():
        if _present(conn, tables.kurs.c.deltagande, deltagande):
            continue
        kurs = Kurs(**data)
        kurs.person = None if kurs.person is None else ids.get(kurs.person)
        keys.subject_key_for(deltagande)
        keys.keep()
        if kurs.person is not None:
            keys.link(deltagande, kurs.person)
        kurser.set(deltagande, kurs)
    keys.persist()
    kurser.flush()
    return len(old_courses)


def _present(conn: Connection, column: Any, value: str) -> bool:
    return conn.execute(select(column).where(column == value)).first() is not None
