"""The demo data of `make run`: everyone listed exists; loading twice duplicates nothing."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from financing.models import FinancingRequest, Program, RequestStatus
from scf_platform.demo import DEMO_ORGANIZATIONS
from scf_platform.models import Membership, Organization
from suppliers.models import Invoice

pytestmark = pytest.mark.django_db


def _counts():
    return (
        Organization.objects.count(),
        get_user_model().objects.count(),
        Membership.objects.count(),
        Program.objects.count(),
        Invoice.objects.count(),
        FinancingRequest.objects.count(),
    )


def test_demo_data_loads_twice_without_duplicates(capsys):
    call_command("load_demo")
    first = _counts()
    call_command("load_demo")
    assert _counts() == first
    kinds = set(Organization.objects.values_list("kind", flat=True))
    assert kinds == {"bank", "enterprise", "warehouse", "operator"}
    assert first[0] == len(DEMO_ORGANIZATIONS)
    assert first[3] == 2
    assert set(FinancingRequest.objects.values_list("status", flat=True)) == set(
        RequestStatus.values
    )
    for program in Program.objects.all():
        # The limit in use is exactly what the requests hold (a default keeps holding it).
        assert program.utilized == sum(r.reserved_amount for r in program.requests.all())
    printed = capsys.readouterr().out
    assert "bank_checker2" in printed and "demo-pass-2026" in printed
