"""Pages of the syndicate: consent requests, their tally, votes and outcome."""

from django.urls import path

from portal.pages import syndicate_views as views

app_name = "syndicate"

urlpatterns = [
    path("", views.consent_inbox, name="inbox"),
    path("agreements/<int:pk>/new/", views.request_open, name="request_open"),
    path("requests/<int:pk>/", views.request_detail, name="request"),
    path("requests/<int:pk>/tally/", views.request_tally, name="tally"),
    path("requests/<int:pk>/document/", views.request_document, name="document"),
    path("requests/<int:pk>/vote/", views.request_vote, name="vote"),
    path("requests/<int:pk>/close/", views.request_close, name="close"),
]
