"""Portal URLs of the supply chain (included in the portal's namespace)."""

from django.urls import path

from suppliers import views

urlpatterns = [
    path("invoices/", views.invoice_list, name="invoices"),
    path("invoices/new/", views.invoice_add, name="invoice_add"),
    path("invoices/upload/", views.invoice_upload, name="invoice_upload"),
    path("invoices/<int:pk>/", views.invoice_detail, name="invoice_detail"),
    path("invoices/<int:pk>/dispute/", views.invoice_dispute_view, name="invoice_dispute"),
    path("payables/", views.payable_list, name="payables"),
    path("payables/confirm/", views.payables_confirm, name="payables_confirm"),
]
