"""
Pages of consent requests. The Agent opens a request and follows the live tally; a Lender's
signatory finds it in the consent inbox, reads the document and votes; a Borrower sees the
outcome only. Reads go through the one access rule (``visible``/``may``: a request is seen by
whoever sees its agreement, its tally by the lender side, votes cast by a Lender's own
signatories); writes through :mod:`syndicate.consents`. An agreement's page of votes shows its
voting thresholds, its Defaulting Lenders (the lender side only) and where its open requests
stand; its Agents set thresholds and mark or end Defaulting Lenders there (htmx or plain forms),
through :mod:`syndicate.definitions`.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from compliance.formatting import long_date, percent
from covenants.access import may, visible
from covenants.models import Agreement
from parties.models import Party
from portal.pages.syndicate_forms import (
    ConsentRequestForm,
    DefaultingEndForm,
    DefaultingLenderForm,
    ThresholdForm,
    VoteForm,
    documents_for,
    lenders_of,
)
from syndicate import consents, definitions
from syndicate.choices import RequestStatus
from syndicate.models import ConsentRequest, DefaultingLender, Vote, VotingThreshold
from syndicate.scopes import on_lender_side, signatory_lenders
from syndicate.services import SyndicateRefused
from syndicate.tally import tally_of


def _request_for(request: HttpRequest, pk: int) -> ConsentRequest:
    """A request the user may see (404 for anyone else: an agent of another agreement sees nothing)."""
    rows = visible(request.user, ConsentRequest).select_related("agreement", "document", "opened_by")
    return get_object_or_404(rows, pk=pk)


def _voting_for(request: HttpRequest, consent: ConsentRequest) -> list[Party]:
    return list(Party.objects.filter(pk__in=signatory_lenders(request.user, consent.agreement_id)))


@login_required
def consent_inbox(request: HttpRequest) -> HttpResponse:
    """The requests the user answers for a Lender (open first), and those the user follows."""
    to_answer = list(
        visible(request.user, ConsentRequest, "vote").select_related("agreement").order_by("status", "deadline")
    )
    answered = {
        (vote.request_id, vote.lender_id): vote
        for vote in Vote.objects.filter(request__in=[r.pk for r in to_answer]).select_related("lender")
    }
    rows = []
    for consent in to_answer:
        lenders = _voting_for(request, consent)
        rows.append(
            {"request": consent, "lenders": [(party, answered.get((consent.pk, party.pk))) for party in lenders]}
        )
    following = (
        visible(request.user, ConsentRequest).exclude(pk__in=[r.pk for r in to_answer]).select_related("agreement")
    )
    administered = visible(request.user, Agreement, "administer").order_by("name")[:100]
    context = {"rows": rows, "following": following[:100], "administered": administered}
    return render(request, "syndicate/inbox.html", context)


def _detail_context(request: HttpRequest, consent: ConsentRequest, form: VoteForm | None = None) -> dict:
    sees_tally = may(request.user, "tally", consent)
    lenders = _voting_for(request, consent) if consent.is_open else []
    own_votes = list(Vote.objects.filter(request=consent, lender__in=lenders).select_related("lender", "cast_by"))
    if form is None and lenders:
        form = VoteForm(lenders=[(p.pk, p.legal_name) for p in lenders])
    return {
        "consent": consent,
        "tally": tally_of(consent) if sees_tally else None,
        "sees_tally": sees_tally,
        "may_close": consent.is_open and may(request.user, "change", consent),
        "form": form,
        "own_votes": own_votes,
    }


@login_required
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The request: the Agent's and Lenders' live tally, a signatory's vote form, a Borrower's outcome."""
    consent = _request_for(request, pk)
    return render(request, "syndicate/request.html", _detail_context(request, consent))


@login_required
def request_tally(request: HttpRequest, pk: int) -> HttpResponse:
    """The live tally alone (htmx polls it); the lender side only."""
    consent = _request_for(request, pk)
    if not may(request.user, "tally", consent):
        raise PermissionDenied("The tally is shown to the Agents and Lenders of the agreement.")
    return render(request, "syndicate/_tally.html", {"consent": consent, "tally": tally_of(consent)})


@login_required
def request_document(request: HttpRequest, pk: int) -> HttpResponse:
    """The amendment or waiver's stored text, as filed."""
    consent = _request_for(request, pk)
    return render(request, "syndicate/document.html", {"consent": consent, "document": consent.document})


