"""Portal forms of the supply chain: invoices (one by hand, a file of many), the buyer's answer."""

from django import forms
from django.utils.translation import gettext_lazy as _

from scf_platform.forms import DateInput, currency_choices
from scf_platform.models import Organization
from suppliers.models import InvoiceStatus, TradeLink


def buyers_of(seller: Organization):
    """The core enterprises the seller supplies (whom it may invoice)."""
    return Organization.objects.filter(
        pk__in=TradeLink.objects.filter(counterparty=seller, role="supplier").values(
            "core_enterprise_id"
        )
    ).order_by("name")


def sellers_to(buyer: Organization):
    return Organization.objects.filter(
        pk__in=TradeLink.objects.filter(core_enterprise=buyer, role="supplier").values(
            "counterparty_id"
        )
    ).order_by("name")


class InvoiceForm(forms.Form):
    number = forms.CharField(label=_("Invoice number"), max_length=64)
    buyer = forms.ModelChoiceField(label=_("Buyer"), queryset=Organization.objects.none())
    issue_date = forms.DateField(label=_("Issue date"), widget=DateInput())
    due_date = forms.DateField(label=_("Due date"), widget=DateInput())
    currency = forms.ChoiceField(label=_("Currency"), choices=currency_choices, initial="CNY")
    amount = forms.DecimalField(
        label=_("Amount"), max_digits=18, decimal_places=2, min_value=0.01, localize=False
    )

    def __init__(self, *args, seller: Organization, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["buyer"].queryset = buyers_of(seller)


class InvoiceUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Invoice file"),
        help_text=_(
            "A CSV file with the header number,buyer_credit_code,issue_date,due_date,currency,"
            "amount, or one UBL 2.1 invoice (XML)."
        ),
    )
    genuine = forms.BooleanField(
        label=_(
            "I confirm that these invoices are genuine and may be sent to the buyers for "
            "confirmation."
        ),
        required=True,
    )


class InvoiceFilterForm(forms.Form):
    """The filters of an invoice list; `party` is the buyer for a seller and the reverse."""

    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All"))] + InvoiceStatus.choices
    )
    party = forms.ModelChoiceField(
        label=_("Buyer"), required=False, queryset=Organization.objects.none(), empty_label=_("All")
    )
    due_from = forms.DateField(label=_("Due from"), required=False, widget=DateInput())
    due_to = forms.DateField(label=_("Due until"), required=False, widget=DateInput())

    def __init__(self, *args, parties, party_field: str = "buyer", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.party_field = party_field
        self.fields["party"].queryset = parties
        if party_field == "seller":
            self.fields["party"].label = _("Supplier")

    def apply(self, queryset):
        if not self.is_valid():
            return queryset
        data = self.cleaned_data
        if data["status"]:
            queryset = queryset.filter(status=data["status"])
        if data["party"]:
            queryset = queryset.filter(**{self.party_field: data["party"]})
        if data["due_from"]:
            queryset = queryset.filter(due_date__gte=data["due_from"])
        if data["due_to"]:
            queryset = queryset.filter(due_date__lte=data["due_to"])
        return queryset


class DisputeForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for the dispute"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )
