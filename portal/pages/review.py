"""
The review queue of an agreement's imported texts, for its Agents and administrators (404 for
anyone else): open a review from a filing (uploaded or pasted), decide each proposed item or a
whole section (accept, edit, reject), and apply what is accepted. Nothing becomes a party, a
covenant or terms until the review is applied.

Every action is a plain form post that redirects back to the review, so the pages work without
script; with htmx, a decision swaps in the item or section it changed. Views stay thin: reads
through :mod:`portal.pages.selectors.review`, writes through :mod:`documents.review` and
:mod:`documents.services`.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from documents import review as reviews
from documents.importer import DocumentRefused
from documents.services import document_store
from portal.pages.review_forms import DecisionForm, EditItemForm, OpenReviewForm
from portal.pages.selectors import review as review_selectors
from portal.pages.selectors.review import ItemView


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _review_url(pk: int, review_pk: int, anchor: str = "") -> str:
    return reverse("covenants:review_detail", args=[pk, review_pk]) + (f"#{anchor}" if anchor else "")


def _problems(exc: ValidationError) -> str:
    return " ".join(exc.messages)


@login_required
@require_http_methods(["GET", "POST"])
def review_list(request: HttpRequest, pk: int) -> HttpResponse:
    """The agreement's reviews, and a filing to open a new one with (stored once, then read)."""
    agreement = review_selectors.review_agreement(request.user, pk)
    form = OpenReviewForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        content, filename, media_type = form.content()
        try:
            stored = document_store(
                user=request.user, agreement=agreement, content=content, filename=filename, media_type=media_type
            )
            review = reviews.open_review(request.user, stored.document, agreement=agreement)
        except DocumentRefused as exc:
            form.add_error("file" if form.cleaned_data.get("file") else "text", f"The text was refused: {exc}.")
        except ValidationError as exc:
            form.add_error(None, _problems(exc))
        else:
            messages.success(request, f"{stored.document} was read: review what it proposes below.")
            return redirect(_review_url(pk, review.pk))
    status = 400 if request.method == "POST" else 200
    context = {"agreement": agreement, "reviews": review_selectors.agreement_reviews(request.user, agreement)}
    return render(request, "review/list.html", {**context, "form": form}, status=status)


@login_required
@require_GET
def review_detail(request: HttpRequest, pk: int, review_pk: int) -> HttpResponse:
    """The proposal beside the text: each item with its passage, confidence and reason."""
    page = review_selectors.review_page(request.user, pk, review_pk)
    shown = _shown_item(page, request.GET.get("item", ""))
    return render(
        request,
        "review/detail.html",
        {"page": page, "agreement": page.agreement, "shown": shown, "text": _cut(page, shown)},
    )


def _shown_item(page: review_selectors.ReviewPage, raw: str) -> ItemView | None:
    views = [view for section in page.sections for view in section.items]
    if raw.isdigit():
        return next((v for v in views if v.item.pk == int(raw)), None)
    return next((v for v in views if v.span), None)


def _cut(page: review_selectors.ReviewPage, shown: ItemView | None) -> tuple[str, str, str]:
    """The document's text cut around the shown item's passage."""
    text = page.review.document.text
    if shown is None or not shown.span:
        return text, "", ""
    start, end = shown.item.span_start, shown.item.span_end
    return text[:start], text[start:end], text[end:]


