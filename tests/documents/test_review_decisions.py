"""Deciding a review's items: each decision is kept, a section is decided at once, and only
the agreement's Agents and administrators review; others see no review at all."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from covenants.choices import Role
from documents.models import ItemDecision, ReviewItem
from documents.review import (
    abandon_review,
    add_item,
    decide,
    decide_section,
    item_by_key,
    open_review,
    review_items,
    reviews_visible,
)
from documents.services import document_store
from parties.choices import MembershipRole
from parties.models import Party
from tests.covenants.helpers import seed_loan
from tests.documents.review_helpers import LOAN, empty_deal, opened, stored
from tests.factories import administrator, member, outsider

pytestmark = pytest.mark.django_db

ROW = "covenant:7.01(b):row:2000-03-31"


def test_opening_a_review_proposes_every_fact_with_its_span_and_leaves_the_portal_alone():
    review = opened(administrator())
    keys = set(review.items.values_list("key", flat=True))
    assert {f"agreement:{LOAN}", "party:KMC Telecom II, Inc.", "covenant:7.01(b)", ROW, "condition:1"} <= keys
    row = review.items.get(key=ROW)
    assert row.section == ReviewItem.Section.COVENANTS
    assert row.label == "7.01(b) minimum for March 31, 2000"
    assert row.proposed == {
        "test_date": "2000-03-31",
        "threshold": "23821000",
        "threshold_state": "set",
        "amount_as_printed": "$23,821,000",
        "applies_thereafter": False,
    }
    assert "$23,821,000" in review.document.text[row.span_start : row.span_end]
    assert row.decision == ReviewItem.Decision.PENDING
    # The blank deadline is proposed as unknown, not guessed.
    assert review.items.get(key="condition:1").proposed["deadline"] is None
    assert set(review.items.values_list("section", flat=True)) == set(ReviewItem.Section.values)


def test_every_decision_is_kept_and_a_repeat_adds_none():
    admin = administrator()
    review = opened(admin)
    item = review.items.get(key=ROW)
    decide(admin, item, "accepted")
    decide(admin, item, "edited", {**item.proposed, "threshold": "23822000"}, note="as corrected by the Agent")
    decide(admin, item, "edited", {**item.proposed, "threshold": "23822000"}, note="as corrected by the Agent")
    decide(admin, item, "rejected", note="not this row")
    item.refresh_from_db()
    assert item.decision == "rejected" and item.edited is None and item.note == "not this row"
    history = list(ItemDecision.objects.filter(item=item).values_list("decision", "value", "note", "decided_by"))
    assert history == [
        ("accepted", None, "", admin.pk),
        ("edited", {**item.proposed, "threshold": "23822000"}, "as corrected by the Agent", admin.pk),
        ("rejected", None, "not this row", admin.pk),
    ]


def test_an_edit_needs_the_value_and_a_decision_must_be_one():
    admin = administrator()
    item = opened(admin).items.get(key=ROW)
    with pytest.raises(ValidationError, match="must be an object of the item's fields"):
        decide(admin, item, "edited")
    with pytest.raises(ValidationError, match="'maybe' is not a decision"):
        decide(admin, item, "maybe")
    assert not ItemDecision.objects.exists()


def test_a_section_is_accepted_at_once_but_not_edited():
    admin = administrator()
    review = opened(admin)
    changed = decide_section(admin, review, "covenants", "accepted")
    assert changed == review.items.filter(section="covenants").count() == 15
    assert not review.items.filter(section="covenants").exclude(decision="accepted").exists()
    assert not review.items.exclude(section="covenants").exclude(decision="pending").exists()
    assert decide_section(admin, review, "covenants", "accepted") == 0
    with pytest.raises(ValidationError, match="not edited"):
        decide_section(admin, review, "covenants", "edited")
    with pytest.raises(ValidationError, match="'terms' is not a section"):
        decide_section(admin, review, "terms", "accepted")


def test_a_reviewer_adds_a_fact_the_importer_did_not_propose():
    admin = administrator()
    review = opened(admin)
    value = {"legal_name": "CIBC World Markets Corp.", "kind": "corporation", "jurisdiction": "", "former_names": []}
    item = add_item(
        admin, review, key="party:CIBC World Markets Corp.", section="parties", label="CIBC World Markets Corp.",
        value=value, note="named in a signature line's title",
    )  # fmt: skip
    assert item.decision == "edited" and item.value == value and item.span_start is None
    with pytest.raises(ValidationError, match="already has an item"):
        add_item(admin, review, key=item.key, section="parties", label="again", value=value)


def test_a_closed_review_cannot_be_decided():
    admin = administrator()
    review = opened(admin)
    abandon_review(admin, review)
    with pytest.raises(ValidationError, match="abandoned"):
        decide(admin, review.items.get(key=ROW), "accepted")


def test_only_the_agreements_agents_and_administrators_review_its_documents():
    loan = seed_loan()
    agent_party = loan.agreement.roles.get(role=Role.AGENT).party
    agent = member("firstunion.ops", MembershipRole.AGENT, agent_party)
    lender = member(
        "cibc.credit", MembershipRole.LENDER, Party.objects.get(legal_name="Canadian Imperial Bank of Commerce")
    )
    borrower = member("kmc.finance", MembershipRole.BORROWER, loan.borrowers["KMC"])
    document = stored(agent, loan.agreement)
    review = open_review(agent, document)
    for user in (lender, borrower, outsider()):
        with pytest.raises(PermissionDenied):
            open_review(user, document)
        with pytest.raises(PermissionDenied):
            decide(user, review.items.get(key=ROW), "accepted")
        assert not reviews_visible(user).exists()
        assert not review_items(user, review).exists()
        with pytest.raises(ReviewItem.DoesNotExist):
            item_by_key(user, review, ROW)
    assert review in reviews_visible(agent)
    assert item_by_key(agent, review, ROW).key == ROW
    decide(agent, item_by_key(agent, review, ROW), "accepted")


def test_a_listed_row_printed_with_and_thereafter_is_proposed_open_ended():
    """ "September 30, 2005 (and thereafter)": that row reaches every later test date; the rows
    before it, and each earlier date of a grouped row, do not."""
    admin = administrator()
    fixture = Path(__file__).resolve().parent / "fixtures" / "ratio_table_grouped.txt"
    document = document_store(
        user=admin, agreement=empty_deal(), content=fixture.read_bytes(), filename=fixture.name
    ).document
    review = open_review(admin, document)
    rows = {
        item.key.rsplit(":", 1)[1]: item.proposed["applies_thereafter"]
        for item in review.items.filter(key__contains=":row:")
    }
    assert rows["2005-09-30"] is True
    assert rows["2005-03-31"] is False and rows["2005-06-30"] is False
    assert sum(rows.values()) == 1
