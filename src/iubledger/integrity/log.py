"""The Merkle log over the notification log (G5), extended in the same transaction as
the records it covers, so it can never fall behind or run ahead of the store.

Leaf = RFC 9162 leaf hash of the canonical bytes of a record as stored (ciphertext
included). Positions follow notification order; gaps in notification ids do not matter.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from uuid import UUID

from eventsourcing.persistence import Notification
from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Session

from iubledger.integrity.merkle import CompactRange, leaf_hash

metadata = MetaData()

leaves = Table(
    "iub_merkle_leaf",
    metadata,
    Column("position", BigInteger, primary_key=True, autoincrement=False),
    Column("notification_id", BigInteger, nullable=False, unique=True),
    Column("leaf_hash", LargeBinary(32), nullable=False),
)
state = Table(
    "iub_merkle_state",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("size", BigInteger, nullable=False),
    Column("frontier", LargeBinary, nullable=False),
)

RECORD_FORMAT = b"iubledger.record/1\x00"


def record_bytes(originator_id: UUID, originator_version: int, topic: str, state_: bytes) -> bytes:
    """Canonical, unambiguous bytes of one stored record (length-prefixed fields)."""
    t = topic.encode()
    return b"".join(
        (
            RECORD_FORMAT,
            originator_id.bytes,
            struct.pack(">QI", originator_version, len(t)),
            t,
            struct.pack(">Q", len(state_)),
            state_,
        )
    )


def leaf_of(n: Notification) -> bytes:
    oid = n.originator_id if isinstance(n.originator_id, UUID) else UUID(str(n.originator_id))
    return leaf_hash(record_bytes(oid, n.originator_version, n.topic, n.state))


def _frontier(hashes: list[bytes]) -> bytes:
    return b"".join(hashes)


def load(session: Session, *, for_update: bool = False) -> CompactRange:
    q = select(state.c.size, state.c.frontier).where(state.c.id == 1)
    if for_update:
        q = q.with_for_update()
    row = session.execute(q).first()
    if row is None:
        return CompactRange()
    f = bytes(row.frontier)
    return CompactRange.from_state(row.size, [f[i : i + 32] for i in range(0, len(f), 32)])


def extend(session: Session, notifications: Iterable[Notification]) -> list[int]:
    """Append the leaves of freshly inserted records; returns their positions."""
    ordered = sorted(notifications, key=lambda n: n.id)
    if not ordered:
        return []
    tree = load(session, for_update=True)
    existed = tree.size > 0
    positions = []
    rows = []
    for n in ordered:
        h = leaf_of(n)
        rows.append({"position": tree.size, "notification_id": n.id, "leaf_hash": h})
        positions.append(tree.size)
        tree.append(h)
    session.execute(insert(leaves), rows)
    values = {"size": tree.size, "frontier": _frontier(tree.to_hashes())}
    if existed:
        session.execute(update(state).where(state.c.id == 1).values(**values))
    else:
        session.execute(insert(state).values(id=1, **values))
    return positions
