"""
Builders for tests: a second agreement that shares no party with the seed Loan Agreement,
and a user for each kind of membership. Used by the access matrices of pages and API.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model

from covenants.choices import AgreementKind, Basis, Direction, MetricKind, Role, TermsAction
from covenants.models import Agreement, AgreementRole, Covenant, CovenantTerms, LineItem, ThresholdStep
from parties.choices import EntityKind, MembershipRole
from parties.models import Membership, Party

PASSWORD = "x-portal-test-password-1"


@dataclass
class Facility:
    """An agreement with its parties by role and one user per membership role."""

    agreement: Agreement
    borrowers: list[Party]
    agent: Party
    collateral_agent: Party
    lender: Party
    users: dict[str, object] = field(default_factory=dict)


def line_item(code: str, name: str) -> LineItem:
    item, _ = LineItem.objects.get_or_create(code=code, defaults={"name": name})
    return item


def second_facility(prefix: str = "Harbor") -> Facility:
    """A credit agreement among parties named after ``prefix``, with a flat minimum revenue
    covenant (thereafter) and a leverage ratio (total debt / four-quarter EBITDA at most 5.75)."""
    revenues = line_item("revenues", "Revenues")
    ebitda = line_item("ebitda", "EBITDA")
    total_debt = line_item("total_debt", "Total Debt")
    agreement = Agreement.objects.create(
        kind=AgreementKind.CREDIT_AGREEMENT,
        title="Credit Agreement",
        name=f"{prefix} Credit Agreement",
        defined_term="Credit Agreement",
        dated_as_of=dt.date(2019, 6, 28),
        governing_law="New York",
    )
    agreement.required_line_items.set([revenues, ebitda, total_debt])
    borrowers = [
        Party.objects.create(legal_name=f"{prefix} Widgets Inc.", kind=EntityKind.CORPORATION, jurisdiction="Delaware"),
        Party.objects.create(
            legal_name=f"{prefix} Parts LLC", kind=EntityKind.LIMITED_LIABILITY_COMPANY, jurisdiction="Delaware"
        ),
    ]
    agent = Party.objects.create(legal_name=f"{prefix} National Bank", kind=EntityKind.NATIONAL_BANK)
    collateral_agent = Party.objects.create(legal_name=f"{prefix} Collateral Services Corp.")
    lender = Party.objects.create(legal_name=f"{prefix} Life Insurance Company", kind=EntityKind.INSURANCE_COMPANY)
    for index, borrower in enumerate(borrowers):
        AgreementRole.objects.create(
            agreement=agreement, party=borrower, role=Role.BORROWER, defined_term=f"Borrower {index + 1}"
        )
    AgreementRole.objects.create(agreement=agreement, party=agent, role=Role.AGENT, defined_term="Agent")
    AgreementRole.objects.create(agreement=agreement, party=agent, role=Role.LENDER, defined_term="Lenders")
    AgreementRole.objects.create(
        agreement=agreement, party=collateral_agent, role=Role.COLLATERAL_AGENT, defined_term="Collateral Agent"
    )
    AgreementRole.objects.create(agreement=agreement, party=lender, role=Role.LENDER, defined_term="Lenders")

    minimum = Covenant.objects.create(agreement=agreement, section="6.1", name="Minimum revenues")
    terms = CovenantTerms.objects.create(
        covenant=minimum,
        action=TermsAction.ADD,
        effective_from=dt.date(2019, 6, 28),
        line_item=revenues,
        window_periods=1,
        direction=Direction.AT_LEAST,
        basis=Basis.COMBINED,
    )
    ThresholdStep.objects.create(
        terms=terms, test_date=dt.date(2019, 9, 30), applies_thereafter=True, threshold=Decimal("1000000")
    )
    leverage = Covenant.objects.create(agreement=agreement, section="6.2", name="Maximum leverage ratio")
    terms = CovenantTerms.objects.create(
        covenant=leverage,
        action=TermsAction.ADD,
        effective_from=dt.date(2019, 6, 28),
        metric_kind=MetricKind.RATIO,
        line_item=total_debt,
        window_periods=1,
        denominator_line_item=ebitda,
        denominator_window_periods=4,
        direction=Direction.AT_MOST,
        basis=Basis.COMBINED,
    )
    ThresholdStep.objects.create(
        terms=terms, test_date=dt.date(2020, 6, 30), applies_thereafter=True, threshold=Decimal("5.75")
    )
    facility = Facility(agreement, borrowers, agent, collateral_agent, lender)
    facility.users = {
        "borrower": member(f"{prefix.lower()}.borrower", MembershipRole.BORROWER, *borrowers),
        "agent": member(f"{prefix.lower()}.agent", MembershipRole.AGENT, agent),
        "collateral_agent": member(f"{prefix.lower()}.collateral", MembershipRole.AGENT, collateral_agent),
        "lender": member(f"{prefix.lower()}.lender", MembershipRole.LENDER, lender),
    }
    return facility


def member(username: str, role: str, *parties: Party):
    """A user with a membership in each party, in the given role."""
    user = get_user_model().objects.create_user(
        username, password=PASSWORD, email=f"{username}@example.com", first_name=username.split(".")[0].title()
    )
    for party in parties:
        Membership.objects.create(user=user, party=party, role=role)
    return user


def administrator(username: str = "portal.admin"):
    """A portal administrator (staff and superuser)."""
    return get_user_model().objects.create_superuser(username, email=f"{username}@example.com", password=PASSWORD)


def outsider(username: str = "outsider"):
    """A user of a party that holds no role in any agreement."""
    party = Party.objects.create(legal_name=f"{username.title()} Capital Partners LP", kind=EntityKind.PARTNERSHIP)
    return member(username, MembershipRole.LENDER, party)
