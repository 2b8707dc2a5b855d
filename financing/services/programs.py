"""Programs and their participants."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from financing.models import DayCount, Program, ProgramParticipant
from financing.products.registry import product_codes
from scf_platform.business_events import business_event_record, business_transaction
from scf_platform.errors import NotPermitted
from scf_platform.models import Organization, OrganizationKind
from suppliers.models import LinkRole
from suppliers.services import CURRENCIES, trade_link_create


def program_create(
    *,
    bank: Organization,
    actor,
    name: str,
    core_enterprise: Organization,
    currency: str,
    credit_limit: Decimal,
    advance_rate: Decimal,
    annual_rate: Decimal,
    day_count: str = DayCount.ACT_360,
    max_tenor_days: int,
    dual_approval_threshold: Decimal,
    products: list[str],
    late_rate: Decimal | None = None,
    sla_hours: int = 24,
    reminder_days: int = 5,
) -> Program:
    errors: dict[str, list[str]] = {}
    if bank.kind != OrganizationKind.BANK:
        raise NotPermitted(_("Only a bank sets up a program."))
    if core_enterprise.kind != OrganizationKind.ENTERPRISE:
        errors["core_enterprise"] = [_("The core enterprise must be an enterprise.")]
    if currency not in CURRENCIES:
        errors["currency"] = [_("Unsupported currency %(c)s.") % {"c": currency}]
    if credit_limit <= 0:
        errors["credit_limit"] = [_("The credit limit must be positive.")]
    if not Decimal(0) < advance_rate <= Decimal(1):
        errors["advance_rate"] = [_("The advance rate is a fraction above 0 and at most 1.")]
    if not Decimal(0) <= annual_rate < Decimal(1):
        errors["annual_rate"] = [_("The annual rate is a fraction from 0 to below 1.")]
    if late_rate is not None and not Decimal(0) <= late_rate < Decimal(1):
        errors["late_rate"] = [_("The late rate is a fraction from 0 to below 1.")]
    if max_tenor_days < 1:
        errors["max_tenor_days"] = [_("The maximum tenor is at least one day.")]
    if dual_approval_threshold < 0:
        errors["dual_approval_threshold"] = [_("The threshold cannot be negative.")]
    # Only the products that exist (the registry): a program offering one not built yet would
    # take requests nothing can screen.
    unknown = [p for p in products if p not in product_codes()]
    if not products or unknown:
        errors["products"] = [
            _("Name at least one product of: %(p)s.") % {"p": ", ".join(product_codes())}
        ]
    if errors:
        raise ValidationError(errors)
    with business_transaction():
        program = Program.objects.create(
            bank=bank,
            core_enterprise=core_enterprise,
            name=name,
            currency=currency,
            credit_limit=credit_limit,
            advance_rate=advance_rate,
            annual_rate=annual_rate,
            late_rate=late_rate,
            day_count=day_count,
            max_tenor_days=max_tenor_days,
            dual_approval_threshold=dual_approval_threshold,
            products=sorted(set(products)),
            sla_hours=sla_hours,
            reminder_days=reminder_days,
            created_by=actor,
        )
        business_event_record(
            kind="program.created",
            subject=f"program:{program.pk}",
            parties=[bank.pk, core_enterprise.pk],
            payload={
                "program": program.pk,
                "bank": bank.pk,
                "core_enterprise": core_enterprise.pk,
                "currency": currency,
                "credit_limit": str(credit_limit),
                "advance_rate": str(advance_rate),
                "annual_rate": str(annual_rate),
                "day_count": day_count,
            },
        )
    return program


def participant_add(
    *,
    program: Program,
    core_enterprise: Organization,
    actor,
    organization: Organization,
    role: str,
    limit: Decimal | None = None,
) -> ProgramParticipant:
    """The core enterprise onboards a supplier or distributor into its program; the trade link
    between them is made if it did not exist."""
    if program.core_enterprise_id != core_enterprise.pk:
        raise NotPermitted(_("Only the program's core enterprise onboards participants."))
    if role not in LinkRole.values:
        raise ValidationError({"role": [_("The role is supplier or distributor.")]})
    if limit is not None and limit <= 0:
        raise ValidationError({"limit": [_("A sub-limit must be positive.")]})
    if ProgramParticipant.objects.filter(program=program, organization=organization).exists():
        raise ValidationError({"organization": [_("Already a participant of this program.")]})
    with transaction.atomic():
        trade_link_create(core_enterprise=core_enterprise, counterparty=organization, role=role)
        participant = ProgramParticipant.objects.create(
            program=program,
            organization=organization,
            bank_id=program.bank_id,
            core_enterprise=core_enterprise,
            role=role,
            limit=limit,
            created_by=actor,
        )
    return participant
