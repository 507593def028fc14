"""Merkle tree hashing and proofs per RFC 9162 §2.1 (Certificate Transparency v2), SHA-256.

Leaves are handled as leaf hashes throughout: callers hash entries once with
:func:`leaf_hash` and pass the resulting 32-byte values to everything else.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from functools import reduce

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

SubtreeRoot = Callable[[int, int], bytes]
"""``subtree_root(start, end)`` returns MTH of the leaves ``[start, end)``."""


def leaf_hash(data: bytes) -> bytes:
    """Hash of a leaf entry: SHA-256(0x00 || data), RFC 9162 §2.1.1."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Hash of an interior node: SHA-256(0x01 || left || right), RFC 9162 §2.1.1."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def root(leaves: Sequence[bytes]) -> bytes:
    """MTH over a list of leaf hashes, RFC 9162 §2.1.1; the empty tree hashes to SHA-256("")."""
    frontier = CompactRange()
    for leaf in leaves:
        frontier.append(leaf)
    return frontier.root()


class CompactRange:
    """Right frontier of a growing tree: one perfect-subtree hash per set bit of ``size``.

    Hashes are ordered left to right (largest subtree first). Appending a leaf costs
    O(log n) hashes; :meth:`to_hashes` and :meth:`from_state` persist and restore it.
    """

    __slots__ = ("_hashes", "_size")

    def __init__(self) -> None:
        self._size = 0
        self._hashes: list[bytes] = []

    @classmethod
    def from_state(cls, size: int, hashes: Sequence[bytes]) -> CompactRange:
        """Restore a frontier saved with :attr:`size` and :meth:`to_hashes`."""
        if size < 0 or len(hashes) != size.bit_count() or not all(map(_is_hash, hashes)):
            raise ValueError(f"invalid compact range state for size {size}")
        frontier = cls()
        frontier._size = size
        frontier._hashes = list(hashes)
        return frontier

    @property
    def size(self) -> int:
        return self._size

    def to_hashes(self) -> list[bytes]:
        return list(self._hashes)

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add the next leaf hash, merging completed subtrees. Returns every perfect subtree
        the leaf completes as (level, index at that level, hash), the leaf itself first."""
        if not _is_hash(leaf):
            raise ValueError("leaf must be a 32-byte leaf hash")
        node, pending, level = leaf, self._size, 0
        completed = [(0, self._size, leaf)]
        while pending & 1:
            node = node_hash(self._hashes.pop(), node)
            pending >>= 1
            level += 1
            completed.append((level, pending, node))
        self._hashes.append(node)
        self._size += 1
        return completed

    def root(self) -> bytes:
        """MTH of all appended leaves, RFC 9162 §2.1.1."""
        if not self._hashes:
            return EMPTY_ROOT
        return reduce(
            lambda acc, left: node_hash(left, acc), reversed(self._hashes[:-1]), self._hashes[-1]
        )


def inclusion_proof(index: int, size: int, subtree_root: SubtreeRoot) -> list[bytes]:
    """Inclusion path PATH(index, D[size]), RFC 9162 §2.1.3.1.

    Every range requested from ``subtree_root`` is either a perfect subtree aligned to
    its own size or a range ending at ``size``.
    """
    if not 0 <= index < size:
        raise ValueError(f"index {index} outside tree of size {size}")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        mid = start + _split(end - start)
        if index < mid:
            path.append(subtree_root(mid, end))
            end = mid
        else:
            path.append(subtree_root(start, mid))
            start = mid
    return path[::-1]


def consistency_proof(old_size: int, new_size: int, subtree_root: SubtreeRoot) -> list[bytes]:
    """Consistency proof PROOF(old_size, D[new_size]), RFC 9162 §2.1.4.1.

    Empty when ``old_size`` is 0 or equals ``new_size``. Ranges requested from
    ``subtree_root`` are as for :func:`inclusion_proof`, with ``new_size`` as the end.
    """
    if not 0 <= old_size <= new_size:
        raise ValueError(f"cannot prove size {old_size} against size {new_size}")
    if old_size == 0:
        return []
    proof: list[bytes] = []
    start, end, complete = 0, new_size, True
    while old_size < end:
        mid = start + _split(end - start)
        if old_size <= mid:
            proof.append(subtree_root(mid, end))
            end = mid
        else:
            proof.append(subtree_root(start, mid))
            start, complete = mid, False
    if not complete:
        proof.append(subtree_root(start, end))
    return proof[::-1]


def inclusion_proof_from_leaves(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """:func:`inclusion_proof` for leaf ``index`` of the tree over ``leaves``."""
    return inclusion_proof(index, len(leaves), _slicer(leaves))


def consistency_proof_from_leaves(old_size: int, leaves: Sequence[bytes]) -> list[bytes]:
    """:func:`consistency_proof` from ``old_size`` to the tree over ``leaves``."""
    return consistency_proof(old_size, len(leaves), _slicer(leaves))


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """Check an inclusion path, RFC 9162 §2.1.3.2."""
    if not 0 <= index < size or not all(map(_is_hash, proof)):
        return False
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Check a consistency proof, RFC 9162 §2.1.4.2.

    Equal sizes need an empty proof and equal roots; the empty tree (root SHA-256(""))
    is consistent with every tree through an empty proof.
    """
    if not 0 <= old_size <= new_size or not all(map(_is_hash, proof)):
        return False
    if old_size == new_size:
        return not proof and old_root == new_root and (old_size > 0 or old_root == EMPTY_ROOT)
    if old_size == 0:
        return not proof and old_root == EMPTY_ROOT
    if not proof:
        return False
    path = [old_root, *proof] if old_size & (old_size - 1) == 0 else list(proof)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == old_root and sr == new_root and sn == 0


def _split(n: int) -> int:
    """Largest power of two strictly below ``n`` (``n > 1``), RFC 9162 §2.1.1."""
    return 1 << ((n - 1).bit_length() - 1)


def _is_hash(value: object) -> bool:
    return isinstance(value, bytes) and len(value) == HASH_SIZE


def _slicer(leaves: Sequence[bytes]) -> SubtreeRoot:
    return lambda start, end: root(leaves[start:end])
