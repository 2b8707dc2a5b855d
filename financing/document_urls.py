"""Routes of issued documents: `urlpatterns` in the portal, `api_urlpatterns` under /api/v1/."""

from django.urls import path

from financing import document_views

urlpatterns = [
    path("documents/<int:pk>.pdf", document_views.document_download, name="document"),
    path(
        "requests/<int:pk>/documents/<str:kind>.pdf",
        document_views.request_document_download,
        name="request_document",
    ),
]

api_urlpatterns = [
    path(
        "financing-requests/<int:pk>/agreement.pdf",
        document_views.FinancingAgreementView.as_view(),
        name="financing-request-agreement",
    ),
    path(
        "documents/<int:pk>/", document_views.DocumentDetailView.as_view(), name="document-detail"
    ),
    path(
        "documents/<int:pk>/download/",
        document_views.DocumentDownloadView.as_view(),
        name="document-download",
    ),
]
