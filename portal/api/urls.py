"""
REST API routes, under /api/: version 1 of the resources at /api/v1/, the OpenAPI schema at
/api/schema/ and its interactive docs at /api/docs/ (every asset served by the app).

A new resource registers on its app's router (``portal/api/covenants/urls.py``,
``portal/api/parties/urls.py``); the root below lists them all.
"""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from portal.api import base as api
from portal.api.covenants.urls import router as covenants_router
from portal.api.documents import DocumentViewSet
from portal.api.execution.urls import router as execution_router
from portal.api.parties.urls import router as parties_router
from portal.api.syndicate.urls import router as syndicate_router

app_name = "api"


class V1Router(DefaultRouter):
    """Every app's resources under one root; no format suffixes (ask with Accept instead)."""

    include_format_suffixes = False


router = V1Router()
for app_router in (parties_router, covenants_router, syndicate_router, execution_router):
    router.registry.extend(app_router.registry)
router.register("documents", DocumentViewSet, basename="document")

urlpatterns = [
    path("v1/auth/token/", api.TokenObtainView.as_view(), name="auth-token"),
    path("v1/auth/logout/", api.TokenRevokeView.as_view(), name="auth-logout"),
    path("v1/auth/logout-all/", api.TokenRevokeAllView.as_view(), name="auth-logout-all"),
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
]
