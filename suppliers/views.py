"""Portal pages of the supply chain: a supplier's invoices (by hand or by file) and a core
enterprise's payables to confirm or dispute.

Views are thin: they check who may act, call one service and say what happened. The helpers at the
top (confirmation step, errors next to fields, pagination) are shared with financing's pages.
"""

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from scf_platform.errors import DomainError
from scf_platform.models import Organization, OrganizationKind, Role
from scf_platform.money import round_half_up
from scf_platform.views import acting_required
from suppliers.forms import (
    DisputeForm,
    InvoiceFilterForm,
    InvoiceForm,
    InvoiceUploadForm,
    buyers_of,
    sellers_to,
)
from suppliers.imports import ImportFileError, import_max_bytes, invoices_import
from suppliers.models import Invoice, InvoiceEvent, InvoiceSource, InvoiceStatus
from suppliers.services import invoice_confirm, invoice_create, invoice_dispute

PAGE_SIZE = 25
# The landed invoices an upload's report names one by one.
LANDED_SHOWN = 100
# The columns of an upload as people name them (the file uses the API's names).
UPLOAD_FIELDS = {
    "number": gettext_lazy("Invoice number"),
    "buyer": gettext_lazy("Buyer"),
    "buyer_credit_code": gettext_lazy("Buyer"),
    "issue_date": gettext_lazy("Issue date"),
    "due_date": gettext_lazy("Due date"),
    "currency": gettext_lazy("Currency"),
    "amount": gettext_lazy("Amount"),
}
NOT_YOUR_ROLE = gettext_lazy("Your role in this organization may not do this.")

# Shared helpers ---------------------------------------------------------------------------------


def acting_organization(request, *kinds: str) -> Organization:
    """The organization the user acts for; a page of another kind of organization is not found."""
    organization = request.acting.organization
    if organization is None or (kinds and organization.kind not in kinds):
        raise Http404
    return organization


def require_role(request, *roles: str) -> None:
    if not request.acting.has_role(*roles):
        raise PermissionDenied(NOT_YOUR_ROLE)


