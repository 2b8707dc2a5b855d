"""Django admin for the platform operator: organizations and memberships."""

from django.contrib import admin

from scf_platform.forms import ThrottledAdminAuthenticationForm
from scf_platform.models import Membership, Organization

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


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "role", "created_at"]
    list_filter = ["role", "organization__kind"]
    search_fields = ["user__username", "organization__name"]
    autocomplete_fields = ["user", "organization"]
