"""Writing the ledger: a business event becomes one leaf; checkpoints sign the tree head."""

import json
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime
from itertools import islice

from django.db import connection, transaction
from django.utils import timezone

from ledger.merkle import CompactRange, canonical_bytes, leaf_hash
from ledger.models import (
    LedgerCheckpoint,
    LedgerEntry,
)
from ledger.signing import sign_checkpoint
from scf_platform.bulk_sql import array_literal, bytea_array_literal
from scf_platform.business_events import BusinessEvent

LEAF_VERSION = 1
NONCE_BYTES = 16
HEAD_ID = 1


def timestamp_text(moment: datetime) -> str:
    """ISO 8601 in UTC with a trailing Z: the one spelling leaves and checkpoints use."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


# Raw SQL on the append path: an append is a handful of statements on the critical section every
# business transaction queues for, and ORM overhead there is most of the cost. The application
# role writes entries and party rows only: the head lock is a SECURITY DEFINER function, and the
# database's trigger on the entries saves the subtree nodes and moves the head (migration 0004).
_HEAD_LOCKED = "SELECT head_size, head_frontier FROM ledger_head_lock(%s)"
_APPEND_POSTGRESQL = """
WITH entry AS (
    INSERT INTO ledger_ledgerentry ("index", kind, subject, leaf, leaf_hash, created_at)
    VALUES (%s, %s, %s, %s, %s, %s)
)
INSERT INTO ledger_ledgerentryparty (entry_id, organization_id) SELECT %s, unnest(%s::bigint[])
"""
# Many appends at once: the same writes, each a multi-row insert from parallel arrays.
_APPEND_MANY_POSTGRESQL = """
WITH entries AS (
    INSERT INTO ledger_ledgerentry ("index", kind, subject, leaf, leaf_hash, created_at)
    SELECT entry.*, %s FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::bytea[], %s::bytea[])
        AS entry
)
INSERT INTO ledger_ledgerentryparty (entry_id, organization_id)
SELECT * FROM unnest(%s::bigint[], %s::bigint[])
"""
_CHECKPOINT_RECORD = "SELECT ledger_checkpoint_record(%s, %s, %s, %s, %s, %s)"
# Events appended per statement: bounds the statement's size (leaves are a few hundred bytes).
APPEND_MANY_BATCH = 2000


def _head_locked() -> tuple[int, list[str]]:
    """The tree head's size and right edge, locked until the transaction ends: the one point
    where appends queue up. (The function makes the head on the first append ever.)"""
    with connection.cursor() as cursor:
        cursor.execute(_HEAD_LOCKED, [HEAD_ID])
        size, frontier = cursor.fetchone()
    # Django reads jsonb back as text on a raw cursor.
    return size, json.loads(frontier) if isinstance(frontier, str) else frontier


def ledger_lock() -> None:
    """Take the append lock now (see scf_platform.business_events.business_transaction, which
    says the lock order)."""
    _head_locked()


def leaf_content(
    *, index: int, kind: str, subject: str, parties: list[int], payload: dict, at: str, nonce: str
) -> dict:
    """What a leaf says. `index` binds each leaf to its place, so a reordering shows in the bytes
    themselves; `at` is timestamp_text of the append; `nonce` (leaf_nonces) keeps the leaf hash
    (which anyone signed in may read) from confirming a guess of the content (an invoice number
    and amount, say) to a non-party."""
    return {
        "v": LEAF_VERSION,
        "index": index,
        "kind": kind,
        "subject": subject,
        "parties": parties,
        "payload": payload,
        "at": at,
        "nonce": nonce,
    }


def leaf_nonces(count: int) -> list[str]:
    """`count` nonces of 16 random bytes each, in hex, from one call to the system's CSPRNG."""
    text = secrets.token_hex(NONCE_BYTES * count)
    width = 2 * NONCE_BYTES
    return [text[start : start + width] for start in range(0, len(text), width)]


