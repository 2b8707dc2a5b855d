"""The statuses a room above asks for (financed, paid): each with its event and ledger leaf,
all of the invoices or none."""

import pytest

from ledger.models import LedgerEntry
from scf_platform.errors import IllegalTransition
from suppliers.models import InvoiceEvent, InvoiceStatus
from suppliers.services import invoices_mark_financed, invoices_mark_paid
from tests.financing.factories import make_chain

pytestmark = pytest.mark.django_db


def test_financed_then_paid_each_with_its_event_and_leaf():
    chain = make_chain()
    invoice = chain.invoice()
    invoices_mark_financed(
        invoice_ids=[invoice.pk], actor=None, actor_organization=chain.bank, reference="request:7"
    )
    invoices_mark_paid(
        invoice_ids=[invoice.pk], actor=None, actor_organization=chain.core, reference="request:7"
    )
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert list(
        InvoiceEvent.objects.filter(invoice=invoice).values_list("from_status", "to_status")
    ) == [
        ("", "uploaded"),
        ("uploaded", "confirmed"),
        ("confirmed", "financed"),
        ("financed", "paid"),
    ]
    leaves = LedgerEntry.objects.filter(subject=f"invoice:{invoice.pk}").order_by("index")
    assert [leaf.kind for leaf in leaves][-2:] == ["invoice.financed", "invoice.paid"]


def test_an_invoice_not_confirmed_stops_all_of_them():
    chain = make_chain()
    confirmed = chain.invoice()
    uploaded = chain.invoice(confirm=False)
    with pytest.raises(IllegalTransition):
        invoices_mark_financed(
            invoice_ids=[confirmed.pk, uploaded.pk],
            actor=None,
            actor_organization=chain.bank,
            reference="request:7",
        )
    confirmed.refresh_from_db()
    assert confirmed.status == InvoiceStatus.CONFIRMED
    assert not InvoiceEvent.objects.filter(to_status=InvoiceStatus.FINANCED).exists()
    assert not LedgerEntry.objects.filter(kind="invoice.financed").exists()
