"""Site-wide pages."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .access import agreements_visible_to


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The agreements the user may see."""
    agreements = agreements_visible_to(request.user).order_by("name")
    return render(request, "portal/home.html", {"agreements": agreements})
