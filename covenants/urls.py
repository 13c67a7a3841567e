"""Pages of agreements: detail, statement uploads and templates."""

from django.urls import path

from . import views

app_name = "covenants"

urlpatterns = [
    path("<int:pk>/", views.agreement_detail, name="agreement_detail"),
    path("<int:pk>/statements/upload/", views.statement_upload, name="statement_upload"),
    path("<int:pk>/statements/template/", views.statement_template, name="statement_template"),
]
