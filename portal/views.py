"""Site-wide pages: the home page, which is the portfolio dashboard for Lenders, Agents and
administrators, and for a Borrower's users their agreements with the way to submit figures."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.forms.utils import flatatt
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import render
from django.templatetags.static import static
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.views.decorators.http import require_GET

from portal.pages import selectors as page_selectors


class ManyOptionsSelect(forms.Select):
    """A select whose options are written in Python rather than through a template each.

    The dashboard's agreement filter lists every agreement of the portfolio, a thousand for a
    large Lender; Django's widget renders each option through its own template, which cost
    more than the rest of the page. The markup is the same as the standard widget's."""

    def render(self, name: str, value: object, attrs: dict | None = None, renderer: object = None) -> SafeString:
        chosen = set(self.format_value(value))
        options = format_html_join(
            "\n  ",
            '<option value="{}"{}>{}</option>',
            ((option, " selected" if str(option) in chosen else "", label) for option, label in self.choices),
        )
        final_attrs = self.build_attrs(self.attrs, attrs)
        return format_html('<select name="{}"{}>\n  {}\n</select>', name, flatatt(final_attrs), options)


class DashboardFilter(forms.Form):
    """Filter the dashboard's table by status and agreement, and sort it by headroom."""

    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "Every status"), *page_selectors.STATUS_LABELS.items()]
    )
    agreement = forms.TypedChoiceField(
        label="Agreement", required=False, coerce=int, empty_value=None, widget=ManyOptionsSelect
    )
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
    # Every visible agreement is a choice, read once for the filter and the dashboard.
    agreements = page_selectors.portfolio_agreements(request.user)
    form.fields["agreement"].choices = [("", "Every agreement")] + [(a.pk, a.name) for a in agreements]
    status, agreement_id, sort = "", None, ""
    if form.is_bound and form.is_valid():
        status = form.cleaned_data["status"] or ""
        agreement_id = form.cleaned_data["agreement"]
        sort = form.cleaned_data["sort"] or ""
    board = page_selectors.portfolio_dashboard(
        request.user,
        today=today,
        agreements=agreements,
        status=status,
        agreement_id=agreement_id,
        sort=sort,
        page=page_selectors.page_number(request.GET.get("page")),
        agreements_page=page_selectors.page_number(request.GET.get("agreements_page")),
        late_page=page_selectors.page_number(request.GET.get("late_page")),
    )
    return render(request, "portal/dashboard.html", {"board": board, "form": form, "today": today})


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on pages that name no icon (a file, a JSON answer): send them
    to the one the pages name. Resolved per request, since the static manifest names the file."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))
