"""G2 no reversible trace: nothing stored is a public function of a stripped value.

A hash of a personnummer is not anonymous (~10^10 candidates; DOMAIN.md): no unkeyed
MD5/SHA/BLAKE2b of a personnummer or a name may be stored, in any encoding. Pseudonyms
(full_14_3) are keyed per nämnd: equal for one person within a nämnd, different across
nämnder. Under undantag_14_5 (14 kap. 5 § SoL) nothing is derived from identity at all.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import nacl.encoding
import nacl.hash
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from identities import luhn
from iubledger import catalogs
from iubledger.cli import app
from iubledger.config import Settings, resolve
from iubledger.policies.crypto import UPPSLAG_PERSON, keyed_hash, open_seal, uppslag
from iubledger.services import append, decisions
from iubledger.store import tables
from iubledger.store.keys import KeyStore
from iubledger.store.ledger import Ledger

DATUM = date(2025, 11, 15)


@dataclass(frozen=True)
class Person:
    birth: date
    serial: str
    namn: str
    samordning: bool = False

    @property
    def _yymmdd(self) -> str:
        day = self.birth.day + (60 if self.samordning else 0)
        return f"{self.birth:%y%m}{day:02d}"

    @property
    def digits10(self) -> str:
        return self._yymmdd + self.serial + str(luhn(self._yymmdd + self.serial))

    @property
    def digits12(self) -> str:
        return f"{self.birth.year // 100:02d}" + self.digits10

    @property
    def centenarian(self) -> bool:
        return DATUM.year - self.birth.year >= 100

    def rendering(self, digits: int) -> str:
        if digits == 12:
            return f"{self.digits12[:8]}-{self.digits12[8:]}"
        sep = "+" if self.centenarian else "-"
        return f"{self.digits10[:6]}{sep}{self.digits10[6:]}"

    def normalised_values(self) -> list[str]:
        """Normalised personnummer (12 and 10 digits, with and without separator) and the
        name as given and lowercased."""
        d10, d12 = self.digits10, self.digits12
        return [
            d12,
            d10,
            f"{d12[:8]}-{d12[8:]}",
            f"{d10[:6]}-{d10[6:]}",
            f"{d10[:6]}+{d10[6:]}",
            self.namn,
            self.namn.lower(),
        ]

    def deltagare(self, digits: int) -> dict[str, Any]:
        return {
            "personnummer": self.rendering(digits),
            "namn": self.namn,
            "adress": "Kvarngatan 7",
            "telefon": "070-555 12 34",
            "kon": "kvinna",
        }


PEOPLE = {
    "bjorn": Person(date(1985, 3, 12), "123", "Björn Sjöström"),
    "marta": Person(date(1924, 2, 29), "482", "Märta Åslund"),
    "zoe": Person(date(1990, 7, 7), "456", "Zoé Ekdahl", samordning=True),
    # Same gender and age band as Björn (40-44 on DATUM), another person.
    "goran": Person(date(1983, 1, 20), "771", "Göran Fjällbäck"),
}


# -- unkeyed hashes --------------------------------------------------------------------------

HASHES: dict[str, Callable[[bytes], bytes]] = {
    "md5": lambda b: hashlib.md5(b).digest(),
    "sha1": lambda b: hashlib.sha1(b).digest(),
    "sha256": lambda b: hashlib.sha256(b).digest(),
    "blake2b": lambda b: hashlib.blake2b(b).digest(),
    "blake2b-32": lambda b: hashlib.blake2b(b, digest_size=32).digest(),
    "blake2b-16": lambda b: hashlib.blake2b(b, digest_size=16).digest(),
    # What the key store's look-up would be if the key were left out.
    "blake2b-32-person": lambda b: nacl.hash.blake2b(
        b, digest_size=32, person=UPPSLAG_PERSON, encoder=nacl.encoding.RawEncoder
    ),
}


def encodings(digest: bytes) -> list[bytes]:
    b64 = base64.b64encode(digest)
    url = base64.urlsafe_b64encode(digest)
    return [digest.hex().encode(), b64, b64.rstrip(b"="), url.rstrip(b"="), digest]


def traces(person: Person) -> dict[bytes, str]:
    """Every encoded unkeyed digest of the person's normalised values → what it is."""
    out: dict[bytes, str] = {}
    for value in person.normalised_values():
        for name, fn in HASHES.items():
            for enc in encodings(fn(value.encode())):
                out[enc] = f"{name}({value!r})"
    return out


