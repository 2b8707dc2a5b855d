"""The core enterprise portal: payables to confirm or dispute, its suppliers and onboarding,
network financing (the maturity schedule) and recording a repayment."""

from decimal import Decimal

import pytest

from financing.models import FinancingRequest, ProgramParticipant, RequestStatus
from financing.services import money
from scf_platform.models import OrganizationKind, Role
from suppliers.models import InvoiceStatus
from tests.factories import OrganizationFactory, member
from tests.financing.factories import today
from tests.portal.conftest import client_for, disbursed, h1, text

pytestmark = pytest.mark.django_db


def test_the_core_enterprise_sees_its_portal_and_panel(chain):
    chain.invoice("700.00", confirm=False)
    response = client_for(chain.core_checker).get("/portal/")
    assert h1(response) == "Core enterprise portal"
    page = text(response)
    assert "Payables to confirm 1 700.00 CNY" in page


def test_the_payables_queue_lists_uploaded_invoices_by_due_date(chain):
    late = chain.invoice("300.00", days=90, number="Q-LATE", confirm=False)
    soon = chain.invoice("200.00", days=20, number="Q-SOON", confirm=False)
    chain.invoice("100.00", number="Q-DONE")  # confirmed already: not in the queue
    page = client_for(chain.core_checker).get("/portal/payables/").content.decode()
    assert "Q-DONE" not in page
    assert page.index("Q-SOON") < page.index("Q-LATE")
    assert f'name="invoice" value="{soon.pk}"' in page and f'value="{late.pk}"' in page
    all_page = text(client_for(chain.core_checker).get("/portal/payables/", {"status": ""}))
    assert "Q-DONE" in all_page


def test_confirming_one_payable_asks_in_the_singular(chain):
    invoice = chain.invoice("300.00", number="C-ONE", confirm=False)
    client = client_for(chain.core_checker)
    response = client.get("/portal/payables/confirm/", {"invoice": invoice.pk})
    assert h1(response) == "Confirm 1 payable?"
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/portal/"})
    response = client.get("/portal/payables/confirm/", {"invoice": invoice.pk})
    assert h1(response) == "确权 1 笔应付账款？"


def test_confirming_many_at_once_asks_first(chain):
    a = chain.invoice("300.00", number="C-A", confirm=False)
    b = chain.invoice("200.00", number="C-B", confirm=False)
    c = chain.invoice("100.00", number="C-C", confirm=False)
    client = client_for(chain.core_checker)
    response = client.get("/portal/payables/confirm/", {"invoice": [a.pk, b.pk]})
    assert h1(response) == "Confirm 2 payables?"
    assert "500.00 CNY" in text(response)
    a.refresh_from_db()
    assert a.status == InvoiceStatus.UPLOADED
    response = client.post(
        "/portal/payables/confirm/", {"invoice": [a.pk, b.pk], "confirmed": "1"}, follow=True
    )
    assert "Confirmed: C-A, C-B." in text(response)
    statuses = {i.number: i.status for i in (a, b, c) if not i.refresh_from_db()}
    assert statuses == {"C-A": "confirmed", "C-B": "confirmed", "C-C": "uploaded"}


def test_confirming_needs_a_choice_and_refuses_foreign_invoices(chain, other_chain):
    client = client_for(chain.core_checker)
    response = client.post("/portal/payables/confirm/", {"confirmed": "1"}, follow=True)
    assert "Choose at least one invoice" in text(response)
    foreign = other_chain.invoice("100.00", confirm=False)
    response = client.post("/portal/payables/confirm/", {"invoice": foreign.pk, "confirmed": "1"})
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == InvoiceStatus.UPLOADED


def test_an_already_confirmed_invoice_is_reported_not_confirmed_twice(chain):
    invoice = chain.invoice("100.00", number="TWICE")
    response = client_for(chain.core_checker).post(
        "/portal/payables/confirm/", {"invoice": invoice.pk, "confirmed": "1"}, follow=True
    )
    assert "TWICE: The invoice is Confirmed" in text(response)


