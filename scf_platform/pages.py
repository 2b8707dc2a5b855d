"""What every portal page shares: the organization acting, pagination, errors next
to their fields, dates as people read them, and the confirmation step of a state change (checked
by the service before it is asked, and carrying the form's one-time key)."""

from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404
from django.shortcuts import render
from django.utils import formats

from scf_platform.errors import DomainError
from scf_platform.idempotency import ONCE_FIELD, once_key_carried, once_key_mint
from scf_platform.models import Organization

PAGE_SIZE = 25


def acting_organization(request, *kinds: str) -> Organization:
    """The organization the user acts for; a page of another kind of organization is not found."""
    organization = request.acting.organization
    if organization is None or (kinds and organization.kind not in kinds):
        raise Http404
    return organization


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


def rehearse(run):
    """Run `run` (a service call) and undo it: what it returns, or the refusal it raises.

    The confirmation step asks only about input the service accepts: the service's own rules
    decide (not a copy of them that could drift apart), and the page shows the figures it computes.
    Everything it writes is rolled back with its savepoint, and what it would have queued after
    the commit (tasks, e-mails) is dropped with it."""
    with transaction.atomic():
        outcome = run()
        transaction.set_rollback(True)
    return outcome


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
    `hidden` defaults to what was posted, so the confirmed POST carries the same input, and
    always carries the form's one-time key: the one the entry form was drawn with, or, for a step
    drawn by a link (it is its own entry form), one minted here."""
    if hidden is None:
        hidden = [
            (name, value)
            for name in request.POST
            if name not in ("csrfmiddlewaretoken", "confirmed")
            for value in request.POST.getlist(name)
        ]
    hidden = [(name, value) for name, value in hidden if name != ONCE_FIELD]
    hidden.append((ONCE_FIELD, once_key_carried(request) or once_key_mint()))
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
    return render(request, "portal/confirm.html", context)
