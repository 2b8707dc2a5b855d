"""A financing request as each party sees it: the list, and the page with its parties, invoices,
quote, screening, approvals, history, repayments and the actions open to the viewer."""

from django.shortcuts import render

from financing.forms import RequestFilterForm
from financing.models import (
    Approval,
    Document,
    FinancingRequest,
    Repayment,
    RequestEvent,
)
from financing.models import RequestStatus as S
from financing.products.receivables.models import ReceivableHold
from financing.services.decisions import approvals_needed
from financing.services.money import amount_outstanding, request_quote
from financing.views.common import (
    ACTORS,
    CHECK_LABELS,
    quote_display,
    screening_display,
    visible_request,
)
from scf_platform.models import Role
from scf_platform.views import acting_required
from suppliers.views import acting_organization, money, paginate, status_label

WITHDRAWABLE = (S.DRAFT, S.SUBMITTED, S.IN_REVIEW)
REPAYABLE = (S.DISBURSED, S.OVERDUE)


@acting_required
def request_list(request):
    organization = acting_organization(request)
    filters = RequestFilterForm(request.GET or None, organization=organization)
    requests = filters.apply(
        FinancingRequest.objects.visible_to(organization)
        .select_related("program", "applicant", "bank", "core_enterprise")
        .order_by("-created_at", "-pk")
    )
    return render(
        request,
        "financing/request_list.html",
        {"page": paginate(request, requests), "filters": filters},
    )


def four_eyes(financing_request, approvals, user) -> dict:
    needed = approvals_needed(financing_request)
    checkers = {approval.checker_id for approval in approvals}
    return {
        "needed": needed,
        "count": len(approvals),
        "missing": max(needed - len(approvals), 0),
        "first": approvals[0] if approvals else None,
        "you_approved": user.pk in checkers,
        "you_prepared": user.pk
        in {financing_request.created_by_id, financing_request.submitted_by_id},
    }


@acting_required
def request_detail(request, pk: int):
    organization = acting_organization(request)
    financing_request = visible_request(request, pk, organization=organization)
    acting = request.acting
    holds = list(
        ReceivableHold.objects.visible_to(organization)
        .filter(request=financing_request)
        .select_related("invoice", "invoice__confirmed_by")
        .order_by("invoice__due_date", "pk")
    )
    events = list(
        RequestEvent.objects.visible_to(organization)
        .filter(request=financing_request)
        .select_related("actor", "actor_organization")
    )
    for event in events:
        event.label = status_label(S, event.to_status)
        event.reason_labels = [
            CHECK_LABELS.get(code, code) for code in (event.details or {}).get("reasons", [])
        ]
    is_bank = financing_request.bank_id == organization.pk
    is_applicant = financing_request.applicant_id == organization.pk
    is_core = financing_request.core_enterprise_id == organization.pk
    approvals = (
        list(
            Approval.objects.visible_to(organization)
            .filter(request=financing_request)
            .select_related("checker")
        )
        if is_bank
        else []
    )
    state = four_eyes(financing_request, approvals, request.user)
    status = financing_request.status
    quote = request_quote(financing_request)
    outstanding = amount_outstanding(financing_request) if status in REPAYABLE else None
    may = {
        "submit": is_applicant and status == S.DRAFT and acting.has_role(Role.MAKER, Role.ADMIN),
        "withdraw": is_applicant
        and status in WITHDRAWABLE
        and acting.has_role(Role.MAKER, Role.ADMIN),
        "decide": is_bank
        and status == S.IN_REVIEW
        and acting.has_role(Role.CHECKER, Role.ADMIN)
        and not state["you_prepared"],
        "approve": is_bank
        and status == S.IN_REVIEW
        and acting.has_role(Role.CHECKER, Role.ADMIN)
        and not state["you_prepared"]
        and not state["you_approved"],
        "disburse": is_bank and status == S.APPROVED and acting.has_role(*ACTORS),
        "repay": is_core and status in REPAYABLE and acting.has_role(*ACTORS),
    }
    return render(
        request,
        "financing/request_detail.html",
        {
            "req": financing_request,
            "holds": holds,
            "events": events,
            "approvals": approvals,
            "four_eyes": state,
            "quote": quote_display(quote, financing_request.currency),
            "quote_fixed": financing_request.value_date is not None,
            "screening": screening_display(financing_request.screening, financing_request.currency),
            "repayments": Repayment.objects.visible_to(organization).filter(
                request=financing_request
            ),
            "outstanding": money(outstanding, financing_request.currency)
            if outstanding is not None
            else None,
            "documents": Document.objects.visible_to(organization)
            .filter(request=financing_request)
            .order_by("created_at", "pk"),
            "is_bank": is_bank,
            "may": may,
        },
    )
