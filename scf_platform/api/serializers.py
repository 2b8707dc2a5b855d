"""Serializers of the platform core's API."""

from rest_framework import serializers

from scf_platform.models import Membership, Organization, OrganizationKind, Role


class OrganizationBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = ["id", "name", "kind"]


class OrganizationSerializer(serializers.ModelSerializer):
    """An organization as answered: of any kind, the operator's own included."""

    class Meta:
        model = Organization
        fields = ["id", "name", "kind", "credit_code", "status", "language", "created_at"]
        read_only_fields = fields


class OrganizationCreateSerializer(serializers.ModelSerializer):
    """What the operator sends to create one: any kind but the operator."""

    kind = serializers.ChoiceField(
        choices=[k for k in OrganizationKind.choices if k[0] != OrganizationKind.OPERATOR]
    )

    class Meta:
        model = Organization
        fields = ["name", "kind", "credit_code", "language"]


class MembershipOfUserSerializer(serializers.ModelSerializer):
    organization = OrganizationBriefSerializer()

    class Meta:
        model = Membership
        fields = ["organization", "role"]


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    is_operator = serializers.BooleanField()
    acting_organization = OrganizationBriefSerializer(allow_null=True)
    memberships = MembershipOfUserSerializer(many=True)


class MemberSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username")
    email = serializers.EmailField(source="user.email")

    class Meta:
        model = Membership
        fields = ["id", "username", "email", "role", "created_at"]


class MemberCreateSerializer(serializers.Serializer):
    username = serializers.RegexField(r"^[\w.@+-]+\Z", max_length=150)
    email = serializers.EmailField()
    password = serializers.CharField(write_only=True, style={"input_type": "password"})
    role = serializers.ChoiceField(choices=Role.choices)
