"""
Compliance certificates: generated from the evaluated results of a reporting period, signed by
a Responsible Officer of a Borrower (password again, second factor where set up, bound to the
SHA-256 of the content), accepted or returned by the Agent; superseded when the results change
after it was prepared (``events_recorded``, which every evaluation sends: no upward import).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from compliance.choices import ResultStatus
from compliance.formatting import figure, headroom, long_date
from compliance.models import CovenantTestResult
from compliance.statuses import shown_status, status_label
from covenants.access import may
from covenants.choices import Role
from covenants.models import Agreement
from execution.choices import CertificateStatus
from execution.models import ComplianceCertificate
from execution.scopes import authorised_signatories_of
from execution.services import Reauthentication, second_factor_checked

__all__ = [
    "STANDING",
    "certificate_content",
    "certificate_prepare",
    "certificate_review",
    "certificate_sign",
    "certificates_supersede_changed",
]

#: Statuses of a certificate that stands for its period (one at a time).
STANDING = (CertificateStatus.PREPARED, CertificateStatus.SIGNED, CertificateStatus.ACCEPTED)


def _entry(result: CovenantTestResult) -> dict[str, Any]:
    is_ratio = bool(result.terms_id and result.terms.is_ratio)
    shown = shown_status(result.status, result.near_breach)
    return {
        "result": result.pk,
        "section": result.covenant.section,
        "name": result.covenant.name,
        "borrower": result.borrower.legal_name if result.borrower_id else "",
        "value": figure(result.value, is_ratio=is_ratio),
        "threshold": figure(result.threshold, is_ratio=is_ratio),
        "headroom": headroom(result.headroom, is_ratio=is_ratio),
        "status": shown,
        "status_label": status_label(shown),
        "computation": result.explanation,
        "provisional": result.provisional,
    }


def certificate_content(agreement: Agreement, period_end: dt.date) -> dict[str, Any]:
    """What the certificate says for the period: each covenant tested, its computation, value,
    threshold and headroom, and the representation on Defaults, from the current results."""
    results = (
        CovenantTestResult.objects.filter(agreement=agreement, is_current=True, test_date=period_end)
        .exclude(status=ResultStatus.NOT_TESTED)
        .select_related("covenant", "borrower", "terms", "terms__metric")
        .order_by("covenant__section", "borrower__legal_name", "pk")
    )
    entries = [_entry(result) for result in results]
    breaches = [e for e in entries if e["status"] == ResultStatus.BREACH]
    if breaches:
        listed = "; ".join(f"Section {e['section']} ({e['name']}): {e['computation']}" for e in breaches)
        representation = f"The following Event of Default has occurred and is continuing: {listed}"
    else:
        representation = f"No Default or Event of Default has occurred and is continuing as of {long_date(period_end)}."
    undecided = [f"Section {e['section']} ({e['name']})" for e in entries if e["status"] == ResultStatus.INCOMPLETE]
    if undecided:
        # An officer cannot represent compliance the figures do not show: the representation says
        # which tests it does not cover, as the printed certificate does.
        representation += f" Compliance with {', '.join(undecided)} cannot be certified: figures are missing."
    return {
        "agreement": agreement.name,
        "title": agreement.title,
        "period_end": period_end.isoformat(),
        "entries": entries,
        "representation": representation,
        "undecided": undecided,
    }


def content_sha256(content: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


@transaction.atomic
def certificate_prepare(*, user: AbstractBaseUser, agreement: Agreement, period_end: dt.date) -> ComplianceCertificate:
    """The period's certificate as the results stand: the one prepared already if they have not
    changed, else a new version; refused while a signed one stands."""
    if not may(user, "submit", agreement):
        raise PermissionDenied("The Borrowers' users, the Agents and administrators prepare compliance certificates.")
    Agreement.objects.select_for_update().get(pk=agreement.pk)
    content = certificate_content(agreement, period_end)
    if not content["entries"]:
        raise ValidationError({"period_end": [f"No covenant is tested for {long_date(period_end)} yet."]})
    standing = ComplianceCertificate.objects.filter(
        agreement=agreement, period_end=period_end, status__in=STANDING
    ).first()
    sha = content_sha256(content)
    if standing is not None:
        if standing.status != CertificateStatus.PREPARED:
            raise ValidationError({"period_end": [f"The certificate for {long_date(period_end)} is signed already."]})
        if standing.content_sha256 == sha:
            return standing
        _supersede(standing, "The results changed before it was signed.")
    versions = ComplianceCertificate.objects.filter(agreement=agreement, period_end=period_end).count()
    return ComplianceCertificate.objects.create(
        agreement=agreement, period_end=period_end, version=versions + 1, content=content, content_sha256=sha,
        prepared_by=user,
    )  # fmt: skip


def _supersede(certificate: ComplianceCertificate, reason: str) -> None:
    certificate.status = CertificateStatus.SUPERSEDED
    certificate.superseded_at = timezone.now()
    certificate.superseded_reason = reason[:500]
    certificate.save(update_fields=["status", "superseded_at", "superseded_reason"])


def _officer(user: AbstractBaseUser, certificate: ComplianceCertificate) -> Any:
    """The user's authorised signatory record for a Borrower of the agreement: a Responsible Officer."""
    borrowers = certificate.agreement.roles.filter(role=Role.BORROWER).values("party_id")
    record = authorised_signatories_of(user).filter(party_id__in=borrowers).select_related("person", "party").first()
    if record is None:
        raise PermissionDenied(
            "Only a Responsible Officer of a Borrower (an authorised signatory with the authority recorded) signs."
        )
    return record