@login_required
@require_POST
def item_decide(request: HttpRequest, pk: int, review_pk: int, item_pk: int) -> HttpResponse:
    """Accept, reject, or return an item to pending."""
    _, review = review_selectors.review_of(request.user, pk, review_pk)
    item = review_selectors.item_of(request.user, review, item_pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose accept, reject or pending.")
    else:
        try:
            reviews.decide(request.user, item, form.cleaned_data["decision"], note=form.cleaned_data["note"])
        except ValidationError as exc:
            messages.error(request, _problems(exc))
    return _after_item(request, pk, review_pk, item_pk)


def _after_item(request: HttpRequest, pk: int, review_pk: int, item_pk: int) -> HttpResponse:
    """Back to the item on the review page; with htmx, the item as it now stands, in its place."""
    if not _is_htmx(request):
        return redirect(_review_url(pk, review_pk, f"item-{item_pk}"))
    page = review_selectors.review_page(request.user, pk, review_pk)
    view = next(v for section in page.sections for v in section.items if v.item.pk == item_pk)
    response = render(
        request, "review/_item.html", {"page": page, "agreement": page.agreement, "view": view, "partial": "item"}
    )
    response["HX-Retarget"] = f"#item-{item_pk}"
    response["HX-Reswap"] = "outerHTML"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def item_edit(request: HttpRequest, pk: int, review_pk: int, item_pk: int) -> HttpResponse:
    """An item's value to correct: each field checked as its model checks it."""
    agreement, review = review_selectors.review_of(request.user, pk, review_pk)
    item = review_selectors.item_of(request.user, review, item_pk)
    form = EditItemForm(item, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            reviews.decide(request.user, item, "edited", form.edited_value(), note=form.cleaned_data["note"])
        except ValidationError as exc:
            _name_fields(form, exc)
        else:
            return _after_item(request, pk, review_pk, item_pk)
    template = "review/_edit_form.html" if _is_htmx(request) else "review/edit.html"
    # htmx swaps only successful answers: the form with its messages comes back as one.
    status = 400 if request.method == "POST" and not _is_htmx(request) else 200
    context = {"agreement": agreement, "review": review, "item": item, "form": form}
    return render(request, template, context, status=status)


def _name_fields(form: EditItemForm, exc: ValidationError) -> None:
    """Each problem beside the field it names (as the form's own checks are), else above the form."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, _problems(exc))
        return
    for name, problems in exc.message_dict.items():
        field = f"v_{name}" if f"v_{name}" in form.fields else None
        form.add_error(field, " ".join(f"{name.replace('_', ' ')}: {m}" if field else m for m in problems))


@login_required
@require_POST
def section_decide(request: HttpRequest, pk: int, review_pk: int, section: str) -> HttpResponse:
    """Accept or reject (or return to pending) every item of a section."""
    _, review = review_selectors.review_of(request.user, pk, review_pk)
    form = DecisionForm(request.POST)
    if form.is_valid():
        try:
            count = reviews.decide_section(request.user, review, section, form.cleaned_data["decision"])
            messages.success(request, f"{count} item{'s' if count != 1 else ''} of the section decided.")
        except ValidationError as exc:
            messages.error(request, _problems(exc))
    else:
        messages.error(request, "Choose accept, reject or pending.")
    page = review_selectors.review_page(request.user, pk, review_pk) if _is_htmx(request) else None
    shown = next((s for s in page.sections if s.key == section), None) if page else None
    if page is None or shown is None:
        return redirect(_review_url(pk, review_pk, f"section-{section}"))
    return render(
        request,
        "review/_section.html",
        {"page": page, "agreement": page.agreement, "section": shown, "partial": "section"},
    )


@login_required
@require_POST
def review_apply(request: HttpRequest, pk: int, review_pk: int) -> HttpResponse:
    """Write what the review accepts into the portal: all of it, or nothing with the reason."""
    _, review = review_selectors.review_of(request.user, pk, review_pk)
    try:
        applied = reviews.apply_review(request.user, review)
    except ValidationError as exc:
        messages.error(request, f"Nothing was applied: {_problems(exc)}")
        return redirect(_review_url(pk, review_pk, "apply"))
    created = sum(applied.created.values())
    updated = sum(applied.updated.values())
    messages.success(
        request,
        f"Applied: {created} row{'s' if created != 1 else ''} created, {updated} updated, "
        f"{applied.spans} value{'s' if applied.spans != 1 else ''} linked to the text.",
    )
    return redirect(reverse("covenants:agreement_detail", args=[pk]))
