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
