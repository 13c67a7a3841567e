"""Applying a review: only what is accepted reaches the portal, in one transaction, each value
with the span it was read from; a value the models refuse is named with its item and field,
and nothing is written."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from covenants.models import AgreementRole, ConditionPrecedent, Covenant, CovenantTerms, ThresholdStep
from covenants.terms_services import ScheduleRowData, covenant_create, covenant_terms_create
from documents.models import ImportReview, SourceSpan
from documents.review import apply_review, decide, decide_section, open_review, spans_of
from documents.review.deciding import record
from parties.models import Party, PartyRelationship, SignatureBlock
from tests.documents.review_helpers import empty_deal, opened, stored
from tests.factories import administrator, line_item

pytestmark = pytest.mark.django_db

ROW = "covenant:7.01(b):row:2000-03-31"


def test_nothing_is_written_until_something_is_accepted():
    admin = administrator()
    review = opened(admin)
    parties_before = Party.objects.count()
    with pytest.raises(ValidationError, match="Nothing is accepted"):
        apply_review(admin, review)
    decide_section(admin, review, "parties", "rejected")
    with pytest.raises(ValidationError, match="Nothing is accepted"):
        apply_review(admin, review)
    assert Party.objects.count() == parties_before
    assert review.items.filter(section="parties").count() > 0


def test_accepting_the_parties_creates_the_parties_and_nothing_else():
    admin = administrator()
    review = opened(admin)
    decide_section(admin, review, "parties", "accepted")
    decide(
        admin,
        review.items.get(key="relationship:KMC Telecom II, Inc.:sole_member_of:KMC Telecom Leasing I LLC"),
        "rejected",
    )
    applied = apply_review(admin, review)
    assert (
        applied.created["parties"] == 18 + 2
    )  # read as parties, and the CIT Group and Stein Roe & Farnham named in passing
    assert Party.objects.filter(legal_name="KMC Telecom II, Inc.", kind="corporation", jurisdiction="Delaware").exists()
    assert Party.objects.get(legal_name="Newcourt Commercial Finance Corporation").former_names.get().name == (
        "AT&T Commercial Finance Corporation"
    )
    assert not PartyRelationship.objects.filter(party__legal_name="KMC Telecom II, Inc.").exists()
    assert not AgreementRole.objects.exists() and not Covenant.objects.exists() and not SignatureBlock.objects.exists()
    review.refresh_from_db()
    assert review.status == ImportReview.Status.APPLIED and review.applied_by == admin
    with pytest.raises(ValidationError, match="applied"):
        apply_review(admin, review)


def test_an_edited_value_the_models_refuse_names_the_item_and_field_and_nothing_is_written():
    admin = administrator()
    review = opened(admin)
    for section in ("instrument", "parties", "roles", "covenants"):
        decide_section(admin, review, section, "accepted")
    row = review.items.get(key=ROW)
    bad = {**row.proposed, "threshold": "twenty-three million"}
    # A reviewer's edit is refused when taken (documents.review.checks) ...
    with pytest.raises(ValidationError, match="is not a number"):
        decide(admin, row, "edited", bad)
    # ... and a value recorded without that check (a command's stored decisions) at apply.
    record(row, "edited", bad, "", admin)
    with pytest.raises(ValidationError) as refused:
        apply_review(admin, review)
    assert refused.value.message_dict["items"] == [f"{ROW}: threshold: 'twenty-three million' is not an amount."]
    party = review.items.get(key="party:KMC Telecom II, Inc.")
    decide(admin, row, "accepted")
    decide(admin, party, "edited", {**party.proposed, "kind": "spaceship"})
    with pytest.raises(ValidationError) as refused:
        apply_review(admin, review)
    assert refused.value.message_dict["items"] == [
        "party:KMC Telecom II, Inc.: kind: Value 'spaceship' is not a valid choice."
    ]
    assert not Party.objects.filter(legal_name__startswith="KMC").exists()
    assert not Covenant.objects.exists() and not SourceSpan.objects.exists()
    assert ImportReview.objects.get(pk=review.pk).status == ImportReview.Status.OPEN


def test_a_row_whose_covenant_is_rejected_is_refused():
    admin = administrator()
    review = opened(admin)
    for section in ("instrument", "covenants"):
        decide_section(admin, review, section, "accepted")
    decide(admin, review.items.get(key="covenant:7.01(b)"), "rejected")
    with pytest.raises(ValidationError, match=r"covenant:7.01\(b\) is not accepted"):
        apply_review(admin, review)
    assert not Covenant.objects.exists()


def test_applying_everything_writes_the_deal_with_a_span_for_each_value():
    admin = administrator()
    review = opened(admin)
    for section in review.items.values_list("section", flat=True).distinct():
        decide_section(admin, review, section, "accepted")
    apply_review(admin, review)
    terms = CovenantTerms.objects.get(covenant__section="7.01(b)")
    assert terms.amendment.number == 4 and terms.effective_from == dt.date(1999, 12, 31)
    step = terms.schedule.get(test_date=dt.date(2000, 3, 31))
    assert step.threshold == Decimal("23821000")
    [span] = spans_of(admin, step)
    assert span.label == "7.01(b) minimum for March 31, 2000"
    assert "$23,821,000" in span.excerpt and span.document == review.document
    party = Party.objects.get(legal_name="KMC Telecom II, Inc.")
    assert spans_of(admin, party).get().excerpt.casefold() == "kmc telecom ii, inc."
    # As printed: the second Leasing I block, and the blank line of Morgan Stanley Senior Funding.
    leasing_i = SignatureBlock.objects.filter(party__legal_name="KMC Telecom Leasing I LLC").order_by("position")
    assert [b.through_party.legal_name for b in leasing_i] == ["KMC TELECOM INC.", "KMC Telecom II, Inc."]
    assert not SignatureBlock.objects.filter(party__legal_name="KMC Telecom Leasing II LLC").exists()
    blank = SignatureBlock.objects.get(party__legal_name="MORGAN STANLEY SENIOR FUNDING, INC.").signatures.get(
        position=2
    )
    assert blank.person is None and blank.title == "" and not blank.conformed
    condition = ConditionPrecedent.objects.get(amendment__agreement=review.document.agreement)
    assert condition.deadline is None and condition.deadline_as_printed == "January __, 2000"


def test_accepted_terms_replace_the_terms_in_force_through_the_terms_services(django_capture_on_commit_callbacks):
    admin = administrator()
    agreement = empty_deal()
    revenues = line_item("revenues", "Revenues")
    covenant = covenant_create(user=admin, agreement=agreement, section="7.01(b)", name="Minimum revenues")
    covenant_terms_create(
        user=admin, covenant=covenant, effective_from=dt.date(1999, 3, 31), line_item=revenues,
        schedule=[ScheduleRowData(test_date=dt.date(1999, 9, 30), threshold=Decimal("10000000"))],
    )  # fmt: skip
    review = open_review(admin, stored(admin, agreement))
    item = review.items.get(key="covenant:7.01(b)")
    assert item.conflict["terms"]["portal"] == "terms in force from 1999-03-31"
    for section in ("instrument", "covenants"):
        decide_section(admin, review, section, "accepted")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        apply_review(admin, review)
    versions = list(covenant.terms.order_by("effective_from").values_list("effective_from", flat=True))
    assert versions == [dt.date(1999, 3, 31), dt.date(1999, 12, 31)]
    assert (
        ThresholdStep.objects.filter(terms__covenant=covenant, terms__effective_from=dt.date(1999, 12, 31)).count() == 6
    )
    assert callbacks, "the agreement's re-evaluation is requested on commit"
