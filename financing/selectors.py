"""Reads of financing: what an organization may see, queues, portfolio figures."""

from django.db.models import Q, QuerySet
from django.utils import timezone

from financing.models import FinancingRequest, Program, RequestStatus
from scf_platform.models import Organization


def program_counterparty_ids(organization: Organization) -> QuerySet:
    """Organizations that share a program with `organization` (bank, core, participants)."""
    programs = Program.objects.visible_to(organization).values("pk")
    return Organization.objects.filter(
        Q(programs_lent__in=programs)
        | Q(programs_anchored__in=programs)
        | Q(participations__program__in=programs)
    ).values("pk")


def approval_queue(*, bank: Organization) -> QuerySet:
    """The bank's requests in review, oldest first."""
    return (
        FinancingRequest.objects.visible_to(bank)
        .filter(bank=bank, status=RequestStatus.IN_REVIEW)
        .select_related("applicant", "program", "core_enterprise")
        .prefetch_related("approvals")
        .order_by("queued_at", "pk")
    )


def waiting_seconds(request: FinancingRequest, now=None) -> int:
    if request.queued_at is None:
        return 0
    return int(((now or timezone.now()) - request.queued_at).total_seconds())
