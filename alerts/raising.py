"""
Raising alerts for breaches, cures and near breaches, as an evaluation records them, and the
wording alerts share.

An alert is stored with its deliveries in the transaction that raises it (the evaluation's),
under a key that makes a second raise of the same event a no-op: see ``alerts.fanout``, which
also queues the deliveries; who is told is decided in ``alerts.recipients``. Late financials
and overdue amendments are raised by the daily tasks (``alerts.deadlines``).

The inbox and preferences are in ``alerts.inbox``; managing webhook subscriptions is in
``alerts.webhooks``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from alerts import history
from alerts.choices import AlertKind, DeliveryStatus
from alerts.fanout import alerts_store
from alerts.models import Alert, AlertDelivery
from compliance import formatting
from compliance.choices import ResultStatus
from compliance.formatting import long_date
from compliance.models import ComplianceEvent, CovenantTestResult
from compliance.writing import RecordedEvent, StoredResult
from covenants.models import Agreement, Covenant, Waiver
from parties.models import Party


class AlertRefused(Exception):
    """An action on alerts or subscriptions that cannot be done, with a sentence saying why."""


# --- Wording ------------------------------------------------------------------------


def agreement_words(agreement: Agreement) -> str:
    """How the agreement calls itself: "the Loan Agreement", else its name."""
    return f"the {agreement.defined_term}" if agreement.defined_term else agreement.name


def _covenant_words(covenant: Covenant) -> str:
    return f"Section {covenant.section} ({covenant.name})"


def alert_key(
    *,
    agreement_id: int,
    kind: str,
    transition: str,
    covenant_id: int | None = None,
    test_date: dt.date | None = None,
    borrower_id: int | None = None,
) -> str:
    """The key that makes a second raise of the same event a no-op."""
    parts = (
        str(agreement_id),
        str(covenant_id or "-"),
        test_date.isoformat() if test_date else "-",
        str(borrower_id or "-"),
        kind,
        transition,
    )
    return "|".join(parts)


def _status_words(status: str) -> str:
    return ResultStatus(status).label.lower() if status else "no result"


# --- Raising: breaches, cures and near breaches --------------------------------------


# An event as the evaluation hands it (plain data with its results), or as read back.
Event = RecordedEvent | ComplianceEvent


def alerts_raise_for_recorded_events(
    sender: object, *, events: Sequence[Event], as_of: dt.date | None = None, **kwargs: object
) -> None:
    """The receiver of ``compliance.signals.events_recorded`` (connected in AlertsConfig.ready):
    the alerts for the events an evaluation has just recorded, as of its date, in its transaction."""
    alerts_raise_for_events(events, as_of=as_of)


def alerts_raise_for_events(events: Sequence[Event], *, as_of: dt.date | None = None) -> list[Alert]:
    """Raise the alerts for the evaluation's status changes, in the caller's transaction.

    A result turning to breach raises a breach; a breach turning compliant, a cure; a result
    turning compliant with headroom under the warning band, a near breach. A change that is
    history (``alerts.history``: onboarding, quarters long past; as of ``as_of``, the
    evaluation's date, today if not given) is recorded, not alerted. A waived result never
    alerts, and a breach that becomes waived stops the deliveries not yet sent. Returns the
    alerts created (an event raised before creates nothing). A fixed number of queries,
    whatever the number of events; none without events."""
    if not events:
        return []
    on = as_of or timezone.localdate()
    _ensure_results_loaded(events)
    raising: list[tuple[str, Event]] = []
    waived: list[Event] = []
    for event in events:
        if event.to_status == ResultStatus.WAIVED:
            waived.append(event)
        elif kind := _kind(event):
            raising.append((kind, event))
    if waived:
        _stop_waived_breaches(waived)
    if not raising:
        return []
    covenants = Covenant.objects.select_related("agreement").in_bulk({e.covenant_id for _, e in raising})
    latest = history.latest_tests([e for _, e in raising], on=on)
    news = [
        (kind, event)
        for kind, event in raising
        if not history.is_history(
            event,
            latest.get((event.covenant_id, event.borrower_id)),
            reporting_deadline_days=covenants[event.covenant_id].agreement.reporting_deadline_days,
            on=on,
        )
    ]
    borrower_ids = {e.borrower_id for _, e in news if e.borrower_id}
    borrowers = Party.objects.in_bulk(borrower_ids) if borrower_ids else {}
    # The agreement page each alert links to, reversed once per agreement.
    links = {
        agreement_id: reverse("covenants:agreement_detail", args=[agreement_id])
        for agreement_id in {e.agreement_id for _, e in news}
    }
    return alerts_store(
        [
            _covenant_alert(
                kind,
                event,
                event.result,
                covenants[event.covenant_id],
                borrowers.get(event.borrower_id),
                links[event.agreement_id],
            )
            for kind, event in news
        ]
    )


def _kind(event: Event) -> str | None:
    """The kind of alert a status change raises, if any (waivers aside)."""
    if event.to_status == ResultStatus.BREACH:
        return AlertKind.BREACH
    if event.to_status == ResultStatus.COMPLIANT and event.from_status == ResultStatus.BREACH:
        return AlertKind.CURE
    if (
        # Near breach as the engine decided it and the evaluation stored it (engine.is_near_breach).
        event.to_status == ResultStatus.COMPLIANT
        and event.result.near_breach
        and not (event.previous_result is not None and event.previous_result.near_breach)
    ):
        return AlertKind.NEAR_BREACH
    return None


def _ensure_results_loaded(events: Sequence[Event]) -> None:
    """The evaluation hands its events with their results (before and after) in memory;
    events read back from the database have theirs loaded here, in one query."""
    after = ComplianceEvent._meta.get_field("result")
    before = ComplianceEvent._meta.get_field("previous_result")
    missing = [
        e
        for e in events
        if isinstance(e, ComplianceEvent)
        and (not after.is_cached(e) or (e.previous_result_id and not before.is_cached(e)))
    ]
    if not missing:
        return
    ids = {e.result_id for e in missing} | {e.previous_result_id for e in missing if e.previous_result_id}
    results = CovenantTestResult.objects.in_bulk(ids)
    for event in missing:
        event.result = results[event.result_id]
        event.previous_result = results.get(event.previous_result_id) if event.previous_result_id else None


def _covenant_alert(
    kind: str,
    event: Event,
    result: CovenantTestResult | StoredResult,
    covenant: Covenant,
    borrower: Party | None,
    link_path: str,
) -> Alert:
    agreement = covenant.agreement
    on = long_date(event.test_date)
    whose = f" for {borrower.legal_name}" if borrower else ""
    provisional = " (provisional)" if result.provisional else ""
    subject = _covenant_words(covenant)
    if kind == AlertKind.BREACH:
        title = f"Breach of {subject} as of {on}{whose}{provisional}"
        lead = f"The test of {subject} of {agreement_words(agreement)} as of {on}{whose} is now a breach."
    elif kind == AlertKind.CURE:
        title = f"{subject} compliant again as of {on}{whose}{provisional}"
        lead = f"The breach of {subject} of {agreement_words(agreement)} as of {on}{whose} is cured."
    else:
        band = formatting.percent(covenant.warning_band_percent, places=None)
        title = f"Near breach of {subject} as of {on}{whose}{provisional}"
        lead = (
            f"{subject} of {agreement_words(agreement)} as of {on}{whose} is compliant, but its headroom "
            f"of {formatting.percent(result.headroom_percent)} of the threshold is under the {band} warning band."
        )
    transition = f"{_status_words(event.from_status)} → {_status_words(event.to_status)}"
    return Alert(
        kind=kind,
        key=alert_key(
            agreement_id=agreement.pk,
            covenant_id=covenant.pk,
            test_date=event.test_date,
            borrower_id=event.borrower_id,
            kind=kind,
            # The result it turned into: the same event raised again is a no-op, a new breach
            # after a cure (a new result) is a new alert.
            transition=f"{event.from_status or 'none'}>{event.to_status}#{result.pk}",
        ),
        agreement=agreement,
        covenant=covenant,
        test_date=event.test_date,
        borrower=borrower,
        event_id=event.pk,
        result_id=result.pk,
        transition=transition,
        value=result.value,
        threshold=result.threshold,
        headroom=result.headroom,
        headroom_percent=result.headroom_percent,
        warning_band_percent=covenant.warning_band_percent,
        # How the figures are shown: a defined term dividing at its top shows as a ratio too.
        metric_kind="ratio"
        if formatting.cites_a_ratio(result.inputs)
        else (str(result.inputs.get("metric_kind", "")) if isinstance(result.inputs, dict) else ""),
        provisional=result.provisional,
        title=title[:255],
        message=f"{lead} {result.explanation}".strip(),
        link_path=link_path,
    )


def _stop_waived_breaches(events: Sequence[Event]) -> None:
    """A breach the Lenders waived: its alerts stop, and deliveries not yet sent are cancelled."""
    tests = Q()
    for event in events:
        tests |= Q(covenant_id=event.covenant_id, test_date=event.test_date, borrower_id=event.borrower_id)
    instruments = {
        (w.covenant_id, w.test_date, w.borrower_id): w.instrument
        for w in Waiver.objects.filter(tests).only("covenant_id", "test_date", "borrower_id", "instrument")
    }
    breaches = list(
        Alert.objects.filter(tests, kind=AlertKind.BREACH, stopped_at__isnull=True).only(
            "pk", "covenant_id", "test_date", "borrower_id"
        )
    )
    if not breaches:
        return
    now = timezone.now()
    for alert in breaches:
        instrument = instruments.get((alert.covenant_id, alert.test_date, alert.borrower_id))
        alert.stopped_at = now
        alert.stopped_reason = f"Waived by {instrument}." if instrument else "The breach was waived."
    Alert.objects.bulk_update(breaches, ["stopped_at", "stopped_reason"])
    AlertDelivery.objects.filter(alert__in=breaches, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.CANCELLED, last_error="The breach was waived before this was sent.", updated_at=now
    )


# --- The figures an alert reports ----------------------------------------------------


def delivery_figures(alert: Alert) -> list[tuple[str, str]]:
    """The figures an alert reports, as labels and amounts the way the agreements print them
    (the pages' and exports' formatting: compliance.formatting)."""
    figures: list[tuple[str, str]] = []
    is_ratio = alert.metric_kind == "ratio"
    for label, amount in (("Value", alert.value), ("Threshold", alert.threshold)):
        if amount is not None:
            figures.append((label, formatting.figure(amount, is_ratio=is_ratio)))
    if alert.headroom is not None:
        figures.append(("Headroom", formatting.headroom(alert.headroom, is_ratio=is_ratio)))
    if alert.headroom_percent is not None:
        figures.append(("Headroom, percent of threshold", formatting.percent(alert.headroom_percent)))
    if alert.kind == AlertKind.NEAR_BREACH and alert.warning_band_percent is not None:
        figures.append(("Warning band", formatting.percent(alert.warning_band_percent, places=None)))
    return figures