def paginate(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def posted(request):
    """The form data of a POST (even an empty one: a bound form), else None."""
    return request.POST if request.method == "POST" else None


def is_confirmed(request) -> bool:
    """The user answered the confirmation step (every state change has one)."""
    return request.method == "POST" and request.POST.get("confirmed") == "1"


def add_errors(form, error: Exception) -> None:
    """A service's refusal, shown next to the field it names (or above the form)."""
    if isinstance(error, DomainError):
        form.add_error(None, error.message)
    elif hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


def money(amount, currency: str = "") -> str:
    """An amount for the current language: grouped digits, two decimals, the currency code."""
    if amount is None:
        return "—"
    text = formats.number_format(
        round_half_up(Decimal(amount)), decimal_pos=2, use_l10n=True, force_grouping=True
    )
    return f"{text} {currency}".strip()


def status_label(choices, value: str) -> str:
    """The label of a status recorded as plain text (events keep the value, not the choice)."""
    try:
        return choices(value).label
    except ValueError:
        return value


def day(value) -> str:
    return formats.date_format(value) if value else "—"


def confirmation(
    request,
    *,
    title: str,
    question: str,
    action: str,
    cancel_url: str,
    facts=(),
    hidden=None,
    danger: bool = False,
    extra_template: str = "",
    extra=None,
):
    """The confirmation step: what will happen, and a button that posts it again, confirmed.
    `hidden` defaults to what was posted, so the confirmed POST carries the same input."""
    if hidden is None:
        hidden = [
            (name, value)
            for name in request.POST
            if name not in ("csrfmiddlewaretoken", "confirmed")
            for value in request.POST.getlist(name)
        ]
    context = {
        "title": title,
        "question": question,
        "action": action,
        "cancel_url": cancel_url,
        "facts": facts,
        "hidden": hidden,
        "danger": danger,
        "extra_template": extra_template,
        **(extra or {}),
    }
    return render(request, "suppliers/confirm.html", context)


# A supplier's invoices ------------------------------------------------------------------------


@acting_required
def invoice_list(request):
    organization = acting_organization(request, OrganizationKind.ENTERPRISE)
    filters = InvoiceFilterForm(request.GET or None, parties=buyers_of(organization))
    invoices = filters.apply(
        Invoice.objects.where_party("seller", organization)
        .select_related("buyer")
        .order_by("-created_at", "-id")
    )
    return render(
        request,
        "suppliers/invoice_list.html",
        {
            "page": paginate(request, invoices),
            "filters": filters,
            "may_add": request.acting.has_role(Role.MAKER, Role.ADMIN),
        },
    )


@acting_required
def invoice_add(request):
    organization = acting_organization(request, OrganizationKind.ENTERPRISE)
    require_role(request, Role.MAKER, Role.ADMIN)
    form = InvoiceForm(posted(request), seller=organization)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if not is_confirmed(request):
            term = (data["due_date"] - data["issue_date"]).days
            facts = [
                (_("Invoice number"), data["number"]),
                (_("Buyer"), data["buyer"].name),
                (_("Issue date"), day(data["issue_date"])),
                (_("Due date"), day(data["due_date"])),
                (_("Amount"), money(data["amount"], data["currency"])),
            ]
            return confirmation(
                request,
                title=_("Add this invoice?"),
                question=_("The buyer will be asked to confirm it."),
                action=_("Add invoice"),
                cancel_url=reverse("portal:invoices"),
                facts=facts,
                extra={"long_term": term > 60, "term_days": term},
                extra_template="suppliers/_term_warning.html",
            )
        try:
            invoice = invoice_create(
                seller=organization, actor=request.user, source=InvoiceSource.PORTAL, **data
            )
        except (ValidationError, DomainError) as error:
            add_errors(form, error)
        else:
            messages.success(
                request,
                _("Invoice %(n)s was added; %(b)s is asked to confirm it.")
                % {"n": invoice.number, "b": invoice.buyer.name},
            )
            return redirect("portal:invoice_detail", pk=invoice.pk)
    return render(request, "suppliers/invoice_form.html", {"form": form})


@acting_required
def invoice_upload(request):
    organization = acting_organization(request, OrganizationKind.ENTERPRISE)
    require_role(request, Role.MAKER, Role.ADMIN)
    form = InvoiceUploadForm(posted(request), request.FILES if request.method == "POST" else None)
    report = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > import_max_bytes():
            form.add_error(
                "file",
                _("The file is larger than %(max)s bytes.")
                % {"max": formats.number_format(import_max_bytes(), force_grouping=True)},
            )
        else:
            try:
                report = invoices_import(
                    seller=organization,
                    actor=request.user,
                    filename=upload.name,
                    content=upload.read(),
                )
            except ImportFileError as error:
                form.add_error("file", error.message)
            else:
                level = messages.success if not report.rejected else messages.warning
                level(request, _("%(name)s was read: the report is below.") % {"name": upload.name})
                form = InvoiceUploadForm()
    created = []
    if report is not None and report.invoice_ids:
        # A file may land 100,000 invoices: the page names the first of them; the list has all.
        created = list(
            Invoice.objects.visible_to(organization)
            .filter(pk__in=report.invoice_ids[:LANDED_SHOWN])
            .select_related("buyer")
            .order_by("pk")
        )
    rejected = [
        {
            "row": rejection.row,
            "field": field,
            "label": UPLOAD_FIELDS.get(field, ""),
            "errors": errors,
        }
        for rejection in (report.rejected if report else [])
        for field, errors in rejection.errors.items()
    ]
    return render(
        request,
        "suppliers/invoice_upload.html",
        {
            "form": form,
            "report": report,
            "created": created,
            "more_landed": report.created - len(created) if report else 0,
            "rejected": rejected,
        },
    )


@acting_required
def invoice_detail(request, pk: int):
    organization = acting_organization(request)
    invoice = get_object_or_404(
        Invoice.objects.visible_to(organization).select_related(
            "seller", "buyer", "confirmed_by", "created_by"
        ),
        pk=pk,
    )
    events = list(
        InvoiceEvent.objects.visible_to(organization)
        .filter(invoice=invoice)
        .select_related("actor", "actor_organization")
    )
    for event in events:
        event.label = status_label(InvoiceStatus, event.to_status)
    may_answer = (
        invoice.buyer_id == organization.pk
        and invoice.status == InvoiceStatus.UPLOADED
        and request.acting.has_role(Role.CHECKER, Role.ADMIN)
    )
    return render(
        request,
        "suppliers/invoice_detail.html",
        {"invoice": invoice, "events": events, "may_answer": may_answer},
    )


# A core enterprise's payables ------------------------------------------------------------------


@acting_required
def payable_list(request):
    organization = acting_organization(request, OrganizationKind.ENTERPRISE)
    params = request.GET.copy()
    if "status" not in params:
        # The queue: what waits for this buyer's answer.
        params["status"] = InvoiceStatus.UPLOADED
    filters = InvoiceFilterForm(params, parties=sellers_to(organization), party_field="seller")
    invoices = filters.apply(
        Invoice.objects.where_party("buyer", organization)
        .select_related("seller")
        .order_by("due_date", "pk")
    )
    return render(
        request,
        "suppliers/payable_list.html",
        {
            "page": paginate(request, invoices),
            "filters": filters,
            "may_answer": request.acting.has_role(Role.CHECKER, Role.ADMIN),
        },
    )


@acting_required
def payables_confirm(request):
    """Confirm one or many payables: the list sends the chosen ids here; this page asks, then
    confirms each (each is the buyer's irrevocable undertaking to pay)."""
    organization = acting_organization(request, OrganizationKind.ENTERPRISE)
    require_role(request, Role.CHECKER, Role.ADMIN)
    source = request.POST if request.method == "POST" else request.GET
    try:
        ids = sorted({int(value) for value in source.getlist("invoice")})
    except ValueError:
        raise Http404 from None
    if not ids:
        messages.error(request, _("Choose at least one invoice to confirm."))
        return redirect("portal:payables")
    invoices = list(
        Invoice.objects.visible_to(organization)
        .filter(buyer=organization, pk__in=ids)
        .select_related("seller")
        .order_by("due_date", "pk")
    )
    if len(invoices) != len(ids):
        raise Http404
    if not is_confirmed(request):
        # Per currency: amounts of different currencies are never added.
        totals: dict[str, Decimal] = {}
        for invoice in invoices:
            totals[invoice.currency] = totals.get(invoice.currency, Decimal(0)) + invoice.amount
        return confirmation(
            request,
            title=_("Confirm %(count)s payables?") % {"count": len(invoices)},
            question=_(
                "Confirming is your irrevocable undertaking to pay each amount at its due date "
                "to whoever holds the receivable."
            ),
            action=_("Confirm payables"),
            cancel_url=reverse("portal:payables"),
            facts=[(_("Total"), " · ".join(money(v, c) for c, v in sorted(totals.items())))],
            hidden=[("invoice", invoice.pk) for invoice in invoices],
            extra_template="suppliers/_invoice_table.html",
            extra={"invoices": invoices},
        )
    confirmed, refused = [], []
    for invoice in invoices:
        try:
            invoice_confirm(invoice_id=invoice.pk, buyer=organization, actor=request.user)
        except DomainError as error:
            refused.append(f"{invoice.number}: {error.message}")
        else:
            confirmed.append(invoice.number)
    if confirmed:
        messages.success(request, _("Confirmed: %(numbers)s.") % {"numbers": ", ".join(confirmed)})
    for message in refused:
        messages.error(request, message)
    return redirect("portal:payables")


@acting_required
def invoice_dispute_view(request, pk: int):
    organization = acting_organization(request, OrganizationKind.ENTERPRISE)
    invoice = get_object_or_404(
        Invoice.objects.visible_to(organization).select_related("seller"), pk=pk
    )
    if invoice.buyer_id != organization.pk:
        raise PermissionDenied(_("Only the buyer disputes an invoice."))
    require_role(request, Role.CHECKER, Role.ADMIN)
    form = DisputeForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            invoice_dispute(
                invoice_id=invoice.pk,
                buyer=organization,
                actor=request.user,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            add_errors(form, error)
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("portal:invoice_detail", pk=invoice.pk)
        else:
            messages.success(
                request,
                _("Invoice %(n)s was disputed; %(s)s was told why.")
                % {"n": invoice.number, "s": invoice.seller.name},
            )
            return redirect("portal:payables")
    return render(request, "suppliers/invoice_dispute.html", {"invoice": invoice, "form": form})
