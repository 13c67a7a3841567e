"""
The covenant engine on the seed agreement's three covenants, and on the forms real agreements also write.

The seed is Amendment No. 4 to the KMC Loan and Security Agreement: Section 7.01(b) minimum
revenues, 7.01(c)(i) maximum two-quarter EBITDA losses and 7.01(c)(ii) minimum two-quarter
EBITDA, tested for the five Borrowers on a combined basis.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from compliance import engine
from compliance.choices import ResultStatus
from compliance.engine import (
    BREACH,
    COMPLIANT,
    INCOMPLETE,
    NOT_TESTED,
    WAIVED,
    AgreementInputs,
    BorrowerSpan,
    CovenantSpec,
    Figure,
    Result,
    ScheduleRow,
    TermsVersion,
    WaiverKey,
    evaluate_agreement,
    is_fiscal_quarter_end,
    previous_quarter_end,
    quarter_ends_in_window,
    schedule_row_for,
    terms_in_force,
)

D = Decimal

# ---------------------------------------------------------------------------
# The seed agreement as plain data
# ---------------------------------------------------------------------------

KMC, KMC_II, KMC_VIRGINIA, LEASING_I, LEASING_II = 1, 2, 3, 4, 5
BORROWERS = (
    BorrowerSpan(KMC, "KMC Telecom Inc."),
    BorrowerSpan(KMC_II, "KMC Telecom II, Inc."),
    BorrowerSpan(KMC_VIRGINIA, "KMC Telecom of Virginia, Inc."),
    BorrowerSpan(LEASING_I, "KMC Telecom Leasing I LLC"),
    BorrowerSpan(LEASING_II, "KMC Telecom Leasing II LLC"),
)
AMENDMENT_4 = "Amendment No. 4"
EFFECTIVE = date(1999, 12, 31)

MINIMUM_REVENUES = {
    date(1999, 12, 31): D("18000000"),
    date(2000, 3, 31): D("23821000"),
    date(2000, 6, 30): D("31338000"),
    date(2000, 9, 30): D("37803000"),
    date(2000, 12, 31): D("44482000"),
    date(2001, 3, 31): D("54678000"),
}
# "EBITDA losses ... not to exceed ($50,400,000)": EBITDA at least -50,400,000.
EBITDA_LOSS_CAPS = {
    date(1999, 12, 31): D("-50400000"),
    date(2000, 3, 31): D("-38700000"),
    date(2000, 6, 30): D("-25001000"),
    date(2000, 9, 30): D("-13823000"),
    date(2000, 12, 31): D("-4157000"),
}
MINIMUM_EBITDA = {date(2001, 3, 31): D("1688000")}

REVENUES_ID, LOSSES_ID, EBITDA_ID = 10, 20, 30
QUARTERS = (
    date(1999, 9, 30),
    date(1999, 12, 31),
    date(2000, 3, 31),
    date(2000, 6, 30),
    date(2000, 9, 30),
    date(2000, 12, 31),
    date(2001, 3, 31),
    date(2001, 6, 30),
)
AS_OF = date(2001, 8, 15)


def printed(amount: Decimal) -> str:
    text = f"${abs(amount):,.0f}"
    return f"({text})" if amount < 0 else text


def schedule(thresholds: dict[date, Decimal]) -> tuple[ScheduleRow, ...]:
    return tuple(ScheduleRow(day, amount, amount_as_printed=printed(amount)) for day, amount in thresholds.items())


def seed_covenants(*, provisional: bool = False) -> tuple[CovenantSpec, ...]:
    def version(terms_id: int, line_item: str, window: int, thresholds: dict[date, Decimal]) -> TermsVersion:
        return TermsVersion(
            terms_id=terms_id,
            effective_from=EFFECTIVE,
            action="add" if terms_id != EBITDA_ID else "replace",
            line_item=line_item,
            window_periods=window,
            schedule=schedule(thresholds),
            provisional=provisional,
            source=AMENDMENT_4,
        )

    return (
        CovenantSpec(REVENUES_ID, "7.01(b)", "Minimum revenues", (version(101, "revenues", 1, MINIMUM_REVENUES),)),
        CovenantSpec(LOSSES_ID, "7.01(c)(i)", "Maximum EBITDA losses", (version(201, "ebitda", 2, EBITDA_LOSS_CAPS),)),
        CovenantSpec(EBITDA_ID, "7.01(c)(ii)", "Minimum EBITDA", (version(EBITDA_ID, "ebitda", 2, MINIMUM_EBITDA),)),
    )


def split(total: Decimal, parts: int = 5) -> list[Decimal]:
    """Split a combined amount among the Borrowers unevenly, the shares adding up exactly."""
    weights = [3, 1, 2, 1, 3][:parts]
    shares = [(total * weight / sum(weights)).quantize(D("1")) for weight in weights[:-1]]
    return [*shares, total - sum(shares)]


def combined_ebitda_at_the_caps() -> dict[date, Decimal]:
    """Quarterly combined EBITDA such that every two-quarter sum equals its threshold exactly."""
    two_quarter = {**EBITDA_LOSS_CAPS, **MINIMUM_EBITDA}
    quarterly = {date(1999, 9, 30): D("-25000000")}
    for day in sorted(two_quarter):
        quarterly[day] = two_quarter[day] - quarterly[previous_quarter_end(day)]
    quarterly[date(2001, 6, 30)] = D("2500000")
    return quarterly


def figures_for(combined: dict[str, dict[date, Decimal]]) -> tuple[Figure, ...]:
    figures = []
    statement_id = 1000
    for line_item, by_quarter in combined.items():
        for quarter, total in by_quarter.items():
            for borrower, share in zip(BORROWERS, split(total), strict=True):
                statement_id += 1
                figures.append(Figure(borrower.party_id, quarter, line_item, share, statement_id))
    return tuple(figures)


def figures_at_the_thresholds() -> tuple[Figure, ...]:
    revenues = {**MINIMUM_REVENUES, date(1999, 9, 30): D("15000000"), date(2001, 6, 30): D("60000000")}
    return figures_for({"revenues": revenues, "ebitda": combined_ebitda_at_the_caps()})


def seed_inputs(**changes: object) -> AgreementInputs:
    inputs = AgreementInputs(
        agreement_id=1,
        as_of=AS_OF,
        covenants=seed_covenants(),
        borrowers=BORROWERS,
        figures=figures_at_the_thresholds(),
    )
    return replace(inputs, **changes)


def adjust(figures: tuple[Figure, ...], party_id: int, quarter: date, line_item: str, delta: Decimal) -> tuple:
    found = [f for f in figures if (f.party_id, f.period_end, f.line_item) == (party_id, quarter, line_item)]
    assert len(found) == 1
    return tuple(
        replace(f, amount=f.amount + delta)
        if (f.party_id, f.period_end, f.line_item) == (party_id, quarter, line_item)
        else f
        for f in figures
    )


def without(figures: tuple[Figure, ...], party_id: int, quarter: date, line_item: str) -> tuple[Figure, ...]:
    kept = tuple(f for f in figures if (f.party_id, f.period_end, f.line_item) != (party_id, quarter, line_item))
    assert len(kept) == len(figures) - 1
    return kept


def result_for(results: list[Result], covenant_id: int, test_date: date, party_id: int | None = None) -> Result:
    found = [r for r in results if (r.covenant_id, r.test_date, r.party_id) == (covenant_id, test_date, party_id)]
    assert len(found) == 1, f"expected one result for {covenant_id} on {test_date}, got {len(found)}"
    return found[0]


# ---------------------------------------------------------------------------
# Fiscal quarters and windows
# ---------------------------------------------------------------------------


def test_status_strings_are_the_stored_choices() -> None:
    assert {COMPLIANT, BREACH, INCOMPLETE, NOT_TESTED, WAIVED} == set(ResultStatus.values)


@pytest.mark.parametrize(
    ("day", "fiscal_year_end_month", "expected"),
    [
        (date(2000, 3, 31), 12, True),
        (date(2000, 6, 30), 12, True),
        (date(1999, 12, 31), 12, True),
        (date(2000, 3, 30), 12, False),
        (date(2000, 4, 30), 12, False),
        (date(2000, 6, 30), 6, True),
        (date(2000, 9, 30), 6, True),
        (date(2000, 2, 29), 2, True),
        (date(2000, 2, 28), 2, False),
        (date(2001, 2, 28), 2, True),
        (date(2000, 5, 31), 6, False),
    ],
)
def test_fiscal_quarter_ends(day: date, fiscal_year_end_month: int, expected: bool) -> None:
    assert is_fiscal_quarter_end(day, fiscal_year_end_month) is expected


def test_previous_quarter_end_is_strictly_before_the_quarter_containing_the_day() -> None:
    assert previous_quarter_end(date(2000, 3, 31)) == date(1999, 12, 31)
    assert previous_quarter_end(date(2000, 2, 15)) == date(1999, 12, 31)
    assert previous_quarter_end(date(2000, 1, 1)) == date(1999, 12, 31)
    assert previous_quarter_end(date(2000, 5, 31), 2) == date(2000, 2, 29)
    assert previous_quarter_end(date(2000, 9, 30), 6) == date(2000, 6, 30)


def test_a_trailing_window_ends_on_the_test_date() -> None:
    assert quarter_ends_in_window(date(2000, 3, 31), 1) == (date(2000, 3, 31),)
    assert quarter_ends_in_window(date(2000, 3, 31), 2) == (date(1999, 12, 31), date(2000, 3, 31))
    assert quarter_ends_in_window(date(2000, 3, 31), 4) == (
        date(1999, 6, 30),
        date(1999, 9, 30),
        date(1999, 12, 31),
        date(2000, 3, 31),
    )


@pytest.mark.parametrize(
    ("test_date", "fiscal_year_end_month", "expected"),
    [
        (date(2000, 3, 31), 12, (date(2000, 3, 31),)),
        (date(2000, 9, 30), 12, (date(2000, 3, 31), date(2000, 6, 30), date(2000, 9, 30))),
        (date(2000, 3, 31), 6, (date(1999, 9, 30), date(1999, 12, 31), date(2000, 3, 31))),
        (date(2000, 6, 30), 6, (date(1999, 9, 30), date(1999, 12, 31), date(2000, 3, 31), date(2000, 6, 30))),
        (date(2000, 9, 30), 6, (date(2000, 9, 30),)),
    ],
)
def test_a_fiscal_year_to_date_window_starts_with_the_fiscal_year(
    test_date: date, fiscal_year_end_month: int, expected: tuple[date, ...]
) -> None:
    window = quarter_ends_in_window(test_date, 1, kind="fiscal_ytd", fiscal_year_end_month=fiscal_year_end_month)
    assert window == expected


def test_a_window_must_end_on_a_fiscal_quarter_end() -> None:
    with pytest.raises(ValueError, match="not the last day of a fiscal quarter"):
        quarter_ends_in_window(date(2000, 4, 30), 2)
    with pytest.raises(ValueError, match="not the last day of a fiscal quarter"):
        quarter_ends_in_window(date(2000, 3, 31), 2, fiscal_year_end_month=5)


# ---------------------------------------------------------------------------
# Terms in force and schedules
# ---------------------------------------------------------------------------


def test_terms_in_force_before_inside_and_after_the_seed_schedule() -> None:
    revenues, losses, ebitda = seed_covenants()
    assert terms_in_force(revenues.versions, date(1999, 9, 30)) is None
    assert terms_in_force(revenues.versions, date(1999, 12, 31)).terms_id == 101
    assert terms_in_force(losses.versions, date(2000, 6, 30)).terms_id == 201
    # The terms stay in force after the last row; only the schedule runs out.
    after = terms_in_force(losses.versions, date(2001, 3, 31))
    assert after.terms_id == 201
    assert schedule_row_for(after, date(2001, 3, 31)) is None
    assert schedule_row_for(terms_in_force(ebitda.versions, date(2000, 12, 31)), date(2000, 12, 31)) is None
    assert schedule_row_for(terms_in_force(ebitda.versions, date(2001, 3, 31)), date(2001, 3, 31)).threshold == D(
        "1688000"
    )


def test_a_later_version_replaces_and_a_delete_ends_the_covenant() -> None:
    original = TermsVersion(1, date(1999, 1, 1), "add", line_item="revenues")
    amended = TermsVersion(2, date(2000, 1, 1), "replace", line_item="revenues")
    deleted = TermsVersion(3, date(2001, 1, 1), "delete")
    versions = [deleted, original, amended]  # the order given does not matter, only the dates
    assert terms_in_force(versions, date(1998, 12, 31)) is None
    assert terms_in_force(versions, date(1999, 12, 31)) is original
    assert terms_in_force(versions, date(2000, 1, 1)) is amended
    assert terms_in_force(versions, date(2000, 12, 31)) is amended
    assert terms_in_force(versions, date(2001, 1, 1)) is None
    readded = TermsVersion(4, date(2002, 1, 1), "add", line_item="revenues")
    assert terms_in_force([*versions, readded], date(2002, 3, 31)) is readded


def test_versions_effective_on_the_same_day_the_last_given_wins() -> None:
    first = TermsVersion(1, date(2000, 1, 1), "add", line_item="revenues")
    second = TermsVersion(2, date(2000, 1, 1), "replace", line_item="ebitda")
    assert terms_in_force([first, second], date(2000, 3, 31)) is second
    assert terms_in_force([second, first], date(2000, 3, 31)) is first


def test_schedule_rows_explicit_thereafter_and_ended_by_a_later_row() -> None:
    terms = TermsVersion(
        1,
        date(2000, 1, 1),
        "add",
        line_item="revenues",
        schedule=(
            ScheduleRow(date(2000, 3, 31), D("100")),
            ScheduleRow(date(2000, 12, 31), D("200"), applies_thereafter=True),
            ScheduleRow(date(2001, 12, 31), D("300")),
            ScheduleRow(date(2002, 6, 30), D("400"), applies_thereafter=True),
        ),
    )
    assert schedule_row_for(terms, date(1999, 12, 31)) is None
    assert schedule_row_for(terms, date(2000, 3, 31)).threshold == D("100")
    assert schedule_row_for(terms, date(2000, 6, 30)) is None  # the first row does not apply thereafter
    assert schedule_row_for(terms, date(2000, 12, 31)).threshold == D("200")
    assert schedule_row_for(terms, date(2001, 9, 30)).threshold == D("200")
    assert schedule_row_for(terms, date(2001, 12, 31)).threshold == D("300")
    assert schedule_row_for(terms, date(2002, 3, 31)) is None  # the explicit row ended the "thereafter"
    assert schedule_row_for(terms, date(2002, 6, 30)).threshold == D("400")
    assert schedule_row_for(terms, date(2010, 12, 31)).threshold == D("400")


def test_test_dates_are_the_schedule_and_every_quarter_with_figures() -> None:
    revenues, losses, ebitda = seed_covenants()
    figure_dates = [date(1999, 9, 30), date(2001, 6, 30), date(2001, 5, 15)]
    dates = engine.test_dates_for(revenues, as_of=AS_OF, figure_dates=figure_dates)
    assert dates == [date(1999, 9, 30), *MINIMUM_REVENUES, date(2001, 6, 30)]
    # Schedule dates after the evaluation date are not yet tested.
    assert engine.test_dates_for(losses, as_of=date(2000, 7, 15), figure_dates=[]) == [
        date(1999, 12, 31),
        date(2000, 3, 31),
        date(2000, 6, 30),
    ]
    assert engine.test_dates_for(ebitda, as_of=AS_OF, figure_dates=[]) == [date(2001, 3, 31)]


def test_thereafter_rows_give_every_quarter_until_the_next_row_or_version() -> None:
    first = TermsVersion(
        1,
        date(1999, 1, 1),
        "add",
        line_item="revenues",
        schedule=(
            ScheduleRow(date(1999, 3, 31), D("100"), applies_thereafter=True),
            ScheduleRow(date(1999, 12, 31), D("150")),
        ),
    )
    second = TermsVersion(
        2,
        date(2000, 5, 15),
        "replace",
        line_item="revenues",
        schedule=(ScheduleRow(date(2000, 9, 30), D("200"), applies_thereafter=True),),
    )
    deleted = TermsVersion(3, date(2001, 4, 1), "delete")
    covenant = CovenantSpec(1, "7.01(d)", "Minimum revenues", (first, second, deleted))
    dates = engine.test_dates_for(covenant, as_of=date(2002, 1, 1), figure_dates=[])
    assert dates == [
        date(1999, 3, 31),
        date(1999, 6, 30),
        date(1999, 9, 30),
        date(1999, 12, 31),  # the explicit row ends the first "thereafter"
        date(2000, 9, 30),
        date(2000, 12, 31),
        date(2001, 3, 31),  # the deletion on April 1, 2001 ends the second
    ]
    # A deletion effective on a quarter end takes that quarter end too.
    on_quarter_end = replace(covenant, versions=(first, second, replace(deleted, effective_from=date(2001, 3, 31))))
    assert engine.test_dates_for(on_quarter_end, as_of=date(2002, 1, 1), figure_dates=[])[-1] == date(2000, 12, 31)


def test_a_level_that_changes_on_an_amendments_effective_date() -> None:
    original = TermsVersion(
        1,
        date(1999, 1, 1),
        "add",
        line_item="revenues",
        schedule=(ScheduleRow(date(1999, 3, 31), D("100"), applies_thereafter=True),),
    )
    # "From and after the Amendment Effective Date, revenues of at least $150": a row on a day
    # that is no quarter end, holding for each quarter end from then on.
    amended = TermsVersion(
        2,
        date(2000, 5, 15),
        "replace",
        line_item="revenues",
        schedule=(ScheduleRow(date(2000, 5, 15), D("150"), applies_thereafter=True),),
    )
    # A row dated before its version takes effect does not reach back over the terms then in force.
    backdated = TermsVersion(
        3,
        date(2001, 2, 1),
        "replace",
        line_item="revenues",
        schedule=(ScheduleRow(date(2000, 3, 31), D("175"), applies_thereafter=True),),
    )
    spec = CovenantSpec(1, "6.1", "Minimum revenues", (original, amended, backdated))
    dates = engine.test_dates_for(spec, as_of=date(2001, 7, 1), figure_dates=[])
    assert dates == [
        date(1999, 3, 31),
        date(1999, 6, 30),
        date(1999, 9, 30),
        date(1999, 12, 31),
        date(2000, 3, 31),
        date(2000, 6, 30),
        date(2000, 9, 30),
        date(2000, 12, 31),
        date(2001, 3, 31),
        date(2001, 6, 30),
    ]
    figures = [Figure(A, day, "revenues", D("160"), n) for n, day in enumerate(dates)]
    results = run(spec, figures, borrowers=THREE[:1], as_of=date(2001, 7, 1))
    thresholds = [(r.test_date, r.terms_id, r.threshold) for r in results]
    assert thresholds[4:] == [
        (date(2000, 3, 31), 1, D("100")),
        (date(2000, 6, 30), 2, D("150")),
        (date(2000, 9, 30), 2, D("150")),
        (date(2000, 12, 31), 2, D("150")),
        (date(2001, 3, 31), 3, D("175")),
        (date(2001, 6, 30), 3, D("175")),
    ]


def test_test_dates_follow_the_fiscal_year() -> None:
    flat = TermsVersion(
        1,
        date(2000, 1, 1),
        "add",
        line_item="revenues",
        schedule=(ScheduleRow(date(2000, 2, 15), D("1"), applies_thereafter=True),),
    )
    covenant = CovenantSpec(1, "6.1", "Minimum revenues", (flat,))
    dates = engine.test_dates_for(
        covenant, as_of=date(2000, 12, 31), figure_dates=[date(2000, 6, 30), date(2000, 5, 31)], fiscal_year_end_month=5
    )
    assert dates == [date(2000, 2, 29), date(2000, 5, 31), date(2000, 8, 31), date(2000, 11, 30)]


# ---------------------------------------------------------------------------
# The seed covenants
# ---------------------------------------------------------------------------

ALL_SEED_TESTS = [
    *((REVENUES_ID, day, amount) for day, amount in MINIMUM_REVENUES.items()),
    *((LOSSES_ID, day, amount) for day, amount in EBITDA_LOSS_CAPS.items()),
    *((EBITDA_ID, day, amount) for day, amount in MINIMUM_EBITDA.items()),
]


@pytest.mark.parametrize(("covenant_id", "test_date", "threshold"), ALL_SEED_TESTS)
def test_equality_passes_at_every_threshold(covenant_id: int, test_date: date, threshold: Decimal) -> None:
    result = result_for(evaluate_agreement(seed_inputs()), covenant_id, test_date)
    assert result.status == COMPLIANT
    assert result.value == threshold
    assert result.threshold == threshold
    assert result.headroom == 0
    assert result.headroom_percent == D("0.00")
    assert result.near_breach is True  # no headroom at all is within any warning band
    assert result.party_id is None
    assert result.provisional is False
    assert printed(threshold) in result.explanation


@pytest.mark.parametrize(("test_date", "minimum"), MINIMUM_REVENUES.items())
def test_one_dollar_under_a_minimum_revenues_breaches(test_date: date, minimum: Decimal) -> None:
    figures = adjust(figures_at_the_thresholds(), KMC_VIRGINIA, test_date, "revenues", D("-1"))
    results = evaluate_agreement(seed_inputs(figures=figures))
    result = result_for(results, REVENUES_ID, test_date)
    assert result.status == BREACH
    assert result.value == minimum - 1
    assert result.headroom == D("-1")
    assert result.near_breach is False
    assert "Breach" in result.explanation and "short by $1" in result.explanation
    # Only that quarter's revenues test is touched.
    others = [r for r in results if r.covenant_id == REVENUES_ID and r.test_date in MINIMUM_REVENUES]
    assert [r.test_date for r in others if r.status == BREACH] == [test_date]


@pytest.mark.parametrize(("test_date", "cap"), EBITDA_LOSS_CAPS.items())
def test_one_dollar_more_ebitda_loss_than_the_cap_breaches(test_date: date, cap: Decimal) -> None:
    figures = adjust(figures_at_the_thresholds(), LEASING_I, test_date, "ebitda", D("-1"))
    result = result_for(evaluate_agreement(seed_inputs(figures=figures)), LOSSES_ID, test_date)
    assert result.status == BREACH
    assert result.value == cap - 1
    assert result.headroom == D("-1")
    assert printed(cap) in result.explanation


def test_a_positive_ebitda_always_passes_the_loss_caps() -> None:
    figures = figures_for({"ebitda": {q: D("1") for q in QUARTERS}, "revenues": dict.fromkeys(QUARTERS, D("1E+9"))})
    results = evaluate_agreement(seed_inputs(figures=figures))
    assert {r.status for r in results if r.covenant_id == LOSSES_ID and r.test_date in EBITDA_LOSS_CAPS} == {COMPLIANT}


def test_the_two_quarter_window_reads_the_quarter_before_the_test_date() -> None:
    # A dollar less EBITDA in the quarter before the test date still counts against it.
    figures = adjust(figures_at_the_thresholds(), KMC, date(2000, 12, 31), "ebitda", D("-1"))
    results = evaluate_agreement(seed_inputs(figures=figures))
    assert result_for(results, LOSSES_ID, date(2000, 12, 31)).status == BREACH
    assert result_for(results, EBITDA_ID, date(2001, 3, 31)).status == BREACH
    assert result_for(results, LOSSES_ID, date(2000, 9, 30)).status == COMPLIANT
    used = result_for(results, EBITDA_ID, date(2001, 3, 31)).inputs
    assert used["window"] == ["2000-12-31", "2001-03-31"]
    assert {f["period_end"] for f in used["figures"]} == {"2000-12-31", "2001-03-31"}
    assert len(used["figures"]) == 10  # five Borrowers, two quarters


def test_a_missing_leasing_ii_figure_makes_the_combined_test_incomplete() -> None:
    figures = without(figures_at_the_thresholds(), LEASING_II, date(2000, 3, 31), "ebitda")
    results = evaluate_agreement(seed_inputs(figures=figures))
    for test_date in (date(2000, 3, 31), date(2000, 6, 30)):  # both two-quarter windows need the quarter
        result = result_for(results, LOSSES_ID, test_date)
        assert result.status == INCOMPLETE
        assert result.value is None and result.headroom is None and result.near_breach is False
        assert result.threshold == EBITDA_LOSS_CAPS[test_date]
        assert "KMC Telecom Leasing II LLC" in result.explanation
        assert "March 31, 2000" in result.explanation
        assert "KMC Telecom Leasing I LLC " not in result.explanation
        assert result.inputs["missing"] == [
            {
                "party_id": LEASING_II,
                "name": "KMC Telecom Leasing II LLC",
                "period_end": "2000-03-31",
                "line_item": "ebitda",
            }
        ]
    assert result_for(results, LOSSES_ID, date(2000, 9, 30)).status == COMPLIANT
    assert result_for(results, REVENUES_ID, date(2000, 3, 31)).status == COMPLIANT


def test_an_incomplete_test_is_never_compliant_even_when_the_others_clear_it() -> None:
    # The four Borrowers present already exceed the minimum; Leasing II is still required.
    figures = without(figures_at_the_thresholds(), LEASING_II, date(2000, 6, 30), "revenues")
    figures = adjust(figures, KMC, date(2000, 6, 30), "revenues", D("1E+9"))
    result = result_for(evaluate_agreement(seed_inputs(figures=figures)), REVENUES_ID, date(2000, 6, 30))
    assert result.status == INCOMPLETE
    assert result.value is None


def test_quarters_outside_the_schedules_are_not_tested() -> None:
    results = evaluate_agreement(seed_inputs())
    for covenant_id in (REVENUES_ID, LOSSES_ID, EBITDA_ID):
        for test_date in (date(1999, 9, 30), date(2001, 6, 30)):
            result = result_for(results, covenant_id, test_date)
            assert result.status == NOT_TESTED
            assert result.threshold is None and result.value is None
            assert "no threshold is in force" in result.explanation.lower()
    # Terms in force but no row: Section 7.01(c)(i) ended with December 31, 2000.
    assert result_for(results, LOSSES_ID, date(2001, 3, 31)).status == NOT_TESTED
    assert result_for(results, LOSSES_ID, date(2001, 3, 31)).terms_id == 201
    assert result_for(results, REVENUES_ID, date(1999, 9, 30)).terms_id is None


def test_results_are_ordered_by_covenant_then_test_date() -> None:
    inputs = seed_inputs()
    inputs = replace(inputs, covenants=(inputs.covenants[2], inputs.covenants[0], inputs.covenants[1]))
    results = evaluate_agreement(inputs)
    keys = [(r.covenant_id, r.test_date) for r in results]
    order = {EBITDA_ID: 0, REVENUES_ID: 1, LOSSES_ID: 2}
    assert keys == sorted(keys, key=lambda k: (order[k[0]], k[1]))
    assert len(keys) == len(set(keys))
    assert len([r for r in results if r.covenant_id == REVENUES_ID]) == 8  # six rows and two quarters of figures


def test_results_under_a_pending_amendment_are_provisional() -> None:
    results = evaluate_agreement(seed_inputs(covenants=seed_covenants(provisional=True)))
    tested = [r for r in results if r.status != NOT_TESTED]
    assert tested and all(r.provisional for r in tested)
    assert all("pending its conditions precedent" in r.explanation for r in tested)
    assert not any(r.provisional for r in results if r.status == NOT_TESTED)
    assert not any(r.provisional for r in evaluate_agreement(seed_inputs()))


def test_explanations_speak_the_agreements_words() -> None:
    results = evaluate_agreement(seed_inputs())
    revenues = result_for(results, REVENUES_ID, date(1999, 12, 31))
    assert revenues.explanation == (
        "Revenues of all the Borrowers on a combined basis for the fiscal quarter ending December 31, 1999 "
        "amounted to $18,000,000 against a minimum of $18,000,000 (Section 7.01(b), as amended by Amendment No. 4). "
        "Compliant, but within the 10% warning band: headroom of $0 (0.00%)."
    )
    losses = result_for(results, LOSSES_ID, date(2000, 3, 31))
    assert "two fiscal quarters ending March 31, 2000" in losses.explanation
    assert "($38,700,000)" in losses.explanation


def test_inputs_record_everything_read_and_serialise_to_json() -> None:
    results = evaluate_agreement(seed_inputs())
    for result in results:
        json.dumps(result.inputs)
        for key in ("window", "borrowers", "figures", "missing", "denominator_window", "source", "section"):
            assert key in result.inputs
    result = result_for(results, REVENUES_ID, date(2000, 3, 31))
    assert result.inputs["source"] == AMENDMENT_4 and result.inputs["section"] == "7.01(b)"
    assert result.inputs["borrowers"] == [{"party_id": b.party_id, "name": b.name} for b in BORROWERS]
    used = result.inputs["figures"]
    assert sum(D(f["amount"]) for f in used) == MINIMUM_REVENUES[date(2000, 3, 31)]
    assert all(isinstance(f["amount"], str) for f in used)
    by_party = {f["party_id"]: f for f in used}
    original = {
        f.party_id: f
        for f in figures_at_the_thresholds()
        if f.period_end == date(2000, 3, 31) and f.line_item == "revenues"
    }
    for party_id, figure in original.items():
        assert by_party[party_id]["statement_id"] == figure.statement_id
        assert by_party[party_id]["statement_version"] == 1
        assert by_party[party_id]["period_end"] == "2000-03-31"


def test_money_stays_decimal() -> None:
    figures = adjust(figures_at_the_thresholds(), KMC, date(2000, 3, 31), "revenues", D("0.37"))
    result = result_for(evaluate_agreement(seed_inputs(figures=figures)), REVENUES_ID, date(2000, 3, 31))
    assert isinstance(result.value, Decimal) and isinstance(result.headroom, Decimal)
    assert result.value == D("23821000.37")
    assert result.headroom == D("0.37")


def test_headroom_percent_is_of_the_threshold_to_two_places() -> None:
    figures = adjust(figures_at_the_thresholds(), KMC, date(1999, 12, 31), "revenues", D("1800000"))
    result = result_for(evaluate_agreement(seed_inputs(figures=figures)), REVENUES_ID, date(1999, 12, 31))
    assert result.headroom == D("1800000")
    assert result.headroom_percent == D("10.00")
    assert result.near_breach is False  # at the band itself, not within it
    # A dollar less is 9.99999...%: within the band, and shown under it (rounded down, not up to 10.00).
    figures = adjust(figures_at_the_thresholds(), KMC, date(1999, 12, 31), "revenues", D("1799999"))
    result = result_for(evaluate_agreement(seed_inputs(figures=figures)), REVENUES_ID, date(1999, 12, 31))
    assert result.headroom_percent == D("9.99")
    assert result.near_breach is True
    # Negative thresholds: the percent is of the cap's size.
    figures = adjust(figures_at_the_thresholds(), KMC, date(1999, 12, 31), "ebitda", D("5040000"))
    result = result_for(evaluate_agreement(seed_inputs(figures=figures)), LOSSES_ID, date(1999, 12, 31))
    assert result.headroom == D("5040000")
    assert result.headroom_percent == D("10.00")


# ---------------------------------------------------------------------------
# Versions: replace and delete
# ---------------------------------------------------------------------------


def test_a_later_delete_version_stops_the_tests() -> None:
    revenues, losses, ebitda = seed_covenants()
    deletion = TermsVersion(102, date(2000, 7, 1), "delete", source="Amendment No. 5")
    revenues = replace(revenues, versions=(*revenues.versions, deletion))
    results = evaluate_agreement(seed_inputs(covenants=(revenues, losses, ebitda)))
    assert result_for(results, REVENUES_ID, date(2000, 6, 30)).status == COMPLIANT
    for test_date in (date(2000, 9, 30), date(2000, 12, 31), date(2001, 3, 31)):
        result = result_for(results, REVENUES_ID, test_date)
        assert result.status == NOT_TESTED
        assert result.terms_id is None
        assert "deleted by Amendment No. 5" in result.explanation


def test_a_replace_version_sets_new_thresholds_from_its_effective_date() -> None:
    revenues, losses, ebitda = seed_covenants()
    new_terms = replace(
        revenues.versions[0],
        terms_id=103,
        effective_from=date(2000, 7, 1),
        action="replace",
        source="Amendment No. 5",
        schedule=(
            ScheduleRow(date(2000, 9, 30), D("30000000")),
            ScheduleRow(date(2000, 12, 31), D("50000000"), applies_thereafter=True),
        ),
    )
    revenues = replace(revenues, versions=(*revenues.versions, new_terms))
    results = evaluate_agreement(seed_inputs(covenants=(revenues, losses, ebitda)))
    june = result_for(results, REVENUES_ID, date(2000, 6, 30))
    assert (june.terms_id, june.threshold, june.status) == (101, D("31338000"), COMPLIANT)
    september = result_for(results, REVENUES_ID, date(2000, 9, 30))
    assert (september.terms_id, september.threshold, september.status) == (103, D("30000000"), COMPLIANT)
    assert september.headroom == D("7803000")
    assert "as amended by Amendment No. 5" in september.explanation
    december = result_for(results, REVENUES_ID, date(2000, 12, 31))
    assert (december.threshold, december.status) == (D("50000000"), BREACH)
    # "Thereafter" carries the new level to the quarters that follow, through the evaluation date.
    june_2001 = result_for(results, REVENUES_ID, date(2001, 6, 30))
    assert (june_2001.threshold, june_2001.status) == (D("50000000"), COMPLIANT)


# ---------------------------------------------------------------------------
# Forms real agreements also write
# ---------------------------------------------------------------------------

A, B, C = 1, 2, 3
THREE = (BorrowerSpan(A, "Alpha Holdings"), BorrowerSpan(B, "Beta LLC"), BorrowerSpan(C, "Gamma Inc."))


def covenant(
    *rows: ScheduleRow, covenant_id: int = 1, section: str = "6.12", band: str = "10", **terms: object
) -> CovenantSpec:
    version = TermsVersion(terms_id=covenant_id * 10, effective_from=date(1999, 1, 1), action="add", schedule=rows)
    return CovenantSpec(covenant_id, section, "A covenant", (replace(version, **terms),), warning_band_percent=D(band))


def each_quarter(party_ids, quarters, line_item: str, amount: str | Decimal, start_id: int = 1) -> list[Figure]:
    figures = []
    for quarter in quarters:
        for party_id in party_ids:
            start_id += 1
            figures.append(Figure(party_id, quarter, line_item, D(amount), start_id))
    return figures


def run(covenants, figures, *, borrowers=THREE, as_of=date(2001, 12, 31), **changes) -> list[Result]:
    covenants = covenants if isinstance(covenants, tuple) else (covenants,)
    inputs = AgreementInputs(1, as_of, covenants, tuple(borrowers), tuple(figures), **changes)
    return evaluate_agreement(inputs)


YEAR_2000 = (date(2000, 3, 31), date(2000, 6, 30), date(2000, 9, 30), date(2000, 12, 31))


def test_a_flat_threshold_holds_at_every_test_date() -> None:
    flat = covenant(ScheduleRow(date(2000, 3, 31), D("300"), applies_thereafter=True), line_item="revenues")
    results = run(flat, each_quarter([A, B, C], YEAR_2000, "revenues", "100"), as_of=date(2001, 2, 14))
    assert [(r.test_date, r.status, r.threshold) for r in results] == [(q, COMPLIANT, D("300")) for q in YEAR_2000]
    # The next quarter end is after the evaluation date: not yet a test date.
    results = run(flat, each_quarter([A, B, C], YEAR_2000, "revenues", "100"), as_of=date(2001, 3, 31))
    assert [r.status for r in results] == [COMPLIANT] * 4 + [INCOMPLETE]
    assert results[-1].test_date == date(2001, 3, 31)
    assert len(results[-1].inputs["missing"]) == 3


def test_a_negative_minimum() -> None:
    # "Adjusted EBITDA for the six month period ending ... not less than ($3,500,000)".
    minimum = covenant(
        ScheduleRow(date(2000, 6, 30), D("-3500000"), applies_thereafter=True, amount_as_printed="($3,500,000)"),
        line_item="adjusted_ebitda",
        window_periods=2,
    )
    quarters = YEAR_2000[:2]
    at = each_quarter([A, B], quarters, "adjusted_ebitda", "-875000") + each_quarter(
        [C], quarters, "adjusted_ebitda", 0
    )
    result = run(minimum, at, as_of=date(2000, 8, 1))[-1]
    assert (result.status, result.value, result.headroom) == (COMPLIANT, D("-3500000"), D("0"))
    assert "Adjusted EBITDA" in result.explanation and "($3,500,000)" in result.explanation
    under = [*at[:-1], replace(at[-1], amount=D("-1"))]
    result = run(minimum, under, as_of=date(2000, 8, 1))[-1]
    assert (result.status, result.value, result.headroom) == (BREACH, D("-3500001"), D("-1"))
    assert "short by $1" in result.explanation


def leverage(threshold: str = "5.75", **terms: object) -> CovenantSpec:
    settings = {
        "metric_kind": "ratio",
        "line_item": "total_debt",
        "denominator_line_item": "ebitda",
        "denominator_window_periods": 4,
        "direction": "at_most",
        **terms,
    }
    return covenant(ScheduleRow(date(2000, 12, 31), D(threshold), applies_thereafter=True), **settings)


def leverage_figures(debt_each: str, ebitda_each: str) -> list[Figure]:
    return each_quarter([A, B, C], [date(2000, 12, 31)], "total_debt", debt_each, 100) + each_quarter(
        [A, B, C], YEAR_2000, "ebitda", ebitda_each, 200
    )


def test_a_leverage_ratio_at_most() -> None:
    # Debt 3 x 575 against four-quarter EBITDA 3 x 4 x 25 = 300: exactly 5.75.
    result = run(leverage(), leverage_figures("575", "25"), as_of=date(2001, 1, 31))[-1]
    assert (result.status, result.value, result.threshold, result.headroom) == (
        COMPLIANT,
        D("5.75"),
        D("5.75"),
        D("0"),
    )
    assert result.inputs["window"] == ["2000-12-31"]
    assert result.inputs["denominator_window"] == [q.isoformat() for q in YEAR_2000]
    assert len(result.inputs["figures"]) == 3 + 12
    result = run(leverage(), leverage_figures("576", "25"), as_of=date(2001, 1, 31))[-1]
    assert (result.status, result.value, result.headroom) == (BREACH, D("5.76"), D("-0.01"))
    assert "over by 0.01" in result.explanation
    assert "5.76 to 1.00 against a maximum of 5.75 to 1.00" in result.explanation


def test_a_ratio_is_reported_to_six_places_rounded_against_compliance() -> None:
    # 300 / 900 = 0.333...: a maximum rounds up, so a ratio over a cap never shows as at it.
    result = run(leverage(), leverage_figures("100", "75"), as_of=date(2001, 1, 31))[-1]
    assert result.value == D("0.333334")
    assert result.value.as_tuple().exponent == -6
    assert result.headroom == D("5.416666")
    assert result.headroom_percent == D("94.20")
    # A hair over the cap: 5.7500001 shows as 5.750001, a breach, not as 5.750000.
    figures = leverage_figures("575", "25")
    figures[0] = replace(figures[0], amount=figures[0].amount + D("0.00003"))
    result = run(leverage(), figures, as_of=date(2001, 1, 31))[-1]
    assert (result.status, result.value, result.headroom) == (BREACH, D("5.750001"), D("-0.000001"))


@pytest.mark.parametrize(("ebitda_each", "denominator"), [("0", "$0"), ("-10", "($120)")])
def test_a_leverage_ratio_with_no_positive_ebitda_breaches(ebitda_each: str, denominator: str) -> None:
    result = run(leverage(), leverage_figures("575", ebitda_each), as_of=date(2001, 1, 31))[-1]
    assert result.status == BREACH
    assert result.value is None and result.headroom is None and result.headroom_percent is None
    assert result.threshold == D("5.75")
    assert "ratio undefined: denominator not positive" in result.explanation
    assert denominator in result.explanation


@pytest.mark.parametrize(
    ("interest_each", "ebitda_each", "status"),
    [
        ("0", "10", COMPLIANT),  # no interest and positive EBITDA: covered
        ("0", "0", BREACH),
        ("0", "-10", BREACH),
        ("-5", "10", BREACH),  # negative interest is not coverage
    ],
)
def test_an_interest_coverage_ratio_with_no_positive_interest(
    interest_each: str, ebitda_each: str, status: str
) -> None:
    coverage = leverage(
        "3.0", line_item="ebitda", window_periods=4, denominator_line_item="interest_expense", direction="at_least"
    )
    figures = each_quarter([A, B, C], YEAR_2000, "ebitda", ebitda_each, 100) + each_quarter(
        [A, B, C], YEAR_2000, "interest_expense", interest_each, 200
    )
    result = run(coverage, figures, as_of=date(2001, 1, 31))[-1]
    assert result.status == status
    assert result.value is None
    assert "ratio undefined: denominator not positive" in result.explanation


def test_an_interest_coverage_ratio_at_least() -> None:
    coverage = leverage(
        "3.0", line_item="ebitda", window_periods=4, denominator_line_item="interest_expense", direction="at_least"
    )
    figures = each_quarter([A, B, C], YEAR_2000, "ebitda", "30", 100) + each_quarter(
        [A, B, C], YEAR_2000, "interest_expense", "10", 200
    )
    assert run(coverage, figures, as_of=date(2001, 1, 31))[-1].status == COMPLIANT
    figures[0] = replace(figures[0], amount=D("29.99"))
    result = run(coverage, figures, as_of=date(2001, 1, 31))[-1]
    # 359.99 / 120 = 2.9999166...: a minimum rounds down.
    assert (result.status, result.value) == (BREACH, D("2.999916"))


def test_a_ratio_missing_its_denominator_figures_is_incomplete() -> None:
    figures = leverage_figures("575", "25")
    figures = [f for f in figures if not (f.party_id == B and f.line_item == "ebitda" and f.period_end == YEAR_2000[0])]
    result = run(leverage(), figures, as_of=date(2001, 1, 31))[-1]
    assert result.status == INCOMPLETE
    assert result.inputs["missing"] == [
        {"party_id": B, "name": "Beta LLC", "period_end": "2000-03-31", "line_item": "ebitda"}
    ]
    assert "Beta LLC" in result.explanation and "March 31, 2000" in result.explanation


def test_each_borrower_basis_gives_one_result_per_borrower() -> None:
    each = covenant(
        ScheduleRow(date(2000, 3, 31), D("100"), applies_thereafter=True), line_item="revenues", basis="each_borrower"
    )
    figures = [
        Figure(A, date(2000, 3, 31), "revenues", D("150"), 1),
        Figure(B, date(2000, 3, 31), "revenues", D("99"), 2),
    ]
    results = run(each, figures, as_of=date(2000, 5, 1))
    assert [(r.party_id, r.status) for r in results] == [(A, COMPLIANT), (B, BREACH), (C, INCOMPLETE)]
    assert results[0].value == D("150") and results[1].value == D("99")
    assert results[1].inputs["borrowers"] == [{"party_id": B, "name": "Beta LLC"}]
    assert "Beta LLC" in results[1].explanation
    assert results[2].inputs["missing"] == [
        {"party_id": C, "name": "Gamma Inc.", "period_end": "2000-03-31", "line_item": "revenues"}
    ]
    assert "Gamma Inc." in results[2].explanation


def test_a_fiscal_year_ending_in_june() -> None:
    ytd = covenant(
        ScheduleRow(date(1999, 9, 30), D("1000"), applies_thereafter=True),
        line_item="revenues",
        window_kind="fiscal_ytd",
    )
    quarters = (date(1999, 9, 30), date(1999, 12, 31), date(2000, 3, 31), date(2000, 6, 30), date(2000, 9, 30))
    figures = each_quarter([A, B, C], quarters, "revenues", "100")
    results = run(ytd, figures, as_of=date(2000, 10, 31), fiscal_year_end_month=6)
    assert [r.test_date for r in results] == list(quarters)
    # Fiscal year to date: 3, 6, 9, 12 months, then a new fiscal year from July 1, 2000.
    assert [r.value for r in results] == [D("300"), D("600"), D("900"), D("1200"), D("300")]
    assert [r.status for r in results] == [BREACH, BREACH, BREACH, COMPLIANT, BREACH]
    assert results[2].inputs["window"] == ["1999-09-30", "1999-12-31", "2000-03-31"]
    assert "fiscal year to date ending March 31, 2000" in results[2].explanation


def test_a_calendar_quarter_is_not_a_test_date_in_a_june_fiscal_year() -> None:
    flat = covenant(ScheduleRow(date(2000, 3, 31), D("1"), applies_thereafter=True), line_item="revenues")
    figures = each_quarter([A], [date(2000, 3, 31)], "revenues", "5")
    results = run(flat, figures, borrowers=THREE[:1], as_of=date(2000, 8, 1), fiscal_year_end_month=8)
    assert [r.test_date for r in results] == [date(2000, 5, 31)]
    assert results[0].status == INCOMPLETE


def test_waivers_cover_only_what_they_name() -> None:
    flat = covenant(ScheduleRow(date(2000, 3, 31), D("1000"), applies_thereafter=True), line_item="revenues")
    figures = each_quarter([A, B, C], YEAR_2000[:2], "revenues", "100")
    waiver = WaiverKey(1, date(2000, 3, 31))
    results = run(flat, figures, as_of=date(2000, 7, 31), waivers=frozenset({waiver}))
    waived, june = results
    assert (waived.status, waived.value, waived.threshold, waived.headroom) == (WAIVED, D("300"), D("1000"), D("-700"))
    assert "waived" in waived.explanation
    assert june.status == BREACH  # the next quarter is not waived
    # A waiver of another covenant, or of one Borrower, does not cover the combined test.
    others = frozenset({WaiverKey(2, date(2000, 3, 31)), WaiverKey(1, date(2000, 3, 31), A)})
    assert run(flat, figures, as_of=date(2000, 7, 31), waivers=others)[0].status == BREACH


def test_a_waiver_for_one_borrower_covers_that_borrower_only() -> None:
    each = covenant(
        ScheduleRow(date(2000, 3, 31), D("1000"), applies_thereafter=True), line_item="revenues", basis="each_borrower"
    )
    figures = each_quarter([A, B, C], YEAR_2000[:1], "revenues", "100")
    results = run(each, figures, as_of=date(2000, 4, 30), waivers=frozenset({WaiverKey(1, date(2000, 3, 31), B)}))
    assert [(r.party_id, r.status) for r in results] == [(A, BREACH), (B, WAIVED), (C, BREACH)]


def test_a_waiver_does_not_change_a_compliant_or_incomplete_test() -> None:
    flat = covenant(ScheduleRow(date(2000, 3, 31), D("100"), applies_thereafter=True), line_item="revenues")
    figures = each_quarter([A, B, C], YEAR_2000[:1], "revenues", "100") + each_quarter(
        [A], YEAR_2000[1:2], "revenues", 1
    )
    waivers = frozenset({WaiverKey(1, YEAR_2000[0]), WaiverKey(1, YEAR_2000[1])})
    results = run(flat, figures, as_of=date(2000, 7, 31), waivers=waivers)
    assert [r.status for r in results] == [COMPLIANT, INCOMPLETE]


@pytest.mark.parametrize(
    ("total", "band", "near", "percent"),
    [
        ("1050", "10", True, "5.00"),
        ("1100", "10", False, "10.00"),
        ("1100", "12.5", True, "10.00"),
        ("1000", "0", False, "0.00"),
        ("999", "10", False, "-0.10"),
    ],
)
def test_near_breach_is_compliant_within_the_warning_band(total: str, band: str, near: bool, percent: str) -> None:
    flat = covenant(ScheduleRow(date(2000, 3, 31), D("1000"), applies_thereafter=True), line_item="revenues", band=band)
    figures = [Figure(A, date(2000, 3, 31), "revenues", D(total), 1)]
    result = run(flat, figures, borrowers=THREE[:1], as_of=date(2000, 4, 30))[0]
    assert result.near_breach is near
    assert result.headroom_percent == D(percent)
    assert ("warning band" in result.explanation) is near


def test_a_threshold_of_zero_has_no_headroom_percent_and_is_never_near() -> None:
    zero = covenant(ScheduleRow(date(2000, 3, 31), D("0"), applies_thereafter=True), line_item="ebitda")
    for amount, status in (("0", COMPLIANT), ("1", COMPLIANT), ("-1", BREACH)):
        figures = [Figure(A, date(2000, 3, 31), "ebitda", D(amount), 1)]
        result = run(zero, figures, borrowers=THREE[:1], as_of=date(2000, 4, 30))[0]
        assert result.status == status
        assert result.headroom == D(amount)
        assert result.headroom_percent is None and result.near_breach is False


def test_at_most_headroom_is_what_remains_under_the_cap() -> None:
    capex = covenant(
        ScheduleRow(date(2000, 3, 31), D("1000"), applies_thereafter=True),
        line_item="capital_expenditures",
        direction="at_most",
    )
    for amount, status, headroom in (("1000", COMPLIANT, "0"), ("400", COMPLIANT, "600"), ("1000.01", BREACH, "-0.01")):
        figures = [Figure(A, date(2000, 3, 31), "capital_expenditures", D(amount), 1)]
        result = run(capex, figures, borrowers=THREE[:1], as_of=date(2000, 4, 30))[0]
        assert (result.status, result.headroom) == (status, D(headroom))
    assert "over by $0.01" in result.explanation and "maximum of $1,000" in result.explanation


@pytest.mark.parametrize(("state", "words"), [("to_be_set", "to be set"), ("redacted", "redacted")])
def test_an_unknown_threshold_leaves_the_test_undecided(state: str, words: str) -> None:
    unknown = covenant(
        ScheduleRow(date(2000, 3, 31), D("100"), applies_thereafter=True),
        ScheduleRow(date(2000, 6, 30), None, threshold_state=state, applies_thereafter=True),
        line_item="revenues",
    )
    figures = each_quarter([A, B, C], YEAR_2000[:2], "revenues", "1000")
    first, second = run(unknown, figures, as_of=date(2000, 7, 31))
    assert first.status == COMPLIANT
    assert second.status == INCOMPLETE
    assert second.value == D("3000")  # still computed: the figures are complete
    assert second.threshold is None and second.headroom is None and second.near_breach is False
    assert words in second.explanation
    # With figures missing too, both reasons are given.
    result = run(unknown, figures[:-1], as_of=date(2000, 7, 31))[1]
    assert result.status == INCOMPLETE and result.value is None
    assert words in result.explanation and "Gamma Inc." in result.explanation


def test_an_unknown_ratio_threshold_is_undecided_even_without_a_positive_denominator() -> None:
    unknown = covenant(
        ScheduleRow(date(2000, 12, 31), None, threshold_state="to_be_set", applies_thereafter=True),
        metric_kind="ratio",
        line_item="total_debt",
        denominator_line_item="ebitda",
        denominator_window_periods=4,
        direction="at_most",
    )
    result = run(unknown, leverage_figures("575", "0"), as_of=date(2001, 1, 31))[-1]
    assert (result.status, result.value, result.threshold) == (INCOMPLETE, None, None)
    assert "to be set" in result.explanation and "denominator not positive" in result.explanation


def test_a_borrower_that_joins_later_is_not_required_before_it_joins() -> None:
    spans = (*THREE[:2], BorrowerSpan(C, "Gamma Inc.", holds_from=date(2000, 4, 1)))
    flat = covenant(ScheduleRow(date(2000, 3, 31), D("200"), applies_thereafter=True), line_item="revenues")
    figures = each_quarter([A, B], YEAR_2000[:2], "revenues", "100")
    march, june = run(flat, figures, borrowers=spans, as_of=date(2000, 7, 31))
    assert (march.status, march.value) == (COMPLIANT, D("200"))
    assert [b["party_id"] for b in march.inputs["borrowers"]] == [A, B]
    assert june.status == INCOMPLETE
    assert "Gamma Inc." in june.explanation
    # Once it reports, its figures count.
    june = run(flat, [*figures, Figure(C, date(2000, 6, 30), "revenues", D("5"), 9)], borrowers=spans)[1]
    assert (june.status, june.value) == (COMPLIANT, D("205"))


def test_a_borrower_that_joins_on_a_test_date_is_tested_on_it() -> None:
    spans = (*THREE[:2], BorrowerSpan(C, "Gamma Inc.", holds_from=date(2000, 6, 30)))
    flat = covenant(ScheduleRow(date(2000, 3, 31), D("200"), applies_thereafter=True), line_item="revenues")
    figures = each_quarter([A, B], YEAR_2000[:2], "revenues", "100")
    march, june = run(flat, figures, borrowers=spans, as_of=date(2000, 7, 31))
    assert march.status == COMPLIANT
    assert (june.status, june.inputs["missing"][0]["party_id"]) == (INCOMPLETE, C)


def test_a_borrower_that_leaves_is_not_required_after_it_leaves() -> None:
    spans = (*THREE[:2], BorrowerSpan(C, "Gamma Inc.", holds_to=date(2000, 3, 31)))
    flat = covenant(ScheduleRow(date(2000, 3, 31), D("200"), applies_thereafter=True), line_item="revenues")
    figures = each_quarter([A, B, C], YEAR_2000[:1], "revenues", "100") + each_quarter(
        [A, B, C], YEAR_2000[1:2], "revenues", "100", 50
    )
    march, june = run(flat, figures, borrowers=spans, as_of=date(2000, 7, 31))
    assert march.value == D("300")  # a Borrower through March 31, 2000
    assert june.value == D("200")  # its June figures are no longer counted
    assert [b["party_id"] for b in june.inputs["borrowers"]] == [A, B]


def test_no_borrower_on_the_test_date_is_undecided() -> None:
    flat = covenant(ScheduleRow(date(2000, 3, 31), D("0"), applies_thereafter=True), line_item="revenues")
    spans = (BorrowerSpan(A, "Alpha Holdings", holds_from=date(2000, 6, 1)),)
    result = run(flat, [], borrowers=spans, as_of=date(2000, 4, 30))[0]
    assert result.status == INCOMPLETE
    assert "no Borrower" in result.explanation


@pytest.mark.parametrize("restated_first", [True, False])
def test_a_restatement_given_with_its_original_uses_the_latest_version(restated_first: bool) -> None:
    flat = covenant(ScheduleRow(date(2000, 3, 31), D("100"), applies_thereafter=True), line_item="revenues")
    original = Figure(A, date(2000, 3, 31), "revenues", D("150"), 1, statement_version=1)
    restated = Figure(A, date(2000, 3, 31), "revenues", D("90"), 2, statement_version=2)
    figures = [restated, original] if restated_first else [original, restated]
    result = run(flat, figures, borrowers=THREE[:1], as_of=date(2000, 4, 30))[0]
    assert (result.status, result.value) == (BREACH, D("90"))
    assert [(f["statement_id"], f["statement_version"]) for f in result.inputs["figures"]] == [(2, 2)]


def test_figures_of_parties_that_are_not_borrowers_are_ignored() -> None:
    flat = covenant(ScheduleRow(date(2000, 3, 31), D("200"), applies_thereafter=True), line_item="revenues")
    figures = each_quarter([A, B, C, 99], YEAR_2000[:1], "revenues", "100")
    result = run(flat, figures, as_of=date(2000, 4, 30))[0]
    assert result.value == D("300")
    assert 99 not in {f["party_id"] for f in result.inputs["figures"]}


# ---------------------------------------------------------------------------
# Fingerprints: what a re-evaluation compares stored results on
# ---------------------------------------------------------------------------


def test_the_same_inputs_give_the_same_fingerprints() -> None:
    first = [r.fingerprint() for r in evaluate_agreement(seed_inputs())]
    again = [r.fingerprint() for r in evaluate_agreement(seed_inputs())]
    assert first == again
    assert len(set(first)) == len(first)  # every test's result says something of its own


def test_a_changed_figure_changes_the_fingerprint_of_every_result_citing_it() -> None:
    before = {(r.covenant_id, r.test_date): r for r in evaluate_agreement(seed_inputs())}
    figures = adjust(figures_at_the_thresholds(), LEASING_II, date(2000, 3, 31), "ebitda", D("1"))
    after = {(r.covenant_id, r.test_date): r for r in evaluate_agreement(seed_inputs(figures=figures))}
    changed = {key for key in before if before[key].fingerprint() != after[key].fingerprint()}
    citing = {key for key, r in after.items() if "2000-03-31" in {f["period_end"] for f in r.inputs["figures"]}}
    citing_ebitda = {key for key in citing if after[key].inputs["line_item"] == "ebitda"}
    assert changed == citing_ebitda and changed


@pytest.mark.parametrize(
    "change",
    [
        {"status": BREACH},
        {"value": D("18000001")},
        {"threshold": None},
        {"headroom": D("2")},
        {"headroom_percent": D("0.01")},
        {"provisional": True},
        {"terms_id": 999},
        {"explanation": "Another explanation."},
    ],
)
def test_any_stored_field_changes_the_fingerprint(change: dict) -> None:
    result = result_for(evaluate_agreement(seed_inputs()), REVENUES_ID, date(2000, 3, 31))
    assert replace(result, **change).fingerprint() != result.fingerprint()


def test_a_changed_input_changes_the_fingerprint_and_the_zeros_an_amount_is_written_with_do_not() -> None:
    result = result_for(evaluate_agreement(seed_inputs()), REVENUES_ID, date(2000, 3, 31))
    cited = json.loads(json.dumps(result.inputs))
    cited["figures"][0]["statement_version"] += 1
    assert replace(result, inputs=cited).fingerprint() != result.fingerprint()
    assert result.value is not None
    assert replace(result, value=result.value.quantize(D("0.000001"))).fingerprint() == result.fingerprint()
