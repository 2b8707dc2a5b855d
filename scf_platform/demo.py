"""Demo organizations and users for `make run`; loading twice finds what the first load made."""

from django.contrib.auth import get_user_model
from django.db import transaction

from scf_platform.credit_code import credit_code_check_digit
from scf_platform.models import Membership, Organization, OrganizationKind, Role
from scf_platform.tenancy import Scope, scope_activated

DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 - printed for people trying the platform locally


def _code(first17: str) -> str:
    return first17 + credit_code_check_digit(first17)


# (key, kind, name, credit code, language, users: (username suffix, role))
DEMO_ORGANIZATIONS = [
    (
        "bank",
        OrganizationKind.BANK,
        "Jiangnan Commercial Bank 江南商业银行",
        _code("91320000MA1X00001"),
        "en",
        [
            ("admin", Role.ADMIN),
            ("maker", Role.MAKER),
            ("checker", Role.CHECKER),
            ("checker2", Role.CHECKER),
            ("viewer", Role.VIEWER),
        ],
    ),
    (
        "core",
        OrganizationKind.ENTERPRISE,
        "Hengda Machinery Group 恒达机械集团",
        _code("91330100MA2B00002"),
        "zh-hans",
        [
            ("admin", Role.ADMIN),
            ("maker", Role.MAKER),
            ("checker", Role.CHECKER),
            ("viewer", Role.VIEWER),
        ],
    ),
    (
        "supplier1",
        OrganizationKind.ENTERPRISE,
        "Ningbo Precision Castings 宁波精密铸件",
        _code("91330200MA2C00003"),
        "zh-hans",
        [
            ("admin", Role.ADMIN),
            ("maker", Role.MAKER),
            ("checker", Role.CHECKER),
            ("viewer", Role.VIEWER),
        ],
    ),
    (
        "supplier2",
        OrganizationKind.ENTERPRISE,
        "Suzhou Bearing Works 苏州轴承厂",
        _code("91320500MA1D00004"),
        "en",
        [
            ("admin", Role.ADMIN),
            ("maker", Role.MAKER),
            ("checker", Role.CHECKER),
            ("viewer", Role.VIEWER),
        ],
    ),
    (
        "distributor",
        OrganizationKind.ENTERPRISE,
        "Chengdu Machinery Trading 成都机械贸易",
        _code("91510100MA6E00005"),
        "zh-hans",
        [
            ("admin", Role.ADMIN),
            ("maker", Role.MAKER),
            ("checker", Role.CHECKER),
            ("viewer", Role.VIEWER),
        ],
    ),
    (
        "warehouse",
        OrganizationKind.WAREHOUSE,
        "Yangtze Bonded Logistics 长江保税物流",
        _code("91310115MA1F00006"),
        "en",
        [
            ("admin", Role.ADMIN),
            ("maker", Role.MAKER),
            ("checker", Role.CHECKER),
            ("viewer", Role.VIEWER),
        ],
    ),
    (
        "operator",
        OrganizationKind.OPERATOR,
        "SCF Platform Operations 平台运营",
        _code("91310000MA1G00007"),
        "en",
        [("admin", Role.ADMIN), ("viewer", Role.VIEWER)],
    ),
]


def demo_organizations_load() -> list[tuple[str, str, str]]:
    """Create (or find) the demo organizations and users; returns (username, org, role) rows."""
    User = get_user_model()  # noqa: N806
    rows = []
    with transaction.atomic(), scope_activated(Scope.platform()):
        for key, kind, name, credit_code, language, users in DEMO_ORGANIZATIONS:
            organization, _ = Organization.objects.get_or_create(
                credit_code=credit_code, defaults={"kind": kind, "name": name, "language": language}
            )
            for suffix, role in users:
                username = f"{key}_{suffix}"
                user, created = User.objects.get_or_create(
                    username=username, defaults={"email": f"{username}@demo.scf.example"}
                )
                if created:
                    user.set_password(DEMO_PASSWORD)
                    user.is_staff = user.is_superuser = key == "operator" and role == Role.ADMIN
                    user.save()
                Membership.objects.get_or_create(
                    user=user, organization=organization, defaults={"role": role}
                )
                rows.append((username, name, role))
    return rows


def demo_organization(key: str) -> Organization:
    credit_code = next(row[3] for row in DEMO_ORGANIZATIONS if row[0] == key)
    return Organization.objects.get(credit_code=credit_code)
