"""API routes of issued documents, included under /api/v1/ (before financing's: .../agreement.pdf
is not a route of the request viewset)."""

from django.urls import path

from documents.api import views

urlpatterns = [
    path(
        "financing-requests/<int:pk>/agreement.pdf",
        views.FinancingAgreementView.as_view(),
        name="financing-request-agreement",
    ),
    path("documents/<int:pk>/", views.DocumentDetailView.as_view(), name="document-detail"),
    path(
        "documents/<int:pk>/download/",
        views.DocumentDownloadView.as_view(),
        name="document-download",
    ),
]
