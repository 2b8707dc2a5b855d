"""The portal shell: which portal an organization sees and the sections of its navigation.

Apps higher up register their sections here (a narrow interface), so the shell never imports them.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from scf_platform.models import Organization, OrganizationKind

PORTAL_TITLES = {
    "sme": _("SME portal"),
    "core": _("Core enterprise portal"),
    "bank": _("Bank portal"),
    "warehouse": _("Warehouse portal"),
    "operator": _("Operator console"),
}

_core_enterprise_checks: list[Callable[[Organization], bool]] = []


def register_core_enterprise_check(check: Callable[[Organization], bool]) -> None:
    _core_enterprise_checks.append(check)


def portal_of(organization: Organization | None) -> str | None:
    if organization is None:
        return None
    if organization.kind == OrganizationKind.ENTERPRISE:
        is_core = any(check(organization) for check in _core_enterprise_checks)
        return "core" if is_core else "sme"
    return organization.kind


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    portals: frozenset[str]
    order: int = 100
    roles: frozenset[str] = field(default_factory=frozenset)


_nav: list[NavItem] = []


def register_nav(
    label, url_name: str, *, portals: set[str], order: int = 100, roles: set[str] | None = None
) -> None:
    _nav.append(NavItem(label, url_name, frozenset(portals), order, frozenset(roles or ())))


def navigation_for(portal: str | None, role: str | None) -> list[NavItem]:
    if portal is None:
        return []
    items = [
        item for item in _nav if portal in item.portals and (not item.roles or role in item.roles)
    ]
    return sorted(items, key=lambda item: item.order)


ALL_PORTALS = set(PORTAL_TITLES)
register_nav(_("Dashboard"), "portal:home", portals=ALL_PORTALS, order=0)
register_nav(_("Members"), "portal:members", portals=ALL_PORTALS, order=900)
register_nav(_("Organizations"), "portal:organizations", portals={"operator"}, order=10)
