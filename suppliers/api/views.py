"""API views of the supply chain: trade links and invoices (upload, confirm, dispute)."""

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from scf_platform.api.permissions import allowed_by
from scf_platform.api.views import IDEMPOTENCY_KEY, PartyListModelMixin, RoleCheckedViewSet
from scf_platform.idempotency import idempotent
from scf_platform.policy import (
    may_confirm_invoice,
    may_create_trade_link,
    may_dispute_invoice,
    may_upload_invoices,
)
from suppliers import services
from suppliers.api.serializers import (
    DisputeSerializer,
    InvoiceCreateSerializer,
    InvoiceSerializer,
    TradeLinkCreateSerializer,
    TradeLinkSerializer,
)
from suppliers.models import Invoice, InvoiceStatus, TradeLink


class TradeLinkViewSet(mixins.ListModelMixin, RoleCheckedViewSet):
    """Who trades with whom: the acting enterprise's links, as core enterprise or counterparty."""

    queryset = TradeLink.objects.select_related("core_enterprise", "counterparty").order_by("pk")
    serializer_class = TradeLinkSerializer
    filterset_fields = ["role", "core_enterprise"]
    roles_by_action = {"create": allowed_by(may_create_trade_link)}

    @extend_schema(
        request=TradeLinkCreateSerializer,
        responses={201: TradeLinkSerializer},
        parameters=[IDEMPOTENCY_KEY],
        description="The acting enterprise, as core enterprise, links an enterprise as its "
        "`supplier` or `distributor`. Linking twice returns the existing link.",
    )
    @idempotent
    def create(self, request, *args, **kwargs):
        serializer = TradeLinkCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        link = services.trade_link_create(
            core_enterprise=self.organization,
            counterparty=serializer.validated_data["organization"],
            role=serializer.validated_data["role"],
            actor=request.user,
        )
        return Response(TradeLinkSerializer(link).data, status=status.HTTP_201_CREATED)


class InvoiceFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=InvoiceStatus.choices)
    # ?due_date_after=YYYY-MM-DD&due_date_before=YYYY-MM-DD, both ends included.
    due_date = filters.DateFromToRangeFilter()

    class Meta:
        model = Invoice
        fields = ["status", "buyer", "seller", "due_date"]


@extend_schema_view(
    list=extend_schema(description="Invoices the acting organization sold or bought."),
)
class InvoiceViewSet(PartyListModelMixin, mixins.RetrieveModelMixin, RoleCheckedViewSet):
    """Receivables: the seller uploads them, the buyer confirms (确权) or disputes them. The list
    reads the invoices sold and those bought apart and merges them (PartyListModelMixin)."""

    queryset = Invoice.objects.all()
    serializer_class = InvoiceSerializer
    filterset_class = InvoiceFilter
    roles_by_action = {
        "create": allowed_by(may_upload_invoices),
        "confirm": allowed_by(may_confirm_invoice),
        "dispute": allowed_by(may_dispute_invoice),
    }

    @extend_schema(
        request=InvoiceCreateSerializer,
        responses={201: InvoiceSerializer},
        parameters=[IDEMPOTENCY_KEY],
        description="The acting enterprise (the seller) uploads an invoice to a core enterprise "
        "it supplies. A second invoice with the same number answers 400.",
    )
    @idempotent
    def create(self, request, *args, **kwargs):
        serializer = InvoiceCreateSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        invoice = services.invoice_create(
            seller=self.organization, actor=request.user, **serializer.validated_data
        )
        return Response(InvoiceSerializer(invoice).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={200: InvoiceSerializer},
        parameters=[IDEMPOTENCY_KEY],
        description="The buyer's irrevocable undertaking to pay the amount at the due date to "
        "whoever holds the receivable.",
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def confirm(self, request, pk=None):
        invoice = services.invoice_confirm(
            invoice_id=self.get_object().pk, buyer=self.organization, actor=request.user
        )
        return Response(InvoiceSerializer(invoice).data)

    @extend_schema(
        request=DisputeSerializer,
        responses={200: InvoiceSerializer},
        parameters=[IDEMPOTENCY_KEY],
        description="The buyer disputes an uploaded invoice, saying why.",
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def dispute(self, request, pk=None):
        invoice_id = self.get_object().pk
        serializer = DisputeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        invoice = services.invoice_dispute(
            invoice_id=invoice_id,
            buyer=self.organization,
            actor=request.user,
            reason=serializer.validated_data["reason"],
        )
        return Response(InvoiceSerializer(invoice).data)