def test_traces_are_what_they_claim() -> None:
    """Control: the candidates include the obvious ones a careless ledger would store."""
    p = PEOPLE["bjorn"]
    found = traces(p)
    assert hashlib.sha256(p.digits12.encode()).hexdigest().encode() in found
    assert base64.b64encode(hashlib.md5(p.namn.lower().encode()).digest()) in found


# -- decision files: two nämnder with the same insats content -----------------------------


def _catalog(name: str) -> dict[str, Any]:
    return json.loads(catalogs.read(name))


def _template(katalog: str, insats_id: str) -> dict[str, Any]:
    return copy.deepcopy(next(i for i in _catalog(katalog)["insatser"] if i["id"] == insats_id))


def namnd_file(katalog: str, insatser: dict[str, dict[str, Any]]) -> str:
    fil = {k: v for k, v in _catalog("alingsas").items() if k != "insatser"}
    fil.update(katalog=katalog, diarienummer=f"{katalog} 2025/1")
    fil["insatser"] = [{**i, "id": insats_id} for insats_id, i in insatser.items()]
    return json.dumps(fil, ensure_ascii=False)


FULL = _template("alingsas", "3.4.3")  # full_14_3, villkor: folkbokförd deltagare
UNDANTAG = _template("alingsas", "3.2.1")  # undantag_14_5, 18+ and folkbokförd

#: (insats reference, utförare): catalog insatser per regime and the two nämnder's own.
TARGETS = {
    "radgivning_14_4": ("alingsas/3.1.1", "familjeradgivningen"),
    "undantag_14_5": ("alingsas/3.2.1", "anhorigstod-beroende"),
    "full_14_3": ("alingsas/3.4.6", "socialmedicinsk-mottagning"),
    "deltagardata": ("ks-2025-510/r4", "femsamtal"),
    "aggregat": ("ks-2025-510/r7", "anhorigkonsulent"),
    "a-full-1": ("namnd-a/full-1", "boendecoaching"),
    "a-full-2": ("namnd-a/full-2", "boendecoaching"),
    "a-undantag": ("namnd-a/undantag-1", "anhorigstod-beroende"),
    "b-full-1": ("namnd-b/full-1", "boendecoaching"),
}


def _settings(root: Path) -> Settings:
    return resolve(str(root), f"sqlite:///{root / 'ledger.sqlite'}")


def _event(kind: str, target: str, **kw: Any) -> dict[str, Any]:
    insats, utforare = TARGETS[target]
    return {
        "id": str(uuid.uuid4()),
        "type": kind,
        "insats": insats,
        "utforare": utforare,
        "datum": DATUM.isoformat(),
        **kw,
    }


@dataclass
class Store:
    root: Path  # the at-rest-cipher-off data dir
    db: bytes
    exported: list[dict[str, Any]]
    posts: dict[str, list[dict[str, Any]]]  # participation id → posts in order
    participation: dict[tuple[str, str, int], str]  # (person, target, digits) → id
    keys: list[bytes]


def _script() -> list[tuple[tuple[str, str, int], list[dict[str, Any]]]]:
    """Each person under each target; namnd-a/full-1 and the undantag insatser twice."""
    plan: list[tuple[str, str, int]] = []
    for who in PEOPLE:
        for target in TARGETS:
            plan.append((who, target, 12))
        plan += [(who, "a-full-1", 10), (who, "undantag_14_5", 10)]
    script = []
    for who, target, digits in plan:
        p = PEOPLE[who]
        # Under aggregat only counts are documented: no free text.
        note = {} if target == "aggregat" else {"anteckning": "Samtal om oro."}
        kontakt = _event(
            "kontakt",
            target,
            deltagare=p.deltagare(digits),
            informerad_om_ansokan=True,
            **note,
        )
        start = _event(
            "start",
            target,
            oppnad_av=kontakt["id"],
            deltagare=p.deltagare(digits),
            fakta={"folkbokford_i_kommunen": True},
        )
        script.append(((who, target, digits), [kontakt, start]))
    return script


