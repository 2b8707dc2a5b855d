"""The operator's Django admin sees every organization's data; nobody else gets in."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests.factories import OrganizationFactory, member
from tests.financing.factories import make_chain

pytestmark = pytest.mark.django_db


def test_the_superuser_sees_every_tenants_rows_in_the_admin():
    chain = make_chain()
    invoice = chain.invoice("1000.00")
    admin = get_user_model().objects.create_superuser("root", "r@example.com", "pw-123456789")
    client = Client()
    client.force_login(admin)
    for url in [
        "/admin/",
        "/admin/scf_platform/organization/",
        "/admin/suppliers/invoice/",
        f"/admin/suppliers/invoice/{invoice.pk}/change/",
        "/admin/financing/program/",
        f"/admin/financing/program/{chain.program.pk}/change/",
        "/admin/financing/financingrequest/",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
    listing = client.get("/admin/suppliers/invoice/").content.decode()
    assert invoice.number in listing


def test_a_member_who_is_not_staff_is_sent_to_the_admin_login():
    client = Client()
    client.force_login(member(OrganizationFactory()))
    assert client.get("/admin/suppliers/invoice/").status_code == 302
