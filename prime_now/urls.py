from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from prime_now import health, metrics
from prime_now.kernel.api.docs import ApiDocsAccess, staff_unless_docs_public
from prime_now.kernel.api.views import MeGetApi, TokenCreateApi, TokenLogoutAllApi, TokenLogoutApi
from prime_now.ops import views as ops_views

api_v1: list[URLPattern | URLResolver] = [
    path("me", MeGetApi.as_view(), name="me"),
    path("auth/token", TokenCreateApi.as_view(), name="token-create"),
    path("auth/logout", TokenLogoutApi.as_view(), name="logout"),
    path("auth/logout-all", TokenLogoutAllApi.as_view(), name="logout-all"),
    path("catalog/", include("catalog.api.urls")),
    path("", include("fulfillment.api.urls")),
    path("", include("ordering.api.urls")),
    path("", include("delivery.api.urls")),
    path("", include("notifications.api.urls")),
]

# The API first: its paths are tried against its patterns only, not every storefront page's
# (the storefront's include has no prefix). No storefront path starts with "api/".
urlpatterns = [
    path("api/v1/", include((api_v1, "api"), namespace="v1")),
    path("", include("prime_now.storefront.urls")),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics, name="metrics"),
    path("ops/dashboard/", ops_views.dashboard, name="ops-dashboard"),
    path("admin/", admin.site.urls),
    # Public unless API_DOCS_PUBLIC=False (then staff only).
    path(
        "api/schema/",
        SpectacularAPIView.as_view(permission_classes=[ApiDocsAccess]),
        name="schema",
    ),
    path(
        "api/docs/",
        staff_unless_docs_public(
            SpectacularSwaggerView.as_view(url_name="schema", permission_classes=[ApiDocsAccess])
        ),
        name="api-docs",
    ),
]

handler404 = "prime_now.storefront.views.not_found"
handler500 = "prime_now.storefront.views.server_error"
