"""Routes of the covenants API; portal/api/urls.py mounts them under /api/v1/."""

from rest_framework.routers import SimpleRouter

from portal.api.covenants import alerts, onboarding, views

router = SimpleRouter()
router.register("agreements", views.AgreementViewSet, basename="agreement")
router.register("amendments", views.AmendmentViewSet, basename="amendment")
router.register("line-items", onboarding.LineItemViewSet, basename="lineitem")
router.register("defined-metrics", onboarding.DefinedMetricViewSet, basename="definedmetric")
router.register("covenants", views.CovenantViewSet, basename="covenant")
router.register("financial-statements", views.FinancialStatementViewSet, basename="financialstatement")
router.register("covenant-tests", views.CovenantTestResultViewSet, basename="covenanttest")
router.register("waivers", views.WaiverViewSet, basename="waiver")
router.register("alerts", alerts.AlertViewSet, basename="alert")
router.register("webhooks", alerts.WebhookViewSet, basename="webhook")

urlpatterns = router.urls
