"""`verify`: recompute the Merkle log from the records as stored and check everything the
log's guarantees rest on (G5): every stored node (leaves and interior nodes), the stored
frontier, every signed checkpoint (signature under the pinned key, root, consistency with
its predecessor, the signing policy's continuity), every witness cosignature, an
auditor's saved checkpoint, and that every record opens and decodes.

The records come from a `Source`: the store, read in one snapshot (appends running beside
never raise a finding), or an audit bundle (no stored nodes, no keys). Streams page by
page: memory stays flat as the store grows.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from itertools import pairwise
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.persistence import Notification

from iubledger.integrity import checkpoints
from iubledger.integrity import log as merkle_log
from iubledger.integrity.checkpoints import Checkpoint
from iubledger.integrity.cosignatures import Cosignature
from iubledger.integrity.merkle import CompactRange, consistency_proof, leaf_hash, node_hash
from iubledger.integrity.merkle import verify_consistency as consistent
from iubledger.integrity.note import Verifier

Node = tuple[int, int]  # (level, index at that level)


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
    #: The largest tree size each witness cosigned, by witness name (valid cosignatures).
    witnessed: dict[str, int] = field(default_factory=dict)
    #: What could not be checked, and why (no finding: e.g. a key not in reach).
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def first_bad(self) -> Finding | None:
        positioned = [f for f in self.findings if f.position is not None]
        if positioned:
            return min(positioned, key=lambda f: f.position or 0)
        return self.findings[0] if self.findings else None

    def add(self, position: int | None, rule: str, message: str) -> None:
        self.findings.append(Finding(position, rule, message))

    def as_json(self) -> dict[str, Any]:
        first = self.first_bad
        return {
            "ok": self.ok,
            "records": self.records,
            "logged": self.logged,
            "checkpoints_checked": self.checkpoints_checked,
            "witnessed": self.witnessed,
            "notes": self.notes,
            "first_bad_position": first.position if first else None,
            "findings": [asdict(f) for f in self.findings],
        }


class Source(Protocol):
    """What verify reads: the log's records as stored and what was said about them."""

    #: Whether `nodes` holds the interior nodes too (a bundle holds only the leaves).
    interior: bool

    def checkpoints(self) -> list[Checkpoint]: ...

    def cosignatures(self) -> tuple[list[Cosignature], int]:
        """The cosignatures that parse, and how many are stored in all."""

    def logged(self) -> CompactRange | int | None:
        """The stored frontier (an int: only its size is readable; None: nothing stored)."""

    def pages(self) -> Iterator[list[Any]]:
        """Rows (id, originator_id, originator_version, topic, state) in log order."""

    def nodes(self, start: int, end: int) -> dict[Node, bytes] | None:
        """Stored nodes completed by the leaves [start, end) (None: none are stored)."""


def verify(
    source: Source,
    verifier: Verifier,
    saved: Checkpoint | None = None,
    *,
    decode: Callable[[Notification], Any] | None = None,
    observe: Callable[[int, Any], None] = lambda nid, event: None,
    tick: Callable[[int], None] = lambda n: None,
    witnesses: Sequence[Verifier] | None = None,
) -> Result:
    """Check the records of `source` against everything stored or given about them;
    `verifier` is the ledger's public key, `saved` a checkpoint an auditor kept earlier,
    `witnesses` the witness keys the auditor trusts (None: every stored one counts)."""
    res = Result()
    signed = source.checkpoints()
    cosigs, stored_cosigs = source.cosignatures()
    if witnesses is not None:
        trusted = {w.text() for w in witnesses}
        for name in sorted({c.witness.name for c in cosigs if c.witness.text() not in trusted}):
            res.notes.append(f"cosignatures of {name}, whose key was not given, not counted")
        stored_cosigs -= sum(1 for c in cosigs if c.witness.text() not in trusted)
        cosigs = [c for c in cosigs if c.witness.text() in trusted]
    logged = source.logged()
    res.logged = logged.size if isinstance(logged, CompactRange) else (logged or 0)
    expected = _expected(res, signed, saved, verifier)
    for c in cosigs:
        expected.setdefault(c.body.size, [])
    roots: dict[int, bytes] = {}
    tree = CompactRange()
    bad: set[Node] = set()
    for rows in source.pages():
        start = tree.size
        stored = source.nodes(start, start + len(rows))
        for row in rows:
            position = tree.size
            leaf = _leaf(res, row, position, decode, observe)
            for level, idx, h in tree.append(leaf):
                if level == 0 or source.interior:
                    _compare(res, stored, bad, level, idx, h, position, logged is not None)
            if tree.size in expected:
                roots[tree.size] = tree.root()
                _check_roots(res, expected[tree.size], tree.root(), position)
        tick(len(rows))
    res.records = tree.size
    _ends(res, tree, logged, expected)
    _continuity(res, signed, tree.size)
    _chain(res, signed, roots, source if source.interior else None, tree.size)
    _witnesses(res, cosigs, stored_cosigs, roots, tree.size)
    if saved is not None and res.ok and saved.tree_size <= tree.size and source.interior:
        proof = consistency_proof(saved.tree_size, tree.size, _subtrees(source, tree.size))
        if not consistent(
            saved.tree_size, tree.size, bytes.fromhex(saved.root), tree.root(), proof
        ):
            res.add(None, "consistency", "no valid consistency proof from the given checkpoint")
    return res


