"""Every portal form that moves money or state carries a one-time key, minted when the entry form
is drawn and carried through the confirmation step: a resubmission (Back, reload, a double click)
answers the first outcome and writes nothing; the key with other input is refused."""

import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

from financing.models import (
    Approval,
    FinancingRequest,
    Program,
    ProgramParticipant,
    Repayment,
    RequestStatus,
)
from scf_platform.models import IdempotencyRecord, Membership, Organization, OrganizationKind, Role
from suppliers.models import Invoice, InvoiceEvent, InvoiceStatus
from tests.factories import OrganizationFactory, make_credit_code, member
from tests.financing.factories import today
from tests.portal.conftest import approved, client_for, disbursed, h1, submitted, text

pytestmark = pytest.mark.django_db
TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
ALREADY_SENT = "This form was already sent; nothing was done again."


def key_of(response) -> str:
    """The one-time key of the (first) form the page draws."""
    match = re.search(r'name="once" value="([^"]+)"', response.content.decode())
    assert match, "the page's form carries no one-time key"
    return match.group(1)


def sent_twice(client, url, data):
    """The confirmed form sent, then sent again (Back and confirm, a reload, a double click)."""
    first = client.post(url, data)
    again = client.post(url, data, follow=True)
    return first, again


# The money ---------------------------------------------------------------------------------------


def test_a_repayment_confirmed_twice_is_booked_once(chain):
    request = disbursed(chain, "90000.00")
    client = client_for(chain.core_maker)
    url = f"/portal/requests/{request.pk}/repay/"
    key = key_of(client.get(url))
    entry = {"amount": "10000.00", "paid_on": today().isoformat(), "once": key}
    # The confirmation step carries the key the entry form was drawn with.
    asked = client.post(url, entry)
    assert h1(asked).startswith("Record a repayment") and key_of(asked) == key
    first, again = sent_twice(client, url, {**entry, "confirmed": "1"})
    assert first.status_code == 302
    assert again.redirect_chain[0][0] == first["Location"]
    assert ALREADY_SENT in text(again)
    # Chromium's Back re-sends the entry form's POST: the first outcome again, not the question.
    back = client.post(url, entry)
    assert back.status_code == 302 and back["Location"] == first["Location"]
    assert Repayment.objects.filter(request=request).count() == 1
    request.refresh_from_db()
    assert request.principal_outstanding == Decimal("80000.00")


def test_the_key_with_another_amount_is_refused_and_nothing_is_booked(chain):
    request = disbursed(chain, "90000.00")
    client = client_for(chain.core_maker)
    url = f"/portal/requests/{request.pk}/repay/"
    key = key_of(client.get(url))
    data = {"amount": "10000.00", "paid_on": today().isoformat(), "once": key, "confirmed": "1"}
    assert client.post(url, data).status_code == 302
    response = client.post(url, {**data, "amount": "20000.00"})
    assert response.status_code == 409
    assert "already sent with other values" in text(response)
    assert Repayment.objects.filter(request=request).count() == 1


def test_a_form_drawn_again_with_its_errors_keeps_its_key_and_the_key_stays_free(chain):
    request = disbursed(chain, "90000.00")
    client = client_for(chain.core_maker)
    url = f"/portal/requests/{request.pk}/repay/"
    key = key_of(client.get(url))
    refused = client.post(
        url, {"amount": "95000.00", "paid_on": today().isoformat(), "once": key, "confirmed": "1"}
    )
    assert 'id="id_amount-error"' in refused.content.decode() and key_of(refused) == key
    assert not IdempotencyRecord.objects.exists()
    corrected = {"amount": "1000.00", "paid_on": today().isoformat(), "once": key}
    assert client.post(url, {**corrected, "confirmed": "1"}).status_code == 302
    assert Repayment.objects.filter(request=request).count() == 1


