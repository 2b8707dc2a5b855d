"""URL configuration: portals, the REST API (v1), its schema, admin, health."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from scf_platform import notifications_views, views
from scf_platform.api import endpoints
from scf_platform.health import healthz

router = DefaultRouter()
router.register("organizations", endpoints.OrganizationViewSet, basename="organization")

portal_patterns = [
    path("", views.home, name="home"),
    path("choose/", views.choose_organization, name="choose"),
    path("members/", views.members, name="members"),
    path("organizations/", views.organizations, name="organizations"),
    path("notifications/", notifications_views.notifications, name="notifications"),
    path("", include("suppliers.urls")),
    path("", include("financing.urls")),
    path("", include("documents.urls")),
]

api_v1_patterns = [
    path("auth/token/", endpoints.TokenView.as_view(), name="token"),
    path("me/", endpoints.MeView.as_view(), name="me"),
    path("ledger/", include("ledger.urls")),
    path("", include(router.urls)),
    path("", include("suppliers.api.urls")),
    # Documents before financing: .../agreement.pdf is not a route of the request viewset.
    path("", include("documents.api.urls")),
    path("", include("financing.api.urls")),
]

urlpatterns = [
    path("", lambda request: redirect("portal:home"), name="root"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("portal/", include((portal_patterns, "portal"))),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("api/v1/", include((api_v1_patterns, "api"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]
