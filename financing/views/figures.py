"""The figures of the dashboards and the portfolio: reads only, always through visible_to() (or
where_party(), one side of it)."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from financing.models import (
    ACTIVE_STATUSES,
    FinancingRequest,
    Program,
    ProgramParticipant,
    RequestStatus,
)
from financing.services.money import amount_outstanding
from scf_platform.models import Organization
from scf_platform.money import money
from suppliers.models import Invoice, InvoiceStatus

FINANCED = (RequestStatus.DISBURSED, RequestStatus.OVERDUE)
PENDING = (RequestStatus.SUBMITTED, RequestStatus.IN_REVIEW, RequestStatus.APPROVED)
DUE_BUCKETS = (30, 60, 90)


def totals(queryset, field: str) -> str:
    """Sums per currency, formatted for the language ("1,000.00 CNY · 20.00 USD")."""
    rows = (
        queryset.order_by()
        .values("currency")
        .annotate(total=Coalesce(Sum(field), Decimal(0)))
        .order_by("currency")
    )
    parts = [money(row["total"], row["currency"]) for row in rows if row["total"]]
    return " · ".join(parts) if parts else money(Decimal(0))


@dataclass
class Bar:
    label: str
    value_text: str
    fraction: float
    tone: str = "brand"

    @property
    def percent(self) -> str:
        return f"{max(0.0, min(self.fraction, 1.0)) * 100:.1f}"


def bars(items: list[tuple[str, Decimal, str]], *, scale: Decimal | None = None, tone="brand"):
    """Bars of `items` (label, value, text), each a fraction of `scale` (the largest value)."""
    top = scale if scale is not None else max((value for _l, value, _t in items), default=0)
    return [
        Bar(label, text, float(value / top) if top else 0.0, tone) for label, value, text in items
    ]


def currency_bars(items: list[tuple[str, str, Decimal]], *, tone="brand") -> list[Bar]:
    """Bars of `items` (label, currency, amount), in their order, each a fraction of the largest
    amount in its own currency: amounts of different currencies are never added or compared."""
    top: dict[str, Decimal] = {}
    for _label, currency, amount in items:
        top[currency] = max(top.get(currency, Decimal(0)), amount)
    return [
        Bar(
            label,
            money(amount, currency),
            float(amount / top[currency]) if top[currency] else 0.0,
            tone,
        )
        for label, currency, amount in items
    ]


def bucket_bars(buckets: list[dict], *, tone="warn") -> list[Bar]:
    """A bar per bucket (of `due_buckets`) and currency, each currency on its own scale; with no
    amount at all, one empty bar a bucket."""
    currencies = sorted({currency for bucket in buckets for currency in bucket["amounts"]})
    if not currencies:
        return bars([(bucket["label"], Decimal(0), bucket["text"]) for bucket in buckets])
    return currency_bars(
        [
            (bucket["label"], currency, bucket["amounts"].get(currency, Decimal(0)))
            for bucket in buckets
            for currency in currencies
        ],
        tone=tone,
    )


# An SME (supplier) -----------------------------------------------------------------------------


def participation_limits(organization: Organization) -> list[dict]:
    """Per program: the program's available limit, the participant's sub-limit and what is left
    to the participant (the smaller of the two)."""
    rows = []
    participations = (
        ProgramParticipant.objects.visible_to(organization)
        .filter(organization=organization)
        .select_related("program", "program__bank", "program__core_enterprise")
    )
    for participant in participations:
        program = participant.program
        left = program.available
        if participant.available is not None:
            left = min(left, participant.available)
        rows.append(
            {
                "program": program,
                "participant": participant,
                "program_available": money(program.available, program.currency),
                "sub_limit": money(participant.limit, program.currency)
                if participant.limit is not None
                else None,
                "utilized": money(participant.utilized, program.currency),
                "available": money(left, program.currency),
            }
        )
    return rows


def sme_figures(organization: Organization, today: date) -> dict:
    requests = FinancingRequest.objects.visible_to(organization).filter(applicant=organization)
    financed = requests.filter(status__in=FINANCED)
    pending = requests.filter(status__in=PENDING)
    due_soon = financed.filter(maturity_date__lte=today + timedelta(days=30))
    invoices = Invoice.objects.where_party("seller", organization)
    return {
        "financed_total": totals(financed, "principal_outstanding"),
        "financed_count": financed.count(),
        "pending_total": totals(pending, "requested_amount"),
        "pending_count": pending.count(),
        "due_total": totals(due_soon, "principal_outstanding"),
        "due_count": due_soon.count(),
        "awaiting_confirmation": invoices.filter(status=InvoiceStatus.UPLOADED).count(),
        "confirmed_unfinanced": invoices.filter(status=InvoiceStatus.CONFIRMED)
        .exclude(receivable_holds__active=True)
        .count(),
        "limits": participation_limits(organization),
    }


# A core enterprise -----------------------------------------------------------------------------


def maturity_schedule(organization: Organization):
    """What the core enterprise must pay when: its network's financed requests by maturity."""
    return (
        FinancingRequest.objects.visible_to(organization)
        .filter(core_enterprise=organization, status__in=FINANCED)
        .select_related("applicant", "bank", "program")
        .order_by("maturity_date", "pk")
    )


