"""Serializers of the supply-chain API: trade links and invoices (input and output apart)."""

from rest_framework import serializers

from scf_platform.api.fields import MoneyField, VisibleRelatedField
from scf_platform.api.rows import RowListSerializer
from scf_platform.models import Organization
from suppliers.models import Invoice, LinkRole, TradeLink


class TradeLinkSerializer(serializers.ModelSerializer):
    organization = serializers.PrimaryKeyRelatedField(source="counterparty", read_only=True)

    class Meta:
        model = TradeLink
        fields = ["id", "core_enterprise", "organization", "role", "created_at"]
        read_only_fields = fields


class TradeLinkCreateSerializer(serializers.Serializer):
    # Any organization: a core enterprise links a supplier it does not trade with yet.
    organization = serializers.PrimaryKeyRelatedField(queryset=Organization.objects.all())
    role = serializers.ChoiceField(choices=LinkRole.choices)


class InvoiceSerializer(serializers.ModelSerializer):
    amount = MoneyField(read_only=True)
    term_days = serializers.IntegerField(read_only=True)
    exceeds_sme_payment_term = serializers.BooleanField(
        read_only=True,
        help_text="The term (due date minus issue date) is over 60 days, which the SME payment "
        "rule forbids a large buyer; flagged, never refused.",
    )

    class Meta:
        model = Invoice
        fields = [
            "id",
            "number",
            "seller",
            "buyer",
            "issue_date",
            "due_date",
            "currency",
            "amount",
            "status",
            "term_days",
            "exceeds_sme_payment_term",
            "dispute_reason",
            "confirmed_at",
            "created_at",
        ]
        read_only_fields = fields
        # A page of 50 invoices is written in a fraction of DRF's time, to the same JSON.
        list_serializer_class = RowListSerializer


class InvoiceCreateSerializer(serializers.Serializer):
    number = serializers.CharField(max_length=64)
    buyer = VisibleRelatedField(
        queryset=Organization.objects.all(),
        label_text="buyer",
        help_text="The buyer's organization id: a core enterprise you supply.",
    )
    issue_date = serializers.DateField()
    due_date = serializers.DateField()
    currency = serializers.CharField(min_length=3, max_length=3, help_text="ISO 4217, e.g. CNY.")
    amount = MoneyField()


class DisputeSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)
