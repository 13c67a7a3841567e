"""Terms an amendment made take effect on its effective date and move with it; a move that would
leave a schedule row outside its terms' time in force is refused, naming the terms."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from covenants.amendment_terms import amendment_terms_follow
from covenants.choices import TermsAction
from covenants.models import Agreement, Amendment, CovenantTerms, ThresholdStep
from tests.admin_forms import change_form_data
from tests.factories import administrator, second_facility

pytestmark = pytest.mark.django_db
D = dt.date


@pytest.fixture
def deal():
    """Harbor's revenue covenant, replaced by Amendment No. 1 effective 2020-06-30 with a schedule
    from 2020-09-30, and a version set by its own printed date that must not move."""
    facility = second_facility("Harbor")
    agreement = facility.agreement
    amendment = Amendment.objects.create(
        agreement=agreement, number=1, title="Amendment No. 1", dated_as_of=D(2020, 6, 1), effective_on=D(2020, 6, 30)
    )
    original = CovenantTerms.objects.get(covenant__agreement=agreement, covenant__section="6.1")
    replaced = CovenantTerms.objects.create(
        covenant=original.covenant,
        amendment=amendment,
        action=TermsAction.REPLACE,
        effective_from=D(2020, 6, 30),
        line_item=original.line_item,
    )
    ThresholdStep.objects.create(terms=replaced, test_date=D(2020, 9, 30), applies_thereafter=True, threshold=2)
    leverage = CovenantTerms.objects.get(covenant__agreement=agreement, covenant__section="6.2")
    printed = CovenantTerms.objects.create(
        covenant=leverage.covenant,
        amendment=amendment,
        action=TermsAction.REPLACE,
        effective_from=D(2021, 3, 31),
        effective_from_as_printed=True,
        metric_kind=leverage.metric_kind,
        line_item=leverage.line_item,
        denominator_line_item=leverage.denominator_line_item,
        denominator_window_periods=4,
    )
    ThresholdStep.objects.create(terms=printed, test_date=D(2021, 3, 31), threshold=Decimal("5.0"))
    return agreement, amendment, replaced, printed


def test_terms_move_with_their_amendments_effective_date_and_history_records_it(
    deal, django_capture_on_commit_callbacks
):
    agreement, amendment, replaced, printed = deal
    with django_capture_on_commit_callbacks():
        amendment.effective_on = D(2020, 7, 15)
        amendment.save()
    replaced.refresh_from_db()
    printed.refresh_from_db()
    assert replaced.effective_from == D(2020, 7, 15)
    assert printed.effective_from == D(2021, 3, 31)  # its own printed date holds
    assert [h.effective_from for h in replaced.history.order_by("history_id")][-2:] == [D(2020, 6, 30), D(2020, 7, 15)]
    agreement.refresh_from_db()
    assert Agreement.objects.get(pk=agreement.pk).evaluation_requested_at is not None


def test_a_move_past_a_schedule_row_is_refused_naming_the_terms(deal):
    _, amendment, replaced, _ = deal
    amendment.effective_on = D(2020, 12, 31)
    with pytest.raises(ValidationError) as caught:
        amendment.save()
    message = caught.value.message_dict["effective_on"][0]
    assert "the terms of 6.1 made by Amendment No. 1" in message
    assert "their schedule tests 2020-09-30, before they would take effect on 2020-12-31" in message
    assert Amendment.objects.get(pk=amendment.pk).effective_on == D(2020, 6, 30)
    replaced.refresh_from_db()
    assert replaced.effective_from == D(2020, 6, 30)


def test_a_move_earlier_that_would_govern_the_earlier_terms_rows_is_refused(deal):
    _, amendment, _, _ = deal
    ThresholdStep.objects.create(
        terms=CovenantTerms.objects.get(amendment=None, covenant__section="6.1"), test_date=D(2020, 3, 31), threshold=1
    )
    amendment.effective_on = D(2020, 1, 15)
    with pytest.raises(ValidationError, match=r"the earlier terms of 6.1 \(from 2019-06-28\) test 2020-03-31"):
        amendment_terms_follow(amendment)


def test_the_admin_shows_the_refusal_on_the_form_and_moves_terms_when_it_agrees(client, deal):
    _, amendment, replaced, _ = deal
    client.force_login(administrator())
    url = reverse("admin:covenants_amendment_change", args=[amendment.pk])
    data = change_form_data(client.get(url))
    response = client.post(url, {**data, "effective_on": "2020-12-31"})
    assert response.status_code == 200
    assert "these disagree" in response.content.decode()
    response = client.post(url, {**data, "effective_on": "2020-08-01"})
    assert response.status_code == 302
    replaced.refresh_from_db()
    assert replaced.effective_from == D(2020, 8, 1)