@transaction.atomic
def certificate_sign(
    *,
    user: AbstractBaseUser,
    certificate: ComplianceCertificate,
    reauthentication: Reauthentication,
    content_sha256_read: str,
) -> ComplianceCertificate:
    """The Responsible Officer signs the certificate they read (its SHA-256), as it still stands."""
    officer = _officer(user, certificate)
    second_factor = second_factor_checked(user, reauthentication)
    certificate = ComplianceCertificate.objects.select_for_update().get(pk=certificate.pk)
    if certificate.status != CertificateStatus.PREPARED:
        raise ValidationError({"certificate": [f"This certificate is {certificate.get_status_display().lower()}."]})
    if (content_sha256_read or "").strip().lower() != certificate.content_sha256:
        raise ValidationError({"content_sha256": ["The certificate you read is not the one on file; read it again."]})
    if content_sha256(certificate_content(certificate.agreement, certificate.period_end)) != certificate.content_sha256:
        _supersede(certificate, "The results changed before it was signed.")
        raise ValidationError({"certificate": ["The results changed since it was prepared: prepare it again."]})
    certificate.status = CertificateStatus.SIGNED
    certificate.officer_party = officer.party
    certificate.signed_by = user
    certificate.signatory_name = officer.person.full_name if officer.person_id else user.get_full_name()
    certificate.signatory_title = officer.title
    certificate.authority = officer.authority
    certificate.signed_at = timezone.now()
    certificate.ip_address = reauthentication.ip_address
    certificate.second_factor = second_factor
    certificate.save()
    return certificate


@transaction.atomic
def certificate_review(
    *, user: AbstractBaseUser, certificate: ComplianceCertificate, accept: bool, comments: str = ""
) -> ComplianceCertificate:
    """The Agent accepts the signed certificate, or returns it with comments (a new one is then prepared)."""
    if not may(user, "administer", certificate.agreement):
        raise PermissionDenied("The agreement's Agents and administrators review its compliance certificates.")
    certificate = ComplianceCertificate.objects.select_for_update().get(pk=certificate.pk)
    if certificate.status != CertificateStatus.SIGNED:
        raise ValidationError({"certificate": ["Only a signed certificate is accepted or returned."]})
    if not accept and not (comments or "").strip():
        raise ValidationError({"comments": ["Say why the certificate is returned."]})
    certificate.status = CertificateStatus.ACCEPTED if accept else CertificateStatus.RETURNED
    certificate.reviewed_by = user
    certificate.reviewed_at = timezone.now()
    certificate.review_comments = (comments or "").strip()
    certificate.save()
    return certificate


def certificates_supersede_changed(sender: object = None, **kwargs: object) -> list[ComplianceCertificate]:
    """The receiver of ``compliance.signals.events_recorded``: every standing certificate whose
    period has a result written after it was prepared is compared with the results as they now
    stand, and superseded if they differ (restated figures). One query when nothing changed."""
    changed = CovenantTestResult.objects.filter(
        agreement_id=OuterRef("agreement_id"),
        test_date=OuterRef("period_end"),
        evaluated_at__gt=OuterRef("prepared_at"),
    )
    superseded = []
    for certificate in ComplianceCertificate.objects.filter(status__in=STANDING).filter(Exists(changed)):
        content = certificate_content(certificate.agreement, certificate.period_end)
        if content_sha256(content) != certificate.content_sha256:
            _supersede(certificate, "Restated figures changed the results it certifies; a new one is required.")
            superseded.append(certificate)
    return superseded
