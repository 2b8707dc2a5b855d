"""Demo deals for `make run`: two programs and requests in every state, made through the same
services a user's clicks go through (history is replayed with `business_day`)."""

from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction

from financing.models import FinancingRequest, Program
from financing.services import decisions, drafting, money, periodic, screening
from financing.services.programs import participant_add, program_create
from scf_platform.clock import business_day, business_today
from scf_platform.demo import demo_organization
from scf_platform.tenancy import Scope, scope_activated
from suppliers.models import Invoice
from suppliers.services import invoice_confirm, invoice_create, invoice_dispute

PROGRAM_NAMES = (
    "Hengda Supplier Finance 2026 恒达供应商融资",
    "Hengda Express Receivables 恒达快速贴现",
)


def _user(username: str):
    return get_user_model().objects.get(username=username)


class DemoDeals:
    def __init__(self) -> None:
        self.bank = demo_organization("bank")
        self.core = demo_organization("core")
        self.suppliers = {key: demo_organization(key) for key in ("supplier1", "supplier2")}
        self.serial = 0

    def invoice(self, supplier: str, amount: str, *, issued: date, due: date, confirm=True):
        self.serial += 1
        seller = self.suppliers[supplier]
        invoice = invoice_create(
            seller=seller,
            buyer=self.core,
            number=f"DEMO-{supplier[-1]}-{self.serial:04d}",
            issue_date=issued,
            due_date=due,
            currency="CNY",
            amount=Decimal(amount),
            actor=_user(f"{supplier}_maker"),
            source="portal",
        )
        if confirm:
            invoice = invoice_confirm(
                invoice_id=invoice.pk, buyer=self.core, actor=_user("core_checker")
            )
        return invoice

    def request(self, program, supplier: str, invoices, amount: str, *, submit=True):
        applicant = self.suppliers[supplier]
        maker = _user(f"{supplier}_maker")
        request = drafting.financing_request_create(
            applicant=applicant,
            actor=maker,
            product="receivables",
            program=program,
            requested_amount=Decimal(amount),
            invoices=[i.pk for i in invoices],
        )
        if submit:
            with transaction.atomic():
                drafting.financing_request_submit(
                    request_id=request.pk, applicant=applicant, actor=maker
                )
            # Screened here, not by the worker: the demo must be complete when the load ends.
            screening.financing_request_screen(request_id=request.pk)
        return FinancingRequest.objects.get(pk=request.pk)

    def approve(self, request, *checkers):
        for checker in checkers or ("bank_checker",):
            decisions.financing_request_approve(
                request_id=request.pk, bank=self.bank, actor=_user(checker), comment="Demo approval"
            )

    def disburse(self, request, value_date=None):
        money.financing_request_disburse(
            request_id=request.pk, bank=self.bank, actor=_user("bank_maker"), value_date=value_date
        )

    def repay(self, request, amount: str, paid_on: date):
        money.financing_request_repay(
            request_id=request.pk,
            payer=self.core,
            actor=_user("core_maker"),
            amount=Decimal(amount),
            paid_on=paid_on,
        )


