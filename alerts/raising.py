"""
Raising alerts, storing them with their deliveries, and queueing those.

An alert is stored with its deliveries in the transaction that raises it (the evaluation's,
for breaches, cures and near breaches), under a key that makes a second raise of the same
event a no-op. Deliveries other than the inbox are queued as one task each once that
transaction commits; if the broker is down, they stay pending and the periodic sweep
queues them later. Nothing depends on a task reaching the broker the first time.

The inbox and preferences are in ``alerts.inbox``; managing webhook subscriptions is in
``alerts.webhooks`` (which subscriptions an alert goes to is decided here).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import partial

from celery import current_app
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from alerts.choices import AlertChannel, AlertKind, DeliveryStatus
from alerts.models import Alert, AlertDelivery, NotificationPreference, WebhookSubscription
from compliance import formatting
from compliance.choices import ResultStatus
from compliance.formatting import long_date
from compliance.late_financials import LateFinancial, late_financials
from compliance.models import ComplianceEvent, CovenantTestResult
from covenants.access import LENDER_SIDE_ROLES
from covenants.choices import AmendmentStatus, Role
from covenants.models import Agreement, AgreementRole, Amendment, Covenant, Waiver
from parties.choices import MembershipRole
from parties.models import Membership, Party

logger = logging.getLogger(__name__)

# The roles whose users are told: the Agents, the Lenders, and the Borrowers (for their own
# agreements). A Guarantor's users see the agreement but are not alerted.
RECIPIENT_ROLES: tuple[str, ...] = (*LENDER_SIDE_ROLES, Role.BORROWER)
USER_CHANNELS: tuple[str, ...] = NotificationPreference.USER_CHANNELS
DEFAULT_CHANNELS: tuple[str, ...] = NotificationPreference.DEFAULT_CHANNELS


class AlertRefused(Exception):
    """An action on alerts or subscriptions that cannot be done, with a sentence saying why."""


# --- Wording ------------------------------------------------------------------------


def _agreement_words(agreement: Agreement) -> str:
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


def alerts_raise_for_recorded_events(sender: object, *, events: Sequence[ComplianceEvent], **kwargs: object) -> None:
    """The receiver of ``compliance.signals.events_recorded`` (connected in CovenantsConfig.ready):
    the alerts for the events an evaluation has just recorded, in its transaction."""
    alerts_raise_for_events(events)


def alerts_raise_for_events(events: Sequence[ComplianceEvent]) -> list[Alert]:
    """Raise the alerts for the evaluation's status changes, in the caller's transaction.

    A result turning to breach raises a breach; a breach turning compliant, a cure; a result
    turning compliant with headroom under the warning band, a near breach. A waived result
    never alerts, and a breach that becomes waived stops the deliveries not yet sent. Returns
    the alerts created (an event raised before creates nothing). A fixed number of queries,
    whatever the number of events; none without events."""
    if not events:
        return []
    _ensure_results_loaded(events)
    covenants = Covenant.objects.select_related("agreement").in_bulk({e.covenant_id for e in events})
    borrower_ids = {e.borrower_id for e in events if e.borrower_id}
    borrowers = Party.objects.in_bulk(borrower_ids) if borrower_ids else {}

    candidates: list[Alert] = []
    waived: list[ComplianceEvent] = []
    for event in events:
        result = event.result
        covenant = covenants[event.covenant_id]
        if event.to_status == ResultStatus.WAIVED:
            waived.append(event)
            continue
        if event.to_status == ResultStatus.BREACH:
            kind = AlertKind.BREACH
        elif event.to_status == ResultStatus.COMPLIANT and event.from_status == ResultStatus.BREACH:
            kind = AlertKind.CURE
        elif (
            # Near breach as the engine decided it and the evaluation stored it (engine.is_near_breach).
            event.to_status == ResultStatus.COMPLIANT
            and result.near_breach
            and not (event.previous_result is not None and event.previous_result.near_breach)
        ):
            kind = AlertKind.NEAR_BREACH
        else:
            continue
        candidates.append(_covenant_alert(kind, event, result, covenant, borrowers.get(event.borrower_id)))

    if waived:
        _stop_waived_breaches(waived)
    return _store(candidates)


def _ensure_results_loaded(events: Sequence[ComplianceEvent]) -> None:
    """The evaluation hands its events with their results (before and after) in memory;
    events read back from the database have theirs loaded here, in one query."""
    after = ComplianceEvent._meta.get_field("result")
    before = ComplianceEvent._meta.get_field("previous_result")
    missing = [e for e in events if not after.is_cached(e) or (e.previous_result_id and not before.is_cached(e))]
    if not missing:
        return
    ids = {e.result_id for e in missing} | {e.previous_result_id for e in missing if e.previous_result_id}
    results = CovenantTestResult.objects.in_bulk(ids)
    for event in missing:
        event.result = results[event.result_id]
        event.previous_result = results.get(event.previous_result_id) if event.previous_result_id else None


def _covenant_alert(
    kind: str, event: ComplianceEvent, result: CovenantTestResult, covenant: Covenant, borrower: Party | None
) -> Alert:
    agreement = covenant.agreement
    on = long_date(event.test_date)
    whose = f" for {borrower.legal_name}" if borrower else ""
    provisional = " (provisional)" if result.provisional else ""
    subject = _covenant_words(covenant)
    if kind == AlertKind.BREACH:
        title = f"Breach of {subject} as of {on}{whose}{provisional}"
        lead = f"The test of {subject} of {_agreement_words(agreement)} as of {on}{whose} is now a breach."
    elif kind == AlertKind.CURE:
        title = f"{subject} compliant again as of {on}{whose}{provisional}"
        lead = f"The breach of {subject} of {_agreement_words(agreement)} as of {on}{whose} is cured."
    else:
        band = formatting.percent(covenant.warning_band_percent, places=None)
        title = f"Near breach of {subject} as of {on}{whose}{provisional}"
        lead = (
            f"{subject} of {_agreement_words(agreement)} as of {on}{whose} is compliant, but its headroom "
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
        event=event,
        result=result,
        transition=transition,
        value=result.value,
        threshold=result.threshold,
        headroom=result.headroom,
        headroom_percent=result.headroom_percent,
        warning_band_percent=covenant.warning_band_percent,
        metric_kind=str(result.inputs.get("metric_kind", "")) if isinstance(result.inputs, dict) else "",
        provisional=result.provisional,
        title=title[:255],
        message=f"{lead} {result.explanation}".strip(),
        link_path=reverse("covenants:agreement_detail", args=[agreement.pk]),
    )


def _stop_waived_breaches(events: Sequence[ComplianceEvent]) -> None:
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


# --- Raising: late financials and overdue amendments ---------------------------------


@transaction.atomic
def alerts_raise_late_financials(*, as_of: dt.date) -> list[Alert]:
    """One alert per late statement as of ``as_of``, naming its Borrower and quarter: late as
    the one rule decides it (:mod:`compliance.late_financials`), the rule the dashboard, the
    agreement page and the API read too. Raising again changes nothing."""
    agreements = list(Agreement.objects.filter(roles__role=Role.BORROWER).distinct().order_by("pk"))
    late = late_financials(agreements, as_of=as_of)
    return _store([_late_financials_alert(a, item) for a in agreements for item in late.get(a.pk, [])])


def _late_financials_alert(agreement: Agreement, late: LateFinancial) -> Alert:
    quarter, borrower = late.period_end, late.borrower
    named = f'{borrower} ("{late.defined_term}")' if late.defined_term else borrower
    return Alert(
        kind=AlertKind.FINANCIALS_LATE,
        key=alert_key(
            agreement_id=agreement.pk,
            test_date=quarter,
            borrower_id=late.party_id,
            kind=AlertKind.FINANCIALS_LATE,
            transition="missing",
        ),
        agreement=agreement,
        test_date=quarter,
        borrower_id=late.party_id,
        transition="statement missing after the reporting deadline",
        title=f"Financials late: {borrower}, fiscal quarter ending {long_date(quarter)}",
        message=(
            f"The financial statements of {named} for the fiscal quarter ending {long_date(quarter)} were due "
            f"by {long_date(late.due_on)} ({agreement.reporting_deadline_days} days after the quarter end under "
            f"{_agreement_words(agreement)}) and have not been received. Until they are, the covenant tests "
            "that need them cannot be decided."
        ),
        link_path=reverse("covenants:agreement_detail", args=[agreement.pk]),
    )


@transaction.atomic
def alerts_raise_overdue_amendments(*, as_of: dt.date) -> list[Alert]:
    """For every amendment still pending its conditions precedent after a known deadline
    (one not satisfied, with a deadline before ``as_of``): one alert. A deadline the document
    leaves blank is unknown and never alerts."""
    amendments = (
        Amendment.objects.filter(
            status=AmendmentStatus.PENDING,
            conditions_precedent__deadline__isnull=False,
            conditions_precedent__deadline__lt=as_of,
            conditions_precedent__satisfied_on__isnull=True,
        )
        .select_related("agreement")
        .prefetch_related("conditions_precedent")
        .distinct()
    )
    candidates: list[Alert] = []
    for amendment in amendments:
        overdue = [
            cp
            for cp in amendment.conditions_precedent.all()
            if cp.deadline is not None and cp.deadline < as_of and cp.satisfied_on is None
        ]
        deadline = min(cp.deadline for cp in overdue)  # type: ignore[type-var]
        agreement = amendment.agreement
        listed = "; ".join(cp.description.strip().rstrip(".") for cp in overdue)
        candidates.append(
            Alert(
                kind=AlertKind.AMENDMENT_OVERDUE,
                key=alert_key(
                    agreement_id=agreement.pk,
                    test_date=deadline,
                    kind=AlertKind.AMENDMENT_OVERDUE,
                    transition=f"amendment{amendment.pk}>pending",
                ),
                agreement=agreement,
                amendment=amendment,
                test_date=deadline,
                transition="still pending after its conditions-precedent deadline",
                title=f"{amendment.title} still pending after {long_date(deadline)}",
                message=(
                    f"{amendment.title} to {_agreement_words(agreement)} is still pending: its conditions "
                    f"precedent were to be satisfied on or prior to {long_date(deadline)}, and "
                    f"{len(overdue)} of them {'is' if len(overdue) == 1 else 'are'} not marked satisfied: {listed}. "
                    "Results computed under it remain provisional."
                ),
                link_path=reverse("covenants:agreement_detail", args=[agreement.pk]),
            )
        )
    return _store(candidates)


# --- Storing alerts and their deliveries ----------------------------------------------


def _store(candidates: Sequence[Alert]) -> list[Alert]:
    """Store the alerts whose key is new, with their deliveries, and queue those on commit."""
    unique: dict[str, Alert] = {}
    for alert in candidates:
        unique.setdefault(alert.key, alert)
    if not unique:
        return []
    taken = set(Alert.objects.filter(key__in=list(unique)).values_list("key", flat=True))
    fresh = [alert for key, alert in unique.items() if key not in taken]
    if not fresh:
        return []
    # A concurrent raise of the same key is skipped here rather than failing the transaction.
    Alert.objects.bulk_create(fresh, ignore_conflicts=True, batch_size=1000)
    stored = {a.key: a.pk for a in Alert.objects.filter(key__in=[a.key for a in fresh]).only("pk", "key")}
    created = []
    for alert in fresh:
        alert.pk = stored.get(alert.key)
        if alert.pk is not None:
            alert._state.adding = False
            alert._state.db = "default"
            created.append(alert)
    _deliveries_create(created)
    logger.info("alerts raised", extra={"alerts": len(created)})
    return created


@dataclass(frozen=True)
class _Recipient:
    user_id: int
    email: str


def _recipients_by_agreement(agreement_ids: Iterable[int], *, on: dt.date) -> dict[int, dict[int, _Recipient]]:
    """The active users of the parties holding a recipient role in each agreement on ``on`` (one query)."""
    rows = (
        AgreementRole.objects.filter(agreement_id__in=list(agreement_ids), role__in=RECIPIENT_ROLES)
        .filter(Q(holds_from__isnull=True) | Q(holds_from__lte=on), Q(holds_to__isnull=True) | Q(holds_to__gte=on))
        .filter(party__memberships__user__is_active=True)
        .values_list("agreement_id", "party__memberships__user_id", "party__memberships__user__email")
        .order_by()
        .distinct()
    )
    recipients: dict[int, dict[int, _Recipient]] = defaultdict(dict)
    for agreement_id, user_id, email in rows:
        recipients[agreement_id][user_id] = _Recipient(user_id, email or "")
    return recipients


def recipients_for(alert: Alert) -> QuerySet:
    """The users told of this alert: those of the agreement's Agent, Collateral Agent and
    Lenders, and of its Borrowers (users of another agreement's parties are not)."""
    user_ids = _recipients_by_agreement([alert.agreement_id], on=timezone.localdate()).get(alert.agreement_id, {})
    return get_user_model().objects.filter(pk__in=list(user_ids)).order_by("username")


def _deliveries_create(alerts: Sequence[Alert]) -> None:
    """One delivery per recipient and channel they chose, and per webhook subscription; the
    inbox entry is delivered at once, the others are queued once the transaction commits."""
    if not alerts:
        return
    now = timezone.now()
    agreement_ids = {a.agreement_id for a in alerts}
    recipients = _recipients_by_agreement(agreement_ids, on=timezone.localdate())
    user_ids = {user_id for users in recipients.values() for user_id in users}
    preferences: dict[tuple[int, str], list[str]] = {}
    if user_ids:
        for user_id, kind, channels in NotificationPreference.objects.filter(user_id__in=user_ids).values_list(
            "user_id", "kind", "channels"
        ):
            preferences[(user_id, kind)] = list(channels or [])
    # Paused subscriptions get their deliveries too: they wait, pending, until it is resumed.
    subscriptions: dict[int, dict[int, tuple[str, list[str]]]] = defaultdict(dict)
    for agreement_id, subscription_id, url, kinds in (
        # One filter() call, so the creator's conditions speak of the same subscription row.
        AgreementRole.objects.filter(
            _creator_reads_agreement(),
            agreement_id__in=agreement_ids,
            role__in=RECIPIENT_ROLES,
            party__webhook_subscriptions__active=True,
        )
        .values_list(
            "agreement_id",
            "party__webhook_subscriptions__id",
            "party__webhook_subscriptions__url",
            "party__webhook_subscriptions__kinds",
        )
        .order_by()
    ):
        subscriptions[agreement_id][subscription_id] = (url, list(kinds or []))

    rows: list[AlertDelivery] = []
    for alert in alerts:
        for recipient in recipients.get(alert.agreement_id, {}).values():
            channels = preferences.get((recipient.user_id, alert.kind), DEFAULT_CHANNELS)
            if AlertChannel.IN_APP in channels:
                rows.append(
                    AlertDelivery(
                        alert=alert,
                        channel=AlertChannel.IN_APP,
                        user_id=recipient.user_id,
                        status=DeliveryStatus.SENT,
                        due_at=now,
                        sent_at=now,
                    )
                )
            if AlertChannel.EMAIL in channels and recipient.email:
                rows.append(
                    AlertDelivery(
                        alert=alert,
                        channel=AlertChannel.EMAIL,
                        user_id=recipient.user_id,
                        address=recipient.email,
                        due_at=now,
                    )
                )
        for subscription_id, (url, kinds) in subscriptions.get(alert.agreement_id, {}).items():
            if alert.kind in kinds:
                rows.append(
                    AlertDelivery(
                        alert=alert,
                        channel=AlertChannel.WEBHOOK,
                        subscription_id=subscription_id,
                        address=url,
                        due_at=now,
                    )
                )
    if not rows:
        return
    AlertDelivery.objects.bulk_create(rows, ignore_conflicts=True, batch_size=2000)
    pending = list(
        AlertDelivery.objects.filter(alert_id__in=[a.pk for a in alerts], status=DeliveryStatus.PENDING)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if pending:
        transaction.on_commit(partial(queue_deliveries, pending), robust=True)


DELIVER_ALERT_TASK = "covenants.tasks.deliver_alert"


def queue_deliveries(delivery_ids: Sequence[int], *, countdown: float | None = None) -> int:
    """Send one task per delivery. A broker that is down is logged, not raised: the deliveries
    stay pending and the sweep queues them. Returns how many were queued. The task is found by
    its name: the tasks module calls this one, never the reverse."""
    deliver_alert = current_app.tasks[DELIVER_ALERT_TASK]
    queued = 0
    for delivery_id in delivery_ids:
        try:
            # No publish retries: a broker that is down fails fast, and the sweep retries.
            deliver_alert.apply_async((delivery_id,), countdown=countdown, retry=False)
        except Exception:
            logger.warning("could not queue %s alert deliveries; the sweep will queue them", len(delivery_ids) - queued)
            break
        queued += 1
    return queued


def deliveries_overdue(*, older_than: dt.timedelta | None = None, limit: int = 1000) -> list[int]:
    """Deliveries still pending a while after they fell due (a task lost, or the broker down),
    except those held for a paused subscription or stopped by a waiver: the sweep's work list."""
    if older_than is None:
        older_than = dt.timedelta(seconds=settings.ALERT_SWEEP_AFTER_SECONDS)
    cutoff = timezone.now() - older_than
    return list(
        AlertDelivery.objects.filter(status=DeliveryStatus.PENDING, due_at__lte=cutoff, alert__stopped_at__isnull=True)
        .exclude(channel=AlertChannel.IN_APP)
        .exclude(subscription__paused_at__isnull=False)
        .exclude(subscription__active=False)
        .order_by("due_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


# --- Which subscriptions an alert goes to ---------------------------------------------


def _creator_reads_agreement() -> Q:
    """On AgreementRole rows joined to their party's subscriptions: the subscription's creator
    may still read that role's agreement and still manages the party's webhooks. What a
    subscription receives is scoped by the user who made it, so no subscription carries a
    deal its managing user could not read (``covenants.access``: membership, or administrator)."""
    creator = "party__webhook_subscriptions__created_by"
    reads = Exists(
        AgreementRole.objects.filter(
            agreement_id=OuterRef("agreement_id"), party__memberships__user_id=OuterRef(f"{creator}_id")
        )
    )
    administrator = Q(**{f"{creator}__is_superuser": True}) | Exists(
        Membership.objects.filter(user_id=OuterRef(f"{creator}_id"), role=MembershipRole.ADMINISTRATOR)
    )
    manages = Exists(Membership.objects.filter(user_id=OuterRef(f"{creator}_id"), party_id=OuterRef("party_id")))
    return Q(**{f"{creator}__is_active": True}) & (administrator | (reads & manages))


def subscription_receives(subscription: WebhookSubscription, agreement_id: int) -> bool:
    """Whether the subscription may carry this agreement's alerts now: the same rule as the
    fan-out, asked again just before a POST (the creator may have left the party since)."""
    return (
        # One filter() call, so every condition speaks of the same subscription row.
        AgreementRole.objects.filter(
            _creator_reads_agreement(),
            agreement_id=agreement_id,
            role__in=RECIPIENT_ROLES,
            party__webhook_subscriptions__pk=subscription.pk,
        ).exists()
    )


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