def ledger_append(*, kind: str, subject: str, parties: list[int], payload: dict) -> LedgerEntry:
    """Append one event, in the caller's transaction: it commits or rolls back with the change
    it records. O(log n): the head's right edge absorbs the leaf, and the subtrees it completes
    are saved for proofs (by the database's trigger); nothing before it is read."""
    parties = sorted(set(parties))
    now = timezone.now()
    with transaction.atomic(savepoint=False):
        index, _ = _head_locked()
        leaf = canonical_bytes(
            leaf_content(
                index=index,
                kind=kind,
                subject=subject,
                parties=parties,
                payload=payload,
                at=timestamp_text(now),
                nonce=leaf_nonces(1)[0],
            )
        )
        digest = leaf_hash(leaf)
        entry = LedgerEntry(
            index=index, kind=kind, subject=subject, leaf=leaf, leaf_hash=digest, created_at=now
        )
        _write_postgresql(entry=entry, parties=parties)
    entry._state.adding = False
    entry._state.db = connection.alias
    return entry


def _write_postgresql(*, entry, parties) -> None:
    """The writes of an append as one statement: one round trip while the head is held, which
    is most of what an append costs (the trigger's node and head writes run inside it). Party
    rows point at an entry inserted by the same statement; the foreign keys are deferred, so
    they are checked at commit."""
    params = [
        entry.index,
        entry.kind,
        entry.subject,
        entry.leaf,
        entry.leaf_hash,
        entry.created_at,
        entry.index,
        parties,
    ]
    with connection.cursor() as cursor:
        cursor.execute(_APPEND_POSTGRESQL, params)


def ledger_append_many(events: Iterable[BusinessEvent]) -> range:
    """Append events in the order given, in the caller's transaction: each gets a leaf of its
    own, exactly as ledger_append would give it one after the other (one time for them all),
    but the head is locked once and the rows are written by one statement per
    APPEND_MANY_BATCH events. Returns the indexes they got."""
    now = timezone.now()
    at = timestamp_text(now)
    with transaction.atomic(savepoint=False):
        first, _ = _head_locked()
        index = first
        events = iter(events)
        while batch := list(islice(events, APPEND_MANY_BATCH)):
            entries: list[tuple[int, str, str, bytes, bytes]] = []
            parties: list[tuple[int, int]] = []
            for event, nonce in zip(batch, leaf_nonces(len(batch)), strict=True):
                event_parties = sorted(set(event.parties))
                leaf = canonical_bytes(
                    leaf_content(
                        index=index,
                        kind=event.kind,
                        subject=event.subject,
                        parties=event_parties,
                        payload=event.payload,
                        at=at,
                        nonce=nonce,
                    )
                )
                digest = leaf_hash(leaf)
                entries.append((index, event.kind, event.subject, leaf, digest))
                parties += [(index, party) for party in event_parties]
                index += 1
            _write_many_postgresql(entries=entries, parties=parties, at=now)
    return range(first, index)


def _write_many_postgresql(*, entries, parties, at) -> None:
    """A batch's writes as one statement, each column one array literal; foreign keys are
    deferred, as for one append."""
    indexes, kinds, subjects, leaves, digests = zip(*entries, strict=True)
    params = [
        at,
        array_literal(indexes),
        array_literal(kinds),
        array_literal(subjects),
        bytea_array_literal(leaves),
        bytea_array_literal(digests),
        array_literal(index for index, _ in parties),
        array_literal(party for _, party in parties),
    ]
    with connection.cursor() as cursor:
        cursor.execute(_APPEND_MANY_POSTGRESQL, params)


def ledger_checkpoint_sign(*, only_if_grown: bool = False) -> LedgerCheckpoint | None:
    """Sign the current tree head. With `only_if_grown` (the beat task), nothing is signed when
    the latest checkpoint already covers every entry. Raises SigningKeyMissing without a key."""
    with transaction.atomic():
        # Holding the head keeps appends out while we read it and sign, so that checkpoints are
        # created in the order of their sizes.
        size, frontier = _head_locked()
        latest = LedgerCheckpoint.objects.order_by("-id").first()
        if only_if_grown and latest is not None and latest.tree_size == size:
            return None
        root = CompactRange.from_hex(size, frontier).root()
        fields = sign_checkpoint(
            tree_size=size, root_hash=root.hex(), timestamp=timestamp_text(timezone.now())
        )
        # The database stores it only for the head it holds locked (migration 0004).
        with connection.cursor() as cursor:
            cursor.execute(
                _CHECKPOINT_RECORD,
                [
                    fields["tree_size"],
                    fields["root_hash"],
                    fields["timestamp"],
                    fields["signature"],
                    fields["public_key"],
                    fields["key_id"],
                ],
            )
            (checkpoint_id,) = cursor.fetchone()
        return LedgerCheckpoint.objects.get(pk=checkpoint_id)
