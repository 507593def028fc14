"""What tillsyn relies on to know the log was never rewritten (G5): signed checkpoints,
inclusion receipts, consistency proofs (RFC 9162), verify, audit bundles and witness
cosignatures."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy.exc
from sqlalchemy import select, text
from sqlalchemy.engine import Connection

from iubledger.integrity import bundle, checkpoints, cosignatures
from iubledger.integrity import log as merkle_log
from iubledger.integrity.merkle import inclusion_proof
from iubledger.integrity.note import NoteError, Verifier
from iubledger.integrity.snapshot import StoreSource, snapshot
from iubledger.integrity.verify import Result
from iubledger.integrity.verify import verify as verify_log
from iubledger.projections import deltagande, runner
from iubledger.schemas.base import Rejected
from iubledger.store import tables
from iubledger.store.keys import KeyCustodyError, KeystoreError
from iubledger.store.ledger import Ledger


def checkpoint(ledger: Ledger) -> checkpoints.Checkpoint | None:
    """A checkpoint of the current log, signed now if the latest is behind."""
    with ledger.locked() as (session, locked):
        return ledger.sign_if_due(session, locked.tree, force=True)


def latest_checkpoint(ledger: Ledger) -> checkpoints.Checkpoint | None:
    with ledger.transaction() as session:
        return checkpoints.latest(session)


def records_in(database_url: str) -> int:
    """How many records a database's log holds (0 when there is no store yet), read
    without keys: `init` makes new keys only for a store without records."""
    url = sqlalchemy.engine.make_url(database_url)
    if url.get_backend_name() == "sqlite" and not (url.database and Path(url.database).exists()):
        return 0  # no store yet, and connecting would create the file
    engine = sqlalchemy.create_engine(database_url)
    try:
        with engine.connect() as conn:
            if not sqlalchemy.inspect(conn).has_table(merkle_log.state.name):
                return 0
            return merkle_log.load(conn).size
    except (sqlalchemy.exc.DatabaseError, ValueError):
        return 0
    finally:
        engine.dispose()


def public_key(ledger: Ledger) -> str:
    """The ledger's verifier key (C2SP signed-note), for auditors and witnesses."""
    return ledger.verifier.text()


def size(ledger: Ledger) -> int:
    """The number of records in the log."""
    with ledger.transaction() as session:
        return merkle_log.load(session).size


def receipt(ledger: Ledger, position: int, tree_size: int | None = None) -> dict[str, Any]:
    """Evidence that the record at `position` is in the log: its leaf hash and an
    inclusion proof against a signed checkpoint (the latest, or the one of `tree_size`)."""
    return receipts(ledger, [position], tree_size)[0]


def receipts(
    ledger: Ledger, positions: Sequence[int], tree_size: int | None = None
) -> list[dict[str, Any]]:
    """Receipts for many positions against one checkpoint, sharing the subtree look-ups."""
    with ledger.transaction() as session:
        signed = checkpoints.all_checkpoints(session)
        cps = [c for c in signed if c.tree_size > max(positions, default=0)]
        if tree_size is not None:
            cps = [c for c in cps if c.tree_size == tree_size]
        if not cps:
            raise Rejected.one(
                "inget_kvitto", "position", "no signed checkpoint covers that position yet"
            )
        cp = cps[-1]
        memo: dict[tuple[int, int], bytes] = {}

        def subtree(a: int, b: int) -> bytes:
            if (a, b) not in memo:
                memo[(a, b)] = merkle_log.subtree_root(session, a, b)
            return memo[(a, b)]

        return [
            {
                "position": p,
                "leaf_hash": subtree(p, p + 1).hex(),
                "proof": [h.hex() for h in inclusion_proof(p, cp.tree_size, subtree)],
                "checkpoint": cp.as_json(),
            }
            for p in positions
        ]


