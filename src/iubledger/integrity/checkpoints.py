"""Signed checkpoints of the Merkle log (G5): C2SP tlog-checkpoint signed notes.

The note names the ledger instance (its origin), the tree size and the base64 root, with
one extension line giving the signing policy (`every <N>`: a checkpoint at least every N
records), and one Ed25519 signature line (C2SP signed-note). It carries no time. The JSON
form and the stored row keep the signing time truncated to the start of its ISO week
(Monday 00:00 UTC): no checkpoint dates records finer than a week (14 kap. 5 § SoL, G8).

Checkpoint files of the earlier form (origin `iubledger`, a 16-hex key id, a signature
over origin, size, root and time) are still read and verified.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import nacl.exceptions
import nacl.signing
from sqlalchemy import BigInteger, Column, Integer, LargeBinary, String, Table, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from iubledger.integrity import note
from iubledger.integrity.log import metadata
from iubledger.integrity.merkle import CompactRange

LEGACY_ORIGIN = "iubledger"
POLICY = "every "

table = Table(
    "iub_checkpoint",
    metadata,
    Column("tree_size", BigInteger, primary_key=True, autoincrement=False),
    Column("root", LargeBinary(32), nullable=False),
    Column("timestamp", String(40), nullable=False),
    Column("key_id", String(16), nullable=False),
    Column("signature", LargeBinary(64), nullable=False),
    Column("origin", String(200)),
    Column("every", Integer),
)


@dataclass(frozen=True)
class Policy:
    """Sign at least every `every` records, and `seconds` after the last checkpoint this
    process saw (env IUBLEDGER_CHECKPOINT_*); the time is the process's own clock."""

    every: int = 1000
    seconds: int = 3600

    @classmethod
    def from_env(cls) -> Policy:
        return cls(
            every=int(os.environ.get("IUBLEDGER_CHECKPOINT_EVERY", cls.every)),
            seconds=int(os.environ.get("IUBLEDGER_CHECKPOINT_SECONDS", cls.seconds)),
        )


def week_start(moment: datetime) -> str:
    """The start of the ISO week of `moment` (Monday 00:00 UTC), ISO 8601 (G8)."""
    day = moment.astimezone(UTC).date()
    monday = day - timedelta(days=day.weekday())
    return datetime(monday.year, monday.month, monday.day, tzinfo=UTC).isoformat()


@dataclass(frozen=True)
class Checkpoint:
    tree_size: int
    root: str  # hex
    timestamp: str  # ISO 8601 UTC: the start of the signing week (legacy files: the moment)
    key_id: str  # hex: the note's 4-byte key ID (legacy: 8 bytes of SHA-256 of the key)
    signature: str  # base64 Ed25519
    origin: str = LEGACY_ORIGIN
    every: int | None = None

    @property
    def legacy(self) -> bool:
        return len(self.key_id) == 16

    def body(self) -> note.Body:
        ext = () if self.every is None else (f"{POLICY}{self.every}",)
        return note.Body(self.origin, self.tree_size, bytes.fromhex(self.root), ext)

    def note(self) -> str:
        """The C2SP signed note (checkpoint text, blank line, signature line)."""
        sig = note.Signature(
            self.origin, bytes.fromhex(self.key_id), base64.b64decode(self.signature)
        )
        return note.Note(self.body().text(), (sig,)).render()

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "origin": self.origin,
            "tree_size": self.tree_size,
            "root": self.root,
            "timestamp": self.timestamp,
            "key_id": self.key_id,
            "signature": self.signature,
        }
        if not self.legacy:
            data["every"] = self.every
            data["note"] = self.note()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Checkpoint:
        """Parse an auditor's file (this form or the earlier one); ValueError names what
        is wrong."""
        try:
            if "note" in data:
                return cls.from_note(str(data["note"]), str(data.get("timestamp", "")))
            cp = cls(
                tree_size=int(data["tree_size"]),
                root=str(data["root"]),
                timestamp=str(data["timestamp"]),
                key_id=str(data["key_id"]),
                signature=str(data["signature"]),
            )
            if len(bytes.fromhex(cp.root)) != 32 or len(base64.b64decode(cp.signature)) != 64:
                raise ValueError
        except (KeyError, TypeError, ValueError):
            raise ValueError(
                "not a checkpoint: needs a signed note, or tree_size, root (64 hex), "
                "timestamp, key_id, signature"
            ) from None
        return cp

    @classmethod
    def from_note(cls, text: str, timestamp: str = "") -> Checkpoint:
        """A checkpoint from its signed note (the signature line naming its origin)."""
        parsed = note.Note.parse(text)
        body = note.Body.parse(parsed.text)
        mine = [s for s in parsed.signatures if s.name == body.origin and len(s.signature) == 64]
        if not mine:
            raise note.NoteError("not a checkpoint: no signature by its origin")
        every = None
        for ext in body.extensions:
            if ext.startswith(POLICY) and ext[len(POLICY) :].isdigit():
                every = int(ext[len(POLICY) :])
        cp = cls(
            tree_size=body.size,
            root=body.root.hex(),
            timestamp=timestamp,
            key_id=mine[0].key_id.hex(),
            signature=base64.b64encode(mine[0].signature).decode(),
            origin=body.origin,
            every=every,
        )
        if cp.body().text() != parsed.text:
            raise note.NoteError("not a checkpoint of this ledger's form: unknown extension lines")
        return cp


