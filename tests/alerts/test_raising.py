"""Raising alerts from the evaluation's status changes: breach, cure, near breach, waivers,
who is told and through which channel, and a second raise changing nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse

from alerts.choices import AlertChannel, AlertKind, DeliveryStatus
from alerts.delivery import delivery_attempt
from alerts.models import Alert, AlertDelivery, NotificationPreference, WebhookSubscription
from alerts.raising import alerts_raise_for_events
from alerts.recipients import recipients_for
from compliance.choices import ResultStatus
from compliance.models import ComplianceEvent, CovenantTestResult
from compliance.services import agreement_evaluate
from covenants.choices import Role
from covenants.models import AgreementRole
from covenants.services import waiver_record
from parties.choices import MembershipRole
from parties.models import Party
from tests.factories import administrator, member, outsider, second_facility

from .helpers import AS_OF, Q3_2019, Q4_2019, D, deliveries, minimum_revenues, revenue_rows, revenues, submit

pytestmark = pytest.mark.django_db

TEAM = ("borrower", "agent", "collateral_agent", "lender")


@pytest.fixture
def harbor():
    return second_facility("Harbor")


def emails_of(facility, *roles):
    return sorted(facility.users[r].email for r in roles)


def test_a_breach_raises_one_alert_in_the_agreements_words(harbor):
    summary = revenues(harbor, Q3_2019, 900_000)
    covenant = minimum_revenues(harbor)
    changes = [(e.test_date, e.to_status) for e in summary.events if e.covenant_id == covenant.pk]
    assert changes == [(Q3_2019, ResultStatus.BREACH), (Q4_2019, ResultStatus.INCOMPLETE)]

    alert = Alert.objects.get()
    assert alert.kind == AlertKind.BREACH
    assert alert.covenant == covenant
    assert alert.test_date == Q3_2019
    assert alert.borrower is None
    assert alert.transition == "no result → breach"
    assert (alert.value, alert.threshold, alert.headroom) == (Decimal(900_000), Decimal(1_000_000), Decimal(-100_000))
    assert alert.title == "Breach of Section 6.1 (Minimum revenues) as of September 30, 2019"
    assert alert.message.startswith(
        "The test of Section 6.1 (Minimum revenues) of the Credit Agreement as of September 30, 2019 is now a breach."
    )
    assert "amounted to $900,000 against a minimum of $1,000,000" in alert.message
    assert "short by $100,000" in alert.message
    assert alert.link_path == reverse("covenants:agreement_detail", args=[harbor.agreement.pk])
    # Stored with the event that raised it.
    assert alert.event.to_status == ResultStatus.BREACH and alert.result.is_current


def test_each_recipient_gets_an_inbox_entry_and_an_email_by_default(harbor, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        revenues(harbor, Q3_2019, 900_000)
    alert = Alert.objects.get()
    inbox = deliveries(alert, AlertChannel.IN_APP)
    assert sorted(d.user.username for d in inbox) == sorted(harbor.users[r].username for r in TEAM)
    assert all(d.status == DeliveryStatus.SENT and d.read_at is None for d in inbox)
    email = deliveries(alert, AlertChannel.EMAIL)
    assert all(d.status == DeliveryStatus.SENT and d.attempts == 1 for d in email)
    assert sorted(m.to[0] for m in mail.outbox) == emails_of(harbor, *TEAM)
    assert all(m.subject == f"[Harbor Credit Agreement] {alert.title}" for m in mail.outbox)


def test_raising_the_same_events_again_is_a_no_op(harbor, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        summary = revenues(harbor, Q3_2019, 900_000)
    before = (Alert.objects.count(), AlertDelivery.objects.count(), len(mail.outbox))
    with django_capture_on_commit_callbacks(execute=True) as queued:
        assert alerts_raise_for_events(summary.events) == []
    assert queued == []
    assert (Alert.objects.count(), AlertDelivery.objects.count(), len(mail.outbox)) == before == (1, 8, 4)
    # Re-evaluating unchanged figures records no event, so raises nothing either.
    assert agreement_evaluate(agreement_id=harbor.agreement.pk, as_of=AS_OF).events == []
    assert Alert.objects.count() == 1


def test_events_read_back_from_the_database_raise_nothing_twice(harbor):
    revenues(harbor, Q3_2019, 900_000)
    revenues(harbor, Q3_2019, 2_000_000)
    assert Alert.objects.count() == 2
    assert alerts_raise_for_events(list(ComplianceEvent.objects.all())) == []
    assert Alert.objects.count() == 2


def test_a_compliant_result_moving_into_the_band_is_a_near_breach_and_deeper_in_it_is_not(harbor):
    """The status stays compliant, yet the evaluation records the move into the warning band
    as an event, and it alerts once; moving deeper into the band alerts no more."""
    revenues(harbor, Q3_2019, 2_000_000)
    far = CovenantTestResult.objects.get(covenant=minimum_revenues(harbor), test_date=Q3_2019, is_current=True)
    assert not Alert.objects.exists()
    revenues(harbor, Q3_2019, 1_080_000)  # compliant to compliant, 8% headroom against a 10% band
    [alert] = Alert.objects.all()
    assert alert.kind == AlertKind.NEAR_BREACH and alert.transition == "compliant → compliant"
    event = ComplianceEvent.objects.get(result__is_current=True, covenant=far.covenant, test_date=Q3_2019)
    assert event.previous_result == far and event.from_status == event.to_status == "compliant"
    revenues(harbor, Q3_2019, 1_010_000)
    assert Alert.objects.count() == 1
    # Replaying the recorded events raises nothing twice.
    assert alerts_raise_for_events(list(ComplianceEvent.objects.all())) == []


def test_a_restatement_that_cures_the_breach_raises_a_cure(harbor):
    revenues(harbor, Q3_2019, 900_000)
    revenues(harbor, Q3_2019, 2_000_000)
    cure = Alert.objects.get(kind=AlertKind.CURE)
    assert cure.transition == "breach → compliant"
    assert cure.title == "Section 6.1 (Minimum revenues) compliant again as of September 30, 2019"
    assert cure.message.startswith(
        "The breach of Section 6.1 (Minimum revenues) of the Credit Agreement as of September 30, 2019 is cured."
    )
    assert cure.value == 2_000_000 and cure.headroom == 1_000_000
    assert Alert.objects.filter(kind=AlertKind.BREACH).count() == 1


def test_a_new_breach_after_a_cure_is_a_new_alert(harbor):
    revenues(harbor, Q3_2019, 900_000)
    revenues(harbor, Q3_2019, 2_000_000)
    revenues(harbor, Q3_2019, 800_000)
    breaches = Alert.objects.filter(kind=AlertKind.BREACH).order_by("pk")
    assert [(a.transition, a.value) for a in breaches] == [
        ("no result → breach", 900_000),
        ("compliant → breach", 800_000),
    ]


@pytest.mark.parametrize(
    ("total", "near"),
    [
        (1_050_000, True),  # headroom 5% of the threshold
        (1_099_999, True),  # 9.99%: just under the 10% band
        (1_100_000, False),  # exactly 10%: not under the band
        (2_000_000, False),
        (1_000_000, True),  # equality passes, with no headroom at all
    ],
)
def test_near_breach_is_headroom_under_the_covenants_warning_band(harbor, total, near):
    revenues(harbor, Q3_2019, total)
    alerts = list(Alert.objects.filter(kind=AlertKind.NEAR_BREACH))
    assert len(alerts) == (1 if near else 0)
    assert not Alert.objects.exclude(kind=AlertKind.NEAR_BREACH).exists()
    if near:
        alert = alerts[0]
        assert alert.warning_band_percent == 10
        assert alert.headroom == total - 1_000_000
        assert "under the 10% warning band" in alert.message
        assert alert.title == "Near breach of Section 6.1 (Minimum revenues) as of September 30, 2019"


def test_the_warning_band_is_a_setting_of_each_covenant(harbor):
    covenant = minimum_revenues(harbor)
    covenant.warning_band_percent = Decimal("25")
    covenant.save()
    revenues(harbor, Q3_2019, 1_200_000)  # 20% headroom: near under 25%, not under 10%
    alert = Alert.objects.get(kind=AlertKind.NEAR_BREACH)
    assert "under the 25% warning band" in alert.message


def test_a_waived_breach_stops_its_pending_deliveries_and_never_alerts_again(harbor):
    revenues(harbor, Q3_2019, 900_000)  # deliveries queued on commit, which this test never reaches
    breach = Alert.objects.get()
    pending = deliveries(breach, AlertChannel.EMAIL)
    assert pending and all(d.status == DeliveryStatus.PENDING for d in pending)

    waiver_record(
        covenant_id=minimum_revenues(harbor).pk,
        test_date=Q3_2019,
        instrument="Waiver and Amendment No. 3",
        recorded_by=harbor.users["agent"],
    )
    summary = agreement_evaluate(agreement_id=harbor.agreement.pk, as_of=AS_OF)
    assert [(e.from_status, e.to_status) for e in summary.events if e.covenant_id == breach.covenant_id] == [
        (ResultStatus.BREACH, ResultStatus.WAIVED)
    ]
    assert Alert.objects.count() == 1  # a waived result never alerts
    breach.refresh_from_db()
    assert breach.stopped_at is not None
    assert breach.stopped_reason == "Waived by Waiver and Amendment No. 3."
    assert {d.status for d in deliveries(breach, AlertChannel.EMAIL)} == {DeliveryStatus.CANCELLED}
    # A task that arrives anyway sends nothing.
    assert delivery_attempt(delivery_id=pending[0].pk) == "already cancelled"
    assert mail.outbox == []


def test_a_waiver_covers_only_the_test_date_it_names(harbor):
    revenues(harbor, Q3_2019, 900_000)
    waiver_record(
        covenant_id=minimum_revenues(harbor).pk,
        test_date=Q3_2019,
        instrument="Waiver and Amendment No. 3",
        recorded_by=harbor.users["agent"],
    )
    agreement_evaluate(agreement_id=harbor.agreement.pk, as_of=AS_OF)
    revenues(harbor, Q4_2019, 900_000)
    q4 = Alert.objects.get(test_date=Q4_2019)
    assert q4.kind == AlertKind.BREACH and q4.stopped_at is None


def test_a_breach_waived_before_its_first_result_raises_nothing(harbor):
    waiver_record(
        covenant_id=minimum_revenues(harbor).pk,
        test_date=Q3_2019,
        instrument="Waiver and Amendment No. 3",
        recorded_by=harbor.users["agent"],
    )
    summary = revenues(harbor, Q3_2019, 900_000)
    assert ResultStatus.WAIVED in {e.to_status for e in summary.events}
    assert not Alert.objects.exists()


def test_recipients_are_the_agents_lenders_and_borrowers_of_the_agreement_only(harbor):
    cove = second_facility("Cove")  # another agreement: its users are told nothing of Harbor
    guarantor = Party.objects.create(legal_name="Harbor Holdings Inc.")
    AgreementRole.objects.create(agreement=harbor.agreement, party=guarantor, role=Role.GUARANTOR)
    guarantor_user = member("harbor.holdings", MembershipRole.LENDER, guarantor)
    administrator()
    outsider()
    inactive = member("harbor.former", MembershipRole.LENDER, harbor.lender)
    inactive.is_active = False
    inactive.save()

    revenues(harbor, Q3_2019, 900_000)
    alert = Alert.objects.get()
    told = set(recipients_for(alert).values_list("username", flat=True))
    assert told == {harbor.users[r].username for r in TEAM}
    assert not told & {u.username for u in cove.users.values()}
    assert guarantor_user.username not in told
    assert set(AlertDelivery.objects.exclude(user=None).values_list("user__username", flat=True)) == told


def test_each_user_chooses_the_channels_per_kind(harbor):
    NotificationPreference.objects.create(user=harbor.users["lender"], kind=AlertKind.BREACH, channels=["in_app"])
    NotificationPreference.objects.create(user=harbor.users["agent"], kind=AlertKind.BREACH, channels=[])
    NotificationPreference.objects.create(
        user=harbor.users["borrower"], kind=AlertKind.NEAR_BREACH, channels=["in_app"]
    )  # another kind: the defaults still apply to breaches
    collateral = harbor.users["collateral_agent"]
    collateral.email = ""
    collateral.save()

    revenues(harbor, Q3_2019, 900_000)
    alert = Alert.objects.get()
    got = {(d.user.username, d.channel) for d in alert.deliveries.select_related("user")}
    assert got == {
        ("harbor.lender", "in_app"),
        ("harbor.borrower", "in_app"),
        ("harbor.borrower", "email"),
        ("harbor.collateral", "in_app"),  # no e-mail address: no e-mail
    }


def test_webhook_subscriptions_of_the_agreements_parties_get_the_kinds_they_chose(harbor):
    lender_hook = WebhookSubscription.objects.create(
        party=harbor.lender,
        url="https://lender.example/hook",
        secret="s" * 64,
        kinds=["breach"],
        created_by=harbor.users["lender"],
    )
    WebhookSubscription.objects.create(
        party=harbor.borrowers[0],
        url="https://borrower.example/hook",
        secret="s" * 64,
        kinds=["cure"],
        created_by=harbor.users["borrower"],
    )
    paused = WebhookSubscription.objects.create(
        party=harbor.agent,
        url="https://agent.example/hook",
        secret="s" * 64,
        kinds=["breach"],
        created_by=harbor.users["agent"],
    )
    paused.paused_at = paused.created_at
    paused.save()
    cove = second_facility("Cove")
    WebhookSubscription.objects.create(
        party=cove.lender,
        url="https://cove.example/hook",
        secret="s" * 64,
        kinds=["breach"],
        created_by=cove.users["lender"],
    )

    revenues(harbor, Q3_2019, 900_000)
    alert = Alert.objects.get()
    hooks = deliveries(alert, AlertChannel.WEBHOOK)
    # The paused subscription's delivery waits for it to be resumed; Cove's is not told.
    assert sorted(d.subscription_id for d in hooks) == sorted([lender_hook.pk, paused.pk])
    assert all(d.status == DeliveryStatus.PENDING for d in hooks)


@pytest.mark.parametrize("quarters", [1, 3])
def test_raising_takes_a_fixed_number_of_queries(harbor, django_assert_num_queries, quarters):
    """Whatever the number of events, recipients and subscriptions: covenants, their latest
    tests, alerts (inserted, their ids returned), recipients, preferences, subscriptions,
    deliveries (inserted, the pending ones' ids returned)."""
    WebhookSubscription.objects.create(
        party=harbor.lender,
        url="https://lender.example/hook",
        secret="s" * 64,
        kinds=["breach"],
        created_by=harbor.users["lender"],
    )
    quarters_restated = [Q3_2019, Q4_2019, D(2020, 3, 31)][:quarters]
    as_of = D(2020, 5, 1)
    for quarter in quarters_restated:
        submit(harbor, revenue_rows(harbor, quarter, 2_000_000))
    agreement_evaluate(agreement_id=harbor.agreement.pk, as_of=as_of)
    # Restated under the minimum: tests already decided turn to breach, each of them news
    # (a first evaluation alerts about each covenant's latest test only: alerts.history).
    for quarter in quarters_restated:
        submit(harbor, revenue_rows(harbor, quarter, 900_000))
    summary = agreement_evaluate(agreement_id=harbor.agreement.pk, as_of=as_of)
    assert Alert.objects.count() == quarters
    # Forget what the evaluation raised, and raise its events again on their own.
    AlertDelivery.objects.all().delete()
    Alert.objects.all().delete()
    with django_assert_num_queries(7):
        raised = alerts_raise_for_events(summary.events, as_of=as_of)
    assert len(raised) == quarters
    assert AlertDelivery.objects.count() == quarters * (4 * 2 + 1)
