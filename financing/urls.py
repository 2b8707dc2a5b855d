"""Portal URLs of financing (included in the portal's namespace)."""

from django.urls import path

from financing.views import applicant, bank, core, request_pages

urlpatterns = [
    path("apply/", applicant.apply, name="apply"),
    path("apply/quote/", applicant.apply_quote, name="apply_quote"),
    path("apply/confirm/", applicant.apply_confirm, name="apply_confirm"),
    path("requests/", request_pages.request_list, name="requests"),
    path("requests/<int:pk>/", request_pages.request_detail, name="request_detail"),
    path("requests/<int:pk>/submit/", applicant.request_submit, name="request_submit"),
    path("requests/<int:pk>/withdraw/", applicant.request_withdraw, name="request_withdraw"),
    path("requests/<int:pk>/approve/", bank.request_approve, name="request_approve"),
    path("requests/<int:pk>/reject/", bank.request_reject, name="request_reject"),
    path("requests/<int:pk>/disburse/", bank.request_disburse, name="request_disburse"),
    path("requests/<int:pk>/repay/", core.request_repay, name="request_repay"),
    path("queue/", bank.queue, name="approval_queue"),
    path("programs/", bank.program_list, name="programs"),
    path("programs/new/", bank.program_add, name="program_add"),
    path("programs/<int:pk>/", bank.program_detail, name="program_detail"),
    path("participants/", core.participant_list, name="participants"),
    path("participants/new/", core.participant_onboard, name="participant_add"),
    path("network/", core.network, name="network"),
    path("portfolio/", bank.portfolio, name="portfolio"),
]