def _expected(
    res: Result, signed: list[Checkpoint], saved: Checkpoint | None, verifier: Verifier
) -> dict[int, list[tuple[str, Checkpoint]]]:
    """Roots to meet, by size: the stored checkpoints and the given one (signatures checked)."""
    expected: dict[int, list[tuple[str, Checkpoint]]] = {}
    for cp in signed:
        if not checkpoints.signature_ok(cp, verifier):
            res.add(
                None,
                "checkpoint_signature",
                f"stored checkpoint at size {cp.tree_size} is not signed by the ledger's key "
                f"({verifier.name})",
            )
        expected.setdefault(cp.tree_size, []).append(("stored checkpoint", cp))
    if saved is not None:
        if not checkpoints.signature_ok(saved, verifier):
            res.add(
                None,
                "checkpoint_signature",
                "the given checkpoint is not signed by the ledger's key (forged or re-signed)",
            )
        else:
            expected.setdefault(saved.tree_size, []).append(("given checkpoint", saved))
    return expected


def _leaf(
    res: Result,
    row: Any,
    position: int,
    decode: Callable[[Notification], Any] | None,
    observe: Callable[[int, Any], None],
) -> bytes:
    try:
        n = notification(row)
        leaf = merkle_log.leaf_of(n)
    except (ValueError, TypeError, AttributeError, struct.error):
        res.add(position, "malformed", "a stored field of the record is unreadable")
        return leaf_hash(b"")
    if decode is not None:
        try:
            event = decode(n)
        except Exception as e:
            res.add(position, "undecodable", f"record does not open or decode ({type(e).__name__})")
        else:
            observe(n.id, event)
    return leaf


def _compare(
    res: Result,
    stored: dict[Node, bytes] | None,
    bad: set[Node],
    level: int,
    idx: int,
    h: bytes,
    position: int,
    has_log: bool,
) -> None:
    """A recomputed node against the stored one. A node is named only when the nodes below
    it agree, so the finding names the lowest place where the stored tree differs."""
    if not has_log:
        return
    found = None if stored is None else stored.get((level, idx))
    if level == 0:
        if stored is not None and position >= res.logged:
            res.add(position, "not_logged", "record is not in the Merkle log (inserted)")
            bad.add((0, idx))
        elif found != h:
            res.add(
                position,
                "leaf_mismatch",
                "record differs from its logged leaf "
                "(changed, deleted, inserted, reordered or moved)",
            )
            bad.add((0, idx))
        return
    children_bad = (level - 1, 2 * idx) in bad or (level - 1, 2 * idx + 1) in bad
    bad.discard((level - 1, 2 * idx))
    bad.discard((level - 1, 2 * idx + 1))
    if children_bad:
        bad.add((level, idx))
    elif found is None and (idx + 1) << level <= res.logged:
        first = idx << level
        res.add(
            first, "node_missing", f"the Merkle node over records [{first}, {position}] is missing"
        )
        bad.add((level, idx))
    elif found is not None and found != h:
        first = idx << level
        res.add(
            first,
            "node_mismatch",
            f"the stored Merkle node over records [{first}, {position}] differs from the "
            "records (a proof built from it would be false)",
        )
        bad.add((level, idx))


def _check_roots(
    res: Result, labelled: list[tuple[str, Checkpoint]], root: bytes, position: int
) -> None:
    for label, cp in labelled:
        res.checkpoints_checked += 1
        if root.hex() != cp.root:
            res.add(
                position,
                "root_mismatch",
                f"records up to position {position} do not match the {label} at size "
                f"{cp.tree_size}",
            )


