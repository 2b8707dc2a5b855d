"""Onboarding leaves a trail: a participant added (with its sub-limit, a credit term) and a
trade link made each write their business event, hence their ledger leaf, in the transaction
that made them. Concurrent identical additions make one participant and answer one 201, the
others 400, never a 500; concurrent identical links make one link, recorded once."""

import json
import threading
from decimal import Decimal

import pytest
from django.db import connection

from financing.models import ProgramParticipant
from financing.services.programs import participant_add
from ledger.models import LedgerEntry
from scf_platform.models import OrganizationKind
from scf_platform.tenancy import Scope, scope_activated
from suppliers.models import TradeLink
from suppliers.services import trade_link_create
from tests.conftest import ActingClient
from tests.factories import OrganizationFactory
from tests.financing.factories import make_chain

CALLERS = 6


def platform():
    return scope_activated(Scope.platform())


def entries(kind: str) -> list[dict]:
    """The leaves of `kind`, oldest first, as what they say (with the row's subject)."""
    return [
        {**json.loads(bytes(entry.leaf)), "row_subject": entry.subject}
        for entry in LedgerEntry.objects.filter(kind=kind).order_by("index")
    ]


def about(kind: str, key: str, value: int) -> list[dict]:
    return [leaf for leaf in entries(kind) if leaf["payload"][key] == value]


@pytest.mark.django_db
def test_adding_a_participant_records_it_and_its_sub_limit_in_the_ledger():
    chain = make_chain()
    newcomer = OrganizationFactory(kind=OrganizationKind.ENTERPRISE, name="Newcomer")
    before = len(entries("participant.added"))
    participant = participant_add(
        program=chain.program,
        core_enterprise=chain.core,
        actor=chain.core_maker,
        organization=newcomer,
        role="supplier",
        limit=Decimal("250000.00"),
    )
    added = entries("participant.added")
    assert len(added) == before + 1
    entry = added[-1]
    assert entry["subject"] == entry["row_subject"] == f"program:{chain.program.pk}"
    assert entry["payload"] == {
        "program": chain.program.pk,
        "participant": participant.pk,
        "organization": newcomer.pk,
        "role": "supplier",
        "limit": "250000.00",
        "trade_link": TradeLink.objects.get(core_enterprise=chain.core, counterparty=newcomer).pk,
    }
    assert entry["parties"] == sorted([chain.bank.pk, chain.core.pk, newcomer.pk])
    # The trade link it made has its own leaf.
    assert len(about("trade_link.created", "counterparty", newcomer.pk)) == 1


@pytest.mark.django_db
def test_a_trade_link_is_recorded_once_however_often_it_is_made():
    chain = make_chain()
    other = OrganizationFactory(kind=OrganizationKind.ENTERPRISE, name="Distributor")
    before = len(entries("trade_link.created"))
    first = trade_link_create(
        core_enterprise=chain.core, counterparty=other, role="distributor", actor=chain.core_maker
    )
    again = trade_link_create(
        core_enterprise=chain.core, counterparty=other, role="distributor", actor=chain.core_maker
    )
    assert first.pk == again.pk
    made = entries("trade_link.created")
    assert len(made) == before + 1
    assert made[-1]["subject"] == f"trade_link:{first.pk}"
    assert made[-1]["payload"] == {
        "trade_link": first.pk,
        "core_enterprise": chain.core.pk,
        "counterparty": other.pk,
        "role": "distributor",
    }


@pytest.mark.django_db
def test_a_refused_participant_writes_nothing():
    chain = make_chain()
    before = LedgerEntry.objects.count(), ProgramParticipant.objects.count()
    with pytest.raises(Exception, match="Already a participant"):
        participant_add(
            program=chain.program,
            core_enterprise=chain.core,
            actor=chain.core_maker,
            organization=chain.supplier,
            role="supplier",
        )
    assert (LedgerEntry.objects.count(), ProgramParticipant.objects.count()) == before


def all_at_once(send) -> list:
    """`send()` in CALLERS threads (a database connection each) released together."""
    barrier = threading.Barrier(CALLERS)
    responses: list = [None] * CALLERS

    def run(index: int) -> None:
        try:
            connection.ensure_connection()
            barrier.wait(timeout=60)
            responses[index] = send()
        except Exception as error:  # a 500 raises out of the test client
            responses[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(CALLERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a caller never finished"
    return responses


@pytest.mark.django_db(transaction=True)
def test_concurrent_identical_participant_additions_answer_one_201_and_the_rest_400():
    with platform():
        chain = make_chain()
        newcomer = OrganizationFactory(kind=OrganizationKind.ENTERPRISE, name="Racer")
    path = f"/api/v1/programs/{chain.program.pk}/participants/"
    body = {"organization": newcomer.pk, "role": "supplier", "limit": "1000.00"}

    def send():
        return ActingClient(chain.core_maker, chain.core).post(path, body, format="json")

    responses = all_at_once(send)
    errors = [r for r in responses if isinstance(r, Exception)]
    assert not errors, errors[:2]
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [400] * (CALLERS - 1), [r.content[:200] for r in responses]
    assert all("organization" in r.json() for r in responses if r.status_code == 400), [
        r.json() for r in responses
    ]
    with platform():
        assert ProgramParticipant.objects.filter(organization=newcomer).count() == 1
        assert len(about("participant.added", "organization", newcomer.pk)) == 1
        assert len(about("trade_link.created", "counterparty", newcomer.pk)) == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_identical_trade_links_make_one_link_recorded_once():
    with platform():
        chain = make_chain()
        newcomer = OrganizationFactory(kind=OrganizationKind.ENTERPRISE, name="Linked")

    def send():
        return ActingClient(chain.core_maker, chain.core).post(
            "/api/v1/trade-links/",
            {"organization": newcomer.pk, "role": "supplier"},
            format="json",
        )

    responses = all_at_once(send)
    errors = [r for r in responses if isinstance(r, Exception)]
    assert not errors, errors[:2]
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    with platform():
        assert TradeLink.objects.filter(counterparty=newcomer).count() == 1
        assert len(about("trade_link.created", "counterparty", newcomer.pk)) == 1
