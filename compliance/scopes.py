"""Who sees test results and compliance events: whoever sees their agreement (registered with
the one access rule, ``covenants.access``, when the app is ready)."""

from __future__ import annotations

from compliance.models import AgreementStanding, ComplianceEvent, CovenantTestResult, EvaluatedInputs
from covenants.access import register_agreement_rows

register_agreement_rows(
    {
        CovenantTestResult: "agreement",
        ComplianceEvent: "agreement",
        EvaluatedInputs: "agreement",
        AgreementStanding: "agreement",
    }
)
