"""Accounts and organizations over the API: who sees what (404), who may do what (403)."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from scf_platform.models import Membership, Organization, OrganizationKind, Role
from tests.factories import OrganizationFactory, make_credit_code, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def bank():
    return OrganizationFactory(kind=OrganizationKind.BANK, name="Bank")


@pytest.fixture
def operator():
    return OrganizationFactory(kind=OrganizationKind.OPERATOR, name="Operator")


def test_token_for_a_username_and_password():
    organization = OrganizationFactory()
    member(organization, username="alice")
    client = APIClient()
    response = client.post(
        "/api/v1/auth/token/", {"username": "alice", "password": "correct-horse-battery"}
    )
    assert response.status_code == 200
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    me = client.get("/api/v1/me/").json()
    assert me["username"] == "alice"
    assert me["memberships"] == [
        {
            "organization": {
                "id": organization.pk,
                "name": organization.name,
                "kind": "enterprise",
            },
            "role": "admin",
        }
    ]


def test_token_with_a_wrong_password_is_refused():
    member(OrganizationFactory(), username="alice")
    response = APIClient().post("/api/v1/auth/token/", {"username": "alice", "password": "nope"})
    assert response.status_code == 400


def test_not_signed_in_is_401():
    assert APIClient().get("/api/v1/me/").status_code == 401


def test_x_organization_of_a_non_member_is_403(api_as, bank):
    mine, theirs = OrganizationFactory(), OrganizationFactory()
    user = member(mine)
    assert api_as(user, theirs).get("/api/v1/me/").status_code == 403
    assert api_as(user, mine).get("/api/v1/me/").status_code == 200


def test_x_organization_that_is_not_a_number_is_400(api_as):
    user = member(OrganizationFactory())
    client = api_as(user)
    client.credentials(HTTP_X_ORGANIZATION="abc")
    assert client.get("/api/v1/me/").status_code == 400


def test_several_memberships_need_the_header(api_as):
    first, second = OrganizationFactory(), OrganizationFactory()
    user = member(first)
    Membership.objects.create(user=user, organization=second, role=Role.VIEWER)
    response = api_as(user).get("/api/v1/organizations/")
    assert response.status_code == 400
    assert "X-Organization" in response.json()
    acting_second = api_as(user, second).get("/api/v1/me/").json()
    assert acting_second["acting_organization"]["id"] == second.pk


def test_a_suspended_organization_cannot_act(api_as):
    organization = OrganizationFactory(status="suspended")
    assert api_as(member(organization)).get("/api/v1/me/").status_code == 403


def test_organizations_lists_only_the_acting_organization_without_counterparties(api_as, bank):
    OrganizationFactory()
    response = api_as(member(bank)).get("/api/v1/organizations/")
    assert [row["id"] for row in response.json()["results"]] == [bank.pk]


def test_an_outsider_gets_404_on_another_organization(api_as, bank):
    outsider = member(OrganizationFactory())
    client = api_as(outsider)
    assert client.get(f"/api/v1/organizations/{bank.pk}/").status_code == 404
    assert client.get(f"/api/v1/organizations/{bank.pk}/members/").status_code == 404
    response = client.post(
        f"/api/v1/organizations/{bank.pk}/members/",
        {
            "username": "mallory",
            "email": "m@example.com",
            "password": "Xy7!long-pass",
            "role": "admin",
        },
    )
    assert response.status_code == 404
    assert not get_user_model().objects.filter(username="mallory").exists()


def test_only_the_operator_creates_organizations(api_as, bank, operator):
    payload = {"name": "New Co", "kind": "enterprise", "credit_code": make_credit_code()}
    assert api_as(member(bank)).post("/api/v1/organizations/", payload).status_code == 403
    response = api_as(member(operator)).post("/api/v1/organizations/", payload)
    assert response.status_code == 201, response.json()
    assert Organization.objects.filter(name="New Co", kind="enterprise").exists()


def test_a_bad_credit_code_is_400_and_writes_nothing(api_as, operator):
    client = api_as(member(operator))
    for bad in ["91350100M000100Y44", "123", "91350100M000100I43"]:
        response = client.post(
            "/api/v1/organizations/", {"name": "Bad Co", "kind": "bank", "credit_code": bad}
        )
        assert response.status_code == 400
        assert "credit_code" in response.json()
    assert not Organization.objects.filter(name="Bad Co").exists()


def test_the_operator_sees_every_organization(api_as, bank, operator):
    others = {OrganizationFactory().pk for _ in range(3)}
    response = api_as(member(operator)).get("/api/v1/organizations/")
    assert others | {bank.pk, operator.pk} <= {row["id"] for row in response.json()["results"]}


def test_a_superuser_without_membership_acts_as_the_operator(bank):
    admin = get_user_model().objects.create_superuser("root", "r@example.com", "pw-123456789")
    client = APIClient()
    client.force_authenticate(admin)
    payload = {"name": "By Root", "kind": "warehouse", "credit_code": make_credit_code()}
    assert client.post("/api/v1/organizations/", payload).status_code == 201


@pytest.mark.parametrize("role", [Role.MAKER, Role.CHECKER, Role.VIEWER])
def test_only_an_admin_adds_members(api_as, bank, role):
    payload = {
        "username": "newbie",
        "email": "n@example.com",
        "password": "Xy7!long-pass",
        "role": "maker",
    }
    response = api_as(member(bank, role)).post(f"/api/v1/organizations/{bank.pk}/members/", payload)
    assert response.status_code == 403
    assert not get_user_model().objects.filter(username="newbie").exists()


def test_an_admin_adds_a_member_who_can_then_sign_in(api_as, bank):
    payload = {
        "username": "newbie",
        "email": "n@example.com",
        "password": "Xy7!long-pass",
        "role": "checker",
    }
    response = api_as(member(bank)).post(f"/api/v1/organizations/{bank.pk}/members/", payload)
    assert response.status_code == 201, response.json()
    assert Membership.objects.get(user__username="newbie").role == "checker"
    token = APIClient().post(
        "/api/v1/auth/token/", {"username": "newbie", "password": "Xy7!long-pass"}
    )
    assert token.status_code == 200
    listed = api_as(member(bank, Role.VIEWER)).get(f"/api/v1/organizations/{bank.pk}/members/")
    assert "newbie" in [row["username"] for row in listed.json()["results"]]


def test_member_input_errors_are_400_and_write_nothing(api_as, bank):
    client = api_as(member(bank))
    member(bank, username="taken")
    cases = [
        {
            "username": "taken",
            "email": "t@example.com",
            "password": "Xy7!long-pass",
            "role": "maker",
        },
        {"username": "weak", "email": "w@example.com", "password": "123", "role": "maker"},
        {
            "username": "badrole",
            "email": "b@example.com",
            "password": "Xy7!long-pass",
            "role": "boss",
        },
        {
            "username": "bad name",
            "email": "b@example.com",
            "password": "Xy7!long-pass",
            "role": "maker",
        },
    ]
    before = get_user_model().objects.count()
    for payload in cases:
        assert client.post(f"/api/v1/organizations/{bank.pk}/members/", payload).status_code == 400
    assert get_user_model().objects.count() == before


def test_schema_and_docs_are_served():
    assert APIClient().get("/api/schema/").status_code == 200
    assert APIClient().get("/api/docs/").status_code == 200
