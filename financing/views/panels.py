"""The home page's panels of each portal (registered in financing.portal_nav)."""

from financing.views import figures
from scf_platform.clock import business_today
from scf_platform.policy import may_create_request, may_upload_invoices


def sme_panel(request) -> dict:
    return {
        "figures": figures.sme_figures(request.acting.organization, business_today()),
        "may_apply": may_create_request(request.acting),
        "may_upload": may_upload_invoices(request.acting),
    }


def core_panel(request) -> dict:
    return {"figures": figures.core_figures(request.acting.organization, business_today())}


def bank_panel(request) -> dict:
    return {"figures": figures.bank_figures(request.acting.organization, business_today())}
