"""The ledger listens to business events: each becomes a leaf, in the event's transaction."""

from ledger.services import ledger_append, ledger_append_many, ledger_lock


def business_event_append(sender, *, kind, subject, parties, payload, **kwargs) -> None:
    ledger_append(kind=kind, subject=subject, parties=parties, payload=payload)


def business_events_append(sender, *, events, **kwargs) -> None:
    ledger_append_many(events)


def business_transaction_lock(sender, **kwargs) -> None:
    ledger_lock()
