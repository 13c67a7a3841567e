"""The exports' results and the compliance certificate."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from compliance import selectors
from compliance.choices import ResultStatus
from compliance.models import CovenantTestResult
from covenants.models import Agreement, Covenant, CovenantTerms
from portal.pages.selectors.common import (
    ResultView,
    User,
    _line_item_names,
    _result_view,
    _terms_for,
    agreement_visible_to,
)
from statements.models import FinancialStatement

# --- Exports and the certificate ------------------------------------------------------------------


def compliance_results(user: User, pk: int) -> tuple[Agreement, list[ResultView]]:
    """Every current result of the agreement, in section and date order, for the exports
    (``download`` on the agreement)."""
    agreement = agreement_visible_to(user, pk, "download")
    covenants = {c.pk: c for c in selectors.covenants_with_terms().filter(agreement=agreement)}
    names = _line_item_names()
    views = []
    for result in (
        CovenantTestResult.objects.filter(agreement=agreement, is_current=True)
        .select_related("borrower")
        .order_by("test_date", "borrower__legal_name")
    ):
        covenant = covenants[result.covenant_id]
        result.covenant = covenant
        view = _result_view(result, line_item_names=names)
        terms = _terms_for(covenant, result.terms_id)
        view.is_ratio = bool(terms and terms.is_ratio)
        views.append(view)
    views.sort(key=lambda v: (v.result.covenant.section, v.result.test_date, v.borrower_name))
    return agreement, views


@dataclass
class CertificateItem:
    """One covenant on a compliance certificate: its terms, its computation, its outcome."""

    covenant: Covenant
    terms: CovenantTerms | None
    view: ResultView
    amount_as_printed: str


def certificate_items(user: User, agreement: Agreement, test_date: dt.date) -> list[CertificateItem]:
    """The covenants tested on a date, with what the certificate prints of each. The caller has
    checked that the user may certify (submittable_agreement)."""
    agreement = agreement_visible_to(user, agreement.pk)
    covenants = {c.pk: c for c in selectors.covenants_with_terms().filter(agreement=agreement)}
    statements = FinancialStatement.objects.filter(agreement=agreement)
    names = _line_item_names()
    results = list(
        CovenantTestResult.objects.filter(agreement=agreement, is_current=True, test_date=test_date)
        .exclude(status=ResultStatus.NOT_TESTED)
        .select_related("borrower")
        .order_by("borrower__legal_name")
    )
    ids = {f["statement_id"] for r in results for f in (r.inputs or {}).get("figures", [])}
    sources = {
        pk: (filename, submitted_at)
        for pk, filename, submitted_at in statements.filter(pk__in=ids).values_list(
            "pk", "upload__filename", "submitted_at"
        )
    }
    items = []
    for result in results:
        covenant = covenants[result.covenant_id]
        result.covenant = covenant
        terms = _terms_for(covenant, result.terms_id)
        view = _result_view(result, line_item_names=names, statement_sources=sources)
        view.is_ratio = bool(terms and terms.is_ratio)
        printed = (result.inputs or {}).get("amount_as_printed", "")
        items.append(CertificateItem(covenant, terms, view, printed))
    items.sort(key=lambda item: (item.covenant.section, item.view.borrower_name))
    return items


def certificate_test_dates(user: User, agreement: Agreement) -> list[dt.date]:
    """Test dates with a tested result, newest first: the quarters a certificate can be given for."""
    agreement = agreement_visible_to(user, agreement.pk)
    return sorted(
        set(
            CovenantTestResult.objects.filter(agreement=agreement, is_current=True)
            .exclude(status=ResultStatus.NOT_TESTED)
            .values_list("test_date", flat=True)
        ),
        reverse=True,
    )
