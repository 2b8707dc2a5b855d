"""The bank's pages: the approval queue, approve / reject (four eyes), disburse, programs, the
portfolio."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from financing.forms import (
    CommentForm,
    DisburseForm,
    ProgramFilterForm,
    ProgramForm,
    QueueFilterForm,
    ReasonForm,
)
from financing.models import Approval, Program, ProgramParticipant, RequestStatus
from financing.selectors import approval_queue, waiting_seconds
from financing.services.decisions import financing_request_approve, financing_request_reject
from financing.services.money import financing_request_disburse, request_quote
from financing.services.programs import program_create
from financing.views import figures
from financing.views.common import percent, quote_display, refused, visible_request
from financing.views.request_pages import four_eyes
from scf_platform.clock import business_today
from scf_platform.errors import DomainError
from scf_platform.idempotency import once_per_key
from scf_platform.models import OrganizationKind
from scf_platform.money import money
from scf_platform.pages import (
    acting_organization,
    add_errors,
    confirmation,
    day,
    is_confirmed,
    paginate,
    posted,
    rehearse,
)
from scf_platform.policy import (
    may_add_participant,
    may_approve_request,
    may_create_program,
    may_disburse_request,
    may_reject_request,
    require,
)
from scf_platform.views import acting_required


@acting_required
def queue(request):
    bank = acting_organization(request, OrganizationKind.BANK)
    filters = QueueFilterForm(request.GET or None, bank=bank)
    waiting = approval_queue(bank=bank)
    only_breached = False
    if filters.is_valid():
        if filters.cleaned_data["program"]:
            waiting = waiting.filter(program=filters.cleaned_data["program"])
        only_breached = filters.cleaned_data["breached"]
    now = timezone.now()
    rows = []
    for financing_request in waiting:
        seconds = waiting_seconds(financing_request, now)
        approvals = list(financing_request.approvals.all())
        row = {
            "req": financing_request,
            "waiting_seconds": seconds,
            "breached": seconds > financing_request.program.sla_hours * 3600,
            "four_eyes": four_eyes(financing_request, approvals, request.user),
        }
        if row["breached"] or not only_breached:
            rows.append(row)
    return render(
        request,
        "financing/queue.html",
        {
            "page": paginate(request, rows),
            "filters": filters,
            "breached_count": sum(1 for row in rows if row["breached"]),
        },
    )


def _decision_context(financing_request, organization, user) -> dict:
    approvals = list(
        Approval.objects.visible_to(organization)
        .filter(request=financing_request)
        .select_related("checker")
    )
    return {
        "req": financing_request,
        "four_eyes": four_eyes(financing_request, approvals, user),
        "approvals": approvals,
        "quote": quote_display(request_quote(financing_request), financing_request.currency),
    }


@acting_required
@once_per_key
def request_approve(request, pk: int):
    bank = acting_organization(request, OrganizationKind.BANK)
    financing_request = visible_request(request, pk, organization=bank)
    require(may_approve_request, request.acting, financing_request)
    form = CommentForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            financing_request_approve(
                request_id=financing_request.pk,
                bank=bank,
                actor=request.user,
                comment=form.cleaned_data["comment"],
            )
        except DomainError as error:
            return refused(request, error, financing_request)
        financing_request.refresh_from_db()
        if financing_request.status == RequestStatus.APPROVED:
            messages.success(
                request, _("Request %(id)s is approved.") % {"id": financing_request.pk}
            )
        else:
            messages.success(
                request,
                _("Your approval is recorded; another checker must approve request %(id)s.")
                % {"id": financing_request.pk},
            )
        return redirect("portal:request_detail", pk=financing_request.pk)
    context = _decision_context(financing_request, bank, request.user)
    return render(request, "financing/approve.html", {**context, "form": form})


@acting_required
@once_per_key
def request_reject(request, pk: int):
    bank = acting_organization(request, OrganizationKind.BANK)
    financing_request = visible_request(request, pk, organization=bank)
    require(may_reject_request, request.acting, financing_request)
    form = ReasonForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            financing_request_reject(
                request_id=financing_request.pk,
                bank=bank,
                actor=request.user,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            add_errors(form, error)
        except DomainError as error:
            return refused(request, error, financing_request)
        else:
            messages.success(
                request, _("Request %(id)s was rejected.") % {"id": financing_request.pk}
            )
            return redirect("portal:request_detail", pk=financing_request.pk)
    context = _decision_context(financing_request, bank, request.user)
    return render(request, "financing/reject.html", {**context, "form": form})


@acting_required
@once_per_key
def request_disburse(request, pk: int):
    bank = acting_organization(request, OrganizationKind.BANK)
    financing_request = visible_request(request, pk, organization=bank)
    require(may_disburse_request, request.acting, financing_request)
    form = DisburseForm(posted(request), initial={"value_date": business_today()})
    if request.method == "POST" and form.is_valid():
        value_date = form.cleaned_data["value_date"]

        def disburse():
            return financing_request_disburse(
                request_id=financing_request.pk,
                bank=bank,
                actor=request.user,
                value_date=value_date,
            )

        try:
            if not is_confirmed(request):
                rehearse(disburse)
                quote = request_quote(financing_request, value_date=value_date)
                return confirmation(
                    request,
                    title=_("Disburse request %(id)s?") % {"id": financing_request.pk},
                    question=_(
                        "The net proceeds are paid to %(a)s and the quote is fixed by the value "
                        "date."
                    )
                    % {"a": financing_request.applicant.name},
                    action=_("Disburse"),
                    cancel_url=reverse("portal:request_detail", args=[financing_request.pk]),
                    facts=[(_("Value date"), day(value_date))],
                    extra_template="financing/_quote.html",
                    extra={"quote": quote_display(quote, financing_request.currency)},
                )
            disburse()
        except ValidationError as error:
            add_errors(form, error)
        except DomainError as error:
            return refused(request, error, financing_request)
        else:
            financing_request.refresh_from_db()
            messages.success(
                request,
                _("%(amount)s was disbursed on request %(id)s.")
                % {
                    "amount": money(financing_request.net_proceeds, financing_request.currency),
                    "id": financing_request.pk,
                },
            )
            return redirect("portal:request_detail", pk=financing_request.pk)
    quote = request_quote(financing_request)
    return render(
        request,
        "financing/disburse.html",
        {
            "req": financing_request,
            "form": form,
            "quote": quote_display(quote, financing_request.currency),
        },
    )


# Programs --------------------------------------------------------------------------------------


@acting_required
def program_list(request):
    organization = acting_organization(request)
    filters = ProgramFilterForm(request.GET or None)
    programs = filters.apply(
        Program.objects.visible_to(organization).select_related("bank", "core_enterprise")
    )
    page = paginate(request, programs)
    for program in page:
        program.utilization = (
            float(program.utilized / program.credit_limit) if program.credit_limit else 0.0
        )
        program.utilization_percent = f"{min(program.utilization, 1.0) * 100:.1f}"
    return render(
        request,
        "financing/program_list.html",
        {
            "page": page,
            "filters": filters,
            "may_create": may_create_program(request.acting),
        },
    )


@acting_required
def program_detail(request, pk: int):
    organization = acting_organization(request)
    program = get_object_or_404(
        Program.objects.visible_to(organization).select_related("bank", "core_enterprise"),
        pk=pk,
    )
    participants = (
        ProgramParticipant.objects.visible_to(organization)
        .filter(program=program)
        .select_related("organization", "program")
    )
    return render(
        request,
        "financing/program_detail.html",
        {
            "program": program,
            "page": paginate(request, participants),
            "advance_rate": percent(program.advance_rate),
            "annual_rate": percent(program.annual_rate),
            "may_onboard": may_add_participant(request.acting, program),
        },
    )


@acting_required
@once_per_key
def program_add(request):
    bank = acting_organization(request, OrganizationKind.BANK)
    require(may_create_program, request.acting)
    form = ProgramForm(posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if not is_confirmed(request):
                rehearse(lambda: program_create(bank=bank, actor=request.user, **data))
                return confirmation(
                    request,
                    title=_("Create program %(name)s?") % {"name": data["name"]},
                    question=_(
                        "%(core)s and the suppliers it onboards can then apply for financing."
                    )
                    % {"core": data["core_enterprise"].name},
                    action=_("Create program"),
                    cancel_url=reverse("portal:programs"),
                    facts=[
                        (_("Core enterprise"), data["core_enterprise"].name),
                        (_("Credit limit"), money(data["credit_limit"], data["currency"])),
                        (_("Advance rate"), percent(data["advance_rate"])),
                        (_("Annual discount rate"), percent(data["annual_rate"])),
                        (_("Day count"), data["day_count"]),
                        (_("Maximum tenor (days)"), data["max_tenor_days"]),
                        (_("Two checkers above"), money(data["dual_approval_threshold"])),
                    ],
                )
            program = program_create(bank=bank, actor=request.user, **data)
        except (ValidationError, DomainError) as error:
            add_errors(form, error)
        else:
            messages.success(request, _("Program %(name)s was created.") % {"name": program.name})
            return redirect("portal:program_detail", pk=program.pk)
    return render(request, "financing/program_form.html", {"form": form})


@acting_required
def portfolio(request):
    bank = acting_organization(request, OrganizationKind.BANK)
    return render(request, "financing/portfolio.html", figures.portfolio(bank, business_today()))
