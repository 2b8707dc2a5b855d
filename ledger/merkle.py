"""RFC 9162 (CT 2.0) section 2.1 Merkle tree: hashing, appending, proofs and verification."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "CompactRange",
    "Frontier",
    "MemoryTree",
    "SubtreeRoot",
    "canonical_bytes",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root_from_leaves",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
# MTH({}) = HASH() per RFC 9162 2.1.1.
EMPTY_ROOT = hashlib.sha256(b"").digest()
# RFC 9162 carries tree sizes as uint64; refusing larger values keeps hostile input cheap.
_MAX_TREE_SIZE = 2**64 - 1

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"

SubtreeRoot = Callable[[int, int], bytes]
"""``subtree_root(start, end)`` returns MTH(leaves[start:end]) for ``0 <= start < end``."""


def leaf_hash(data: bytes) -> bytes:
    """Return SHA-256(0x00 || data), the hash of one log entry."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return SHA-256(0x01 || left || right), the hash of an interior node."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def canonical_bytes(payload: dict) -> bytes:
    """Serialise ``payload`` to the one byte string that gets hashed into the log.

    Sorted keys, compact separators and UTF-8 make the encoding deterministic; floats are
    refused because a binary float cannot represent money exactly and its textual form is not
    stable across producers.
    """
    _reject_non_canonical(payload)
    return _CANONICAL.encode(payload).encode("utf-8")


# One encoder for every leaf: json.dumps with options builds a new one per call.
_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


# What JSON writes one way only; anything else is looked at more closely.
_PLAIN_SCALARS = frozenset({str, int, bool, type(None)})


def _reject_non_canonical(value: object) -> None:
    """Refuse floats, Decimals and non-string keys anywhere in ``value``. Walks with a stack of
    its own: a leaf holds a few dozen values, and the common ones cost one set look-up."""
    pending, walked = [value], set()
    while pending:
        value = pending.pop()
        kind = type(value)
        if kind in _PLAIN_SCALARS:
            continue
        if id(value) in walked:
            # Seen already (shared, or a cycle, which the encoder then refuses).
            continue
        walked.add(id(value))
        if isinstance(value, float | Decimal):
            raise TypeError(
                f"money must be decimal strings, not {type(value).__name__} ({value!r})"
            )
        if isinstance(value, dict):
            for key in value:
                # json.dumps would silently turn 1 and "1" into the same key.
                if not isinstance(key, str):
                    raise TypeError(f"payload keys must be strings, got {type(key).__name__}")
            pending.extend(value.values())
        elif isinstance(value, list | tuple):
            pending.extend(value)


def _split_point(size: int) -> int:
    """Largest power of two strictly smaller than ``size`` (``size >= 2``): RFC 9162's k."""
    return 1 << ((size - 1).bit_length() - 1)


def _check_hash(value: bytes, what: str) -> bytes:
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        raise ValueError(f"{what} must be {HASH_SIZE} bytes")
    return value


