"""
The forms real agreements write, stored as models and evaluated through
compliance.services.agreement_evaluate: monthly liquidity over monthly statements, a 52/53-week
retailer, a quarterly fixed charge coverage ratio over monthly statements, capped add-backs, a
consolidated test, a threshold at 85% of a budget. Each at equality (passes), a cent or
0.000001 either side, with figures missing and with the threshold unknown (never compliant);
and the queries stay as many whatever the number of covenants and periods.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from compliance.choices import ResultStatus
from compliance.models import CovenantTestResult
from compliance.services import agreement_evaluate
from covenants.choices import AgreementKind, Basis, Direction, Frequency, MetricKind, MetricNature, Role, ThresholdState
from covenants.models import Agreement, AgreementRole, Covenant, CovenantTerms, DefinedMetric, ThresholdStep
from covenants.periods import FiscalCalendar
from parties.models import Party
from statements.choices import UploadFormat
from statements.models import FinancialStatement, StatementLine, StatementUpload
from tests.factories import line_item

pytestmark = pytest.mark.django_db
D = Decimal
COMPLIANT, BREACH, INCOMPLETE = ResultStatus.COMPLIANT, ResultStatus.BREACH, ResultStatus.INCOMPLETE
ITEMS = {
    "cash": "Unrestricted Cash",
    "availability": "Availability",
    "revenues": "Revenues",
    "ebitda": "EBITDA",
    "capex": "Capital Expenditures",
    "fixed_charges": "Fixed Charges",
    "ebitda_before_addbacks": "EBITDA before Add-backs",
    "addbacks": "Permitted Add-backs",
    "budgeted_ebitda": "Budgeted EBITDA",
}


def facility(*borrowers: str, calendar: FiscalCalendar | None = None, reporting: str = Frequency.QUARTER):
    agreement = Agreement.objects.create(
        kind=AgreementKind.CREDIT_AGREEMENT,
        title="Credit Agreement",
        name=f"{borrowers[0]} Credit Agreement",
        defined_term="Credit Agreement",
        dated_as_of=dt.date(2016, 12, 31),
        governing_law="New York",
        fiscal_calendar=calendar.to_dict() if calendar else {},
        reporting_frequency=reporting,
    )
    parties = []
    for index, name in enumerate(borrowers):
        party = Party.objects.create(legal_name=name)
        AgreementRole.objects.create(
            agreement=agreement, party=party, role=Role.BORROWER, defined_term=f"Borrower {index + 1}"
        )
        parties.append(party)
    return agreement, parties


def statement(agreement: Agreement, party: Party, day: dt.date, **amounts: object) -> FinancialStatement:
    content = f"{party.pk} {day}".encode()
    upload = StatementUpload.objects.create(
        agreement=agreement,
        filename="figures.csv",
        format=UploadFormat.CSV,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
    )
    made = FinancialStatement.objects.create(agreement=agreement, borrower=party, period_end=day, upload=upload)
    for code, amount in amounts.items():
        StatementLine.objects.create(statement=made, line_item=line_item(code, ITEMS[code]), amount=D(str(amount)))
    return made


def covenant(agreement: Agreement, section: str, rows: list[tuple], **terms: object) -> Covenant:
    made = Covenant.objects.create(agreement=agreement, section=section, name=section)
    version = CovenantTerms.objects.create(covenant=made, effective_from=dt.date(2017, 1, 1), **terms)
    for row in rows:
        day, threshold, *rest = row
        extra = rest[0] if rest else {}
        state = ThresholdState.SET if threshold is not None else extra.pop("state", ThresholdState.REDACTED)
        ThresholdStep.objects.create(
            terms=version,
            test_date=day,
            threshold=None if threshold is None else D(str(threshold)),
            threshold_state=state,
            **extra,
        )
    return made


def metric(agreement: Agreement, name: str, label: str, formula: str, nature: str = MetricNature.FLOW):
    return DefinedMetric.objects.create(agreement=agreement, name=name, label=label, formula=formula, nature=nature)


def result(agreement: Agreement, section: str, day: dt.date) -> CovenantTestResult:
    return CovenantTestResult.objects.get(
        agreement=agreement, covenant__section=section, test_date=day, is_current=True, borrower=None
    )


# ---------------------------------------------------------------------------
# Monthly minimum liquidity over monthly statements
# ---------------------------------------------------------------------------


def liquidity(cash: str):
    agreement, (acme,) = facility("Acme Retail Inc.", reporting=Frequency.MONTH)
    defined = metric(agreement, "liquidity", "Liquidity", "cash + availability", MetricNature.BALANCE)
    grouped = [
        (dt.date(2017, m, d), "18700000", {"amount_as_printed": "$18,700,000"}) for m, d in ((4, 30), (5, 31), (6, 30))
    ]
    thereafter = (dt.date(2017, 10, 31), "20000000", {"applies_thereafter": True, "amount_as_printed": "$20,000,000"})
    covenant(agreement, "6.12", [*grouped, thereafter], metric=defined, frequency=Frequency.MONTH)
    statement(agreement, acme, dt.date(2017, 4, 30), cash=cash, availability=8700000)
    statement(agreement, acme, dt.date(2017, 11, 30), cash=cash, availability=10000000)
    agreement_evaluate(agreement_id=agreement.pk, as_of=dt.date(2017, 12, 31))
    return agreement


@pytest.mark.parametrize(
    ("cash", "status"), [("10000000", COMPLIANT), ("9999999.99", BREACH), ("10000000.01", COMPLIANT)]
)
def test_monthly_liquidity_grouped_and_open_ended_rows(cash: str, status: str) -> None:
    agreement = liquidity(cash)
    april = result(agreement, "6.12", dt.date(2017, 4, 30))
    assert april.status == status
    assert april.threshold == D("18700000")
    assert "Liquidity of Acme Retail Inc. at April 30, 2017" in april.explanation
    assert "$18,700,000" in april.explanation
    november = result(agreement, "6.12", dt.date(2017, 11, 30))
    assert november.threshold == D("20000000")
    assert november.status == (BREACH if status == BREACH else COMPLIANT)
    for day in (dt.date(2017, 5, 31), dt.date(2017, 10, 31), dt.date(2017, 12, 31)):
        missing = result(agreement, "6.12", day)
        assert missing.status == INCOMPLETE
        assert "Acme Retail Inc. for the month ending" in missing.explanation


# ---------------------------------------------------------------------------
# A 52/53-week retailer
# ---------------------------------------------------------------------------

RETAIL = FiscalCalendar.weeks(12, "saturday", rule="nearest")
FY2020 = (dt.date(2020, 3, 28), dt.date(2020, 6, 27), dt.date(2020, 9, 26), dt.date(2021, 1, 2))  # 53 weeks
FY2023 = (dt.date(2023, 4, 1), dt.date(2023, 7, 1), dt.date(2023, 9, 30), dt.date(2023, 12, 30))


@pytest.mark.parametrize(
    ("threshold", "status"), [("4000000", COMPLIANT), ("4000000.01", BREACH), ("3999999.99", COMPLIANT)]
)
def test_a_retailer_tested_on_trailing_four_52_53_week_quarters(threshold: str, status: str) -> None:
    agreement, (acme,) = facility("Acme Retail Inc.", calendar=RETAIL)
    rows = [(FY2020[-1], threshold), (FY2023[-1], threshold), (dt.date(2024, 3, 30), None)]
    covenant(agreement, "7.1", rows, line_item=line_item("revenues", "Revenues"), window_periods=4)
    for day in FY2020 + FY2023[1:]:
        statement(agreement, acme, day, revenues=1000000)
    statement(agreement, acme, dt.date(2024, 3, 30), revenues=1000000)
    agreement_evaluate(agreement_id=agreement.pk, as_of=dt.date(2024, 6, 30))
    fy2020 = result(agreement, "7.1", FY2020[-1])
    assert (fy2020.status, fy2020.value) == (status, D("4000000"))
    assert fy2020.inputs["window"] == [d.isoformat() for d in FY2020]
    fy2023 = result(agreement, "7.1", FY2023[-1])
    assert fy2023.status == INCOMPLETE
    assert "for the fiscal quarter ending April 1, 2023" in fy2023.explanation
    redacted = result(agreement, "7.1", dt.date(2024, 3, 30))
    assert redacted.status == INCOMPLETE
    assert "the threshold for March 30, 2024 is redacted" in redacted.explanation


# ---------------------------------------------------------------------------
# Quarterly fixed charge coverage over monthly statements
# ---------------------------------------------------------------------------

MONTHS = (dt.date(2023, 1, 31), dt.date(2023, 2, 28), dt.date(2023, 3, 31))


@pytest.mark.parametrize(
    ("march_fixed_charges", "value", "status"),
    [("400000", "1.25", COMPLIANT), ("400000.01", "1.249999", BREACH), ("399999.99", "1.25", COMPLIANT)],
)
def test_quarterly_fixed_charge_coverage_over_monthly_statements(
    march_fixed_charges: str, value: str, status: str
) -> None:
    # Thresholds are stored to four places; the ratio, to six, is rounded against compliance:
    # 1,500,000 / 1,200,000.01 = 1.2499999896 is 1.249999, short of 1.25.
    agreement, (acme,) = facility("Acme Retail Inc.", reporting=Frequency.MONTH)
    fccr = metric(agreement, "fccr", "Fixed Charge Coverage Ratio", "(ebitda - capex) / fixed_charges")
    covenant(agreement, "7.2", [(dt.date(2023, 3, 31), "1.25"), (dt.date(2023, 6, 30), "1.25")], metric=fccr)
    for day in MONTHS:
        charges = march_fixed_charges if day == MONTHS[-1] else 400000
        statement(agreement, acme, day, ebitda=600000, capex=100000, fixed_charges=charges)
    for day in (dt.date(2023, 4, 30), dt.date(2023, 6, 30)):  # May is missing
        statement(agreement, acme, day, ebitda=600000, capex=100000, fixed_charges=400000)
    agreement_evaluate(agreement_id=agreement.pk, as_of=dt.date(2023, 8, 31))
    first = result(agreement, "7.2", dt.date(2023, 3, 31))
    assert (first.status, first.value) == (status, D(value))
    assert first.inputs["line_item_sums"]["ebitda"] == "1800000.00"
    assert "Fixed Charge Coverage Ratio of Acme Retail Inc. for the fiscal quarter ending March 31, 2023" in (
        first.explanation
    )
    second = result(agreement, "7.2", dt.date(2023, 6, 30))
    assert second.status == INCOMPLETE
    assert "Acme Retail Inc. for the month ending May 31, 2023" in second.explanation


# ---------------------------------------------------------------------------
# Capped add-backs
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("offset", "status"), [("0", COMPLIANT), ("0.01", BREACH), ("-0.01", COMPLIANT)])
def test_add_backs_capped_by_amount_and_by_percent_in_different_quarters(offset: str, status: str) -> None:
    agreement, (acme,) = facility("Acme Retail Inc.")
    metric(agreement, "capped_addbacks", "Capped Add-backs", "min(addbacks, 5000000, 15% * ebitda_before_addbacks)")
    adjusted = metric(
        agreement, "adjusted_ebitda", "Consolidated Adjusted EBITDA", "ebitda_before_addbacks + capped_addbacks"
    )
    rows = [(dt.date(2022, 12, 31), D("45000000") + D(offset)), (dt.date(2023, 12, 31), D("23000000") + D(offset))]
    covenant(agreement, "7.3", rows, metric=adjusted, window_periods=4)
    for month in (3, 6, 9, 12):
        day = dt.date(2022, month, 30 if month in (6, 9) else 31)
        statement(agreement, acme, day, ebitda_before_addbacks=10000000, addbacks=2000000)
        statement(agreement, acme, day.replace(year=2023), ebitda_before_addbacks=5000000, addbacks=1000000)
    agreement_evaluate(agreement_id=agreement.pk, as_of=dt.date(2024, 3, 31))
    dollar_cap = result(agreement, "7.3", dt.date(2022, 12, 31))
    percent_cap = result(agreement, "7.3", dt.date(2023, 12, 31))
    assert (dollar_cap.status, dollar_cap.value) == (status, D("45000000"))
    assert (percent_cap.status, percent_cap.value) == (status, D("23000000"))
    assert dollar_cap.inputs["definitions_explained"]["capped_addbacks"].endswith("= 5,000,000")
    assert percent_cap.inputs["definitions_explained"]["capped_addbacks"].endswith("= 3,000,000")


# ---------------------------------------------------------------------------
# Consolidated, and relative thresholds
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("threshold", "status"), [("1000000", COMPLIANT), ("1000000.01", BREACH), ("999999.99", COMPLIANT)]
)
def test_consolidated_when_a_co_borrower_sent_nothing(threshold: str, status: str) -> None:
    agreement, (acme, _stores) = facility("Acme Retail Inc.", "Acme Stores LLC")
    parent = Party.objects.create(legal_name="Acme Holdings Corp.")
    rows = [(dt.date(2023, 3, 31), threshold), (dt.date(2023, 6, 30), threshold)]
    covenant(
        agreement,
        "7.4",
        rows,
        line_item=line_item("ebitda", "EBITDA"),
        basis=Basis.CONSOLIDATED,
        reporting_party=parent,
    )
    statement(agreement, parent, dt.date(2023, 3, 31), ebitda=1000000)
    statement(agreement, acme, dt.date(2023, 3, 31), ebitda=7)
    statement(agreement, acme, dt.date(2023, 6, 30), ebitda=9000000)
    agreement_evaluate(agreement_id=agreement.pk, as_of=dt.date(2023, 8, 31))
    first = result(agreement, "7.4", dt.date(2023, 3, 31))
    assert (first.status, first.value) == (status, D("1000000"))
    assert "the group, consolidated, as reported by Acme Holdings Corp." in first.explanation
    second = result(agreement, "7.4", dt.date(2023, 6, 30))
    assert second.status == INCOMPLETE
    assert "figures are missing from Acme Holdings Corp." in second.explanation


@pytest.mark.parametrize(
    ("ebitda", "status"), [("8500000", COMPLIANT), ("8499999.99", BREACH), ("8500000.01", COMPLIANT)]
)
def test_a_threshold_at_85_percent_of_the_budget(ebitda: str, status: str) -> None:
    agreement, (acme,) = facility("Acme Retail Inc.")
    covenant(
        agreement,
        "7.5",
        [(dt.date(2023, 3, 31), "85"), (dt.date(2023, 6, 30), "85")],
        line_item=line_item("ebitda", "EBITDA"),
        threshold_relative_to=line_item("budgeted_ebitda", "Budgeted EBITDA"),
        direction=Direction.AT_LEAST,
    )
    statement(agreement, acme, dt.date(2023, 3, 31), ebitda=ebitda, budgeted_ebitda=10000000)
    statement(agreement, acme, dt.date(2023, 6, 30), ebitda=ebitda)
    agreement_evaluate(agreement_id=agreement.pk, as_of=dt.date(2023, 8, 31))
    first = result(agreement, "7.5", dt.date(2023, 3, 31))
    assert (first.status, first.threshold) == (status, D("8500000"))
    assert "85% of Budgeted EBITDA $10,000,000 = $8,500,000" in first.explanation
    second = result(agreement, "7.5", dt.date(2023, 6, 30))
    assert second.status == INCOMPLETE
    assert "(Budgeted EBITDA)" in second.explanation


# ---------------------------------------------------------------------------
# Queries
# ---------------------------------------------------------------------------


def _queries(covenants: int, quarters: int) -> int:
    agreement, (acme,) = facility(f"Acme {covenants} {quarters} Inc.")
    fccr = metric(agreement, "fccr", "Fixed Charge Coverage Ratio", "(ebitda - capex) / fixed_charges")
    days = [dt.date(2022, 3, 31), dt.date(2022, 6, 30), dt.date(2022, 9, 30), dt.date(2022, 12, 31)][:quarters]
    for index in range(covenants):
        covenant(agreement, f"8.{index}", [(days[0], "1", {"applies_thereafter": True})], metric=fccr)
    covenant(agreement, "9.0", [(days[0], "1")], line_item=line_item("ebitda", "EBITDA"), metric_kind=MetricKind.SUM)
    for day in days:
        statement(agreement, acme, day, ebitda=600000, capex=100000, fixed_charges=400000)
    agreement_evaluate(agreement_id=agreement.pk, as_of=dt.date(2023, 1, 31))
    with CaptureQueriesContext(connection) as captured:
        agreement_evaluate(agreement_id=agreement.pk, as_of=dt.date(2023, 1, 31))
    return len(captured)


def test_defined_terms_cost_one_query_whatever_the_number_of_covenants_and_quarters() -> None:
    # Re-evaluating unchanged figures: the twelve queries of the seed's re-evaluation
    # (tests/compliance/test_evaluation.py), and one for the agreements' defined terms.
    assert _queries(1, 1) == _queries(3, 4) == 13
