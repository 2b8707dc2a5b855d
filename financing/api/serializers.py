"""Serializers of the financing API: programs, participants, financing requests and their
actions, the approval queue (input and output apart)."""

from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from financing.models import (
    MAX_ADVANCE_RATE,
    MAX_RATE,
    MAX_REMINDER_DAYS,
    MAX_SLA_HOURS,
    MAX_TENOR_DAYS,
    Approval,
    DayCount,
    FinancingRequest,
    Product,
    Program,
    ProgramParticipant,
    Repayment,
    RequestEvent,
)
from financing.products.registry import product_choices
from financing.selectors import waiting_seconds
from financing.services.decisions import approvals_needed
from financing.services.money import amount_outstanding, request_quote
from scf_platform.api.fields import MAX_ID, MoneyField, VisibleRelatedField
from scf_platform.models import Organization
from suppliers.models import LinkRole

# Rates as the model stores them; DRF refuses more places than these with a 400.
# Yearly rates: the bounds of financing.models (the same for the portal and the service).
RATE_FIELD = {
    "max_digits": 7,
    "decimal_places": 6,
    "min_value": Decimal(0),
    "max_value": MAX_RATE - Decimal("0.000001"),
}


class ProgramSerializer(serializers.ModelSerializer):
    credit_limit = MoneyField(read_only=True)
    dual_approval_threshold = MoneyField(read_only=True)
    utilized = MoneyField(read_only=True)
    available = MoneyField(read_only=True)
    products = serializers.ListField(child=serializers.ChoiceField(choices=Product.choices))

    class Meta:
        model = Program
        fields = [
            "id",
            "name",
            "bank",
            "core_enterprise",
            "currency",
            "credit_limit",
            "utilized",
            "available",
            "advance_rate",
            "annual_rate",
            "late_rate",
            "day_count",
            "max_tenor_days",
            "dual_approval_threshold",
            "products",
            "sla_hours",
            "reminder_days",
            "status",
            "created_at",
        ]
        read_only_fields = fields


class ProgramCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    # Any enterprise: a bank sets up a line for a core enterprise it has no program with yet.
    core_enterprise = serializers.PrimaryKeyRelatedField(queryset=Organization.objects.all())
    currency = serializers.CharField(min_length=3, max_length=3, help_text="ISO 4217, e.g. CNY.")
    credit_limit = MoneyField()
    advance_rate = serializers.DecimalField(
        max_digits=5,
        decimal_places=4,
        min_value=Decimal("0.0001"),
        max_value=MAX_ADVANCE_RATE,
        help_text='"0.90" lends 90% of the invoices.',
    )
    annual_rate = serializers.DecimalField(**RATE_FIELD, help_text='"0.0435" is 4.35% a year.')
    late_rate = serializers.DecimalField(
        **RATE_FIELD,
        required=False,
        allow_null=True,
        help_text="A yearly rate on overdue principal; the annual rate when left out.",
    )
    day_count = serializers.ChoiceField(choices=DayCount.choices, default=DayCount.ACT_360)
    max_tenor_days = serializers.IntegerField(min_value=1, max_value=MAX_TENOR_DAYS)
    dual_approval_threshold = MoneyField(
        allow_zero=True, help_text="Amounts above it need two different bank checkers."
    )
    # Only the registered products: one not built yet is a 400.
    products = serializers.ListField(
        child=serializers.ChoiceField(choices=product_choices()), allow_empty=False
    )
    sla_hours = serializers.IntegerField(min_value=1, max_value=MAX_SLA_HOURS, required=False)
    reminder_days = serializers.IntegerField(
        min_value=0, max_value=MAX_REMINDER_DAYS, required=False
    )


class ParticipantSerializer(serializers.ModelSerializer):
    limit = MoneyField(read_only=True, allow_null=True)
    utilized = MoneyField(read_only=True)
    available = MoneyField(read_only=True, allow_null=True)

    class Meta:
        model = ProgramParticipant
        fields = [
            "id",
            "program",
            "organization",
            "role",
            "limit",
            "utilized",
            "available",
            "created_at",
        ]
        read_only_fields = fields


class ParticipantCreateSerializer(serializers.Serializer):
    organization = serializers.PrimaryKeyRelatedField(queryset=Organization.objects.all())
    role = serializers.ChoiceField(choices=LinkRole.choices)
    limit = MoneyField(required=False, allow_null=True, help_text="An optional sub-limit.")


class QuoteSerializer(serializers.Serializer):
    """The schema of `request_quote(...).as_dict()`."""

    advance_amount = serializers.DecimalField(max_digits=18, decimal_places=2)
    discount_amount = serializers.DecimalField(max_digits=18, decimal_places=2)
    net_proceeds = serializers.DecimalField(max_digits=18, decimal_places=2)
    annual_rate = serializers.DecimalField(max_digits=7, decimal_places=6)
    days = serializers.IntegerField()
    day_count = serializers.ChoiceField(choices=DayCount.choices)
    apr = serializers.DecimalField(max_digits=9, decimal_places=6)
    value_date = serializers.DateField()
    maturity_date = serializers.DateField()


class UsernameField(serializers.SlugRelatedField):
    def __init__(self, **kwargs) -> None:
        super().__init__(slug_field="username", read_only=True, **kwargs)


