"""Routes of the parties API; portal/api/urls.py mounts them under /api/v1/."""

from rest_framework.routers import SimpleRouter

from portal.api.parties import views

router = SimpleRouter()
router.register("parties", views.PartyViewSet, basename="party")
router.register("people", views.PersonViewSet, basename="person")

urlpatterns = router.urls
