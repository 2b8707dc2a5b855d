"""Business events held in a block are sent together, in order, once, and only on success."""

import pytest

from scf_platform.business_events import (
    BusinessEvent,
    business_event,
    business_event_record,
    business_events,
    business_events_held,
)

# The ledger listens too: its appends need the database.
pytestmark = pytest.mark.django_db


@pytest.fixture
def sent():
    received: list[tuple[str, list]] = []

    def one(sender, *, kind, subject, parties, payload, **kwargs):
        received.append(("one", [BusinessEvent(kind, subject, parties, payload)]))

    def many(sender, *, events, **kwargs):
        received.append(("many", list(events)))

    business_event.connect(one, dispatch_uid="test-one")
    business_events.connect(many, dispatch_uid="test-many")
    yield received
    business_event.disconnect(dispatch_uid="test-one")
    business_events.disconnect(dispatch_uid="test-many")


def record(n: int) -> None:
    business_event_record(kind="k", subject=f"s:{n}", parties=[], payload={"n": n})


def test_held_events_are_sent_together_in_order_when_the_block_ends(sent):
    with business_events_held():
        record(1)
        with business_events_held():  # a nested block joins the outer one
            record(2)
        record(3)
        assert sent == []
    assert [(how, [e.subject for e in events]) for how, events in sent] == [
        ("many", ["s:1", "s:2", "s:3"])
    ]


def test_an_error_in_the_block_sends_nothing(sent):
    with pytest.raises(ValueError), business_events_held():
        record(1)
        raise ValueError
    record(2)
    assert [(how, [e.subject for e in events]) for how, events in sent] == [("one", ["s:2"])]
