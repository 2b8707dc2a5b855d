"""The warehouse portal before inventory pledge financing: its home says plainly what it does
today (members, notifications), and it offers no section that would open empty."""

import re

import pytest
from django.test import Client

from scf_platform.models import OrganizationKind, Role
from tests.factories import OrganizationFactory, member

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def portal_links(response) -> set[str]:
    return set(re.findall(r'href="(/portal/[^"]*)"', response.content.decode()))


@pytest.mark.parametrize("role", [Role.ADMIN, Role.VIEWER])
def test_a_warehouse_home_says_what_it_can_do_now(role):
    warehouse = OrganizationFactory(kind=OrganizationKind.WAREHOUSE)
    home = signed_in(member(warehouse, role=role)).get("/portal/")
    assert home.status_code == 200
    page = text(home)
    assert "What this portal does today" in page
    assert "inventory pledge financing, which the platform does not offer yet" in page
    assert {"/portal/members/", "/portal/notifications/"} <= portal_links(home)


def test_a_warehouse_is_offered_only_what_works_and_every_offer_opens():
    warehouse = OrganizationFactory(kind=OrganizationKind.WAREHOUSE)
    client = signed_in(member(warehouse))
    home = client.get("/portal/")
    nav = re.search(r'<nav class="sidenav".*?</nav>', home.content.decode(), re.S).group(0)
    assert re.findall(r"<a [^>]*>([^<]+)</a>", nav) == ["Dashboard", "Notifications", "Members"]
    for link in portal_links(home):
        assert client.get(link).status_code == 200, link


def test_other_portals_do_not_show_the_warehouse_notice():
    bank = OrganizationFactory(kind=OrganizationKind.BANK)
    home = signed_in(member(bank)).get("/portal/")
    assert home.status_code == 200
    assert "What this portal does today" not in text(home)
