"""Writes of the supply chain: trade links, invoices, and the buyer's confirmation (确权)."""

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from scf_platform.business_events import business_event_record, business_transaction_begin
from scf_platform.errors import IllegalTransition, NotPermitted
from scf_platform.models import Organization, OrganizationKind
from scf_platform.notifications import notify
from suppliers.models import Invoice, InvoiceEvent, InvoiceSource, InvoiceStatus, TradeLink
from suppliers.selectors import trade_link_exists

CURRENCIES = {"CNY", "USD", "EUR", "HKD", "JPY", "GBP"}


def trade_link_create(*, core_enterprise: Organization, counterparty: Organization, role: str):
    if counterparty.kind != OrganizationKind.ENTERPRISE:
        raise ValidationError({"organization": [_("Only an enterprise can be linked.")]})
    if counterparty.pk == core_enterprise.pk:
        raise ValidationError({"organization": [_("An enterprise cannot be linked to itself.")]})
    link, _created = TradeLink.objects.get_or_create(
        core_enterprise=core_enterprise, counterparty=counterparty, role=role
    )
    return link


def invoice_payload(invoice: Invoice) -> dict:
    return {
        "invoice": invoice.pk,
        "number": invoice.number,
        "seller": invoice.seller_id,
        "buyer": invoice.buyer_id,
        "issue_date": invoice.issue_date.isoformat(),
        "due_date": invoice.due_date.isoformat(),
        "currency": invoice.currency,
        "amount": str(invoice.amount),
        "status": invoice.status,
    }


def _event(invoice: Invoice, *, actor, actor_organization, from_status, to_status, reason=""):
    InvoiceEvent.objects.create(
        invoice=invoice,
        seller_id=invoice.seller_id,
        buyer_id=invoice.buyer_id,
        actor=actor,
        actor_organization=actor_organization,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
    )
    business_event_record(
        kind=f"invoice.{to_status}",
        subject=f"invoice:{invoice.pk}",
        parties=[invoice.seller_id, invoice.buyer_id],
        payload={**invoice_payload(invoice), "from": from_status, "reason": reason},
    )


def invoice_validate(
    *,
    seller: Organization,
    buyer: Organization | None,
    number: str,
    issue_date: date,
    due_date: date,
    currency: str,
    amount: Decimal,
) -> None:
    """The rules of an invoice, as field errors (all of them at once)."""
    errors: dict[str, list[str]] = {}
    number = number.strip()
    if not number:
        errors.setdefault("number", []).append(_("An invoice number is required."))
    elif not number.isascii() or not number.isprintable():
        # Look-alike characters (full-width digits, Cyrillic letters) would make twins that
        # compare different; invoice numbers are plain printable ASCII.
        errors.setdefault("number", []).append(
            _("An invoice number may contain only plain ASCII letters, digits and punctuation.")
        )
    if buyer is None:
        errors.setdefault("buyer", []).append(_("Unknown buyer."))
    elif not trade_link_exists(seller=seller, buyer=buyer):
        errors.setdefault("buyer", []).append(_("You are not a supplier of this buyer."))
    if due_date < issue_date:
        errors.setdefault("due_date", []).append(_("The due date is before the issue date."))
    if currency not in CURRENCIES:
        errors.setdefault("currency", []).append(_("Unsupported currency %(c)s.") % {"c": currency})
    if amount <= 0:
        errors.setdefault("amount", []).append(_("The amount must be positive."))
    elif amount.as_tuple().exponent < -2:
        errors.setdefault("amount", []).append(_("An amount has at most two decimals."))
    if number and Invoice.objects.filter(seller=seller, number=number).exists():
        errors.setdefault("number", []).append(
            _("You already uploaded an invoice numbered %(n)s.") % {"n": number}
        )
    if errors:
        raise ValidationError(errors)


def invoice_create(
    *,
    seller: Organization,
    buyer: Organization | None,
    number: str,
    issue_date: date,
    due_date: date,
    currency: str,
    amount: Decimal,
    actor,
    source: str = InvoiceSource.API,
) -> Invoice:
    invoice_validate(
        seller=seller,
        buyer=buyer,
        number=number,
        issue_date=issue_date,
        due_date=due_date,
        currency=currency,
        amount=amount,
    )
    try:
        with transaction.atomic():
            business_transaction_begin()
            invoice = Invoice.objects.create(
                seller=seller,
                buyer=buyer,
                number=number.strip(),
                issue_date=issue_date,
                due_date=due_date,
                currency=currency,
                amount=amount,
                source=source,
                created_by=actor,
            )
            _event(
                invoice,
                actor=actor,
                actor_organization=seller,
                from_status="",
                to_status=InvoiceStatus.UPLOADED,
            )
    except IntegrityError:
        # A twin uploaded concurrently: the unique constraint decided.
        raise ValidationError(
            {"number": [_("You already uploaded an invoice numbered %(n)s.") % {"n": number}]}
        ) from None
    return invoice


def _buyer_transition(invoice_id: int, *, buyer: Organization, actor, to_status, reason=""):
    with transaction.atomic():
        business_transaction_begin()
        invoice = Invoice.objects.select_for_update(no_key=True).get(pk=invoice_id)
        if invoice.buyer_id != buyer.pk:
            raise NotPermitted(_("Only the buyer confirms or disputes an invoice."))
        if invoice.status != InvoiceStatus.UPLOADED:
            raise IllegalTransition(
                _("The invoice is %(status)s; only an uploaded invoice can be %(to)s.")
                % {"status": invoice.get_status_display(), "to": to_status}
            )
        if actor.pk == invoice.created_by_id:
            raise NotPermitted(_("Whoever uploaded an invoice cannot confirm it."))
        invoice.status = to_status
        if to_status == InvoiceStatus.CONFIRMED:
            invoice.confirmed_by = actor
            invoice.confirmed_at = timezone.now()
        else:
            invoice.dispute_reason = reason
        invoice.save(update_fields=["status", "confirmed_by", "confirmed_at", "dispute_reason"])
        _event(
            invoice,
            actor=actor,
            actor_organization=buyer,
            from_status=InvoiceStatus.UPLOADED,
            to_status=to_status,
            reason=reason,
        )
        notify(
            organization=invoice.seller,
            subject=lambda: _("Invoice %(n)s was %(s)s by %(b)s")
            % {"n": invoice.number, "s": invoice.get_status_display().lower(), "b": buyer.name},
            body=reason,
            link=f"/portal/invoices/{invoice.pk}/",
        )
    return invoice


def invoice_confirm(*, invoice_id: int, buyer: Organization, actor) -> Invoice:
    """The buyer's irrevocable undertaking to pay the amount at the due date to whoever holds
    the receivable."""
    return _buyer_transition(
        invoice_id, buyer=buyer, actor=actor, to_status=InvoiceStatus.CONFIRMED
    )


def invoice_dispute(*, invoice_id: int, buyer: Organization, actor, reason: str) -> Invoice:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why the invoice is disputed.")]})
    return _buyer_transition(
        invoice_id, buyer=buyer, actor=actor, to_status=InvoiceStatus.DISPUTED, reason=reason
    )
