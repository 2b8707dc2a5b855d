"""The supply chain: trade links between core enterprises and their suppliers or distributors,
and the invoices of that trade."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from scf_platform.models import Organization, TenantModel, TransitionEvent

# The SME payment rule (保障中小企业款项支付条例): large buyers pay SMEs within 60 days.
SME_PAYMENT_TERM_DAYS = 60


class LinkRole(models.TextChoices):
    SUPPLIER = "supplier", _("Supplier")
    DISTRIBUTOR = "distributor", _("Distributor")


class TradeLink(TenantModel):
    """A core enterprise trades with a counterparty as its supplier or its distributor; the same
    enterprise may be a supplier in one link and a distributor in another."""

    core_enterprise = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="links_as_core"
    )
    counterparty = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="links_as_counterparty"
    )
    role = models.CharField(_("role"), max_length=16, choices=LinkRole.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    tenant_parties = ("core_enterprise", "counterparty")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["core_enterprise", "counterparty", "role"], name="one_link_per_role"
            ),
            models.CheckConstraint(
                condition=~Q(core_enterprise=F("counterparty")), name="link_between_two"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.counterparty} → {self.core_enterprise} ({self.role})"


class InvoiceStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    CONFIRMED = "confirmed", _("Confirmed")
    DISPUTED = "disputed", _("Disputed")
    FINANCED = "financed", _("Financed")
    PAID = "paid", _("Paid")
    # In the API contract (API.md, Invoices) though no service sets it yet: kept so that a client
    # filtering by it gets an empty list, not a 400.
    CANCELLED = "cancelled", _("Cancelled")


class InvoiceSource(models.TextChoices):
    API = "api", _("API")
    PORTAL = "portal", _("Portal form")
    CSV = "csv", _("CSV file")
    UBL = "ubl", _("UBL XML file")


class Invoice(TenantModel):
    """A receivable: what the buyer owes the seller, and (once confirmed) undertakes to pay."""

    # No index of their own: each leads invoice_by_seller / invoice_by_buyer (below).
    seller = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="invoices_sold", db_index=False
    )
    buyer = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="invoices_bought", db_index=False
    )
    number = models.CharField(_("number"), max_length=64)
    issue_date = models.DateField(_("issue date"))
    due_date = models.DateField(_("due date"))
    currency = models.CharField(_("currency"), max_length=3)
    amount = models.DecimalField(_("amount"), max_digits=18, decimal_places=2)
    status = models.CharField(
        _("status"), max_length=16, choices=InvoiceStatus.choices, default=InvoiceStatus.UPLOADED
    )
    source = models.CharField(max_length=8, choices=InvoiceSource.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    dispute_reason = models.TextField(blank=True)

    tenant_parties = ("seller", "buyer")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["seller", "number"], name="invoice_number_per_seller"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="invoice_amount_positive"),
            models.CheckConstraint(
                condition=Q(due_date__gte=F("issue_date")), name="invoice_due_not_before_issue"
            ),
            models.CheckConstraint(condition=~Q(seller=F("buyer")), name="invoice_two_parties"),
        ]
        indexes = [
            models.Index(fields=["seller", "status", "-created_at"]),
            models.Index(fields=["buyer", "status", "-created_at"]),
            # The invoice list, one party at a time (TenantQuerySet.visible_parts): each index
            # holds a party's invoices in the list's order; the other party at the end (which
            # the row-level security policy reads) lets the list's count skip the table.
            models.Index(
                fields=["seller", "-created_at", "-id", "buyer"], name="invoice_by_seller"
            ),
            models.Index(fields=["buyer", "-created_at", "-id", "seller"], name="invoice_by_buyer"),
        ]

    def __str__(self) -> str:
        return f"{self.number} ({self.seller} → {self.buyer})"

    @property
    def term_days(self) -> int:
        return (self.due_date - self.issue_date).days

    @property
    def exceeds_sme_payment_term(self) -> bool:
        """Flagged, never refused: a term over 60 days breaches the SME payment rule."""
        return self.term_days > SME_PAYMENT_TERM_DAYS


class InvoiceEvent(TransitionEvent, TenantModel):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="events")
    seller = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    buyer = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")

    tenant_parties = ("seller", "buyer")
    append_only = True

    class Meta(TransitionEvent.Meta):
        pass