@login_required
@require_POST
def request_vote(request: HttpRequest, pk: int) -> HttpResponse:
    """Cast or change a Lender's vote (a signatory, for its own Lender only)."""
    consent = _request_for(request, pk)
    lenders = _voting_for(request, consent)
    if not lenders:
        raise PermissionDenied("Only an authorised signatory of a Lender of this agreement may vote.")
    form = VoteForm(request.POST, lenders=[(p.pk, p.legal_name) for p in lenders])
    if form.is_valid():
        try:
            consents.vote_cast(
                request_id=consent.pk,
                lender_id=form.cleaned_data["lender"],
                answer=form.cleaned_data["answer"],
                condition=form.cleaned_data["condition"],
                cast_by=request.user,
            )
        except SyndicateRefused as refusal:
            form.add_error(None, str(refusal))
        else:
            messages.success(request, "Your Lender's vote is recorded; you may change it until the request closes.")
            return redirect("syndicate:request", pk=consent.pk)
    return render(request, "syndicate/request.html", _detail_context(request, consent, form), status=400)


@login_required
@require_POST
def request_close(request: HttpRequest, pk: int) -> HttpResponse:
    """The Agent closes the request; its outcome is the tally's at that moment."""
    consent = _request_for(request, pk)
    if not may(request.user, "change", consent):
        raise PermissionDenied("Only the Agents of this agreement and administrators may close a consent request.")
    try:
        consents.consent_request_close(request_id=consent.pk, closed_by=request.user)
    except SyndicateRefused as refusal:
        messages.error(request, str(refusal))
    return redirect("syndicate:request", pk=consent.pk)


@login_required
@require_http_methods(["GET", "POST"])
def request_open(request: HttpRequest, pk: int) -> HttpResponse:
    """The Agent opens a consent request on a document stored for the agreement."""
    agreement = get_object_or_404(visible(request.user, Agreement), pk=pk)
    if not may(request.user, "administer", agreement):
        raise PermissionDenied("Only the Agents of this agreement and administrators may open a consent request.")
    form = ConsentRequestForm(request.POST or None, documents=documents_for(agreement), lenders=lenders_of(agreement))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            consent = consents.consent_request_open(
                agreement_id=agreement.pk, document_id=data["document"].pk, title=data["title"], kind=data["kind"],
                vote_needed=data["vote_needed"], deadline=data["deadline"], record_date=data["record_date"],
                consent_fee=data["consent_fee"], consent_fee_terms=data["consent_fee_terms"], opened_by=request.user,
                affected_lender_ids=[party.pk for party in data["affected_lenders"]],
            )  # fmt: skip
        except SyndicateRefused as refusal:
            form.add_error(None, str(refusal))
        else:
            messages.success(request, "The consent request is open; the Lenders are alerted.")
            return redirect("syndicate:request", pk=consent.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "syndicate/open.html", {"agreement": agreement, "form": form}, status=status)


# --- An agreement's votes: its thresholds and Defaulting Lenders ---------------------------


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _agreement_for(request: HttpRequest, pk: int) -> Agreement:
    """An agreement the user sees (404 for anyone else: an agent of another agreement sees nothing)."""
    return get_object_or_404(visible(request.user, Agreement), pk=pk)


def _definitions_context(request: HttpRequest, agreement: Agreement, **forms: object) -> dict:
    """What the agreement's syndicate page shows this user: the thresholds (whoever sees the
    agreement), the Defaulting Lenders (the lender side: the scope leaves Borrowers none), the
    open requests with their tally as it now stands (the lender side), and, for its Agents and
    administrators, the forms that change them."""
    administers = may(request.user, "administer", agreement)
    lenders = lenders_of(agreement)
    thresholds = visible(request.user, VotingThreshold).filter(agreement=agreement).select_related("set_by")
    defaulting = visible(request.user, DefaultingLender).filter(agreement=agreement).select_related("lender")
    requests = visible(request.user, ConsentRequest, "tally").filter(agreement=agreement, status=RequestStatus.OPEN)
    context = {
        "agreement": agreement,
        "thresholds": list(thresholds.order_by("vote")),
        "sees_defaulting": on_lender_side(request.user, agreement),
        "defaulting": list(defaulting.order_by("-from_date", "lender__legal_name")),
        "tallies": [(consent, tally_of(consent)) for consent in requests.order_by("deadline")],
        "administers": administers,
        "threshold_form": None,
        "defaulting_form": None,
        "end_errors": {},
    }
    if administers:
        context["threshold_form"] = forms.get("threshold_form") or ThresholdForm()
        context["defaulting_form"] = forms.get("defaulting_form") or DefaultingLenderForm(lenders=lenders)
    return context


