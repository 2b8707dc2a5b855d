"""The narrow interface through which suppliers and financing tell the rest of the platform
(the ledger) what happened. Sent inside the transaction that made it happen."""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.db import transaction
from django.dispatch import Signal

# Sent with: kind (str, e.g. "invoice.confirmed"), subject (str, e.g. "invoice:42"),
# parties (list of organization ids that may read it), payload (JSON-safe dict: no floats).
business_event = Signal()

# Sent with: events (a list of BusinessEvent), when a service records many events of one
# transaction at once (a bulk upload's invoices), so that a receiver keeping a row per event
# can write them together. The events do not go through `business_event` as well: a receiver
# that must see every event connects to both.
business_events = Signal()


@dataclass(frozen=True, slots=True)
class BusinessEvent:
    """One business event, as `business_event` sends it: `parties` sorted, without repeats."""

    kind: str
    subject: str
    parties: list[int]
    payload: dict

    def __post_init__(self) -> None:
        object.__setattr__(self, "parties", sorted(set(self.parties)))


def business_event_record(*, kind: str, subject: str, parties: list[int], payload: dict) -> None:
    held = _held_events.get()
    if held is not None:
        held.append(BusinessEvent(kind=kind, subject=subject, parties=parties, payload=payload))
        return
    business_event.send(
        sender=None, kind=kind, subject=subject, parties=sorted(set(parties)), payload=payload
    )


def business_event_record_many(events: Iterable[BusinessEvent]) -> None:
    """Record events in the order given, as one business_event_record call each would, in one
    signal (see `business_events`)."""
    events = list(events)
    if events:
        business_events.send(sender=None, events=events)


# Sent first thing in a business transaction (below). The ledger takes its one lock here.
business_transaction_started = Signal()


def business_transaction_begin() -> None:
    """Take the locks a business transaction starts with, in the caller's transaction. Use
    `business_transaction()`, which opens the transaction and calls this first."""
    business_transaction_started.send(sender=None)


@contextmanager
def business_transaction() -> Iterator[None]:
    """One transaction (`transaction.atomic()`) that changes the business and records its
    events; every service that records a business event writes inside one.

    Lock order, the same in every business transaction, so that no two of them deadlock:
      1. the ledger's head row (`ledger.services.ledger_lock`, through the
         `business_transaction_started` signal), taken here, before anything else;
      2. then the rows the service locks: an invoice (suppliers); in financing the request
         (FOR NO KEY UPDATE, its program with it by the join), then programs, then sub-limits
         (program participants), several rows of one table in pk order; collateral holds and
         invoices are changed after those, by conditional updates.
    The head is locked first although the ledger is written last (each event appends its leaf
    when recorded, in this transaction): a service that locked its rows first and then queued
    for the head would hold them while another business transaction that holds the head waits
    for them. Nested inside another business transaction, it is a savepoint and the lock is
    already held (taking it again is a no-op), so the order still holds."""
    with transaction.atomic():
        business_transaction_begin()
        yield


# Events recorded inside business_events_held(), not yet sent.
_held_events: ContextVar[list[BusinessEvent] | None] = ContextVar("held_events", default=None)


@contextmanager
def business_events_held() -> Iterator[None]:
    """Events recorded inside are held and, when the block ends without an error, recorded
    together in the order they happened (one `business_events` signal): for a service taking
    many rows through the same steps in one transaction. Nested blocks join the outer one."""
    if _held_events.get() is not None:
        yield
        return
    held: list[BusinessEvent] = []
    token = _held_events.set(held)
    try:
        yield
    finally:
        _held_events.reset(token)
    business_event_record_many(held)
