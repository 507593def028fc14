"""Gallring that really forgets (14 kap. 3 § SoL, G2, G3).

Under full_14_3 the log holds no value computable from a personnummer, not even with a
key, and no value shared by two records of a participation: the course and the person's
look-up live in the key store. Gallring — a recorded act with a reason — deletes them with
the subject key; afterwards nothing links the person's records to each other or to a
personnummer for anyone holding every remaining key, a follow-up is refused, and a new
participation of the same person is a new subject.
"""

from __future__ import annotations

import json
import re
import sqlite3
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import combinations
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from identities import personnummer
from iubledger import catalogs
from iubledger.cli import app
from iubledger.config import resolve
from iubledger.policies.crypto import UPPSLAG_PERSON, SealError, keyed_hash, open_seal
from iubledger.schemas.base import Rejected
from iubledger.services import append, decisions, export, gallring, identity
from iubledger.services.integrity import verify
from iubledger.store import kurs
from iubledger.store.keys import KeyStore
from iubledger.store.ledger import Ledger
from test_g8_unlinkable import CODED as CODED_UNLINKED

INSATS = "alingsas/3.4.6"
UTFORARE = "socialmedicinsk-mottagning"
SKAL = "Gallringsfristen enligt dokumenthanteringsplanen har löpt ut"
START = date(2026, 1, 12)

#: What records may share: the decision stamp, the insats and the event's coded facts
#: (type, date, gender, age band, the derived follow-up facts) — those of the regimes that
#: link nothing, less their visit counts, plus the facts derived under 14 kap. 3 § and the
#: record's own frame (its time is its date's midnight, every record is version 1).
CODED = (CODED_UNLINKED - {"besok_nr", "antal_besok", "maende_forandring"}) | {
    "aterkommande",
    "ny_i_period",
    "tidpunkt",
    "version",
    "aggregat",
    "handelse",
}


@dataclass(frozen=True)
class Person:
    born: str  # YYMMDD
    serial: str  # three digits
    namn: str

    @property
    def pnr(self) -> str:
        return personnummer(self.born, self.serial)

    def deltagare(self) -> dict[str, Any]:
        return {"personnummer": self.pnr, "namn": self.namn, "kon": "kvinna"}


def _event(kind: str, day: date, **kw: Any) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "type": kind,
        "insats": INSATS,
        "utforare": UTFORARE,
        "datum": day.isoformat(),
        **kw,
    }


def participate(ledger: Ledger, p: Person, first: date, sessions: int, note: str) -> UUID:
    """Contact, start, sessions (each with a note), end; the participation id."""
    kontakt = _event("kontakt", first, deltagare=p.deltagare(), informerad_om_ansokan=True)
    pid = append.event(ledger, kontakt)["deltagande"]
    follow = {"oppnad_av": kontakt["id"]}
    fakta = {"folkbokford_i_kommunen": True}
    append.event(
        ledger, _event("start", first, deltagare=p.deltagare(), fakta=fakta, maende=2, **follow)
    )
    for n in range(sessions):
        day = first + timedelta(days=2 + 3 * n)
        append.event(ledger, _event("tillfalle", day, anteckning=f"{note} {n}.", **follow))
    last = first + timedelta(days=3 + 3 * sessions)
    append.event(ledger, _event("avslut", last, maende=4, **follow))
    return UUID(pid)


def open_store(root: Path, *, cipher: bool = False) -> Ledger:
    """The store under `root` (without the at-rest cipher, so its bytes can be searched)."""
    s = resolve(str(root), f"sqlite:///{root / 'ledger.sqlite'}")
    KeyStore(s.key_dir).init()
    ledger = Ledger(s, at_rest_cipher=cipher)
    if not ledger.decision_index().histories:
        decisions.import_files(ledger, [("alingsas", catalogs.read("alingsas"))])
    return ledger


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    opened = open_store(tmp_path / "d")
    try:
        yield opened
    finally:
        opened.close()


def exported(ledger: Ledger) -> list[dict[str, Any]]:
    return [json.loads(line) for line in export.lines(ledger)]