def _legacy_text(cp: Checkpoint) -> bytes:
    root = base64.b64encode(bytes.fromhex(cp.root)).decode()
    return f"{LEGACY_ORIGIN}\n{cp.tree_size}\n{root}\n{cp.timestamp}\n".encode()


def legacy_key_id(verify_key: nacl.signing.VerifyKey) -> str:
    return hashlib.sha256(bytes(verify_key)).hexdigest()[:16]


def sign(
    tree: CompactRange, signing_key: nacl.signing.SigningKey, origin: str, every: int, now: datetime
) -> Checkpoint:
    """A checkpoint of `tree` signed as a C2SP note under `origin`."""
    body = note.Body(origin, tree.size, tree.root(), (f"{POLICY}{every}",))
    sig = note.sign(body.text(), origin, signing_key)
    return Checkpoint(
        tree_size=tree.size,
        root=body.root.hex(),
        timestamp=week_start(now),
        key_id=sig.key_id.hex(),
        signature=base64.b64encode(sig.signature).decode(),
        origin=origin,
        every=every,
    )


def signature_ok(cp: Checkpoint, verifier: note.Verifier) -> bool:
    """True only for a checkpoint signed by this ledger's key under its name (key id and
    signature); an earlier-form checkpoint by the key alone."""
    try:
        if cp.legacy:
            if cp.key_id != legacy_key_id(verifier.key):
                return False
            verifier.key.verify(_legacy_text(cp), base64.b64decode(cp.signature))
            return True
        return cp.origin == verifier.name and note.Note.parse(cp.note()).signed_by(verifier)
    except (nacl.exceptions.BadSignatureError, ValueError):
        return False


def latest(session: Session | Connection) -> Checkpoint | None:
    row = session.execute(select(table).order_by(table.c.tree_size.desc()).limit(1)).first()
    return None if row is None else _from_row(row)


def all_checkpoints(session: Session | Connection) -> list[Checkpoint]:
    return [_from_row(r) for r in session.execute(select(table).order_by(table.c.tree_size))]


def _from_row(row: Any) -> Checkpoint:
    return Checkpoint(
        tree_size=row.tree_size,
        root=bytes(row.root).hex(),
        timestamp=row.timestamp,
        key_id=row.key_id,
        signature=base64.b64encode(bytes(row.signature)).decode(),
        origin=row.origin or LEGACY_ORIGIN,
        every=row.every,
    )


def store(session: Session, cp: Checkpoint) -> None:
    session.execute(
        insert(table).values(
            tree_size=cp.tree_size,
            root=bytes.fromhex(cp.root),
            timestamp=cp.timestamp,
            key_id=cp.key_id,
            signature=base64.b64decode(cp.signature),
            origin=cp.origin,
            every=cp.every,
        )
    )


def due(last_size: int, size: int, elapsed: float, policy: Policy) -> bool:
    """Whether a log of `size` records needs a new checkpoint after one of `last_size`
    (0: none yet) seen `elapsed` seconds ago by this process."""
    if size == 0 or last_size >= size:
        return False
    return last_size == 0 or size - last_size >= policy.every or elapsed >= policy.seconds
