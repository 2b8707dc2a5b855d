"""Django admin of the supply chain, for the platform operator (support and onboarding)."""

from django.contrib import admin

from suppliers.models import Invoice, InvoiceEvent, TradeLink


@admin.register(TradeLink)
class TradeLinkAdmin(admin.ModelAdmin):
    """Read-only: a link is made only through its service, which records it in the ledger."""

    list_display = ["core_enterprise", "counterparty", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["core_enterprise__name", "counterparty__name"]
    raw_id_fields = ["core_enterprise", "counterparty"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class InvoiceEventInline(admin.TabularInline):
    model = InvoiceEvent
    extra = 0
    can_delete = False
    fields = ["at", "actor", "actor_organization", "from_status", "to_status", "reason"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    """Read-only: an invoice changes only through its workflow, which writes its events."""

    list_display = ["number", "seller", "buyer", "amount", "currency", "due_date", "status"]
    list_filter = ["status", "source", "currency"]
    search_fields = ["number", "seller__name", "buyer__name"]
    date_hierarchy = "due_date"
    inlines = [InvoiceEventInline]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
