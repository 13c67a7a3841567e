"""
Properties the covenant engine must keep for any figures, not just the seed's.

Generated agreements have one to four Borrowers, quarterly figures with cents (some
missing), a window of one to four fiscal quarters and thresholds of either sign.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from compliance import engine
from compliance.engine import (
    BREACH,
    COMPLIANT,
    INCOMPLETE,
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
    is_fiscal_quarter_end,
    previous_quarter_end,
    quarter_ends_in_window,
)
from covenants.periods import FiscalCalendar

PROPERTY = settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

# Twenty calendar quarter ends, 1998-03-31 to 2002-12-31; tests fall in the last twelve.
ALL_QUARTERS = tuple(
    date(year, month, day) for year in range(1998, 2003) for month, day in ((3, 31), (6, 30), (9, 30), (12, 31))
)
TEST_DATES = ALL_QUARTERS[8:]
AS_OF = date(2003, 2, 14)
LINE_ITEM = "ebitda"

amounts = st.decimals(min_value=-(10**9), max_value=10**9, places=2, allow_nan=False, allow_infinity=False)
thresholds = st.decimals(min_value=-(10**9), max_value=10**9, places=0, allow_nan=False, allow_infinity=False)


@st.composite
def agreements(draw: st.DrawFn, *, allow_missing: bool = True) -> dict:
    """A test date, a window, Borrowers, a direction and threshold, and figures for the window."""
    borrower_count = draw(st.integers(min_value=1, max_value=4))
    borrowers = tuple(BorrowerSpan(party_id, f"Borrower {party_id}") for party_id in range(1, borrower_count + 1))
    test_date = draw(st.sampled_from(TEST_DATES))
    window = draw(st.integers(min_value=1, max_value=4))
    quarters = quarter_ends_in_window(test_date, window)
    figures = []
    for quarter in quarters:
        for borrower in borrowers:
            if allow_missing and draw(st.integers(min_value=0, max_value=9)) == 0:
                continue  # about one figure in ten is not yet reported
            figures.append(Figure(borrower.party_id, quarter, LINE_ITEM, draw(amounts), len(figures) + 1))
    return {
        "borrowers": borrowers,
        "test_date": test_date,
        "window": window,
        "direction": draw(st.sampled_from(["at_least", "at_most"])),
        "threshold": draw(thresholds),
        "figures": figures,
    }


def covenant(case: dict, *, covenant_id: int = 1, basis: str = "combined", **terms: object) -> CovenantSpec:
    version = TermsVersion(
        terms_id=covenant_id,
        effective_from=date(1998, 1, 1),
        action="add",
        line_item=LINE_ITEM,
        window_periods=case["window"],
        direction=case["direction"],
        basis=basis,
        schedule=(ScheduleRow(case["test_date"], case["threshold"]),),
    )
    return CovenantSpec(covenant_id, f"6.{covenant_id}", "Generated covenant", (replace(version, **terms),))


def evaluate(case: dict, covenants: tuple[CovenantSpec, ...], figures=None, borrowers=None) -> list[Result]:
    return evaluate_agreement(
        AgreementInputs(
            agreement_id=1,
            as_of=AS_OF,
            covenants=covenants,
            borrowers=tuple(case["borrowers"] if borrowers is None else borrowers),
            figures=tuple(case["figures"] if figures is None else figures),
        )
    )


def on(results: list[Result], covenant_id: int, test_date: date) -> list[Result]:
    return [r for r in results if r.covenant_id == covenant_id and r.test_date == test_date]


# ---------------------------------------------------------------------------
# Combined basis
# ---------------------------------------------------------------------------


@PROPERTY
@given(agreements())
def test_the_combined_value_is_the_sum_of_each_borrowers_value(case: dict) -> None:
    combined_covenant = covenant(case, covenant_id=1)
    each_covenant = covenant(case, covenant_id=2, basis="each_borrower")
    results = evaluate(case, (combined_covenant, each_covenant))
    (combined,) = on(results, 1, case["test_date"])
    each = on(results, 2, case["test_date"])
    assert [r.party_id for r in each] == [b.party_id for b in case["borrowers"]]

    # Missing from the combined test is exactly what is missing from the Borrowers' own tests.
    assert sorted(m["party_id"] for m in combined.inputs["missing"]) == sorted(
        m["party_id"] for r in each for m in r.inputs["missing"]
    )
    if any(r.status == INCOMPLETE for r in each):
        assert combined.status == INCOMPLETE and combined.value is None
    else:
        assert combined.status in (COMPLIANT, BREACH)
        assert combined.value == sum((r.value for r in each), Decimal(0))
        assert combined.value == sum((f.amount for f in case["figures"]), Decimal(0))


@PROPERTY
@given(agreements())
def test_status_headroom_and_warning_agree(case: dict) -> None:
    band = Decimal("10")
    results = evaluate(case, (covenant(case), covenant(case, covenant_id=2, basis="each_borrower")))
    for result in results:
        if result.test_date != case["test_date"]:
            assert result.status == NOT_TESTED and result.value is None
            continue
        if result.inputs["missing"]:
            assert result.status == INCOMPLETE and result.value is None and not result.near_breach
            continue
        assert result.status == (COMPLIANT if result.headroom >= 0 else BREACH)
        expected = (
            result.value - result.threshold if case["direction"] == "at_least" else result.threshold - result.value
        )
        assert result.headroom == expected
        if result.threshold == 0:
            assert result.headroom_percent is None and not result.near_breach
        else:
            exact = result.headroom * 100 / abs(result.threshold)
            assert result.headroom_percent <= exact < result.headroom_percent + Decimal("0.01")
            assert result.near_breach == (result.status == COMPLIANT and exact < band)


# ---------------------------------------------------------------------------
# Monotonicity: more of what the covenant wants never makes a breach
# ---------------------------------------------------------------------------


@PROPERTY
@given(agreements(), st.data())
def test_moving_a_figure_towards_compliance_never_turns_compliant_into_breach(case: dict, data: st.DataObject) -> None:
    assume(case["figures"])
    covenants = (covenant(case), covenant(case, covenant_id=2, basis="each_borrower"))
    before = evaluate(case, covenants)
    index = data.draw(st.integers(min_value=0, max_value=len(case["figures"]) - 1))
    step = data.draw(st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False))
    # Raising helps a minimum; lowering helps a maximum.
    moved = step if case["direction"] == "at_least" else -step
    figures = list(case["figures"])
    figures[index] = replace(figures[index], amount=figures[index].amount + moved)
    after = evaluate(case, covenants, figures=figures)
    assert [(r.covenant_id, r.test_date, r.party_id) for r in after] == [
        (r.covenant_id, r.test_date, r.party_id) for r in before
    ]
    for old, new in zip(before, after, strict=True):
        assert new.status == old.status or (old.status == BREACH and new.status == COMPLIANT)
        if old.headroom is not None:
            assert new.headroom >= old.headroom
        if old.status == COMPLIANT:
            assert new.status == COMPLIANT


@PROPERTY
@given(agreements(allow_missing=False), st.data())
def test_moving_a_figure_away_from_compliance_never_turns_breach_into_compliant(
    case: dict, data: st.DataObject
) -> None:
    covenants = (covenant(case),)
    before = on(evaluate(case, covenants), 1, case["test_date"])[0]
    index = data.draw(st.integers(min_value=0, max_value=len(case["figures"]) - 1))
    step = data.draw(st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False))
    moved = -step if case["direction"] == "at_least" else step
    figures = list(case["figures"])
    figures[index] = replace(figures[index], amount=figures[index].amount + moved)
    after = on(evaluate(case, covenants, figures=figures), 1, case["test_date"])[0]
    assert after.headroom == before.headroom - step
    if before.status == BREACH:
        assert after.status == BREACH


# ---------------------------------------------------------------------------
# Windows read their own quarters only
# ---------------------------------------------------------------------------


@PROPERTY
@given(agreements(), st.data())
def test_figures_outside_the_window_do_not_change_the_result(case: dict, data: st.DataObject) -> None:
    test_date = case["test_date"]
    # A leverage ratio on the same test date with its own, longer, denominator window.
    ratio_window = data.draw(st.integers(min_value=1, max_value=4))
    ratio = covenant(
        case,
        covenant_id=2,
        metric_kind="ratio",
        line_item="total_debt",
        window_periods=1,
        denominator_line_item=LINE_ITEM,
        denominator_window_periods=ratio_window,
        schedule=(ScheduleRow(test_date, Decimal("5.75")),),
    )
    debt = [
        Figure(b.party_id, test_date, "total_debt", data.draw(amounts), 500 + b.party_id) for b in case["borrowers"]
    ]
    covenants = (covenant(case), ratio)
    base = [*case["figures"], *debt]
    before = [r for r in evaluate(case, covenants, figures=base) if r.test_date == test_date]

    read = set(quarter_ends_in_window(test_date, max(case["window"], ratio_window)))
    elsewhere = [q for q in ALL_QUARTERS if q not in read]
    party_ids = [b.party_id for b in case["borrowers"]]
    extra = data.draw(
        st.lists(
            st.one_of(
                # Another quarter, any Borrower, any line item.
                st.builds(
                    Figure,
                    st.sampled_from(party_ids),
                    st.sampled_from(elsewhere),
                    st.sampled_from([LINE_ITEM, "total_debt", "revenues"]),
                    amounts,
                    st.integers(min_value=1000, max_value=2000),
                ),
                # A quarter in the window, but a line item the covenants do not test.
                st.builds(
                    Figure,
                    st.sampled_from(party_ids),
                    st.sampled_from(sorted(read)),
                    st.just("revenues"),
                    amounts,
                    st.integers(min_value=1000, max_value=2000),
                ),
                # A party that is not a Borrower.
                st.builds(
                    Figure,
                    st.just(99),
                    st.sampled_from(ALL_QUARTERS),
                    st.sampled_from([LINE_ITEM, "total_debt"]),
                    amounts,
                    st.integers(min_value=1000, max_value=2000),
                ),
            ),
            max_size=12,
        )
    )
    after = [r for r in evaluate(case, covenants, figures=[*base, *extra]) if r.test_date == test_date]
    assert after == before


# ---------------------------------------------------------------------------
# Determinism
# ---------------------------------------------------------------------------


@PROPERTY
@given(agreements(), st.data())
def test_results_do_not_depend_on_the_order_of_figures_or_borrowers(case: dict, data: st.DataObject) -> None:
    covenants = (
        covenant(case, covenant_id=3),
        covenant(case, covenant_id=1, basis="each_borrower"),
        covenant(
            case,
            covenant_id=2,
            metric_kind="ratio",
            denominator_line_item=LINE_ITEM,
            denominator_window_periods=1,
            schedule=(ScheduleRow(case["test_date"], Decimal("1.5")),),
        ),
    )
    expected = evaluate(case, covenants)
    figures = data.draw(st.permutations(case["figures"]))
    borrowers = data.draw(st.permutations(case["borrowers"]))
    shuffled = evaluate(case, covenants, figures=figures, borrowers=borrowers)
    assert shuffled == expected
    assert [r.covenant_id for r in shuffled] == sorted((r.covenant_id for r in shuffled), key=[3, 1, 2].index)


# ---------------------------------------------------------------------------
# Fiscal quarters and test dates
# ---------------------------------------------------------------------------

days = st.dates(min_value=date(1990, 1, 1), max_value=date(2040, 12, 31))
months = st.integers(min_value=1, max_value=12)


@PROPERTY
@given(days, months, st.integers(min_value=1, max_value=12))
def test_a_trailing_window_is_consecutive_quarter_ends_ending_on_the_test_date(
    day: date, fiscal_year_end_month: int, quarters: int
) -> None:
    test_date = previous_quarter_end(day, fiscal_year_end_month)
    assert is_fiscal_quarter_end(test_date, fiscal_year_end_month)
    assert test_date < day
    window = quarter_ends_in_window(test_date, quarters, fiscal_year_end_month=fiscal_year_end_month)
    assert len(window) == quarters and window[-1] == test_date
    assert all(is_fiscal_quarter_end(q, fiscal_year_end_month) for q in window)
    for earlier, later in zip(window, window[1:], strict=False):
        assert previous_quarter_end(later, fiscal_year_end_month) == earlier


@PROPERTY
@given(days, months)
def test_a_fiscal_year_to_date_window_starts_after_a_fiscal_year_end(day: date, fiscal_year_end_month: int) -> None:
    test_date = previous_quarter_end(day, fiscal_year_end_month)
    window = quarter_ends_in_window(test_date, 1, kind="fiscal_ytd", fiscal_year_end_month=fiscal_year_end_month)
    assert 1 <= len(window) <= 4 and window[-1] == test_date
    assert previous_quarter_end(window[0], fiscal_year_end_month).month == fiscal_year_end_month
    assert all(q.month != fiscal_year_end_month for q in window[:-1])
    assert window == quarter_ends_in_window(test_date, len(window), fiscal_year_end_month=fiscal_year_end_month)


rows = st.lists(
    st.builds(
        ScheduleRow,
        st.sampled_from(ALL_QUARTERS),
        thresholds,
        st.just("set"),
        st.booleans(),
    ),
    max_size=5,
)


@PROPERTY
@given(
    st.lists(st.tuples(st.sampled_from(ALL_QUARTERS), st.sampled_from(["add", "replace", "delete"]), rows), max_size=4),
    st.sets(days, max_size=6),
    st.sampled_from(ALL_QUARTERS),
)
def test_test_dates_are_sorted_quarter_ends_covering_the_schedule_and_the_figures(
    versions: list, figure_dates: set[date], as_of: date
) -> None:
    spec = CovenantSpec(
        1,
        "6.1",
        "Generated covenant",
        tuple(
            TermsVersion(index, effective_from, action, line_item=LINE_ITEM, schedule=tuple(schedule))
            for index, (effective_from, action, schedule) in enumerate(versions)
        ),
    )
    dates = engine.test_dates_for(spec, as_of=as_of, figure_dates=figure_dates)
    assert dates == sorted(set(dates))
    assert all(is_fiscal_quarter_end(d) for d in dates)
    assert {d for d in figure_dates if is_fiscal_quarter_end(d)} <= set(dates)
    assert {r.test_date for v in spec.versions for r in v.schedule if r.test_date <= as_of} <= set(dates)
    # Every quarter end up to as_of with a threshold in force is a test date; and every test
    # date has a threshold in force, a row of its own or figures.
    explicit = {r.test_date for v in spec.versions for r in v.schedule}
    for quarter in ALL_QUARTERS:
        terms = engine.terms_in_force(spec.versions, quarter)
        in_force = terms is not None and engine.schedule_row_for(terms, quarter) is not None
        if quarter <= as_of and in_force:
            assert quarter in dates
        if quarter in dates:
            assert in_force or quarter in explicit or quarter in figure_dates


# ---------------------------------------------------------------------------
# Monthly statements, and moving figures between co-borrowers
# ---------------------------------------------------------------------------

CAPPED = MetricSpec(name="adjusted", label="Adjusted EBITDA", formula="ebitda + min(addbacks, 1000000)")


def _months_of(quarter: date) -> tuple[date, ...]:
    return FiscalCalendar.calendar_months(12).sub_periods(quarter, "quarter", "month")


@PROPERTY
@given(agreements(allow_missing=False), st.booleans(), st.data())
def test_a_quarterly_test_over_monthly_figures_equals_the_test_over_the_quarters_sums(
    case: dict, capped: bool, data: st.DataObject
) -> None:
    monthly: list[Figure] = []
    summed: dict[tuple[int, date, str], Decimal] = {}
    for quarter in quarter_ends_in_window(case["test_date"], case["window"]):
        for borrower in case["borrowers"]:
            for item in ("ebitda", "addbacks") if capped else ("ebitda",):
                for month in _months_of(quarter):
                    if data.draw(st.integers(min_value=0, max_value=29)) == 0:
                        summed[(borrower.party_id, quarter, "missing")] = Decimal(0)
                        continue
                    amount = data.draw(amounts)
                    monthly.append(Figure(borrower.party_id, month, item, amount, len(monthly) + 1))
                    key = (borrower.party_id, quarter, item)
                    summed[key] = summed.get(key, Decimal(0)) + amount
    incomplete = {(party, quarter) for party, quarter, item in summed if item == "missing"}
    quarterly = [
        Figure(party, quarter, item, amount, index + 1)
        for index, ((party, quarter, item), amount) in enumerate(summed.items())
        if item != "missing" and (party, quarter) not in incomplete
    ]
    spec = covenant(case, metric=CAPPED) if capped else covenant(case)
    by_months = evaluate_agreement(
        AgreementInputs(1, AS_OF, (spec,), case["borrowers"], tuple(monthly), reporting_frequency="month")
    )
    by_quarters = evaluate(case, (spec,), figures=quarterly)
    (month_result,) = on(by_months, 1, case["test_date"])
    (quarter_result,) = on(by_quarters, 1, case["test_date"])
    assert (month_result.status, month_result.value, month_result.headroom, month_result.near_breach) == (
        quarter_result.status,
        quarter_result.value,
        quarter_result.headroom,
        quarter_result.near_breach,
    )


@PROPERTY
@given(agreements(allow_missing=False), st.sampled_from(["combined", "consolidated"]), st.data())
def test_moving_a_figure_between_co_borrowers_never_changes_a_combined_or_consolidated_result(
    case: dict, basis: str, data: st.DataObject
) -> None:
    assume(len(case["borrowers"]) >= 2)
    parent = 99
    group = [
        Figure(parent, f.period_end, f.line_item, f.amount, 1000 + index)
        for index, f in enumerate(case["figures"])
        if f.party_id == 1
    ]
    spec = covenant(case, basis=basis, reporting_party_id=parent, reporting_party_name="Parent Holdings Inc.")
    before = on(evaluate(case, (spec,), figures=[*case["figures"], *group]), 1, case["test_date"])
    # Move part of one co-borrower's figure to another's, for the same quarter and line item.
    source = data.draw(st.sampled_from(case["figures"]))
    target_party = data.draw(st.sampled_from([b.party_id for b in case["borrowers"] if b.party_id != source.party_id]))
    moved = data.draw(amounts)
    figures = []
    for figure in case["figures"]:
        if figure == source:
            figure = replace(figure, amount=figure.amount - moved)
        elif (figure.party_id, figure.period_end, figure.line_item) == (
            target_party,
            source.period_end,
            source.line_item,
        ):
            figure = replace(figure, amount=figure.amount + moved)
        figures.append(figure)
    after = on(evaluate(case, (spec,), figures=[*figures, *group]), 1, case["test_date"])
    assert [(r.status, r.value, r.headroom, r.threshold) for r in after] == [
        (r.status, r.value, r.headroom, r.threshold) for r in before
    ]
