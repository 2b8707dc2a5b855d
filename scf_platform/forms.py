"""Portal forms of the platform core."""

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from scf_platform.models import Organization, OrganizationKind, Role
from scf_platform.throttle import (
    client_address,
    login_attempt_wait,
    login_failed,
    login_succeeded,
)


class _ThrottledSignIn:
    """Sign-in slowed down per username and per client address (scf_platform/throttle.py):
    while a wait lasts the password is not checked at all."""

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        address = client_address(self.request) if self.request else ""
        wait = login_attempt_wait(address=address, username=username)
        if wait:
            raise forms.ValidationError(
                _("Too many failed sign-ins. Wait a few minutes and try again."), code="throttled"
            )
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            login_failed(address=address, username=username)
            raise
        login_succeeded(address=address, username=username)
        return cleaned


class ThrottledAuthenticationForm(_ThrottledSignIn, AuthenticationForm):
    """The portal's sign-in."""


class ThrottledAdminAuthenticationForm(_ThrottledSignIn, AdminAuthenticationForm):
    """/admin/login/: the same limits (a staff check that fails counts as a failure too)."""


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
