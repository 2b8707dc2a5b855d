"""The core enterprise's pages: the suppliers in its programs and onboarding one, what its
network has financed and what it must pay when, recording a repayment."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from financing.forms import ParticipantFilterForm, ParticipantForm, RepayForm, RequestFilterForm
from financing.models import ProgramParticipant
from financing.services.money import amount_outstanding, financing_request_repay
from financing.services.programs import participant_add
from financing.views import figures
from financing.views.common import refused, visible_request
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
from scf_platform.policy import may_add_participant, may_record_repayment, require
from scf_platform.views import acting_required


@acting_required
def participant_list(request):
    organization = acting_organization(request, OrganizationKind.ENTERPRISE, OrganizationKind.BANK)
    filters = ParticipantFilterForm(request.GET or None, organization=organization)
    participants = filters.apply(
        ProgramParticipant.objects.visible_to(organization)
        .exclude(organization=organization)
        .select_related("organization", "program")
        .order_by("organization__name", "program__name", "pk")
    )
    return render(
        request,
        "financing/participant_list.html",
        {
            "page": paginate(request, participants),
            "filters": filters,
            "may_onboard": may_add_participant(request.acting),
        },
    )


@acting_required
@once_per_key
def participant_onboard(request):
    core = acting_organization(request, OrganizationKind.ENTERPRISE)
    require(may_add_participant, request.acting)
    form = ParticipantForm(posted(request), core_enterprise=core)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data

        def onboard():
            return participant_add(
                program=data["program"],
                core_enterprise=core,
                actor=request.user,
                organization=data["organization"],
                role=data["role"],
                limit=data["limit"],
            )

        try:
            if not is_confirmed(request):
                rehearse(onboard)
                return confirmation(
                    request,
                    title=_("Onboard %(name)s?") % {"name": data["organization"].name},
                    question=_(
                        "It becomes a participant of %(program)s and may apply for financing "
                        "against the invoices you confirm."
                    )
                    % {"program": data["program"].name},
                    action=_("Onboard"),
                    cancel_url=reverse("portal:participants"),
                    facts=[
                        (_("Enterprise"), data["organization"].name),
                        (_("Unified social credit code"), data["organization"].credit_code),
                        (_("Program"), data["program"].name),
                        (_("Role"), dict(form.fields["role"].choices)[data["role"]]),
                        (
                            _("Sub-limit"),
                            money(data["limit"], data["program"].currency)
                            if data["limit"]
                            else _("None"),
                        ),
                    ],
                )
            participant = onboard()
        except (ValidationError, DomainError) as error:
            add_errors(form, error)
        else:
            messages.success(
                request,
                _("%(name)s was onboarded into %(program)s.")
                % {"name": participant.organization.name, "program": participant.program.name},
            )
            return redirect("portal:participants")
    return render(request, "financing/participant_form.html", {"form": form})


@acting_required
def network(request):
    core = acting_organization(request, OrganizationKind.ENTERPRISE)
    today = business_today()
    filters = RequestFilterForm(request.GET or None, organization=core)
    schedule = filters.apply(figures.maturity_schedule(core))
    page = paginate(request, schedule)
    for financing_request in page:
        financing_request.outstanding_text = money(
            amount_outstanding(financing_request), financing_request.currency
        )
        financing_request.days_left = (financing_request.maturity_date - today).days
    buckets = figures.due_buckets(list(schedule), today)
    return render(
        request,
        "financing/network.html",
        {
            "page": page,
            "filters": filters,
            "buckets": buckets,
            "due_bars": figures.bucket_bars(buckets),
            "may_repay": may_record_repayment(request.acting),
        },
    )


@acting_required
@once_per_key
def request_repay(request, pk: int):
    core = acting_organization(request, OrganizationKind.ENTERPRISE)
    financing_request = visible_request(request, pk, organization=core)
    require(may_record_repayment, request.acting, financing_request)
    outstanding = amount_outstanding(financing_request)
    form = RepayForm(posted(request), initial={"amount": outstanding, "paid_on": business_today()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data

        def repay():
            return financing_request_repay(
                request_id=financing_request.pk,
                payer=core,
                actor=request.user,
                amount=data["amount"],
                paid_on=data["paid_on"],
            )

        try:
            if not is_confirmed(request):
                # What is left once the service has taken the repayment (late interest first).
                left = rehearse(lambda: amount_outstanding(repay().request))
                return confirmation(
                    request,
                    title=_("Record a repayment on request %(id)s?") % {"id": financing_request.pk},
                    question=_("The request is settled and its invoices paid.")
                    if left == 0
                    else _("%(left)s will remain outstanding.")
                    % {"left": money(left, financing_request.currency)},
                    action=_("Record repayment"),
                    cancel_url=reverse("portal:request_detail", args=[financing_request.pk]),
                    facts=[
                        (_("Amount"), money(data["amount"], financing_request.currency)),
                        (_("Paid on"), day(data["paid_on"])),
                        (_("Bank"), financing_request.bank.name),
                    ],
                )
            repay()
        except ValidationError as error:
            add_errors(form, error)
        except DomainError as error:
            return refused(request, error, financing_request)
        else:
            financing_request.refresh_from_db()
            messages.success(
                request,
                _("A repayment of %(amount)s was recorded; the request is %(status)s.")
                % {
                    "amount": money(data["amount"], financing_request.currency),
                    "status": financing_request.get_status_display().lower(),
                },
            )
            return redirect("portal:request_detail", pk=financing_request.pk)
    return render(
        request,
        "financing/repay.html",
        {
            "req": financing_request,
            "form": form,
            "outstanding": money(outstanding, financing_request.currency),
        },
    )
