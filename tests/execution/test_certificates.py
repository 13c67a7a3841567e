"""
The Borrowers' compliance certificate for December 31, 1999: generated from the evaluated
results, signed by a Responsible Officer of a Borrower, accepted or returned by the Agent,
superseded when restated figures change the results. Lenders see it once signed.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from compliance.services import agreement_evaluate
from covenants.access import visible
from execution.certificates import certificate_prepare, certificate_review, certificate_sign
from execution.choices import CertificateStatus
from execution.models import ComplianceCertificate
from statements.services import statement_records_submit
from tests.covenants.helpers import combined_rows
from tests.execution.conftest import reauthentication

pytestmark = pytest.mark.django_db

QUARTER = dt.date(1999, 12, 31)


def sign(certificate, user):
    return certificate_sign(
        user=user,
        certificate=certificate,
        reauthentication=reauthentication(),
        content_sha256_read=certificate.content_sha256,
    )


def test_generated_from_the_results_with_the_representation_on_defaults(deal, officer):
    certificate = certificate_prepare(user=officer, agreement=deal.agreement, period_end=QUARTER)
    entries = certificate.content["entries"]
    assert {e["section"] for e in entries} >= {"7.01(b)"}
    revenue = next(e for e in entries if e["section"] == "7.01(b)")
    assert revenue["value"] == "$18,500,000" and revenue["threshold"] == "$18,000,000"
    assert revenue["headroom"] == "$500,000" and revenue["computation"]
    assert certificate.content["representation"].startswith(("No Default", "The following Event of Default"))
    # Asked again with the same results: the same certificate.
    assert certificate_prepare(user=officer, agreement=deal.agreement, period_end=QUARTER) == certificate


def test_only_a_responsible_officer_signs_and_lenders_see_it_once_signed(deal, officer):
    certificate = certificate_prepare(user=officer, agreement=deal.agreement, period_end=QUARTER)
    lender = deal.signer_of(deal.block_of("CANADIAN IMPERIAL BANK OF COMMERCE"))
    assert not visible(lender, ComplianceCertificate).filter(pk=certificate.pk).exists()
    for user in (deal.agent, deal.admin, lender):
        with pytest.raises(PermissionDenied):
            sign(certificate, user)
    with pytest.raises(ValidationError):
        certificate_sign(
            user=officer, certificate=certificate, reauthentication=reauthentication(), content_sha256_read="0" * 64
        )
    signed = sign(certificate, officer)
    assert signed.status == CertificateStatus.SIGNED
    assert (signed.signatory_title, signed.officer_party.legal_name) == ("Chief Financial Officer", "KMC Telecom Inc.")
    assert signed.ip_address == "192.0.2.10" and signed.authority.startswith("Responsible Officer")
    assert visible(lender, ComplianceCertificate).filter(pk=certificate.pk).exists()


def test_the_agent_accepts_or_returns_it_with_comments(deal, officer):
    certificate = sign(certificate_prepare(user=officer, agreement=deal.agreement, period_end=QUARTER), officer)
    with pytest.raises(PermissionDenied):
        certificate_review(user=officer, certificate=certificate, accept=True)
    with pytest.raises(ValidationError):
        certificate_review(user=deal.agent, certificate=certificate, accept=False, comments="")
    returned = certificate_review(user=deal.agent, certificate=certificate, accept=False, comments="Attach Schedule 1.")
    assert returned.status == CertificateStatus.RETURNED and returned.review_comments == "Attach Schedule 1."
    second = certificate_prepare(user=officer, agreement=deal.agreement, period_end=QUARTER)
    assert second.version == 2
    accepted = certificate_review(user=deal.agent, certificate=sign(second, officer), accept=True)
    assert accepted.status == CertificateStatus.ACCEPTED


def test_restated_figures_after_signing_supersede_it(deal, officer):
    certificate = sign(certificate_prepare(user=officer, agreement=deal.agreement, period_end=QUARTER), officer)
    rows = combined_rows(deal.loan, QUARTER, revenues=17_000_000, ebitda=-20_000_000)
    records = [dict(zip(("entity", "period_end", "line_item", "amount"), row, strict=True)) for row in rows]
    outcome = statement_records_submit(agreement=deal.agreement, user=None, records=records, source="command")
    assert outcome.ok, outcome.errors
    agreement_evaluate(agreement_id=deal.agreement.pk, as_of=dt.date(2026, 11, 23))
    certificate.refresh_from_db()
    assert certificate.status == CertificateStatus.SUPERSEDED
    assert "Restated figures" in certificate.superseded_reason
    fresh = certificate_prepare(user=officer, agreement=deal.agreement, period_end=QUARTER)
    assert fresh.version == 2 and "Event of Default" in fresh.content["representation"]


def test_the_representation_names_the_tests_the_figures_do_not_decide(deal, officer):
    """Only December 1999 is delivered: a test whose window reaches an earlier quarter is
    incomplete, and the officer's representation says it does not cover it."""
    certificate = certificate_prepare(user=officer, agreement=deal.agreement, period_end=QUARTER)
    entries = certificate.content["entries"]
    incomplete = [e for e in entries if e["status"] == "incomplete"]
    assert incomplete, [(e["section"], e["status"]) for e in entries]
    representation = certificate.content["representation"]
    undecided = [f"Section {e['section']} ({e['name']})" for e in incomplete]
    assert representation.endswith(f"Compliance with {', '.join(undecided)} cannot be certified: figures are missing.")
    assert certificate.content["undecided"] == undecided
