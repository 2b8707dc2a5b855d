"""factory_boy factories of the platform core."""

import itertools

import factory
from django.contrib.auth import get_user_model

from scf_platform.credit_code import credit_code_check_digit
from scf_platform.models import Membership, Organization, OrganizationKind, Role

_serial = itertools.count(1)


def make_credit_code(serial: int | None = None) -> str:
    """A valid unified social credit code, distinct for each serial."""
    number = next(_serial) if serial is None else serial
    first17 = f"91310000{number:09d}"
    return first17 + credit_code_check_digit(first17)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = factory.django.Password("correct-horse-battery")


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    kind = OrganizationKind.ENTERPRISE
    name = factory.Sequence(lambda n: f"Organization {n}")
    credit_code = factory.LazyFunction(make_credit_code)
    language = "en"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = Role.ADMIN


def member(organization: Organization, role: str = Role.ADMIN, username: str | None = None):
    """A user who is a member of `organization` with `role`."""
    kwargs = {"username": username} if username else {}
    return MembershipFactory(organization=organization, role=role, user=UserFactory(**kwargs)).user
