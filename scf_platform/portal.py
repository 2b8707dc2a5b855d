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


@dataclass(frozen=True)
class DashboardPanel:
    """A panel of the home page: a template and a function of the request giving its context."""

    template_name: str
    context: Callable
    portals: frozenset[str]
    order: int = 100

    def bind(self, request) -> "_BoundPanel":
        return _BoundPanel(self.template_name, self.context(request))


@dataclass(frozen=True)
class _BoundPanel:
    template_name: str
    values: dict

    def render(self, context) -> str:
        # Quacks like a template for `{% include panel %}`: the page's context plus its own.
        template = context.template.engine.get_template(self.template_name)
        with context.push(**self.values):
            return template.render(context)


_panels: list[DashboardPanel] = []


def register_dashboard_panel(
    template_name: str, context: Callable, *, portals: set[str], order: int = 100
) -> None:
    _panels.append(DashboardPanel(template_name, context, frozenset(portals), order))


def dashboard_panels_for(request, portal: str | None) -> list[_BoundPanel]:
    panels = sorted((p for p in _panels if portal in p.portals), key=lambda p: p.order)
    return [panel.bind(request) for panel in panels]


ALL_PORTALS = set(PORTAL_TITLES)
register_nav(_("Dashboard"), "portal:home", portals=ALL_PORTALS, order=0)
register_nav(_("Notifications"), "portal:notifications", portals=ALL_PORTALS, order=800)
register_nav(_("Members"), "portal:members", portals=ALL_PORTALS, order=900)
register_nav(_("Organizations"), "portal:organizations", portals={"operator"}, order=10)
# Until the warehouses room lands with inventory pledge financing, a warehouse's home says what
# its portal does today rather than showing an empty dashboard; that room replaces this panel.
register_dashboard_panel(
    "portal/panels/warehouse_today.html", lambda request: {}, portals={"warehouse"}
)