def leaves(obj: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from leaves(v, f"{path}.{k}" if path else k)
    elif isinstance(obj, list):
        for v in obj:
            yield from leaves(v, path)
    else:
        yield path, obj


def linking(record: dict[str, Any]) -> set[str]:
    """Every value of a record outside the coded fields (ids, seals, labels)."""
    flat = {"id": record["id"], **{f"data.{k}": v for k, v in leaves(record["data"])}}
    return {
        str(v)
        for k, v in flat.items()
        if k.removeprefix("data.").removeprefix("post.") not in CODED
        and k not in CODED
        and v is not None
    }


def records_of(ledger: Ledger, pid: UUID) -> set[str]:
    with ledger.transaction() as session:
        course = kurs.course(session, ledger.keys, str(pid))
    assert course is not None
    return set(course.poster)


# -- the log links nothing after gallring -------------------------------------------------

NAMES = ("Hélène Sjöström", "Göran Fjällbäck", "Märta Åslund", "Zoé Ekdahl")

people = st.lists(
    st.tuples(
        st.sampled_from(["850312", "790101", "911124", "660715"]),
        st.integers(100, 999).map(str),
        st.lists(st.integers(0, 3), min_size=1, max_size=3),  # sessions per participation
    ),
    min_size=1,
    max_size=3,
    unique_by=lambda t: t[0],
)


@settings(max_examples=8, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(people=people, which=st.integers(0, 10), data=st.data())
def test_after_gallring_nothing_links_the_persons_records(
    people: list[tuple[str, str, list[int]]], which: int, data: st.DataObject
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ledger = open_store(Path(tmp))
        try:
            mine: dict[int, list[UUID]] = {}
            for n, (born, serial, runs) in enumerate(people):
                p = Person(born, serial, NAMES[n])
                first = START
                for sessions in runs:
                    pid = participate(ledger, p, first, sessions, "Samtal om sömn")
                    mine.setdefault(n, []).append(pid)
                    first += timedelta(days=40)
            target = which % len(people)
            shredded = data.draw(st.sampled_from(mine[target]))
            persons = {r for pid in mine[target] for r in records_of(ledger, pid)}
            gone = records_of(ledger, shredded)
            assert gallring.shred(ledger, [shredded], SKAL, "admin", None) == 1

            by_id = {r["id"]: r for r in exported(ledger)}
            assert gone <= set(by_id)
            for a in gone:
                for b in persons - {a}:
                    shared = linking(by_id[a]) & linking(by_id[b])
                    assert shared == set(), (by_id[a]["data"], by_id[b]["data"])
            # Outside the log: no course or look-up lists the gallrad records, and no
            # stored client-id result names two of them.
            keystore = b"".join(
                f.read_bytes() for f in (Path(tmp) / "keys").glob("keystore.sqlite*")
            )
            assert [r for r in gone if r.encode() in keystore] == []
            with sqlite3.connect(Path(tmp) / "ledger.sqlite") as con:
                results = [r for (r,) in con.execute("SELECT resultat FROM iub_klient_id")]
                beside = [d for (d,) in con.execute("SELECT data FROM iub_kurs")]
                beside += [d for (d,) in con.execute("SELECT data FROM iub_person")]
            con.close()
            # Beside the log: no course or person entry opens, under any key left, to
            # anything that names a gallrad record.
            assert not any(gone & set(opened) for opened in openable(Path(tmp), beside))
            assert all(sum(r in res for r in gone) <= 1 for res in results)
            # The person's other participations still open (only that subject is gone).
            for pid in mine[target]:
                if pid != shredded:
                    assert identity.open_sealed(ledger, pid)["namn"] == NAMES[target]
            assert verify(ledger).ok
        finally:
            ledger.close()


def openable(root: Path, sealed: list[str]) -> Iterator[str]:
    """Every string inside any of these seals that opens under a key left in the key store
    (as a course or as a person entry)."""
    with sqlite3.connect(root / "keys" / "keystore.sqlite") as con:
        keys = [bytes(k) for (k,) in con.execute("SELECT nyckel FROM subjektnyckel")]
        keys += [bytes(k) for (k,) in con.execute("SELECT nyckel FROM personnyckel")]
        keys += [bytes(k) for (k,) in con.execute("SELECT nyckel FROM namndnyckel")]
    con.close()
    for data in sealed:
        for key in keys:
            for label in ("iub-kurs", "iub-person"):
                try:
                    opened = open_seal(key, label, data)
                except SealError:
                    continue
                yield from (str(v) for _, v in leaves(opened))


def test_records_of_one_participation_share_nothing_even_before_gallring(
    ledger: Ledger,
) -> None:
    """The log itself never links: the link is only in the key store."""
    p = Person("850312", "123", NAMES[0])
    pid = participate(ledger, p, START, 3, "Samtal")
    again = participate(ledger, p, START + timedelta(days=60), 2, "Samtal")
    by_id = {r["id"]: r for r in exported(ledger)}
    both = records_of(ledger, pid) | records_of(ledger, again)
    assert len(both) == 6 + 5
    for a, b in combinations(both, 2):
        assert linking(by_id[a]) & linking(by_id[b]) == set()
    starts = [by_id[r]["data"]["post"] for r in both if by_id[r]["data"]["post"]["type"] == "start"]
    assert sorted(s["aterkommande"] for s in starts) == [False, True]


# -- brute force with every remaining key ---------------------------------------------------


def _windows(blob: bytes, sizes: tuple[int, ...]) -> set[bytes]:
    return {blob[i : i + n] for n in sizes for i in range(len(blob) - n + 1)}


def test_brute_force_over_the_birth_date_finds_nothing(ledger: Ledger, tmp_path: Path) -> None:
    """With every key left in the key store, keyed BLAKE2b of every personnummer of the
    person's birth date (every serial, 10 and 12 digits) matches no stored value: not in the
    log's bytes, not in the export, not in the key store."""
    p = Person("850312", "123", NAMES[0])
    other = Person("790101", "456", NAMES[1])
    pids = [participate(ledger, p, START + timedelta(days=60 * n), 2, "Samtal") for n in range(2)]
    participate(ledger, other, START, 2, "Samtal")
    assert gallring.shred(ledger, pids, SKAL, "admin", None) == 2
    ledger.close()

    root = tmp_path / "d"
    with sqlite3.connect(root / "keys" / "keystore.sqlite") as con:
        keys = [bytes(k) for (k,) in con.execute("SELECT nyckel FROM namndnyckel")]
        keys += [bytes(k) for (k,) in con.execute("SELECT nyckel FROM subjektnyckel")]
        keys += [bytes(k) for (k,) in con.execute("SELECT nyckel FROM personnyckel")]
    con.close()
    assert len(keys) >= 3
    stored = b"".join(f.read_bytes() for f in sorted(root.glob("ledger.sqlite*")))
    stored += b"".join(f.read_bytes() for f in sorted((root / "keys").glob("keystore.sqlite*")))
    ledger = open_store(root)
    try:
        exported_text = "\n".join(export.lines(ledger)).encode()
    finally:
        ledger.close()
    raw = _windows(stored, (16, 32))
    hexes = {
        m.group() for blob in (stored, exported_text) for m in re.finditer(rb"[0-9a-f]{32,}", blob)
    }
    hex_windows = {h[i : i + n] for h in hexes for n in (32, 64) for i in range(len(h) - n + 1)}

    candidates = []
    for serial in range(1000):
        twelve = personnummer(p.born, f"{serial:03d}")
        digits = twelve.replace("-", "")
        candidates += [digits, digits[2:]]
    assert "19" + p.pnr.replace("-", "")[-10:] in candidates or p.pnr.replace("-", "") in candidates
    found = []
    for key in keys:
        for value in candidates:
            for size in (16, 32):
                for person in (b"", UPPSLAG_PERSON, b"iub-pseudonym-1"):
                    d = keyed_hash(key, value.encode(), size=size, person=person)
                    if d in raw or d.hex().encode() in hex_windows:
                        found.append(value)
    assert found == []


def test_the_brute_force_would_find_a_live_look_up(ledger: Ledger, tmp_path: Path) -> None:
    """Control: before gallring the key store's look-up is found exactly this way."""
    p = Person("850312", "123", NAMES[0])
    participate(ledger, p, START, 1, "Samtal")
    ledger.close()
    root = tmp_path / "d"
    with sqlite3.connect(root / "keys" / "keystore.sqlite") as con:
        keys = [bytes(k) for (k,) in con.execute("SELECT nyckel FROM namndnyckel")]
    con.close()
    stored = _windows(
        b"".join(f.read_bytes() for f in (root / "keys").glob("keystore.sqlite*")), (32,)
    )
    digits = p.pnr.replace("-", "")
    hits = [k for k in keys if keyed_hash(k, digits.encode(), person=UPPSLAG_PERSON) in stored]
    assert len(hits) == 1


# -- a recorded act ----------------------------------------------------------------------------


def test_gallring_is_recorded_verified_and_listed_to_tillsyn(ledger: Ledger) -> None:
    p = Person("850312", "123", NAMES[0])
    pid = participate(ledger, p, START, 1, "Samtal")
    size = sum(1 for _ in ledger.records())
    gallring.shred(ledger, [pid], SKAL, "admin", "k-1")
    result = verify(ledger)
    assert result.ok
    records = exported(ledger)
    assert len(records) == size + 2  # the access log's creation and the gallring
    (shred,) = [r for r in records if r["handelse"] == "Gallrad"]
    assert shred["data"] == {
        "roll": "admin",
        "nyckel_id": "k-1",
        "deltagande": str(pid),
        "skal": SKAL,
        "regel": None,
    }
    (listed,) = identity.accesses(ledger)
    assert (listed["atgard"], listed["deltagande"], listed["skal"]) == ("gallring", str(pid), SKAL)
    assert p.pnr not in json.dumps(records) and p.namn not in json.dumps(records)


@pytest.mark.parametrize("skal", ["", "   ", f"Gäller {personnummer('850312', '123')}"])
def test_gallring_needs_a_reason_without_identity(ledger: Ledger, skal: str) -> None:
    pid = participate(ledger, Person("850312", "123", NAMES[0]), START, 1, "Samtal")
    size = sum(1 for _ in ledger.records())
    with pytest.raises(Rejected) as refused:
        gallring.shred(ledger, [pid], skal, "admin", None)
    assert refused.value.problems[0].field == "skal"
    assert sum(1 for _ in ledger.records()) == size
    assert identity.open_sealed(ledger, pid)["namn"] == NAMES[0]


def test_a_follow_up_after_gallring_is_refused_and_a_new_one_is_a_new_subject(
    ledger: Ledger,
) -> None:
    p = Person("850312", "123", NAMES[0])
    kontakt = _event("kontakt", START, deltagare=p.deltagare(), informerad_om_ansokan=True)
    pid = append.event(ledger, kontakt)["deltagande"]
    gallring.shred(ledger, [UUID(pid)], SKAL, "admin", None)
    for ref in ({"deltagande": pid}, {"oppnad_av": kontakt["id"]}):
        with pytest.raises(Rejected) as refused:
            append.event(
                ledger,
                _event(
                    "start",
                    START,
                    deltagare=p.deltagare(),
                    fakta={"folkbokford_i_kommunen": True},
                    **ref,
                ),
            )
        assert refused.value.problems[0].code == "deltagande_gallrat"
        assert p.pnr not in str(refused.value)
    again = participate(ledger, p, START + timedelta(days=30), 1, "Nytt samtal")
    assert str(again) != pid
    assert identity.open_sealed(ledger, again)["personnummer"] == p.pnr
    starts = [
        r["data"]["post"]
        for r in exported(ledger)
        if r["data"].get("post", {}).get("type") == "start"
    ]
    assert [s["aterkommande"] for s in starts] == [False]  # the look-up was forgotten
    with pytest.raises(Rejected) as shown:
        identity.open_sealed(ledger, UUID(pid))
    assert shown.value.problems[0].code == "gallrad"


def test_gallring_by_rule_with_a_dry_run(tmp_path: Path) -> None:
    root = tmp_path / "d"
    ledger = open_store(root, cipher=True)
    p = Person("850312", "123", NAMES[0])
    old = participate(ledger, p, START, 1, "Samtal")
    new = participate(ledger, p, START + timedelta(days=200), 1, "Samtal")
    ledger.close()
    base = ["--data-dir", str(root), "--db", f"sqlite:///{root / 'ledger.sqlite'}", "--json"]
    rule = ["identity", "shred", "--older-than", "2026-03-01", "--insats", INSATS]
    runner = CliRunner()
    dry = runner.invoke(app, [*base, *rule, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.stdout)["valda"] == [str(old)]
    ledger = open_store(root, cipher=True)
    try:
        assert identity.open_sealed(ledger, old)["namn"] == NAMES[0]  # nothing done
    finally:
        ledger.close()
    done = runner.invoke(app, [*base, *rule, "--reason", SKAL, "--yes"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["gallrade"] == 1
    ledger = open_store(root, cipher=True)
    try:
        with pytest.raises(Rejected):
            identity.open_sealed(ledger, old)
        assert identity.open_sealed(ledger, new)["namn"] == NAMES[0]
        (listed,) = identity.accesses(ledger)
        assert listed["regel"] == f"senaste post före 2026-03-01 i {INSATS}"
    finally:
        ledger.close()
