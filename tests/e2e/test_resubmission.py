"""Resubmission in a real browser: Chromium re-sends a POST when the user goes Back to a page that
answered one, and when the user reloads it. Neither books anything a second time."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from financing.models import Repayment
from scf_platform.tenancy import Scope, scope_activated
from suppliers.models import Invoice, InvoiceEvent
from tests.financing.factories import make_chain
from tests.portal.conftest import disbursed

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_back_after_recording_a_repayment_and_confirming_again_books_it_once(person):
    with scope_activated(Scope.platform()):
        chain = make_chain()
        request = disbursed(chain, "90000.00")
    core = person(chain.core_maker)
    page = core.page
    core.go(f"/portal/requests/{request.pk}/repay/")
    page.get_by_label("Amount").fill("10000.00")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("h1")).to_contain_text("Record a repayment on request")
    expect(page.locator("main")).to_contain_text("80,000.00 CNY will remain outstanding")
    page.get_by_role("button", name="Record repayment").click()
    expect(page.locator("ul.messages")).to_contain_text("A repayment of 10,000.00 CNY")
    result_url = page.url

    # Back to the confirmation step: Chromium re-sends the entry form's POST without asking.
    page.go_back()
    again = page.get_by_role("button", name="Record repayment")
    if again.count():
        # The question drawn again (as before the fix): the user confirms once more.
        again.click()
    page.wait_for_load_state()
    core.shot("resubmission-repayment-back")
    assert page.url == result_url
    expect(page.locator("ul.messages")).to_contain_text("This form was already sent")
    with scope_activated(Scope.platform()):
        assert Repayment.objects.filter(request=request).count() == 1
        request.refresh_from_db()
        assert request.principal_outstanding == 80000


def test_reloading_the_upload_report_imports_nothing_again(person):
    with scope_activated(Scope.platform()):
        chain = make_chain()
    today = timezone.localdate()
    due = (today + timedelta(days=60)).isoformat()
    csv = (
        "number,buyer_credit_code,issue_date,due_date,currency,amount\n"
        f"RELOAD-1,{chain.core.credit_code},{today.isoformat()},{due},CNY,1000.00\n"
        f"RELOAD-2,{chain.core.credit_code},{today.isoformat()},{due},CNY,2000.00\n"
    ).encode()
    supplier = person(chain.supplier_maker)
    page = supplier.page
    supplier.go("/portal/invoices/upload/")
    page.set_input_files(
        "#id_file", files=[{"name": "reload.csv", "mimeType": "text/csv", "buffer": csv}]
    )
    page.get_by_label("I confirm that these invoices are genuine").check()
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.locator("main")).to_contain_text("2 invoices landed.")

    page.reload()
    page.wait_for_load_state()
    supplier.shot("resubmission-upload-reload")
    main = page.locator("main")
    expect(main).to_contain_text("2 invoices landed.")
    expect(main).to_contain_text("0 rows were rejected.")
    with scope_activated(Scope.platform()):
        numbers = ["RELOAD-1", "RELOAD-2"]
        assert Invoice.objects.filter(number__in=numbers).count() == 2
        # One "uploaded" event per invoice: the file was read once.
        assert InvoiceEvent.objects.filter(invoice__number__in=numbers).count() == 2
