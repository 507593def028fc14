"""What tillsyn relies on to know the log was never rewritten (G5): signed checkpoints,
inclusion receipts, consistency proofs (RFC 9162) and verify."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from iubledger.integrity import checkpoints
from iubledger.integrity import log as merkle_log
from iubledger.integrity.merkle import inclusion_proof
from iubledger.integrity.verify import Result
from iubledger.integrity.verify import verify as verify_log
from iubledger.schemas.base import Rejected
from iubledger.store.ledger import Ledger


def checkpoint(ledger: Ledger) -> checkpoints.Checkpoint | None:
    """A checkpoint of the current log, signed now if the latest is behind."""
    with ledger.locked() as (session, locked):
        return ledger.sign_if_due(session, locked.tree, force=True)


def latest_checkpoint(ledger: Ledger) -> checkpoints.Checkpoint | None:
    with ledger.transaction() as session:
        return checkpoints.latest(session)


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


def verify(
    ledger: Ledger,
    saved: checkpoints.Checkpoint | None = None,
    tick: Callable[[int], None] = lambda n: None,
) -> Result:
    """Recompute the Merkle log, check signatures, decryption and decoding, and that the
    log only grew since a saved checkpoint."""
    return verify_log(ledger, saved, tick=tick)
