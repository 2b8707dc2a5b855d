"""Financing: programs (a bank's line to a core enterprise's chain), their participants and
limits, financing requests with their collateral, approvals, repayments and history."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from scf_platform.models import Organization, TenantModel, TenantQuerySet, TransitionEvent
from suppliers.models import LinkRole


class Product(models.TextChoices):
    RECEIVABLES = "receivables", _("Receivables financing")
    INVENTORY_PLEDGE = "inventory_pledge", _("Inventory pledge financing")
    PREPAYMENT = "prepayment", _("Prepayment financing")


class DayCount(models.TextChoices):
    ACT_360 = "ACT/360", "ACT/360"
    ACT_365 = "ACT/365", "ACT/365"


class ProgramStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")
    CLOSED = "closed", _("Closed")


def money_field(verbose_name, **kwargs) -> models.DecimalField:
    return models.DecimalField(verbose_name, max_digits=18, decimal_places=2, **kwargs)


# A program's terms have bounds, the same on every surface (the service, the portal's form, the
# API's serializer, the model's validators): one bank's absurd setting must not break a job that
# runs for every bank, nor price a financing that pays out nothing (issue 12). The service
# (financing.services.programs.program_create) checks them; they live here, beside the fields,
# because the model's validators need them and the model cannot import the services.
#
# A receivable is financed for one year at most (market practice for receivables finance; the
# certificates issue says the same), so no tenor beyond 365 days.
MAX_TENOR_DAYS = 365
# A queue SLA beyond 30 days is no SLA; 720 hours keeps every `timedelta(hours=...)` finite.
MAX_SLA_HOURS = 720
# Reminders at most as far ahead as the longest tenor.
MAX_REMINDER_DAYS = 365
# Yearly rates (discount and late interest) are fractions from 0 (an interest-free programme a
# core enterprise subsidises; the CHECK constraint has always allowed it) to below 0.36: 36% a
# year is the absolute ceiling above which Chinese courts have never enforced lending interest
# (the 2015 private-lending provisions). Today's judicial cap, four times the one-year LPR (about
# 0.15), moves with the LPR each month, so it is the bank's compliance to keep, not a constant.
# With both bounds, the longest tenor's discount (0.36 x 365/360 = 0.365) leaves net proceeds.
MAX_RATE = Decimal("0.36")
# The advance rate: above 0, at most the whole invoice.
MAX_ADVANCE_RATE = Decimal(1)


class ProgramQuerySet(TenantQuerySet):
    def visible_to(self, organization):
        if organization is None:
            return self.none()
        return self.filter(
            Q(bank=organization)
            | Q(core_enterprise=organization)
            | Q(participants__organization=organization)
        ).distinct()


class Program(TenantModel):
    bank = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="programs_lent")
    core_enterprise = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="programs_anchored"
    )
    name = models.CharField(_("name"), max_length=200)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    credit_limit = money_field(_("credit limit"))
    utilized = money_field(_("utilized"), default=0)
    advance_rate = models.DecimalField(
        _("advance rate"),
        max_digits=5,
        decimal_places=4,
        validators=[MinValueValidator(Decimal("0.0001")), MaxValueValidator(MAX_ADVANCE_RATE)],
    )
    annual_rate = models.DecimalField(
        _("annual rate"),
        max_digits=7,
        decimal_places=6,
        validators=[MinValueValidator(0), MaxValueValidator(MAX_RATE - Decimal("0.000001"))],
    )
    late_rate = models.DecimalField(
        _("late interest rate"),
        max_digits=7,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(MAX_RATE - Decimal("0.000001"))],
    )
    day_count = models.CharField(
        _("day count"), max_length=8, choices=DayCount.choices, default=DayCount.ACT_360
    )
    max_tenor_days = models.PositiveIntegerField(
        _("maximum tenor (days)"),
        validators=[MinValueValidator(1), MaxValueValidator(MAX_TENOR_DAYS)],
    )
    dual_approval_threshold = money_field(_("dual approval above"))
    products = models.JSONField(_("products"), default=list)
    sla_hours = models.PositiveIntegerField(
        _("queue SLA (hours)"),
        default=24,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_SLA_HOURS)],
    )
    reminder_days = models.PositiveIntegerField(
        _("remind days before due"),
        default=5,
        validators=[MaxValueValidator(MAX_REMINDER_DAYS)],
    )
    status = models.CharField(
        _("status"), max_length=16, choices=ProgramStatus.choices, default=ProgramStatus.ACTIVE
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    tenant_parties = ("bank", "core_enterprise")
    tenant_rls_extra_sql = (
        "EXISTS (SELECT 1 FROM financing_programparticipant p"
        " WHERE p.program_id = financing_program.id"
        " AND p.organization_id = (select scf_current_organization()))"
    )

    objects = ProgramQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(credit_limit__gt=0), name="program_limit_positive"),
            # The limit race is decided here: no interleaving of updates can pass this check.
            models.CheckConstraint(
                condition=Q(utilized__gte=0) & Q(utilized__lte=F("credit_limit")),
                name="program_utilized_within_limit",
            ),
            models.CheckConstraint(
                condition=Q(advance_rate__gt=0) & Q(advance_rate__lte=1),
                name="program_advance_rate_range",
            ),
            models.CheckConstraint(
                condition=Q(annual_rate__gte=0) & Q(annual_rate__lt=1),
                name="program_annual_rate_range",
            ),
            models.CheckConstraint(
                condition=~Q(bank=F("core_enterprise")), name="program_two_parties"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def available(self):
        return self.credit_limit - self.utilized

    @property
    def effective_late_rate(self):
        return self.late_rate if self.late_rate is not None else self.annual_rate

    def offers(self, product: str) -> bool:
        return product in self.products


class ProgramParticipant(TenantModel):
    """A supplier or distributor the core enterprise onboarded into a program, with an optional
    sub-limit. Bank and core enterprise are copied here so the row-level policy needs no join."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="participants")
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="participations"
    )
    bank = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    core_enterprise = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(_("role"), max_length=16, choices=LinkRole.choices)
    limit = money_field(_("sub-limit"), null=True, blank=True)
    utilized = money_field(_("utilized"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    tenant_parties = ("organization", "bank", "core_enterprise")

    class Meta:
        ordering = ["program", "organization__name"]
        constraints = [
            models.UniqueConstraint(fields=["program", "organization"], name="one_participation"),
            models.CheckConstraint(
                condition=Q(utilized__gte=0)
                & (Q(limit__isnull=True) | Q(utilized__lte=F("limit"))),
                name="participant_utilized_within_limit",
            ),
        ]

    @property
    def available(self):
        return None if self.limit is None else self.limit - self.utilized


class RequestStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    IN_REVIEW = "in_review", _("In review")
    REJECTED = "rejected", _("Rejected")
    APPROVED = "approved", _("Approved")
    DISBURSED = "disbursed", _("Disbursed")
    OVERDUE = "overdue", _("Overdue")
    SETTLED = "settled", _("Settled")
    DEFAULTED = "defaulted", _("Defaulted")
    WITHDRAWN = "withdrawn", _("Withdrawn")


# The statuses of a request under way: submitted and not yet settled, refused or given up (the
# portfolio's "active" count). Its collateral is held from submission, its limit from screening
# on; a defaulted request keeps both and is not counted here.
ACTIVE_STATUSES = (
    RequestStatus.SUBMITTED,
    RequestStatus.IN_REVIEW,
    RequestStatus.APPROVED,
    RequestStatus.DISBURSED,
    RequestStatus.OVERDUE,
)


class FinancingRequest(TenantModel):
    product = models.CharField(_("product"), max_length=24, choices=Product.choices)
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="requests")
    # The three parties lead an index each (Meta.indexes), so no index of their own.
    applicant = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="financing_requests",
        db_index=False,
    )
    bank = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    core_enterprise = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    currency = models.CharField(_("currency"), max_length=3)
    requested_amount = money_field(_("requested amount"))
    status = models.CharField(
        _("status"), max_length=16, choices=RequestStatus.choices, default=RequestStatus.DRAFT
    )

    # The quote: computed on every read until disbursement, then fixed by the value date.
    advance_amount = money_field(_("advance amount"), null=True, blank=True)
    discount_amount = money_field(_("discount amount"), null=True, blank=True)
    net_proceeds = money_field(_("net proceeds"), null=True, blank=True)
    annual_rate = models.DecimalField(max_digits=7, decimal_places=6, null=True, blank=True)
    day_count = models.CharField(max_length=8, choices=DayCount.choices, blank=True)
    days = models.IntegerField(null=True, blank=True)
    apr = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    value_date = models.DateField(_("value date"), null=True, blank=True)
    maturity_date = models.DateField(_("maturity date"), null=True, blank=True)

    # What the limit holds for this request (reserved at screening, released as repaid).
    reserved_amount = money_field(_("reserved"), default=0)
    principal_outstanding = money_field(_("principal outstanding"), default=0)
    repaid_amount = money_field(_("repaid"), default=0)
    # Late interest accrues exactly and is rounded once, when it is paid or shown.
    late_interest_exact = models.DecimalField(max_digits=30, decimal_places=12, default=0)
    late_interest_paid = money_field(_("late interest paid"), default=0)
    late_interest_through = models.DateField(null=True, blank=True)

    screening = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    screened_at = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    disbursed_at = models.DateTimeField(null=True, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    tenant_parties = ("applicant", "bank", "core_enterprise")
    # A draft belongs to its applicant until submitted.
    tenant_hidden_from = {
        "bank": ("status", (RequestStatus.DRAFT,)),
        "core_enterprise": ("status", (RequestStatus.DRAFT,)),
    }

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(requested_amount__gt=0), name="request_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(principal_outstanding__gte=0) & Q(reserved_amount__gte=0),
                name="request_balances_not_negative",
            ),
        ]
        indexes = [
            # The bank's approval queue in its order, with the other parties that the row-level
            # security policy reads: the queue's count reads this index and not the table.
            models.Index(
                fields=["bank", "status", "queued_at", "id", "applicant", "core_enterprise"],
                name="request_bank_queue",
            ),
            models.Index(fields=["applicant", "status", "-created_at"]),
            models.Index(fields=["core_enterprise", "status", "maturity_date"]),
            models.Index(fields=["status", "maturity_date"]),
        ]

    def __str__(self) -> str:
        return f"Request {self.pk} ({self.get_status_display()})"


