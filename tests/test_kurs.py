"""Courses under 14 kap. 3 § SoL kept beside the log (`store/kurs.py`): written in the
transaction that stores their records, sealed under keys that gallring deletes.

- a transaction that fails leaves every course as it was (the line sent again is taken);
- after every commit each course lists exactly its participation's records in the log;
- the database holds no record id of a course in clear, and a course opens only under its
  own subject key (a control for the gallring tests' search under every remaining key);
- a gallring cut short between the database and the key store is completed when run again,
  or by the next gallring;
- a store whose key store kept the courses (an earlier version) is moved on opening.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import select

from iubledger.policies.crypto import open_seal
from iubledger.schemas.base import Rejected
from iubledger.services import append, gallring, identity
from iubledger.store import kurs, tables
from iubledger.store.keys import KeyStore
from iubledger.store.ledger import Ledger
from test_gallring import (
    NAMES,
    SKAL,
    START,
    Person,
    _event,
    exported,
    open_store,
    openable,
    participate,
)

PERSON = Person("850312", "123", NAMES[0])


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "d"


@pytest.fixture
def ledger(root: Path) -> Iterator[Ledger]:
    opened = open_store(root)
    try:
        yield opened
    finally:
        opened.close()


def courses(ledger: Ledger) -> dict[str, kurs.Kurs]:
    with ledger.transaction() as session:
        return dict(kurs.opened(session, ledger.keys))


def begin(ledger: Ledger, p: Person = PERSON) -> dict[str, Any]:
    """Contact and start; the follow-up fields naming the participation."""
    kontakt = _event("kontakt", START, deltagare=p.deltagare(), informerad_om_ansokan=True)
    append.event(ledger, kontakt)
    follow = {"oppnad_av": kontakt["id"]}
    fakta = {"folkbokford_i_kommunen": True}
    append.event(ledger, _event("start", START, deltagare=p.deltagare(), fakta=fakta, **follow))
    return follow


def assert_courses_match_the_log(ledger: Ledger) -> None:
    """Every record of the log is listed by at most one course, every listed record is
    in the log, and each course's types are those of its records."""
    posts = {r["id"]: r["data"]["post"] for r in exported(ledger) if "post" in r["data"]}
    listed: list[str] = []
    for course in courses(ledger).values():
        assert set(course.poster) <= set(posts)
        own = [posts[r]["type"] for r in course.poster]
        assert [t for t in own if t != "hanvisning"] == course.typer
        listed += course.poster
    assert len(listed) == len(set(listed))


