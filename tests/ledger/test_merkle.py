"""ledger.merkle against RFC 9162's recursive definitions, published vectors and tampering."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.merkle import (
    EMPTY_ROOT,
    CompactRange,
    Frontier,
    MemoryTree,
    canonical_bytes,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_from_leaves,
    verify_consistency,
    verify_inclusion,
)

# ---------------------------------------------------------------------------------------------
# An independent reference, written straight from RFC 9162 2.1.1, 2.1.3.1 and 2.1.4.1. It works
# on raw entries and slices lists exactly as the RFC's notation does; nothing here is shared
# with the implementation under test.
# ---------------------------------------------------------------------------------------------


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _k(n: int) -> int:
    """The largest power of two smaller than n."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def naive_mth(d: list[bytes]) -> bytes:
    n = len(d)
    if n == 0:
        return _sha256(b"")
    if n == 1:
        return _sha256(b"\x00" + d[0])
    k = _k(n)
    return _sha256(b"\x01" + naive_mth(d[:k]) + naive_mth(d[k:n]))


def naive_path(m: int, d: list[bytes]) -> list[bytes]:
    n = len(d)
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return naive_path(m, d[:k]) + [naive_mth(d[k:n])]
    return naive_path(m - k, d[k:n]) + [naive_mth(d[:k])]


def naive_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [naive_mth(d)]
    k = _k(n)
    if m <= k:
        return naive_subproof(m, d[:k], b) + [naive_mth(d[k:n])]
    return naive_subproof(m - k, d[k:n], False) + [naive_mth(d[:k])]


def naive_proof(m: int, d: list[bytes]) -> list[bytes]:
    return naive_subproof(m, d, True)


# ---------------------------------------------------------------------------------------------
# Fixtures.
# ---------------------------------------------------------------------------------------------

MAX_EXHAUSTIVE = 64
ENTRIES = [f"entry-{i}".encode() * (i % 3 + 1) for i in range(MAX_EXHAUSTIVE)]
LEAVES = [leaf_hash(e) for e in ENTRIES]
TREE = MemoryTree(LEAVES)
ROOTS = [naive_mth(ENTRIES[:n]) for n in range(MAX_EXHAUSTIVE + 1)]


def _flip(data: bytes, position: int = 0, mask: int = 0x01) -> bytes:
    out = bytearray(data)
    out[position] ^= mask
    return bytes(out)


def _h(text: str) -> bytes:
    return bytes.fromhex(text)


