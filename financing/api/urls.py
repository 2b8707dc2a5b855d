"""Routes of the financing API, included under /api/v1/."""

from rest_framework.routers import SimpleRouter

from financing.api.views import ApprovalQueueViewSet, FinancingRequestViewSet, ProgramViewSet

router = SimpleRouter()
router.register("programs", ProgramViewSet, basename="program")
router.register("financing-requests", FinancingRequestViewSet, basename="financing-request")
router.register("approval-queue", ApprovalQueueViewSet, basename="approval-queue")

urlpatterns = router.urls
