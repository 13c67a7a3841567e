"""
Pages of agreements: the agreement page, the borrower's upload journey (template, preview,
confirm, evaluation progress, history), the compliance exports and the certificate.

Views stay thin: reads through :mod:`portal.pages.selectors` (which apply the access rule),
writes through :mod:`covenants.services`. A file is checked and shown before anything is
saved; its bytes wait in the session between the preview and the confirmation, so what is
confirmed is exactly what was previewed.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from covenants.models import Agreement
from covenants.period_checks import PERIOD_NOUNS
from portal.pages import exports
from portal.pages import selectors as page_selectors
from portal.pages.selectors import documents as document_selectors
from portal.pages.selectors import execution as execution_selectors
from statements import services as statement_services
from statements.file_size import file_too_large, size_text
from statements.limits import page_upload_max_bytes
from statements.preview import preview_table
from statements.templates import build_template
from statements.types import ParsedUpload, UploadContext
from statements.validation import period_end_problem

#: The session holds at most one file per agreement between preview and confirmation (of at
#: most statements.limits.page_upload_max_bytes()).
PREVIEW_SESSION_KEY = "statement_previews"
#: The evaluation's progress is polled once a second for at most this many times.
MAX_PROGRESS_POLLS = 180


def _today() -> dt.date:
    return timezone.localdate()


# --- The agreement page ----------------------------------------------------------------------------


@login_required
@require_GET
def agreement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Parties in their roles, the amendment chain, each covenant's terms, results and charts."""
    page = page_selectors.agreement_page(request.user, pk, today=_today())
    documents = document_selectors.agreement_documents(request.user, page.agreement)
    sources = document_selectors.agreement_sources(request.user, page.agreement, documents=documents)
    context = {"page": page, "agreement": page.agreement, "documents": documents, "sources": sources}
    context["may_review"] = document_selectors.may_review(request.user, page.agreement, roles=page.all_roles)
    context["signature_pages"] = execution_selectors.signature_pages_of(
        request.user, page.agreement, has_blocks=page.has_signature_blocks
    )
    return render(request, "covenants/agreement_detail.html", context)


# --- The upload journey ----------------------------------------------------------------------------


def _chosen_quarter(
    request: HttpRequest, agreement: Agreement, options: list[page_selectors.QuarterOption]
) -> dt.date | None:
    """The period asked for (None if it does not end a period the agreement reports for), or the
    first offered."""
    raw = request.GET.get("quarter") or request.POST.get("quarter") or ""
    if not raw:
        return options[0].quarter if options else None
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        return None
    return day if page_selectors.is_reporting_period_end(agreement, day) else None


def _upload_context(request: HttpRequest, agreement: Agreement, **extra: object) -> dict:
    options = page_selectors.quarter_choices(agreement, today=_today())
    quarter = _chosen_quarter(request, agreement, options)
    noun = PERIOD_NOUNS.get(agreement.reporting_frequency, "fiscal quarter")
    if quarter is not None and all(o.quarter != quarter for o in options):
        # A quarter asked for by its address (a link, a bookmark) is offered too, so the list says what
        # the rest of the page does.
        options.append(page_selectors.QuarterOption(quarter, "other", "chosen"))
    groups = [
        (label, [o for o in options if o.group == group])
        for group, label in (
            ("late", "Late or missing"),
            ("next", "Next to report"),
            ("other", f"Other {noun.split()[-1]}s"),
        )
    ]
    return {
        "agreement": agreement,
        "quarter_groups": [(label, items) for label, items in groups if items],
        "period_noun": noun,
        "reporting_word": agreement.get_reporting_frequency_display().lower(),
        "quarter": quarter,
        "quarter_asked": request.GET.get("quarter") or request.POST.get("quarter") or "",
        "uploads": page_selectors.submission_history(request.user, agreement),
        "max_size": size_text(page_upload_max_bytes()),
        "pending": _pending(request, agreement),
        **extra,
    }


def _pending(request: HttpRequest, agreement: Agreement) -> dict | None:
    return request.session.get(PREVIEW_SESSION_KEY, {}).get(str(agreement.pk))


def _hold(request: HttpRequest, agreement: Agreement, *, filename: str, content_type: str, content: bytes) -> str:
    """Keep the previewed file until it is confirmed; returns its SHA-256."""
    digest = hashlib.sha256(content).hexdigest()
    held = dict(request.session.get(PREVIEW_SESSION_KEY, {}))
    held[str(agreement.pk)] = {
        "filename": filename,
        "content_type": content_type,
        "sha256": digest,
        "size": len(content),
        "content": base64.b64encode(content).decode("ascii"),
    }
    request.session[PREVIEW_SESSION_KEY] = held
    return digest


