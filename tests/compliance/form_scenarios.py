"""
The forms real agreements write, as data both sets of tests build from: stored as models and
evaluated through ``compliance.services.agreement_evaluate`` (tests/compliance/test_covenant_forms.py),
and onboarded, submitted and read through ``/api/v1/`` (tests/api/test_covenant_forms_api.py).

Each scenario comes at equality (passes, as the text says), a cent or 0.000001 off either side,
and each holds a test date whose figures are missing and one whose threshold is unknown: both
undecided, never compliant. The figures are written once, here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from covenants.periods import FiscalCalendar

D = dt.date
COMPLIANT, BREACH, INCOMPLETE, NOT_TESTED = "compliant", "breach", "incomplete", "not_tested"
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
ACME = "Acme Retail Inc."
TERMS_FROM = D(2017, 1, 1)


@dataclass(frozen=True)
class Row:
    """A schedule row; ``threshold`` None is a threshold not known (``state`` says why)."""

    test_date: dt.date
    threshold: str | None
    applies_thereafter: bool = False
    amount_as_printed: str = ""
    state: str = "set"
    date_as_printed: str = ""
    date_reading: str = ""

    def fields(self) -> dict[str, Any]:
        """The row as the models and the API take it."""
        return {
            "test_date": self.test_date,
            "threshold": None if self.threshold is None else Decimal(self.threshold),
            "threshold_state": self.state,
            "applies_thereafter": self.applies_thereafter,
            "amount_as_printed": self.amount_as_printed,
            "date_as_printed": self.date_as_printed,
            "date_reading": self.date_reading,
        }


@dataclass(frozen=True)
class Terms:
    """A version of a covenant's terms: a line item (by code) or a defined term (by name)."""

    section: str
    rows: tuple[Row, ...]
    line_item: str | None = None
    metric: str | None = None
    frequency: str = "quarter"
    window_periods: int = 1
    direction: str = "at_least"
    basis: str = "combined"
    reporting_party: str | None = None  # a legal name
    threshold_relative_to: str | None = None  # a line item's code
    effective_from: dt.date = TERMS_FROM
    by_amendment: bool = False  # made by the scenario's amendment, replacing the terms before


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    formula: str
    nature: str = "flow"


@dataclass(frozen=True)
class Amendment:
    number: int
    title: str
    dated_as_of: dt.date
    effective_on: dt.date


@dataclass(frozen=True)
class Expect:
    """What the result of ``section`` on ``test_date`` must say; ``inputs`` pairs a key path of the
    result's inputs with text its value must contain."""

    section: str
    test_date: dt.date
    status: str
    value: str | None = None
    threshold: str | None = None
    words: tuple[str, ...] = ()
    inputs: tuple[tuple[tuple[str, ...], str], ...] = ()


@dataclass(frozen=True)
class Scenario:
    name: str
    terms: tuple[Terms, ...]
    statements: tuple[tuple[str, dt.date, dict[str, str]], ...]  # (party, period end, {code: amount})
    expect: tuple[Expect, ...]
    as_of: dt.date
    borrowers: tuple[str, ...] = (ACME,)
    others: tuple[tuple[str, str], ...] = ()  # (legal name, role) of parties that are not Borrowers
    calendar: dict[str, Any] = field(default_factory=dict)
    reporting: str = "quarter"
    metrics: tuple[Metric, ...] = ()
    amendment: Amendment | None = None
    required: tuple[str, ...] = ()  # the line items every statement must carry

    def line_items(self) -> list[str]:
        """The codes of every line item the scenario names."""
        codes = {code for _, _, amounts in self.statements for code in amounts}
        codes |= {c for t in self.terms for c in (t.line_item, t.threshold_relative_to) if c}
        return sorted(codes)


