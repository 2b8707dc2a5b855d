"""Reading the ledger: the head, checkpoints, subtree roots from the node cache, proofs."""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ledger.merkle import EMPTY_ROOT, consistency_proof, inclusion_proof, node_hash
from ledger.models import LedgerCheckpoint, LedgerEntry, LedgerHead, LedgerNode, node_id
from scf_platform.models import Organization


class LedgerIncomplete(RuntimeError):
    """A subtree root the tree needs is missing from the node cache."""


class TreeTooLarge(ValueError):
    """A tree size larger than the ledger was asked for."""


class NotInTree(LookupError):
    """No such entry in the tree asked for (or no checkpoint to default to)."""


def ledger_size() -> int:
    """The number of committed entries."""
    return LedgerHead.objects.filter(pk=1).values_list("size", flat=True).first() or 0


def latest_checkpoint() -> LedgerCheckpoint | None:
    return LedgerCheckpoint.objects.order_by("-id").first()


def checkpoint_at(size: int) -> LedgerCheckpoint | None:
    """The latest checkpoint signed at exactly `size`, if any."""
    return LedgerCheckpoint.objects.filter(tree_size=size).order_by("-id").first()


def _is_aligned_perfect(start: int, end: int) -> bool:
    size = end - start
    return size & (size - 1) == 0 and start % size == 0


def _range_node_ids(start: int, end: int) -> Iterator[int]:
    """The cached nodes MTH(leaves[start:end]) is made of (at most two per level)."""
    size = end - start
    if _is_aligned_perfect(start, end):
        yield node_id(size.bit_length() - 1, start)
        return
    mid = start + (1 << ((size - 1).bit_length() - 1))
    yield from _range_node_ids(start, mid)
    yield from _range_node_ids(mid, end)


def _range_root(start: int, end: int, nodes: dict[int, bytes]) -> bytes:
    size = end - start
    if _is_aligned_perfect(start, end):
        key = node_id(size.bit_length() - 1, start)
        try:
            return nodes[key]
        except KeyError:
            raise LedgerIncomplete(
                f"node cache has no root for leaves {start}..{end - 1}"
            ) from None
    mid = start + (1 << ((size - 1).bit_length() - 1))
    return node_hash(_range_root(start, mid, nodes), _range_root(mid, end, nodes))


def _fetch_nodes(ids: Iterable[int]) -> dict[int, bytes]:
    wanted = sorted(set(ids))
    rows = LedgerNode.objects.filter(pk__in=wanted).values_list("id", "hash")
    return {key: bytes(value) for key, value in rows}


class _SubtreeRoots:
    """A `subtree_root(start, end)` for merkle's proof functions, read in one query: a first pass
    records which ranges the proof needs, then their nodes are fetched together."""

    def __init__(self) -> None:
        self.ranges: list[tuple[int, int]] = []
        self.nodes: dict[int, bytes] = {}

    def record(self, start: int, end: int) -> bytes:
        self.ranges.append((start, end))
        return EMPTY_ROOT

    def load(self) -> None:
        ids = [key for start, end in self.ranges for key in _range_node_ids(start, end)]
        self.nodes = _fetch_nodes(ids)

    def __call__(self, start: int, end: int) -> bytes:
        return _range_root(start, end, self.nodes)


def root_at(size: int) -> bytes:
    """MTH of the first `size` entries, from at most log2(size) cached nodes."""
    if size == 0:
        return EMPTY_ROOT
    return _range_root(0, size, _fetch_nodes(_range_node_ids(0, size)))


def inclusion_proof_for(index: int, size: int) -> list[bytes]:
    roots = _SubtreeRoots()
    inclusion_proof(index, size, roots.record)
    roots.load()
    return inclusion_proof(index, size, roots)


def consistency_proof_for(first: int, second: int) -> list[bytes]:
    roots = _SubtreeRoots()
    consistency_proof(first, second, roots.record)
    roots.load()
    return consistency_proof(first, second, roots)


def leaf_hash_at(index: int) -> bytes | None:
    """An entry's leaf hash, from the hash-only node table (level 0)."""
    return _fetch_nodes([node_id(0, index)]).get(node_id(0, index))


def entry_visible_to(*, index: int, organization: Organization | None) -> LedgerEntry | None:
    """The entry's content if `organization` is one of its parties; None otherwise."""
    return LedgerEntry.objects.visible_to(organization).filter(index=index).first()


@dataclass(frozen=True)
class EntryProof:
    index: int
    leaf_hash: bytes
    tree_size: int
    root_hash: bytes
    inclusion_proof: list[bytes]
    # The signed checkpoint at tree_size, when there is one.
    checkpoint: LedgerCheckpoint | None
    # The content, for the entry's parties only.
    entry: LedgerEntry | None


def entry_proof(
    *, index: int, tree_size: int | None, organization: Organization | None
) -> EntryProof:
    """An entry's hash and its inclusion proof to `tree_size` (default: the latest checkpoint's
    size), for anyone; its content only if `organization` is one of its parties."""
    checkpoint = None
    if tree_size is None:
        checkpoint = latest_checkpoint()
        if checkpoint is None:
            raise NotInTree("No checkpoint has been signed yet; ask with tree_size.")
        tree_size = checkpoint.tree_size
    elif tree_size > ledger_size():
        raise TreeTooLarge("The ledger is not that large yet.")
    else:
        checkpoint = checkpoint_at(tree_size)
    if index >= tree_size:
        raise NotInTree(f"Entry {index} is not in the tree of size {tree_size}.")
    leaf = leaf_hash_at(index)
    if leaf is None:
        raise LedgerIncomplete(f"node cache has no leaf hash for entry {index}")
    root = bytes.fromhex(checkpoint.root_hash) if checkpoint else root_at(tree_size)
    return EntryProof(
        index=index,
        leaf_hash=leaf,
        tree_size=tree_size,
        root_hash=root,
        inclusion_proof=inclusion_proof_for(index, tree_size),
        checkpoint=checkpoint,
        entry=entry_visible_to(index=index, organization=organization),
    )
