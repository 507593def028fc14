"""Witness cosignatures of the ledger's checkpoints (C2SP tlog-cosignature, Ed25519 v1),
stored beside the log: each row is the cosigned checkpoint text, the witness's verifier
key and its signature. Verify compares every cosigned root with the recomputed log (G5).

A cosignature's time must be the start of an ISO week (the witness truncates it): no
stored field dates records finer than a week (14 kap. 5 § SoL, G8).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import BigInteger, Column, LargeBinary, String, Table, Text, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from iubledger.integrity import note
from iubledger.integrity.log import metadata
from iubledger.projections.upsert import insert_ignore

table = Table(
    "iub_cosignatur",
    metadata,
    Column("vittne", String(200), primary_key=True),
    Column("key_id", String(8), primary_key=True),
    Column("tree_size", BigInteger, primary_key=True, autoincrement=False),
    Column("checkpoint", Text, nullable=False),
    Column("tid", BigInteger, nullable=False),
    Column("signature", LargeBinary(72), nullable=False),
    Column("verifier", Text, nullable=False),
)


@dataclass(frozen=True)
class Cosignature:
    """One witness's cosignature over one checkpoint text."""

    body: note.Body
    witness: note.Verifier
    signature: note.Signature

    @property
    def time(self) -> int | None:
        """The cosignature's time when it verifies under the witness's key, else None."""
        return note.cosignature_time(self.signature, self.body.text(), self.witness)

    def line(self) -> str:
        return self.signature.line()


def is_week_start(timestamp: int) -> bool:
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.weekday() == 0 and moment.time() == datetime.min.time()


def parse(checkpoint_note: str, witness: note.Verifier) -> Cosignature:
    """The witness's cosignature in a cosigned checkpoint note; NoteError when there is
    none that verifies, or its time is finer than a week."""
    parsed = note.Note.parse(checkpoint_note)
    body = note.Body.parse(parsed.text)
    for sig in parsed.signatures:
        cosig = Cosignature(body, witness, sig)
        timestamp = cosig.time
        if timestamp is None:
            continue
        if not is_week_start(timestamp):
            raise note.NoteError("a cosignature's time must be the start of an ISO week")
        return cosig
    raise note.NoteError("no valid cosignature by that witness on the checkpoint")


def store(session: Session, c: Cosignature) -> None:
    """Keep a cosignature (a repeated one is kept once)."""
    insert_ignore(
        session,
        table,
        [
            {
                "vittne": c.witness.name,
                "key_id": c.witness.key_id.hex(),
                "tree_size": c.body.size,
                "checkpoint": c.body.text(),
                "tid": c.time or 0,
                "signature": c.signature.signature,
                "verifier": c.witness.text(),
            }
        ],
    )


def all_cosignatures(session: Session | Connection) -> list[Cosignature]:
    """Every stored cosignature; rows that no longer parse are skipped here and reported
    by verify as not verifying (their count differs)."""
    found = []
    for r in session.execute(select(table).order_by(table.c.tree_size)):
        try:
            witness = note.Verifier.parse(r.verifier)
            body = note.Body.parse(r.checkpoint)
            sig = note.Signature(witness.name, bytes.fromhex(r.key_id), bytes(r.signature))
        except (note.NoteError, ValueError, TypeError):
            continue
        found.append(Cosignature(body, witness, sig))
    return found


def count(session: Session | Connection) -> int:
    return len(session.execute(select(table.c.tree_size)).all())
