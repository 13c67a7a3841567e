"""Pages of agreements. Views stay thin: reads through selectors, writes through services."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from portal.access import agreements_visible_to


@login_required
def agreement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """An agreement the user may see; any other answers 404."""
    agreement = get_object_or_404(agreements_visible_to(request.user), pk=pk)
    return render(request, "covenants/agreement_detail.html", {"agreement": agreement})
