"""Every total is per currency: a bank lending in CNY and in USD to the same chain sees each
currency's amounts apart, never added together, on the portfolio, the dashboards, the core's
network page and the payables it confirms."""

import dataclasses
import re
from decimal import Decimal

import pytest

from financing.services import decisions, money
from financing.services.programs import participant_add, program_create
from tests.financing.factories import submit_request
from tests.portal.conftest import client_for, text

pytestmark = pytest.mark.django_db


@pytest.fixture
def usd(chain):
    """The same bank, core and supplier in a second program, lending in USD."""
    program = program_create(
        bank=chain.bank,
        actor=chain.bank_admin,
        name="Dollar line",
        core_enterprise=chain.core,
        currency="USD",
        credit_limit=Decimal("1000000.00"),
        advance_rate=Decimal("0.90"),
        annual_rate=Decimal("0.05"),
        max_tenor_days=180,
        dual_approval_threshold=Decimal("500000.00"),
        products=["receivables"],
    )
    participant = participant_add(
        program=program,
        core_enterprise=chain.core,
        actor=chain.core_maker,
        organization=chain.supplier,
        role="supplier",
    )
    return dataclasses.replace(chain, program=program, participant=participant)


def disbursed(chain, invoice_amount, amount):
    request = submit_request(chain, [chain.invoice(invoice_amount, days=80)], amount)
    decisions.financing_request_approve(
        request_id=request.pk, bank=chain.bank, actor=chain.bank_checker
    )
    return money.financing_request_disburse(
        request_id=request.pk, bank=chain.bank, actor=chain.bank_maker
    )


def bar_widths(body: str) -> list[str]:
    return re.findall(r'class="bar-fill[^"]*"[^>]*width="([\d.]+)"', body)


def test_the_portfolio_keeps_each_currency_apart(chain, usd):
    disbursed(chain, "100000.00", "90000.00")
    disbursed(usd, "2000.00", "1000.00")
    response = client_for(chain.bank_checker).get("/portal/portfolio/")
    page = text(response)
    assert "Disbursed (1) 90,000.00 CNY" in page
    assert "Disbursed (1) 1,000.00 USD" in page
    assert "In 61 to 90 days 90,000.00 CNY" in page
    assert "In 61 to 90 days 1,000.00 USD" in page
    assert "Outstanding 90,000.00 CNY · 1,000.00 USD" in page
    # No sum of the two anywhere, and each currency is drawn on its own scale (a full bar each).
    assert "91,000.00" not in page
    assert "Dollar line 1,000.00 USD / 1,000,000.00 USD" in page
    widths = bar_widths(response.content.decode())
    assert widths.count("100.0") >= 4, widths


def test_the_core_s_network_page_keeps_each_currency_apart(chain, usd):
    disbursed(chain, "100000.00", "90000.00")
    disbursed(usd, "2000.00", "1000.00")
    page = text(client_for(chain.core_checker).get("/portal/network/"))
    assert "In 61 to 90 days 90,000.00 CNY" in page
    assert "In 61 to 90 days 1,000.00 USD" in page
    assert "91,000.00" not in page


def test_the_dashboards_keep_each_currency_apart(chain, usd):
    disbursed(chain, "100000.00", "90000.00")
    disbursed(usd, "2000.00", "1000.00")
    chain.invoice("300.00", confirm=False)
    usd.invoice("20.00", confirm=False)
    for user in (chain.bank_checker, chain.supplier_maker):
        page = text(client_for(user).get("/portal/"))
        assert "90,000.00 CNY · 1,000.00 USD" in page, page
        assert "91,000.00" not in page
    core = text(client_for(chain.core_checker).get("/portal/"))
    assert "300.00 CNY · 20.00 USD" in core


def test_confirming_payables_of_two_currencies_shows_a_total_per_currency(chain, usd):
    cny = chain.invoice("300.00", confirm=False)
    dollars = usd.invoice("20.00", confirm=False)
    page = text(
        client_for(chain.core_checker).get(
            "/portal/payables/confirm/", {"invoice": [cny.pk, dollars.pk]}
        )
    )
    assert "300.00 CNY · 20.00 USD" in page
    assert "320.00" not in page
