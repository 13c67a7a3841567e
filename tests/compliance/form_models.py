"""
The scenarios of tests/compliance/form_scenarios.py stored as models, their figures in, and
evaluated through compliance.services.agreement_evaluate as of the scenario's date; and their
current results read back in the shape the API gives them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

from compliance.models import CovenantTestResult
from compliance.services import agreement_evaluate
from covenants.choices import AgreementKind, Role, TermsAction
from covenants.models import Agreement, AgreementRole, Amendment, Covenant, CovenantTerms, DefinedMetric, ThresholdStep
from parties.models import Party
from statements.choices import UploadFormat
from statements.models import FinancialStatement, StatementLine, StatementUpload
from tests.compliance import form_scenarios as forms
from tests.factories import line_item

__all__ = ["build", "results"]
D = Decimal


def _parties(scenario: forms.Scenario, agreement: Agreement) -> dict[str, Party]:
    named = [(name, Role.BORROWER, f"Borrower {i + 1}") for i, name in enumerate(scenario.borrowers)]
    named += [(name, role, "") for name, role in scenario.others]
    parties = {}
    for name, role, term in named:
        parties[name] = Party.objects.create(legal_name=name)
        AgreementRole.objects.create(agreement=agreement, party=parties[name], role=role, defined_term=term)
    return parties


def _terms(scenario: forms.Scenario, agreement: Agreement, parties: dict[str, Party], amendment: Amendment | None):
    metrics = {
        m.name: DefinedMetric.objects.create(
            agreement=agreement, name=m.name, label=m.label, formula=m.formula, nature=m.nature
        )
        for m in scenario.metrics
    }
    covenants: dict[str, Covenant] = {}
    for terms in scenario.terms:
        covenant = covenants.get(terms.section) or Covenant.objects.create(
            agreement=agreement, section=terms.section, name=terms.section
        )
        covenants[terms.section] = covenant
        version = CovenantTerms.objects.create(
            covenant=covenant,
            amendment=amendment if terms.by_amendment else None,
            action=TermsAction.REPLACE if terms.by_amendment else TermsAction.ADD,
            effective_from=terms.effective_from,
            metric=metrics.get(terms.metric or ""),
            line_item=line_item(terms.line_item, forms.ITEMS[terms.line_item]) if terms.line_item else None,
            frequency=terms.frequency,
            window_periods=terms.window_periods,
            direction=terms.direction,
            basis=terms.basis,
            reporting_party=parties.get(terms.reporting_party or ""),
            threshold_relative_to=(
                line_item(terms.threshold_relative_to, forms.ITEMS[terms.threshold_relative_to])
                if terms.threshold_relative_to
                else None
            ),
        )
        for row in terms.rows:
            ThresholdStep.objects.create(terms=version, **row.fields())


def _statement(agreement: Agreement, party: Party, day: dt.date, amounts: dict[str, str]) -> None:
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
        StatementLine.objects.create(statement=made, line_item=line_item(code, forms.ITEMS[code]), amount=D(amount))


def build(scenario: forms.Scenario) -> Agreement:
    """The scenario stored as models, its figures in, evaluated as of the scenario's date."""
    agreement = Agreement.objects.create(
        kind=AgreementKind.CREDIT_AGREEMENT,
        title="Credit Agreement",
        name=f"{scenario.borrowers[0]} Credit Agreement",
        defined_term="Credit Agreement",
        dated_as_of=dt.date(2016, 12, 31),
        governing_law="New York",
        fiscal_calendar=scenario.calendar,
        reporting_frequency=scenario.reporting,
    )
    agreement.required_line_items.set([line_item(code, forms.ITEMS[code]) for code in scenario.required])
    parties = _parties(scenario, agreement)
    amendment = None
    if scenario.amendment is not None:
        a = scenario.amendment
        amendment = Amendment.objects.create(
            agreement=agreement, number=a.number, title=a.title, dated_as_of=a.dated_as_of, effective_on=a.effective_on
        )
    _terms(scenario, agreement, parties, amendment)
    for name, day, amounts in scenario.statements:
        _statement(agreement, parties[name], day, amounts)
    agreement_evaluate(agreement_id=agreement.pk, as_of=scenario.as_of)
    return agreement


def results(agreement: Agreement) -> dict[tuple[str, dt.date], dict]:
    """The current results by (section, test date), as the API gives them."""
    rows = CovenantTestResult.objects.filter(agreement=agreement, is_current=True, borrower=None)
    return {
        (r.covenant.section, r.test_date): {
            "status": r.status,
            "value": r.value,
            "threshold": r.threshold,
            "explanation": r.explanation,
            "inputs": r.inputs,
        }
        for r in rows.select_related("covenant")
    }