def _release(request: HttpRequest, agreement: Agreement) -> None:
    held = dict(request.session.get(PREVIEW_SESSION_KEY, {}))
    if held.pop(str(agreement.pk), None) is not None:
        request.session[PREVIEW_SESSION_KEY] = held


@login_required
@require_http_methods(["GET", "POST"])
def statement_upload(request: HttpRequest, pk: int) -> HttpResponse:
    """Choose the quarter, download the template, send a file: the file is checked and shown
    row by row, every problem on its row and column; nothing is saved until it is confirmed."""
    agreement = page_selectors.submittable_agreement(request.user, pk)
    if request.method == "GET":
        return render(request, "covenants/statement_upload.html", _upload_context(request, agreement))

    upload = request.FILES.get("file")
    problem = None
    if upload is None:
        problem = "Choose a CSV or XLSX file to upload."
    else:
        problem = file_too_large(upload.name or "The file", upload.size, page_upload_max_bytes())
    if problem:
        messages.error(request, problem)
        return render(request, "covenants/statement_upload.html", _upload_context(request, agreement))

    content = upload.read()
    content_type = upload.content_type or ""
    checked = statement_services.statement_file_preview(
        agreement=agreement, user=request.user, filename=upload.name, content=content, content_type=content_type
    )
    parsed, table = checked.parsed, checked.table
    if parsed.ok:
        digest = _hold(request, agreement, filename=upload.name, content_type=content_type, content=content)
    else:
        _release(request, agreement)
        digest = ""
    statements = _statement_summary(agreement, parsed, checked.context) if parsed.ok else []
    restated = sum(s.effect == "restates" for s in statements)
    unchanged = sum(s.effect == "unchanged" for s in statements)
    context = _upload_context(
        request,
        agreement,
        parsed=parsed,
        table=table,
        sha256=digest,
        statements=statements,
        restated=restated,
        unchanged=unchanged,
    )
    if context["quarter"]:
        context["other_quarters"] = sorted({s.period_end for s in statements} - {context["quarter"]})
    # A refused file is the form shown again with its problems: 200, as Django answers a form with
    # errors (the page is a plain form post, not an htmx swap); 400 made browsers log a failed load.
    return render(request, "covenants/statement_upload.html", context)


def _statement_summary(
    agreement: Agreement, parsed: ParsedUpload, context: UploadContext
) -> list[page_selectors.StatementInFile]:
    """What a confirmed file would record: one statement per Borrower and quarter, new or restating."""
    return page_selectors.statements_in_file(
        agreement,
        parsed.statements(),
        entity_names=context.entity_names,
        line_item_names=context.line_item_names,
    )


@login_required
@require_POST
def statement_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """Record the previewed file (or discard it). The bytes recorded are those previewed."""
    agreement = page_selectors.submittable_agreement(request.user, pk)
    upload_url = reverse("covenants:statement_upload", args=[agreement.pk])
    pending = _pending(request, agreement)
    if request.POST.get("action") == "discard":
        _release(request, agreement)
        messages.info(request, "The file was discarded; nothing was saved.")
        return redirect(upload_url)
    if pending is None:
        messages.error(request, "There is no checked file waiting to be confirmed; upload the file again.")
        return redirect(upload_url)
    content = base64.b64decode(pending["content"])
    if request.POST.get("sha256") != pending["sha256"] or hashlib.sha256(content).hexdigest() != pending["sha256"]:
        messages.error(
            request,
            "The file you confirmed is not the one last checked for this agreement (another was checked since); "
            "check the file again and confirm it.",
        )
        return redirect(upload_url)
    outcome = statement_services.statement_file_submit(
        agreement=agreement,
        user=request.user,
        filename=pending["filename"],
        content=content,
        content_type=pending["content_type"],
        source="page",
        keep_cells=True,
    )
    _release(request, agreement)
    if not outcome.ok:
        # Something changed since the preview (the user's parties, say): the same page, the new errors.
        table = preview_table(parsed=outcome.parsed)
        context = _upload_context(request, agreement, parsed=outcome.parsed, table=table, sha256="", statements=[])
        return render(request, "covenants/statement_upload.html", context)
    return redirect("covenants:submission_detail", pk=agreement.pk, upload_pk=outcome.upload.pk)


@login_required
@require_GET
def submission_detail(request: HttpRequest, pk: int, upload_pk: int) -> HttpResponse:
    """A confirmed file: what it recorded, then (through htmx) the evaluation's progress and outcome."""
    agreement = page_selectors.submittable_agreement(request.user, pk)
    sub = page_selectors.submission(request.user, agreement, upload_pk)
    return render(request, "covenants/submission_detail.html", {"agreement": agreement, "submission": sub})