def test_keys_are_the_user_s_own(chain):
    """Another member of the organization sending the same key is not answered the first
    member's outcome: the key is scoped to the organization and the user."""
    request = disbursed(chain, "90000.00")
    url = f"/portal/requests/{request.pk}/repay/"
    key = key_of(client_for(chain.core_maker).get(url))
    data = {"amount": "1000.00", "paid_on": today().isoformat(), "once": key, "confirmed": "1"}
    client_for(chain.core_maker).post(url, data)
    client_for(chain.core_checker).post(url, data)
    assert Repayment.objects.filter(request=request).count() == 2


def test_a_disbursement_confirmed_twice_answers_the_first_outcome(chain):
    request = approved(chain)
    client = client_for(chain.bank_maker)
    url = f"/portal/requests/{request.pk}/disburse/"
    data = {"value_date": today().isoformat(), "once": key_of(client.get(url)), "confirmed": "1"}
    first, again = sent_twice(client, url, data)
    assert again.redirect_chain[0][0] == first["Location"]
    page = text(again)
    assert ALREADY_SENT in page and "Only an approved request can be disbursed" not in page
    request.refresh_from_db()
    assert request.status == RequestStatus.DISBURSED


# Decisions ---------------------------------------------------------------------------------------


def test_an_approval_sent_twice_is_recorded_once(chain):
    request = submitted(chain, [chain.invoice("900000.00")], "600000.00")  # two checkers
    client = client_for(chain.bank_checker)
    url = f"/portal/requests/{request.pk}/approve/"
    first, again = sent_twice(client, url, {"comment": "", "once": key_of(client.get(url))})
    assert again.redirect_chain[0][0] == first["Location"]
    assert ALREADY_SENT in text(again) and "another checker must approve it" not in text(again)
    assert Approval.objects.filter(request=request).count() == 1


def test_a_rejection_sent_twice_answers_the_first_outcome(chain):
    request = submitted(chain, [chain.invoice("100000.00")], "90000.00")
    client = client_for(chain.bank_checker)
    url = f"/portal/requests/{request.pk}/reject/"
    data = {"reason": "Concentration", "once": key_of(client.get(url))}
    first, again = sent_twice(client, url, data)
    assert again.redirect_chain[0][0] == first["Location"] and ALREADY_SENT in text(again)
    assert "Only a request in review" not in text(again)


def test_applying_twice_creates_one_request(chain):
    invoice = chain.invoice("100000.00")
    client = client_for(chain.supplier_maker)
    apply_page = client.get("/portal/apply/", {"program": chain.program.pk})
    params = {"program": chain.program.pk, "invoices": invoice.pk, "once": key_of(apply_page)}
    asked = client.get("/portal/apply/confirm/", params)
    assert key_of(asked) == params["once"]
    first, again = sent_twice(client, "/portal/apply/confirm/", {**params, "confirmed": "1"})
    assert again.redirect_chain[0][0] == first["Location"] and ALREADY_SENT in text(again)
    assert FinancingRequest.objects.count() == 1


def test_a_withdrawal_confirmed_twice_answers_the_first_outcome(chain):
    request = submitted(chain, [chain.invoice("100000.00")], "90000.00")
    client = client_for(chain.supplier_maker)
    url = f"/portal/requests/{request.pk}/withdraw/"
    data = {"once": key_of(client.get(url)), "confirmed": "1"}
    first, again = sent_twice(client, url, data)
    assert again.redirect_chain[0][0] == first["Location"] and ALREADY_SENT in text(again)
    assert "Only" not in text(again)


def test_a_draft_submitted_twice_answers_the_first_outcome(chain):
    from financing.services import drafting

    draft = drafting.financing_request_create(
        applicant=chain.supplier,
        actor=chain.supplier_maker,
        product="receivables",
        program=chain.program,
        requested_amount=Decimal("1000.00"),
        invoices=[chain.invoice("100000.00").pk],
    )
    client = client_for(chain.supplier_maker)
    url = f"/portal/requests/{draft.pk}/submit/"
    first, again = sent_twice(client, url, {"once": key_of(client.get(url)), "confirmed": "1"})
    assert again.redirect_chain[0][0] == first["Location"] and ALREADY_SENT in text(again)
    assert "Only a draft can be submitted" not in text(again)


# Invoices ----------------------------------------------------------------------------------------


