"""The applicant's pages: apply for receivables financing (with a live quote), submit a draft,
withdraw a request."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from financing.forms import ApplyForm
from financing.models import Product, ProgramParticipant
from financing.pricing import Quote
from financing.products.receivables import rules as receivables_rules
from financing.services.drafting import (
    financing_request_create,
    financing_request_submit,
    financing_request_withdraw,
)
from financing.views.common import percent, quote_display, refused, visible_request
from scf_platform.clock import business_today
from scf_platform.errors import DomainError
from scf_platform.idempotency import once_per_key
from scf_platform.models import OrganizationKind
from scf_platform.money import money
from scf_platform.pages import (
    acting_organization,
    add_errors,
    confirmation,
    is_confirmed,
    rehearse,
)
from scf_platform.policy import (
    may_create_request,
    may_submit_request,
    may_withdraw_request,
    require,
)
from scf_platform.views import acting_required


def preview_quote(form: ApplyForm, today) -> Quote:
    """The quote the chosen invoices would get if disbursed today (the pricing the service uses)."""
    return receivables_rules.quote(
        program=form.cleaned_data["program"],
        requested_amount=form.cleaned_data.get("requested_amount") or None,
        invoices=form.cleaned_data["invoices"],
        value_date=today,
    )


def _cap_note(form: ApplyForm, quote: Quote) -> str:
    """More than the advance is lent at the advance (API.md: advance = min(requested, cap)), as
    the API does: say so while the applicant is choosing, and on the confirmation page."""
    requested = form.cleaned_data.get("requested_amount")
    if requested and requested > quote.advance_amount:
        return _(
            "The program lends at most %(a)s (%(r)s of the invoices' amount): "
            "a request for more is financed at %(a)s."
        ) % {
            "a": money(quote.advance_amount, form.cleaned_data["program"].currency),
            "r": f"{form.cleaned_data['program'].advance_rate * 100:.0f}%",
        }
    return ""


def _apply_form(request, data, organization, today) -> ApplyForm:
    program_id = data.get("program") if data is not None else request.GET.get("program")
    return ApplyForm(data, applicant=organization, today=today, program_id=program_id)


def _apply_page(request, form: ApplyForm, today):
    quote, note = None, ""
    form.is_valid()
    if form.is_bound and {"program", "invoices"} <= set(getattr(form, "cleaned_data", {})):
        quote = preview_quote(form, today)
        note = _cap_note(form, quote)
    participant = None
    if form.program is not None:
        organization = request.acting.organization
        participant = (
            ProgramParticipant.objects.visible_to(organization)
            .filter(program=form.program, organization=organization)
            .first()
        )
    return render(
        request,
        "financing/apply.html",
        {
            "form": form,
            "program": form.program,
            "participant": participant,
            "quote": quote_display(quote, form.program.currency) if quote else None,
            "cap_note": note,
            "advance_rate": percent(form.program.advance_rate) if form.program else "",
            "may_submit": may_create_request(request.acting),
            "selected": [str(value) for value in (form["invoices"].value() or [])],
        },
    )


@acting_required
def apply(request):
    organization = acting_organization(request, OrganizationKind.ENTERPRISE)
    today = business_today()
    params = request.GET
    if "shown_program" in params and params["shown_program"] != params.get("program"):
        # A program just chosen (not the one whose invoices were shown): a fresh choice.
        bound = False
    else:
        bound = "invoices" in params or ("recalculate" in params and "shown_program" in params)
    form = _apply_form(request, params if bound else None, organization, today)
    return _apply_page(request, form, today)


@acting_required
def apply_quote(request):
    """The quote for what the apply form holds, as JSON for the page's script."""
    organization = acting_organization(request, OrganizationKind.ENTERPRISE)
    today = business_today()
    form = _apply_form(request, request.GET, organization, today)
    if not form.is_valid():
        return JsonResponse(
            {"ok": False, "errors": {k: [str(m) for m in v] for k, v in form.errors.items()}}
        )
    quote = preview_quote(form, today)
    return JsonResponse(
        {
            "ok": True,
            "quote": quote_display(quote, form.cleaned_data["program"].currency),
            "note": _cap_note(form, quote),
        }
    )


