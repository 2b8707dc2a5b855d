"""The product's URLs plus the bench's bare view (never part of the product)."""

from django.urls import path

from bench.views import bare_invoices
from scf_platform.urls import urlpatterns as product_urlpatterns

urlpatterns = [
    path("bench/bare/invoices/", bare_invoices, name="bench-bare-invoices"),
    *product_urlpatterns,
]