def check(scenario: Scenario, results: dict[tuple[str, dt.date], dict[str, Any]]) -> None:
    """Each expected result against the results read, by (section, test date): status, value and
    threshold to the last place, the explanation's words and the inputs' values."""
    for want in scenario.expect:
        got = results.get((want.section, want.test_date))
        assert got is not None, f"{scenario.name}: no result for {want.section} on {want.test_date}"
        where = f"{scenario.name}, {want.section} on {want.test_date}: {got['explanation']}"
        assert got["status"] == want.status, where
        if want.value is not None:
            assert Decimal(str(got["value"])) == Decimal(want.value), where
        if want.threshold is not None:
            assert Decimal(str(got["threshold"])) == Decimal(want.threshold), where
        for words in want.words:
            assert words in got["explanation"], f"{words!r} not in {where}"
        for path, text in want.inputs:
            value: Any = got["inputs"]
            for key in path:
                value = value[key]
            assert text in str(value), f"{path}: {text!r} not in {value!r} ({where})"


def _month_ends(year: int, months: tuple[int, ...]) -> list[dt.date]:
    return [D(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1) for month in months]


# ---------------------------------------------------------------------------------------------
# A monthly minimum liquidity over monthly statements: grouped and open-ended month-end rows
# ("April 30, 2017, May 31, 2017, and June 30, 2017 $18,700,000"; "October 31, 2017 and the last
# day of each month thereafter $20,000,000").
# ---------------------------------------------------------------------------------------------


def liquidity(cash: str, status: str) -> Scenario:
    grouped = tuple(Row(day, "18700000", amount_as_printed="$18,700,000") for day in _month_ends(2017, (4, 5, 6)))
    rows = (
        *grouped,
        Row(D(2017, 7, 31), None, state="to_be_set"),
        Row(D(2017, 10, 31), "20000000", applies_thereafter=True, amount_as_printed="$20,000,000"),
    )
    missing = "Acme Retail Inc. for the month ending"
    return Scenario(
        name=f"liquidity cash {cash}",
        reporting="month",
        metrics=(Metric("liquidity", "Liquidity", "cash + availability", "balance"),),
        terms=(Terms("6.12", rows, metric="liquidity", frequency="month"),),
        statements=(
            (ACME, D(2017, 4, 30), {"cash": cash, "availability": "8700000"}),
            (ACME, D(2017, 7, 31), {"cash": "30000000", "availability": "0"}),
            (ACME, D(2017, 11, 30), {"cash": cash, "availability": "10000000"}),
        ),
        as_of=D(2017, 12, 31),
        expect=(
            Expect(
                "6.12",
                D(2017, 4, 30),
                status,
                threshold="18700000",
                words=("Liquidity of Acme Retail Inc. at April 30, 2017", "$18,700,000"),
            ),
            Expect("6.12", D(2017, 11, 30), BREACH if status == BREACH else COMPLIANT, threshold="20000000"),
            Expect("6.12", D(2017, 7, 31), INCOMPLETE, words=("the threshold for July 31, 2017 is to be set",)),
            *(Expect("6.12", d, INCOMPLETE, words=(missing,)) for d in (D(2017, 5, 31), D(2017, 10, 31))),
        ),
    )


# ---------------------------------------------------------------------------------------------
# A 52/53-week retailer (years ending on the Saturday nearest December 31) on trailing four
# quarters: quarter ends such as 2023-12-30, and the 53-week fiscal 2020 ending 2021-01-02.
# ---------------------------------------------------------------------------------------------

RETAIL = FiscalCalendar.weeks(12, "saturday", rule="nearest")
FY2020 = (D(2020, 3, 28), D(2020, 6, 27), D(2020, 9, 26), D(2021, 1, 2))  # 53 weeks
FY2023 = (D(2023, 4, 1), D(2023, 7, 1), D(2023, 9, 30), D(2023, 12, 30))


