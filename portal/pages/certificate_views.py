"""
Pages of signed compliance certificates: an agreement's certificates with their status and the
late ones (by the late financials rule), one certificate as generated from the results (printable,
with the agreement's exports beside it), the Responsible Officer's signature and the Agent's
review. Reads through the one access rule; writes through :mod:`execution.certificates`.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from covenants.access import may, visible
from covenants.choices import Role
from covenants.models import Agreement
from execution import certificates as services
from execution.certificate_deadlines import late_certificates
from execution.choices import CertificateStatus
from execution.models import ComplianceCertificate
from execution.scopes import authorised_signatories_of
from execution.services import Reauthentication
from portal.login_throttle import client_address
from portal.pages.selectors import certificate as certificate_selectors


class PrepareForm(forms.Form):
    period_end = forms.TypedChoiceField(label="Fiscal quarter ending", coerce=dt.date.fromisoformat)

    def __init__(self, *args: object, periods: list[dt.date], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["period_end"].choices = [(d.isoformat(), d.strftime("%B %-d, %Y")) for d in periods]


class SignCertificateForm(forms.Form):
    content_sha256 = forms.CharField(widget=forms.HiddenInput, max_length=64)
    password = forms.CharField(widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    code = forms.CharField(required=False, max_length=16, help_text="Your authenticator code, if you use one.")


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(choices=[("accept", "Accept"), ("return", "Return with comments")])
    comments = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))


def _is_officer(request: HttpRequest, certificate: ComplianceCertificate) -> bool:
    """A Responsible Officer of one of the agreement's Borrowers (authorised signatory, authority recorded)."""
    borrowers = certificate.agreement.roles.filter(role=Role.BORROWER).values("party_id")
    return authorised_signatories_of(request.user).filter(party_id__in=borrowers).exists()


def _agreement(request: HttpRequest, pk: int) -> Agreement:
    return get_object_or_404(visible(request.user, Agreement), pk=pk)


def _certificate(request: HttpRequest, pk: int) -> ComplianceCertificate:
    rows = visible(request.user, ComplianceCertificate).select_related("agreement", "signed_by", "reviewed_by")
    return get_object_or_404(rows, pk=pk)


@login_required
@require_GET
def certificate_list(request: HttpRequest, pk: int) -> HttpResponse:
    """The agreement's certificates, newest first, the late ones, and the form to prepare one."""
    agreement = _agreement(request, pk)
    rows = visible(request.user, ComplianceCertificate).filter(agreement=agreement)
    may_prepare = may(request.user, "submit", agreement)
    periods = certificate_selectors.certificate_test_dates(request.user, agreement) if may_prepare else []
    late = late_certificates([agreement], as_of=timezone.localdate()).get(agreement.pk, [])
    context = {
        "agreement": agreement,
        "certificates": rows.order_by("-period_end", "-version"),
        "late": late,
        "form": PrepareForm(periods=periods) if may_prepare else None,
    }
    return render(request, "execution/certificates.html", context)


def _refused(request: HttpRequest, error: ValidationError | PermissionDenied) -> None:
    texts = error.messages if isinstance(error, ValidationError) else [str(error)]
    for text in texts:
        messages.error(request, text)


@login_required
@require_POST
def certificate_prepare(request: HttpRequest, pk: int) -> HttpResponse:
    """Prepare the period's certificate from the results as they stand."""
    agreement = _agreement(request, pk)
    if not may(request.user, "submit", agreement):
        raise PermissionDenied("The Borrowers' users, the Agents and administrators prepare certificates.")
    form = PrepareForm(request.POST, periods=certificate_selectors.certificate_test_dates(request.user, agreement))
    if not form.is_valid():
        messages.error(request, "Choose a quarter with tested results.")
        return redirect("execution:certificates", pk=agreement.pk)
    try:
        certificate = services.certificate_prepare(
            user=request.user, agreement=agreement, period_end=form.cleaned_data["period_end"]
        )
    except (ValidationError, PermissionDenied) as error:
        _refused(request, error)
        return redirect("execution:certificates", pk=agreement.pk)
    return redirect("execution:certificate", pk=certificate.pk)


@login_required
@require_GET
def certificate_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The certificate as generated, printable; the officer's signature form; the Agent's review."""
    certificate = _certificate(request, pk)
    signs = _is_officer(request, certificate) and certificate.status == CertificateStatus.PREPARED
    reviews = certificate.status == CertificateStatus.SIGNED and may(request.user, "review", certificate)
    context = {
        "certificate": certificate,
        "agreement": certificate.agreement,
        "sign_form": SignCertificateForm(initial={"content_sha256": certificate.content_sha256}) if signs else None,
        "review_form": ReviewForm() if reviews else None,
    }
    return render(request, "execution/certificate.html", context)


@login_required
@require_POST
def certificate_sign(request: HttpRequest, pk: int) -> HttpResponse:
    """The Responsible Officer signs the certificate they read."""
    certificate = _certificate(request, pk)
    if not _is_officer(request, certificate):
        raise PermissionDenied("Only a Responsible Officer of a Borrower signs the compliance certificate.")
    form = SignCertificateForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.certificate_sign(
                user=request.user,
                certificate=certificate,
                reauthentication=Reauthentication(data["password"], data["code"], client_address(request)),
                content_sha256_read=data["content_sha256"],
            )
        except ValidationError as error:
            _refused(request, error)
        else:
            messages.success(request, "The certificate is signed; the Agent reviews it next.")
    else:
        messages.error(request, "Enter your password to sign.")
    return redirect("execution:certificate", pk=certificate.pk)


@login_required
@require_POST
def certificate_review(request: HttpRequest, pk: int) -> HttpResponse:
    """The Agent accepts the signed certificate or returns it with comments."""
    certificate = _certificate(request, pk)
    if not may(request.user, "review", certificate):
        raise PermissionDenied("The agreement's Agents and administrators review its certificates.")
    form = ReviewForm(request.POST)
    if form.is_valid():
        try:
            services.certificate_review(
                user=request.user,
                certificate=certificate,
                accept=form.cleaned_data["decision"] == "accept",
                comments=form.cleaned_data["comments"],
            )
        except ValidationError as error:
            _refused(request, error)
    else:
        messages.error(request, "Choose to accept or return it.")
    return redirect("execution:certificate", pk=certificate.pk)
