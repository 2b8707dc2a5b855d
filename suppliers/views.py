"""Portal pages of the supply chain: a supplier's invoices (by hand or by file) and a core
enterprise's payables to confirm or dispute.

Views are thin: they check who may act, call one service and say what happened; what every page
shares (the confirmation step, errors next to fields, pagination) is in scf_platform.pages.
"""

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from scf_platform.errors import DomainError
from scf_platform.idempotency import once_outcome, once_per_key
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
    status_label,
)
from scf_platform.policy import (
    may_confirm_invoice,
    may_dispute_invoice,
    may_upload_invoices,
    require,
)
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
from suppliers.services import invoice_confirm, invoice_create, invoice_dispute, invoice_validate

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
            "may_add": may_upload_invoices(request.acting),
        },
    )


@acting_required
@once_per_key
def invoice_add(request):
    organization = acting_organization(request, OrganizationKind.ENTERPRISE)
    require(may_upload_invoices, request.acting)
    form = InvoiceForm(posted(request), seller=organization)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if not is_confirmed(request):
                # The rules invoice_create enforces, checked before the question is asked.
                invoice_validate(seller=organization, **data)
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
@once_per_key
def invoice_upload(request):
    """A file of invoices. The report is a page of its own (?report=<the form's one-time key>),
    drawn from what the import recorded as its outcome: reloading it shows the same report and
    imports nothing again."""
    organization = acting_organization(request, OrganizationKind.ENTERPRISE)
    require(may_upload_invoices, request.acting)
    form = InvoiceUploadForm(posted(request), request.FILES if request.method == "POST" else None)
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
                response = redirect(
                    reverse("portal:invoice_upload") + "?" + urlencode({"report": request.once_key})
                )
                response.once_outcome = {"report": _report_outcome(report)}
                return response
    report = None
    if request.method == "GET" and "report" in request.GET:
        report = (once_outcome(request, request.GET["report"]) or {}).get("report")
        if report is None:
            raise Http404
    created = []
    if report is not None and report["invoice_ids"]:
        # A file may land 100,000 invoices: the page names the first of them; the list has all.
        created = list(
            Invoice.objects.visible_to(organization)
            .filter(pk__in=report["invoice_ids"])
            .select_related("buyer")
            .order_by("pk")
        )
    rejected = [
        {
            "row": rejection["row"],
            "field": field,
            "label": UPLOAD_FIELDS.get(field, ""),
            "errors": errors,
        }
        for rejection in (report["rejected"] if report else [])
        for field, errors in rejection["errors"].items()
    ]
    return render(
        request,
        "suppliers/invoice_upload.html",
        {
            "form": form,
            "report": report,
            "created": created,
            "more_landed": report["created"] - len(created) if report else 0,
            "rejected": rejected,
        },
    )


def _report_outcome(report) -> dict:
    """What the report page shows of an import, kept as the upload's outcome (JSON)."""
    return {
        "filename": report.filename,
        "created": report.created,
        "invoice_ids": report.invoice_ids[:LANDED_SHOWN],
        "rejected": [{"row": r.row, "errors": r.errors} for r in report.rejected],
    }


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
    may_answer = invoice.status == InvoiceStatus.UPLOADED and may_confirm_invoice(
        request.acting, invoice
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
            "may_answer": may_confirm_invoice(request.acting),
        },
    )


@acting_required
@once_per_key
def payables_confirm(request):
    """Confirm one or many payables: the list sends the chosen ids here; this page asks, then
    confirms each (each is the buyer's irrevocable undertaking to pay)."""
    organization = acting_organization(request, OrganizationKind.ENTERPRISE)
    require(may_confirm_invoice, request.acting)
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
        # Asked only about invoices the service would confirm: say now which it would refuse.
        refusals = rehearse(lambda: _confirm_each(invoices, organization, request.user)[1])
        if refusals:
            for message in refusals:
                messages.error(request, message)
            return redirect("portal:payables")
        # Per currency: amounts of different currencies are never added.
        totals: dict[str, Decimal] = {}
        for invoice in invoices:
            totals[invoice.currency] = totals.get(invoice.currency, Decimal(0)) + invoice.amount
        return confirmation(
            request,
            title=ngettext(
                "Confirm %(count)s payable?", "Confirm %(count)s payables?", len(invoices)
            )
            % {"count": len(invoices)},
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
    confirmed, refused = _confirm_each(invoices, organization, request.user)
    if confirmed:
        messages.success(request, _("Confirmed: %(numbers)s.") % {"numbers": ", ".join(confirmed)})
    for message in refused:
        messages.error(request, message)
    return redirect("portal:payables")


def _confirm_each(invoices, buyer, actor) -> tuple[list[str], list[str]]:
    """Confirm each invoice: the numbers confirmed, and the refusals with their reasons."""
    confirmed, refused = [], []
    for invoice in invoices:
        try:
            invoice_confirm(invoice_id=invoice.pk, buyer=buyer, actor=actor)
        except DomainError as error:
            refused.append(f"{invoice.number}: {error.message}")
        else:
            confirmed.append(invoice.number)
    return confirmed, refused


@acting_required
@once_per_key
def invoice_dispute_view(request, pk: int):
    organization = acting_organization(request, OrganizationKind.ENTERPRISE)
    invoice = get_object_or_404(
        Invoice.objects.visible_to(organization).select_related("seller"), pk=pk
    )
    require(may_dispute_invoice, request.acting, invoice)
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
