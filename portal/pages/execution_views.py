"""
Pages of execution by counterparts: an amendment's signature blocks with who has executed
each, its conditions precedent as evaluated (what is still missing, where the Requisite vote
stands, what an administrator recorded satisfied by other means), and the forms to sign, upload
a counterpart, revoke and record; the same blocks table, without conditions, on the page of a
reaffirmation of guaranty and of the agreement itself. Reads through the one access rule (an
agent of another agreement gets a 404); writes through :mod:`execution.services`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from covenants.access import may, visible
from covenants.models import Agreement, Amendment, ConditionPrecedent, Reaffirmation
from execution import services
from execution.evidence import COUNTERPART_MAX_BYTES
from execution.models import Execution
from parties.models import Party, SignatureBlock
from portal.login_throttle import client_address
from portal.pages.execution_forms import CounterpartForm, RecordForm, RevokeForm, SignForm
from portal.pages.selectors import execution as selectors


def _parties(amendment: Amendment) -> list[tuple[int, str]]:
    rows = Party.objects.filter(agreement_roles__agreement_id=amendment.agreement_id).distinct().order_by("legal_name")
    return list(rows.values_list("pk", "legal_name"))


@login_required
@require_GET
def amendment_execution(request: HttpRequest, pk: int) -> HttpResponse:
    """The amendment's signature pages and conditions precedent, and what the user may do."""
    amendment = selectors.amendment_for(request.user, pk)
    page = selectors.execution_page(request.user, amendment)
    sha = page.version.sha256 if page.version else ""
    context = {
        "page": page,
        "agreement": amendment.agreement,
        "sign_form": SignForm(initial={"document_sha256": sha}),
        "counterpart_form": CounterpartForm(initial={"document_sha256": sha}),
        "revoke_form": RevokeForm(),
        "record_form": RecordForm(parties=_parties(amendment)) if page.may_record else None,
    }
    return render(request, "execution/amendment.html", context)


def _document_execution(request: HttpRequest, document: Agreement | Reaffirmation, title: str) -> HttpResponse:
    """The signature page of a document that is not an amendment: its blocks and the same forms."""
    page = selectors.document_page(request.user, document)
    sha = page.version.sha256 if page.version else ""
    context = {
        "page": page,
        "agreement": page.agreement,
        "title": title,
        "sign_form": SignForm(initial={"document_sha256": sha}),
        "counterpart_form": CounterpartForm(initial={"document_sha256": sha}),
        "revoke_form": RevokeForm(),
    }
    return render(request, "execution/document.html", context)


@login_required
@require_GET
def reaffirmation_execution(request: HttpRequest, pk: int) -> HttpResponse:
    """A reaffirmation of guaranty's signature blocks, for whoever sees its guaranty."""
    reaffirmation = selectors.reaffirmation_for(request.user, pk)
    return _document_execution(request, reaffirmation, selectors.reaffirmation_title(reaffirmation))


@login_required
@require_GET
def agreement_execution(request: HttpRequest, pk: int) -> HttpResponse:
    """The agreement's own signature blocks, for whoever sees the agreement."""
    agreement = selectors.agreement_for(request.user, pk)
    return _document_execution(request, agreement, agreement.title or agreement.name)


def _reauthentication(request: HttpRequest, data: dict) -> services.Reauthentication:
    return services.Reauthentication(
        password=data.get("password", ""), code=data.get("code", ""), ip_address=client_address(request)
    )


def _refused(request: HttpRequest, error: ValidationError | PermissionDenied) -> None:
    if isinstance(error, ValidationError):
        for text in error.messages:
            messages.error(request, text)
    else:
        messages.error(request, str(error) or "You may not do this.")


def _confirmed(
    request: HttpRequest,
    *,
    form: forms.Form,
    act: Callable[[dict[str, Any]], object],
    done: str,
    incomplete: str,
    page: str,
) -> HttpResponse:
    """The one shape of every confirmation on these pages: a valid form calls the service once,
    its refusal (or the form's gap) is said in a message, and the user is back on ``page``, the
    page of the document acted on, where its blocks (and an amendment's conditions) as they now
    stand are shown."""
    if form.is_valid():
        try:
            act(form.cleaned_data)
        except (ValidationError, PermissionDenied) as error:
            _refused(request, error)
        else:
            messages.success(request, done)
    else:
        messages.error(request, incomplete)
    return redirect(page)


