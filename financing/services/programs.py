"""Programs and their participants."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils.translation import gettext as _

from financing.models import (
    MAX_ADVANCE_RATE,
    MAX_RATE,
    MAX_REMINDER_DAYS,
    MAX_SLA_HOURS,
    MAX_TENOR_DAYS,
    DayCount,
    Program,
    ProgramParticipant,
)
from financing.products.registry import product_codes
from scf_platform.business_events import business_event_record, business_transaction
from scf_platform.models import Organization, OrganizationKind
from scf_platform.money import CURRENCIES
from scf_platform.policy import may_add_participant, may_create_program, membership_of, require
from suppliers.models import LinkRole
from suppliers.services import trade_link_create


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
    require(may_create_program, membership_of(actor, bank))
    errors: dict[str, list[str]] = {}
    if core_enterprise.kind != OrganizationKind.ENTERPRISE:
        errors["core_enterprise"] = [_("The core enterprise must be an enterprise.")]
    if currency not in CURRENCIES:
        errors["currency"] = [_("Unsupported currency %(c)s.") % {"c": currency}]
    if credit_limit <= 0:
        errors["credit_limit"] = [_("The credit limit must be positive.")]
    # The bounds (financing.models, beside the fields): the same on every surface.
    if not Decimal(0) < advance_rate <= MAX_ADVANCE_RATE:
        errors["advance_rate"] = [_("The advance rate is a fraction above 0 and at most 1.")]
    rate_error = _("A yearly rate is a fraction from 0 to below %(m)s.") % {"m": MAX_RATE}
    if not Decimal(0) <= annual_rate < MAX_RATE:
        errors["annual_rate"] = [rate_error]
    if late_rate is not None and not Decimal(0) <= late_rate < MAX_RATE:
        errors["late_rate"] = [rate_error]
    if not 1 <= max_tenor_days <= MAX_TENOR_DAYS:
        errors["max_tenor_days"] = [
            _("The maximum tenor is from 1 to %(m)s days.") % {"m": MAX_TENOR_DAYS}
        ]
    if not 1 <= sla_hours <= MAX_SLA_HOURS:
        errors["sla_hours"] = [_("The queue SLA is from 1 to %(m)s hours.") % {"m": MAX_SLA_HOURS}]
    if not 0 <= reminder_days <= MAX_REMINDER_DAYS:
        errors["reminder_days"] = [
            _("Reminders are from 0 to %(m)s days before due.") % {"m": MAX_REMINDER_DAYS}
        ]
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
    require(may_add_participant, membership_of(actor, core_enterprise), program)
    if role not in LinkRole.values:
        raise ValidationError({"role": [_("The role is supplier or distributor.")]})
    if limit is not None and limit <= 0:
        raise ValidationError({"limit": [_("A sub-limit must be positive.")]})
    if limit is not None and limit.as_tuple().exponent < -2:
        raise ValidationError({"limit": [_("An amount has at most two decimals.")]})
    already = ValidationError({"organization": [_("Already a participant of this program.")]})
    try:
        # The ledger's lock first: a concurrent twin addition waits for it, then finds the
        # participant below (the unique constraint stands behind it).
        with business_transaction():
            if ProgramParticipant.objects.filter(
                program=program, organization=organization
            ).exists():
                raise already
            link = trade_link_create(
                core_enterprise=core_enterprise, counterparty=organization, role=role, actor=actor
            )
            participant = ProgramParticipant.objects.create(
                program=program,
                organization=organization,
                bank_id=program.bank_id,
                core_enterprise=core_enterprise,
                role=role,
                limit=limit,
                created_by=actor,
            )
            # A sub-limit is a credit term: it is recorded with the participation.
            business_event_record(
                kind="participant.added",
                subject=f"program:{program.pk}",
                parties=[program.bank_id, core_enterprise.pk, organization.pk],
                payload={
                    "program": program.pk,
                    "participant": participant.pk,
                    "organization": organization.pk,
                    "role": role,
                    "limit": None if limit is None else str(limit),
                    "trade_link": link.pk,
                },
            )
    except IntegrityError:
        raise already from None
    return participant