class CompactRange:
    """The right edge ("frontier") of an append-only Merkle tree.

    Holds one root per set bit of ``size``: the perfect subtrees the leaves decompose into,
    largest (leftmost) first. That is all RFC 9162's MTH needs, so appending is O(log n) and
    never touches earlier leaves, and the state fits in one database row.
    """

    __slots__ = ("_hashes", "_size")

    def __init__(self) -> None:
        self._size = 0
        self._hashes: list[bytes] = []

    @property
    def size(self) -> int:
        return self._size

    @property
    def hashes(self) -> tuple[bytes, ...]:
        return tuple(self._hashes)

    def append(self, leaf_hash: bytes) -> list[bytes]:
        """Add one leaf hash (not raw data: callers hash with :func:`leaf_hash`).

        Returns the roots of the perfect, power-of-two aligned subtrees this leaf completes,
        smallest first: element ``level`` covers the ``2**level`` leaves ending with this one.
        The first is the leaf hash itself. A store of subtree roots saves exactly these.
        """
        node = _check_hash(leaf_hash, "leaf_hash")
        completed = [node]
        # Each trailing 1 bit of the old size is a perfect subtree the new leaf now completes.
        size = self._size
        while size & 1:
            node = node_hash(self._hashes.pop(), node)
            completed.append(node)
            size >>= 1
        self._hashes.append(node)
        self._size += 1
        return completed

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        for item in leaf_hashes:
            self.append(item)

    def root(self) -> bytes:
        """MTH of all leaves appended so far."""
        if not self._hashes:
            return EMPTY_ROOT
        # MTH splits at the largest power of two, so the right edge folds up right to left.
        acc = self._hashes[-1]
        for left in reversed(self._hashes[:-1]):
            acc = node_hash(left, acc)
        return acc

    def copy(self) -> CompactRange:
        clone = CompactRange()
        clone._size = self._size
        clone._hashes = list(self._hashes)
        return clone

    def to_hex(self) -> list[str]:
        """Serialise the subtree roots; store ``size`` alongside them."""
        return [item.hex() for item in self._hashes]

    @classmethod
    def from_hex(cls, size: int, hashes: Sequence[str]) -> CompactRange:
        """Rebuild from :meth:`to_hex` output, rejecting a list that cannot belong to ``size``."""
        if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= _MAX_TREE_SIZE:
            raise ValueError(f"invalid tree size {size!r}")
        if isinstance(hashes, str | bytes):
            raise TypeError("hashes must be a sequence of hex strings")
        expected = bin(size).count("1")
        if len(hashes) != expected:
            raise ValueError(f"tree size {size} needs {expected} subtree hashes, got {len(hashes)}")
        decoded = []
        for item in hashes:
            raw = bytes.fromhex(item)
            decoded.append(_check_hash(raw, "subtree hash"))
        clone = cls()
        clone._size = size
        clone._hashes = decoded
        return clone

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CompactRange):
            return NotImplemented
        return self._size == other._size and self._hashes == other._hashes

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"CompactRange(size={self._size}, root={self.root().hex()})"


Frontier = CompactRange


