"""Pages of agreements: detail, statement uploads and templates."""

from django.urls import path

from . import views

app_name = "covenants"

urlpatterns = [
    path("<int:pk>/", views.agreement_detail, name="agreement_detail"),
]
