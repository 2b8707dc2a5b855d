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
