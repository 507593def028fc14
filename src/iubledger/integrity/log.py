"""The Merkle log over the notification log (G5), extended in the same transaction as the
records it covers, so it can never fall behind or run ahead of the store.

Leaf = RFC 9162 leaf hash of the canonical bytes of a record as stored (ciphertext
included). Positions follow notification order; gaps in notification ids do not matter.
Every perfect subtree is kept as a node (level 0 are the leaves), so proofs need
O(log n) look-ups and appending never recomputes anything.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple
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
from sqlalchemy.engine import Connection
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
    # Commits that changed the nämnd's decisions: a process holding the decisions in
    # memory reloads them when this moved (it is read with the lock, at no extra cost).
    Column("beslut_andringar", BigInteger, nullable=False, server_default="0"),
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


def load(session: Session | Connection) -> CompactRange:
    """The persisted right frontier of the tree, for readers."""
    row = session.execute(select(state.c.size, state.c.frontier).where(state.c.id == 1)).first()
    return CompactRange() if row is None else _frontier(row)


def create_state(session: Session | Connection) -> None:
    """The state row of an empty log, made with the schema: it is the writers' lock."""
    if session.execute(select(state.c.id).where(state.c.id == 1)).first() is None:
        session.execute(insert(state).values(id=1, size=0, frontier=b""))


class Locked(NamedTuple):
    tree: CompactRange
    beslut_andringar: int


def lock(session: Session) -> Locked:
    """Take the log's write lock and read the frontier, as the transaction's first write.

    An UPDATE that changes nothing locks the state row (PostgreSQL) or the database
    (SQLite) until commit; whatever the transaction reads after it is the latest commit,
    and no other writer extends the log, signs or stores events before it commits."""
    row = session.execute(
        update(state)
        .where(state.c.id == 1)
        .values(size=state.c.size)
        .returning(state.c.size, state.c.frontier, state.c.beslut_andringar)
    ).first()
    if row is None:
        raise LookupError("the Merkle log has no state row: run 'iubledger verify'")
    return Locked(_frontier(row), row.beslut_andringar)


def beslut_andringar(session: Session) -> int:
    """How many commits changed the decisions (for readers, without the lock)."""
    n = session.execute(select(state.c.beslut_andringar).where(state.c.id == 1)).scalar()
    return n or 0


def count_beslut_andring(session: Session) -> None:
    """Record, in a locked transaction, that it changes the decisions."""
    session.execute(
        update(state).where(state.c.id == 1).values(beslut_andringar=state.c.beslut_andringar + 1)
    )


def _frontier(row: Any) -> CompactRange:
    f = bytes(row.frontier)
    return CompactRange.from_state(row.size, [f[i : i + 32] for i in range(0, len(f), 32)])


def extend(
    session: Session,
    tree: CompactRange,
    notifications: Sequence[Notification],
    grown: Callable[[CompactRange], object] = lambda tree: None,
) -> list[int]:
    """Append the leaves of freshly inserted records to the locked `tree` and store its new
    nodes and frontier; returns each record's position, in the order given. `grown` sees
    the tree after each leaf (to sign a checkpoint inside a large commit)."""
    order = sorted(range(len(notifications)), key=lambda i: notifications[i].id)
    positions = [0] * len(notifications)
    rows: list[dict[str, Any]] = []
    for i in order:
        positions[i] = tree.size
        new = tree.append(leaf_of(notifications[i]))
        rows.extend({"level": lv, "idx": j, "hash": h} for lv, j, h in new)
        grown(tree)
    if rows:
        session.execute(insert(nodes), rows)
        session.execute(
            update(state)
            .where(state.c.id == 1)
            .values(size=tree.size, frontier=b"".join(tree.to_hashes()))
        )
    return positions


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
