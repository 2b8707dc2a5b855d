"""Routes of the financing API, included under /api/v1/."""

from rest_framework.routers import SimpleRouter

from financing.api.views import ApprovalQueueViewSet, FinancingRequestViewSet, ProgramViewSet
from financing.document_urls import api_urlpatterns as document_patterns

router = SimpleRouter()
router.register("programs", ProgramViewSet, basename="program")
router.register("financing-requests", FinancingRequestViewSet, basename="financing-request")
router.register("approval-queue", ApprovalQueueViewSet, basename="approval-queue")

# Documents first: .../agreement.pdf is not a route of the request viewset.
urlpatterns = [*document_patterns, *router.urls]
