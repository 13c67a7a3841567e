"""Pages of agreements. Views stay thin: reads through selectors, writes through services."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from portal.access import agreements_visible_to, borrowers_user_may_submit_for

from . import engine, selectors, services
from .models import Agreement
from .uploads import build_template

MAX_UPLOAD_BYTES_SHOWN = "10 MB"


def _agreement_for(request: HttpRequest, pk: int) -> Agreement:
    """The agreement, if the user may see it; 404 otherwise (its existence is not disclosed)."""
    return get_object_or_404(agreements_visible_to(request.user), pk=pk)


@login_required
def agreement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """An agreement's parties, amendments, covenants and current results."""
    agreement = _agreement_for(request, pk)
    context = {
        "agreement": agreement,
        "roles": agreement.roles.select_related("party").order_by("role", "party__legal_name"),
        "amendments": agreement.amendments.prefetch_related("conditions_precedent").order_by("number"),
        "results": selectors.current_results([agreement.pk]),
        "may_submit": borrowers_user_may_submit_for(request.user, agreement).exists(),
    }
    return render(request, "covenants/agreement_detail.html", context)


def _submittable_agreement(request: HttpRequest, pk: int) -> Agreement:
    agreement = _agreement_for(request, pk)
    if not borrowers_user_may_submit_for(request.user, agreement).exists():
        raise PermissionDenied("Only the Borrowers' users and the Agents may submit financial statements.")
    return agreement


def _quarter_choices(agreement: Agreement, today: dt.date, count: int = 12) -> list[dt.date]:
    """The most recent fiscal quarter ends, newest first."""
    quarters = [engine.previous_quarter_end(today, agreement.fiscal_year_end_month)]
    while len(quarters) < count:
        quarters.append(engine.previous_quarter_end(quarters[-1], agreement.fiscal_year_end_month))
    return quarters


@login_required
@require_http_methods(["GET", "POST"])
def statement_upload(request: HttpRequest, pk: int) -> HttpResponse:
    """Upload a CSV or XLSX statement file; every problem is listed at once, nothing half-saved."""
    agreement = _submittable_agreement(request, pk)
    outcome = None
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, "Choose a CSV or XLSX file to upload.")
        elif upload.size > settings.STATEMENT_UPLOAD_MAX_BYTES:
            messages.error(
                request, f"{upload.name} is larger than the {MAX_UPLOAD_BYTES_SHOWN} a statement file may be."
            )
        else:
            outcome = services.statement_file_submit(
                agreement=agreement,
                user=request.user,
                filename=upload.name,
                content=upload.read(),
                content_type=upload.content_type or "",
                source="page",
            )
            if outcome.ok:
                recorded = len(outcome.statements)
                restated = len(outcome.restatements)
                unchanged = len(outcome.unchanged)
                messages.success(
                    request,
                    f"{upload.name} accepted: {recorded} statement(s) recorded"
                    + (f", of which {restated} restatement(s)" if restated else "")
                    + (f"; {unchanged} unchanged" if unchanged else "")
                    + ". The covenants are being re-evaluated.",
                )
                return redirect("covenants:agreement_detail", pk=agreement.pk)
    quarters = _quarter_choices(agreement, dt.date.today())
    # Seed-era agreements: offer the quarters of their covenant schedules too.
    schedule_dates = sorted(
        {
            row.test_date
            for c in selectors.covenants_with_terms().filter(agreement=agreement)
            for t in c.terms.all()
            for row in t.schedule.all()
        },
        reverse=True,
    )
    context = {
        "agreement": agreement,
        "outcome": outcome,
        "quarters": sorted(set(quarters) | set(schedule_dates), reverse=True),
        "uploads": agreement.uploads.select_related("uploaded_by").prefetch_related("statements__borrower")[:50],
        "max_size": MAX_UPLOAD_BYTES_SHOWN,
    }
    return render(request, "covenants/statement_upload.html", context, status=400 if outcome else 200)


@login_required
def statement_template(request: HttpRequest, pk: int) -> HttpResponse:
    """The agreement's statement template for a quarter, prefilled with its Borrowers and line items."""
    agreement = _submittable_agreement(request, pk)
    fmt = request.GET.get("format", "csv")
    if fmt not in ("csv", "xlsx"):
        return HttpResponse("format must be csv or xlsx.", status=400, content_type="text/plain")
    try:
        period_end = dt.date.fromisoformat(request.GET.get("period_end", ""))
    except ValueError:
        return HttpResponse("period_end must be a date such as 2000-03-31.", status=400, content_type="text/plain")
    if not engine.is_fiscal_quarter_end(period_end, agreement.fiscal_year_end_month):
        return HttpResponse(
            f"{period_end} is not the last day of a fiscal quarter.", status=400, content_type="text/plain"
        )
    borrowers = [
        (p.pk, p.legal_name) for p in borrowers_user_may_submit_for(request.user, agreement).order_by("legal_name")
    ]
    content = build_template(
        context=services.upload_context_for(agreement), borrowers=borrowers, period_end=period_end, fmt=fmt
    )
    content_type = (
        "text/csv; charset=utf-8"
        if fmt == "csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response = HttpResponse(content, content_type=content_type)
    filename = f"statement-template-{agreement.pk}-{period_end.isoformat()}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