def due_buckets(requests, today: date) -> list[dict]:
    """Outstanding amounts: overdue, then due within 30, 31-60, 61-90 days, then later."""
    labels = [
        ("overdue", _("Overdue")),
        ("30", _("Within 30 days")),
        ("60", _("In 31 to 60 days")),
        ("90", _("In 61 to 90 days")),
        ("later", _("Later")),
    ]
    buckets = [{"key": key, "label": label, "amounts": {}} for key, label in labels]
    for request in requests:
        days = (request.maturity_date - today).days if request.maturity_date else 0
        if request.status == RequestStatus.OVERDUE or days < 0:
            bucket = buckets[0]
        else:
            index = next((i for i, limit in enumerate(DUE_BUCKETS) if days <= limit), None)
            bucket = buckets[1 + index] if index is not None else buckets[-1]
        amounts = bucket["amounts"]
        amounts[request.currency] = amounts.get(request.currency, Decimal(0)) + (
            amount_outstanding(request)
        )
    for bucket in buckets:
        # Per currency: amounts of different currencies are never added.
        bucket["text"] = " · ".join(
            money(v, c) for c, v in sorted(bucket["amounts"].items())
        ) or money(Decimal(0))
    return buckets


def core_figures(organization: Organization, today: date) -> dict:
    payables = Invoice.objects.where_party("buyer", organization).filter(
        status=InvoiceStatus.UPLOADED
    )
    schedule = list(maturity_schedule(organization))
    next_due = schedule[0] if schedule else None
    return {
        "payables_count": payables.count(),
        "payables_total": totals(payables, "amount"),
        "owed_count": len(schedule),
        "buckets": due_buckets(schedule, today),
        "next_due": next_due,
        "next_due_amount": money(amount_outstanding(next_due), next_due.currency)
        if next_due
        else None,
        "suppliers_count": ProgramParticipant.objects.visible_to(organization)
        .filter(core_enterprise=organization)
        .values("organization")
        .distinct()
        .count(),
    }


# A bank ----------------------------------------------------------------------------------------


def bank_figures(organization: Organization, today: date) -> dict:
    requests = FinancingRequest.objects.visible_to(organization).filter(bank=organization)
    return {
        "queue_count": requests.filter(status=RequestStatus.IN_REVIEW).count(),
        "approved_count": requests.filter(status=RequestStatus.APPROVED).count(),
        "outstanding": totals(requests.filter(status__in=FINANCED), "principal_outstanding"),
        "overdue_count": requests.filter(status=RequestStatus.OVERDUE).count(),
    }


def portfolio(bank: Organization, today: date) -> dict:
    programs = list(Program.objects.visible_to(bank).filter(bank=bank).order_by("name", "pk"))
    utilization = [
        (
            program.name,
            program.utilized,
            f"{money(program.utilized, program.currency)}"
            f" / {money(program.credit_limit, program.currency)}",
            program.credit_limit,
        )
        for program in programs
    ]
    requests = FinancingRequest.objects.visible_to(bank).filter(bank=bank)
    # Per status and currency: amounts of different currencies are never added.
    by_status: dict[str, list[dict]] = {}
    for row in (
        requests.order_by()
        .values("status", "currency")
        .annotate(
            total=Coalesce(Sum(Coalesce("advance_amount", "requested_amount")), Decimal(0)),
            n=Count("pk"),
        )
        .order_by("status", "currency")
    ):
        by_status.setdefault(row["status"], []).append(row)
    status_items = [
        (f"{label} ({row['n']})", row["currency"], row["total"])
        for value, label in RequestStatus.choices
        for row in by_status.get(value, [])
    ]
    financed = list(requests.filter(status__in=FINANCED).order_by("maturity_date", "pk"))
    buckets = due_buckets(financed, today)
    return {
        "programs": programs,
        "utilization": [
            Bar(label, text, float(value / limit) if limit else 0.0, "brand")
            for label, value, text, limit in utilization
        ],
        "by_status": currency_bars(status_items),
        "buckets": buckets,
        "due_bars": bucket_bars(buckets[1:4]),
        "overdue": buckets[0],
        "overdue_count": sum(1 for r in financed if r.status == RequestStatus.OVERDUE),
        "active_count": requests.filter(status__in=ACTIVE_STATUSES).count(),
        "outstanding": totals(requests.filter(status__in=FINANCED), "principal_outstanding"),
    }