def test_disputing_needs_a_reason_and_keeps_it(chain):
    invoice = chain.invoice("100.00", number="D-1", confirm=False)
    client = client_for(chain.core_checker)
    url = f"/portal/invoices/{invoice.pk}/dispute/"
    assert h1(client.get(url)) == "Dispute invoice D-1?"
    response = client.post(url, {"reason": ""})
    assert 'id="id_reason-error"' in response.content.decode()
    response = client.post(url, {"reason": "Goods arrived damaged"}, follow=True)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.DISPUTED
    assert invoice.dispute_reason == "Goods arrived damaged"
    assert "Invoice D-1 was disputed" in text(response)
    # The supplier sees why.
    page = text(client_for(chain.supplier_maker).get(f"/portal/invoices/{invoice.pk}/"))
    assert "Goods arrived damaged" in page and "Disputed" in page


def test_only_the_buyer_s_checkers_answer_invoices(chain):
    invoice = chain.invoice("100.00", confirm=False)
    for user in (member(chain.core, Role.VIEWER), chain.core_maker):
        client = client_for(user)
        assert client.get(f"/portal/invoices/{invoice.pk}/dispute/").status_code == 403
        assert (
            client.post(
                "/portal/payables/confirm/", {"invoice": invoice.pk, "confirmed": "1"}
            ).status_code
            == 403
        )
    # The seller sees the invoice but is not its buyer.
    client = client_for(chain.supplier_admin)
    assert client.get(f"/portal/invoices/{invoice.pk}/dispute/").status_code == 403
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.UPLOADED


def test_suppliers_list_and_onboarding_with_a_sub_limit(chain):
    newcomer = OrganizationFactory(kind=OrganizationKind.ENTERPRISE, name="Newcomer Castings")
    client = client_for(chain.core_maker)
    page = text(client.get("/portal/participants/"))
    assert chain.supplier.credit_code in page and "Newcomer" not in page
    form = {
        "program": chain.program.pk,
        "organization": newcomer.credit_code,
        "role": "supplier",
        "limit": "250000.00",
    }
    response = client.post("/portal/participants/new/", form)
    assert h1(response) == "Onboard Newcomer Castings?"
    assert not ProgramParticipant.objects.filter(organization=newcomer).exists()
    response = client.post("/portal/participants/new/", {**form, "confirmed": "1"}, follow=True)
    assert "Newcomer Castings was onboarded" in text(response)
    participant = ProgramParticipant.objects.get(organization=newcomer)
    assert participant.limit == Decimal("250000.00")
    page = text(client.get("/portal/participants/", {"query": "newcomer"}))
    assert "Newcomer Castings" in page and "250,000.00" in page
    assert chain.supplier.credit_code not in page


def test_onboarding_errors_are_shown_next_to_the_field(chain):
    client = client_for(chain.core_maker)
    response = client.post(
        "/portal/participants/new/",
        {"program": chain.program.pk, "organization": "91310000000000000X", "role": "supplier"},
    )
    body = response.content.decode()
    assert 'id="id_organization-error"' in body and 'value="91310000000000000X"' in body
    # Already a participant: the service's refusal, next to the field.
    response = client.post(
        "/portal/participants/new/",
        {
            "program": chain.program.pk,
            "organization": chain.supplier.credit_code,
            "role": "supplier",
            "confirmed": "1",
        },
    )
    assert "Already a participant of this program" in text(response)
    assert 'id="id_organization-error"' in response.content.decode()


def test_another_core_enterprise_s_program_cannot_be_chosen(chain, other_chain):
    newcomer = OrganizationFactory(kind=OrganizationKind.ENTERPRISE)
    response = client_for(chain.core_maker).post(
        "/portal/participants/new/",
        {
            "program": other_chain.program.pk,
            "organization": newcomer.credit_code,
            "role": "supplier",
            "confirmed": "1",
        },
    )
    assert 'id="id_program-error"' in response.content.decode()
    assert not ProgramParticipant.objects.filter(organization=newcomer).exists()


