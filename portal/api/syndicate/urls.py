"""Routes of the syndicate API; portal/api/urls.py mounts them under /api/v1/."""

from rest_framework.routers import SimpleRouter

from portal.api.syndicate import views

router = SimpleRouter()
router.register("facilities", views.FacilityViewSet, basename="facility")
router.register("commitments", views.CommitmentViewSet, basename="commitment")
router.register("assignments", views.AssignmentViewSet, basename="assignment")
router.register("consent-requests", views.ConsentRequestViewSet, basename="consentrequest")
router.register("votes", views.VoteViewSet, basename="vote")
router.register("defaulting-lenders", views.DefaultingLenderViewSet, basename="defaultinglender")
router.register("voting-thresholds", views.VotingThresholdViewSet, basename="votingthreshold")

urlpatterns = router.urls
