"""Portal forms of financing: applying, the bank's decisions, programs and participants,
repayments, and the filters of its lists."""

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from financing.models import (
    MAX_ADVANCE_RATE,
    MAX_RATE,
    MAX_SLA_HOURS,
    MAX_TENOR_DAYS,
    DayCount,
    Product,
    Program,
    ProgramStatus,
    RequestStatus,
)
from financing.products.receivables.selectors import financeable_invoices
from financing.products.registry import product_choices
from scf_platform.forms import DateInput, currency_choices
from scf_platform.models import Organization, OrganizationKind
from suppliers.models import Invoice, LinkRole

MONEY = {"max_digits": 18, "decimal_places": 2, "localize": False}


def programs_to_apply_to(applicant: Organization):
    """Active receivables programs the applicant takes part in."""
    return (
        Program.objects.visible_to(applicant)
        .filter(
            participants__organization=applicant,
            status=ProgramStatus.ACTIVE,
            products__contains=[Product.RECEIVABLES],
        )
        .select_related("bank", "core_enterprise")
        .order_by("name", "pk")
    )


class InvoiceChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, invoice) -> str:
        return invoice.number


class ApplyForm(forms.Form):
    """Pick a program, its confirmed invoices and an amount; bound from GET while choosing (the
    quote is recalculated), from POST when submitting."""

    program = forms.ModelChoiceField(label=_("Program"), queryset=Program.objects.none())
    invoices = InvoiceChoiceField(
        label=_("Invoices"),
        queryset=Invoice.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one confirmed invoice.")},
    )
    requested_amount = forms.DecimalField(
        label=_("Requested amount"),
        required=False,
        min_value=0.01,
        help_text=_("Leave empty to ask for the whole advance."),
        **MONEY,
    )

    def __init__(self, *args, applicant: Organization, today, program_id=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        programs = programs_to_apply_to(applicant)
        self.fields["program"].queryset = programs
        self.program = None
        if program_id:
            if str(program_id).isdigit():
                self.program = programs.filter(pk=program_id).first()
        elif len(programs) == 1:
            self.program = programs[0]
        if self.program is not None:
            self.initial.setdefault("program", self.program.pk)
        self.fields["invoices"].queryset = financeable_invoices(
            applicant=applicant, program=self.program, today=today
        )


class CommentForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class DisburseForm(forms.Form):
    value_date = forms.DateField(label=_("Value date"), widget=DateInput())


class RepayForm(forms.Form):
    amount = forms.DecimalField(label=_("Amount"), min_value=0.01, **MONEY)
    paid_on = forms.DateField(label=_("Paid on"), widget=DateInput())


class EnterpriseByCreditCode(forms.CharField):
    """An enterprise named by its unified social credit code."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("max_length", 18)
        kwargs.setdefault("min_length", 18)
        super().__init__(**kwargs)

    def clean(self, value):
        code = (super().clean(value) or "").strip().upper()
        organization = Organization.objects.filter(
            credit_code=code, kind=OrganizationKind.ENTERPRISE
        ).first()
        if organization is None:
            raise ValidationError(
                _("No enterprise on the platform has this unified social credit code."),
                code="unknown",
            )
        return organization


class ProgramForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    core_enterprise = EnterpriseByCreditCode(
        label=_("Core enterprise (unified social credit code)")
    )
    currency = forms.ChoiceField(label=_("Currency"), choices=currency_choices, initial="CNY")
    credit_limit = forms.DecimalField(label=_("Credit limit"), min_value=0.01, **MONEY)
    advance_rate = forms.DecimalField(
        label=_("Advance rate"),
        max_digits=5,
        decimal_places=4,
        min_value=Decimal("0.0001"),
        max_value=MAX_ADVANCE_RATE,
        # xgettext:no-python-format
        help_text=_("A fraction: 0.90 lends 90% of the invoices."),
        localize=False,
    )
    annual_rate = forms.DecimalField(
        label=_("Annual discount rate"),
        max_digits=7,
        decimal_places=6,
        # The bounds are financing.models' (the same for the API and the service).
        min_value=0,
        max_value=MAX_RATE - Decimal("0.000001"),
        help_text=_("A fraction: 0.0435 is 4.35% a year."),
        localize=False,
    )
    day_count = forms.ChoiceField(
        label=_("Day count"), choices=DayCount.choices, initial=DayCount.ACT_360
    )
    max_tenor_days = forms.IntegerField(
        label=_("Maximum tenor (days)"), min_value=1, max_value=MAX_TENOR_DAYS
    )
    dual_approval_threshold = forms.DecimalField(
        label=_("Two checkers above"),
        min_value=0,
        help_text=_("Requests above this amount need the approval of two different checkers."),
        **MONEY,
    )
    products = forms.MultipleChoiceField(
        label=_("Products"),
        choices=product_choices,
        initial=[Product.RECEIVABLES],
        widget=forms.CheckboxSelectMultiple,
    )
    sla_hours = forms.IntegerField(
        label=_("Queue SLA (hours)"), min_value=1, max_value=MAX_SLA_HOURS, initial=24
    )


class ParticipantForm(forms.Form):
    program = forms.ModelChoiceField(label=_("Program"), queryset=Program.objects.none())
    organization = EnterpriseByCreditCode(label=_("Enterprise (unified social credit code)"))
    role = forms.ChoiceField(label=_("Role"), choices=LinkRole.choices, initial=LinkRole.SUPPLIER)
    limit = forms.DecimalField(
        label=_("Sub-limit"),
        required=False,
        min_value=0.01,
        help_text=_("Optional: the most this participant may have financed at once."),
        **MONEY,
    )

    def __init__(self, *args, core_enterprise: Organization, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["program"].queryset = Program.objects.visible_to(core_enterprise).filter(
            core_enterprise=core_enterprise
        )


class RequestFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All"))] + RequestStatus.choices
    )
    program = forms.ModelChoiceField(
        label=_("Program"), required=False, queryset=Program.objects.none(), empty_label=_("All")
    )

    def __init__(self, *args, organization: Organization, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["program"].queryset = Program.objects.visible_to(organization)

    def apply(self, queryset):
        if not self.is_valid():
            return queryset
        if self.cleaned_data["status"]:
            queryset = queryset.filter(status=self.cleaned_data["status"])
        if self.cleaned_data["program"]:
            queryset = queryset.filter(program=self.cleaned_data["program"])
        return queryset


class QueueFilterForm(forms.Form):
    program = forms.ModelChoiceField(
        label=_("Program"), required=False, queryset=Program.objects.none(), empty_label=_("All")
    )
    breached = forms.BooleanField(label=_("Only SLA breaches"), required=False)

    def __init__(self, *args, bank: Organization, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["program"].queryset = Program.objects.visible_to(bank).filter(bank=bank)


class ParticipantFilterForm(forms.Form):
    program = forms.ModelChoiceField(
        label=_("Program"), required=False, queryset=Program.objects.none(), empty_label=_("All")
    )
    query = forms.CharField(label=_("Name or credit code"), required=False, max_length=200)

    def __init__(self, *args, organization: Organization, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["program"].queryset = Program.objects.visible_to(organization)

    def apply(self, queryset):
        if not self.is_valid():
            return queryset
        if self.cleaned_data["program"]:
            queryset = queryset.filter(program=self.cleaned_data["program"])
        if self.cleaned_data["query"]:
            text = self.cleaned_data["query"].strip()
            queryset = queryset.filter(
                Q(organization__name__icontains=text) | Q(organization__credit_code=text.upper())
            )
        return queryset


class ProgramFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All"))] + ProgramStatus.choices
    )

    def apply(self, queryset):
        if self.is_valid() and self.cleaned_data["status"]:
            return queryset.filter(status=self.cleaned_data["status"])
        return queryset
