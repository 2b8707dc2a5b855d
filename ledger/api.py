"""The ledger's API: public key, signed checkpoints, entries with inclusion proofs, consistency
proofs. Hashes and proofs are served to anyone signed in; an entry's content only to its
parties (a non-party gets `content: null`)."""

import base64
import json

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from ledger import selectors, services
from ledger.models import LedgerCheckpoint
from ledger.signing import (
    SigningKeyMissing,
    key_id,
    public_key_b64,
    public_key_pem,
    signing_key,
)
from scf_platform.api.views import ActingAPIView, ActingOrganizationMixin
from scf_platform.errors import DomainError
from scf_platform.policy import may_sign_checkpoint, require


class SigningUnavailable(DomainError):
    status_code = 503
    code = "signing_key_missing"


def _key():
    try:
        return signing_key()
    except SigningKeyMissing as error:
        raise SigningUnavailable(str(error)) from None


class LedgerCheckpointSerializer(serializers.ModelSerializer):
    class Meta:
        model = LedgerCheckpoint
        fields = [
            "id",
            "tree_size",
            "root_hash",
            "timestamp",
            "signature",
            "public_key",
            "key_id",
        ]


class LedgerPublicKeySerializer(serializers.Serializer):
    algorithm = serializers.CharField()
    public_key = serializers.CharField(help_text="base64 of the 32 raw bytes")
    key_id = serializers.CharField()
    pem = serializers.CharField(help_text="SubjectPublicKeyInfo, PEM")


class PublicKeyView(ActingAPIView):
    """The Ed25519 key checkpoints are signed with."""

    @extend_schema(operation_id="ledger_public_key", responses=LedgerPublicKeySerializer)
    def get(self, request):
        key = _key()
        raw = base64.b64decode(public_key_b64(key))
        data = {
            "algorithm": "Ed25519",
            "public_key": public_key_b64(key),
            "key_id": key_id(raw),
            "pem": public_key_pem(key),
        }
        return Response(LedgerPublicKeySerializer(data).data)


class CheckpointListView(ActingOrganizationMixin, generics.ListAPIView):
    """Signed checkpoints, newest first; the operator or a bank's admin may sign one now."""

    serializer_class = LedgerCheckpointSerializer
    queryset = LedgerCheckpoint.objects.order_by("-id")
    filter_backends: list = []

    @extend_schema(
        operation_id="ledger_checkpoints_list",
        description="Signed checkpoints (tree size, root hash, time), newest first.",
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="ledger_checkpoints_create",
        description="Sign the current tree head now (the platform operator or a bank's admin).",
        request=None,
        responses={
            201: LedgerCheckpointSerializer,
            403: OpenApiResponse(description="not the operator or a bank's admin"),
            503: OpenApiResponse(description="no signing key is configured"),
        },
    )
    def post(self, request):
        require(may_sign_checkpoint, request.acting)
        _key()
        checkpoint = services.ledger_checkpoint_sign()
        return Response(LedgerCheckpointSerializer(checkpoint).data, status=status.HTTP_201_CREATED)


class CheckpointLatestView(ActingAPIView):
    """The most recently signed checkpoint."""

    @extend_schema(
        operation_id="ledger_checkpoints_latest",
        responses={200: LedgerCheckpointSerializer, 404: OpenApiResponse(description="none yet")},
    )
    def get(self, request):
        checkpoint = selectors.latest_checkpoint()
        if checkpoint is None:
            raise NotFound("No checkpoint has been signed yet.")
        return Response(LedgerCheckpointSerializer(checkpoint).data)


class LedgerEntryContentSerializer(serializers.Serializer):
    kind = serializers.CharField()
    subject = serializers.CharField()
    created_at = serializers.DateTimeField()
    leaf = serializers.CharField(help_text="base64 of the canonical bytes the leaf hash covers")
    event = serializers.JSONField(allow_null=True, help_text="the canonical bytes, decoded")


class LedgerEntryProofSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    leaf_hash = serializers.CharField(help_text="hex; SHA-256(0x00 || leaf)")
    tree_size = serializers.IntegerField()
    root_hash = serializers.CharField(help_text="hex; MTH of the first tree_size entries")
    inclusion_proof = serializers.ListField(child=serializers.CharField(), help_text="hex")
    checkpoint = LedgerCheckpointSerializer(
        allow_null=True, help_text="the signed checkpoint at tree_size, if there is one"
    )
    content = LedgerEntryContentSerializer(
        allow_null=True, help_text="only for the entry's parties; null for everyone else"
    )


class _TreeSizeQuery(serializers.Serializer):
    tree_size = serializers.IntegerField(min_value=1, required=False)


def _decoded(leaf: bytes):
    try:
        return json.loads(leaf)
    except ValueError:
        # Only a tampered row is not JSON; its hash will not verify, and `ledger_verify` says so.
        return None


class EntryView(ActingAPIView):
    """One entry with its inclusion proof to `tree_size` (default: the latest checkpoint's)."""

    @extend_schema(
        operation_id="ledger_entries_retrieve",
        parameters=[
            OpenApiParameter("index", int, OpenApiParameter.PATH),
            OpenApiParameter(
                "tree_size",
                int,
                description="prove inclusion in the tree of this size (default: the latest "
                "checkpoint's size)",
            ),
        ],
        responses={
            200: LedgerEntryProofSerializer,
            404: OpenApiResponse(description="no such entry"),
        },
    )
    def get(self, request, index: int):
        query = _TreeSizeQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        try:
            proof = selectors.entry_proof(
                index=index,
                tree_size=query.validated_data.get("tree_size"),
                organization=request.acting.organization,
            )
        except selectors.TreeTooLarge as error:
            raise ValidationError({"tree_size": [str(error)]}) from None
        except selectors.NotInTree as error:
            raise NotFound(str(error)) from None
        content = None
        if proof.entry is not None:
            leaf = bytes(proof.entry.leaf)
            content = {
                "kind": proof.entry.kind,
                "subject": proof.entry.subject,
                "created_at": proof.entry.created_at,
                "leaf": base64.b64encode(leaf).decode("ascii"),
                "event": _decoded(leaf),
            }
        data = {
            "index": proof.index,
            "leaf_hash": proof.leaf_hash.hex(),
            "tree_size": proof.tree_size,
            "root_hash": proof.root_hash.hex(),
            "inclusion_proof": [h.hex() for h in proof.inclusion_proof],
            "checkpoint": proof.checkpoint,
            "content": content,
        }
        return Response(LedgerEntryProofSerializer(data).data)


class _ConsistencyQuery(serializers.Serializer):
    first = serializers.IntegerField(min_value=0)
    second = serializers.IntegerField(min_value=0)

    def validate(self, attrs):
        if attrs["first"] > attrs["second"]:
            raise ValidationError({"first": ["first must not be larger than second."]})
        return attrs


class LedgerConsistencySerializer(serializers.Serializer):
    first = serializers.IntegerField()
    second = serializers.IntegerField()
    first_root = serializers.CharField(help_text="hex")
    second_root = serializers.CharField(help_text="hex")
    proof = serializers.ListField(child=serializers.CharField(), help_text="hex")


class ConsistencyView(ActingAPIView):
    """Proof that the tree of size `second` extends the tree of size `first` (RFC 9162 2.1.4)."""

    @extend_schema(
        operation_id="ledger_consistency",
        parameters=[
            OpenApiParameter("first", int, required=True, description="the older tree size"),
            OpenApiParameter("second", int, required=True, description="the newer tree size"),
        ],
        responses=LedgerConsistencySerializer,
    )
    def get(self, request):
        query = _ConsistencyQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        first, second = query.validated_data["first"], query.validated_data["second"]
        if second > selectors.ledger_size():
            raise ValidationError({"second": ["The ledger is not that large yet."]})
        data = {
            "first": first,
            "second": second,
            "first_root": selectors.root_at(first).hex(),
            "second_root": selectors.root_at(second).hex(),
            "proof": [h.hex() for h in selectors.consistency_proof_for(first, second)],
        }
        return Response(LedgerConsistencySerializer(data).data)
