"""The Merkle log over the notification log (G5), extended in the same transaction as the
records it covers, so it can never fall behind or run ahead of the store.

Leaf = RFC 9162 leaf hash of the canonical bytes of a record as stored (ciphertext
included). Positions follow notification order; gaps in notification ids do not matter.
Every perfect subtree is kept as a node (level 0 are the leaves), so proofs need
O(log n) look-ups and appending never recomputes anything.
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
    SmallInteger,
    Table,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Session

from iubledger.integrity.merkle import (
    CompactRange,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
)

metadata = MetaData()

nodes = Table(
    "iub_merkle_node",
    metadata,
    Column("level", SmallInteger, primary_key=True, autoincrement=False),
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary(32), nullable=False),
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


def load(session: Session, *, for_update: bool = False) -> CompactRange:
    """The persisted right frontier of the tree."""
    q = select(state.c.size, state.c.frontier).where(state.c.id == 1)
    if for_update:
        q = q.with_for_update()
        if session.get_bind().dialect.name == "sqlite":
            # SQLite has no FOR UPDATE: a write that changes nothing takes the database's
            # write lock now, so no other process extends or signs the tree before we commit.
            session.execute(update(state).where(state.c.id == 1).values(size=state.c.size))
    row = session.execute(q).first()
    if row is None:
        return CompactRange()
    f = bytes(row.frontier)
    return CompactRange.from_state(row.size, [f[i : i + 32] for i in range(0, len(f), 32)])


def extend(
    session: Session, notifications: Iterable[Notification]
) -> tuple[list[int], CompactRange]:
    """Append the leaves of freshly inserted records; returns their positions and the tree."""
    ordered = sorted(notifications, key=lambda n: n.id)
    tree = load(session, for_update=True)
    if not ordered:
        return [], tree
    existed = tree.size > 0
    positions = []
    rows = []
    for n in ordered:
        positions.append(tree.size)
        rows.extend({"level": lv, "idx": i, "hash": h} for lv, i, h in tree.append(leaf_of(n)))
    session.execute(insert(nodes), rows)
    values = {"size": tree.size, "frontier": b"".join(tree.to_hashes())}
    if existed:
        session.execute(update(state).where(state.c.id == 1).values(**values))
    else:
        session.execute(insert(state).values(id=1, **values))
    return positions, tree


def subtree_root(session: Session, start: int, end: int) -> bytes:
    """MTH of leaves [start, end): a stored node when perfect and aligned, else split as
    RFC 9162 §2.1.1 does (the largest power of two below the width on the left)."""
    width = end - start
    if width & (width - 1) == 0 and start % width == 0:
        level = width.bit_length() - 1
        h = session.execute(
            select(nodes.c.hash).where(nodes.c.level == level, nodes.c.idx == start >> level)
        ).scalar()
        if h is None:
            raise LookupError(f"no Merkle node for leaves [{start}, {end})")
        return bytes(h)
    k = 1 << ((width - 1).bit_length() - 1)
    return node_hash(subtree_root(session, start, start + k), subtree_root(session, start + k, end))


def inclusion(session: Session, index: int, size: int) -> list[bytes]:
    """RFC 9162 inclusion proof of leaf `index` in the tree of `size`, from stored nodes."""
    return inclusion_proof(index, size, lambda a, b: subtree_root(session, a, b))


def consistency(session: Session, old: int, new: int) -> list[bytes]:
    """RFC 9162 consistency proof between two tree sizes, from stored nodes."""
    return consistency_proof(old, new, lambda a, b: subtree_root(session, a, b))
