"""The narrow interface through which suppliers and financing tell the rest of the platform
(the ledger) what happened. Sent inside the transaction that made it happen."""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

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


# Sent first thing in a transaction that will record business events. The ledger takes its one
# lock here, before the service locks any row, so that every business transaction takes its
# locks in the same order (ledger, then rows) and two of them can never deadlock.
business_transaction = Signal()


def business_transaction_begin() -> None:
    business_transaction.send(sender=None)


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
