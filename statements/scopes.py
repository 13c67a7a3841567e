"""Who sees and acts on statements and their files: registered with the one access rule
(``covenants.access``) when the app is ready."""

from __future__ import annotations

from covenants.access import in_agreements, register, register_agreement_rows
from statements.models import FinancialStatement, StatementLine, StatementUpload

register_agreement_rows(
    {FinancialStatement: "agreement", StatementUpload: "agreement", StatementLine: "statement__agreement"}
)
# The original files and the statements they carried: whoever sees the agreement.
register(StatementUpload, "download", scope=in_agreements(StatementUpload, "agreement", "download"))
register(FinancialStatement, "download", scope=in_agreements(FinancialStatement, "agreement", "download"))
