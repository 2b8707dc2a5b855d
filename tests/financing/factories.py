"""Factories for the supply chain and financing: a bank, a core enterprise, a supplier, a
program linking them, confirmed invoices."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from financing.models import FinancingRequest, Program, ProgramParticipant
from financing.services import drafting, screening
from financing.services.programs import participant_add, program_create
from scf_platform.models import Organization, OrganizationKind, Role
from suppliers.models import Invoice
from suppliers.services import invoice_confirm, invoice_create
from tests.factories import OrganizationFactory, member


@dataclass
class Chain:
    """Everyone in one receivables program, with a user of each role that acts."""

    bank: Organization
    core: Organization
    supplier: Organization
    program: Program
    participant: ProgramParticipant
    bank_admin: object
    bank_checker: object
    bank_checker2: object
    bank_maker: object
    core_checker: object
    core_maker: object
    supplier_maker: object
    supplier_admin: object

    def invoice(self, amount="100000.00", *, days=90, number=None, confirm=True, issued=None):
        issued = issued or timezone.localdate() - timedelta(days=5)
        invoice = invoice_create(
            seller=self.supplier,
            buyer=self.core,
            number=number or f"INV-{Invoice.objects.count() + 1:06d}",
            issue_date=issued,
            due_date=timezone.localdate() + timedelta(days=days),
            currency=self.program.currency,
            amount=Decimal(amount),
            actor=self.supplier_maker,
        )
        if confirm:
            invoice = invoice_confirm(
                invoice_id=invoice.pk, buyer=self.core, actor=self.core_checker
            )
        return invoice


def make_chain(
    *,
    credit_limit="10000000.00",
    sub_limit=None,
    threshold="500000.00",
    day_count="ACT/360",
    annual_rate="0.0435",
    advance_rate="0.90",
    max_tenor_days=180,
    prefix="",
) -> Chain:
    bank = OrganizationFactory(kind=OrganizationKind.BANK, name=f"{prefix}Bank")
    core = OrganizationFactory(kind=OrganizationKind.ENTERPRISE, name=f"{prefix}Core")
    supplier = OrganizationFactory(kind=OrganizationKind.ENTERPRISE, name=f"{prefix}Supplier")
    bank_admin = member(bank, Role.ADMIN)
    program = program_create(
        bank=bank,
        actor=bank_admin,
        name=f"{prefix}Program",
        core_enterprise=core,
        currency="CNY",
        credit_limit=Decimal(credit_limit),
        advance_rate=Decimal(advance_rate),
        annual_rate=Decimal(annual_rate),
        day_count=day_count,
        max_tenor_days=max_tenor_days,
        dual_approval_threshold=Decimal(threshold),
        products=["receivables"],
    )
    core_admin = member(core, Role.ADMIN)
    participant = participant_add(
        program=program,
        core_enterprise=core,
        actor=core_admin,
        organization=supplier,
        role="supplier",
        limit=Decimal(sub_limit) if sub_limit else None,
    )
    return Chain(
        bank=bank,
        core=core,
        supplier=supplier,
        program=program,
        participant=participant,
        bank_admin=bank_admin,
        bank_checker=member(bank, Role.CHECKER),
        bank_checker2=member(bank, Role.CHECKER),
        bank_maker=member(bank, Role.MAKER),
        core_checker=member(core, Role.CHECKER),
        core_maker=member(core, Role.MAKER),
        supplier_maker=member(supplier, Role.MAKER),
        supplier_admin=member(supplier, Role.ADMIN),
    )


def today() -> date:
    return timezone.localdate()


def submit_request(chain: Chain, invoices, amount, *, screen: bool = True):
    """The supplier's maker requests `amount` against `invoices` and submits; screened in-process
    unless `screen` is False (then it waits, `submitted`, for a worker)."""
    request = drafting.financing_request_create(
        applicant=chain.supplier,
        actor=chain.supplier_maker,
        product="receivables",
        program=chain.program,
        requested_amount=Decimal(amount),
        invoices=[i.pk for i in invoices],
    )
    drafting.financing_request_submit(
        request_id=request.pk, applicant=chain.supplier, actor=chain.supplier_maker
    )
    if not screen:
        return FinancingRequest.objects.get(pk=request.pk)
    return screening.financing_request_screen(request_id=request.pk)
