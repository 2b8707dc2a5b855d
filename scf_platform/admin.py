"""Django admin for the platform operator: organizations and memberships."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from scf_platform.forms import ThrottledAdminAuthenticationForm
from scf_platform.models import Membership, Organization, OrganizationStatus
from scf_platform.services import organization_status_change

# /admin/login/ is slowed down against password guessing as the portal's sign-in is.
admin.site.login_form = ThrottledAdminAuthenticationForm


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "credit_code", "status", "created_at"]
    list_filter = ["kind", "status"]
    search_fields = ["name", "credit_code"]
    inlines = [MembershipInline]
    # The status changes only through its service (the actions below), which records it.
    readonly_fields = ["status"]
    actions = ["suspend", "reinstate"]

    @admin.action(description=_("Suspend the selected organizations"))
    def suspend(self, request, queryset) -> None:
        for pk in queryset.values_list("pk", flat=True):
            organization_status_change(
                organization_id=pk, status=OrganizationStatus.SUSPENDED, actor=request.user
            )

    @admin.action(description=_("Reinstate the selected organizations"))
    def reinstate(self, request, queryset) -> None:
        for pk in queryset.values_list("pk", flat=True):
            organization_status_change(
                organization_id=pk, status=OrganizationStatus.ACTIVE, actor=request.user
            )


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "role", "created_at"]
    list_filter = ["role", "organization__kind"]
    search_fields = ["user__username", "organization__name"]
    autocomplete_fields = ["user", "organization"]