def _definitions_answer(
    request: HttpRequest, agreement: Agreement, *, done: str | None, **forms: object
) -> HttpResponse:
    """After a change: with htmx, the section as it now stands (and the form with its errors, as a
    200, since htmx swaps only successful answers); without, back to the page, or the page with
    the form's errors as a 400."""
    if done is not None and not _is_htmx(request):
        messages.success(request, done)
        return redirect("syndicate:agreement", pk=agreement.pk)
    context = _definitions_context(request, agreement, **forms) | {"done": done}
    if _is_htmx(request):
        return render(request, "syndicate/_definitions.html", context)
    return render(request, "syndicate/agreement.html", context, status=400)


def _administered(request: HttpRequest, agreement: Agreement) -> None:
    if not may(request.user, "administer", agreement):
        raise PermissionDenied("Only the Agents of this agreement and administrators may change how its votes count.")


@login_required
def agreement_syndicate(request: HttpRequest, pk: int) -> HttpResponse:
    """An agreement's votes: thresholds, Defaulting Lenders and where its open requests stand."""
    agreement = _agreement_for(request, pk)
    return render(request, "syndicate/agreement.html", _definitions_context(request, agreement) | {"done": None})


@login_required
@require_POST
def threshold_set(request: HttpRequest, pk: int) -> HttpResponse:
    """Set how the agreement defines a vote; the open requests are counted again."""
    agreement = _agreement_for(request, pk)
    _administered(request, agreement)
    form = ThresholdForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            threshold = definitions.threshold_set(
                agreement_id=agreement.pk, vote=data["vote"], basis=data["basis"], percent=data["percent"],
                more_than=data["more_than"], as_printed=data["as_printed"], set_by=request.user,
            )  # fmt: skip
        except SyndicateRefused as refusal:
            form.add_error(refusal.field if refusal.field in form.fields else None, str(refusal))
        else:
            shown = percent(threshold.percent) if threshold.percent is not None else "unknown"
            done = f"{threshold.get_vote_display()}: {shown}. The open requests are counted again."
            return _definitions_answer(request, agreement, done=done)
    return _definitions_answer(request, agreement, done=None, threshold_form=form)


@login_required
@require_POST
def defaulting_mark(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark a Lender a Defaulting Lender; the open requests are counted again."""
    agreement = _agreement_for(request, pk)
    _administered(request, agreement)
    form = DefaultingLenderForm(request.POST, lenders=lenders_of(agreement))
    if form.is_valid():
        data = form.cleaned_data
        try:
            row = definitions.defaulting_lender_record(
                agreement_id=agreement.pk, lender_id=data["lender"].pk, from_date=data["from_date"],
                to_date=data["to_date"], reason=data["reason"], recorded_by=request.user,
            )  # fmt: skip
        except SyndicateRefused as refusal:
            form.add_error(refusal.field if refusal.field in form.fields else None, str(refusal))
        else:
            since = long_date(row.from_date)
            # A message waits in the browser until a page shows it, whoever is signed in then: no party named.
            done = f"Marked a Defaulting Lender from {since}: its commitment counts on neither side."
            return _definitions_answer(request, agreement, done=done)
    return _definitions_answer(request, agreement, done=None, defaulting_form=form)


@login_required
@require_POST
def defaulting_end(request: HttpRequest, pk: int) -> HttpResponse:
    """End a Defaulting Lender's period (it cured); the open requests are counted again."""
    row = get_object_or_404(visible(request.user, DefaultingLender).select_related("agreement", "lender"), pk=pk)
    agreement = row.agreement
    _administered(request, agreement)
    form = DefaultingEndForm(request.POST)
    if form.is_valid():
        try:
            definitions.defaulting_lender_end(
                defaulting_id=row.pk, to_date=form.cleaned_data["to_date"], ended_by=request.user
            )
        except SyndicateRefused as refusal:
            form.add_error(None, str(refusal))
        else:
            last = long_date(form.cleaned_data["to_date"])
            done = f"The Defaulting Lender's period is ended: its last day was {last}."
            return _definitions_answer(request, agreement, done=done)
    if not _is_htmx(request):
        for text in [e for errors in form.errors.values() for e in errors]:
            messages.error(request, text)
        return redirect("syndicate:agreement", pk=agreement.pk)
    context = _definitions_context(request, agreement) | {"done": None, "end_errors": {row.pk: form.errors}}
    return render(request, "syndicate/_definitions.html", context)
