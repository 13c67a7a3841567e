"""
The engine on the forms real agreements write beyond the seed's quarterly sums: monthly
balances with grouped and open-ended schedule rows, 52/53-week quarters, a quarterly ratio
over monthly statements, capped add-backs, a consolidated statement, a threshold relative to
a budget, and dates read from what was printed. Pure data: no database.

Each at equality (passes as the text says), a cent or 0.000001 either side, with figures
missing, and with the threshold unknown (never compliant).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from compliance.engine import (
    AT_LEAST,
    BALANCE,
    BREACH,
    COMPLIANT,
    CONSOLIDATED,
    INCOMPLETE,
    MONTH,
    NOT_TESTED,
    AgreementInputs,
    BorrowerSpan,
    CovenantSpec,
    Figure,
    MetricSpec,
    Result,
    ScheduleRow,
    TermsVersion,
    evaluate_agreement,
)
from compliance.engine.types import THRESHOLD_REDACTED, THRESHOLD_TO_BE_SET
from covenants.periods import FiscalCalendar

D = Decimal
ACME, ACME_STORES, PARENT = 1, 2, 9
ACME_SPAN = BorrowerSpan(ACME, "Acme Retail Inc.")
STORES_SPAN = BorrowerSpan(ACME_STORES, "Acme Stores LLC")
LABELS = (
    ("addbacks", "Permitted Add-backs"),
    ("availability", "Availability"),
    ("budgeted_ebitda", "Budgeted EBITDA"),
    ("capex", "Capital Expenditures"),
    ("cash", "Unrestricted Cash"),
    ("ebitda_before_addbacks", "EBITDA before Add-backs"),
    ("fixed_charges", "Fixed Charges"),
)


def figures(party: int, day: date, **amounts: object) -> list[Figure]:
    return [Figure(party, day, item, D(str(amount)), statement_id=1000 + party) for item, amount in amounts.items()]


def agreement(
    terms: TermsVersion,
    figs: list[Figure],
    *,
    as_of: date,
    calendar: FiscalCalendar | None = None,
    reporting: str = "quarter",
    borrowers: tuple[BorrowerSpan, ...] = (ACME_SPAN,),
) -> list[Result]:
    covenant = CovenantSpec(covenant_id=1, section="6.1", name="Covenant", versions=(terms,))
    inputs = AgreementInputs(
        agreement_id=1,
        as_of=as_of,
        covenants=(covenant,),
        borrowers=borrowers,
        figures=tuple(figs),
        calendar=calendar,
        reporting_frequency=reporting,
        line_item_labels=LABELS,
    )
    return evaluate_agreement(inputs)


def on(results: list[Result], day: date) -> Result:
    (found,) = [r for r in results if r.test_date == day]
    return found


def no_codes(result: Result) -> None:
    for code, _ in LABELS:
        assert code not in result.explanation, result.explanation


# ---------------------------------------------------------------------------
# Monthly minimum liquidity: a balance, grouped month-end rows and an open-ended row
# ---------------------------------------------------------------------------

LIQUIDITY = MetricSpec(name="liquidity", label="Liquidity", formula="cash + availability", nature=BALANCE)


def liquidity_terms(*rows: ScheduleRow) -> TermsVersion:
    # "April 30, 2017, May 31, 2017 and June 30, 2017 $18,700,000"; "October 31, 2017 and the last
    # day of each month thereafter $20,000,000".
    grouped = tuple(
        ScheduleRow(day, D("18700000"), amount_as_printed="$18,700,000")
        for day in (date(2017, 4, 30), date(2017, 5, 31), date(2017, 6, 30))
    )
    thereafter = ScheduleRow(
        date(2017, 10, 31), D("20000000"), applies_thereafter=True, amount_as_printed="$20,000,000"
    )
    return TermsVersion(
        terms_id=1,
        effective_from=date(2017, 4, 1),
        action="add",
        metric=LIQUIDITY,
        frequency=MONTH,
        schedule=rows or (*grouped, thereafter),
    )


@pytest.mark.parametrize(
    ("cash", "status"),
    [("10000000", COMPLIANT), ("9999999.99", BREACH), ("10000000.01", COMPLIANT)],
)
def test_monthly_liquidity_is_a_balance_at_the_month_end(cash: str, status: str) -> None:
    figs = figures(ACME, date(2017, 4, 30), cash=cash, availability=8700000)
    figs += figures(ACME, date(2017, 3, 31), cash=99000000, availability=0)  # a balance is never summed
    result = on(agreement(liquidity_terms(), figs, as_of=date(2017, 4, 30), reporting=MONTH), date(2017, 4, 30))
    assert result.status == status
    assert result.value == D(cash) + 8700000
    assert result.threshold == D("18700000")
    assert result.explanation.startswith("Liquidity of Acme Retail Inc. at April 30, 2017 amounted to")
    assert "against a minimum of $18,700,000" in result.explanation
    assert result.inputs["frequency"] == MONTH
    assert result.inputs["line_item_sums"] == {"availability": "8700000", "cash": cash}
    no_codes(result)


def test_grouped_rows_each_test_their_month_and_the_open_ended_row_every_later_month() -> None:
    figs = []
    for day in (date(2017, 5, 31), date(2017, 6, 30), date(2017, 10, 31), date(2017, 11, 30)):
        figs += figures(ACME, day, cash=20000000, availability=0)
    results = agreement(liquidity_terms(), figs, as_of=date(2017, 12, 31), reporting=MONTH)
    statuses = {r.test_date: (r.status, r.threshold) for r in results}
    assert statuses[date(2017, 4, 30)][0] == INCOMPLETE  # no statement for April
    assert statuses[date(2017, 5, 31)] == (COMPLIANT, D("18700000"))
    assert statuses[date(2017, 6, 30)] == (COMPLIANT, D("18700000"))
    assert date(2017, 7, 31) not in statuses  # no row and no figures: not reported
    assert statuses[date(2017, 10, 31)] == (COMPLIANT, D("20000000"))
    assert statuses[date(2017, 11, 30)] == (COMPLIANT, D("20000000"))
    assert statuses[date(2017, 12, 31)][0] == INCOMPLETE
    december = on(results, date(2017, 12, 31))
    assert "figures are missing from Acme Retail Inc. for the month ending December 31, 2017" in december.explanation
    assert "(Availability and Unrestricted Cash)" in december.explanation


def test_a_month_with_figures_but_no_row_is_not_tested() -> None:
    figs = figures(ACME, date(2017, 8, 31), cash=1, availability=1)
    results = agreement(liquidity_terms(), figs, as_of=date(2017, 9, 30), reporting=MONTH)
    assert on(results, date(2017, 8, 31)).status == NOT_TESTED


def test_a_redacted_open_ended_threshold_is_explained_with_the_test_date() -> None:
    redacted = ScheduleRow(date(2017, 10, 31), None, threshold_state=THRESHOLD_REDACTED, applies_thereafter=True)
    figs = figures(ACME, date(2017, 11, 30), cash=50000000, availability=0)
    result = on(
        agreement(liquidity_terms(redacted), figs, as_of=date(2017, 11, 30), reporting=MONTH), date(2017, 11, 30)
    )
    assert result.status == INCOMPLETE
    assert "the threshold for November 30, 2017 is redacted" in result.explanation
    assert "October 31, 2017" not in result.explanation


# ---------------------------------------------------------------------------
# A 52/53-week retailer, trailing four quarters
# ---------------------------------------------------------------------------

RETAIL = FiscalCalendar.weeks(12, "saturday", rule="nearest")
# The fiscal year ending January 2, 2021 has 53 weeks (a 14-week fourth quarter).
FY2020 = (date(2020, 3, 28), date(2020, 6, 27), date(2020, 9, 26), date(2021, 1, 2))
FY2023 = (date(2023, 4, 1), date(2023, 7, 1), date(2023, 9, 30), date(2023, 12, 30))


def retail_terms(threshold: str, state: str = "set") -> TermsVersion:
    rows = tuple(
        ScheduleRow(day, D(threshold) if state == "set" else None, threshold_state=state)
        for day in (FY2020[-1], FY2023[-1])
    )
    return TermsVersion(
        terms_id=1, effective_from=date(2020, 1, 1), action="add", line_item="revenues", window_periods=4, schedule=rows
    )


@pytest.mark.parametrize(
    ("threshold", "status"), [("4000000", COMPLIANT), ("4000000.01", BREACH), ("3999999.99", COMPLIANT)]
)
def test_trailing_four_quarters_on_a_52_53_week_calendar(threshold: str, status: str) -> None:
    figs = [f for day in FY2020 + FY2023 for f in figures(ACME, day, revenues=1000000)]
    figs += figures(ACME, date(2020, 12, 31), revenues=77)  # a calendar quarter end: not a fiscal one
    results = agreement(retail_terms(threshold), figs, as_of=date(2024, 1, 31), calendar=RETAIL)
    for day, window in ((date(2021, 1, 2), FY2020), (date(2023, 12, 30), FY2023)):
        result = on(results, day)
        assert result.status == status
        assert result.value == D("4000000")
        assert result.inputs["window"] == [d.isoformat() for d in window]
    assert date(2020, 12, 31) not in {r.test_date for r in results}


def test_a_missing_quarter_or_an_unknown_threshold_on_the_retail_calendar_is_never_compliant() -> None:
    figs = [f for day in FY2020[1:] for f in figures(ACME, day, revenues=1000000)]
    results = agreement(retail_terms("1"), figs, as_of=date(2021, 1, 31), calendar=RETAIL)
    result = on(results, date(2021, 1, 2))
    assert result.status == INCOMPLETE
    assert "fiscal quarter ending March 28, 2020" in result.explanation
    figs = [f for day in FY2020 for f in figures(ACME, day, revenues=1000000)]
    result = on(
        agreement(retail_terms("0", THRESHOLD_TO_BE_SET), figs, as_of=date(2021, 1, 31), calendar=RETAIL),
        date(2021, 1, 2),
    )
    assert result.status == INCOMPLETE
    assert "the threshold for January 2, 2021 is to be set" in result.explanation


# ---------------------------------------------------------------------------
# A quarterly fixed charge coverage ratio over monthly statements
# ---------------------------------------------------------------------------

FCCR = MetricSpec(
    name="fixed_charge_coverage", label="Fixed Charge Coverage Ratio", formula="(ebitda - capex) / fixed_charges"
)
Q1_MONTHS = (date(2023, 1, 31), date(2023, 2, 28), date(2023, 3, 31))


def fccr_terms(threshold: str) -> TermsVersion:
    return TermsVersion(
        terms_id=1,
        effective_from=date(2023, 1, 1),
        action="add",
        metric=FCCR,
        direction=AT_LEAST,
        schedule=(ScheduleRow(date(2023, 3, 31), D(threshold)),),
    )


def fccr_figures(fixed_charges: int = 400000, skip: date | None = None) -> list[Figure]:
    return [
        f
        for day in Q1_MONTHS
        if day != skip
        for f in figures(ACME, day, ebitda=600000, capex=100000, fixed_charges=fixed_charges)
    ]


@pytest.mark.parametrize(("threshold", "status"), [("1.25", COMPLIANT), ("1.250001", BREACH), ("1.249999", COMPLIANT)])
def test_a_quarterly_ratio_over_monthly_statements_sums_the_quarters_months(threshold: str, status: str) -> None:
    result = on(
        agreement(fccr_terms(threshold), fccr_figures(), as_of=date(2023, 4, 30), reporting=MONTH), date(2023, 3, 31)
    )
    # (1,800,000 - 300,000) / 1,200,000 = 1.25
    assert result.status == status
    assert result.value == D("1.25")
    assert result.inputs["statement_periods"] == [d.isoformat() for d in Q1_MONTHS]
    assert result.inputs["line_item_sums"] == {"capex": "300000", "ebitda": "1800000", "fixed_charges": "1200000"}
    assert "1.25 to 1.00" in result.explanation
    assert "Fixed Charge Coverage Ratio of Acme Retail Inc. for the fiscal quarter ending March 31, 2023" in (
        result.explanation
    )


def test_a_missing_month_leaves_the_quarter_undecided_and_names_it() -> None:
    result = on(
        agreement(fccr_terms("1"), fccr_figures(skip=date(2023, 2, 28)), as_of=date(2023, 4, 30), reporting=MONTH),
        date(2023, 3, 31),
    )
    assert result.status == INCOMPLETE
    assert "Acme Retail Inc. for the month ending February 28, 2023" in result.explanation


def test_a_definition_dividing_by_zero_gives_no_value_and_is_never_compliant() -> None:
    result = on(
        agreement(fccr_terms("0"), fccr_figures(fixed_charges=0), as_of=date(2023, 4, 30), reporting=MONTH),
        date(2023, 3, 31),
    )
    assert result.status == INCOMPLETE
    assert result.value is None
    assert "divides by zero" in result.explanation


# ---------------------------------------------------------------------------
# Capped add-backs: "$5,000,000 in any four quarters" and "15% of EBITDA before the add-back"
# ---------------------------------------------------------------------------

ADJUSTED = MetricSpec(
    name="adjusted_ebitda",
    label="Consolidated Adjusted EBITDA",
    formula="ebitda_before_addbacks + capped_addbacks",
    definitions=(("capped_addbacks", "min(addbacks, 5000000, 15% * ebitda_before_addbacks)"),),
)
YEAR_2022 = (date(2022, 3, 31), date(2022, 6, 30), date(2022, 9, 30), date(2022, 12, 31))
YEAR_2023 = (date(2023, 3, 31), date(2023, 6, 30), date(2023, 9, 30), date(2023, 12, 31))


def capped_results(offset: str) -> list[Result]:
    figs = [f for d in YEAR_2022 for f in figures(ACME, d, ebitda_before_addbacks=10000000, addbacks=2000000)]
    figs += [f for d in YEAR_2023 for f in figures(ACME, d, ebitda_before_addbacks=5000000, addbacks=1000000)]
    rows = (
        ScheduleRow(date(2022, 12, 31), D("45000000") + D(offset)),  # 40M + the $5M cap (8M of add-backs)
        ScheduleRow(date(2023, 12, 31), D("23000000") + D(offset)),  # 20M + 15% of 20M (4M of add-backs)
    )
    terms = TermsVersion(
        terms_id=1, effective_from=date(2022, 1, 1), action="add", metric=ADJUSTED, window_periods=4, schedule=rows
    )
    return agreement(terms, figs, as_of=date(2024, 1, 31))


@pytest.mark.parametrize(("offset", "status"), [("0", COMPLIANT), ("0.01", BREACH), ("-0.01", COMPLIANT)])
def test_each_cap_on_add_backs_binds_on_the_window_sums(offset: str, status: str) -> None:
    results = capped_results(offset)
    dollar_cap, percent_cap = on(results, date(2022, 12, 31)), on(results, date(2023, 12, 31))
    assert (dollar_cap.value, percent_cap.value) == (D("45000000"), D("23000000"))
    assert dollar_cap.status == percent_cap.status == status
    assert dollar_cap.inputs["line_item_sums"] == {"addbacks": "8000000", "ebitda_before_addbacks": "40000000"}
    assert dollar_cap.inputs["formula_explained"] == (
        "ebitda before addbacks 40,000,000 + capped addbacks 5,000,000 = 45,000,000"
    )
    assert dollar_cap.inputs["definitions_explained"]["capped_addbacks"].startswith("min(addbacks 8,000,000, ")
    assert percent_cap.inputs["definitions_explained"]["capped_addbacks"].endswith("= 3,000,000")
    assert "Permitted Add-backs of $8,000,000" in dollar_cap.explanation
    assert "four fiscal quarters ending December 31, 2022" in dollar_cap.explanation
    no_codes(dollar_cap)


# ---------------------------------------------------------------------------
# Consolidated: the parent's consolidated statement stands for the group
# ---------------------------------------------------------------------------


def consolidated_terms(threshold: str = "1000000") -> TermsVersion:
    return TermsVersion(
        terms_id=1,
        effective_from=date(2023, 1, 1),
        action="add",
        line_item="ebitda",
        basis=CONSOLIDATED,
        reporting_party_id=PARENT,
        reporting_party_name="Acme Holdings Corp.",
        schedule=(ScheduleRow(date(2023, 3, 31), D(threshold)),),
    )


@pytest.mark.parametrize(
    ("threshold", "status"), [("1000000", COMPLIANT), ("1000000.01", BREACH), ("999999.99", COMPLIANT)]
)
def test_consolidated_reads_only_the_reporting_partys_statement(threshold: str, status: str) -> None:
    # Acme Stores LLC sent nothing: the group's consolidated statement is what counts.
    figs = figures(PARENT, date(2023, 3, 31), ebitda=1000000) + figures(ACME, date(2023, 3, 31), ebitda=5)
    results = agreement(
        consolidated_terms(threshold), figs, as_of=date(2023, 5, 15), borrowers=(ACME_SPAN, STORES_SPAN)
    )
    result = on(results, date(2023, 3, 31))
    assert result.status == status
    assert result.value == D("1000000")
    assert result.party_id is None
    assert "the group, consolidated, as reported by Acme Holdings Corp." in result.explanation
    assert result.inputs["reporting_party"] == {"party_id": PARENT, "name": "Acme Holdings Corp."}


def test_consolidated_without_the_reporters_statement_is_undecided() -> None:
    figs = figures(ACME, date(2023, 3, 31), ebitda=5000000) + figures(ACME_STORES, date(2023, 3, 31), ebitda=5000000)
    results = agreement(consolidated_terms(), figs, as_of=date(2023, 5, 15), borrowers=(ACME_SPAN, STORES_SPAN))
    result = on(results, date(2023, 3, 31))
    assert result.status == INCOMPLETE
    assert "figures are missing from Acme Holdings Corp." in result.explanation


def test_a_single_borrower_combined_is_named_not_called_all_the_borrowers() -> None:
    terms = TermsVersion(
        terms_id=1,
        effective_from=date(2023, 1, 1),
        action="add",
        line_item="ebitda",
        schedule=(ScheduleRow(date(2023, 3, 31), D("1")),),
    )
    result = on(agreement(terms, figures(ACME, date(2023, 3, 31), ebitda=1), as_of=date(2023, 5, 1)), date(2023, 3, 31))
    assert "EBITDA of Acme Retail Inc. for the fiscal quarter ending March 31, 2023" in result.explanation
    assert "all the Borrowers" not in result.explanation


# ---------------------------------------------------------------------------
# A threshold at 85% of the budget
# ---------------------------------------------------------------------------


def budget_terms(state: str = "set") -> TermsVersion:
    return TermsVersion(
        terms_id=1,
        effective_from=date(2023, 1, 1),
        action="add",
        line_item="ebitda",
        threshold_relative_to="budgeted_ebitda",
        schedule=(ScheduleRow(date(2023, 3, 31), D("85") if state == "set" else None, threshold_state=state),),
    )


@pytest.mark.parametrize(
    ("ebitda", "status"), [("8500000", COMPLIANT), ("8499999.99", BREACH), ("8500000.01", COMPLIANT)]
)
def test_a_threshold_relative_to_a_budget(ebitda: str, status: str) -> None:
    figs = figures(ACME, date(2023, 3, 31), ebitda=ebitda, budgeted_ebitda=10000000)
    result = on(agreement(budget_terms(), figs, as_of=date(2023, 5, 1)), date(2023, 3, 31))
    assert result.status == status
    assert result.threshold == D("8500000.00")
    assert "85% of Budgeted EBITDA $10,000,000 = $8,500,000" in result.explanation
    assert result.inputs["relative_amount"] == "10000000"
    no_codes(result)


def test_a_relative_threshold_rounds_to_the_cent_and_needs_its_budget() -> None:
    figs = figures(ACME, date(2023, 3, 31), ebitda=1, budgeted_ebitda="0.05")
    result = on(agreement(budget_terms(), figs, as_of=date(2023, 5, 1)), date(2023, 3, 31))
    assert result.threshold == D("0.04")  # 85% of 5 cents, to the cent (half to even)
    result = on(
        agreement(budget_terms(), figures(ACME, date(2023, 3, 31), ebitda=1), as_of=date(2023, 5, 1)), date(2023, 3, 31)
    )
    assert result.status == INCOMPLETE
    assert "(Budgeted EBITDA)" in result.explanation
    figs = figures(ACME, date(2023, 3, 31), ebitda=1, budgeted_ebitda=1)
    result = on(agreement(budget_terms(THRESHOLD_REDACTED), figs, as_of=date(2023, 5, 1)), date(2023, 3, 31))
    assert result.status == INCOMPLETE


# ---------------------------------------------------------------------------
# A date read from what was printed
# ---------------------------------------------------------------------------


def test_a_date_read_from_its_printed_form_is_flagged_in_the_inputs_and_the_explanation() -> None:
    row = ScheduleRow(
        date(2019, 6, 30),
        D("1"),
        date_as_printed="June, 2019",
        date_reading="no day printed: read as the last day of June 2019",
    )
    terms = TermsVersion(terms_id=1, effective_from=date(2019, 1, 1), action="add", line_item="ebitda", schedule=(row,))
    result = on(agreement(terms, figures(ACME, date(2019, 6, 30), ebitda=1), as_of=date(2019, 8, 1)), date(2019, 6, 30))
    assert result.status == COMPLIANT
    assert "date as printed: 'June, 2019', read as June 30, 2019" in result.explanation
    assert result.inputs["date_reading"] == "no day printed: read as the last day of June 2019"
    assert result.inputs["date_as_printed"] == "June, 2019"


def test_amounts_are_written_one_way() -> None:
    figs = figures(ACME, date(2023, 3, 31), ebitda="1.00", budgeted_ebitda="100")
    result = on(agreement(budget_terms(), figs, as_of=date(2023, 5, 1)), date(2023, 3, 31))
    assert "$1.00" not in result.explanation and "$85.00" not in result.explanation
    assert "$85" in result.explanation


def test_a_window_reaching_before_a_listed_calendar_is_undecided_not_an_error() -> None:
    listed = FiscalCalendar.explicit([[date(2023, 3, 31), date(2023, 6, 30), date(2023, 9, 30), date(2023, 12, 31)]])
    terms = TermsVersion(
        terms_id=1,
        effective_from=date(2023, 1, 1),
        action="add",
        line_item="ebitda",
        window_periods=4,
        schedule=(ScheduleRow(date(2023, 6, 30), D("1")), ScheduleRow(date(2023, 12, 31), D("1"))),
    )
    figs = [f for day in listed.years[0] for f in figures(ACME, day, ebitda=1)]
    results = agreement(terms, figs, as_of=date(2024, 1, 31), calendar=listed)
    assert on(results, date(2023, 6, 30)).status == INCOMPLETE
    assert "the fiscal calendar does not give the periods" in on(results, date(2023, 6, 30)).explanation
    assert on(results, date(2023, 12, 31)).status == COMPLIANT