def root_from_leaves(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH (RFC 9162 2.1.1) of a list of leaf hashes, in O(n) time and O(log n) memory."""
    frontier = CompactRange()
    frontier.extend(leaf_hashes)
    return frontier.root()


def _check_size(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int")
    if not 0 <= value <= _MAX_TREE_SIZE:
        raise ValueError(f"{name} out of range: {value}")


def inclusion_proof(index: int, tree_size: int, subtree_root: SubtreeRoot) -> list[bytes]:
    """PATH(index, D[tree_size]) per RFC 9162 2.1.3.1, leaf's sibling first.

    Walks down from the root, so ``subtree_root`` is asked for exactly one range per proof
    element. Every left sibling is a perfect, power-of-two aligned subtree; a right sibling is
    too unless it ends at ``tree_size``.
    """
    _check_size("index", index)
    _check_size("tree_size", tree_size)
    if index >= tree_size:
        raise ValueError(f"index {index} is outside a tree of size {tree_size}")
    path: list[bytes] = []
    start, end = 0, tree_size
    while end - start > 1:
        mid = start + _split_point(end - start)
        if index < mid:
            path.append(subtree_root(mid, end))
            end = mid
        else:
            path.append(subtree_root(start, mid))
            start = mid
    path.reverse()
    return path


def consistency_proof(old_size: int, new_size: int, subtree_root: SubtreeRoot) -> list[bytes]:
    """PROOF(old_size, D[new_size]) per RFC 9162 2.1.4.1.

    ``old_size == new_size`` and ``old_size == 0`` give an empty proof: there is nothing to
    prove, and :func:`verify_consistency` accepts exactly those empty proofs.
    """
    _check_size("old_size", old_size)
    _check_size("new_size", new_size)
    if old_size > new_size:
        raise ValueError(f"old_size {old_size} is larger than new_size {new_size}")
    if old_size == 0:
        return []
    proof: list[bytes] = []
    start, end = 0, new_size
    m = old_size
    # RFC 9162's SUBPROOF flag b: True while the old tree is still a left-aligned prefix
    # whose root the verifier already holds.
    known = True
    while m != end - start:
        mid = start + _split_point(end - start)
        if m <= mid - start:
            proof.append(subtree_root(mid, end))
            end = mid
        else:
            proof.append(subtree_root(start, mid))
            m -= mid - start
            start = mid
            known = False
    if not known:
        proof.append(subtree_root(start, end))
    proof.reverse()
    return proof


class MemoryTree:
    """Leaf hashes held in memory, with a cache of perfect subtree roots.

    Only power-of-two aligned subtrees are cached: they never change as the log grows, and every
    ragged right-edge subtree is built from at most log2(n) of them.
    """

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self._leaves: list[bytes] = []
        self._cache: dict[tuple[int, int], bytes] = {}
        for item in leaf_hashes:
            self.append(item)

    @property
    def size(self) -> int:
        return len(self._leaves)

    def __len__(self) -> int:
        return len(self._leaves)

    def append(self, leaf_hash: bytes) -> None:
        self._leaves.append(_check_hash(leaf_hash, "leaf_hash"))

    def leaf(self, index: int) -> bytes:
        return self._leaves[index]

    def subtree_root(self, start: int, end: int) -> bytes:
        """MTH(leaves[start:end]); an empty range gives the empty-tree hash."""
        if not 0 <= start <= end <= len(self._leaves):
            raise ValueError(f"range [{start}, {end}) is outside a tree of size {len(self)}")
        if start == end:
            return EMPTY_ROOT
        return self._subtree_root(start, end)

    def _subtree_root(self, start: int, end: int) -> bytes:
        size = end - start
        if size == 1:
            return self._leaves[start]
        perfect = size & (size - 1) == 0
        if perfect:
            cached = self._cache.get((start, end))
            if cached is not None:
                return cached
        mid = start + _split_point(size)
        result = node_hash(self._subtree_root(start, mid), self._subtree_root(mid, end))
        if perfect:
            self._cache[(start, end)] = result
        return result

    def root(self, tree_size: int | None = None) -> bytes:
        size = len(self._leaves) if tree_size is None else tree_size
        return self.subtree_root(0, size)

    def inclusion_proof(self, index: int, tree_size: int | None = None) -> list[bytes]:
        size = len(self._leaves) if tree_size is None else tree_size
        self._check_within(size)
        return inclusion_proof(index, size, self._subtree_root)

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        size = len(self._leaves) if new_size is None else new_size
        self._check_within(size)
        return consistency_proof(old_size, size, self._subtree_root)

    def _check_within(self, tree_size: int) -> None:
        if not isinstance(tree_size, int) or tree_size > len(self._leaves):
            raise ValueError(f"tree_size {tree_size} exceeds the {len(self)} leaves held")


def _as_hash(value: object) -> bytes | None:
    # Database drivers hand back memoryview/bytearray for binary columns; accept those too.
    if isinstance(value, bytearray | memoryview):
        try:
            value = bytes(value)
        except (TypeError, ValueError):
            return None
    if isinstance(value, bytes) and len(value) == HASH_SIZE:
        return value
    return None


def _is_size(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _MAX_TREE_SIZE


def verify_inclusion(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 2.1.3.2: does ``proof`` show ``leaf_hash`` at ``index`` under ``root``?

    Returns False, never raises, for malformed input. Note that the proof binds the tree size
    only through ``root``, so take ``tree_size`` and ``root`` from the same signed checkpoint.
    """
    leaf = _as_hash(leaf_hash)
    expected_root = _as_hash(root)
    if leaf is None or expected_root is None or not isinstance(proof, list | tuple):
        return False
    if not (_is_size(index) and _is_size(tree_size)) or index >= tree_size:
        return False
    fn, sn = index, tree_size - 1
    r = leaf
    for element in proof:
        p = _as_hash(element)
        if p is None or sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == expected_root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 2.1.4.2: is the tree (new_size, new_root) an append-only extension of the old?

    RFC 9162 only defines proofs for ``0 < old_size < new_size``; as in other CT
    implementations, equal sizes (equal roots) and an empty old tree are consistent with an
    empty proof. Returns False, never raises, for malformed input.
    """
    first_hash = _as_hash(old_root)
    second_hash = _as_hash(new_root)
    if first_hash is None or second_hash is None or not isinstance(proof, list | tuple):
        return False
    if not (_is_size(old_size) and _is_size(new_size)) or old_size > new_size:
        return False
    if old_size == new_size:
        return not proof and first_hash == second_hash
    if old_size == 0:
        return not proof and first_hash == EMPTY_ROOT
    # Step 1; the upper bound just stops a hostile caller making us copy a huge list.
    if not proof or len(proof) > 2 * _MAX_TREE_SIZE.bit_length():
        return False
    path: list[bytes] = []
    for element in proof:
        h = _as_hash(element)
        if h is None:
            return False
        path.append(h)
    # Step 2.
    if old_size & (old_size - 1) == 0:
        path.insert(0, first_hash)
    # Steps 3 and 4.
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # Step 5.
    fr = sr = path[0]
    # Step 6.
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    # Step 7.
    return fr == first_hash and sr == second_hash and sn == 0
