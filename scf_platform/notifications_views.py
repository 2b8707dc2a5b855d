"""The notifications page: the acting organization's notices for the member's role; mark read."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from scf_platform.models import Notification
from scf_platform.notifications import notifications_for, notifications_mark_read
from scf_platform.views import acting_required


@acting_required
def notifications(request):
    organization = request.acting.organization
    if organization is None:
        raise Http404
    if request.method == "POST":
        # Marking read changes nothing of the business, so it needs no confirmation step.
        notifications_mark_read(organization=organization, user=request.user)
        messages.success(request, _("All notifications are marked read."))
        return redirect("portal:notifications")
    items = notifications_for(organization=organization, role=request.acting.role)
    read = set(
        Notification.objects.visible_to(organization)
        .filter(pk__in=[n.pk for n in items], read_by=request.user)
        .values_list("pk", flat=True)
    )
    unread = sum(1 for n in items if n.pk not in read)
    only_unread = request.GET.get("unread") == "1"
    if only_unread:
        items = [n for n in items if n.pk not in read]
    page = Paginator(items, 25).get_page(request.GET.get("page"))
    for notification in page:
        notification.is_unread = notification.pk not in read
    return render(
        request,
        "portal/notifications.html",
        {"page": page, "only_unread": only_unread, "unread": unread},
    )