def consistency(ledger: Ledger, old: int, new: int) -> list[str]:
    """A consistency proof between two sizes of the log (RFC 9162 § 2.1.4)."""
    with ledger.transaction() as session:
        return [p.hex() for p in merkle_log.consistency(session, old, new)]


def add_cosignature(ledger: Ledger, cosigned_note: str, witness: str) -> dict[str, Any]:
    """Keep a witness's cosignature of one of the ledger's checkpoints (C2SP
    tlog-cosignature); refused unless it verifies under the witness key given, over a
    checkpoint this ledger signed (G5)."""
    try:
        verifier = Verifier.parse(witness)
        cosig = cosignatures.parse(cosigned_note, verifier)
    except NoteError as e:
        raise Rejected.one("kontrasignatur", "cosignature", str(e)) from None
    with ledger.transaction() as session:
        signed = {cp.tree_size: cp for cp in checkpoints.all_checkpoints(session)}
        cp = signed.get(cosig.body.size)
        if cp is None or cp.body() != cosig.body:
            raise Rejected.one(
                "kontrasignatur", "cosignature", "not a checkpoint this ledger signed"
            )
        cosignatures.store(session, cosig)
    return {"witness": verifier.name, "tree_size": cosig.body.size}


def verify(
    ledger: Ledger,
    saved: checkpoints.Checkpoint | None = None,
    *,
    public_key: Verifier | None = None,
    deep: bool = False,
    decode: bool = True,
    witnesses: Sequence[Verifier] | None = None,
    tick: Callable[[int], None] = lambda n: None,
) -> Result:
    """Recompute the Merkle log in one snapshot and check every node, checkpoint,
    cosignature, decryption and decoding, that the log only grew since a saved checkpoint,
    that the read models are what the log says, and the MACs of the rows outside the log.
    `public_key` pins the ledger's key (else the data dir's signing key is used); without
    `decode` (no at-rest key in reach) records are checked as stored, not opened."""
    verifier = public_key or ledger.verifier
    events = ledger.recorder.events_record_cls.__table__.name  # type: ignore[attr-defined]
    engine = ledger.recorder.datastore.engine  # type: ignore[attr-defined]
    try:
        with snapshot(engine) as conn:
            tracked = runner.position(conn, deltagande.Participation.name)  # type: ignore[arg-type]
            model = _Model(tracked)
            res = verify_log(
                StoreSource(conn, events),
                verifier,
                saved,
                decode=ledger.mapper.to_domain_event if decode else None,
                observe=model.observe,
                tick=tick,
                witnesses=witnesses,
            )
            if decode:
                model.compare(conn, res)
            _macs(ledger, conn, res)
            if deep:
                _database(conn, res)
    except sqlalchemy.exc.DatabaseError as e:
        res = Result()
        res.add(None, "database", f"the database cannot be read ({_first_line(e)})")
    return res


def audit_bundle(ledger: Ledger, out: Path) -> int:
    """Write the records as stored, the checkpoints and the cosignatures of one snapshot
    into the new folder `out`; returns the number of records."""
    engine = ledger.recorder.datastore.engine  # type: ignore[attr-defined]
    events = ledger.recorder.events_record_cls.__table__.name  # type: ignore[attr-defined]
    with snapshot(engine) as conn:
        return bundle.write(out, StoreSource(conn, events))


def verify_bundle(
    folder: Path,
    public_key: Verifier,
    saved: checkpoints.Checkpoint | None = None,
    witnesses: Sequence[Verifier] | None = None,
    tick: Callable[[int], None] = lambda n: None,
) -> Result:
    """Verify an audit bundle offline with the ledger's public key alone (G5); BundleError
    when the folder is not a readable bundle."""
    source = bundle.BundleSource(folder)
    return verify_log(source, public_key, saved, tick=tick, witnesses=witnesses)