# Certificate Transparency's reference data (RFC 6962 test vectors, as also shipped by
# transparency-dev/merkle): independent of both the implementation and the naive reference.
CT_ENTRIES = [
    _h(x)
    for x in (
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
CT_ROOTS = [
    _h(x)
    for x in (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    )
]
_CT_A = "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"
_CT_B = "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"
_CT_C = "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"
_CT_D = "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"
_CT_E = "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"
_CT_F = "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"
_CT_G = "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"
CT_INCLUSION = [(0, 8, [_CT_A, _CT_B, _CT_C]), (5, 8, [_CT_D, _CT_E, _CT_F])]
CT_CONSISTENCY = [(2, 8, [_CT_B, _CT_C]), (6, 8, [_CT_G, _CT_E, _CT_F]), (2, 5, [_CT_B, _CT_D])]


# ---------------------------------------------------------------------------------------------
# Hashing and the tree hash.
# ---------------------------------------------------------------------------------------------


def test_leaf_and_node_hash_use_domain_separated_prefixes():
    assert leaf_hash(b"abc") == _sha256(b"\x00abc")
    assert node_hash(b"L" * 32, b"R" * 32) == _sha256(b"\x01" + b"L" * 32 + b"R" * 32)
    assert leaf_hash(b"") != EMPTY_ROOT


def test_published_ct_roots():
    ct_leaves = [leaf_hash(e) for e in CT_ENTRIES]
    for n, expected in enumerate(CT_ROOTS):
        assert root_from_leaves(ct_leaves[:n]) == expected
        assert naive_mth(CT_ENTRIES[:n]) == expected


def test_published_ct_proofs():
    tree = MemoryTree(leaf_hash(e) for e in CT_ENTRIES)
    for index, size, expected in CT_INCLUSION:
        proof = tree.inclusion_proof(index, size)
        assert proof == [_h(x) for x in expected]
        assert verify_inclusion(tree.leaf(index), index, size, proof, CT_ROOTS[size])
    for old, new, expected in CT_CONSISTENCY:
        proof = tree.consistency_proof(old, new)
        assert proof == [_h(x) for x in expected]
        assert verify_consistency(old, new, CT_ROOTS[old], CT_ROOTS[new], proof)


def test_empty_tree_root_is_hash_of_nothing():
    assert root_from_leaves([]) == _sha256(b"") == EMPTY_ROOT
    assert CompactRange().root() == EMPTY_ROOT
    assert MemoryTree().root() == EMPTY_ROOT


def test_roots_match_naive_mth_for_every_size():
    for n in range(MAX_EXHAUSTIVE + 1):
        assert root_from_leaves(LEAVES[:n]) == ROOTS[n]
        assert TREE.root(n) == ROOTS[n]


# ---------------------------------------------------------------------------------------------
# Exhaustive proofs for every tree size 1..64.
# ---------------------------------------------------------------------------------------------


def test_every_inclusion_proof_matches_rfc_and_verifies():
    checked = 0
    for n in range(1, MAX_EXHAUSTIVE + 1):
        for m in range(n):
            proof = inclusion_proof(m, n, TREE.subtree_root)
            assert proof == naive_path(m, ENTRIES[:n]), (m, n)
            assert verify_inclusion(LEAVES[m], m, n, proof, ROOTS[n]), (m, n)
            checked += 1
    assert checked == MAX_EXHAUSTIVE * (MAX_EXHAUSTIVE + 1) // 2


def test_every_consistency_proof_matches_rfc_and_verifies():
    checked = 0
    for n in range(1, MAX_EXHAUSTIVE + 1):
        for m in range(1, n + 1):
            proof = consistency_proof(m, n, TREE.subtree_root)
            assert proof == naive_proof(m, ENTRIES[:n]), (m, n)
            assert verify_consistency(m, n, ROOTS[m], ROOTS[n], proof), (m, n)
            checked += 1
    assert checked == MAX_EXHAUSTIVE * (MAX_EXHAUSTIVE + 1) // 2


def test_consistency_with_the_empty_tree():
    for n in range(MAX_EXHAUSTIVE + 1):
        assert consistency_proof(0, n, TREE.subtree_root) == []
        assert verify_consistency(0, n, EMPTY_ROOT, ROOTS[n], [])
        assert not verify_consistency(0, n, ROOTS[1], ROOTS[n], [])
        assert not verify_consistency(0, n, EMPTY_ROOT, ROOTS[n], [LEAVES[0]])


def test_tampered_inclusion_proofs_fail():
    for n in range(1, MAX_EXHAUSTIVE + 1):
        root = ROOTS[n]
        for m in range(n):
            proof = TREE.inclusion_proof(m, n)
            leaf = LEAVES[m]
            assert not verify_inclusion(_flip(leaf), m, n, proof, root)
            assert not verify_inclusion(leaf, m, n, proof, _flip(root, 31))
            for i in range(len(proof)):
                bad = list(proof)
                bad[i] = _flip(bad[i], i % 32, 0x80)
                assert not verify_inclusion(leaf, m, n, bad, root), (m, n, i)
            for other in {m - 1, m + 1, m ^ 1, m ^ 2}:
                if other != m:
                    assert not verify_inclusion(leaf, other, n, proof, root), (m, n, other)
            assert not verify_inclusion(leaf, m, n, [*proof, LEAVES[0]], root)
            if proof:
                assert not verify_inclusion(leaf, m, n, proof[:-1], root)
                assert not verify_inclusion(leaf, m, n, proof[1:], root)
            if len(proof) > 1:
                assert not verify_inclusion(leaf, m, n, proof[::-1], root), (m, n)
            assert not verify_inclusion(leaf, n, n, proof, root)
            # Claiming a different size with a root that is not that size's fails; RFC 9162
            # ties size to root only through the signed checkpoint, so only that is tested.
            if n < MAX_EXHAUSTIVE:
                assert not verify_inclusion(leaf, m, n + 1, proof, ROOTS[n + 1])


def test_tampered_consistency_proofs_fail():
    for n in range(1, MAX_EXHAUSTIVE + 1):
        for m in range(1, n + 1):
            proof = TREE.consistency_proof(m, n)
            old_root, new_root = ROOTS[m], ROOTS[n]
            assert not verify_consistency(m, n, _flip(old_root), new_root, proof), (m, n)
            assert not verify_consistency(m, n, old_root, _flip(new_root, 5), proof), (m, n)
            for i in range(len(proof)):
                bad = list(proof)
                bad[i] = _flip(bad[i], (i * 7) % 32, 0x10)
                assert not verify_consistency(m, n, old_root, new_root, bad), (m, n, i)
            assert not verify_consistency(m, n, old_root, new_root, [*proof, LEAVES[3]])
            if proof:
                assert not verify_consistency(m, n, old_root, new_root, proof[:-1]), (m, n)
                assert not verify_consistency(m, n, old_root, new_root, proof[1:]), (m, n)
            # The old root of a different size must not pass.
            if m > 1:
                assert not verify_consistency(m, n, ROOTS[m - 1], new_root, proof), (m, n)
            # Swapping old and new is never consistent unless they are the same tree.
            if m < n:
                assert not verify_consistency(n, m, new_root, old_root, proof)


def test_equal_sizes_need_equal_roots_and_an_empty_proof():
    for n in range(1, 20):
        assert verify_consistency(n, n, ROOTS[n], ROOTS[n], [])
        assert not verify_consistency(n, n, ROOTS[n], ROOTS[n + 1], [])
        assert not verify_consistency(n, n, ROOTS[n], ROOTS[n], [ROOTS[n]])


# ---------------------------------------------------------------------------------------------
# Hostile input: verification returns False and never raises.
# ---------------------------------------------------------------------------------------------

_junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True),
    st.text(max_size=40),
    st.binary(max_size=40),
    st.binary(min_size=32, max_size=32),
    st.lists(st.binary(min_size=30, max_size=34), max_size=70),
    st.lists(st.one_of(st.none(), st.integers(), st.text()), max_size=5),
)