def test_an_invoice_added_twice_is_added_once(chain):
    client = client_for(chain.supplier_maker)
    data = {
        "number": "TWICE-1",
        "buyer": chain.core.pk,
        "issue_date": today().isoformat(),
        "due_date": (today() + timedelta(days=30)).isoformat(),
        "currency": "CNY",
        "amount": "500.00",
        "once": key_of(client.get("/portal/invoices/new/")),
        "confirmed": "1",
    }
    first, again = sent_twice(client, "/portal/invoices/new/", data)
    assert again.redirect_chain[0][0] == first["Location"] and ALREADY_SENT in text(again)
    assert "You already uploaded" not in text(again)
    assert Invoice.objects.filter(number="TWICE-1").count() == 1


def test_payables_confirmed_twice_answer_the_first_outcome(chain):
    a = chain.invoice("300.00", number="TW-A", confirm=False)
    b = chain.invoice("200.00", number="TW-B", confirm=False)
    client = client_for(chain.core_checker)
    listed = client.get("/portal/payables/")
    asked = client.get(
        "/portal/payables/confirm/", {"invoice": [a.pk, b.pk], "once": key_of(listed)}
    )
    data = {"invoice": [a.pk, b.pk], "once": key_of(asked), "confirmed": "1"}
    assert data["once"] == key_of(listed)
    first, again = sent_twice(client, "/portal/payables/confirm/", data)
    assert again.redirect_chain[0][0] == first["Location"] and ALREADY_SENT in text(again)
    assert "only an uploaded invoice can be" not in text(again)
    assert InvoiceEvent.objects.filter(invoice__in=[a, b], to_status="confirmed").count() == 2


def test_a_dispute_sent_twice_answers_the_first_outcome(chain):
    invoice = chain.invoice("300.00", confirm=False)
    client = client_for(chain.core_checker)
    url = f"/portal/invoices/{invoice.pk}/dispute/"
    first, again = sent_twice(client, url, {"reason": "Damaged", "once": key_of(client.get(url))})
    assert again.redirect_chain[0][0] == first["Location"] and ALREADY_SENT in text(again)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.DISPUTED
    assert InvoiceEvent.objects.filter(invoice=invoice, to_status="disputed").count() == 1


def test_an_upload_sent_again_imports_nothing_and_shows_the_same_report(chain):
    due = (today() + timedelta(days=40)).isoformat()
    csv = (
        "number,buyer_credit_code,issue_date,due_date,currency,amount\n"
        f"UP-1,{chain.core.credit_code},{today().isoformat()},{due},CNY,1000.00\n"
        f"UP-2,{chain.core.credit_code},{today().isoformat()},{due},CNY,-5\n"
    ).encode()
    client = client_for(chain.supplier_maker)
    key = key_of(client.get("/portal/invoices/upload/"))

    def upload():
        return {"file": SimpleUploadedFile("up.csv", csv), "genuine": "on", "once": key}

    first = client.post("/portal/invoices/upload/", upload())
    assert first.status_code == 302
    report = text(client.get(first["Location"]))
    assert "1 invoice landed." in report and "1 row was rejected." in report
    # The reload of the report page draws the same report; the file re-sent imports nothing.
    assert "1 invoice landed." in text(client.get(first["Location"]))
    again = client.post("/portal/invoices/upload/", upload(), follow=True)
    assert again.redirect_chain[0][0] == first["Location"]
    page = text(again)
    assert ALREADY_SENT in page and "1 invoice landed." in page
    assert Invoice.objects.filter(number="UP-1").count() == 1
    assert InvoiceEvent.objects.filter(invoice__number="UP-1").count() == 1


def test_another_user_s_upload_report_is_not_found(chain):
    csv = (
        "number,buyer_credit_code,issue_date,due_date,currency,amount\n"
        f"UP-9,{chain.core.credit_code},{today().isoformat()},{today().isoformat()},CNY,10.00\n"
    ).encode()
    client = client_for(chain.supplier_maker)
    first = client.post(
        "/portal/invoices/upload/",
        {"file": SimpleUploadedFile("up.csv", csv), "genuine": "on", "once": "k" * 32},
    )
    assert client_for(chain.supplier_admin).get(first["Location"]).status_code == 404