class _Model:
    """The participation read model recomputed from the log, up to the record it says it
    reflects (its tracking position), compared with the stored rows."""

    def __init__(self, tracked: int) -> None:
        self.tracked = tracked
        self.counts: Counter[tuple[Any, ...]] = Counter()
        self.active: set[tuple[Any, ...]] = set()
        self.pseudonyms: dict[str, str] = {}

    def observe(self, nid: int, event: Any) -> None:
        if nid <= self.tracked:
            deltagande.fold(event, self.counts, self.active, self.pseudonyms)

    def compare(self, conn: Connection, res: Result) -> None:
        stored = Counter(
            {
                (r.dag, r.insats, r.utforare, r.matt, r.varde): r.antal
                for r in conn.execute(select(deltagande.matt))
            }
        )
        active = {(r.dag, r.insats, r.nyckel) for r in conn.execute(select(deltagande.aktiv))}
        counts = +self.counts
        wrong = sorted(
            (k for k in stored.keys() | counts.keys() if stored[k] != counts[k]), key=str
        )
        if wrong:
            dag, insats, _, matt, _ = wrong[0]
            res.add(
                None,
                "projection",
                f"{len(wrong)} row(s) of the participation read model differ from the log "
                f"(first: {dag} {insats} {matt}); rebuild it from the log",
            )
        if active != self.active:
            res.add(None, "projection", "the active-participant read model differs from the log")
        person = {r.nyckel: r.pseudonym for r in conn.execute(select(deltagande.person))}
        if person != self.pseudonyms:
            res.add(None, "projection", "the participant read model differs from the log")


def _macs(ledger: Ledger, conn: Connection, res: Result) -> None:
    """Client-id results and refusal counts against their MACs (keystore key)."""
    try:
        key = ledger.keys.mac_key(tables.MAC_SYFTE)
    except (KeyCustodyError, KeystoreError):
        res.notes.append("the keystore is not in reach: the row MACs were not checked")
        return
    k, v = tables.klient_id, tables.avvisning
    altered = [
        r.resultat
        for r in conn.execute(select(k.c.nyckel, k.c.resultat, k.c.mac))
        if r.mac is None or bytes(r.mac) != tables.klient_mac(key, bytes(r.nyckel), r.resultat)
    ]
    if altered:
        res.add(
            _position(altered[0]),
            "klient_id_mac",
            f"{len(altered)} stored client-id result(s) were altered outside the ledger",
        )
    for r in conn.execute(select(v.c.dag, v.c.regel, v.c.antal, v.c.mac).order_by(v.c.dag)):
        if r.mac is None or bytes(r.mac) != tables.avvisning_mac(key, r.dag, r.regel, r.antal):
            res.add(
                None,
                "avvisning_mac",
                f"the refusal count of {r.dag} ({r.regel}) was altered outside the ledger",
            )


def _position(resultat: str) -> int | None:
    try:
        p = json.loads(resultat).get("position")
    except (ValueError, AttributeError):
        return None
    return p if isinstance(p, int) else None


def _database(conn: Connection, res: Result) -> None:
    """The database's own check of its pages and indexes (SQLite integrity_check;
    PostgreSQL amcheck when the extension is installed)."""
    if conn.dialect.name == "sqlite":
        lines = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check")]
        if lines != ["ok"]:
            res.add(None, "database", f"SQLite integrity_check: {lines[0]}")
        return
    has = conn.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'amcheck'")).first()
    if has is None:
        res.notes.append("amcheck is not installed: the indexes were not checked")
        return
    indexes = conn.execute(
        text(
            "SELECT c.oid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_am a ON a.oid = c.relam WHERE a.amname = 'btree' "
            "AND c.relnamespace = 'public'::regnamespace"
        )
    ).all()
    for (oid,) in indexes:
        conn.execute(text("SELECT bt_index_check(:oid)"), {"oid": oid})


def _first_line(e: BaseException) -> str:
    orig = getattr(e, "orig", None)
    lines = str(orig if orig is not None else e).strip().splitlines()
    return lines[0] if lines else type(e).__name__
