"""`verify`: recompute the Merkle log from the stored records and check every signed
checkpoint, an auditor's saved checkpoint, and that every record opens and decodes (G5).

Streams the store page by page: memory stays flat as the store grows.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification
from sqlalchemy import func, select, text

from iubledger.integrity import checkpoints
from iubledger.integrity import log as merkle_log
from iubledger.integrity.checkpoints import Checkpoint
from iubledger.integrity.merkle import CompactRange, leaf_hash, verify_consistency

PAGE = 2000


@dataclass(frozen=True)
class Finding:
    position: int | None
    rule: str
    message: str


@dataclass
class Result:
    records: int = 0
    logged: int = 0
    checkpoints_checked: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def first_bad(self) -> Finding | None:
        positioned = [f for f in self.findings if f.position is not None]
        if positioned:
            return min(positioned, key=lambda f: f.position or 0)
        return self.findings[0] if self.findings else None

    def as_json(self) -> dict[str, Any]:
        first = self.first_bad
        return {
            "ok": self.ok,
            "records": self.records,
            "logged": self.logged,
            "checkpoints_checked": self.checkpoints_checked,
            "first_bad_position": first.position if first else None,
            "findings": [f.__dict__ for f in self.findings],
        }


def verify(
    ledger: Any, saved: Checkpoint | None = None, tick: Callable[[int], None] = lambda n: None
) -> Result:
    """Check the whole store; `saved` is a checkpoint an auditor kept earlier."""
    res = Result()
    verify_key = ledger.signing_key.verify_key
    with ledger.transaction() as session:
        signed = checkpoints.all_checkpoints(session)
        logged: CompactRange | _Sized
        try:
            logged = merkle_log.load(session)
        except ValueError:
            res.findings.append(Finding(None, "frontier", "the stored Merkle state is malformed"))
            leaves = session.execute(
                select(func.count()).where(merkle_log.nodes.c.level == 0)
            ).scalar_one()
            logged = _Sized(leaves)
    res.logged = logged.size
    expected: dict[int, list[tuple[str, Checkpoint]]] = {}
    for cp in signed:
        if not checkpoints.signature_ok(cp, verify_key):
            res.findings.append(
                Finding(
                    None,
                    "checkpoint_signature",
                    f"stored checkpoint at size {cp.tree_size} is not signed by this ledger's key",
                )
            )
        expected.setdefault(cp.tree_size, []).append(("stored checkpoint", cp))
    if saved is not None:
        if not checkpoints.signature_ok(saved, verify_key):
            res.findings.append(
                Finding(
                    None,
                    "checkpoint_signature",
                    "the given checkpoint is not signed by this ledger's key (forged or re-signed)",
                )
            )
        else:
            expected.setdefault(saved.tree_size, []).append(("given checkpoint", saved))

    tree = CompactRange()
    last_id = 0
    while rows := _raw_page(ledger, last_id):
        start = tree.size
        with ledger.transaction() as session:
            stored = dict(
                session.execute(
                    select(merkle_log.nodes.c.idx, merkle_log.nodes.c.hash).where(
                        merkle_log.nodes.c.level == 0,
                        merkle_log.nodes.c.idx >= start,
                        merkle_log.nodes.c.idx < start + len(rows),
                    )
                ).all()
            )
        for row in rows:
            position = tree.size
            try:
                n = _notification(row)
                leaf = merkle_log.leaf_of(n)
            except (ValueError, TypeError, AttributeError, struct.error):
                res.findings.append(
                    Finding(position, "malformed", "a stored field of the record is unreadable")
                )
                tree.append(leaf_hash(b""))
                continue
            logged_leaf = stored.get(position)
            if position >= logged.size:
                res.findings.append(
                    Finding(position, "not_logged", "record is not in the Merkle log (inserted)")
                )
            elif logged_leaf is None or bytes(logged_leaf) != leaf:
                res.findings.append(
                    Finding(
                        position,
                        "leaf_mismatch",
                        "record differs from its logged leaf "
                        "(changed, deleted, inserted, reordered or moved)",
                    )
                )
            try:
                ledger.mapper.to_domain_event(n)
            except Exception as e:
                res.findings.append(
                    Finding(
                        position,
                        "undecodable",
                        f"record does not open or decode ({type(e).__name__})",
                    )
                )
            tree.append(leaf)
            for label, cp in expected.get(tree.size, ()):
                res.checkpoints_checked += 1
                if tree.root().hex() != cp.root:
                    res.findings.append(
                        Finding(
                            position,
                            "root_mismatch",
                            f"records up to position {position} do not "
                            f"match the {label} at size {cp.tree_size}",
                        )
                    )
        last_id = rows[-1].id
        tick(len(rows))
    res.records = tree.size
    if tree.size < logged.size:
        res.findings.append(
            Finding(
                tree.size,
                "missing",
                f"the log covers {logged.size} records but only "
                f"{tree.size} are stored: records were deleted",
            )
        )
    for size, labelled in expected.items():
        if size > tree.size:
            for label, _ in labelled:
                res.findings.append(
                    Finding(
                        tree.size,
                        "truncated",
                        f"the {label} covers {size} records but only "
                        f"{tree.size} are stored: the log did not only grow",
                    )
                )
    if (
        isinstance(logged, CompactRange)
        and tree.size == logged.size
        and tree.root() != logged.root()
    ):
        res.findings.append(Finding(None, "frontier", "the stored Merkle frontier does not match"))
    if saved is not None and res.ok and saved.tree_size <= tree.size:
        with ledger.transaction() as session:
            proof = merkle_log.consistency(session, saved.tree_size, tree.size)
        if not verify_consistency(
            saved.tree_size, tree.size, bytes.fromhex(saved.root), tree.root(), proof
        ):
            res.findings.append(
                Finding(None, "consistency", "no valid consistency proof from the given checkpoint")
            )
    return res


@dataclass(frozen=True)
class _Sized:
    """The logged size when the stored frontier itself is unreadable."""

    size: int


def _raw_page(ledger: Any, after: int) -> list[Any]:
    """Rows as stored, without the recorder's type conversions, so a malformed field
    becomes a finding at its position rather than a crash."""
    table = ledger.recorder.events_record_cls.__table__.name
    with ledger.transaction() as session:
        return list(
            session.execute(
                text(
                    f"SELECT id, originator_id, originator_version, topic, state FROM {table} "  # noqa: S608 - the table name is the recorder's own
                    "WHERE id > :after ORDER BY id LIMIT :n"
                ),
                {"after": after, "n": PAGE},
            )
        )


def _notification(row: Any) -> Notification:
    """A stored row as a Notification; ValueError/TypeError when a field is malformed."""
    oid = row.originator_id
    if isinstance(oid, bytes | memoryview):
        oid = UUID(bytes=bytes(oid))
    elif not isinstance(oid, UUID):
        oid = UUID(str(oid))
    version, topic, state = row.originator_version, row.topic, row.state
    if not isinstance(version, int) or version < 0 or not isinstance(topic, str):
        raise ValueError("malformed record")
    if isinstance(state, memoryview):
        state = bytes(state)
    if not isinstance(state, bytes):
        raise TypeError("malformed record")
    return Notification(
        id=row.id, originator_id=oid, originator_version=version, topic=topic, state=state
    )