def test_network_financing_shows_what_is_owed_when(chain):
    first = disbursed(chain, "90000.00")
    page = text(client_for(chain.core_checker).get("/portal/network/"))
    assert f"#{first.pk}" in page
    assert "90,000.00 CNY" in page
    assert "Within 30 days" in page and "In 61 to 90 days" in page
    assert first.maturity_date.isoformat() not in page  # dates are shown localised
    assert "Record a repayment" in page


def test_recording_a_repayment_confirms_then_settles(chain):
    request = disbursed(chain, "90000.00")
    client = client_for(chain.core_maker)
    url = f"/portal/requests/{request.pk}/repay/"
    page = client.get(url).content.decode()
    assert 'value="90000.00"' in page  # the outstanding amount is proposed
    response = client.post(url, {"amount": "90000.00", "paid_on": today().isoformat()})
    assert "The request is settled and its invoices paid." in text(response)
    request.refresh_from_db()
    assert request.status == RequestStatus.DISBURSED
    response = client.post(
        url, {"amount": "90000.00", "paid_on": today().isoformat(), "confirmed": "1"}, follow=True
    )
    request.refresh_from_db()
    assert request.status == RequestStatus.SETTLED
    assert "A repayment of 90,000.00 CNY was recorded" in text(response)


def test_the_history_shows_what_a_part_repayment_left_outstanding_as_money(chain):
    request = disbursed(chain, "90000.00")
    money.financing_request_repay(
        request_id=request.pk,
        payer=chain.core,
        actor=chain.core_maker,
        amount=Decimal("1000.00"),
        paid_on=today(),
    )
    page = text(client_for(chain.supplier_maker).get(f"/portal/requests/{request.pk}/"))
    assert "Repayment recorded · 89,000.00 CNY outstanding" in page  # it said 89000.00


def test_a_repayment_above_what_is_owed_is_refused_next_to_the_amount(chain):
    request = disbursed(chain, "90000.00")
    response = client_for(chain.core_maker).post(
        f"/portal/requests/{request.pk}/repay/",
        {"amount": "95000.00", "paid_on": today().isoformat(), "confirmed": "1"},
    )
    body = response.content.decode()
    assert 'id="id_amount-error"' in body and "Only 90000.00 CNY is outstanding" in body
    assert 'value="95000.00"' in body
    request.refresh_from_db()
    assert request.status == RequestStatus.DISBURSED


def test_only_the_core_enterprise_repays_and_not_its_viewers(chain):
    request = disbursed(chain)
    data = {"amount": "1.00", "paid_on": today().isoformat(), "confirmed": "1"}
    viewer = client_for(member(chain.core, Role.VIEWER))
    assert viewer.post(f"/portal/requests/{request.pk}/repay/", data).status_code == 403
    # The applicant is an enterprise party to the request, but only the core enterprise repays.
    response = client_for(chain.supplier_admin).post(f"/portal/requests/{request.pk}/repay/", data)
    assert response.status_code == 403
    # A bank is no enterprise: the page is not found there.
    response = client_for(chain.bank_admin).post(f"/portal/requests/{request.pk}/repay/", data)
    assert response.status_code == 404
    request.refresh_from_db()
    assert request.repaid_amount == 0


def test_the_maturity_schedule_filters_by_status(chain):
    on_time = disbursed(chain, "90000.00")
    late = disbursed(chain, "9000.00")
    FinancingRequest.objects.filter(pk=late.pk).update(status=RequestStatus.OVERDUE)
    client = client_for(chain.core_checker)
    page = client.get("/portal/network/", {"status": "overdue"}).content.decode()
    assert f">#{late.pk}<" in page and f">#{on_time.pk}<" not in page
    page = client.get("/portal/network/").content.decode()
    assert f">#{late.pk}<" in page and f">#{on_time.pk}<" in page