def retailer(threshold: str, status: str) -> Scenario:
    rows = (Row(FY2020[-1], threshold), Row(FY2023[-1], threshold), Row(D(2024, 3, 30), None, state="redacted"))
    days = (*FY2020, *FY2023[1:], D(2024, 3, 30))  # the quarter ending April 1, 2023 is missing
    return Scenario(
        name=f"retailer threshold {threshold}",
        calendar=RETAIL.to_dict(),
        terms=(Terms("7.1", rows, line_item="revenues", window_periods=4),),
        statements=tuple((ACME, day, {"revenues": "1000000"}) for day in days),
        as_of=D(2024, 6, 30),
        expect=(
            Expect(
                "7.1",
                FY2020[-1],
                status,
                value="4000000",
                threshold=threshold,
                inputs=((("window",), str([d.isoformat() for d in FY2020])),),
            ),
            Expect("7.1", FY2023[-1], INCOMPLETE, words=("for the fiscal quarter ending April 1, 2023",)),
            Expect("7.1", D(2024, 3, 30), INCOMPLETE, words=("the threshold for March 30, 2024 is redacted",)),
        ),
    )


# ---------------------------------------------------------------------------------------------
# A quarterly fixed charge coverage ratio over monthly statements, thresholds and values to six
# places: 1,500,000 / 1,200,000.01 = 1.2499999896 is 1.249999, short of 1.25 (rounded against
# compliance); a threshold of 1.250001 is missed by 1.25, one of 1.249999 met.
# ---------------------------------------------------------------------------------------------


def coverage(threshold: str, march_fixed_charges: str, value: str, status: str) -> Scenario:
    months = _month_ends(2023, tuple(range(1, 10)))
    figures = []
    for day in months:
        if day == D(2023, 5, 31):
            continue  # May is missing
        charges = march_fixed_charges if day == D(2023, 3, 31) else "400000"
        figures.append((ACME, day, {"ebitda": "600000", "capex": "100000", "fixed_charges": charges}))
    rows = (
        Row(D(2023, 3, 31), threshold),
        Row(D(2023, 6, 30), threshold),
        Row(D(2023, 9, 30), None, state="to_be_set"),
    )
    return Scenario(
        name=f"coverage {threshold} march charges {march_fixed_charges}",
        reporting="month",
        metrics=(Metric("fccr", "Fixed Charge Coverage Ratio", "(ebitda - capex) / fixed_charges"),),
        terms=(Terms("7.2", rows, metric="fccr"),),
        statements=tuple(figures),
        as_of=D(2023, 11, 30),
        expect=(
            Expect(
                "7.2",
                D(2023, 3, 31),
                status,
                value=value,
                threshold=threshold,
                words=(
                    "Fixed Charge Coverage Ratio of Acme Retail Inc. for the fiscal quarter ending March 31, 2023",
                    f"{value} to 1.00",  # six places as computed, no more, no fewer
                    f"{threshold} to 1.00",
                ),
                inputs=((("line_item_sums", "ebitda"), "1800000.00"),),
            ),
            Expect("7.2", D(2023, 6, 30), INCOMPLETE, words=("Acme Retail Inc. for the month ending May 31, 2023",)),
            Expect("7.2", D(2023, 9, 30), INCOMPLETE, words=("the threshold for September 30, 2023 is to be set",)),
        ),
    )


# ---------------------------------------------------------------------------------------------
# Add-backs capped at $5,000,000 in any four quarters and at 15% of EBITDA before them: the
# dollar cap binds over 2022, the percentage over 2023.
# ---------------------------------------------------------------------------------------------

QUARTER_ENDS = ((3, 31), (6, 30), (9, 30), (12, 31))


