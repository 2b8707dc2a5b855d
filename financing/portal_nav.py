"""Financing's sections of the portal navigation and its panels on the home page."""

from django.utils.translation import gettext_lazy as _

from financing.views import panels
from scf_platform.portal import register_dashboard_panel, register_nav

register_nav(_("Apply for financing"), "portal:apply", portals={"sme"}, order=20)
register_nav(_("Financing requests"), "portal:requests", portals={"sme"}, order=30)
register_nav(_("Programs"), "portal:programs", portals={"sme"}, order=40)

register_nav(_("Suppliers"), "portal:participants", portals={"core"}, order=20)
register_nav(_("Network financing"), "portal:network", portals={"core"}, order=30)
register_nav(_("Financing requests"), "portal:requests", portals={"core"}, order=35)
register_nav(_("Programs"), "portal:programs", portals={"core"}, order=40)

register_nav(_("Approval queue"), "portal:approval_queue", portals={"bank"}, order=10)
register_nav(_("Financing requests"), "portal:requests", portals={"bank"}, order=20)
register_nav(_("Programs"), "portal:programs", portals={"bank"}, order=30)
register_nav(_("Portfolio"), "portal:portfolio", portals={"bank"}, order=40)

register_dashboard_panel("financing/panels/sme.html", panels.sme_panel, portals={"sme"})
register_dashboard_panel("financing/panels/core.html", panels.core_panel, portals={"core"})
register_dashboard_panel("financing/panels/bank.html", panels.bank_panel, portals={"bank"})
