"""API endpoints of the platform core: token, me, organizations, members."""

from collections.abc import Mapping

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, Throttled, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle

from scf_platform import services
from scf_platform.api.parsers import DepthLimitedJSONParser
from scf_platform.api.permissions import allowed_by
from scf_platform.api.serializers import (
    MemberCreateSerializer,
    MemberSerializer,
    MeSerializer,
    OrganizationCreateSerializer,
    OrganizationSerializer,
)
from scf_platform.api.views import ActingAPIView, TenantViewSet
from scf_platform.models import Membership, Organization
from scf_platform.policy import may_create_organization, may_manage_members, require
from scf_platform.throttle import login_blocked, login_failed, login_succeeded


class TokenView(ObtainAuthToken):
    """Exchange a username and password for an API token."""

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"
    # ObtainAuthToken names its own parsers, DRF's plain JSONParser among them.
    parser_classes = [DepthLimitedJSONParser, FormParser, MultiPartParser]

    @extend_schema(
        request=inline_serializer(
            "TokenRequest",
            {"username": serializers.CharField(), "password": serializers.CharField()},
        ),
        responses=inline_serializer("TokenResponse", {"token": serializers.CharField()}),
    )
    def post(self, request, *args, **kwargs):
        # Slowed down per username and per client address, as the portal's sign-in is: while a
        # wait lasts the password is not checked, the right one gives no token either.
        data = request.data
        username = str(data.get("username", "")) if isinstance(data, Mapping) else ""
        wait = login_blocked(request=request, username=username)
        if wait:
            raise Throttled(wait=wait, detail="Too many failed sign-ins; try again later.")
        try:
            response = super().post(request, *args, **kwargs)
        except ValidationError:
            login_failed(request=request, username=username)
            raise
        login_succeeded(request=request, username=username)
        return response


class MeView(ActingAPIView):
    @extend_schema(responses=MeSerializer)
    def get(self, request):
        acting = request.acting
        data = {
            "username": request.user.username,
            "is_operator": acting.is_operator,
            "acting_organization": acting.organization,
            "memberships": acting.memberships,
        }
        return Response(MeSerializer(data).data)


class OrganizationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """The acting organization and its counterparties; the operator sees and creates all."""

    serializer_class = OrganizationSerializer
    queryset = Organization.objects.all()
    operator_sees_all = True
    filterset_fields = ["kind", "status"]

    def get_permissions(self):
        if self.action == "create":
            return [IsAuthenticated(), allowed_by(may_create_organization)()]
        return super().get_permissions()

    @extend_schema(request=OrganizationCreateSerializer, responses={201: OrganizationSerializer})
    def create(self, request):
        serializer = OrganizationCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        organization = services.organization_create(
            actor=request.user,
            acting_for=request.acting.organization,
            **serializer.validated_data,
        )
        return Response(OrganizationSerializer(organization).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], responses=MemberSerializer(many=True))
    @extend_schema(
        methods=["POST"], request=MemberCreateSerializer, responses={201: MemberSerializer}
    )
    @action(detail=True, methods=["get", "post"])
    def members(self, request, pk=None):
        organization = self.get_object()
        if request.method == "GET":
            if not (request.acting.organization == organization or request.acting.is_operator):
                raise PermissionDenied("Only members of an organization see its members.")
            members = Membership.objects.filter(organization=organization).select_related("user")
            page = self.paginate_queryset(members)
            return self.get_paginated_response(MemberSerializer(page, many=True).data)
        require(may_manage_members, request.acting, organization)
        serializer = MemberCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = services.member_add(
            organization=organization,
            actor=request.user,
            acting_for=request.acting.organization,
            **serializer.validated_data,
        )
        return Response(MemberSerializer(membership).data, status=status.HTTP_201_CREATED)
