"""The baseline of the API overhead figure: the same invoice rows as `GET /api/v1/invoices/`,
read by a plain Django view and returned with JsonResponse. No DRF, no token, no pagination
count, no serializer: only the tenant scope that row-level security needs to return any row."""

from django.db.models import Q
from django.http import JsonResponse

from scf_platform.tenancy import Scope, scope_activated
from suppliers.models import Invoice

FIELDS = (
    "id",
    "number",
    "seller",
    "buyer",
    "issue_date",
    "due_date",
    "currency",
    "amount",
    "status",
    "dispute_reason",
    "confirmed_at",
    "created_at",
)


def bare_invoices(request):
    organization_id = int(request.GET["organization"])
    limit = min(int(request.GET.get("limit", 50)), 100)
    with scope_activated(Scope(organization_id=organization_id)):
        rows = list(
            Invoice.objects.filter(Q(seller_id=organization_id) | Q(buyer_id=organization_id))
            .order_by("-created_at", "-id")
            .values(*FIELDS)[:limit]
        )
    return JsonResponse({"results": rows})
