"""The home page's panels of each portal (registered in financing.portal_nav)."""

from financing.views import figures
from scf_platform.clock import business_today


def sme_panel(request) -> dict:
    return {"figures": figures.sme_figures(request.acting.organization, business_today())}


def core_panel(request) -> dict:
    return {"figures": figures.core_figures(request.acting.organization, business_today())}


def bank_panel(request) -> dict:
    return {"figures": figures.bank_figures(request.acting.organization, business_today())}
