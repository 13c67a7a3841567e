"""
The admin for agreements, amendments, covenants and their terms, and the records of fact.

Every admin here derives from ``portal.admin.base.ScopedModelAdmin``: a staff user who is
not an administrator sees and changes only the rows of their agreements that the access
rule allows, and only where their model permissions allow as well. Waivers are recorded by
the waiver service, with its checks; an upload's original is downloaded only by whom
``may(user, "download", upload)`` allows.

Agreements, roles, amendments, covenants, terms and schedules keep history, so they are
registered with ``SimpleHistoryAdmin``: the "History" page shows who changed what, when,
before and after. Financial statements, their lines and uploads, test results and compliance
events are records of fact: the admin shows them and never adds, changes or deletes them,
not even for a superuser. Restatements and re-evaluations go through the services.
"""

from portal.admin.agreements import (
    AgreementAdmin,
    AgreementRoleAdmin,
    AmendmentAdmin,
    ConditionPrecedentAdmin,
    ExecutionCheckMixin,
    LineItemAdmin,
    ReaffirmationAdmin,
)
from portal.admin.alerts import (
    AlertAdmin,
    AlertDeliveryAdmin,
    NotificationPreferenceAdmin,
    WebhookAttemptAdmin,
    WebhookSubscriptionAdmin,
)
from portal.admin.documents import DocumentAdmin
from portal.admin.execution import (
    ComplianceCertificateAdmin,
    ExecutionAdmin,
    ExecutionConditionAdmin,
    ExecutionRevocationAdmin,
    RecordedSatisfactionAdmin,
)
from portal.admin.statements import (
    ComplianceEventAdmin,
    CovenantTestResultAdmin,
    FinancialStatementAdmin,
    RecordOfFactAdmin,
    RecordOfFactInline,
    StatementLineAdmin,
    StatementUploadAdmin,
)
from portal.admin.syndicate import (
    AssignmentAdmin,
    AuthorisedSignatoryAdmin,
    CommitmentAdmin,
    ConsentRequestAdmin,
    DefaultingLenderAdmin,
    FacilityAdmin,
    LoansOutstandingAdmin,
    VoteAdmin,
    VotingThresholdAdmin,
)
from portal.admin.terms import CovenantAdmin, CovenantTermsAdmin, ThresholdStepAdmin, WaiverAdmin

__all__ = [
    "AssignmentAdmin",
    "AuthorisedSignatoryAdmin",
    "CommitmentAdmin",
    "ConsentRequestAdmin",
    "DefaultingLenderAdmin",
    "FacilityAdmin",
    "LoansOutstandingAdmin",
    "VoteAdmin",
    "VotingThresholdAdmin",
    "AgreementAdmin",
    "AgreementRoleAdmin",
    "AlertAdmin",
    "AlertDeliveryAdmin",
    "AmendmentAdmin",
    "ComplianceEventAdmin",
    "ConditionPrecedentAdmin",
    "CovenantAdmin",
    "DocumentAdmin",
    "ComplianceCertificateAdmin",
    "ExecutionAdmin",
    "ExecutionConditionAdmin",
    "ExecutionRevocationAdmin",
    "RecordedSatisfactionAdmin",
    "CovenantTermsAdmin",
    "CovenantTestResultAdmin",
    "ExecutionCheckMixin",
    "FinancialStatementAdmin",
    "LineItemAdmin",
    "NotificationPreferenceAdmin",
    "ReaffirmationAdmin",
    "RecordOfFactAdmin",
    "RecordOfFactInline",
    "StatementLineAdmin",
    "StatementUploadAdmin",
    "ThresholdStepAdmin",
    "WaiverAdmin",
    "WebhookAttemptAdmin",
    "WebhookSubscriptionAdmin",
]
