"""Routes of the execution API; portal/api/urls.py mounts them under /api/v1/."""

from rest_framework.routers import SimpleRouter

from portal.api.execution import views

router = SimpleRouter()
router.register("executions", views.ExecutionViewSet, basename="execution")
router.register("conditions", views.ConditionViewSet, basename="condition")
router.register("compliance-certificates", views.CertificateViewSet, basename="compliancecertificate")

urlpatterns = router.urls
