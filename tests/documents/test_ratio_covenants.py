"""Ratio covenants read from a filing are held as ratios: the proposal says so, the ratio the
text names but does not define waits for the reviewer's definition (apply refuses it until
then, naming the item), and once defined it is the ratio of the window's sums, printed as a
ratio wherever it is shown."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from compliance.models import CovenantTestResult
from compliance.services import agreement_evaluate
from covenants.choices import MetricKind
from covenants.models import Covenant, CovenantTerms, DefinedMetric, LineItem
from documents.importer import read_document
from documents.review import apply_review, decide, decide_section, open_review
from documents.review.proposed import proposed_items
from documents.services import document_store
from parties.models import Party
from statements.choices import UploadFormat
from statements.models import FinancialStatement, StatementLine, StatementUpload
from tests.factories import line_item
from tests.portal.harborline import SECOND_AMENDMENT, harborline_agreement

FIXTURES = Path(__file__).parent / "fixtures"
# Each fixture, and the kind of each covenant it states or changes, by section.
KINDS = {
    "ratio_table_grouped.txt": {"7.11(a)": "ratio"},
    "xy_replacement.txt": {"6.13": "ratio"},
    "one_number_replacement.txt": {"5.2(b)": "ratio"},
    "six_month_negative_minimum.txt": {"6.1": "amount"},
    "redacted_table.txt": {"8.3": "amount", "8.4": "amount"},
    "monthly_liquidity.txt": {"7.14": "amount"},
}
# The ratio fixtures' levels as printed, row by row.
RATIO_LEVELS = {
    "ratio_table_grouped.txt": ["4.75 to 1.00", "4.50 to 1.00", "4.25 to 1.00", "3.75 to 1.00"],
    "xy_replacement.txt": ["2.25 to 1.00", "2.75 to 1.00"],
    "one_number_replacement.txt": ["3.50 to 1.00"],
}
COVENANT = "covenant:7.11(a)"


@pytest.mark.parametrize("name", sorted(KINDS))
def test_each_fixture_proposes_each_covenant_with_its_kind(name: str) -> None:
    proposal = read_document((FIXTURES / name).read_text(), filename=name)
    assert {c.section: c.kind for c in proposal.covenants} == KINDS[name]
    items = {item.key: item for item in proposed_items(proposal)}
    (agreement,) = [i for i in items.values() if i.key.startswith("agreement:")]
    required = {line["code"] for line in agreement.value["required_line_items"]}
    for section, kind in KINDS[name].items():
        covenant = items[f"covenant:{section}"]
        if kind == "amount":
            assert covenant.value["metric_kind"] == MetricKind.SUM and covenant.value["line_item"]
            assert "flags" not in covenant.value
            continue
        # A ratio: no line item summed, its sides left for the reviewer, the flag and its reason.
        assert covenant.value["metric_kind"] == MetricKind.RATIO
        assert covenant.value["line_item"] is None and covenant.value["denominator_line_item"] is None
        assert covenant.value["flags"] == ["ratio_undefined"]
        assert "numerator and denominator are defined in the credit agreement" in covenant.reason
        assert not any("ratio" in code for code in required), required
        (c,) = [c for c in proposal.covenants if c.section == section]
        levels = [r.threshold.as_printed for r in c.rows] + ([c.replaces.as_printed] if c.replaces else [])
        assert all(level.endswith("to 1.00") for level in levels), levels
    if name in RATIO_LEVELS:
        assert [r.threshold.as_printed for c in proposal.covenants for r in c.rows] == RATIO_LEVELS[name]
        rows = [i.value for k, i in items.items() if ":row:" in k]
        assert all(row["amount_as_printed"].endswith("to 1.00") for row in rows), rows


# --- Applying a ratio ------------------------------------------------------------------------


@pytest.fixture
def harborline(db):
    return harborline_agreement()


def _review(agreement, user):
    stored = document_store(
        user=user, agreement=agreement, content=SECOND_AMENDMENT.read_bytes(), filename=SECOND_AMENDMENT.name
    )
    review = open_review(user, stored.document)
    for section in ("instrument", "parties", "roles", "covenants", "conditions"):
        decide_section(user, review, section, "accepted")
    return review


def test_apply_refuses_a_ratio_the_text_does_not_define_naming_the_item(harborline) -> None:
    agreement, users = harborline
    review = _review(agreement, users["agent"])
    with pytest.raises(ValidationError) as refused:
        apply_review(users["agent"], review)
    (message,) = refused.value.messages
    assert message.startswith("covenant:7.11(a): line_item: 7.11(a) Maximum Total Leverage Ratio is a ratio")
    assert "give its numerator (line_item) and denominator (denominator_line_item)" in message
    # Nothing half-saved: no covenant, no terms, the review still open.
    assert not Covenant.objects.filter(agreement=agreement).exists()
    review.refresh_from_db()
    assert review.status == "open"
    # Giving only one side is refused as well, naming the other.
    item = review.items.get(key=COVENANT)
    decide(users["agent"], item, "edited", {**item.proposed, "line_item": "total_debt"})
    with pytest.raises(ValidationError, match=r"covenant:7.11\(a\): denominator_line_item: "):
        apply_review(users["agent"], review)
    assert not CovenantTerms.objects.filter(covenant__agreement=agreement).exists()


def test_a_defined_term_that_is_not_a_quotient_is_refused(harborline) -> None:
    agreement, users = harborline
    line_item("ebitda", "EBITDA")
    DefinedMetric.objects.create(agreement=agreement, name="adjusted_ebitda", label="Adjusted EBITDA", formula="ebitda")
    review = _review(agreement, users["agent"])
    item = review.items.get(key=COVENANT)
    decide(users["agent"], item, "edited", {**item.proposed, "metric": "adjusted_ebitda"})
    with pytest.raises(ValidationError, match=r"covenant:7.11\(a\): metric: the defined term adjusted_ebitda"):
        apply_review(users["agent"], review)


def _figures(agreement, borrower: Party, day: dt.date, amounts: dict[str, str]) -> None:
    content = f"{borrower.pk} {day}".encode()
    upload = StatementUpload.objects.create(
        agreement=agreement,
        filename="figures.csv",
        format=UploadFormat.CSV,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
    )
    made = FinancialStatement.objects.create(agreement=agreement, borrower=borrower, period_end=day, upload=upload)
    for code, amount in amounts.items():
        StatementLine.objects.create(statement=made, line_item=LineItem.objects.get(code=code), amount=Decimal(amount))


QUARTERS = (dt.date(2003, 12, 31), *(dt.date(2004, m, d) for m, d in ((3, 31), (6, 30), (9, 30), (12, 31))))
# Total debt at each quarter's end; EBITDA is 1,000,000 a quarter.
DEBT = {dt.date(2004, 9, 30): "19000001", dt.date(2004, 12, 31): "18000000"}


def test_a_ratio_defined_by_the_reviewer_is_applied_and_tested_on_the_windows_sums(harborline, client) -> None:
    agreement, users = harborline
    agent = users["agent"]
    review = _review(agreement, agent)
    item = review.items.get(key=COVENANT)
    # Total debt at the quarter's end over EBITDA for the four quarters then ended.
    definition = {"line_item": "total_debt", "window_periods": 1, "denominator_line_item": "ebitda"}
    decide(agent, item, "edited", {**item.proposed, **definition, "denominator_window_periods": 4})
    apply_review(agent, review)

    terms = CovenantTerms.objects.get(covenant__agreement=agreement, covenant__section="7.11(a)")
    assert terms.metric_kind == MetricKind.RATIO and terms.direction == "at_most"
    assert (terms.line_item.code, terms.window_periods) == ("total_debt", 1)
    assert (terms.denominator_line_item.code, terms.denominator_window_periods) == ("ebitda", 4)
    assert {"total_debt", "ebitda"} <= set(agreement.required_line_items.values_list("code", flat=True))
    assert terms.schedule.get(test_date=dt.date(2004, 12, 31)).threshold == Decimal("4.50")

    borrower = Party.objects.get(legal_name="Harborline Logistics, Inc.")
    for day in QUARTERS:
        _figures(agreement, borrower, day, {"total_debt": DEBT.get(day, "17000000"), "ebitda": "1000000"})
    agreement_evaluate(agreement_id=agreement.pk, as_of=dt.date(2005, 3, 1))
    results = {
        r.test_date: r
        for r in CovenantTestResult.objects.filter(agreement=agreement, covenant__section="7.11(a)", is_current=True)
    }
    # December 31, 2004: 18,000,000 / 4,000,000 = 4.50, at the level: compliant (the sum of the
    # quarters' ratios would be 17 + 17 + 19.000001 + 18 = 71.000001).
    december = results[dt.date(2004, 12, 31)]
    assert (december.status, december.value, december.threshold) == ("compliant", Decimal("4.5"), Decimal("4.5"))
    assert "4.50 to 1.00" in december.explanation and "$4.5" not in december.explanation
    # September 30, 2004: 19,000,001 / 4,000,000 = 4.75000025, over 4.75: a breach.
    september = results[dt.date(2004, 9, 30)]
    assert september.status == "breach" and september.value > Decimal("4.75"), september.explanation
    assert "4.75 to 1.00" in september.explanation

    # The agreement page prints the levels as ratios, never as money.
    client.force_login(agent)
    page = client.get(reverse("covenants:agreement_detail", args=[agreement.pk])).content.decode()
    assert "at most 4.50 to 1.00" in page and "at most 3.75 to 1.00" in page
    assert "$4.5" not in page and "$3.75" not in page

    # The API gives the terms as a ratio, with the levels as printed beside the numbers.
    covenant = terms.covenant
    in_force = client.get(reverse("api:covenant-terms-in-force", args=[covenant.pk]), {"date": "2004-12-31"}).json()
    assert (in_force["metric_kind"], in_force["line_item"], in_force["denominator_line_item"]) == (
        "ratio",
        "total_debt",
        "ebitda",
    )
    row = next(r for r in in_force["schedule"] if r["test_date"] == "2004-12-31")
    assert (row["threshold"], row["amount_as_printed"]) == ("4.500000", "4.50 to 1.00")


def test_a_ratio_picked_as_a_defined_term_is_shown_as_a_ratio_everywhere(harborline, client) -> None:
    """A defined term dividing at its top is a ratio though its terms test a metric: the agreement
    page, the dashboard, the CSV export and the breach alert print "to 1.00", never money."""
    from alerts.models import Alert
    from alerts.raising import delivery_figures
    from compliance.formatting import figure

    agreement, users = harborline
    agent = users["agent"]
    line_item("total_debt", "Total debt")
    line_item("ebitda", "EBITDA")
    DefinedMetric.objects.create(
        agreement=agreement, name="leverage", label="Total Leverage Ratio", formula="total_debt / ebitda"
    )
    review = _review(agreement, agent)
    item = review.items.get(key=COVENANT)
    decide(agent, item, "edited", {**item.proposed, "metric": "leverage"})
    apply_review(agent, review)
    terms = CovenantTerms.objects.get(covenant__agreement=agreement, covenant__section="7.11(a)")
    assert terms.metric.name == "leverage" and terms.is_ratio

    borrower = Party.objects.get(legal_name="Harborline Logistics, Inc.")
    for day in QUARTERS:
        _figures(agreement, borrower, day, {"total_debt": DEBT.get(day, "4000000"), "ebitda": "1000000"})
    agreement_evaluate(agreement_id=agreement.pk, as_of=dt.date(2005, 3, 1))
    breach = CovenantTestResult.objects.get(
        agreement=agreement, covenant__section="7.11(a)", is_current=True, test_date=dt.date(2004, 12, 31)
    )
    shown = figure(breach.value, is_ratio=True)  # 45,000,001 / 4,000,000 over the four quarters
    assert breach.status == "breach" and shown.endswith(" to 1.00") and shown in breach.explanation
    dollars = f"${breach.value:,.2f}"[:5]  # what money would have printed: "$11.2"

    client.force_login(agent)
    for url in (reverse("covenants:agreement_detail", args=[agreement.pk]), reverse("home")):
        page = client.get(url).content.decode()
        assert shown in page, url
        assert dollars not in page and "$4.5" not in page, url
    export = client.get(reverse("covenants:compliance_csv", args=[agreement.pk])).content.decode()
    assert shown in export and dollars not in export

    alert = Alert.objects.get(agreement=agreement, covenant=terms.covenant, test_date=dt.date(2004, 12, 31))
    assert alert.metric_kind == "ratio"
    assert ("Value", shown) in delivery_figures(alert)
