"""Portal forms of the platform core."""

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from scf_platform.models import Organization, OrganizationKind, Role
from scf_platform.money import CURRENCIES
from scf_platform.throttle import login_blocked, login_failed, login_succeeded


class DateInput(forms.DateInput):
    """The browser's date picker; the value is always ISO 8601, whatever the language."""

    input_type = "date"

    def __init__(self, **kwargs) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


def currency_choices() -> list[tuple[str, str]]:
    return [(code, code) for code in sorted(CURRENCIES)]


class ThrottledAuthenticationForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "throttled": _("Too many failed sign-ins. Wait a few minutes and try again."),
    }

    def clean(self):
        # Per username and per client address (scf_platform/throttle.py); while a wait lasts the
        # password is not checked at all.
        username = self.cleaned_data.get("username") or ""
        if login_blocked(request=self.request, username=username):
            raise forms.ValidationError(self.error_messages["throttled"], code="throttled")
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            login_failed(request=self.request, username=username)
            raise
        login_succeeded(request=self.request, username=username)
        return cleaned


class ThrottledAdminAuthenticationForm(ThrottledAuthenticationForm, AdminAuthenticationForm):
    """/admin/login/, with the same limits (a failed staff check counts as a failure too)."""

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "throttled": ThrottledAuthenticationForm.error_messages["throttled"],
    }


class MemberAddForm(forms.Form):
    username = forms.RegexField(label=_("Username"), regex=r"^[\w.@+-]+\Z", max_length=150)
    email = forms.EmailField(label=_("Email"))
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class OrganizationCreateForm(forms.ModelForm):
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[k for k in OrganizationKind.choices if k[0] != OrganizationKind.OPERATOR],
    )

    class Meta:
        model = Organization
        fields = ["name", "kind", "credit_code", "language"]
