"""Pages of execution by counterparts: signature pages, signing, counterparts, revocations, conditions."""

from django.urls import path

from portal.pages import certificate_views as certificates
from portal.pages import execution_views as views

app_name = "execution"

urlpatterns = [
    path("amendments/<int:pk>/", views.amendment_execution, name="amendment"),
    path("reaffirmations/<int:pk>/", views.reaffirmation_execution, name="reaffirmation"),
    path("agreements/<int:pk>/signatures/", views.agreement_execution, name="agreement_signatures"),
    path("blocks/<int:pk>/sign/", views.block_sign, name="sign"),
    path("blocks/<int:pk>/counterpart/", views.counterpart_upload, name="counterpart"),
    path("executions/<int:pk>/revoke/", views.execution_revoke, name="revoke"),
    path("executions/<int:pk>/counterpart/", views.counterpart_download, name="counterpart_download"),
    path("conditions/<int:pk>/record/", views.satisfaction_record, name="record"),
    path("agreements/<int:pk>/certificates/", certificates.certificate_list, name="certificates"),
    path("agreements/<int:pk>/certificates/prepare/", certificates.certificate_prepare, name="certificate_prepare"),
    path("certificates/<int:pk>/", certificates.certificate_detail, name="certificate"),
    path("certificates/<int:pk>/sign/", certificates.certificate_sign, name="certificate_sign"),
    path("certificates/<int:pk>/review/", certificates.certificate_review, name="certificate_review"),
]