class Approval(TenantModel):
    request = models.ForeignKey(
        FinancingRequest, on_delete=models.CASCADE, related_name="approvals"
    )
    bank = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    checker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    tenant_parties = ("bank",)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["request", "checker"], name="one_approval_per_checker")
        ]


class Repayment(TenantModel):
    request = models.ForeignKey(
        FinancingRequest, on_delete=models.PROTECT, related_name="repayments"
    )
    applicant = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    bank = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    core_enterprise = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    payer = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    amount = money_field(_("amount"))
    principal_part = money_field(_("principal"))
    late_interest_part = money_field(_("late interest"))
    paid_on = models.DateField(_("paid on"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    tenant_parties = ("applicant", "bank", "core_enterprise")

    class Meta:
        ordering = ["paid_on", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="repayment_positive"),
            models.CheckConstraint(
                condition=Q(amount=F("principal_part") + F("late_interest_part")),
                name="repayment_parts_add_up",
            ),
        ]


class RequestEvent(TransitionEvent, TenantModel):
    request = models.ForeignKey(FinancingRequest, on_delete=models.CASCADE, related_name="events")
    applicant = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    bank = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    core_enterprise = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")

    tenant_parties = ("applicant", "bank", "core_enterprise")
    append_only = True

    class Meta(TransitionEvent.Meta):
        pass
