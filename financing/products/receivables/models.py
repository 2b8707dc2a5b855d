"""The receivables product's hold table: which invoices a request holds as its collateral."""

from django.db import models
from django.db.models import Q

from financing.models import FinancingRequest
from scf_platform.models import Organization, TenantModel
from suppliers.models import Invoice


class ReceivableHold(TenantModel):
    """An invoice held as collateral by a request. At most one active hold per invoice: the
    partial unique index decides any race between two requests, whoever their banks are."""

    request = models.ForeignKey(
        FinancingRequest, on_delete=models.CASCADE, related_name="receivable_holds"
    )
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="receivable_holds")
    applicant = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    bank = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    core_enterprise = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    active = models.BooleanField(default=False)
    held_at = models.DateTimeField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)

    tenant_parties = ("applicant", "bank", "core_enterprise")
    # A draft's collateral is its applicant's until submitted (held_at is set then, and kept).
    tenant_hidden_from = {"bank": ("held_at", None), "core_enterprise": ("held_at", None)}

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["request", "invoice"], name="receivable_once_per_request"
            ),
            models.UniqueConstraint(
                fields=["invoice"],
                condition=Q(active=True),
                name="one_active_receivable_hold_per_invoice",
            ),
        ]