@settings(max_examples=300, deadline=None)
@given(leaf=_junk, index=_junk, size=_junk, proof=_junk, root=_junk)
def test_verify_inclusion_never_raises(leaf, index, size, proof, root):
    assert verify_inclusion(leaf, index, size, proof, root) in (True, False)


@settings(max_examples=300, deadline=None)
@given(old=_junk, new=_junk, old_root=_junk, new_root=_junk, proof=_junk)
def test_verify_consistency_never_raises(old, new, old_root, new_root, proof):
    assert verify_consistency(old, new, old_root, new_root, proof) in (True, False)


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(min_value=1, max_value=MAX_EXHAUSTIVE),
    data=st.data(),
)
def test_random_structured_garbage_is_rejected(n, data):
    index = data.draw(st.integers(min_value=0, max_value=n - 1))
    length = data.draw(st.integers(min_value=0, max_value=10))
    hashes = st.binary(min_size=32, max_size=32)
    proof = data.draw(st.lists(hashes, min_size=length, max_size=length))
    if proof == TREE.inclusion_proof(index, n):
        return
    assert not verify_inclusion(LEAVES[index], index, n, proof, ROOTS[n])
    m = data.draw(st.integers(min_value=1, max_value=n))
    if proof != TREE.consistency_proof(m, n):
        assert not verify_consistency(m, n, ROOTS[m], ROOTS[n], proof)


