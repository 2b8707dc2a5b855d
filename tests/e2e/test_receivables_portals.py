"""The receivables portals in a real browser: three organizations in separate browser contexts
take a large request from a CSV upload to settlement (screening by a real Celery worker, four
eyes at the bank); outsiders get the not-found page; the language switch; form errors keep the
input; the pages fit a phone. Screenshots of each main page land in tests/e2e/artifacts/."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from financing.models import FinancingRequest, RequestStatus
from scf_platform.tenancy import Scope, scope_activated
from suppliers.models import Invoice, InvoiceStatus
from tests.e2e.conftest import wait_until
from tests.financing.factories import make_chain

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def committed_chain(prefix=""):
    """A bank, a core enterprise and a supplier in one program, committed for the server."""
    with scope_activated(Scope.platform()):
        chain = make_chain(threshold="500000.00", prefix=prefix)
        for organization, name in (
            (chain.bank, "Jiangnan Commercial Bank"),
            (chain.core, "Hengda Machinery Group"),
            (chain.supplier, "Ningbo Precision Castings"),
        ):
            organization.name = f"{prefix}{name}"
            organization.save()
        chain.program.name = f"{prefix}Hengda Supplier Finance 2026"
        chain.program.save()
    return chain


def csv_of(chain) -> bytes:
    today = timezone.localdate()
    issued = (today - timedelta(days=5)).isoformat()
    code = chain.core.credit_code
    return (
        "number,buyer_credit_code,issue_date,due_date,currency,amount\n"
        f"E2E-BIG,{code},{issued},{(today + timedelta(days=90)).isoformat()},CNY,1000000.00\n"
        f"E2E-SMALL,{code},{issued},{(today + timedelta(days=60)).isoformat()},CNY,50000.00\n"
        f"E2E-BAD,{code},{issued},not-a-date,CNY,10.00\n"
    ).encode()


def messages_of(someone):
    return someone.page.locator("ul.messages")


def status_of(someone):
    return someone.page.locator(".page-head .status").first


def test_the_whole_receivables_flow_across_three_organizations(person, celery_worker_process):
    chain = committed_chain()
    supplier = person(chain.supplier_maker)
    core = person(chain.core_checker)

    # The supplier uploads a CSV: two rows land, the bad one is reported with its reason.
    supplier.go("/portal/invoices/upload/")
    supplier.page.set_input_files(
        "#id_file", files=[{"name": "march.csv", "mimeType": "text/csv", "buffer": csv_of(chain)}]
    )
    supplier.page.get_by_label("I confirm that these invoices are genuine").check()
    supplier.page.get_by_role("button", name="Upload", exact=True).click()
    report = supplier.page.locator("main")
    expect(report).to_contain_text("2 invoices landed.")
    expect(report).to_contain_text("1 row was rejected.")
    expect(supplier.page.locator("tr.bad-row")).to_contain_text("due_date")
    supplier.shot("01-supplier-upload-report")

    # The core enterprise confirms both payables at once, after a confirmation step.
    core.go("/portal/payables/")
    core.shot("02-core-payables-queue")
    core.page.get_by_label("Select invoice E2E-BIG").check()
    core.page.get_by_label("Select invoice E2E-SMALL").check()
    core.page.get_by_role("button", name="Confirm selected").click()
    expect(core.page.locator("h1")).to_have_text("Confirm 2 payables?")
    core.shot("03-core-confirm-step")
    core.page.get_by_role("button", name="Confirm payables").click()
    expect(messages_of(core)).to_contain_text("E2E-BIG")
    expect(messages_of(core)).to_contain_text("E2E-SMALL")

    # The supplier applies: the quote follows the choice without a reload, then submits.
    supplier.go("/portal/apply/")
    net = supplier.page.locator("[data-quote=net_proceeds]")
    expect(net).to_have_text("—")
    supplier.page.get_by_label("E2E-BIG", exact=True).check()
    # 90% of 1,000,000 = 900,000; 900,000 x 4.35% x 90 / 360 = 9,787.50.
    expect(net).to_have_text("890,212.50 CNY")
    expect(supplier.page.locator("[data-quote=days]")).to_have_text("90")
    assert "recalculate" not in supplier.page.url
    supplier.page.get_by_label("Requested amount").fill("950000")
    expect(supplier.page.locator("#quote-note")).to_contain_text("at most 900,000.00 CNY")
    supplier.page.get_by_label("Requested amount").fill("")
    expect(supplier.page.locator("#quote-note")).to_be_hidden()
    supplier.shot("04-supplier-apply-live-quote")
    supplier.page.get_by_role("button", name="Review and submit").click()
    expect(supplier.page.locator("h1")).to_have_text("Submit this financing request?")
    supplier.shot("05-supplier-submit-step")
    supplier.page.get_by_role("button", name="Submit request").click()
    supplier.page.wait_for_url(re.compile(r"/portal/requests/\d+/$"))
    request_id = int(re.search(r"/requests/(\d+)/", supplier.page.url).group(1))
    expect(messages_of(supplier)).to_contain_text("it is being screened")

    # Screening runs in the real worker; the request reaches the bank's queue.
    def screened():
        supplier.page.reload()
        return status_of(supplier).inner_text().strip() == "In review"

    assert wait_until(screened, timeout=45), supplier.page.inner_text("main")
    expect(supplier.page.locator("ul.checks")).to_contain_text("Passed")
    expect(supplier.page.locator("ul.checks li.fail")).to_have_count(0)
    supplier.shot("06-supplier-request-in-review")

    # Two different bank checkers approve (900,000 is above the 500,000 threshold).
    first = person(chain.bank_checker)
    first.go("/portal/queue/")
    expect(first.page.locator("main")).to_contain_text(f"#{request_id}")
    first.shot("07-bank-approval-queue")
    first.page.get_by_role("link", name=f"#{request_id}").click()
    expect(first.page.locator("#four-eyes")).to_contain_text("Approvals: 0 of 2")
    first.shot("08-bank-request-page")
    first.page.get_by_role("link", name="Approve", exact=True).click()
    first.page.get_by_label("Comment").fill("Buyer confirmed, within limits.")
    first.page.get_by_role("button", name="Give the first approval").click()
    expect(first.page.locator("#four-eyes")).to_contain_text("Approvals: 1 of 2")
    expect(first.page.locator("#four-eyes")).to_contain_text(
        f"First approval: {chain.bank_checker.username}"
    )
    expect(first.page.get_by_role("link", name="Approve", exact=True)).to_have_count(0)
    first.shot("09-bank-first-approval")

    second = person(chain.bank_checker2)
    second.go(f"/portal/requests/{request_id}/")
    second.page.get_by_role("link", name="Approve", exact=True).click()
    second.page.get_by_role("button", name="Approve", exact=True).click()
    expect(messages_of(second)).to_contain_text(f"Request {request_id} is approved.")

    # The bank disburses; the value date fixes the quote.
    second.page.get_by_role("link", name="Disburse").click()
    second.page.get_by_role("button", name="Continue").click()
    expect(second.page.locator("h1")).to_have_text(f"Disburse request {request_id}?")
    second.page.get_by_role("button", name="Disburse").click()
    expect(messages_of(second)).to_contain_text("890,212.50 CNY was disbursed")
    expect(status_of(second)).to_have_text("Disbursed")
    second.shot("10-bank-disbursed")
    second.go("/portal/portfolio/")
    expect(second.page.locator("svg.bar").first).to_be_visible()
    second.shot("11-bank-portfolio")
    second.go("/portal/programs/")
    second.shot("12-bank-programs")

    # The core enterprise pays at maturity (recorded today), after a confirmation step.
    core.go("/portal/network/")
    expect(core.page.locator("main")).to_contain_text("900,000.00 CNY")
    core.shot("13-core-network-maturity-schedule")
    core.page.get_by_role("link", name="Record a repayment").first.click()
    expect(core.page.get_by_label("Amount")).to_have_value("900000.00")
    core.page.get_by_role("button", name="Continue").click()
    expect(core.page.locator("h1")).to_have_text(f"Record a repayment on request {request_id}?")
    core.page.get_by_role("button", name="Record repayment").click()
    expect(messages_of(core)).to_contain_text("the request is settled")

    # The supplier sees it settled, the invoice paid, and was told along the way.
    supplier.go(f"/portal/requests/{request_id}/")
    expect(status_of(supplier)).to_have_text("Settled")
    expect(supplier.page.locator("ol.timeline")).to_contain_text("Settled")
    supplier.shot("14-supplier-request-settled")
    supplier.go("/portal/invoices/?status=paid")
    expect(supplier.page.locator("main")).to_contain_text("E2E-BIG")
    badge = supplier.page.locator(".notifications-link .badge")
    assert int(badge.inner_text()) >= 3
    supplier.go("/portal/notifications/")
    supplier.shot("15-supplier-notifications")
    supplier.go("/portal/")
    supplier.shot("16-supplier-dashboard")

    with scope_activated(Scope.platform()):
        request = FinancingRequest.objects.get(pk=request_id)
        assert request.status == RequestStatus.SETTLED
        assert list(request.approvals.values_list("checker", flat=True)) == [
            chain.bank_checker.pk,
            chain.bank_checker2.pk,
        ]
        assert Invoice.objects.get(number="E2E-BIG").status == InvoiceStatus.PAID
        assert Invoice.objects.get(number="E2E-SMALL").status == InvoiceStatus.CONFIRMED


def test_an_outsider_gets_the_not_found_page(person):
    chain = committed_chain()
    outsider_chain = committed_chain(prefix="Other ")
    with scope_activated(Scope.platform()):
        invoice = chain.invoice("100000.00", number="PRIVATE-1")
        from financing.services import drafting

        request = drafting.financing_request_create(
            applicant=chain.supplier,
            actor=chain.supplier_maker,
            product="receivables",
            program=chain.program,
            requested_amount=invoice.amount,
            invoices=[invoice.pk],
        )
    for user in (outsider_chain.supplier_maker, outsider_chain.bank_checker):
        outsider = person(user)
        response = outsider.go(f"/portal/requests/{request.pk}/")
        assert response.status == 404
        expect(outsider.page.locator("h1")).to_have_text("Not found")
        expect(outsider.page.locator("main")).not_to_contain_text("PRIVATE-1")
        response = outsider.go(f"/portal/invoices/{invoice.pk}/")
        assert response.status == 404
    outsider.shot("17-outsider-not-found")
    owner = person(chain.supplier_maker)
    assert owner.go(f"/portal/requests/{request.pk}/").status == 200


def test_the_language_switch_is_remembered_and_a_phone_width_fits(person, browser):
    chain = committed_chain()
    with scope_activated(Scope.platform()):
        chain.invoice("100000.00", number="ZH-1")
    supplier = person(chain.supplier_maker)
    supplier.page.get_by_label("Language").select_option("zh-hans")
    supplier.page.get_by_role("button", name="Go").click()
    expect(supplier.page.locator("h1")).to_have_text("中小企业门户")
    supplier.go("/portal/invoices/")
    expect(supplier.page.locator("h1")).to_have_text("发票")
    expect(supplier.page.locator("main")).to_contain_text("已确权")
    supplier.go("/portal/apply/")
    expect(supplier.page.locator("h1")).to_have_text("申请融资")
    supplier.page.get_by_label("ZH-1", exact=True).check()
    expect(supplier.page.locator("[data-quote=net_proceeds]")).to_have_text("89,021.25 CNY")
    supplier.shot("18-supplier-apply-chinese")

    phone = person(chain.supplier_maker, width=375)
    for path, name in (("/portal/", "19-phone-dashboard"), ("/portal/apply/", "20-phone-apply")):
        phone.go(path)
        overflow = phone.page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 1, (path, overflow)
        phone.shot(name)


def test_a_form_error_keeps_the_input(person):
    chain = committed_chain()
    supplier = person(chain.supplier_maker)
    supplier.go("/portal/invoices/new/")
    supplier.page.get_by_label("Invoice number").fill("KEEP-ME-1")
    supplier.page.get_by_label("Buyer").select_option(label="Hengda Machinery Group")
    today = timezone.localdate()
    supplier.page.get_by_label("Issue date").fill(today.isoformat())
    supplier.page.get_by_label("Due date").fill((today - timedelta(days=1)).isoformat())
    supplier.page.get_by_label("Amount").fill("1234.5")
    supplier.page.get_by_role("button", name="Continue").click()
    # Refused before the confirmation step: there is no "Add invoice?" to answer.
    expect(supplier.page.get_by_role("button", name="Add invoice")).to_have_count(0)
    error = supplier.page.locator("#id_due_date-error")
    expect(error).to_contain_text("The due date is before the issue date.")
    expect(supplier.page.get_by_label("Invoice number")).to_have_value("KEEP-ME-1")
    expect(supplier.page.get_by_label("Amount")).to_have_value("1234.5")
    supplier.shot("21-supplier-form-error")
    with scope_activated(Scope.platform()):
        assert not Invoice.objects.filter(number="KEEP-ME-1").exists()
