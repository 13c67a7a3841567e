"""Pages of the syndicate: consent requests, their tally, votes and outcome."""

from django.urls import path

from portal.pages import syndicate_views as views

app_name = "syndicate"

urlpatterns = [
    path("", views.consent_inbox, name="inbox"),
    path("agreements/<int:pk>/new/", views.request_open, name="request_open"),
    path("agreements/<int:pk>/", views.agreement_syndicate, name="agreement"),
    path("agreements/<int:pk>/thresholds/", views.threshold_set, name="threshold_set"),
    path("agreements/<int:pk>/defaulting/", views.defaulting_mark, name="defaulting_mark"),
    path("defaulting/<int:pk>/end/", views.defaulting_end, name="defaulting_end"),
    path("requests/<int:pk>/", views.request_detail, name="request"),
    path("requests/<int:pk>/tally/", views.request_tally, name="tally"),
    path("requests/<int:pk>/document/", views.request_document, name="document"),
    path("requests/<int:pk>/vote/", views.request_vote, name="vote"),
    path("requests/<int:pk>/close/", views.request_close, name="close"),
]