def _page_of(block: SignatureBlock) -> str:
    """The page of the block's document, whatever its kind (an amendment, a reaffirmation, the agreement)."""
    return selectors.signature_page_url(block.document)


@login_required
@require_POST
def block_sign(request: HttpRequest, pk: int) -> HttpResponse:
    """Execute a block as its named signatory."""
    block = selectors.block_for(request.user, pk)
    page = _page_of(block)
    if not may(request.user, "execute", block):
        raise PermissionDenied("Only a signatory named on this block signs it.")
    return _confirmed(
        request,
        form=SignForm(request.POST),
        act=lambda data: services.block_execute(
            user=request.user,
            block=block,
            reauthentication=_reauthentication(request, data),
            document_sha256=data["document_sha256"],
        ),
        done=f"You have executed the block of {block.party_name_as_printed}.",
        incomplete="Enter your password to sign.",
        page=page,
    )


@login_required
@require_POST
def counterpart_upload(request: HttpRequest, pk: int) -> HttpResponse:
    """A scanned, signed counterpart stands for the block."""
    block = selectors.block_for(request.user, pk)
    page = _page_of(block)
    if not may(request.user, "upload_counterpart", block):
        raise PermissionDenied("Only the block's signatory or the agreement's Agents upload its counterpart.")
    return _confirmed(
        request,
        form=CounterpartForm(request.POST, request.FILES),
        act=lambda data: services.counterpart_upload(
            user=request.user,
            block=block,
            reauthentication=_reauthentication(request, data),
            document_sha256=data["document_sha256"],
            content=data["counterpart"].read(COUNTERPART_MAX_BYTES + 1),
            filename=data["counterpart"].name,
        ),
        done=f"The counterpart of {block.party_name_as_printed} is on file.",
        incomplete="Choose the scanned page and enter your password.",
        page=page,
    )


@login_required
@require_POST
def execution_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """Revoke a mistaken execution, with the reason."""
    execution = selectors.execution_for(request.user, pk)
    page = _page_of(execution.block)
    if not may(request.user, "revoke", execution):
        raise PermissionDenied("Only the person who signed or the agreement's Agents revoke an execution.")
    return _confirmed(
        request,
        form=RevokeForm(request.POST),
        act=lambda data: services.execution_revoke(
            user=request.user,
            execution=execution,
            reason=data["reason"],
            reauthentication=_reauthentication(request, data),
        ),
        done="The execution is revoked; it stays in the history with the reason.",
        incomplete="Say why, and enter your password.",
        page=page,
    )


@login_required
@require_GET
def counterpart_download(request: HttpRequest, pk: int) -> FileResponse:
    """The scanned counterpart as uploaded, as a download (never shown inline)."""
    execution = get_object_or_404(visible(request.user, Execution, "download"), pk=pk, counterpart__isnull=False)
    response = FileResponse(
        iter([bytes(execution.counterpart)]),
        as_attachment=True,
        filename=execution.counterpart_name or "counterpart",
        content_type=execution.counterpart_media_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_POST
def satisfaction_record(request: HttpRequest, pk: int) -> HttpResponse:
    """An administrator records the condition (or one party's part) satisfied by other means."""
    condition = get_object_or_404(
        visible(request.user, ConditionPrecedent).select_related("amendment__agreement"), pk=pk
    )
    amendment = condition.amendment
    if not may(request.user, "administer", amendment.agreement):
        raise PermissionDenied("Only the agreement's Agents and administrators record a condition satisfied.")
    return _confirmed(
        request,
        form=RecordForm(request.POST, parties=_parties(amendment)),
        act=lambda data: services.satisfaction_record(
            user=request.user,
            condition=condition,
            party=Party.objects.get(pk=data["party"]) if data["party"] else None,
            reason=data["reason"],
            satisfied_on=data["satisfied_on"],
        ),
        done="Recorded, with the reason; it is shown with the condition.",
        incomplete="Say how the condition was satisfied, and on which date.",
        page=selectors.signature_page_url(amendment),
    )
