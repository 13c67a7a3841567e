"""
An agreement's stored texts: one text as stored, with the passage a value was read from marked
and scrolled to (``?span=120-245#passage``).

The text is shown as text, never as markup: a filing stored as HTML is shown as the text it was
converted to, escaped, so nothing a filer wrote can run in a reviewer's browser (the site's
Content-Security-Policy forbids inline script besides).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from portal.pages.selectors import documents as document_selectors


@login_required
@require_GET
def document_detail(request: HttpRequest, pk: int, document_pk: int) -> HttpResponse:
    """A stored text of the agreement, its SHA-256, and the passage asked for highlighted."""
    shown = document_selectors.document_text(request.user, pk, document_pk, span=request.GET.get("span", ""))
    return render(request, "documents/detail.html", {"shown": shown, "agreement": shown.agreement})
