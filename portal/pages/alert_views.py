"""
Pages of alerts: the inbox, an alert, notification preferences, a party's webhook
subscriptions, and the waiver form for Agents. Views stay thin: reads through the
functions in ``alerts.raising`` that take the user, writes through services.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from alerts import inbox as inbox_services
from alerts import raising as alerts
from alerts import webhooks as webhook_services
from alerts.choices import AlertKind
from alerts.models import AlertDelivery, WebhookSubscription
from covenants import services
from covenants.access import may, may_administer
from covenants.models import Covenant
from portal.pages.alert_forms import PreferencesForm, WaiverForm, WebhookSubscriptionForm

PAGE_SIZE = 50


def _entry_for(request: HttpRequest, pk: int) -> AlertDelivery:
    """One of the user's own inbox entries; 404 for anyone else's."""
    return get_object_or_404(inbox_services.inbox_for(request.user), pk=pk)


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    """The user's alerts, newest first: all, or only those not yet read."""
    unread_only = request.GET.get("show") == "unread"
    page = Paginator(inbox_services.inbox_for(request.user, unread_only=unread_only), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {"page": page, "entries": page.object_list, "unread_only": unread_only}
    return render(request, "alerts/inbox.html", context)


@login_required
def alert_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """An alert in full, with its figures and a link to the page that explains it; opening it marks it read."""
    entry = _entry_for(request, pk)
    if entry.read_at is None:
        inbox_services.alert_mark_read(user=request.user, delivery_ids=[entry.pk])
        entry.refresh_from_db(fields=["read_at"])
    alert = entry.alert
    may_waive = (
        alert.kind == AlertKind.BREACH and alert.stopped_at is None and may_administer(request.user, alert.agreement)
    )
    context = {
        "entry": entry,
        "alert": alert,
        "figures": alerts.delivery_figures(alert),
        "may_waive": may_waive,
    }
    return render(request, "alerts/detail.html", context)


def _back_to_inbox(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("next", "")
    if target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    return redirect("alerts:inbox")


@login_required
@require_POST
def mark_read(request: HttpRequest) -> HttpResponse:
    """Mark the chosen entries read, or all of them."""
    if request.POST.get("all"):
        count = inbox_services.alert_mark_read(user=request.user)
    else:
        ids = [int(i) for i in request.POST.getlist("entry") if i.isdigit()]
        count = inbox_services.alert_mark_read(user=request.user, delivery_ids=ids)
    messages.success(request, f"{count} alert{'s' if count != 1 else ''} marked read.")
    return _back_to_inbox(request)


@login_required
@require_POST
def acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    """Acknowledge an alert; the user's teammates see who acknowledged it, and when."""
    entry = _entry_for(request, pk)
    inbox_services.alert_acknowledge(user=request.user, delivery=entry)
    messages.success(request, f"Acknowledged: {entry.alert.title}.")
    return _back_to_inbox(request)


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    """Which channels the user wants for each kind of alert."""
    current = inbox_services.channels_for(request.user)
    form = PreferencesForm(request.POST or None, current=current)
    if request.method == "POST" and form.is_valid():
        inbox_services.notification_preferences_set(user=request.user, channels_by_kind=form.cleaned_data)
        messages.success(request, "Your notification preferences are saved.")
        return redirect("alerts:preferences")
    return render(request, "alerts/preferences.html", {"form": form})


@login_required
def webhooks(request: HttpRequest) -> HttpResponse:
    """The webhook subscriptions of the parties the user may manage them for."""
    parties = webhook_services.parties_for_webhooks(request.user)
    context = {
        "subscriptions": webhook_services.subscriptions_for(request.user),
        "may_add": parties.exists(),
    }
    return render(request, "alerts/webhooks.html", context)


def _secret_once(request: HttpRequest, subscription: WebhookSubscription, *, created: bool) -> HttpResponse:
    """The signing secret, on the response to the POST that made it and never again: the list
    does not show secrets, and a lost one is replaced by rotating it."""
    response = render(request, "alerts/webhook_secret.html", {"subscription": subscription, "created": created})
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def webhook_add(request: HttpRequest) -> HttpResponse:
    """Subscribe a URL of one of the user's parties; the signing secret is shown once, here."""
    if not webhook_services.parties_for_webhooks(request.user).exists():
        raise PermissionDenied("Only a party's own users and administrators manage its webhooks.")
    form = WebhookSubscriptionForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            subscription = webhook_services.webhook_subscription_create(
                user=request.user,
                party=form.cleaned_data["party"],
                url=form.cleaned_data["url"],
                kinds=form.cleaned_data["kinds"],
                description=form.cleaned_data["description"],
            )
        except alerts.AlertRefused as refused:
            form.add_error(None, str(refused))
        else:
            return _secret_once(request, subscription, created=True)
    return render(request, "alerts/webhook_form.html", {"form": form})


def _subscription_for(request: HttpRequest, pk: int):
    return get_object_or_404(webhook_services.subscriptions_for(request.user), pk=pk)


@login_required
@require_POST
def webhook_pause(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = webhook_services.webhook_subscription_pause(
        user=request.user, subscription=_subscription_for(request, pk)
    )
    messages.success(request, f"{subscription.url} is paused; its deliveries wait until it is resumed.")
    return redirect("alerts:webhooks")


@login_required
@require_POST
def webhook_resume(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = webhook_services.webhook_subscription_resume(
        user=request.user, subscription=_subscription_for(request, pk)
    )
    messages.success(request, f"{subscription.url} is resumed; deliveries that waited are being sent.")
    return redirect("alerts:webhooks")


@login_required
@require_POST
def webhook_rotate_secret(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = webhook_services.webhook_subscription_rotate_secret(
        user=request.user, subscription=_subscription_for(request, pk)
    )
    return _secret_once(request, subscription, created=False)


@login_required
@require_POST
def webhook_replay(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = _subscription_for(request, pk)
    replayed = webhook_services.webhook_deliveries_replay(user=request.user, subscription=subscription)
    deliveries = f"{replayed} failed deliver{pluralize(replayed, 'y,ies')} to {subscription.url}"
    if not replayed:
        messages.info(request, f"{subscription.url} has no failed deliveries to send again.")
    elif subscription.receives_alerts:
        messages.success(request, f"{deliveries} are being sent again.")
    else:
        messages.success(request, f"{deliveries} will be sent when it is resumed.")
    return redirect("alerts:webhooks")


@login_required
@require_POST
def webhook_delete(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = _subscription_for(request, pk)
    url = subscription.url
    webhook_services.webhook_subscription_delete(user=request.user, subscription=subscription)
    messages.success(request, f"{url} no longer receives alerts.")
    return redirect("alerts:webhooks")


@login_required
@require_http_methods(["GET", "POST"])
def waiver_new(request: HttpRequest) -> HttpResponse:
    """Record the Lenders' waiver of a breach: the Agents and administrators only. The page asks
    whether the user may waive any covenant; the covenant chosen is checked once, by the service."""
    if not may(request.user, "waive", Covenant):
        raise PermissionDenied("Only the Agents and administrators may record a waiver.")
    initial = {key: request.GET[key] for key in ("covenant", "test_date", "borrower") if request.GET.get(key)}
    form = WaiverForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        covenant: Covenant = data["covenant"]
        try:
            waiver = services.waiver_record(
                covenant_id=covenant.pk,
                test_date=data["test_date"],
                instrument=data["instrument"],
                recorded_by=request.user,
                borrower_id=data["borrower"].pk if data["borrower"] else None,
                amendment_id=data["amendment"].pk if data["amendment"] else None,
                note=data["note"],
            )
        except services.WaiverRefused as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(
                request,
                f"Waiver of Section {covenant.section} as of {alerts.long_date(waiver.test_date)} recorded "
                f"({waiver.instrument}); the result will show waived and its alerts stop.",
            )
            return redirect(reverse("covenants:agreement_detail", args=[covenant.agreement_id]))
    return render(request, "alerts/waiver_form.html", {"form": form})
