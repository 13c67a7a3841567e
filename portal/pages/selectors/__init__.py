"""
Reads for the site's pages: the portfolio dashboard, the borrower's home, the agreement
page, the upload journey, the exports and the compliance certificate, a module each.

Every function takes the user and starts from :mod:`covenants.access`, so a page can only
show what the one access rule lets that user see; views hold no access logic of their own.
Each read runs a fixed number of queries, whatever the number of agreements, covenants,
Borrowers and quarters (the page tests assert the counts).
"""

from compliance.statuses import NEAR_BREACH, STATUS_LABELS
from portal.pages.selectors.agreement import AgreementPage, CovenantPanel, TimelineEntry, agreement_page
from portal.pages.selectors.certificate import (
    CertificateItem,
    certificate_items,
    certificate_test_dates,
    compliance_results,
)
from portal.pages.selectors.common import (
    FigureUsed,
    LateQuarter,
    ResultView,
    User,
    agreement_visible_to,
    agreements_user_may_submit_to,
    home_is_dashboard,
    may_submit,
    status_key,
)
from portal.pages.selectors.home import (
    SORTS,
    AgreementSummary,
    BorrowerHome,
    Dashboard,
    DashboardRow,
    borrower_home,
    dashboard,
)
from portal.pages.selectors.portfolio import (
    PAGE_SIZE,
    PageOf,
    PortfolioAgreement,
    PortfolioDashboard,
    PortfolioSummary,
    page_number,
    portfolio_agreements,
    portfolio_dashboard,
)
from portal.pages.selectors.upload import (
    FigureChange,
    QuarterOption,
    StatementInFile,
    Submission,
    is_reporting_period_end,
    quarter_choices,
    statements_in_file,
    submission,
    submission_history,
    submittable_agreement,
    submittable_borrowers,
)

__all__ = [
    "NEAR_BREACH",
    "STATUS_LABELS",
    "User",
    "status_key",
    "ResultView",
    "FigureUsed",
    "agreement_visible_to",
    "may_submit",
    "agreements_user_may_submit_to",
    "home_is_dashboard",
    "LateQuarter",
    "DashboardRow",
    "AgreementSummary",
    "Dashboard",
    "SORTS",
    "dashboard",
    "BorrowerHome",
    "borrower_home",
    "PAGE_SIZE",
    "page_number",
    "PageOf",
    "PortfolioAgreement",
    "portfolio_agreements",
    "PortfolioSummary",
    "PortfolioDashboard",
    "portfolio_dashboard",
    "TimelineEntry",
    "CovenantPanel",
    "AgreementPage",
    "agreement_page",
    "submittable_agreement",
    "submittable_borrowers",
    "QuarterOption",
    "quarter_choices",
    "is_reporting_period_end",
    "FigureChange",
    "StatementInFile",
    "statements_in_file",
    "submission_history",
    "Submission",
    "submission",
    "compliance_results",
    "CertificateItem",
    "certificate_items",
    "certificate_test_dates",
]
