"""Checking the whole ledger as stored: every leaf, the tree, the node cache, the head and every
checkpoint. What `manage.py ledger_verify` runs; the bank's offline counterpart is verifier.py.

Each problem is tied to the index it concerns wherever the data allows: a changed row (its bytes,
its hash, or a column that disagrees with its bytes), a deleted one (a gap), a reordered one (a
row holding the leaf written for another index) and an inserted one (a row the head does not
account for, or one that shifts every later leaf).
"""

import base64
import binascii
import bisect
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import connection, transaction

from ledger.merkle import (
    EMPTY_ROOT,
    CompactRange,
    canonical_bytes,
    leaf_hash,
    verify_consistency,
)
from ledger.models import (
    LedgerCheckpoint,
    LedgerEntry,
    LedgerEntryParty,
    LedgerHead,
    LedgerNode,
    node_id,
)
from ledger.selectors import LedgerIncomplete, consistency_proof_for
from ledger.services import timestamp_text
from ledger.signing import checkpoint_signature_valid, key_id
from scf_platform.tenancy import ScopeRequired, current_scope

CHUNK = 2000


@dataclass
class VerifyReport:
    entries: int = 0
    head_size: int = 0
    checkpoints: int = 0
    # index -> reasons, for problems with one entry; the rest have no single index.
    by_index: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))
    general: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.by_index and not self.general

    @property
    def bad_indexes(self) -> list[int]:
        return sorted(self.by_index)

    def problems(self) -> list[str]:
        lines = [f"index {index}: {'; '.join(self.by_index[index])}" for index in self.bad_indexes]
        return lines + self.general

    def summary(self) -> str:
        if self.ok:
            return (
                f"OK: {self.entries} entries, tree head {self.head_size}, "
                f"{self.checkpoints} checkpoints verified"
            )
        count = len(self.by_index) + len(self.general)
        return f"FAILED: {count} problem{'s' if count != 1 else ''} found"


def _node_label(node: int) -> tuple[int, int, int]:
    """(level, first, last) leaf positions of a node key (inverse of models.node_id)."""
    level = ((node + 1) & -(node + 1)).bit_length() - 1
    start = (node + 1 - (1 << level)) // 2
    return level, start, start + (1 << level) - 1