class RequestEventSerializer(serializers.ModelSerializer):
    actor = UsernameField(allow_null=True)

    class Meta:
        model = RequestEvent
        fields = [
            "at",
            "from_status",
            "to_status",
            "actor",
            "actor_organization",
            "reason",
            "details",
        ]
        read_only_fields = fields


class ApprovalSerializer(serializers.ModelSerializer):
    checker = UsernameField()

    class Meta:
        model = Approval
        fields = ["checker", "comment", "created_at"]
        read_only_fields = fields


class RepaymentSerializer(serializers.ModelSerializer):
    amount = MoneyField(read_only=True)
    principal_part = MoneyField(read_only=True)
    late_interest_part = MoneyField(read_only=True)
    recorded_by = UsernameField()

    class Meta:
        model = Repayment
        fields = [
            "id",
            "request",
            "payer",
            "amount",
            "principal_part",
            "late_interest_part",
            "paid_on",
            "recorded_by",
            "created_at",
        ]
        read_only_fields = fields


class CollateralSerializer(serializers.Serializer):
    invoice = serializers.IntegerField(source="invoice_id")
    number = serializers.CharField(source="invoice.number")
    amount = MoneyField(source="invoice.amount", read_only=True)
    due_date = serializers.DateField(source="invoice.due_date")
    status = serializers.CharField(source="invoice.status")
    held = serializers.BooleanField(
        source="active", help_text="Held for this request now (submitted and not yet freed)."
    )


class FinancingRequestSerializer(serializers.ModelSerializer):
    requested_amount = MoneyField(read_only=True)
    invoices = serializers.SerializerMethodField()
    collateral = CollateralSerializer(source="receivable_holds", many=True, read_only=True)
    quote = serializers.SerializerMethodField()
    outstanding = serializers.SerializerMethodField()
    principal_outstanding = MoneyField(read_only=True)
    repaid_amount = MoneyField(read_only=True)
    approvals_needed = serializers.SerializerMethodField()
    approvals = ApprovalSerializer(many=True, read_only=True)
    repayments = RepaymentSerializer(many=True, read_only=True)
    events = RequestEventSerializer(many=True, read_only=True)

    class Meta:
        model = FinancingRequest
        fields = [
            "id",
            "product",
            "program",
            "applicant",
            "bank",
            "core_enterprise",
            "currency",
            "requested_amount",
            "invoices",
            "collateral",
            "status",
            "quote",
            "screening",
            "approvals_needed",
            "approvals",
            "principal_outstanding",
            "repaid_amount",
            "outstanding",
            "repayments",
            "value_date",
            "maturity_date",
            "created_at",
            "submitted_at",
            "decided_at",
            "disbursed_at",
            "settled_at",
            "events",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_invoices(self, request: FinancingRequest) -> list[int]:
        return sorted(hold.invoice_id for hold in request.receivable_holds.all())

    @extend_schema_field(QuoteSerializer(allow_null=True))
    def get_quote(self, request: FinancingRequest) -> dict | None:
        quote = request_quote(request)
        return quote.as_dict() if quote is not None else None

    @extend_schema_field(
        serializers.DecimalField(
            max_digits=18,
            decimal_places=2,
            help_text="Principal and late interest owed now (zero before disbursement).",
        )
    )
    def get_outstanding(self, request: FinancingRequest) -> str:
        return str(amount_outstanding(request))

    @extend_schema_field(serializers.IntegerField())
    def get_approvals_needed(self, request: FinancingRequest) -> int:
        return approvals_needed(request)


class FinancingRequestCreateSerializer(serializers.Serializer):
    product = serializers.ChoiceField(choices=product_choices())
    program = VisibleRelatedField(queryset=Program.objects.all(), label_text="program")
    requested_amount = MoneyField()
    invoices = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        max_length=500,
        help_text="Ids of your confirmed invoices owed by the program's core enterprise.",
    )


class ApproveSerializer(serializers.Serializer):
    comment = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class DisburseSerializer(serializers.Serializer):
    value_date = serializers.DateField(
        required=False, allow_null=True, help_text="Today (the business date) when left out."
    )


class RepaySerializer(serializers.Serializer):
    amount = MoneyField()
    paid_on = serializers.DateField()


class ApprovalQueueItemSerializer(serializers.ModelSerializer):
    requested_amount = MoneyField(read_only=True)
    advance_amount = MoneyField(read_only=True)
    waiting_seconds = serializers.SerializerMethodField()
    approvals_needed = serializers.SerializerMethodField()
    approvals = serializers.SerializerMethodField(help_text="Approvals recorded so far.")

    class Meta:
        model = FinancingRequest
        fields = [
            "id",
            "product",
            "program",
            "applicant",
            "core_enterprise",
            "currency",
            "requested_amount",
            "advance_amount",
            "maturity_date",
            "queued_at",
            "waiting_seconds",
            "approvals_needed",
            "approvals",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.IntegerField())
    def get_waiting_seconds(self, request: FinancingRequest) -> int:
        # One clock for the whole page, so that the items' waits compare exactly.
        return waiting_seconds(request, now=self.context.get("now"))

    @extend_schema_field(serializers.IntegerField())
    def get_approvals_needed(self, request: FinancingRequest) -> int:
        return approvals_needed(request)

    @extend_schema_field(serializers.IntegerField())
    def get_approvals(self, request: FinancingRequest) -> int:
        return len(request.approvals.all())
