"""Site-wide pages: the home page, which is the portfolio dashboard for Lenders, Agents and
administrators, and for a Borrower's users their agreements with the way to submit figures."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from covenants import page_selectors


class DashboardFilter(forms.Form):
    """Filter the dashboard's table by status and agreement, and sort it by headroom."""

    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "Every status"), *page_selectors.STATUS_LABELS.items()]
    )
    agreement = forms.TypedChoiceField(label="Agreement", required=False, coerce=int, empty_value=None)
    sort = forms.ChoiceField(label="Sort by", required=False, choices=list(page_selectors.SORTS.items()))


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The portfolio dashboard, or a Borrower's home."""
    today = timezone.localdate()
    if not page_selectors.home_is_dashboard(request.user):
        home_page = page_selectors.borrower_home(request.user, today=today)
        return render(request, "portal/borrower_home.html", {"home": home_page, "today": today})

    form = DashboardFilter(request.GET or None)
    # Every visible agreement is a choice; the dashboard itself re-reads them through the access rule.
    status, agreement_id, sort = "", None, ""
    board = page_selectors.dashboard(request.user, today=today)
    form.fields["agreement"].choices = [("", "Every agreement")] + [(a.pk, a.name) for a in board.agreements]
    if form.is_bound and form.is_valid():
        status = form.cleaned_data["status"] or ""
        agreement_id = form.cleaned_data["agreement"]
        sort = form.cleaned_data["sort"] or ""
        board = page_selectors.filtered(board, status=status, agreement_id=agreement_id, sort=sort)
    return render(request, "portal/dashboard.html", {"board": board, "form": form, "today": today})
