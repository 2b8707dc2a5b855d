"""Portal routes of issued documents (included in the portal's namespace)."""

from django.urls import path

from documents import views

urlpatterns = [
    path("documents/<int:pk>.pdf", views.document_download, name="document"),
    path(
        "requests/<int:pk>/documents/<str:kind>.pdf",
        views.request_document_download,
        name="request_document",
    ),
]
