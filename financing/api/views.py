"""API views of financing: programs and participants, financing requests and their workflow
actions, the bank's approval queue. Each action checks the role, calls one service, answers
with the resource."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from financing.api.serializers import (
    ApprovalQueueItemSerializer,
    ApproveSerializer,
    DisburseSerializer,
    FinancingRequestCreateSerializer,
    FinancingRequestSerializer,
    ParticipantCreateSerializer,
    ParticipantSerializer,
    ProgramCreateSerializer,
    ProgramSerializer,
    ReasonSerializer,
    RepaymentSerializer,
    RepaySerializer,
)
from financing.models import FinancingRequest, Program, ProgramParticipant, Repayment
from financing.selectors import approval_queue
from financing.services import decisions, drafting, money
from financing.services import programs as program_services
from scf_platform.api.permissions import allowed_by
from scf_platform.api.views import IDEMPOTENCY_KEY, RoleCheckedViewSet
from scf_platform.idempotency import idempotent
from scf_platform.policy import (
    may_add_participant,
    may_approve_request,
    may_create_program,
    may_create_request,
    may_declare_default,
    may_disburse_request,
    may_record_repayment,
    may_reject_request,
    may_submit_request,
    may_view_approval_queue,
    may_withdraw_request,
)


class ProgramViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, RoleCheckedViewSet):
    """A bank's credit line to a core enterprise's supply chain; visible to the bank, the core
    enterprise and the participants."""

    queryset = Program.objects.select_related("bank", "core_enterprise")
    serializer_class = ProgramSerializer
    filterset_fields = ["status", "core_enterprise", "bank"]
    roles_by_action = {
        "create": allowed_by(may_create_program),
        "participants_add": allowed_by(may_add_participant),
    }

    @extend_schema(
        request=ProgramCreateSerializer,
        responses={201: ProgramSerializer},
        parameters=[IDEMPOTENCY_KEY],
        description="The acting bank sets up a program for a core enterprise's supply chain.",
    )
    @idempotent
    def create(self, request, *args, **kwargs):
        serializer = ProgramCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        program = program_services.program_create(
            bank=self.organization, actor=request.user, **serializer.validated_data
        )
        return Response(ProgramSerializer(program).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        responses=ParticipantSerializer(many=True),
        description="The program's participants that the acting organization may see (a "
        "participant sees itself; the bank and the core enterprise see all).",
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def participants(self, request, pk=None):
        program = self.get_object()
        participants = (
            ProgramParticipant.objects.visible_to(self.organization)
            .filter(program=program)
            .order_by("pk")
        )
        page = self.paginate_queryset(participants)
        return self.get_paginated_response(ParticipantSerializer(page, many=True).data)

    @extend_schema(
        request=ParticipantCreateSerializer,
        responses={201: ParticipantSerializer},
        parameters=[IDEMPOTENCY_KEY],
        description="The program's core enterprise onboards a supplier or distributor, with an "
        "optional sub-limit; the trade link between them is made if missing.",
    )
    @participants.mapping.post
    @idempotent
    def participants_add(self, request, pk=None):
        program = self.get_object()
        serializer = ParticipantCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        participant = program_services.participant_add(
            program=program,
            core_enterprise=self.organization,
            actor=request.user,
            **serializer.validated_data,
        )
        return Response(ParticipantSerializer(participant).data, status=status.HTTP_201_CREATED)


REQUEST_RESPONSE = {200: FinancingRequestSerializer}


@extend_schema_view(
    list=extend_schema(description="Requests the acting organization is a party to."),
)
class FinancingRequestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, RoleCheckedViewSet):
    """Financing requests and their workflow: draft → submitted → in_review → approved →
    disbursed → settled (API.md lists every path)."""

    queryset = FinancingRequest.objects.select_related("program").prefetch_related(
        "receivable_holds__invoice",
        "approvals__checker",
        "repayments__recorded_by",
        "events__actor",
    )
    serializer_class = FinancingRequestSerializer
    filterset_fields = ["status", "product", "program", "applicant", "bank", "core_enterprise"]
    roles_by_action = {
        "create": allowed_by(may_create_request),
        "submit": allowed_by(may_submit_request),
        "withdraw": allowed_by(may_withdraw_request),
        "approve": allowed_by(may_approve_request),
        "reject": allowed_by(may_reject_request),
        "disburse": allowed_by(may_disburse_request),
        "repay": allowed_by(may_record_repayment),
        "default": allowed_by(may_declare_default),
    }

    def _answer(self, request_id: int, status_code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=request_id)
        return Response(self.get_serializer(fresh).data, status=status_code)

    @extend_schema(
        request=FinancingRequestCreateSerializer,
        responses={201: FinancingRequestSerializer},
        parameters=[IDEMPOTENCY_KEY],
        description="The acting enterprise (the applicant) drafts a request against its "
        "confirmed invoices; nothing is held until it submits. 409 `already_financed` when an "
        "invoice is held by another active request.",
    )
    @idempotent
    def create(self, request, *args, **kwargs):
        serializer = FinancingRequestCreateSerializer(
            data=request.data, context={"request": request}
        )
        serializer.is_valid(raise_exception=True)
        created = drafting.financing_request_create(
            applicant=self.organization, actor=request.user, **serializer.validated_data
        )
        return self._answer(created.pk, status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses=REQUEST_RESPONSE,
        parameters=[IDEMPOTENCY_KEY],
        description="draft → submitted: the invoices are held; screening runs in Celery.",
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def submit(self, request, pk=None):
        request_id = self.get_object().pk
        drafting.financing_request_submit(
            request_id=request_id, applicant=self.organization, actor=request.user
        )
        return self._answer(request_id)

    @extend_schema(
        request=None,
        responses=REQUEST_RESPONSE,
        parameters=[IDEMPOTENCY_KEY],
        description="The applicant withdraws a draft, submitted or in-review request; the "
        "collateral and the limit are freed.",
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def withdraw(self, request, pk=None):
        request_id = self.get_object().pk
        drafting.financing_request_withdraw(
            request_id=request_id, applicant=self.organization, actor=request.user
        )
        return self._answer(request_id)

    @extend_schema(
        request=ApproveSerializer,
        responses=REQUEST_RESPONSE,
        parameters=[IDEMPOTENCY_KEY],
        description="A bank checker approves. Above the program's dual approval threshold the "
        "first approval is recorded and a second, different checker's approves; the same "
        "checker again answers 409 `second_checker_required`. Whoever prepared or submitted the "
        "request never approves it (403).",
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def approve(self, request, pk=None):
        request_id = self.get_object().pk
        serializer = ApproveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        decisions.financing_request_approve(
            request_id=request_id,
            bank=self.organization,
            actor=request.user,
            comment=serializer.validated_data["comment"],
        )
        return self._answer(request_id)

    @extend_schema(
        request=ReasonSerializer,
        responses=REQUEST_RESPONSE,
        parameters=[IDEMPOTENCY_KEY],
        description="A bank checker rejects a request in review, saying why.",
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def reject(self, request, pk=None):
        request_id = self.get_object().pk
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        decisions.financing_request_reject(
            request_id=request_id,
            bank=self.organization,
            actor=request.user,
            reason=serializer.validated_data["reason"],
        )
        return self._answer(request_id)

    @extend_schema(
        request=DisburseSerializer,
        responses=REQUEST_RESPONSE,
        parameters=[IDEMPOTENCY_KEY],
        description="The bank pays the net proceeds of an approved request; the value date "
        "(today when left out; not in the future) fixes the quote.",
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def disburse(self, request, pk=None):
        request_id = self.get_object().pk
        serializer = DisburseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        money.financing_request_disburse(
            request_id=request_id,
            bank=self.organization,
            actor=request.user,
            value_date=serializer.validated_data.get("value_date"),
        )
        return self._answer(request_id)

    @extend_schema(
        responses=RepaymentSerializer(many=True),
        description="The request's repayments, oldest first.",
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def repayments(self, request, pk=None):
        financing_request = self.get_object()
        repayments = (
            Repayment.objects.visible_to(self.organization)
            .filter(request=financing_request)
            .select_related("recorded_by")
        )
        page = self.paginate_queryset(repayments)
        return self.get_paginated_response(RepaymentSerializer(page, many=True).data)

    @extend_schema(
        request=RepaySerializer,
        responses={201: RepaymentSerializer},
        parameters=[IDEMPOTENCY_KEY],
        description="The core enterprise repays, fully or in parts (late interest first, then "
        "principal); nothing left owing settles the request and marks its invoices paid. More "
        "than what is outstanding answers 400.",
    )
    @repayments.mapping.post
    @idempotent
    def repay(self, request, pk=None):
        request_id = self.get_object().pk
        serializer = RepaySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        repayment = money.financing_request_repay(
            request_id=request_id,
            payer=self.organization,
            actor=request.user,
            **serializer.validated_data,
        )
        return Response(RepaymentSerializer(repayment).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=ReasonSerializer,
        responses=REQUEST_RESPONSE,
        parameters=[IDEMPOTENCY_KEY],
        description="The bank declares an overdue request in default, saying why.",
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def default(self, request, pk=None):
        request_id = self.get_object().pk
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        money.financing_request_default(
            request_id=request_id,
            bank=self.organization,
            actor=request.user,
            reason=serializer.validated_data["reason"],
        )
        return self._answer(request_id)


class ApprovalQueueViewSet(mixins.ListModelMixin, RoleCheckedViewSet):
    """The acting bank's requests in review, oldest first, with how long each has waited."""

    queryset = FinancingRequest.objects.all()
    serializer_class = ApprovalQueueItemSerializer
    filter_backends = []
    roles_by_action = {"list": allowed_by(may_view_approval_queue)}

    def base_queryset(self):
        return approval_queue(bank=self.organization)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "now": timezone.now()}