@login_required
@require_GET
def submission_progress(request: HttpRequest, pk: int, upload_pk: int) -> HttpResponse:
    """The evaluation's progress: a fragment polled by htmx until the results are in, or the
    same as a page for a browser without scripts."""
    agreement = page_selectors.submittable_agreement(request.user, pk)
    sub = page_selectors.submission(request.user, agreement, upload_pk)
    try:
        attempt = max(0, int(request.GET.get("attempt", "0")))
    except ValueError:
        attempt = 0
    # Polling stops after a few minutes: a stuck evaluation is picked up by the sweep, and the
    # results then appear on the agreement page; the browser need not ask forever.
    context = {
        "agreement": agreement,
        "submission": sub,
        "next_attempt": attempt + 1,
        "gave_up": attempt >= MAX_PROGRESS_POLLS,
    }
    if request.headers.get("HX-Request") == "true":
        return render(request, "covenants/_evaluation.html", context)
    return render(request, "covenants/submission_progress.html", context)


@login_required
@require_GET
def statement_template(request: HttpRequest, pk: int) -> HttpResponse:
    """The agreement's statement template for a quarter, prefilled with its Borrowers and line items."""
    agreement = page_selectors.submittable_agreement(request.user, pk)
    fmt = request.GET.get("format", "csv")
    if fmt not in ("csv", "xlsx"):
        return HttpResponse("format must be csv or xlsx.", status=400, content_type="text/plain")
    try:
        period_end = dt.date.fromisoformat(request.GET.get("period_end", ""))
    except ValueError:
        return HttpResponse("period_end must be a date such as 2000-03-31.", status=400, content_type="text/plain")
    upload_context = statement_services.upload_context_for(agreement)
    problem = period_end_problem(upload_context, period_end)
    if problem:
        return HttpResponse(f"{problem}.", status=400, content_type="text/plain")
    borrowers = page_selectors.submittable_borrowers(request.user, agreement)
    content = build_template(context=upload_context, borrowers=borrowers, period_end=period_end, fmt=fmt)
    content_type = (
        "text/csv; charset=utf-8"
        if fmt == "csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response = HttpResponse(content, content_type=content_type)
    filename = f"statement-template-{agreement.pk}-{period_end.isoformat()}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- Exports and the certificate ---------------------------------------------------------------------

_CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@login_required
@require_GET
def compliance_export(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    """The agreement's compliance table (every current result) as CSV or XLSX."""
    agreement, views = page_selectors.compliance_results(request.user, pk)
    rows = exports.compliance_rows(agreement.name, views)
    content = exports.compliance_csv(rows) if fmt == "csv" else exports.compliance_xlsx(rows)
    response = HttpResponse(content, content_type=_CONTENT_TYPES[fmt])
    filename = f"compliance-{slugify(agreement.name)[:60]}-{_today().isoformat()}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class CertificateForm(forms.Form):
    """The quarter certified and the officer who certifies it, as they sign."""

    test_date = forms.TypedChoiceField(
        label="Fiscal quarter ending", coerce=dt.date.fromisoformat, error_messages={"required": "Choose the quarter."}
    )
    officer_name = forms.CharField(
        label="Certifying officer's name",
        max_length=200,
        error_messages={"required": "Enter the name of the officer who certifies."},
    )
    officer_title = forms.CharField(
        label="Officer's title",
        max_length=200,
        help_text="As the officer signs, e.g. Chief Financial Officer.",
        error_messages={"required": "Enter the officer's title, e.g. Chief Financial Officer."},
    )

    def __init__(self, *args: object, test_dates: list[dt.date], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["test_date"].choices = [(d.isoformat(), d.strftime("%B %-d, %Y")) for d in test_dates]


@login_required
@require_GET
def compliance_certificate(request: HttpRequest, pk: int) -> HttpResponse:
    """A printable compliance certificate for one quarter: each covenant's computation and the
    officer who certifies it (as entered on the form)."""
    agreement = page_selectors.submittable_agreement(request.user, pk)
    test_dates = page_selectors.certificate_test_dates(request.user, agreement)
    user = request.user
    initial = {"officer_name": user.get_full_name() or user.get_username()}
    bound = any(name in request.GET for name in ("test_date", "officer_name", "officer_title"))
    form = CertificateForm(request.GET if bound else None, initial=initial, test_dates=test_dates)
    certificate = None
    if bound and form.is_valid():
        test_date = form.cleaned_data["test_date"]
        items = page_selectors.certificate_items(user, agreement, test_date)
        certificate = exports.certificate(
            agreement_name=agreement.name,
            agreement_title=agreement.title,
            test_date=test_date,
            items=items,
            officer_name=form.cleaned_data["officer_name"],
            officer_title=form.cleaned_data["officer_title"],
            certified_on=_today(),
            prepared_by=user.get_full_name() or user.get_username(),
        )
    status = 400 if bound and not form.is_valid() else 200
    context = {"agreement": agreement, "form": form, "certificate": certificate}
    return render(request, "covenants/certificate.html", context, status=status)
