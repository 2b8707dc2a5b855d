"""Many events appended at once (a bulk upload): each gets the leaf ledger_append would give it,
one after the other, and the ledger verifies; a tampered leaf of a bulk append is still caught."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from ledger import services
from ledger.merkle import canonical_bytes, root_from_leaves
from ledger.models import LedgerEntry, LedgerEntryParty, LedgerNode
from ledger.selectors import ledger_size, root_at
from ledger.services import ledger_append_many, ledger_checkpoint_sign
from ledger.verification import ledger_verify
from scf_platform.business_events import BusinessEvent, business_event_record_many
from scf_platform.tenancy import Scope, scope_activated
from suppliers.imports import invoices_import
from tests.factories import OrganizationFactory
from tests.financing.factories import make_chain, today
from tests.ledger.conftest import append_events


def bulk_events(count: int, parties: list[int]) -> list[BusinessEvent]:
    return [
        BusinessEvent(
            kind="test.bulk",
            subject=f"bulk:{n}",
            parties=parties,
            payload={"n": n, "amount": f"{n * 1000}.00", "note": "货物已入库"},
        )
        for n in range(count)
    ]


def leaves() -> list[dict]:
    return [json.loads(bytes(leaf)) for leaf in LedgerEntry.objects.values_list("leaf", flat=True)]


@pytest.mark.django_db
def test_many_events_get_the_leaves_one_append_each_would_give_them(monkeypatch):
    a, b = OrganizationFactory(), OrganizationFactory()
    append_events(3, [a.pk, b.pk])
    # Batches of 4: the ten events span three statements.
    monkeypatch.setattr(services, "APPEND_MANY_BATCH", 4)
    appended = ledger_append_many(bulk_events(10, [b.pk, a.pk, b.pk]))
    append_events(2, [a.pk], kind="test.after")

    assert appended == range(3, 13)
    entries = list(LedgerEntry.objects.order_by("index"))
    assert [entry.index for entry in entries] == list(range(15))
    single, *bulk = leaves()[2:13]
    for n, leaf in enumerate(bulk):
        entry = entries[3 + n]
        assert leaf.keys() == single.keys()
        assert (leaf["index"], leaf["kind"], leaf["subject"], leaf["parties"]) == (
            3 + n,
            "test.bulk",
            f"bulk:{n}",
            sorted([a.pk, b.pk]),
        )
        assert leaf["payload"] == {"n": n, "amount": f"{n * 1000}.00", "note": "货物已入库"}
        assert canonical_bytes(leaf) == bytes(entry.leaf)
        assert (entry.kind, entry.subject) == ("test.bulk", f"bulk:{n}")
    assert len({leaf["nonce"] for leaf in bulk}) == 10
    parties = LedgerEntryParty.objects.filter(entry__index__range=(3, 12))
    assert parties.count() == 20
    # The tree over all fifteen leaves, and the node cache every proof is read from.
    n = len(entries)
    assert root_at(n) == root_from_leaves([bytes(entry.leaf_hash) for entry in entries])
    assert LedgerNode.objects.count() == 2 * n - bin(n).count("1")
    ledger_checkpoint_sign()
    report = ledger_verify()
    assert report.ok, report.problems()


@pytest.mark.django_db
def test_business_events_recorded_together_reach_the_ledger_in_order():
    a, b = OrganizationFactory(), OrganizationFactory()
    business_event_record_many(bulk_events(5, [a.pk, b.pk]))
    business_event_record_many([])
    assert ledger_size() == 5
    assert [leaf["subject"] for leaf in leaves()] == [f"bulk:{n}" for n in range(5)]


def verify_command() -> tuple[bool, str]:
    out = StringIO()
    try:
        call_command("ledger_verify", stdout=out)
    except CommandError as error:
        return False, out.getvalue() + str(error)
    return True, out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_a_bulk_upload_verifies_and_a_changed_leaf_of_it_is_caught(owner):
    with scope_activated(Scope.platform()):
        chain = make_chain()
        ledger_checkpoint_sign()
    issued, due = today(), today() + timedelta(days=30)
    rows = [f"B-{n},{chain.core.credit_code},{issued},{due},CNY,{n + 1}.50" for n in range(40)]
    content = "\n".join(["number,buyer_credit_code,issue_date,due_date,currency,amount", *rows])
    with scope_activated(Scope(organization_id=chain.supplier.pk, user_id=chain.supplier_maker.pk)):
        report = invoices_import(
            seller=chain.supplier,
            actor=chain.supplier_maker,
            filename="b.csv",
            content=content.encode(),
        )
    assert report.created == 40
    with scope_activated(Scope.platform()):
        ledger_checkpoint_sign()
        index = LedgerEntry.objects.get(subject=f"invoice:{report.invoice_ids[7]}").index
    passed, output = verify_command()
    assert passed, output

    [(leaf,)] = owner.execute("SELECT leaf FROM ledger_ledgerentry WHERE index = %s", [index])
    forged = bytes(leaf).replace(b'"amount":"8.50"', b'"amount":"800.50"')
    assert forged != bytes(leaf)
    with owner.triggers_disabled():
        owner.execute("UPDATE ledger_ledgerentry SET leaf = %s WHERE index = %s", [forged, index])
    passed, output = verify_command()
    assert not passed
    assert f"problem: index {index}: changed" in output