def _build(root: Path, script: list[Any], *, cipher: bool) -> dict[tuple[str, str, int], str]:
    s = _settings(root)
    KeyStore(s.key_dir).init()
    ledger = Ledger(s, at_rest_cipher=cipher)
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
        ids = {}
        for key, events in script:
            for e in events:
                ids[key] = append.event(ledger, e)["deltagande"]
        return ids
    finally:
        ledger.close()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    root = tmp_path_factory.mktemp("g2")
    script = _script()
    ids = _build(root / "plain", script, cipher=False)
    _build(root / "ciphered", script, cipher=True)

    plain = root / "plain"
    db = b"".join(
        p.read_bytes() for p in sorted(plain.glob("ledger.sqlite*")) if not p.name.endswith("shm")
    )
    ledger = Ledger(_settings(plain), at_rest_cipher=False)
    try:
        posts: dict[str, list[dict[str, Any]]] = {}
        for _, e in ledger.records():
            if hasattr(e, "post"):
                posts.setdefault(str(e.originator_id), []).append(e.post)
    finally:
        ledger.close()
    with sqlite3.connect(plain / "keys" / "keystore.sqlite") as con:
        keys = [bytes(k) for (k,) in con.execute("SELECT nyckel FROM namndnyckel")]
        keys += [bytes(k) for (k,) in con.execute("SELECT nyckel FROM subjektnyckel")]
        keys += [bytes(k) for (k,) in con.execute("SELECT nyckel FROM personnyckel")]
    con.close()

    ciphered = root / "ciphered"
    result = CliRunner().invoke(
        app,
        ["--data-dir", str(ciphered), "--db", f"sqlite:///{ciphered / 'ledger.sqlite'}", "export"],
    )
    assert result.exit_code == 0, result.output
    exported = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    yield Store(root=plain, db=db, exported=exported, posts=posts, participation=ids, keys=keys)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _keys(v)
    elif isinstance(value, list):
        for v in value:
            yield from _keys(v)


# -- tests --------------------------------------------------------------------------------


@pytest.mark.parametrize("who", sorted(PEOPLE))
def test_no_unkeyed_hash_in_stored_bytes(store: Store, who: str) -> None:
    lowered = store.db.lower()
    found = [
        what
        for enc, what in traces(PEOPLE[who]).items()
        if enc in store.db or (enc.isalnum() and enc.lower() in lowered)
    ]
    assert found == []


@pytest.mark.backends
@pytest.mark.parametrize("who", sorted(PEOPLE))
def test_no_unkeyed_hash_in_export(store: Store, who: str) -> None:
    assert len(store.exported) > 40
    candidates = {enc.decode(): what for enc, what in traces(PEOPLE[who]).items() if enc.isascii()}
    found = [
        what
        for s in {s for rec in store.exported for s in _strings(rec)}
        for enc, what in candidates.items()
        if enc in s or enc.lower() in s.lower()
    ]
    assert found == []


def test_keys_never_enter_the_event_store(store: Store) -> None:
    """Pseudonym and subject keys are kept outside the event store (G2, G3)."""
    assert len(store.keys) >= 3
    for key in store.keys:
        for enc in encodings(key):
            assert enc not in store.db


def _namnd_keys(store: Store) -> dict[tuple[str, str], bytes]:
    with sqlite3.connect(store.root / "keys" / "keystore.sqlite") as con:
        rows = con.execute("SELECT namnd, syfte, nyckel FROM namndnyckel").fetchall()
    con.close()
    return {(n, p): bytes(k) for n, p, k in rows}