class _Walk:
    def __init__(self, report: VerifyReport, checkpoint_sizes: set[int], head_size: int) -> None:
        self.report = report
        self.frontier = CompactRange()
        self.wanted_sizes = checkpoint_sizes
        self.roots: dict[int, bytes] = {0: EMPTY_ROOT}
        self.head_size = head_size
        self.head_frontier: list[str] | None = [] if head_size == 0 else None
        self.expected_index = 0
        # Leaf hashes by row index; the nodes above them by tree position (level >= 1).
        self.expected_leaves: dict[int, tuple[bytes, int]] = {}
        self.expected_nodes: dict[int, bytes] = {}
        # Tree positions whose leaf was found wrong: a node above them differing says nothing new.
        # From the first missing or moved row on, every node differs: `structural_from`.
        self.bad_positions: list[int] = []
        self.structural_from: int | None = None
        # Row index minus tree position, from each position where it changes (at a gap).
        self._shift_at: list[int] = [0]
        self._shift: list[int] = [0]

    def index_at(self, position: int) -> int:
        """The index of the row at tree `position`."""
        return position + self._shift[bisect.bisect_right(self._shift_at, position) - 1]

    def problem(self, index: int, reason: str) -> None:
        self.report.by_index[index].append(reason)

    def entry(self, index, kind, subject, leaf, stored_hash, created_at, parties) -> None:
        position = self.frontier.size
        leaf, stored_hash = bytes(leaf), bytes(stored_hash)
        if index - position != self._shift[-1]:
            self._shift_at.append(position)
            self._shift.append(index - position)
        if index > self.expected_index:
            for missing in range(self.expected_index, index):
                self.problem(missing, "deleted: no row holds this index")
            self._structural(position)
        self.expected_index = index + 1
        if position >= self.head_size:
            self.problem(index, f"inserted: the tree head counts only {self.head_size} entries")

        computed = leaf_hash(leaf)
        changed = []
        if computed != stored_hash:
            changed.append("its bytes do not hash to its stored leaf hash")
        try:
            content = json.loads(leaf)
            canonical = isinstance(content, dict) and canonical_bytes(content) == leaf
        except (ValueError, TypeError):
            content, canonical = None, False
        if not canonical:
            changed.append("its bytes are not canonical JSON")
        else:
            written_at = content.get("index")
            if written_at != index:
                self._structural(position)
                self.problem(
                    index,
                    f"reordered: holds the leaf written for index {written_at} "
                    "(rows swapped, renumbered, or shifted by an insertion)",
                )
            for name, value in (("kind", kind), ("subject", subject)):
                if content.get(name) != value:
                    changed.append(
                        f"its {name} column says {value!r}, its bytes {content.get(name)!r}"
                    )
            if content.get("parties") != sorted(parties):
                written = content.get("parties")
                changed.append(f"its party rows {sorted(parties)} differ from its bytes {written}")
            if content.get("at") != timestamp_text(created_at):
                changed.append("its created_at column differs from its bytes")
        if changed:
            self.problem(index, "changed: " + ", ".join(changed))
        if index in self.report.by_index:
            self.bad_positions.append(position)

        # The cache saved each leaf hash at the index it was appended as.
        self.expected_leaves[node_id(0, index)] = (computed, position)
        for level, node in enumerate(self.frontier.append(computed)):
            if level:
                self.expected_nodes[node_id(level, position + 1 - (1 << level))] = node
        size = self.frontier.size
        if size in self.wanted_sizes:
            self.roots[size] = self.frontier.root()
        if size == self.head_size:
            self.head_frontier = self.frontier.to_hex()

    def _structural(self, position: int) -> None:
        if self.structural_from is None:
            self.structural_from = position

    def _explained(self, first: int, last: int) -> bool:
        """Whether a wrong leaf, or rows out of place, already account for a node differing."""
        if self.structural_from is not None and last >= self.structural_from:
            return True
        i = bisect.bisect_left(self.bad_positions, first)
        return i < len(self.bad_positions) and self.bad_positions[i] <= last

    def compare_nodes(self) -> None:
        """Check the node cache against the nodes recomputed since the last call."""
        keys = sorted(self.expected_leaves.keys() | self.expected_nodes.keys())
        stored = {}
        for start in range(0, len(keys), 5000):
            batch = keys[start : start + 5000]
            rows = LedgerNode.objects.filter(pk__in=batch).values_list("id", "hash")
            stored.update({key: bytes(value) for key, value in rows})
        for key, (computed, position) in self.expected_leaves.items():
            index = key // 2
            if stored.get(key) != computed and index not in self.report.by_index:
                what = "is missing from" if key not in stored else "differs in"
                self.problem(index, f"changed: its leaf hash {what} the node cache")
                bisect.insort(self.bad_positions, position)
        for key, computed in self.expected_nodes.items():
            level, first, last = _node_label(key)
            if stored.get(key) == computed or self._explained(first, last):
                continue
            what = "is missing from" if key not in stored else "differs in"
            first_index, last_index = self.index_at(first), self.index_at(last)
            self.report.general.append(
                f"indexes {first_index}..{last_index}: their subtree root {what} the node cache "
                "(proofs served for them would not verify)"
            )
        self.expected_leaves.clear()
        self.expected_nodes.clear()


@contextmanager
def consistent_snapshot() -> Iterator[None]:
    """One transaction that sees the ledger as of its start, whatever is appended meanwhile, so
    that rows committed during a long run are not mistaken for insertions. (PostgreSQL takes the
    isolation level only before a transaction's first query: nested, the outer one's applies.)"""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield


def _entry_rows(chunk: int) -> Iterable[list[tuple]]:
    last = -1
    while True:
        rows = list(
            LedgerEntry.objects.filter(index__gt=last)
            .order_by("index")
            .values_list("index", "kind", "subject", "leaf", "leaf_hash", "created_at")[:chunk]
        )
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def ledger_verify(*, trusted_keys: Iterable[bytes] = (), chunk: int = CHUNK) -> VerifyReport:
    """Recompute and check everything; needs the platform scope (it reads every entry).

    `trusted_keys` are public keys checkpoints may be signed with (the configured key, keys of
    earlier rotations); with none, each checkpoint is checked against the key it carries."""
    if not current_scope().system:
        raise ScopeRequired("ledger_verify reads every entry: run it in the platform scope")
    trusted = set(trusted_keys)
    report = VerifyReport()
    head = LedgerHead.objects.filter(pk=1).values_list("size", "frontier").first() or (0, [])
    report.head_size, head_frontier = head
    checkpoints = list(LedgerCheckpoint.objects.order_by("id"))
    report.checkpoints = len(checkpoints)

    walk = _Walk(report, {cp.tree_size for cp in checkpoints}, report.head_size)
    for rows in _entry_rows(chunk):
        parties: dict[int, list[int]] = defaultdict(list)
        party_rows = LedgerEntryParty.objects.filter(
            entry_id__gte=rows[0][0], entry_id__lte=rows[-1][0]
        ).values_list("entry_id", "organization_id")
        for entry_id, organization_id in party_rows:
            parties[entry_id].append(organization_id)
        for row in rows:
            walk.entry(*row, parties.get(row[0], []))
        walk.compare_nodes()
    report.entries = walk.frontier.size

    # Rows missing after the last one there is.
    for index in range(walk.expected_index, report.head_size):
        report.by_index[index].append("deleted: the tree head counts it but no row holds it")
    if walk.head_frontier is not None and walk.head_frontier != head_frontier:
        report.general.append(
            f"tree head: its right edge at size {report.head_size} is not the one the entries give"
        )
    expected_nodes = 2 * report.entries - bin(report.entries).count("1")
    stored_nodes = LedgerNode.objects.count()
    if stored_nodes > expected_nodes:
        report.general.append(
            f"node cache: {stored_nodes - expected_nodes} nodes that no entry accounts for"
        )
    _check_checkpoints(report, checkpoints, walk.roots, trusted)
    return report


def _check_checkpoints(
    report: VerifyReport,
    checkpoints: list[LedgerCheckpoint],
    roots: dict[int, bytes],
    trusted: set[bytes],
) -> None:
    previous: LedgerCheckpoint | None = None
    last_good_size = 0
    for cp in checkpoints:
        label = f"checkpoint #{cp.pk} (size {cp.tree_size})"
        try:
            public_key = base64.b64decode(cp.public_key, validate=True)
        except (binascii.Error, ValueError):
            public_key = b""
        if trusted and public_key not in trusted:
            report.general.append(f"{label}: signed by key {cp.key_id}, which is not trusted")
        if public_key and cp.key_id != key_id(public_key):
            report.general.append(f"{label}: key_id does not name its public key")
        if not checkpoint_signature_valid(
            tree_size=cp.tree_size,
            root_hash=cp.root_hash,
            timestamp=cp.timestamp,
            signature=cp.signature,
            public_key=public_key,
        ):
            report.general.append(f"{label}: the signature does not verify")
        if cp.tree_size > report.entries:
            report.general.append(
                f"{label}: covers {cp.tree_size} entries but only {report.entries} are stored"
            )
        elif roots.get(cp.tree_size, b"").hex() != cp.root_hash:
            report.general.append(
                f"{label}: the entries give another root: something below index "
                f"{cp.tree_size} (and at or above {last_good_size}) was changed, deleted, "
                "inserted or reordered"
            )
        else:
            last_good_size = max(last_good_size, cp.tree_size)
        if previous is not None:
            _check_consistency(report, previous, cp, label)
        previous = cp
    if not trusted:
        report.notes.append(
            "no trusted public key: signatures were checked against the keys the checkpoints "
            "carry, which shows integrity but not who signed them"
        )


def _check_consistency(
    report: VerifyReport, previous: LedgerCheckpoint, cp: LedgerCheckpoint, label: str
) -> None:
    if cp.tree_size < previous.tree_size:
        report.general.append(
            f"{label}: smaller than checkpoint #{previous.pk} (size {previous.tree_size}) "
            "signed before it"
        )
        return
    try:
        proof = consistency_proof_for(previous.tree_size, cp.tree_size)
        consistent = verify_consistency(
            previous.tree_size,
            cp.tree_size,
            bytes.fromhex(previous.root_hash),
            bytes.fromhex(cp.root_hash),
            proof,
        )
    except (LedgerIncomplete, ValueError):
        consistent = False
    if not consistent:
        report.general.append(
            f"{label}: no consistency proof from the stored tree links it to checkpoint "
            f"#{previous.pk} (size {previous.tree_size})"
        )
