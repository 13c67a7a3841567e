"""Pages of agreements: the agreement page, the upload journey, exports and the certificate."""

from django.urls import path

from portal.pages import documents, review, views

app_name = "covenants"

urlpatterns = [
    path("<int:pk>/", views.agreement_detail, name="agreement_detail"),
    path("<int:pk>/statements/upload/", views.statement_upload, name="statement_upload"),
    path("<int:pk>/statements/confirm/", views.statement_confirm, name="statement_confirm"),
    path("<int:pk>/statements/template/", views.statement_template, name="statement_template"),
    path("<int:pk>/statements/<int:upload_pk>/", views.submission_detail, name="submission_detail"),
    path("<int:pk>/statements/<int:upload_pk>/progress/", views.submission_progress, name="submission_progress"),
    path("<int:pk>/compliance.csv", views.compliance_export, {"fmt": "csv"}, name="compliance_csv"),
    path("<int:pk>/compliance.xlsx", views.compliance_export, {"fmt": "xlsx"}, name="compliance_xlsx"),
    path("<int:pk>/documents/<int:document_pk>/", documents.document_detail, name="document_detail"),
    path("<int:pk>/reviews/", review.review_list, name="review_list"),
    path("<int:pk>/reviews/<int:review_pk>/", review.review_detail, name="review_detail"),
    path("<int:pk>/reviews/<int:review_pk>/apply/", review.review_apply, name="review_apply"),
    path("<int:pk>/reviews/<int:review_pk>/sections/<slug:section>/", review.section_decide, name="section_decide"),
    path("<int:pk>/reviews/<int:review_pk>/items/<int:item_pk>/", review.item_decide, name="item_decide"),
    path("<int:pk>/reviews/<int:review_pk>/items/<int:item_pk>/edit/", review.item_edit, name="item_edit"),
    path("<int:pk>/certificate/", views.compliance_certificate, name="compliance_certificate"),
]