@pytest.mark.backends
@pytest.mark.parametrize("who", sorted(PEOPLE))
def test_no_keyed_hash_in_the_log(store: Store, who: str) -> None:
    """G2: nothing in the log is computable from the personnummer, not even with a key:
    keyed BLAKE2b of every normalised value under every key of the key store (any nämnd,
    any purpose, with and without the look-up's personalisation) is in no stored byte and
    no exported value."""
    keys = _namnd_keys(store)
    assert ("namnd-a", "person-uppslag") in keys
    candidates: set[bytes] = set()
    for key in keys.values():
        for value in PEOPLE[who].normalised_values():
            for size in (16, 32, 64):
                for person in (b"", UPPSLAG_PERSON, b"iub-pseudonym-1"):
                    digest = keyed_hash(key, value.encode(), size=size, person=person)
                    candidates.update(encodings(digest))
    exported = {s for rec in store.exported for s in _strings(rec)}
    assert [c for c in candidates if c in store.db] == []
    ascii_ = {c.decode() for c in candidates if c.isascii()}
    assert [c for c in ascii_ for s in exported if c in s] == []


@pytest.mark.backends
def test_the_person_look_up_is_in_the_key_store_per_namnd(store: Store) -> None:
    """The keyed look-up that links a person's participations is kept only in the key
    store, keyed per nämnd: equal for any rendering of the personnummer within one nämnd,
    different across nämnder; the log holds only the derived fact (returning or not)."""
    keys = _namnd_keys(store)
    with sqlite3.connect(store.root / "keys" / "keystore.sqlite") as con:
        found = {bytes(u): (i, bytes(k)) for u, i, k in con.execute("SELECT * FROM personnyckel")}
    con.close()
    ledger = Ledger(_settings(store.root), at_rest_cipher=False)
    try:
        with ledger.transaction() as session:
            sealed = dict(session.execute(select(tables.person.c.id, tables.person.c.data)).all())
    finally:
        ledger.close()
    # The database holds each entry by a random id, sealed under the person's key.
    entries = {u: open_seal(k, "iub-person", sealed[i]) for u, (i, k) in found.items()}
    for who, p in PEOPLE.items():
        a = entries[uppslag(keys[("namnd-a", "person-uppslag")], p.digits12)]
        b = entries[uppslag(keys[("namnd-b", "person-uppslag")], p.digits12)]
        assert a["startade"] == {"namnd-a/full-1": 2, "namnd-a/full-2": 1}, who
        assert b["startade"] == {"namnd-b/full-1": 1}, who
    starts = [
        p
        for rec in store.exported
        if (p := rec["data"].get("post")) and p["type"] == "start" and "aterkommande" in p
    ]
    returning = [p["insats"] for p in starts if p["aterkommande"]]
    assert sorted(returning) == ["namnd-a/full-1"] * len(PEOPLE)


@pytest.mark.backends
@pytest.mark.parametrize("target", ["undantag_14_5", "a-undantag", "radgivning_14_4", "aggregat"])
def test_no_pseudonym_without_full_documentation(store: Store, target: str) -> None:
    for who in PEOPLE:
        for post in store.posts[store.participation[(who, target, 12)]]:
            assert post["beslut"]["regim"] != "full_14_3"
            assert "pseudonym" not in set(_keys(post))
            assert "forsegling" not in post


@pytest.mark.backends
def test_undantag_stores_nothing_derived_from_identity(store: Store) -> None:
    """Two participations of one person, and one of another person of the same gender and
    age band, are documented identically; the random besökskod is answered once and never
    stored (14 kap. 5 §: linkage lives outside the log)."""

    def comparable(who: str, digits: int) -> list[dict[str, Any]]:
        posts = store.posts[store.participation[(who, "undantag_14_5", digits)]]
        return [{k: v for k, v in p.items() if k != "besokskod"} for p in posts]

    same_person = comparable("bjorn", 12)
    assert comparable("bjorn", 10) == same_person
    assert comparable("goran", 12) == same_person
    codes = {
        p["besokskod"]
        for who in ("bjorn", "goran")
        for digits in (12, 10)
        for p in store.posts[store.participation[(who, "undantag_14_5", digits)]]
        if "besokskod" in p
    }
    assert not codes
