"""The credit agreement that tests/documents/fixtures/ratio_table_grouped.txt (a Second
Amendment) amends, as the review pages' tests and the import journey in the browser need it:
its Borrower and its Administrative Agent, each with a user, and no covenant yet."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from covenants.choices import AgreementKind, Role
from covenants.models import Agreement, AgreementRole
from documents.review import decide
from parties.choices import MembershipRole
from parties.models import Party
from tests.factories import member

SECOND_AMENDMENT = Path(__file__).resolve().parents[1] / "documents" / "fixtures" / "ratio_table_grouped.txt"
LEVERAGE = "covenant:7.11(a)"
#: What the Second Amendment names and the Credit Agreement defines: the Total Leverage Ratio is
#: total debt at the quarter's end over EBITDA for the four quarters then ended.
LEVERAGE_DEFINED = {
    "line_item": "total_debt",
    "window_periods": 1,
    "denominator_line_item": "ebitda",
    "denominator_window_periods": 4,
}


def define_leverage(user, review) -> None:
    """The reviewer's definition of the ratio the amendment names, as an edit of its item."""
    item = review.items.get(key=LEVERAGE)
    decide(user, item, "edited", {**item.value, **LEVERAGE_DEFINED})


def harborline_agreement() -> tuple[Agreement, dict[str, object]]:
    """The agreement, and its users by kind: "agent" (Meridian Trust Bank) and "borrower"."""
    agreement = Agreement.objects.create(
        kind=AgreementKind.CREDIT_AGREEMENT,
        title="Credit Agreement",
        name="Harborline Logistics Credit Agreement",
        defined_term="Credit Agreement",
        dated_as_of=dt.date(2002, 6, 30),
        governing_law="New York",
    )
    borrower = Party.objects.create(
        legal_name="Harborline Logistics, Inc.", kind="corporation", jurisdiction="Delaware"
    )
    agent = Party.objects.create(legal_name="Meridian Trust Bank, N.A.", kind="national_bank")
    AgreementRole.objects.create(agreement=agreement, party=borrower, role=Role.BORROWER, defined_term="Borrower")
    AgreementRole.objects.create(agreement=agreement, party=agent, role=Role.AGENT, defined_term="Administrative Agent")
    users = {
        "agent": member("meridian.agent", MembershipRole.AGENT, agent),
        "borrower": member("harborline.cfo", MembershipRole.BORROWER, borrower),
    }
    return agreement, users