def add_backs(offset: str, status: str) -> Scenario:
    off = Decimal(offset)
    rows = (
        Row(D(2022, 12, 31), str(Decimal("45000000") + off)),
        Row(D(2023, 12, 31), str(Decimal("23000000") + off)),
        Row(D(2024, 3, 31), None, state="to_be_set"),
        Row(D(2024, 6, 30), "23000000"),
    )
    figures = [
        (ACME, D(2022, m, d), {"ebitda_before_addbacks": "10000000", "addbacks": "2000000"}) for m, d in QUARTER_ENDS
    ]
    figures += [
        (ACME, D(2023, m, d), {"ebitda_before_addbacks": "5000000", "addbacks": "1000000"}) for m, d in QUARTER_ENDS
    ]
    figures.append((ACME, D(2024, 3, 31), {"ebitda_before_addbacks": "5000000", "addbacks": "1000000"}))
    return Scenario(
        name=f"add-backs offset {offset}",
        metrics=(
            Metric("capped_addbacks", "Capped Add-backs", "min(addbacks, 5000000, 15% * ebitda_before_addbacks)"),
            Metric("adjusted_ebitda", "Consolidated Adjusted EBITDA", "ebitda_before_addbacks + capped_addbacks"),
        ),
        terms=(Terms("7.3", rows, metric="adjusted_ebitda", window_periods=4),),
        statements=tuple(figures),
        as_of=D(2024, 9, 30),
        expect=(
            Expect(
                "7.3",
                D(2022, 12, 31),
                status,
                value="45000000",
                inputs=((("definitions_explained", "capped_addbacks"), "= 5,000,000"),),
            ),
            Expect(
                "7.3",
                D(2023, 12, 31),
                status,
                value="23000000",
                inputs=((("definitions_explained", "capped_addbacks"), "= 3,000,000"),),
            ),
            Expect("7.3", D(2024, 3, 31), INCOMPLETE, words=("the threshold for March 31, 2024 is to be set",)),
            Expect("7.3", D(2024, 6, 30), INCOMPLETE, words=("for the fiscal quarter ending June 30, 2024",)),
        ),
    )


# ---------------------------------------------------------------------------------------------
# Consolidated: the parent reports for the group; a co-borrower sent nothing.
# ---------------------------------------------------------------------------------------------

PARENT = "Acme Holdings Corp."


def consolidated(threshold: str, status: str) -> Scenario:
    rows = (
        Row(D(2023, 3, 31), threshold),
        Row(D(2023, 6, 30), threshold),
        Row(D(2023, 9, 30), None, state="redacted"),
    )
    return Scenario(
        name=f"consolidated threshold {threshold}",
        borrowers=(ACME, "Acme Stores LLC"),
        others=((PARENT, "guarantor"),),
        terms=(Terms("7.4", rows, line_item="ebitda", basis="consolidated", reporting_party=PARENT),),
        statements=(
            (PARENT, D(2023, 3, 31), {"ebitda": "1000000"}),
            (ACME, D(2023, 3, 31), {"ebitda": "7"}),  # not the group's figure: never summed in
            (ACME, D(2023, 6, 30), {"ebitda": "9000000"}),
            (PARENT, D(2023, 9, 30), {"ebitda": "1000000"}),
        ),
        as_of=D(2023, 11, 30),
        expect=(
            Expect(
                "7.4",
                D(2023, 3, 31),
                status,
                value="1000000",
                threshold=threshold,
                words=("the group, consolidated, as reported by Acme Holdings Corp.",),
            ),
            Expect("7.4", D(2023, 6, 30), INCOMPLETE, words=("figures are missing from Acme Holdings Corp.",)),
            Expect("7.4", D(2023, 9, 30), INCOMPLETE, words=("the threshold for September 30, 2023 is redacted",)),
        ),
    )


# ---------------------------------------------------------------------------------------------
# A threshold at 85% of the Board-approved budget (a line item the borrower reports).
# ---------------------------------------------------------------------------------------------


def budget(ebitda: str, status: str) -> Scenario:
    # A relative threshold's line item is one every statement must carry (the models' rule), so
    # the figures missing here are a whole quarter's statement.
    rows = (Row(D(2023, 3, 31), "85"), Row(D(2023, 6, 30), "85"), Row(D(2023, 9, 30), None, state="to_be_set"))
    return Scenario(
        name=f"budget ebitda {ebitda}",
        required=("budgeted_ebitda", "ebitda"),
        terms=(Terms("7.5", rows, line_item="ebitda", threshold_relative_to="budgeted_ebitda"),),
        statements=(
            (ACME, D(2023, 3, 31), {"ebitda": ebitda, "budgeted_ebitda": "10000000"}),
            (ACME, D(2023, 9, 30), {"ebitda": ebitda, "budgeted_ebitda": "10000000"}),
        ),
        as_of=D(2023, 11, 30),
        expect=(
            Expect(
                "7.5",
                D(2023, 3, 31),
                status,
                value=ebitda,
                threshold="8500000",
                words=("85% of Budgeted EBITDA $10,000,000 = $8,500,000",),
                inputs=((("relative_amount",), "10000000"),),
            ),
            Expect("7.5", D(2023, 6, 30), INCOMPLETE, words=("for the fiscal quarter ending June 30, 2023",)),
            Expect("7.5", D(2023, 9, 30), INCOMPLETE, words=("the threshold for September 30, 2023 is to be set",)),
        ),
    )


