"""The bank's arm of the invoice policy, in the database alone (no `.visible_to()`): a bank sees
exactly the invoices held as collateral in its own requests, and reads and writes nothing else."""

import pytest
from django.db import connection

from financing.products.receivables.models import ReceivableHold
from scf_platform.tenancy import Scope, scope_activated
from suppliers.models import Invoice
from tests.financing.factories import make_chain, submit_request

pytestmark = pytest.mark.django_db


def invoice_ids() -> set[int]:
    return set(Invoice.objects.values_list("pk", flat=True))


def test_a_bank_sees_only_the_invoices_its_requests_hold():
    chain, other = make_chain(), make_chain(prefix="Other ")
    held, free = chain.invoice(), chain.invoice()
    held_elsewhere = other.invoice()
    submit_request(chain, [held], "1000.00")
    submit_request(other, [held_elsewhere], "1000.00")
    assert ReceivableHold.objects.filter(invoice=held, bank=chain.bank).exists()

    with scope_activated(Scope(organization_id=chain.bank.pk)):
        assert invoice_ids() == {held.pk}
        # Only a row it sees can a bank write to.
        assert Invoice.objects.filter(pk=free.pk).update(dispute_reason="x") == 0
    with scope_activated(Scope(organization_id=other.bank.pk)):
        assert invoice_ids() == {held_elsewhere.pk}
    # The parties see their invoices as before; the bank's arm adds nothing for them.
    with scope_activated(Scope(organization_id=chain.supplier.pk)):
        assert invoice_ids() == {held.pk, free.pk}
    with scope_activated(Scope(organization_id=chain.core.pk)):
        assert invoice_ids() == {held.pk, free.pk}


def test_a_temporary_table_cannot_stand_in_for_the_holds():
    """The policy's function names the holds table by schema and searches pg_temp last: a
    session's own `receivables_receivablehold` (the application role may create temporary tables)
    widens nothing."""
    chain, other = make_chain(), make_chain(prefix="Other ")
    not_held = other.invoice()
    with scope_activated(Scope(organization_id=chain.bank.pk)):
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMPORARY TABLE receivables_receivablehold"
                " (invoice_id bigint, bank_id bigint) ON COMMIT DROP"
            )
            cursor.execute(
                "INSERT INTO receivables_receivablehold VALUES (%s, %s)",
                [not_held.pk, chain.bank.pk],
            )
        assert invoice_ids() == set()
