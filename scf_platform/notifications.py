"""Notices to organizations: an in-app row now, an email to its members after commit."""

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import translation

from scf_platform.celery import tenant_task
from scf_platform.models import Membership, Notification, Organization
from scf_platform.tenancy import Scope, current_scope, scope_activated


@dataclass(frozen=True)
class Notice:
    """What to tell `organization` (its members of `roles`, or all). `subject` and `body` may be
    callables: they are then worded in the recipient's language."""

    organization: Organization
    subject: str | Callable[[], str]
    body: str | Callable[[], str] = ""
    link: str = ""
    roles: tuple[str, ...] = ()

    def worded(self) -> tuple[str, str]:
        subject, body = self.subject, self.body
        if callable(subject) or callable(body):
            with translation.override(self.organization.language):
                subject = subject() if callable(subject) else subject
                body = body() if callable(body) else body
        return subject[:200], body


def notify(
    *,
    organization: Organization,
    subject: str | Callable[[], str],
    body: str | Callable[[], str] = "",
    link: str = "",
    roles=(),
) -> Notification:
    """Tell `organization` (its members of `roles`, or all) about something that happened."""
    notice = Notice(organization, subject, body=body, link=link, roles=tuple(roles))
    return notify_many([notice])[0]


def notify_many(notices: list[Notice]) -> list[Notification]:
    """Several notices: one insert per recipient organization, an email for each after commit."""
    positions: dict[int, list[int]] = {}
    for position, notice in enumerate(notices):
        positions.setdefault(notice.organization.pk, []).append(position)
    created: list[Notification | None] = [None] * len(notices)
    for organization_id, group in positions.items():
        for position in group:
            notice = notices[position]
            subject, body = notice.worded()
            created[position] = Notification(
                organization=notice.organization,
                subject=subject,
                body=body,
                link=notice.link,
                roles=list(notice.roles),
            )
        rows = [created[position] for position in group]
        # Django inserts with RETURNING, which row-level security checks as a read of the new
        # row: written in the recipient's scope, a notice to another organization passes it.
        with scope_activated(Scope(organization_id=organization_id)):
            Notification.objects.bulk_create(rows)
        scope = Scope(organization_id=organization_id).as_dict()
        ids = [row.pk for row in rows]
        # One task for the organization's notices, however many: a batch (screening) makes many.
        transaction.on_commit(
            lambda ids=ids, scope=scope: notification_emails.delay(ids, scope=scope)
        )
    return created


@tenant_task()
def notification_emails(notification_ids: list[int]) -> int:
    """Email each notification; one that fails to send is handed to notification_email, which
    retries it alone (so that none is sent twice). Returns how many emails went out."""
    sent = 0
    for notification_id in notification_ids:
        try:
            sent += _email(notification_id)
        except OSError:
            scope = current_scope().as_dict()
            notification_email.delay(notification_id, scope=scope)
    return sent


@tenant_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notification_email(notification_id: int) -> int:
    """Email a notification to the members it is for; returns how many were sent."""
    return _email(notification_id)


def _email(notification_id: int) -> int:
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
