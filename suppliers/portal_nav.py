"""The supply chain's sections of the portal navigation."""

from django.utils.translation import gettext_lazy as _

from scf_platform.portal import register_nav

register_nav(_("Invoices"), "portal:invoices", portals={"sme"}, order=10)
register_nav(_("Payables to confirm"), "portal:payables", portals={"core"}, order=10)
