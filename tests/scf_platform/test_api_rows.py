"""RowListSerializer writes a list exactly as DRF's ListSerializer would, byte for byte and key for
key: for the invoice list as served, in several time zones and with DRF's formats overridden, and
for every kind of field, those it writes itself and those it leaves to the request's serializer."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.utils import timezone
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from scf_platform.api.rows import RowListSerializer
from scf_platform.models import Role
from suppliers.api.serializers import InvoiceSerializer
from suppliers.models import Invoice, InvoiceSource, InvoiceStatus
from tests.factories import OrganizationFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoices():
    """Invoices that differ in every way a field's JSON can: confirmed or not (null), amounts at
    both ends and with a dropped trailing zero, times with and without microseconds and around
    midnight UTC, terms on both sides of 60 days, a dispute in Chinese."""
    seller, buyer = OrganizationFactory(), OrganizationFactory()
    actor = member(seller, Role.MAKER)
    issued = timezone.localdate()
    cases = [
        ("0.01", 30, InvoiceStatus.UPLOADED, "", None, datetime(2026, 3, 1, 0, 0, tzinfo=UTC)),
        ("1000.5", 61, InvoiceStatus.CONFIRMED, "", datetime(2026, 3, 2, 15, 59, 59), None),
        ("9999999999999999.99", 60, InvoiceStatus.DISPUTED, "金额不符 / wrong amount", None, None),
        ("125000.50", 0, InvoiceStatus.PAID, "", datetime(2026, 12, 31, 23, 0, 0, 1), None),
    ]
    made = []
    for n, (amount, days, status, reason, confirmed, created) in enumerate(cases):
        invoice = Invoice.objects.create(
            seller=seller,
            buyer=buyer,
            number=f"ROW-{n}",
            issue_date=issued,
            due_date=issued + timedelta(days=days),
            currency="CNY",
            amount=Decimal(amount),
            status=status,
            source=InvoiceSource.API,
            created_by=actor,
            confirmed_by=actor if confirmed else None,
            confirmed_at=confirmed and confirmed.replace(tzinfo=UTC),
            dispute_reason=reason,
        )
        if created:
            Invoice.objects.filter(pk=invoice.pk).update(created_at=created)
        made.append(invoice.pk)
    return list(Invoice.objects.filter(pk__in=made).order_by("pk"))


def written(serializer_class, rows, **kwargs) -> bytes:
    return JSONRenderer().render(serializer_class(rows, many=True, **kwargs).data)


def written_by_drf(serializer_class, rows, **kwargs) -> bytes:
    """What DRF itself writes: each row through the serializer's own to_representation()."""
    return JSONRenderer().render([serializer_class(row, **kwargs).data for row in rows])


def test_the_invoice_list_is_written_as_drf_writes_it(invoices):
    assert isinstance(InvoiceSerializer(invoices, many=True), RowListSerializer)
    assert written(InvoiceSerializer, invoices) == written_by_drf(InvoiceSerializer, invoices)
    with timezone.override("Asia/Shanghai"):
        first = InvoiceSerializer(invoices, many=True).data[0]
    assert list(first) == InvoiceSerializer.Meta.fields
    assert (first["amount"], first["confirmed_at"]) == ("0.01", None)
    assert first["created_at"] == "2026-03-01T08:00:00+08:00"


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Kathmandu"])
def test_times_are_written_in_the_active_time_zone_as_drf_writes_them(invoices, zone):
    with timezone.override(zone):
        assert written(InvoiceSerializer, invoices) == written_by_drf(InvoiceSerializer, invoices)
    with timezone.override("UTC"):
        first = InvoiceSerializer(invoices, many=True).data[0]
    assert first["created_at"] == "2026-03-01T00:00:00Z"


def test_drf_settings_changed_are_followed(invoices, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DATETIME_FORMAT": "%d.%m.%Y %H:%M",
        "DATE_FORMAT": "%d.%m.%Y",
        "COERCE_DECIMAL_TO_STRING": False,
    }
    ours = written(InvoiceSerializer, invoices)
    assert ours == written_by_drf(InvoiceSerializer, invoices)
    assert b'"created_at":"01.03.2026 08:00"' in ours


