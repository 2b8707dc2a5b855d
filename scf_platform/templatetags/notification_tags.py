"""The unread count of the top bar."""

from django import template

from scf_platform.notifications import unread_count

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_notifications(context) -> int:
    request = context.get("request")
    acting = getattr(request, "acting", None)
    if acting is None or acting.organization is None:
        return 0
    return unread_count(organization=acting.organization, user=request.user, role=acting.role)
