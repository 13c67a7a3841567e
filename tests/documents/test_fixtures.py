"""The importer on amendment texts written for these tests in the layout of SEC-filed credit
agreement amendments (exhibit labels, indentation, page numbers, defined terms, signature pages).
Each test reports right / wrong / flagged; wrong must be 0."""

from __future__ import annotations

from pathlib import Path

from documents.importer import read_document

from . import fixture_facts as facts
from .scoring import Score, score

FIXTURES = Path(__file__).parent / "fixtures"


def check(name: str, expected: dict) -> tuple[Score, object]:
    proposal = read_document((FIXTURES / name).read_text(), filename=name)
    s = score(expected, proposal)
    print(s.line(name))
    assert s.wrong == [], s.wrong
    assert s.missing == [], s.missing
    return s, proposal


def test_ratio_table_with_grouped_quarters_and_thereafter() -> None:
    # Follows: a bank-agented credit agreement amendment restating a leverage covenant as a table
    # ("Fiscal Quarter Ending / Maximum ... Ratio"), quarters grouped on one row, "(and thereafter)".
    s, p = check("ratio_table_grouped.txt", facts.RATIO_TABLE_GROUPED)
    (cov,) = p.covenants
    assert [r.threshold.unit for r in cov.rows] == ["ratio"] * 4
    assert cov.kind == "ratio" and cov.flags == ("ratio_undefined",)
    assert "defined in the credit agreement" in cov.reason
    assert s.flagged == 1  # the ratio's definition, which the amendment does not print


def test_x_y_thereafter_replacement() -> None:
    # Follows: a first amendment replacing an interest coverage covenant with an
    # "(x) ... up to and including <date>, and (y) ... thereafter" sentence.
    s, p = check("xy_replacement.txt", facts.XY_REPLACEMENT)
    up_to, after = p.covenants[0].rows
    assert up_to.dates[0].as_printed == "June 30, 2003" and after.open_ended
    assert p.covenants[0].kind == "ratio" and [r.threshold.unit for r in (up_to, after)] == ["ratio"] * 2
    assert s.flagged == 1  # the ratio's definition


def test_one_number_replacement() -> None:
    # Follows: a short bilateral loan agreement amendment replacing one ratio in place
    # ('by replacing the ratio "4.00 to 1.00" appearing therein with "3.50 to 1.00"').
    s, p = check("one_number_replacement.txt", facts.ONE_NUMBER_REPLACEMENT)
    (cov,) = p.covenants
    assert p.text[cov.replaces.span[0] : cov.replaces.span[1]] == "4.00 to 1.00"
    assert p.text[cov.rows[0].threshold.span[0] : cov.rows[0].threshold.span[1]] == "3.50 to 1.00"
    assert cov.kind == "ratio" and cov.replaces.unit == "ratio"
    assert s.flagged == 1  # the ratio's definition


def test_six_month_negative_minimum_with_a_dayless_date() -> None:
    # Follows: a venture lender's loan and security agreement amendment resetting a
    # "six month period" Adjusted EBITDA minimum, negative amounts in parentheses, one date
    # printed without its day.
    s, p = check("six_month_negative_minimum.txt", facts.SIX_MONTH_NEGATIVE_MINIMUM)
    (cov,) = p.covenants
    sept = cov.rows[1].dates[0]
    assert not sept.day_printed and "day_not_printed" in sept.flags and sept.confidence < 0.9
    assert "negative minimum" in cov.reading
    assert s.flagged == 1


def test_redacted_table_and_a_level_to_be_set() -> None:
    # Follows: a credit agreement amendment filed with confidential treatment ("[***]" in place of
    # the amounts), and a new clause whose levels are left to be set by the agent.
    s, p = check("redacted_table.txt", facts.REDACTED_TABLE)
    assert all(r.threshold.value is None for c in p.covenants for r in c.rows)
    assert s.flagged == 2


def test_monthly_minimum_liquidity() -> None:
    # Follows: a covenant-relief amendment to a credit and guaranty agreement replacing a leverage
    # test with monthly minimum liquidity: grouped month ends, a "through" range, and "the last
    # day of each month thereafter".
    s, p = check("monthly_liquidity.txt", facts.MONTHLY_LIQUIDITY)
    last = p.covenants[0].rows[-1]
    assert last.open_ended and "thereafter" in p.text[last.span[0] : last.span[1]]
    assert s.flagged == 0