@acting_required
@once_per_key
def apply_confirm(request):
    """Review the application, then create the request and submit it (screening follows)."""
    organization = acting_organization(request, OrganizationKind.ENTERPRISE)
    require(may_create_request, request.acting)
    today = business_today()
    data = request.POST if request.method == "POST" else request.GET
    form = _apply_form(request, data, organization, today)
    if not form.is_valid():
        return _apply_page(request, form, today)
    program = form.cleaned_data["program"]
    quote = preview_quote(form, today)
    invoices = form.cleaned_data["invoices"]

    def apply_and_submit():
        # Draft and submission stand or fall together: no stray draft if the submit is refused.
        with transaction.atomic():
            financing_request = financing_request_create(
                applicant=organization,
                actor=request.user,
                product=Product.RECEIVABLES,
                program=program,
                requested_amount=form.cleaned_data["requested_amount"] or quote.advance_amount,
                invoices=[invoice.pk for invoice in invoices],
            )
            financing_request_submit(
                request_id=financing_request.pk, applicant=organization, actor=request.user
            )
        return financing_request

    try:
        if not is_confirmed(request):
            rehearse(apply_and_submit)
            return confirmation(
                request,
                title=_("Submit this financing request?"),
                question=_(
                    "The invoices are held for this request and it is screened at once; then "
                    "%(bank)s reviews it. The final discount is fixed on the day of disbursement."
                )
                % {"bank": program.bank.name},
                action=_("Submit request"),
                cancel_url=reverse("portal:apply") + "?" + request.GET.urlencode(),
                facts=[
                    (_("Program"), program.name),
                    (_("Bank"), program.bank.name),
                    (_("Core enterprise"), program.core_enterprise.name),
                    *(
                        [(_("Requested amount"), cap_note)]
                        if (cap_note := _cap_note(form, quote))
                        else []
                    ),
                ],
                hidden=[
                    (name, value)
                    for name in request.GET
                    if name not in ("recalculate", "shown_program")
                    for value in request.GET.getlist(name)
                ],
                extra_template="financing/_apply_review.html",
                extra={
                    "invoices": form.cleaned_data["invoices"],
                    "quote": quote_display(quote, program.currency),
                },
            )
        financing_request = apply_and_submit()
    except (ValidationError, DomainError) as error:
        add_errors(form, error)
        return _apply_page(request, form, today)
    messages.success(
        request,
        _("Request %(id)s was submitted; it is being screened.") % {"id": financing_request.pk},
    )
    return redirect("portal:request_detail", pk=financing_request.pk)


@acting_required
@once_per_key
def request_submit(request, pk: int):
    organization = acting_organization(request, OrganizationKind.ENTERPRISE)
    financing_request = visible_request(request, pk, organization=organization)
    require(may_submit_request, request.acting, financing_request)

    def submit():
        return financing_request_submit(
            request_id=financing_request.pk, applicant=organization, actor=request.user
        )

    try:
        if not is_confirmed(request):
            rehearse(submit)
            return confirmation(
                request,
                title=_("Submit request %(id)s?") % {"id": financing_request.pk},
                question=_("The invoices are held for this request and it is screened at once."),
                action=_("Submit request"),
                cancel_url=reverse("portal:request_detail", args=[financing_request.pk]),
                hidden=[],
            )
        submit()
    except DomainError as error:
        return refused(request, error, financing_request)
    messages.success(
        request,
        _("Request %(id)s was submitted; it is being screened.") % {"id": financing_request.pk},
    )
    return redirect("portal:request_detail", pk=financing_request.pk)


@acting_required
@once_per_key
def request_withdraw(request, pk: int):
    organization = acting_organization(request, OrganizationKind.ENTERPRISE)
    financing_request = visible_request(request, pk, organization=organization)
    require(may_withdraw_request, request.acting, financing_request)

    def withdraw():
        return financing_request_withdraw(
            request_id=financing_request.pk, applicant=organization, actor=request.user
        )

    try:
        if not is_confirmed(request):
            rehearse(withdraw)
            return confirmation(
                request,
                title=_("Withdraw request %(id)s?") % {"id": financing_request.pk},
                question=_(
                    "The request stops here and its invoices are freed for another request. "
                    "This cannot be undone."
                ),
                action=_("Withdraw request"),
                cancel_url=reverse("portal:request_detail", args=[financing_request.pk]),
                hidden=[],
                danger=True,
            )
        withdraw()
    except DomainError as error:
        return refused(request, error, financing_request)
    messages.success(request, _("Request %(id)s was withdrawn.") % {"id": financing_request.pk})
    return redirect("portal:request_detail", pk=financing_request.pk)
