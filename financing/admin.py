"""Django admin of financing, for the platform operator: read-only views of programs and
requests (money moves only through the workflow's services, which write the audit trail)."""

from django.contrib import admin

from financing.models import FinancingRequest, Program, ProgramParticipant, RequestEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ParticipantInline(admin.TabularInline):
    model = ProgramParticipant
    extra = 0
    fields = ["organization", "role", "limit", "utilized"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Program)
class ProgramAdmin(ReadOnlyAdmin):
    list_display = ["name", "bank", "core_enterprise", "currency", "credit_limit", "utilized"]
    list_filter = ["status", "day_count"]
    search_fields = ["name", "bank__name", "core_enterprise__name"]
    inlines = [ParticipantInline]


class RequestEventInline(admin.TabularInline):
    model = RequestEvent
    extra = 0
    fields = ["at", "actor", "actor_organization", "from_status", "to_status", "reason"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(FinancingRequest)
class FinancingRequestAdmin(ReadOnlyAdmin):
    list_display = [
        "pk",
        "applicant",
        "bank",
        "program",
        "requested_amount",
        "advance_amount",
        "status",
        "maturity_date",
    ]
    list_filter = ["status", "product"]
    search_fields = ["applicant__name", "bank__name", "program__name"]
    inlines = [RequestEventInline]