# ---------------------------------------------------------------------------------------------
# An amendment's terms: Amendment No. 1, effective June 30, 2023, raises the minimum to
# $2,000,000 from September 30, 2023. Its effective date then changes (see AMENDMENT_MOVES).
# ---------------------------------------------------------------------------------------------

AMENDMENT_NO_1 = Amendment(1, "Amendment No. 1", D(2023, 6, 1), D(2023, 6, 30))
#: A later effective date the terms follow, and one they cannot: their schedule tests
#: 2023-09-30, before it. The refusal names the terms.
AMENDMENT_MOVES = {
    "follows": D(2023, 7, 15),
    "refused": D(2023, 12, 31),
}
#: What moving to the later date changes: June 30, 2023 is tested again under the original terms.
AMENDMENT_MOVED = Expect("6.1", D(2023, 6, 30), COMPLIANT, threshold="1000000")
AMENDMENT_REFUSAL = (
    "the terms of 6.1 made by Amendment No. 1: their schedule tests 2023-09-30, before they would take effect on "
    "2023-12-31"
)


def amended(revenues: str, status: str) -> Scenario:
    original = Terms("6.1", (Row(D(2023, 3, 31), "1000000", applies_thereafter=True),), line_item="revenues")
    raised = Terms(
        "6.1",
        (Row(D(2023, 9, 30), "2000000", applies_thereafter=True),),
        line_item="revenues",
        effective_from=AMENDMENT_NO_1.effective_on,
        by_amendment=True,
    )
    days = (D(2023, 3, 31), D(2023, 6, 30), D(2023, 9, 30))  # December 31, 2023 is missing
    return Scenario(
        name=f"amended revenues {revenues}",
        amendment=AMENDMENT_NO_1,
        terms=(original, raised),
        statements=tuple((ACME, day, {"revenues": revenues}) for day in days),
        as_of=D(2024, 3, 31),
        expect=(
            Expect("6.1", D(2023, 3, 31), COMPLIANT, value=revenues, threshold="1000000"),
            # The amendment's terms govern from June 30 and test from September 30.
            Expect("6.1", D(2023, 6, 30), NOT_TESTED, words=("No threshold is in force for the test date June 30",)),
            Expect("6.1", D(2023, 9, 30), status, value=revenues, threshold="2000000"),
            Expect("6.1", D(2023, 12, 31), INCOMPLETE, words=("for the fiscal quarter ending December 31, 2023",)),
        ),
    )


SCENARIOS: list[Scenario] = [
    liquidity("10000000", COMPLIANT),
    liquidity("9999999.99", BREACH),
    liquidity("10000000.01", COMPLIANT),
    retailer("4000000", COMPLIANT),
    retailer("4000000.01", BREACH),
    retailer("3999999.99", COMPLIANT),
    coverage("1.25", "400000", "1.25", COMPLIANT),
    coverage("1.25", "400000.01", "1.249999", BREACH),
    coverage("1.25", "399999.99", "1.25", COMPLIANT),
    coverage("1.250001", "400000", "1.25", BREACH),
    coverage("1.249999", "400000", "1.25", COMPLIANT),
    add_backs("0", COMPLIANT),
    add_backs("0.01", BREACH),
    add_backs("-0.01", COMPLIANT),
    consolidated("1000000", COMPLIANT),
    consolidated("1000000.01", BREACH),
    consolidated("999999.99", COMPLIANT),
    budget("8500000", COMPLIANT),
    budget("8499999.99", BREACH),
    budget("8500000.01", COMPLIANT),
    amended("2000000", COMPLIANT),
    amended("1999999.99", BREACH),
    amended("2000000.01", COMPLIANT),
]