def demo_deals_load() -> bool:
    """Load the demo deals once; returns False when they were already there."""
    with transaction.atomic(), scope_activated(Scope.platform()):
        if Program.objects.filter(name=PROGRAM_NAMES[0]).exists():
            return False
        deals = DemoDeals()
        today = business_today()
        bank_admin = _user("bank_admin")
        main = program_create(
            bank=deals.bank,
            actor=bank_admin,
            name=PROGRAM_NAMES[0],
            core_enterprise=deals.core,
            currency="CNY",
            credit_limit=Decimal("50000000.00"),
            advance_rate=Decimal("0.90"),
            annual_rate=Decimal("0.0435"),
            day_count="ACT/360",
            max_tenor_days=180,
            dual_approval_threshold=Decimal("1000000.00"),
            products=["receivables"],
            sla_hours=24,
        )
        express = program_create(
            bank=deals.bank,
            actor=bank_admin,
            name=PROGRAM_NAMES[1],
            core_enterprise=deals.core,
            currency="CNY",
            credit_limit=Decimal("5000000.00"),
            advance_rate=Decimal("0.80"),
            annual_rate=Decimal("0.0520"),
            day_count="ACT/365",
            max_tenor_days=90,
            dual_approval_threshold=Decimal("500000.00"),
            products=["receivables"],
            sla_hours=4,
            late_rate=Decimal("0.0780"),
        )
        core_admin = _user("core_admin")
        for program, supplier, limit in (
            (main, "supplier1", "20000000.00"),
            (main, "supplier2", None),
            (express, "supplier2", "2000000.00"),
        ):
            participant_add(
                program=program,
                core_enterprise=deals.core,
                actor=core_admin,
                organization=deals.suppliers[supplier],
                role="supplier",
                limit=Decimal(limit) if limit else None,
            )
        participant_add(
            program=main,
            core_enterprise=deals.core,
            actor=core_admin,
            organization=demo_organization("distributor"),
            role="distributor",
        )

        def invoice(supplier, amount, issued_ago, due_in, confirm=True):
            return deals.invoice(
                supplier,
                amount,
                issued=today - timedelta(days=issued_ago),
                due=today + timedelta(days=due_in),
                confirm=confirm,
            )

        # Invoices waiting for the core enterprise, one disputed, one over the 60-day rule.
        invoice("supplier1", "386000.00", 3, 87, confirm=False)
        invoice("supplier2", "92500.50", 1, 59, confirm=False)
        disputed = invoice("supplier2", "15800.00", 10, 50, confirm=False)
        invoice_dispute(
            invoice_id=disputed.pk,
            buyer=deals.core,
            actor=_user("core_checker"),
            reason="Quantity does not match the delivery note / 数量与送货单不符",
        )
        invoice("supplier1", "240000.00", 5, 115)  # confirmed, free to finance

        # draft
        deals.request(
            main, "supplier1", [invoice("supplier1", "120000.00", 8, 82)], "100000.00", submit=False
        )
        # in review (single approval) and in review with one of two approvals (four-eyes)
        deals.request(main, "supplier1", [invoice("supplier1", "450000.00", 12, 78)], "400000.00")
        four_eyes = deals.request(
            main,
            "supplier2",
            [invoice("supplier2", "1500000.00", 6, 120), invoice("supplier2", "800000.00", 6, 100)],
            "2000000.00",
        )
        deals.approve(four_eyes, "bank_checker")
        # rejected at screening (its advance, 2,400,000.00, is above supplier2's sub-limit of
        # 2,000,000.00 in the express program) and by the bank
        deals.request(
            express, "supplier2", [invoice("supplier2", "3000000.00", 2, 60)], "2400000.00"
        )
        by_bank = deals.request(
            main, "supplier1", [invoice("supplier1", "66000.00", 4, 64)], "59400.00"
        )
        decisions.financing_request_reject(
            request_id=by_bank.pk,
            bank=deals.bank,
            actor=_user("bank_checker"),
            reason="Concentration on this supplier is too high.",
        )
        # withdrawn
        withdrawn = deals.request(
            main, "supplier2", [invoice("supplier2", "52000.00", 9, 70)], "46800.00"
        )
        drafting.financing_request_withdraw(
            request_id=withdrawn.pk,
            applicant=deals.suppliers["supplier2"],
            actor=_user("supplier2_maker"),
        )
        # approved, waiting for disbursement
        approved = deals.request(
            express, "supplier2", [invoice("supplier2", "210000.00", 7, 45)], "168000.00"
        )
        deals.approve(approved)
        # disbursed, one partly repaid
        disbursed = deals.request(
            main, "supplier1", [invoice("supplier1", "980000.00", 20, 40)], "880000.00"
        )
        deals.approve(disbursed)
        deals.disburse(disbursed)
        partly = deals.request(
            express, "supplier2", [invoice("supplier2", "125000.00", 15, 20)], "100000.00"
        )
        deals.approve(partly)
        deals.disburse(partly)
        deals.repay(partly, "40000.00", today)

        # History replayed: deals made weeks ago, now overdue, settled and defaulted.
        past = today - timedelta(days=75)
        with business_day(past):
            overdue = deals.request(
                main,
                "supplier1",
                [
                    deals.invoice(
                        "supplier1", "300000.00", issued=past, due=today - timedelta(days=12)
                    )
                ],
                "270000.00",
            )
            deals.approve(overdue)
            deals.disburse(overdue)
            settled = deals.request(
                main,
                "supplier2",
                [
                    deals.invoice(
                        "supplier2", "200000.00", issued=past, due=today - timedelta(days=5)
                    )
                ],
                "180000.00",
            )
            deals.approve(settled)
            deals.disburse(settled)
            defaulted = deals.request(
                express,
                "supplier2",
                [
                    deals.invoice(
                        "supplier2", "90000.00", issued=past, due=today - timedelta(days=40)
                    )
                ],
                "72000.00",
            )
            deals.approve(defaulted)
            deals.disburse(defaulted)
        with business_day(today - timedelta(days=30)):
            periodic.requests_mark_overdue()
        with business_day(today - timedelta(days=6)):
            deals.repay(settled, "100000.00", today - timedelta(days=6))
            deals.repay(settled, "80000.00", today - timedelta(days=6))
        periodic.requests_mark_overdue()
        money.financing_request_default(
            request_id=defaulted.pk,
            bank=deals.bank,
            actor=_user("bank_checker"),
            reason="Buyer dispute unresolved after 40 days.",
        )
        # submitted: left for the Celery worker of `make run` to screen.
        submitted = deals.request(
            main, "supplier2", [invoice("supplier2", "75000.00", 2, 58)], "67500.00", submit=False
        )
        drafting.financing_request_submit(
            request_id=submitted.pk,
            applicant=deals.suppliers["supplier2"],
            actor=_user("supplier2_maker"),
        )
        assert Invoice.objects.exists()
    return True
