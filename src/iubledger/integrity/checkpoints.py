"""Signed checkpoints of the Merkle log (G5): tree size, root, time, key id, Ed25519.

An auditor keeps a checkpoint file; a later `verify --checkpoint` proves the log only
grew since. The signed message is a fixed text form, so any Ed25519 tool can check it.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import nacl.exceptions
import nacl.signing
from sqlalchemy import BigInteger, Column, LargeBinary, String, Table, insert, select
from sqlalchemy.orm import Session

from iubledger.integrity.log import metadata
from iubledger.integrity.merkle import CompactRange

ORIGIN = "iubledger"

table = Table(
    "iub_checkpoint",
    metadata,
    Column("tree_size", BigInteger, primary_key=True, autoincrement=False),
    Column("root", LargeBinary(32), nullable=False),
    Column("timestamp", String(40), nullable=False),
    Column("key_id", String(16), nullable=False),
    Column("signature", LargeBinary(64), nullable=False),
)


@dataclass(frozen=True)
class Policy:
    """Sign at least every `every` records or `seconds` seconds (env IUBLEDGER_CHECKPOINT_*)."""

    every: int = 1000
    seconds: int = 3600

    @classmethod
    def from_env(cls) -> Policy:
        return cls(
            every=int(os.environ.get("IUBLEDGER_CHECKPOINT_EVERY", cls.every)),
            seconds=int(os.environ.get("IUBLEDGER_CHECKPOINT_SECONDS", cls.seconds)),
        )


@dataclass(frozen=True)
class Checkpoint:
    tree_size: int
    root: str  # hex
    timestamp: str  # ISO 8601, UTC
    key_id: str
    signature: str  # base64

    def message(self) -> bytes:
        return signed_text(self.tree_size, bytes.fromhex(self.root), self.timestamp)

    def as_json(self) -> dict[str, Any]:
        return {"origin": ORIGIN, **asdict(self)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Checkpoint:
        """Parse an auditor's file; ValueError names what is wrong."""
        try:
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
                "not a checkpoint: needs tree_size, root (64 hex), timestamp, key_id, signature"
            ) from None
        return cp


def signed_text(tree_size: int, root: bytes, timestamp: str) -> bytes:
    """The signed note: origin, size, base64 root, time — one per line."""
    return f"{ORIGIN}\n{tree_size}\n{base64.b64encode(root).decode()}\n{timestamp}\n".encode()


def key_id(verify_key: nacl.signing.VerifyKey) -> str:
    return hashlib.sha256(bytes(verify_key)).hexdigest()[:16]


def sign(tree: CompactRange, signing_key: nacl.signing.SigningKey, now: datetime) -> Checkpoint:
    timestamp = now.astimezone(UTC).isoformat(timespec="seconds")
    root = tree.root()
    sig = signing_key.sign(signed_text(tree.size, root, timestamp)).signature
    return Checkpoint(
        tree_size=tree.size,
        root=root.hex(),
        timestamp=timestamp,
        key_id=key_id(signing_key.verify_key),
        signature=base64.b64encode(sig).decode(),
    )


def signature_ok(cp: Checkpoint, verify_key: nacl.signing.VerifyKey) -> bool:
    """True only for a checkpoint signed by this ledger's key (key id and signature)."""
    if cp.key_id != key_id(verify_key):
        return False
    try:
        verify_key.verify(cp.message(), base64.b64decode(cp.signature))
    except (nacl.exceptions.BadSignatureError, ValueError):
        return False
    return True


def latest(session: Session) -> Checkpoint | None:
    row = session.execute(select(table).order_by(table.c.tree_size.desc()).limit(1)).first()
    return None if row is None else _from_row(row)


def all_checkpoints(session: Session) -> list[Checkpoint]:
    return [_from_row(r) for r in session.execute(select(table).order_by(table.c.tree_size))]


def _from_row(row: Any) -> Checkpoint:
    return Checkpoint(
        tree_size=row.tree_size,
        root=bytes(row.root).hex(),
        timestamp=row.timestamp,
        key_id=row.key_id,
        signature=base64.b64encode(bytes(row.signature)).decode(),
    )


def store(session: Session, cp: Checkpoint) -> None:
    session.execute(
        insert(table).values(
            tree_size=cp.tree_size,
            root=bytes.fromhex(cp.root),
            timestamp=cp.timestamp,
            key_id=cp.key_id,
            signature=base64.b64decode(cp.signature),
        )
    )


def due(last: Checkpoint | None, size: int, now: datetime, policy: Policy) -> bool:
    """Whether a log of `size` records needs a new checkpoint after `last`: when none covers
    it yet and `policy.every` records or `policy.seconds` have passed since."""
    if size == 0 or (last is not None and last.tree_size >= size):
        return False
    return (
        last is None
        or size - last.tree_size >= policy.every
        or now - datetime.fromisoformat(last.timestamp) >= timedelta(seconds=policy.seconds)
    )
