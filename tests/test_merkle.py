"""RFC 9162 §2.1 Merkle tree: known answers, an independent naive oracle, and tampering."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iubledger.integrity import merkle

FAST = settings(max_examples=50, deadline=None)

EMPTY_ROOT_HEX = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

# Leaf inputs and roots of the certificate-transparency / transparency-dev reference tests.
REFERENCE_INPUTS = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
REFERENCE_ROOTS = {
    0: EMPTY_ROOT_HEX,
    1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    2: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    4: "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    5: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    6: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    7: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}
REFERENCE_INCLUSION = {
    (0, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (5, 8): [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
    (2, 3): ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
    (1, 5): [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
}
REFERENCE_CONSISTENCY = {
    (1, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (6, 8): [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
    (2, 5): [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
    (6, 7): [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
}
OTHER_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def largest_power_of_two_below(n: int) -> int:
    k = 1
    while 2 * k < n:
        k *= 2
    return k


def naive_mth(hashes: Sequence[bytes]) -> bytes:
    """RFC 9162 §2.1.1 MTH, transcribed recursively over leaf hashes."""
    if not hashes:
        return sha256(b"")
    if len(hashes) == 1:
        return hashes[0]
    k = largest_power_of_two_below(len(hashes))
    return sha256(b"\x01" + naive_mth(hashes[:k]) + naive_mth(hashes[k:]))


def naive_path(m: int, hashes: Sequence[bytes]) -> list[bytes]:
    """RFC 9162 §2.1.3.1 PATH(m, D[n]), transcribed recursively."""
    if len(hashes) == 1:
        return []
    k = largest_power_of_two_below(len(hashes))
    if m < k:
        return [*naive_path(m, hashes[:k]), naive_mth(hashes[k:])]
    return [*naive_path(m - k, hashes[k:]), naive_mth(hashes[:k])]


def naive_subproof(m: int, hashes: Sequence[bytes], complete: bool) -> list[bytes]:
    """RFC 9162 §2.1.4.1 SUBPROOF(m, D[n], b), transcribed recursively."""
    if m == len(hashes):
        return [] if complete else [naive_mth(hashes)]
    k = largest_power_of_two_below(len(hashes))
    if m <= k:
        return [*naive_subproof(m, hashes[:k], complete), naive_mth(hashes[k:])]
    return [*naive_subproof(m - k, hashes[k:], False), naive_mth(hashes[:k])]


def oracle(hashes: Sequence[bytes]) -> Callable[[int, int], bytes]:
    """Memoised naive MTH of ``hashes[start:end]``, usable as a ``subtree_root`` callable."""

    @cache
    def mth(start: int, end: int) -> bytes:
        if end - start <= 1:
            return naive_mth(hashes[start:end])
        mid = start + largest_power_of_two_below(end - start)
        return sha256(b"\x01" + mth(start, mid) + mth(mid, end))

    return mth


def make_leaves(size: int, salt: bytes = b"") -> list[bytes]:
    return [sha256(b"\x00" + salt + i.to_bytes(4, "big")) for i in range(size)]


def flipped(proof: Sequence[bytes], position: int) -> list[bytes]:
    element = proof[position]
    return [*proof[:position], bytes([element[0] ^ 0x10]) + element[1:], *proof[position + 1 :]]


REFERENCE_LEAVES = [sha256(b"\x00" + data) for data in REFERENCE_INPUTS]

sizes = st.integers(min_value=1, max_value=300)
salts = st.binary(max_size=8)


def test_hashes_are_domain_separated_sha256() -> None:
    assert merkle.leaf_hash(b"") == bytes.fromhex(REFERENCE_ROOTS[1])
    assert merkle.leaf_hash(b"abc") == sha256(b"\x00abc")
    assert merkle.node_hash(b"L" * 32, b"R" * 32) == sha256(b"\x01" + b"L" * 32 + b"R" * 32)
    assert merkle.EMPTY_ROOT.hex() == EMPTY_ROOT_HEX


@pytest.mark.parametrize("size", sorted(REFERENCE_ROOTS))
def test_reference_roots(size: int) -> None:
    leaves = [merkle.leaf_hash(data) for data in REFERENCE_INPUTS[:size]]
    assert merkle.root(leaves).hex() == REFERENCE_ROOTS[size]
    assert naive_mth(leaves).hex() == REFERENCE_ROOTS[size]


def test_reference_roots_literal_anchors() -> None:
    assert merkle.root([]).hex() == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
    assert merkle.root(REFERENCE_LEAVES).hex() == (
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
    )


@pytest.mark.parametrize(("index", "size"), sorted(REFERENCE_INCLUSION))
def test_reference_inclusion_proofs(index: int, size: int) -> None:
    expected = [bytes.fromhex(h) for h in REFERENCE_INCLUSION[index, size]]
    leaves = REFERENCE_LEAVES[:size]
    assert merkle.inclusion_proof_from_leaves(index, leaves) == expected
    root = bytes.fromhex(REFERENCE_ROOTS[size])
    assert merkle.verify_inclusion(leaves[index], index, size, expected, root)


@pytest.mark.parametrize(("old_size", "new_size"), sorted(REFERENCE_CONSISTENCY))
def test_reference_consistency_proofs(old_size: int, new_size: int) -> None:
    expected = [bytes.fromhex(h) for h in REFERENCE_CONSISTENCY[old_size, new_size]]
    assert merkle.consistency_proof_from_leaves(old_size, REFERENCE_LEAVES[:new_size]) == expected
    old_root = bytes.fromhex(REFERENCE_ROOTS[old_size])
    new_root = bytes.fromhex(REFERENCE_ROOTS[new_size])
    assert merkle.verify_consistency(old_size, new_size, old_root, new_root, expected)


@pytest.mark.parametrize("size", range(1, 34))
def test_proofs_match_rfc_recursion(size: int) -> None:
    leaves = make_leaves(size)
    subtree = oracle(leaves)
    for index in range(size):
        expected = naive_path(index, leaves)
        assert merkle.inclusion_proof(index, size, subtree) == expected
        assert merkle.inclusion_proof_from_leaves(index, leaves) == expected
    for old_size in range(1, size + 1):
        expected = naive_subproof(old_size, leaves, True)
        assert merkle.consistency_proof(old_size, size, subtree) == expected
        assert merkle.consistency_proof_from_leaves(old_size, leaves) == expected


@FAST
@given(size=sizes, salt=salts)
def test_every_inclusion_proof_verifies_against_naive_root(size: int, salt: bytes) -> None:
    leaves = make_leaves(size, salt)
    subtree = oracle(leaves)
    root = naive_mth(leaves)
    assert merkle.root(leaves) == root
    for index in range(size):
        proof = merkle.inclusion_proof(index, size, subtree)
        assert merkle.verify_inclusion(leaves[index], index, size, proof, root)


@FAST
@given(size=sizes, salt=salts)
def test_every_consistency_proof_verifies_against_naive_roots(size: int, salt: bytes) -> None:
    leaves = make_leaves(size, salt)
    subtree = oracle(leaves)
    new_root = subtree(0, size)
    for old_size in range(size + 1):
        proof = merkle.consistency_proof(old_size, size, subtree)
        assert merkle.verify_consistency(old_size, size, subtree(0, old_size), new_root, proof)


@FAST
@given(size=sizes, salt=salts, data=st.data())
def test_compact_range_tracks_naive_root_across_restore(
    size: int, salt: bytes, data: st.DataObject
) -> None:
    leaves = make_leaves(size, salt)
    subtree = oracle(leaves)
    restart_at = data.draw(st.integers(min_value=0, max_value=size), label="restart_at")
    frontier = merkle.CompactRange()
    assert frontier.root() == merkle.EMPTY_ROOT
    for count, leaf in enumerate(leaves, start=1):
        frontier.append(leaf)
        assert frontier.size == count
        assert frontier.root() == subtree(0, count)
        assert len(frontier.to_hashes()) == count.bit_count()
        if count == restart_at:
            frontier = merkle.CompactRange.from_state(frontier.size, frontier.to_hashes())
            assert frontier.root() == subtree(0, count)


def test_compact_range_restores_from_empty_state() -> None:
    frontier = merkle.CompactRange.from_state(0, [])
    for leaf in REFERENCE_LEAVES:
        frontier.append(leaf)
    assert frontier.root().hex() == REFERENCE_ROOTS[8]


def test_compact_range_append_hashes_only_the_merged_frontier(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = 0

    def counting_node_hash(left: bytes, right: bytes) -> bytes:
        nonlocal calls
        calls += 1
        return sha256(b"\x01" + left + right)

    frontier = merkle.CompactRange()
    monkeypatch.setattr(merkle, "node_hash", counting_node_hash)
    for size, leaf in enumerate(make_leaves(1024)):
        calls = 0
        frontier.append(leaf)
        trailing_ones = (size ^ (size + 1)).bit_length() - 1
        assert calls == trailing_ones


@pytest.mark.parametrize(
    ("size", "hashes"),
    [
        (-1, []),
        (0, [bytes(32)]),
        (3, [bytes(32)]),
        (2, [bytes(32), bytes(32)]),
        (1, [bytes(31)]),
        (1, ["0" * 32]),
    ],
)
def test_compact_range_rejects_inconsistent_state(size: int, hashes: list[bytes]) -> None:
    with pytest.raises(ValueError):
        merkle.CompactRange.from_state(size, hashes)


def test_compact_range_rejects_non_hash_leaf() -> None:
    with pytest.raises(ValueError):
        merkle.CompactRange().append(b"raw entry")


@FAST
@given(size=sizes, salt=salts, data=st.data())
def test_tampered_inclusion_proofs_fail(size: int, salt: bytes, data: st.DataObject) -> None:
    leaves = make_leaves(size + 1, salt)
    index = data.draw(st.integers(min_value=0, max_value=size - 1), label="index")
    root = naive_mth(leaves[:size])
    leaf = leaves[index]
    proof = merkle.inclusion_proof_from_leaves(index, leaves[:size])
    assert merkle.verify_inclusion(leaf, index, size, proof, root)

    wrong_claims = [
        (leaf, index - 1, size, proof, root),
        (leaf, index + 1, size, proof, root),
        (leaf, index ^ 2, size, proof, root),
        (leaf, index, size * 2, proof, root),
        (leaf, index, size // 2, proof, root),
        (leaves[size], index, size, proof, root),
        (leaf, index, size, proof, merkle.EMPTY_ROOT),
        (leaf, index, size, proof, OTHER_HASH),
        (leaf, index, size, [*proof, root], root),
        (leaf, index, size, [root, *proof], root),
        (leaf, index, size, [*proof, b""], root),
        *[(leaf, index, size, flipped(proof, i), root) for i in range(len(proof))],
    ]
    if proof:
        wrong_claims.append((leaf, index, size, proof[:-1], root))
        wrong_claims.append((leaf, index, size, proof[1:], root))
        wrong_claims.append((leaf, index, size, [proof[0], OTHER_HASH, *proof[1:]], root))
    for claim in wrong_claims:
        assert not merkle.verify_inclusion(*claim)


@FAST
@given(size=st.integers(min_value=2, max_value=300), salt=salts, data=st.data())
def test_tampered_consistency_proofs_fail(size: int, salt: bytes, data: st.DataObject) -> None:
    leaves = make_leaves(size, salt)
    subtree = oracle(leaves)
    old_size = data.draw(st.integers(min_value=1, max_value=size - 1), label="old_size")
    old_root, new_root = subtree(0, old_size), subtree(0, size)
    proof = merkle.consistency_proof(old_size, size, subtree)
    assert merkle.verify_consistency(old_size, size, old_root, new_root, proof)

    wrong_claims = [
        (old_size - 1, size, old_root, new_root, proof),
        (old_size + 1, size, old_root, new_root, proof),
        (old_size ^ 2, size, old_root, new_root, proof),
        (old_size, size * 2, old_root, new_root, proof),
        (old_size, size // 2, old_root, new_root, proof),
        (old_size, size, OTHER_HASH, new_root, proof),
        (old_size, size, old_root, OTHER_HASH, proof),
        (old_size, size, new_root, old_root, proof),
        (old_size, size, old_root, new_root, []),
        (old_size, size, old_root, new_root, proof[:-1]),
        (old_size, size, old_root, new_root, [*proof, old_root]),
        (old_size, size, old_root, new_root, [*proof, new_root]),
        (old_size, size, old_root, new_root, [old_root, *proof]),
        (old_size, size, old_root, new_root, [new_root, *proof]),
        (old_size, size, old_root, new_root, [proof[0], *proof]),
        (old_size, size, old_root, new_root, [*proof, b""]),
        *[(old_size, size, old_root, new_root, flipped(proof, i)) for i in range(len(proof))],
    ]
    for claim in wrong_claims:
        assert not merkle.verify_consistency(*claim)


ROOT_1 = OTHER_HASH
ROOT_2 = sha256(b"another root")
EMPTY = merkle.EMPTY_ROOT


@pytest.mark.parametrize(
    ("old_size", "new_size", "old_root", "new_root", "proof", "expected"),
    [
        (0, 0, EMPTY, EMPTY, [], True),
        (0, 5, EMPTY, ROOT_2, [], True),
        (1, 1, ROOT_1, ROOT_1, [], True),
        (0, 0, ROOT_1, ROOT_1, [], False),
        (0, 0, EMPTY, ROOT_2, [], False),
        (0, 5, ROOT_1, ROOT_2, [], False),
        (1, 1, ROOT_1, ROOT_2, [], False),
        (1, 0, ROOT_1, ROOT_2, [], False),
        (2, 1, ROOT_1, ROOT_2, [], False),
        (-1, 1, ROOT_1, ROOT_2, [], False),
        (1, 2, ROOT_1, ROOT_2, [], False),
        (0, 0, EMPTY, EMPTY, [EMPTY], False),
        (0, 1, EMPTY, ROOT_2, [EMPTY], False),
        (1, 1, ROOT_1, ROOT_1, [EMPTY], False),
    ],
)
def test_consistency_edge_cases(
    old_size: int,
    new_size: int,
    old_root: bytes,
    new_root: bytes,
    proof: list[bytes],
    expected: bool,
) -> None:
    assert merkle.verify_consistency(old_size, new_size, old_root, new_root, proof) is expected


@pytest.mark.parametrize(("index", "size"), [(0, 0), (1, 0), (1, 1), (2, 1), (-1, 1)])
def test_inclusion_outside_tree_fails(index: int, size: int) -> None:
    assert not merkle.verify_inclusion(OTHER_HASH, index, size, [], OTHER_HASH)


def test_single_leaf_inclusion_is_the_root_itself() -> None:
    leaf = merkle.leaf_hash(b"data")
    assert merkle.verify_inclusion(leaf, 0, 1, [], leaf)
    assert not merkle.verify_inclusion(leaf, 0, 1, [], OTHER_HASH)
    assert not merkle.verify_inclusion(leaf, 0, 1, [leaf], leaf)


@pytest.mark.parametrize(
    "malformed",
    [[b"short"], [bytes(33)], ["not bytes" * 4], [None], [bytes(32), 7]],
)
def test_malformed_proof_elements_fail_without_raising(malformed: list[object]) -> None:
    leaves = REFERENCE_LEAVES
    roots = {size: bytes.fromhex(h) for size, h in REFERENCE_ROOTS.items()}
    assert not merkle.verify_inclusion(leaves[0], 0, 8, malformed, roots[8])
    assert not merkle.verify_consistency(3, 8, roots[3], roots[8], malformed)
    assert not merkle.verify_consistency(4, 8, roots[4], roots[8], malformed)


@pytest.mark.parametrize(("index", "size"), [(0, 0), (3, 3), (-1, 4)])
def test_inclusion_proof_rejects_index_outside_tree(index: int, size: int) -> None:
    with pytest.raises(ValueError):
        merkle.inclusion_proof(index, size, oracle(make_leaves(max(size, 0))))


@pytest.mark.parametrize(("old_size", "new_size"), [(5, 4), (-1, 4)])
def test_consistency_proof_rejects_shrinking_tree(old_size: int, new_size: int) -> None:
    with pytest.raises(ValueError):
        merkle.consistency_proof(old_size, new_size, oracle(make_leaves(new_size)))


def test_trivial_consistency_proofs_are_empty() -> None:
    subtree = oracle(REFERENCE_LEAVES)
    assert merkle.consistency_proof(0, 8, subtree) == []
    assert merkle.consistency_proof(8, 8, subtree) == []
    assert merkle.consistency_proof(0, 0, subtree) == []