# Programs, participants, members, organizations --------------------------------------------------


def test_a_program_created_twice_is_created_once(chain):
    client = client_for(chain.bank_checker)
    data = {
        "name": "Twice Line",
        "core_enterprise": chain.core.credit_code,
        "currency": "CNY",
        "credit_limit": "5000000.00",
        "advance_rate": "0.85",
        "annual_rate": "0.04",
        "day_count": "ACT/365",
        "max_tenor_days": "120",
        "dual_approval_threshold": "300000.00",
        "products": ["receivables"],
        "sla_hours": "12",
        "once": key_of(client.get("/portal/programs/new/")),
        "confirmed": "1",
    }
    first, again = sent_twice(client, "/portal/programs/new/", data)
    assert again.redirect_chain[0][0] == first["Location"] and ALREADY_SENT in text(again)
    assert Program.objects.filter(name="Twice Line").count() == 1


def test_a_participant_onboarded_twice_is_onboarded_once(chain):
    newcomer = OrganizationFactory(kind=OrganizationKind.ENTERPRISE, name="Twice Castings")
    client = client_for(chain.core_maker)
    data = {
        "program": chain.program.pk,
        "organization": newcomer.credit_code,
        "role": "supplier",
        "limit": "",
        "once": key_of(client.get("/portal/participants/new/")),
        "confirmed": "1",
    }
    first, again = sent_twice(client, "/portal/participants/new/", data)
    assert again.redirect_chain[0][0] == first["Location"] and ALREADY_SENT in text(again)
    assert "Already a participant" not in text(again)
    assert ProgramParticipant.objects.filter(organization=newcomer).count() == 1


def test_a_member_added_twice_is_added_once():
    organization = OrganizationFactory()
    client = client_for(member(organization, Role.ADMIN))
    data = {
        "username": "twice",
        "email": "twice@example.com",
        "password": "Xy7!long-pass",
        "role": "maker",
        "once": key_of(client.get("/portal/members/")),
    }
    first, again = sent_twice(client, "/portal/members/", data)
    assert again.redirect_chain[0][0] == first["Location"] and ALREADY_SENT in text(again)
    assert "already exists" not in text(again)
    assert get_user_model().objects.filter(username="twice").count() == 1
    assert Membership.objects.filter(organization=organization).count() == 2


def test_an_organization_onboarded_twice_is_onboarded_once():
    operator = client_for(member(OrganizationFactory(kind=OrganizationKind.OPERATOR), Role.ADMIN))
    code = make_credit_code()
    data = {
        "name": "Twice Bank",
        "kind": "bank",
        "credit_code": code,
        "language": "en",
        "once": key_of(operator.get("/portal/organizations/")),
    }
    first, again = sent_twice(operator, "/portal/organizations/", data)
    assert again.redirect_chain[0][0] == first["Location"] and ALREADY_SENT in text(again)
    assert "already exists" not in text(again)
    assert Organization.objects.filter(credit_code=code).count() == 1


def test_a_malformed_key_is_refused():
    organization = OrganizationFactory()
    client = client_for(member(organization, Role.ADMIN))
    response = client.post(
        "/portal/members/",
        {"username": "x", "email": "x@example.com", "password": "Xy7!long-pass", "role": "maker"}
        | {"once": "<script>"},
    )
    assert response.status_code == 400
    assert not get_user_model().objects.filter(username="x").exists()


def test_every_form_that_posts_in_the_portal_carries_a_key():
    """The forms of the shell (sign-in, switching organization or language, signing out,
    marking notifications read) change no business state; every other POST form does."""
    shell = {"base.html", "registration/login.html", "portal/choose.html"}
    shell |= {"portal/notifications.html", "portal/confirm.html"}
    missing = []
    for path in TEMPLATES.rglob("*.html"):
        name = path.relative_to(TEMPLATES).as_posix()
        body = path.read_text()
        if 'method="post"' in body and name not in shell and "{% once_field %}" not in body:
            missing.append(name)
    assert missing == []
