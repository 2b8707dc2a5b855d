"""Notices reach the other organization, in its own language."""

import pytest

from scf_platform.models import Notification
from scf_platform.notifications import notify
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


def test_a_notice_is_worded_in_the_recipients_language():
    from django.utils.translation import gettext as _

    chinese = OrganizationFactory(language="zh-hans")
    english = OrganizationFactory(language="en")
    for organization in (chinese, english):
        notify(organization=organization, subject=lambda: _("Bank portal"))
    subjects = dict(Notification.objects.values_list("organization_id", "subject"))
    assert subjects == {chinese.pk: "银行门户", english.pk: "Bank portal"}


def test_many_notices_are_one_insert_and_one_email_task_per_organization(
    django_capture_on_commit_callbacks, monkeypatch
):
    from scf_platform import notifications
    from scf_platform.models import Role
    from tests.factories import member

    bank, other = OrganizationFactory(), OrganizationFactory()
    member(bank, Role.CHECKER)
    member(other, Role.ADMIN)
    queued = []
    monkeypatch.setattr(
        notifications.notification_emails, "delay", lambda ids, scope: queued.append((ids, scope))
    )
    notices = [
        notifications.Notice(bank, f"request {n} waits", roles=("checker",)) for n in range(3)
    ] + [notifications.Notice(other, "hello")]
    with django_capture_on_commit_callbacks(execute=True):
        created = notifications.notify_many(notices)

    assert [n.subject for n in created] == ["request 0 waits", "request 1 waits"] + [
        "request 2 waits",
        "hello",
    ]
    assert [(ids, scope["organization_id"]) for ids, scope in queued] == [
        ([n.pk for n in created[:3]], bank.pk),
        ([created[3].pk], other.pk),
    ]


def test_each_notice_of_a_task_is_emailed_and_a_failed_one_is_retried_alone(monkeypatch):
    from django.core import mail

    from scf_platform import notifications
    from scf_platform.models import Role
    from scf_platform.tenancy import Scope
    from tests.factories import member

    bank = OrganizationFactory()
    checker = member(bank, Role.CHECKER)
    created = notifications.notify_many(
        [notifications.Notice(bank, f"request {n} waits") for n in range(3)]
    )
    real_send = notifications.send_mail

    def flaky(subject, *args, **kwargs):
        if subject == "request 1 waits":
            raise OSError("mail server away")
        return real_send(subject, *args, **kwargs)

    retried = []
    monkeypatch.setattr(notifications, "send_mail", flaky)
    monkeypatch.setattr(
        notifications.notification_email, "delay", lambda pk, scope: retried.append(pk)
    )
    result = notifications.notification_emails.apply(
        args=[[n.pk for n in created]], kwargs={"scope": Scope(organization_id=bank.pk).as_dict()}
    )

    assert result.get() == 2
    assert sorted(m.subject for m in mail.outbox) == ["request 0 waits", "request 2 waits"]
    assert mail.outbox[0].to == [checker.email]
    assert retried == [created[1].pk]
