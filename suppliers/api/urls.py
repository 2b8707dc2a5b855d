"""Routes of the supply-chain API, included under /api/v1/."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from suppliers.api.import_view import InvoiceImportView
from suppliers.api.views import InvoiceViewSet, TradeLinkViewSet

router = SimpleRouter()
router.register("invoices", InvoiceViewSet, basename="invoice")
router.register("trade-links", TradeLinkViewSet, basename="trade-link")

urlpatterns = [
    # Before the router, whose invoices/{pk}/ would otherwise take "import" for an id.
    path("invoices/import/", InvoiceImportView.as_view(), name="invoice-import"),
    path("", include(router.urls)),
]
