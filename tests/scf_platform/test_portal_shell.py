"""The portal shell: sign-in, each kind's portal, the organization switcher, the language."""

import re

import pytest
from django.test import Client

from scf_platform.models import Membership, OrganizationKind, Role
from tests.factories import OrganizationFactory, member

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"


def signed_in(user) -> Client:
    client = Client()
    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content
    return client


def heading(response) -> str:
    return re.search(r"<h1>(.*?)</h1>", response.content.decode()).group(1)


def test_the_root_sends_a_visitor_to_the_login_page():
    response = Client().get("/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/accounts/login/")
    assert b'name="password"' in response.content


@pytest.mark.parametrize(
    ("kind", "title"),
    [
        (OrganizationKind.BANK, "Bank portal"),
        (OrganizationKind.ENTERPRISE, "SME portal"),
        (OrganizationKind.WAREHOUSE, "Warehouse portal"),
        (OrganizationKind.OPERATOR, "Operator console"),
    ],
)
def test_each_kind_sees_its_portal(kind, title):
    client = signed_in(member(OrganizationFactory(kind=kind)))
    response = client.get("/portal/")
    assert response.status_code == 200
    assert heading(response) == title


def test_a_wrong_password_keeps_the_username_and_says_so():
    member(OrganizationFactory(), username="alice")
    response = Client().post("/accounts/login/", {"username": "alice", "password": "wrong"})
    assert response.status_code == 200
    assert b'value="alice"' in response.content
    assert b"form-errors" in response.content


def test_sign_in_attempts_are_throttled():
    member(OrganizationFactory(), username="alice")
    client = Client()
    for _ in range(5):
        client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
    # Even the right password is refused while the lock lasts.
    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 200
    assert b"Too many failed sign-ins" in response.content


def test_a_user_with_two_organizations_chooses_and_switches():
    bank = OrganizationFactory(kind=OrganizationKind.BANK, name="The Bank")
    warehouse = OrganizationFactory(kind=OrganizationKind.WAREHOUSE, name="The Warehouse")
    user = member(bank)
    Membership.objects.create(user=user, organization=warehouse, role=Role.VIEWER)
    client = signed_in(user)
    assert client.get("/portal/").url == "/portal/choose/"
    client.post("/portal/choose/", {"organization": bank.pk})
    assert heading(client.get("/portal/")) == "Bank portal"
    page = client.get("/portal/").content.decode()
    assert 'id="acting-org"' in page  # the switcher is on every page
    client.post("/portal/choose/", {"organization": warehouse.pk, "next": "/portal/members/"})
    assert heading(client.get("/portal/")) == "Warehouse portal"


def test_switching_to_an_organization_one_is_not_a_member_of_is_refused():
    client = signed_in(member(OrganizationFactory()))
    other = OrganizationFactory()
    assert client.post("/portal/choose/", {"organization": other.pk}).status_code == 403


def test_the_language_switch_is_remembered():
    client = signed_in(member(OrganizationFactory(kind=OrganizationKind.BANK)))
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/portal/"})
    assert heading(client.get("/portal/")) == "银行门户"
    client.post("/i18n/setlang/", {"language": "en", "next": "/portal/"})
    assert heading(client.get("/portal/")) == "Bank portal"


def test_an_admin_adds_a_member_and_a_form_error_keeps_the_input():
    organization = OrganizationFactory()
    client = signed_in(member(organization))
    response = client.post(
        "/portal/members/",
        {
            "username": "newbie",
            "email": "not-an-email",
            "password": "Xy7!long-pass",
            "role": "maker",
        },
    )
    assert response.status_code == 200
    assert b'value="newbie"' in response.content and b"field-error" in response.content
    response = client.post(
        "/portal/members/",
        {
            "username": "newbie",
            "email": "n@example.com",
            "password": "Xy7!long-pass",
            "role": "maker",
        },
        follow=True,
    )
    assert b"newbie was added" in response.content
    assert Membership.objects.filter(organization=organization, user__username="newbie").exists()


def test_a_viewer_cannot_add_members():
    organization = OrganizationFactory()
    client = signed_in(member(organization, Role.VIEWER))
    response = client.post(
        "/portal/members/",
        {"username": "x", "email": "x@example.com", "password": "Xy7!long-pass", "role": "admin"},
    )
    assert response.status_code == 403


def test_only_the_operator_sees_the_organizations_page():
    assert signed_in(member(OrganizationFactory())).get("/portal/organizations/").status_code == 404
    operator = signed_in(member(OrganizationFactory(kind=OrganizationKind.OPERATOR)))
    assert operator.get("/portal/organizations/").status_code == 200


def test_forms_carry_csrf_protection():
    client = Client(enforce_csrf_checks=True)
    member(OrganizationFactory(), username="alice")
    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 403
