"""Portal pages of the platform core: sign-in, choosing the organization, members, operator."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from scf_platform import services
from scf_platform.acting import SESSION_KEY
from scf_platform.forms import MemberAddForm, OrganizationCreateForm, ThrottledAuthenticationForm
from scf_platform.idempotency import once_per_key
from scf_platform.models import Membership, Organization
from scf_platform.policy import may_create_organization, may_manage_members, require
from scf_platform.portal import dashboard_panels_for, portal_of


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    authentication_form = ThrottledAuthenticationForm
    redirect_authenticated_user = True


def acting_required(view):
    """A portal page that acts for an organization; with several memberships, choose first."""

    @login_required
    def wrapper(request, *args, **kwargs):
        acting = request.acting
        if acting is None or (acting.organization is None and not acting.is_operator):
            return redirect("portal:choose")
        return view(request, *args, **kwargs)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


@login_required
def choose_organization(request):
    """The organizations the user may act for; a POST switches to one."""
    memberships = Membership.objects.for_user(request.user)
    if request.method == "POST":
        chosen = request.POST.get("organization", "")
        if not any(str(m.organization_id) == chosen for m in memberships):
            raise PermissionDenied(_("You are not a member of that organization."))
        request.session[SESSION_KEY] = int(chosen)
        next_url = request.POST.get("next") or ""
        if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
            next_url = ""
        return redirect(next_url or "portal:home")
    return render(request, "portal/choose.html", {"memberships": memberships})


@acting_required
def home(request):
    acting = request.acting
    kind = portal_of(acting.organization) or ("operator" if acting.is_operator else None)
    return render(
        request, "portal/home.html", {"dashboard_panels": dashboard_panels_for(request, kind)}
    )


@acting_required
@once_per_key
def members(request):
    acting = request.acting
    organization = acting.organization
    if organization is None:
        raise Http404
    form = MemberAddForm(request.POST or None)
    may_add = may_manage_members(acting, organization)
    if request.method == "POST":
        require(may_manage_members, acting, organization)
        if form.is_valid():
            try:
                services.member_add(
                    organization=organization,
                    actor=request.user,
                    acting_for=organization,
                    **form.cleaned_data,
                )
            except ValidationError as error:
                _add_errors(form, error)
            else:
                messages.success(
                    request, _("%(user)s was added.") % {"user": form.cleaned_data["username"]}
                )
                return redirect("portal:members")
    page = Paginator(
        Membership.objects.filter(organization=organization).select_related("user"), 25
    ).get_page(request.GET.get("page"))
    return render(request, "portal/members.html", {"page": page, "form": form, "may_add": may_add})


@acting_required
@once_per_key
def organizations(request):
    if not request.acting.is_operator:
        raise Http404
    form = OrganizationCreateForm(request.POST or None)
    may_create = may_create_organization(request.acting)
    if request.method == "POST":
        require(may_create_organization, request.acting)
    if request.method == "POST" and form.is_valid():
        organization = services.organization_create(
            actor=request.user, acting_for=request.acting.organization, **form.cleaned_data
        )
        messages.success(request, _("%(name)s was onboarded.") % {"name": organization.name})
        return redirect("portal:organizations")
    queryset = Organization.objects.all()
    kind = request.GET.get("kind")
    if kind:
        queryset = queryset.filter(kind=kind)
    page = Paginator(queryset, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "portal/organizations.html",
        {"page": page, "form": form, "may_create": may_create},
    )


def _add_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)
