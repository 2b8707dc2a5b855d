"""The narrow interface through which suppliers and financing tell the rest of the platform
(the ledger) what happened. Sent inside the transaction that made it happen."""

from django.dispatch import Signal

# Sent with: kind (str, e.g. "invoice.confirmed"), subject (str, e.g. "invoice:42"),
# parties (list of organization ids that may read it), payload (JSON-safe dict: no floats).
business_event = Signal()


def business_event_record(*, kind: str, subject: str, parties: list[int], payload: dict) -> None:
    business_event.send(
        sender=None, kind=kind, subject=subject, parties=sorted(set(parties)), payload=payload
    )


# Sent first thing in a transaction that will record business events. The ledger takes its one
# lock here, before the service locks any row, so that every business transaction takes its
# locks in the same order (ledger, then rows) and two of them can never deadlock.
business_transaction = Signal()


def business_transaction_begin() -> None:
    business_transaction.send(sender=None)
