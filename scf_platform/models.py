"""The tenants (organizations), the people acting for them (memberships), and the tenant base."""

from typing import ClassVar

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from scf_platform.credit_code import validate_credit_code


class OrganizationKind(models.TextChoices):
    ENTERPRISE = "enterprise", _("Enterprise")
    BANK = "bank", _("Bank")
    WAREHOUSE = "warehouse", _("Warehouse")
    OPERATOR = "operator", _("Platform operator")


class OrganizationStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    MAKER = "maker", _("Maker")
    CHECKER = "checker", _("Checker")
    VIEWER = "viewer", _("Viewer")


_counterparty_providers: list = []


def register_counterparties(provider) -> None:
    """Let a higher app say who an organization trades with.

    `provider(organization)` returns a queryset of organization ids; suppliers (links) and
    financing (programs) register theirs, so this module never imports them.
    """
    _counterparty_providers.append(provider)


class OrganizationQuerySet(models.QuerySet):
    def visible_to(self, organization: "Organization | None") -> "OrganizationQuerySet":
        if organization is None:
            return self.none()
        if organization.kind == OrganizationKind.OPERATOR:
            return self.all()
        condition = Q(pk=organization.pk)
        for provider in _counterparty_providers:
            condition |= Q(pk__in=provider(organization))
        return self.filter(condition)


class Organization(models.Model):
    """A tenant: an enterprise (core, supplier or distributor by link), a bank, a warehouse."""

    kind = models.CharField(_("kind"), max_length=16, choices=OrganizationKind.choices)
    name = models.CharField(_("name"), max_length=200)
    credit_code = models.CharField(
        _("unified social credit code"),
        max_length=18,
        unique=True,
        validators=[validate_credit_code],
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=OrganizationStatus.choices,
        default=OrganizationStatus.ACTIVE,
    )
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default="zh-hans"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == OrganizationStatus.ACTIVE


class TenantQuerySet(models.QuerySet):
    def visible_to(self, organization: Organization | None) -> "TenantQuerySet":
        """The rows the organization is a party to: the application's wall; RLS is the second."""
        if organization is None:
            return self.none()
        condition = Q()
        for party in self.model.tenant_parties:
            condition |= self.model.tenant_party_condition(party, organization)
        return self.filter(condition)

    def where_party(self, party: str, organization: Organization | None) -> "TenantQuerySet":
        """The rows where the organization is `party` (one of tenant_parties): part of
        visible_to(), and one index range (`party = X`) to PostgreSQL. Reads of one side
        (the invoices a supplier sold) take this rather than visible_to().filter(party=...),
        whose OR the planner misjudges and answers by reading every row of the organization."""
        if party not in self.model.tenant_parties:
            raise ValueError(f"{party!r} is not a tenant party of {self.model.__name__}")
        if organization is None:
            return self.none()
        return self.filter(self.model.tenant_party_condition(party, organization))

    def visible_parts(self, organization: Organization | None) -> list["TenantQuerySet"]:
        """visible_to() as disjoint querysets, one a party: the rows where the organization is
        the first party, then those where it is the second and not the first, and so on. Their
        union is exactly visible_to(); each is one index range (`party = X`), where the OR of
        visible_to() leaves PostgreSQL no index that holds the rows in order."""
        if organization is None:
            return [self.none()]
        parts, earlier = [], Q()
        for party in self.model.tenant_parties:
            part = self.where_party(party, organization)
            parts.append(part.exclude(earlier) if earlier else part)
            earlier |= self.model.tenant_party_condition(party, organization)
        return parts


class TenantModel(models.Model):
    """Base of every table holding tenant data.

    `tenant_parties` names the foreign keys to Organization whose holders may see a row. That one
    line feeds both walls: `visible_to()` here and the row-level security policy (scf_platform.rls).
    """

    tenant_parties: ClassVar[tuple[str, ...]] = ()
    # Parties that do not see a row yet: {party: (field, values)}: the party sees the row only
    # while `field` holds none of `values`, or (values None) once `field` is set (a draft
    # request and its collateral are the applicant's alone). Both walls read it, as they read
    # `tenant_parties`.
    tenant_hidden_from: ClassVar[dict[str, tuple[str, tuple[str, ...] | None]]] = {}
    # An extra SQL condition for the policy, for visibility not expressed by a party column.
    tenant_rls_extra_sql: ClassVar[str] = ""
    # Append-only tables: the application role may insert and read, never update or delete.
    append_only: ClassVar[bool] = False
    # Rows any scope may insert but only their parties read (notices to another organization).
    tenant_insert_for_any: ClassVar[bool] = False

    objects = TenantQuerySet.as_manager()

    class Meta:
        abstract = True

    @classmethod
    def tenant_party_condition(cls, party: str, organization: "Organization") -> Q:
        """The rows `organization` sees as `party`: the party's column, less what
        `tenant_hidden_from` keeps from that party."""
        condition = Q(**{party: organization})
        hidden = cls.tenant_hidden_from.get(party)
        if hidden is not None:
            field, values = hidden
            if values is None:
                condition &= Q(**{f"{field}__isnull": False})
            else:
                condition &= ~Q(**{f"{field}__in": values})
        return condition


class MembershipQuerySet(TenantQuerySet):
    def for_user(self, user) -> "MembershipQuerySet":
        return self.filter(user=user).select_related("organization")


class Membership(TenantModel):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    tenant_parties = ("organization",)
    # A user must be able to read its own memberships before an organization is chosen.
    tenant_rls_extra_sql = "user_id = (select scf_current_user())"

    objects = MembershipQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="one_membership_per_org")
        ]
        ordering = ["organization__name", "user__username"]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization} ({self.role})"


class TransitionEvent(models.Model):
    """Base of the audit tables: who, for which organization, when, from which state to which,
    and why. Written in the same transaction as the change it records."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)
    from_status = models.CharField(max_length=24, blank=True)
    to_status = models.CharField(max_length=24)
    reason = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        abstract = True
        ordering = ["at", "id"]


class Notification(TenantModel):
    """An in-app notice to an organization (optionally to members of some roles only)."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="notifications"
    )
    roles = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    link = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_by = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")

    # notify() writes a notice in the recipient's scope, so the ordinary policy suffices.
    tenant_parties = ("organization",)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "-created_at"])]

    def __str__(self) -> str:
        return self.subject


class IdempotencyRecord(TenantModel):
    """The first response to an action sent with an `Idempotency-Key`; the unique constraint is
    what makes concurrent repeats wait for, and then return, the first one's answer."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(auto_now_add=True)

    tenant_parties = ("organization",)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "key"], name="one_use_per_key")
        ]

    def __str__(self) -> str:
        return self.key