class EveryKindOfField(serializers.ModelSerializer):
    """Fields the rows write themselves and fields they leave to the request's serializer."""

    amount = serializers.DecimalField(max_digits=18, decimal_places=2, read_only=True)
    term_days = serializers.IntegerField(read_only=True)
    exceeds_sme_payment_term = serializers.BooleanField(read_only=True)
    # A dotted source, a nullable foreign key, a related row's slug.
    seller_name = serializers.CharField(source="seller.name", read_only=True)
    confirmed_by = serializers.PrimaryKeyRelatedField(read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    # Time zones and formats of the field's own.
    created_at_utc = serializers.DateTimeField(
        source="created_at", default_timezone=UTC, read_only=True
    )
    created_minute = serializers.DateTimeField(
        source="created_at", format="%Y-%m-%d %H:%M", read_only=True
    )
    issue_day = serializers.DateField(source="issue_date", format="%d/%m/%Y", read_only=True)
    # Reads the request's context; an attribute that is not there (DRF leaves the key out).
    viewer = serializers.SerializerMethodField()
    absent = serializers.CharField(source="no_such_attribute", read_only=True)
    amount_as_float = serializers.FloatField(source="amount", read_only=True)

    class Meta:
        model = Invoice
        fields = [
            "id",
            "number",
            "seller",
            "buyer",
            "issue_date",
            "issue_day",
            "amount",
            "amount_as_float",
            "status",
            "term_days",
            "exceeds_sme_payment_term",
            "dispute_reason",
            "seller_name",
            "confirmed_by",
            "created_by",
            "confirmed_at",
            "created_at",
            "created_at_utc",
            "created_minute",
            "viewer",
            "absent",
        ]
        read_only_fields = fields
        list_serializer_class = RowListSerializer

    def get_viewer(self, invoice) -> str:
        return f"{self.context['viewer']} sees {invoice.number}"


def test_every_kind_of_field_is_written_as_drf_writes_it(invoices):
    context = {"viewer": "Alice"}
    ours = written(EveryKindOfField, invoices, context=context)
    assert ours == written_by_drf(EveryKindOfField, invoices, context=context)
    row = EveryKindOfField(invoices, many=True, context=context).data[1]
    assert "absent" not in row
    assert row["viewer"] == "Alice sees ROW-1"
    assert row["created_by"] == invoices[1].created_by.username
    # Another request's context is its own: the columns made for the class hold none.
    other = EveryKindOfField(invoices, many=True, context={"viewer": "Bob"}).data[1]
    assert other["viewer"] == "Bob sees ROW-1"


def test_a_page_of_invoices_does_not_build_the_serializers_fields(invoices):
    assert InvoiceSerializer(invoices, many=True).data  # the class's columns, made once
    with mock.patch.object(InvoiceSerializer, "get_fields", side_effect=AssertionError):
        assert len(InvoiceSerializer(invoices, many=True).data) == len(invoices)


def test_a_manager_is_read_as_its_rows(invoices):
    seller = invoices[0].seller
    assert written(InvoiceSerializer, seller.invoices_sold) == written_by_drf(
        InvoiceSerializer, seller.invoices_sold.all()
    )


class MaskedAmount(InvoiceSerializer):
    """A child writing its rows itself: its list must say what its detail says."""

    def to_representation(self, instance):
        row = super().to_representation(instance)
        row["amount"] = "***"
        return row


class ShanghaiTimes(serializers.DateTimeField):
    def enforce_timezone(self, value):
        return value.astimezone(timezone.get_fixed_timezone(480))


class TimesInShanghai(InvoiceSerializer):
    created_at = ShanghaiTimes(read_only=True)


def test_a_child_that_writes_itself_or_a_field_with_its_own_zone_is_left_to_drf(invoices):
    assert written(MaskedAmount, invoices) == written_by_drf(MaskedAmount, invoices)
    assert MaskedAmount(invoices, many=True).data[0]["amount"] == "***"
    with timezone.override("UTC"):
        assert written(TimesInShanghai, invoices) == written_by_drf(TimesInShanghai, invoices)
        first = TimesInShanghai(invoices, many=True).data[0]
    assert first["created_at"] == "2026-03-01T08:00:00+08:00"


def test_rows_that_are_not_model_instances_are_written_as_drf_writes_them():
    rows = [{"id": 1, "number": "X", "confirmed_at": None}]
    assert written(InvoiceSerializer, rows) == written_by_drf(InvoiceSerializer, rows)