def test_specific_malformed_inputs():
    proof = TREE.inclusion_proof(5, 8)
    root = ROOTS[8]
    leaf = LEAVES[5]
    assert verify_inclusion(leaf, 5, 8, proof, root)
    assert verify_inclusion(leaf, 5, 8, tuple(proof), root)
    # memoryview/bytearray are what database drivers return for binary columns.
    assert verify_inclusion(memoryview(leaf), 5, 8, [bytearray(p) for p in proof], root)
    assert not verify_inclusion(leaf, 5, 8, iter(proof), root)
    assert not verify_inclusion(leaf, -1, 8, proof, root)
    assert not verify_inclusion(leaf, 8, 8, proof, root)
    assert not verify_inclusion(leaf, 5, 0, proof, root)
    assert not verify_inclusion(leaf, True, 8, proof, root)
    assert not verify_inclusion(leaf, 5.0, 8, proof, root)
    assert not verify_inclusion(leaf, 5, 2**64, proof, root)
    assert not verify_inclusion(leaf[:31], 5, 8, proof, root)
    assert not verify_inclusion(leaf, 5, 8, proof, root.hex())
    assert not verify_inclusion(leaf, 5, 8, [p.hex() for p in proof], root)
    assert not verify_inclusion(leaf, 5, 8, b"".join(proof), root)
    assert not verify_inclusion(leaf, 5, 8, [*proof[:-1], proof[-1] + b"\x00"], root)
    assert not verify_inclusion(leaf, 5, 8, proof * 1000, root)

    cproof = TREE.consistency_proof(6, 8)
    assert verify_consistency(6, 8, ROOTS[6], root, cproof)
    assert not verify_consistency(6, 8, ROOTS[6], root, [])
    assert not verify_consistency(8, 6, root, ROOTS[6], cproof)
    assert not verify_consistency(-1, 8, ROOTS[6], root, cproof)
    assert not verify_consistency(6, 8, ROOTS[6], root, cproof * 1000)
    assert not verify_consistency(6, 8, ROOTS[6][:16], root, cproof)
    assert not verify_consistency(6, 8, ROOTS[6], root, [None, *cproof[1:]])
    assert not verify_consistency(6, True, ROOTS[6], root, cproof)


def test_proof_generation_rejects_bad_arguments():
    with pytest.raises(ValueError):
        inclusion_proof(8, 8, TREE.subtree_root)
    with pytest.raises(ValueError):
        inclusion_proof(-1, 8, TREE.subtree_root)
    with pytest.raises(ValueError):
        consistency_proof(9, 8, TREE.subtree_root)
    with pytest.raises(TypeError):
        inclusion_proof(1.0, 8, TREE.subtree_root)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        TREE.inclusion_proof(0, MAX_EXHAUSTIVE + 1)
    with pytest.raises(ValueError):
        TREE.subtree_root(3, 2)


# ---------------------------------------------------------------------------------------------
# CompactRange (the frontier stored in the database).
# ---------------------------------------------------------------------------------------------


def test_compact_range_matches_root_from_leaves_for_sizes_0_to_300():
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(300)]
    frontier = CompactRange()
    for n in range(301):
        assert frontier.size == n
        assert len(frontier.hashes) == bin(n).count("1")
        assert frontier.root() == root_from_leaves(leaves[:n]), n
        stored = json.dumps(frontier.to_hex())  # what goes into the one database row
        restored = CompactRange.from_hex(n, json.loads(stored))
        assert restored == frontier
        assert restored.root() == frontier.root()
        if n < 300:
            # Keep appending to the restored copy, as the next request would after a reload.
            restored.append(leaves[n])
            frontier.append(leaves[n])
            assert restored == frontier
    assert frontier.root() == MemoryTree(leaves).root()


def test_compact_range_appends_touch_at_most_log_n_nodes(monkeypatch):
    import ledger.merkle as merkle

    calls = 0
    real = merkle.node_hash

    def counting(left: bytes, right: bytes) -> bytes:
        nonlocal calls
        calls += 1
        return real(left, right)

    monkeypatch.setattr(merkle, "node_hash", counting)
    frontier = CompactRange()
    for i in range(5000):
        calls = 0
        frontier.append(leaf_hash(i.to_bytes(4, "big")))
        assert calls <= (i + 1).bit_length()
    # Amortised one hash per append, as for any binary counter.
    assert Frontier is CompactRange


def test_compact_range_rejects_inconsistent_state():
    frontier = CompactRange()
    frontier.extend(LEAVES[:5])
    hexes = frontier.to_hex()
    assert len(hexes) == 2
    with pytest.raises(ValueError):
        CompactRange.from_hex(7, hexes)
    with pytest.raises(ValueError):
        CompactRange.from_hex(5, hexes[:1])
    with pytest.raises(ValueError):
        CompactRange.from_hex(5, [hexes[0], hexes[1][:-2]])
    with pytest.raises(ValueError):
        CompactRange.from_hex(-1, [])
    with pytest.raises(TypeError):
        CompactRange.from_hex(1, hexes[0])
    with pytest.raises(ValueError):
        frontier.append(b"short")
    copy = frontier.copy()
    copy.append(LEAVES[5])
    assert frontier.size == 5 and copy.size == 6


