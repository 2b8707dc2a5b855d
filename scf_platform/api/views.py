"""Base API views: resolve the acting organization after authentication, scope every queryset."""

from collections.abc import Callable

from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions, mixins, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.views import APIView

from scf_platform.acting import SESSION_KEY, ActingOrganizationError, resolve_acting
from scf_platform.api.fields import ExactJSONParser
from scf_platform.api.filters import ListFilterBackend
from scf_platform.api.pagination import DisjointUnion
from scf_platform.api.permissions import ActsForOrganization

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="A repeat with the same key and body returns the first response and does "
    "nothing again; the same key with another body answers 422.",
)


class ActingOrganizationMixin:
    """Resolves `request.acting` once, right after DRF authenticates the user."""

    def perform_authentication(self, request) -> None:
        super().perform_authentication(request)
        request.acting = None
        if not request.user.is_authenticated:
            return
        requested = request.headers.get("X-Organization")
        if requested is None and isinstance(
            request.successful_authenticator, SessionAuthentication
        ):
            # A signed-in browser acts for the organization chosen in the portal.
            requested = request.session.get(SESSION_KEY)
        try:
            request.acting = resolve_acting(request.user, requested=requested)
        except ActingOrganizationError as error:
            if error.forbidden:
                raise exceptions.PermissionDenied(str(error)) from None
            raise exceptions.ValidationError({"X-Organization": [str(error)]}) from None

    @property
    def acting(self):
        return self.request.acting

    @property
    def organization(self):
        return self.request.acting.organization if self.request.acting else None


class ActingAPIView(ActingOrganizationMixin, APIView):
    permission_classes = [IsAuthenticated]


class TenantViewSet(ActingOrganizationMixin, viewsets.GenericViewSet):
    """Every tenant endpoint derives from this. It owns `get_queryset`: subclasses give
    `base_queryset()` and the scoping to the acting organization is applied here, always, so an
    object the organization is not a party to answers 404."""

    permission_classes = [IsAuthenticated, ActsForOrganization]
    filter_backends = [ListFilterBackend]

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        for scoping in ("get_queryset", "get_queryset_parts"):
            if scoping in cls.__dict__:
                raise TypeError(
                    f"{cls.__name__} overrides {scoping}; give base_queryset() instead so that "
                    "tenant scoping cannot be skipped"
                )

    queryset = None
    # Directory-like endpoints (organizations) are open in full to the platform operator.
    operator_sees_all = False

    def base_queryset(self):
        if self.queryset is None:
            raise ImproperlyConfigured(f"{type(self).__name__} needs queryset or base_queryset()")
        return self.queryset.all()

    def get_queryset(self):
        if self.operator_sees_all and self.acting.is_operator:
            return self.base_queryset()
        return self.base_queryset().visible_to(self.organization)

    def get_queryset_parts(self, refine: Callable[[QuerySet], QuerySet] | None = None) -> list:
        """get_queryset() as disjoint querysets whose union it is (TenantQuerySet.visible_parts).
        `refine` (a list's filter backends, which add conditions and read no rows) runs once,
        before the split; the scoping is applied to what it returns."""
        queryset = self.base_queryset()
        if refine is not None:
            queryset = refine(queryset)
        if self.operator_sees_all and self.acting.is_operator:
            return [queryset]
        return queryset.visible_parts(self.organization)


class PartyListModelMixin(mixins.ListModelMixin):
    """`list` for a TenantViewSet whose rows an organization holds as one party or another (an
    invoice's seller or buyer): each party's rows are filtered and read on their own, through an
    index in the list's order, and merged; so a page and its count cost what the page needs, not
    what the organization has accumulated. Answers exactly what ListModelMixin would."""

    def list(self, request, *args, **kwargs):
        if self.paginator is None:
            # Unpaged: one OR query.
            return super().list(request, *args, **kwargs)
        parts = self.get_queryset_parts(refine=self.filter_queryset)
        page = self.paginate_queryset(DisjointUnion(parts))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class RoleCheckedViewSet(TenantViewSet):
    """A tenant viewset whose actions each name the role policy's rule that lets a member take
    them; reads need only an acting organization. Amounts are parsed exactly."""

    parser_classes = [ExactJSONParser, FormParser, MultiPartParser]
    # action name -> permission class from allowed_by(may_<action>)
    roles_by_action: dict = {}

    def get_permissions(self):
        permissions = super().get_permissions()
        required = self.roles_by_action.get(self.action)
        if required is not None:
            permissions.append(required())
        return permissions
