"""Writes of the supply chain: trade links, invoices, and the buyer's confirmation (确权)."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import islice

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection
from django.utils import timezone
from django.utils.translation import gettext as _

from scf_platform.bulk_sql import array_literal
from scf_platform.business_events import (
    BusinessEvent,
    business_event_record,
    business_event_record_many,
    business_transaction,
)
from scf_platform.errors import IllegalTransition
from scf_platform.models import Organization, OrganizationKind
from scf_platform.money import CURRENCIES
from scf_platform.notifications import notify
from scf_platform.policy import (
    may_confirm_invoice,
    may_create_trade_link,
    may_dispute_invoice,
    may_upload_invoices,
    membership_of,
    require,
)
from suppliers.models import (
    Invoice,
    InvoiceEvent,
    InvoiceSource,
    InvoiceStatus,
    TradeLink,
)
from suppliers.selectors import buyers_supplied, numbers_uploaded

# Bulk upload: invoices landed per statement.
LAND_BATCH = 2000


def trade_link_create(
    *, core_enterprise: Organization, counterparty: Organization, role: str, actor
) -> TradeLink:
    """The link, made (with its event and ledger leaf) if it did not exist; linking twice, even
    at the same moment, returns the one link and records it once."""
    require(may_create_trade_link, membership_of(actor, core_enterprise))
    if counterparty.kind != OrganizationKind.ENTERPRISE:
        raise ValidationError({"organization": [_("Only an enterprise can be linked.")]})
    if counterparty.pk == core_enterprise.pk:
        raise ValidationError({"organization": [_("An enterprise cannot be linked to itself.")]})
    # The ledger's lock first: a concurrent twin waits for it, then finds the link made.
    with business_transaction():
        link, created = TradeLink.objects.get_or_create(
            core_enterprise=core_enterprise, counterparty=counterparty, role=role
        )
        if created:
            business_event_record(
                kind="trade_link.created",
                subject=f"trade_link:{link.pk}",
                parties=[core_enterprise.pk, counterparty.pk],
                payload={
                    "trade_link": link.pk,
                    "core_enterprise": core_enterprise.pk,
                    "counterparty": counterparty.pk,
                    "role": role,
                },
            )
    return link


def invoice_payload(invoice: "Invoice | InvoiceDraft") -> dict:
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


def _business_event(
    invoice: "Invoice | InvoiceDraft",
    *,
    from_status: str,
    to_status: str,
    reason: str = "",
    reference: str = "",
) -> BusinessEvent:
    payload = {**invoice_payload(invoice), "from": from_status, "reason": reason}
    if reference:
        payload["reference"] = reference
    return BusinessEvent(
        kind=f"invoice.{to_status}",
        subject=f"invoice:{invoice.pk}",
        parties=[invoice.seller_id, invoice.buyer_id],
        payload=payload,
    )


def _event_row(
    invoice: Invoice, *, actor, actor_organization, from_status, to_status, reason="", details=None
) -> InvoiceEvent:
    return InvoiceEvent(
        invoice=invoice,
        seller_id=invoice.seller_id,
        buyer_id=invoice.buyer_id,
        actor=actor,
        actor_organization=actor_organization,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
        details=details or {},
    )


def _event(invoice: Invoice, *, actor, actor_organization, from_status, to_status, reason=""):
    _event_row(
        invoice,
        actor=actor,
        actor_organization=actor_organization,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
    ).save()
    event = _business_event(invoice, from_status=from_status, to_status=to_status, reason=reason)
    business_event_record(
        kind=event.kind, subject=event.subject, parties=event.parties, payload=event.payload
    )


# The rules of an invoice ------------------------------------------------------------------------
# One set of rules for one invoice (invoice_validate) and for a file of them (suppliers.imports):
# the database is asked what the rules need once per invoice or once per file, and
# invoice_errors applies them.


def invoice_errors(
    *,
    buyer: Organization | None,
    supplies_buyer: bool,
    number: str,
    already_uploaded: bool,
    issue_date: date,
    due_date: date,
    currency: str,
    amount: Decimal,
) -> dict[str, list[str]]:
    """The rules of an invoice, as field errors (all of them at once), given what the database
    says: whether the seller supplies `buyer` and has already uploaded `number` (stripped)."""
    errors: dict[str, list[str]] = {}
    if not number:
        errors["number"] = [_("An invoice number is required.")]
    elif not number.isascii() or not number.isprintable():
        # Look-alike characters (full-width digits, Cyrillic letters) would make twins that
        # compare different; invoice numbers are plain printable ASCII.
        errors["number"] = [
            _("An invoice number may contain only plain ASCII letters, digits and punctuation.")
        ]
    if buyer is None:
        errors["buyer"] = [_("Unknown buyer.")]
    elif not supplies_buyer:
        errors["buyer"] = [_("You are not a supplier of this buyer.")]
    if due_date < issue_date:
        errors["due_date"] = [_("The due date is before the issue date.")]
    if currency not in CURRENCIES:
        errors["currency"] = [_("Unsupported currency %(c)s.") % {"c": currency}]
    if amount <= 0:
        errors["amount"] = [_("The amount must be positive.")]
    elif amount.as_tuple().exponent < -2:
        errors["amount"] = [_("An amount has at most two decimals.")]
    if number and already_uploaded:
        errors.setdefault("number", []).append(already_uploaded_message(number))
    return errors


def already_uploaded_message(number: str) -> str:
    return _("You already uploaded an invoice numbered %(n)s.") % {"n": number}


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
    number = number.strip()
    errors = invoice_errors(
        buyer=buyer,
        supplies_buyer=buyer is not None
        and buyer.pk in buyers_supplied(seller=seller, buyer_ids=[buyer.pk]),
        number=number,
        already_uploaded=bool(number)
        and number in numbers_uploaded(seller=seller, numbers=[number]),
        issue_date=issue_date,
        due_date=due_date,
        currency=currency,
        amount=amount,
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
    require(may_upload_invoices, membership_of(actor, seller))
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
        with business_transaction():
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
        raise ValidationError({"number": [already_uploaded_message(number)]}) from None
    return invoice


# Many invoices at once (a bulk upload) ----------------------------------------------------------


@dataclass(slots=True)
class InvoiceDraft:
    """An invoice of a bulk upload that passed the rules: what invoice_create would write.
    `pk` is set when it lands."""

    seller_id: int
    buyer_id: int
    number: str
    issue_date: date
    due_date: date
    currency: str
    amount: Decimal
    status: str = InvoiceStatus.UPLOADED
    pk: int | None = None


def invoices_create_many(
    *, seller: Organization, actor, source: str, drafts: Iterable[InvoiceDraft]
) -> list[InvoiceDraft]:
    """Land drafts that passed invoice_errors, with what invoice_create writes for each (its
    "uploaded" event and ledger leaf), a few statements per LAND_BATCH invoices. Returns the
    drafts that landed, `pk` set; the rest were refused by the unique constraint (seller,
    number): uploaded meanwhile by someone else, or twice in `drafts`. Runs in the caller's
    transaction."""
    require(may_upload_invoices, membership_of(actor, seller))
    drafts = iter(drafts)
    batch = list(islice(drafts, LAND_BATCH))
    landed: list[InvoiceDraft] = []
    if not batch:
        return landed
    with business_transaction():
        while batch:
            batch_landed = _land(seller=seller, actor=actor, source=source, drafts=batch)
            business_event_record_many(
                _business_event(draft, from_status="", to_status=InvoiceStatus.UPLOADED)
                for draft in batch_landed
            )
            landed += batch_landed
            batch = list(islice(drafts, LAND_BATCH))
    return landed


# The invoices that do not collide with one already there, and their "uploaded" events, in one
# statement. ON CONFLICT DO NOTHING: a twin committed by a concurrent upload after the file's
# numbers were looked up is left out (RETURNING does not return it), not an error that would
# undo the batch.
_LAND = """
WITH landed AS (
    INSERT INTO suppliers_invoice (seller_id, buyer_id, number, issue_date, due_date, currency,
        amount, status, source, created_by_id, created_at, dispute_reason)
    SELECT %(seller)s, draft.buyer_id, draft.number, draft.issue_date, draft.due_date,
        draft.currency, draft.amount, %(status)s, %(source)s, %(actor)s, %(now)s, ''
    FROM unnest(%(buyers)s::bigint[], %(numbers)s::text[], %(issue_dates)s::date[],
        %(due_dates)s::date[], %(currencies)s::text[], %(amounts)s::numeric[])
        AS draft(buyer_id, number, issue_date, due_date, currency, amount)
    ON CONFLICT (seller_id, number) DO NOTHING
    RETURNING id, number, buyer_id
), events AS (
    INSERT INTO suppliers_invoiceevent (invoice_id, seller_id, buyer_id, actor_id,
        actor_organization_id, at, from_status, to_status, reason, details)
    SELECT landed.id, %(seller)s, landed.buyer_id, %(actor)s, %(seller)s, %(now)s, '',
        %(status)s, '', '{}'
    FROM landed
)
SELECT id, number FROM landed
"""


def _land(*, seller, actor, source, drafts: list[InvoiceDraft]) -> list[InvoiceDraft]:
    params = {
        "seller": seller.pk,
        "actor": actor.pk,
        "source": str(source),
        "status": str(InvoiceStatus.UPLOADED),
        "now": timezone.now(),
        "buyers": array_literal(draft.buyer_id for draft in drafts),
        "numbers": array_literal(draft.number for draft in drafts),
        "issue_dates": array_literal(draft.issue_date for draft in drafts),
        "due_dates": array_literal(draft.due_date for draft in drafts),
        "currencies": array_literal(draft.currency for draft in drafts),
        "amounts": array_literal(draft.amount for draft in drafts),
    }
    with connection.cursor() as cursor:
        cursor.execute(_LAND, params)
        ids = {number: pk for pk, number in cursor.fetchall()}
    landed = []
    for draft in drafts:
        # A number twice in one batch: only the first draft of it landed.
        draft.pk = ids.pop(draft.number, None)
        if draft.pk is not None:
            landed.append(draft)
    return landed


def _buyer_transition(
    invoice_id: int, *, buyer: Organization, actor, to_status, may, reason=""
) -> Invoice:
    with business_transaction():
        invoice = Invoice.objects.select_for_update(no_key=True).get(pk=invoice_id)
        require(may, membership_of(actor, buyer), invoice)
        if invoice.status != InvoiceStatus.UPLOADED:
            raise IllegalTransition(
                _("The invoice is %(status)s; only an uploaded invoice can be %(to)s.")
                % {"status": invoice.get_status_display(), "to": to_status}
            )
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
        invoice_id,
        buyer=buyer,
        actor=actor,
        to_status=InvoiceStatus.CONFIRMED,
        may=may_confirm_invoice,
    )


def invoice_dispute(*, invoice_id: int, buyer: Organization, actor, reason: str) -> Invoice:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why the invoice is disputed.")]})
    return _buyer_transition(
        invoice_id,
        buyer=buyer,
        actor=actor,
        to_status=InvoiceStatus.DISPUTED,
        may=may_dispute_invoice,
        reason=reason,
    )


# What a room above does with invoices (financing lends against them) -----------------------------
# Financing never writes an invoice's status itself: it asks here, and the change is written with
# its invoice event and its ledger leaf, in the caller's transaction. `reference` names what made
# the change, as the business events name subjects ("request:12"); suppliers do not know what it
# is, only that it is why.


def _invoices_move(
    *,
    invoice_ids: Iterable[int],
    from_status: str,
    to_status: str,
    actor,
    actor_organization: Organization | None,
    reference: str,
) -> list[Invoice]:
    ids = sorted(set(invoice_ids))
    with business_transaction():
        # Locked in pk order, after whatever rows the caller locked (see business_transaction).
        invoices = list(
            Invoice.objects.select_for_update(no_key=True).filter(pk__in=ids).order_by("pk")
        )
        if len(invoices) != len(ids):
            raise IllegalTransition(_("An invoice to change is not there."))
        for invoice in invoices:
            if invoice.status != from_status:
                raise IllegalTransition(
                    _("Invoice %(n)s is %(s)s; only a %(f)s invoice can become %(t)s.")
                    % {
                        "n": invoice.number,
                        "s": invoice.get_status_display().lower(),
                        "f": InvoiceStatus(from_status).label.lower(),
                        "t": InvoiceStatus(to_status).label.lower(),
                    }
                )
        # The conditional update is the guard, as for every status change.
        changed = Invoice.objects.filter(pk__in=ids, status=from_status).update(status=to_status)
        if changed != len(ids):
            raise IllegalTransition(_("An invoice changed meanwhile; reload it."))
        for invoice in invoices:
            invoice.status = to_status
        InvoiceEvent.objects.bulk_create(
            _event_row(
                invoice,
                actor=actor,
                actor_organization=actor_organization,
                from_status=from_status,
                to_status=to_status,
                details={"reference": reference},
            )
            for invoice in invoices
        )
        business_event_record_many(
            _business_event(
                invoice,
                from_status=from_status,
                to_status=to_status,
                reference=reference,
            )
            for invoice in invoices
        )
    return invoices


def invoices_mark_financed(
    *,
    invoice_ids: Iterable[int],
    actor,
    actor_organization: Organization | None,
    reference: str,
) -> list[Invoice]:
    """Confirmed invoices become financed (money was advanced against them; `reference` says
    by what). Each gets its event and its ledger leaf; all or none change."""
    return _invoices_move(
        invoice_ids=invoice_ids,
        from_status=InvoiceStatus.CONFIRMED,
        to_status=InvoiceStatus.FINANCED,
        actor=actor,
        actor_organization=actor_organization,
        reference=reference,
    )


def invoices_mark_paid(
    *,
    invoice_ids: Iterable[int],
    actor,
    actor_organization: Organization | None,
    reference: str,
) -> list[Invoice]:
    """Financed invoices become paid (what they secured was repaid in full; `reference` says
    what). Each gets its event and its ledger leaf; all or none change."""
    return _invoices_move(
        invoice_ids=invoice_ids,
        from_status=InvoiceStatus.FINANCED,
        to_status=InvoiceStatus.PAID,
        actor=actor,
        actor_organization=actor_organization,
        reference=reference,
    )