def test_a_failed_transaction_leaves_the_course_as_it_was(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    follow = begin(ledger)
    before = courses(ledger)
    line = _event("tillfalle", START + timedelta(days=2), **follow)

    def broken(*args: Any, **kw: Any) -> list[int]:
        raise RuntimeError("the disk failed")

    with monkeypatch.context() as m:
        m.setattr(Ledger, "write", broken)
        with pytest.raises(RuntimeError):
            append.event(ledger, line)
    assert courses(ledger) == before
    assert append.event(ledger, line)["position"] is not None
    append.event(ledger, _event("avslut", START + timedelta(days=5), **follow))
    (after,) = courses(ledger).values()
    assert after.typer == ["kontakt", "start", "tillfalle", "avslut"]
    assert_courses_match_the_log(ledger)


def test_courses_list_exactly_their_records_after_every_commit(ledger: Ledger) -> None:
    for n, p in enumerate((PERSON, Person("790101", "456", NAMES[1]))):
        participate(ledger, p, START + timedelta(days=50 * n), 2, "Samtal")
        assert_courses_match_the_log(ledger)
    participate(ledger, PERSON, START + timedelta(days=120), 1, "Samtal")
    assert_courses_match_the_log(ledger)
    assert len(courses(ledger)) == 3


def test_a_course_is_sealed_and_opens_only_under_its_own_key(ledger: Ledger, root: Path) -> None:
    pid = participate(ledger, PERSON, START, 2, "Samtal")
    (course,) = courses(ledger).values()
    with sqlite3.connect(root / "ledger.sqlite") as con:
        rows = con.execute("SELECT deltagande, data FROM iub_kurs").fetchall()
        persons = [d for (d,) in con.execute("SELECT data FROM iub_person")]
    con.close()
    assert [r[0] for r in rows] == [str(pid)]
    assert not any(r in rows[0][1] for r in course.poster)  # no record id in clear
    # The search the gallring tests make under every remaining key finds a live course.
    assert set(course.poster) <= set(openable(root, [rows[0][1], *persons]))


def _stopped(self: KeyStore, subjekt: str) -> None:
    raise OSError("the process was stopped")


def test_a_gallring_cut_short_is_completed_when_run_again(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid = participate(ledger, PERSON, START, 1, "Samtal")
    other = participate(ledger, PERSON, START + timedelta(days=40), 1, "Samtal")
    with monkeypatch.context() as m:
        m.setattr(KeyStore, "shred", _stopped)
        with pytest.raises(OSError):
            gallring.shred(ledger, [pid], SKAL, "admin", None)
    # Recorded, and its course gone: nothing more is documented in it.
    assert gallring.gallrad(ledger, pid)
    assert str(pid) not in courses(ledger)
    with pytest.raises(Rejected) as refused:
        append.event(ledger, _event("tillfalle", START + timedelta(days=3), deltagande=str(pid)))
    assert refused.value.problems[0].code == "deltagande_gallrat"
    assert ledger.keys.subject_key(str(pid)) is not None  # the keys are still there
    assert gallring.shred(ledger, [pid], SKAL, "admin", None) == 1
    assert ledger.keys.subject_key(str(pid)) is None
    assert ledger.keys.person_of(str(pid)) is None
    with pytest.raises(Rejected) as again:
        gallring.shred(ledger, [pid], SKAL, "admin", None)
    assert again.value.problems[0].code == "redan_gallrad"
    recorded = [a for a in identity.accesses(ledger) if a["atgard"] == "gallring"]
    assert len(recorded) == 1  # completing it recorded nothing twice
    assert identity.open_sealed(ledger, other)["namn"] == PERSON.namn


def test_the_next_gallring_completes_one_cut_short(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    cut_short = participate(ledger, PERSON, START, 1, "Samtal")
    later = participate(ledger, Person("790101", "456", NAMES[1]), START, 1, "Samtal")
    with monkeypatch.context() as m:
        m.setattr(KeyStore, "shred", _stopped)
        with pytest.raises(OSError):
            gallring.shred(ledger, [cut_short], SKAL, "admin", None)
    assert ledger.keys.subject_key(str(cut_short)) is not None
    assert gallring.shred(ledger, [later], SKAL, "admin", None) == 1
    assert ledger.keys.subject_key(str(cut_short)) is None
    assert ledger.keys.subject_key(str(later)) is None


def _to_legacy(root: Path) -> int:
    """Rewrite a store into the layout of the earlier version: courses and person entries
    in the key store (the person by its look-up, hex), none in the database."""
    ledger = Ledger(open_store(root).settings, at_rest_cipher=False)
    with ledger.transaction() as session:
        old = dict(kurs.opened(session, ledger.keys))
        people = {}
        for c in old.values():
            if c.person is not None:
                key = ledger.keys.person_key(c.person)
                data = session.execute(
                    select(tables.person.c.data).where(tables.person.c.id == c.person)
                ).scalar()
                assert key is not None and data is not None
                people[c.person] = open_seal(key, "iub-person", data)
    ledger.close()
    keystore = sqlite3.connect(root / "keys" / "keystore.sqlite")
    lookups = dict(keystore.execute("SELECT id, uppslag FROM personnyckel").fetchall())
    keystore.executescript(
        "CREATE TABLE forlopp (deltagande TEXT PRIMARY KEY, data TEXT NOT NULL);"
        "CREATE TABLE person (nyckel BLOB PRIMARY KEY, data TEXT NOT NULL);"
        "DELETE FROM personnyckel; DELETE FROM deltagarperson;"
    )
    for d, c in old.items():
        data = {**c.__dict__, "person": None if c.person is None else lookups[c.person].hex()}
        keystore.execute("INSERT INTO forlopp VALUES (?, ?)", (d, json.dumps(data)))
    for pid, entry in people.items():
        keystore.execute("INSERT INTO person VALUES (?, ?)", (lookups[pid], json.dumps(entry)))
    keystore.commit()
    keystore.close()
    db = sqlite3.connect(root / "ledger.sqlite")
    db.executescript("DROP TABLE iub_kurs; DROP TABLE iub_person;")
    db.close()
    return len(old)


def test_courses_the_key_store_kept_move_into_the_database(root: Path) -> None:
    ledger = open_store(root)
    first = participate(ledger, PERSON, START, 1, "Samtal")
    follow = begin(ledger)  # an open participation of the same person
    ledger.close()
    assert _to_legacy(root) == 2

    ledger = open_store(root)
    try:
        moved = courses(ledger)
        assert len(moved) == 2 and str(first) in moved
        # The open one goes on; the person is still known (a third start is a return).
        append.event(ledger, _event("tillfalle", START + timedelta(days=2), **follow))
        third = participate(ledger, PERSON, START + timedelta(days=90), 1, "Samtal")
        starts = [
            r["data"]["post"]
            for r in exported(ledger)
            if r["data"].get("post", {}).get("type") == "start"
        ]
        assert [s["aterkommande"] for s in starts] == [False, True, True]
        assert identity.open_sealed(ledger, first)["namn"] == PERSON.namn
        assert gallring.shred(ledger, [third], SKAL, "admin", None) == 1
        assert_courses_match_the_log(ledger)
    finally:
        ledger.close()
    keystore = sqlite3.connect(root / "keys" / "keystore.sqlite")
    names = {n for (n,) in keystore.execute("SELECT name FROM sqlite_master")}
    keystore.close()
    assert not {"forlopp", "person"} & names


def test_a_participation_of_a_forgotten_person_starts_a_new_one(ledger: Ledger) -> None:
    """After the gallring of one participation the person's other, open participation goes
    on, and counts the person anew (what linked them is gone)."""
    shredded = participate(ledger, PERSON, START, 1, "Samtal")
    follow = begin(ledger)
    assert gallring.shred(ledger, [shredded], SKAL, "admin", None) == 1
    append.event(ledger, _event("tillfalle", START + timedelta(days=2), **follow))
    append.event(ledger, _event("avslut", START + timedelta(days=4), **follow))
    again = participate(ledger, PERSON, START + timedelta(days=60), 1, "Samtal")
    opened = courses(ledger)
    assert opened[str(again)].person is not None
    assert_courses_match_the_log(ledger)
    assert UUID(str(again)) != shredded