# ---------------------------------------------------------------------------------------------
# Large trees.
# ---------------------------------------------------------------------------------------------


def test_million_leaf_proofs_are_short_and_cheap():
    calls: list[tuple[int, int]] = []

    def fabricated(start: int, end: int) -> bytes:
        # Only proof lengths are asserted, so any deterministic 32 bytes will do.
        calls.append((start, end))
        return _sha256(f"{start}:{end}".encode())

    size = 1_000_000
    for index in (0, 1, 524_287, 524_288, 999_998, 999_999, 123_457):
        calls.clear()
        proof = inclusion_proof(index, size, fabricated)
        assert 1 <= len(proof) <= 20
        assert len(calls) == len(proof)
        # Every left sibling, and every right sibling not on the ragged edge, is perfect.
        for start, end in calls:
            width = end - start
            if end != size:
                assert width & (width - 1) == 0 and start % width == 0
    for old in (1, 2, 3, 1000, 524_288, 524_289, 999_999, 1_000_000):
        calls.clear()
        proof = consistency_proof(old, size, fabricated)
        assert len(proof) <= 21
        assert len(calls) == len(proof)


def test_real_proofs_on_a_tree_of_2_pow_16_plus_3():
    size = 2**16 + 3
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(size)]
    tree = MemoryTree(leaves)
    root = tree.root()
    assert root == root_from_leaves(leaves)
    for index in (0, 1, 2**15, 2**16 - 1, 2**16, 2**16 + 1, size - 1, 40_503):
        proof = tree.inclusion_proof(index)
        assert len(proof) <= 17
        assert verify_inclusion(leaves[index], index, size, proof, root)
        assert not verify_inclusion(leaves[index], index, size, proof[:-1], root)
    for old in (1, 7, 2**15, 2**16, 2**16 + 1, 2**16 + 2, size):
        proof = tree.consistency_proof(old)
        assert verify_consistency(old, size, tree.root(old), root, proof)
        assert not verify_consistency(old, size, tree.root(old), _flip(root), proof)


# ---------------------------------------------------------------------------------------------
# canonical_bytes.
# ---------------------------------------------------------------------------------------------


def test_canonical_bytes_is_sorted_compact_utf8():
    payload = {"b": "1.50", "a": {"z": [1, 2, None, True], "y": "Zürich €"}}
    out = canonical_bytes(payload)
    assert out == '{"a":{"y":"Zürich €","z":[1,2,null,true]},"b":"1.50"}'.encode()
    assert canonical_bytes(dict(reversed(list(payload.items())))) == out


@pytest.mark.parametrize(
    "payload",
    [
        {"amount": 1.5},
        {"nested": {"list": [1, 2.0]}},
        {"amount": Decimal("1.50")},
        {"amount": float("nan")},
    ],
)
def test_canonical_bytes_refuses_floats(payload):
    with pytest.raises(TypeError, match="money must be decimal strings"):
        canonical_bytes(payload)


def test_canonical_bytes_refuses_ambiguous_keys():
    with pytest.raises(TypeError):
        canonical_bytes({1: "a", "1": "b"})


def test_canonical_bytes_refuses_a_cycle_and_writes_a_shared_value_twice():
    shared = {"invoice": "INV-1"}
    assert canonical_bytes({"a": shared, "b": [shared]}) == (
        b'{"a":{"invoice":"INV-1"},"b":[{"invoice":"INV-1"}]}'
    )
    # A float behind a shared value is found wherever it stands.
    with pytest.raises(TypeError, match="money must be decimal strings"):
        canonical_bytes({"a": [1], "b": {"c": [shared, {"amount": 2.5}]}})
    loop: list = []
    loop.append(loop)
    with pytest.raises(ValueError, match="Circular reference"):
        canonical_bytes({"a": loop})
