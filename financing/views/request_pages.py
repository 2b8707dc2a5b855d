"""A financing request as each party sees it: the list, and the page with its parties, invoices,
quote, screening, approvals, history, repayments and the actions open to the viewer."""

from decimal import Decimal

from django.shortcuts import render

from documents.selectors import documents_about
from financing.forms import RequestFilterForm
from financing.models import (
    Approval,
    FinancingRequest,
    Repayment,
    RequestEvent,
)
from financing.models import RequestStatus as S
from financing.products.receivables.models import ReceivableHold
from financing.services.decisions import approvals_needed
from financing.services.money import amount_outstanding, request_quote
from financing.views.common import (
    CHECK_LABELS,
    quote_display,
    screening_display,
    visible_request,
)
from scf_platform.money import money
from scf_platform.pages import acting_organization, paginate, status_label
from scf_platform.policy import (
    may_approve_request,
    may_disburse_request,
    may_record_repayment,
    may_reject_request,
    may_submit_request,
    may_withdraw_request,
)
from scf_platform.views import acting_required

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
        left = (event.details or {}).get("outstanding")
        event.outstanding_text = money(Decimal(left), financing_request.currency) if left else ""
    is_bank = financing_request.bank_id == organization.pk
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
    # What the policy lets this member do, where the request's state allows it.
    may = {
        "submit": status == S.DRAFT and may_submit_request(acting, financing_request),
        "withdraw": status in WITHDRAWABLE and may_withdraw_request(acting, financing_request),
        "decide": status == S.IN_REVIEW and may_reject_request(acting, financing_request),
        "approve": status == S.IN_REVIEW
        and may_approve_request(acting, financing_request)
        and not state["you_approved"],
        "disburse": status == S.APPROVED and may_disburse_request(acting, financing_request),
        "repay": status in REPAYABLE and may_record_repayment(acting, financing_request),
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
            "documents": documents_about(
                organization=organization, subject=f"request:{financing_request.pk}"
            ),
            "is_bank": is_bank,
            "may": may,
        },
    )