def _ends(
    res: Result,
    tree: CompactRange,
    logged: CompactRange | int | None,
    expected: dict[int, list[tuple[str, Checkpoint]]],
) -> None:
    """What the stored log or a checkpoint covers beyond the records, and the frontier."""
    if logged is not None and tree.size < res.logged:
        res.add(
            tree.size,
            "missing",
            f"the log covers {res.logged} records but only {tree.size} are stored: "
            "records were deleted",
        )
    for size, labelled in expected.items():
        if size > tree.size:
            for label, _ in labelled:
                res.add(
                    tree.size,
                    "truncated",
                    f"the {label} covers {size} records but only {tree.size} are stored: "
                    "the log did not only grow",
                )
    if logged is not None and not isinstance(logged, CompactRange):
        res.add(None, "frontier", "the stored Merkle state is malformed")
    elif (
        isinstance(logged, CompactRange)
        and tree.size == logged.size
        and tree.root() != logged.root()
    ):
        res.add(None, "frontier", "the stored Merkle frontier does not match")


def _continuity(res: Result, signed: list[Checkpoint], size: int) -> None:
    """The signing policy, checked from the signed checkpoints alone: each checkpoint
    promises the next within its `every` records (the first comes within its own), so
    neither a gap between consecutive checkpoints nor the unsigned tail may be longer.
    Checkpoints dropped after a rewrite leave such a gap (G5)."""
    previous, every = 0, None
    for cp in signed:
        limit = every if every is not None else cp.every
        if limit is not None and cp.tree_size - previous > limit:
            res.add(
                previous,
                "checkpoint_gap",
                f"no signed checkpoint between sizes {previous} and {cp.tree_size}, though "
                f"the policy signs one every {limit} records: checkpoints were removed",
            )
        previous, every = cp.tree_size, cp.every
    if every is not None and size - previous > every:
        res.add(
            previous,
            "unsigned_tail",
            f"{size - previous} records after the last signed checkpoint (size {previous}), "
            f"though the policy signs one every {every}: checkpoints were removed",
        )


def _chain(
    res: Result,
    signed: list[Checkpoint],
    roots: dict[int, bytes],
    source: Source | None,
    size: int,
) -> None:
    """Each stored checkpoint consistent with its predecessor (RFC 9162 § 2.1.4), by a
    proof from the stored nodes (they were just checked against the records)."""
    if source is None or not res.ok:
        return
    subtrees = _subtrees(source, size)
    for old, new in pairwise(signed):
        if new.tree_size > size:
            break
        proof = consistency_proof(old.tree_size, new.tree_size, subtrees)
        if not consistent(
            old.tree_size, new.tree_size, bytes.fromhex(old.root), bytes.fromhex(new.root), proof
        ):
            res.add(
                new.tree_size - 1,
                "inconsistent_checkpoints",
                f"the checkpoint at size {new.tree_size} does not extend the one at size "
                f"{old.tree_size}",
            )


def _witnesses(
    res: Result, cosigs: list[Cosignature], stored: int, roots: dict[int, bytes], size: int
) -> None:
    """Every stored cosignature verifies, and its root is the recomputed root at its size:
    a log that contradicts what a witness saw is a finding."""
    if len(cosigs) != stored:
        res.add(None, "cosignature", f"{stored - len(cosigs)} stored cosignature(s) unreadable")
    for c in cosigs:
        name = c.witness.name
        if c.time is None:
            res.add(None, "cosignature", f"a cosignature of {name} does not verify")
            continue
        root = roots.get(c.body.size)
        if c.body.size > size or root != c.body.root:
            res.add(
                min(c.body.size, size) - 1 if c.body.size else 0,
                "witness_contradiction",
                f"the log differs from the checkpoint of size {c.body.size} that the witness "
                f"{name} cosigned",
            )
            continue
        res.witnessed[name] = max(res.witnessed.get(name, 0), c.body.size)


def _subtrees(source: Source, size: int) -> Callable[[int, int], bytes]:
    """Subtree roots from the stored nodes (RFC 9162 § 2.1.1 split)."""
    memo: dict[Node, bytes] = {}

    def root(start: int, end: int) -> bytes:
        width = end - start
        if width & (width - 1) == 0 and start % width == 0:
            level = width.bit_length() - 1
            if (level, start >> level) not in memo:
                memo.update(source.nodes(start + width - 1, start + width) or {})
            return memo[(level, start >> level)]
        k = 1 << ((width - 1).bit_length() - 1)
        return node_hash(root(start, start + k), root(start + k, end))

    return root


def notification(row: Any) -> Notification:
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
