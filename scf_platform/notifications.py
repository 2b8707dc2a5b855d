"""Notices to organizations: an in-app row now, an email to its members after commit."""

from collections.abc import Callable

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import translation

from scf_platform.celery import tenant_task
from scf_platform.models import Membership, Notification, Organization
from scf_platform.tenancy import Scope, scope_activated


def notify(
    *,
    organization: Organization,
    subject: str | Callable[[], str],
    body: str | Callable[[], str] = "",
    link: str = "",
    roles=(),
) -> Notification:
    """Tell `organization` (its members of `roles`, or all) about something that happened.

    `subject` and `body` may be callables: they are then worded in the recipient's language."""
    if callable(subject) or callable(body):
        with translation.override(organization.language):
            subject = subject() if callable(subject) else subject
            body = body() if callable(body) else body
    # Django inserts with RETURNING, which row-level security checks as a read of the new row:
    # written in the recipient's scope, the notice to another organization passes that check.
    with scope_activated(Scope(organization_id=organization.pk)):
        notification = Notification.objects.create(
            organization=organization,
            subject=subject[:200],
            body=body,
            link=link,
            roles=list(roles),
        )
    scope = Scope(organization_id=organization.pk).as_dict()
    transaction.on_commit(lambda: notification_email.delay(notification.pk, scope=scope))
    return notification


@tenant_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notification_email(notification_id: int) -> int:
    """Email a notification to the members it is for; returns how many were sent."""
    notification = Notification.objects.filter(pk=notification_id).first()
    if notification is None:
        return 0
    members = Membership.objects.filter(organization=notification.organization_id)
    if notification.roles:
        members = members.filter(role__in=notification.roles)
    recipients = sorted({m.user.email for m in members.select_related("user") if m.user.email})
    if not recipients:
        return 0
    body = notification.body
    if notification.link:
        body = f"{body}\n\n{settings.SITE_URL}{notification.link}".strip()
    return send_mail(notification.subject, body, None, recipients)


def notifications_for(*, organization: Organization, role: str | None):
    """The organization's notices meant for a member of `role` (newest first)."""
    visible = Notification.objects.visible_to(organization)
    return [n for n in visible[:500] if not n.roles or role in n.roles]


def unread_count(*, organization: Organization, user, role: str | None) -> int:
    unread = Notification.objects.visible_to(organization).exclude(read_by=user)
    return sum(1 for roles in unread.values_list("roles", flat=True) if not roles or role in roles)


def notifications_mark_read(*, organization: Organization, user) -> None:
    for notification in Notification.objects.visible_to(organization).exclude(read_by=user):
        notification.read_by.add(user)
