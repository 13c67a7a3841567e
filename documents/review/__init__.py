"""
Reviewing what the importer proposes from a stored document, and applying what is accepted.

The flow: ``open_review`` turns a document's proposal into review items, one per proposed
fact; a reviewer ``decide``s each (or a whole section with ``decide_section``): accepted,
edited (with the value as corrected) or rejected; ``apply_review`` writes the accepted and
edited values into the portal in one transaction, with a :class:`~documents.models.SourceSpan`
for each, and nothing else. Only the Agents and administrators of the document's agreement
review it (``documents.scopes``); everyone else sees no review at all.

Models (documents.models)
-------------------------
- ``ImportReview``: document, agreement (the one the proposal applies to, nullable until
  chosen), proposal (JSON, as read), status open/applied/abandoned, opened_by/at, applied_by/at.
- ``ReviewItem``: review, key (stable: "party:KMC Telecom II, Inc."), section (instrument,
  parties, roles, covenants, conditions, signatures), position, label, proposed (JSON),
  span_start/span_end (into ``document.text``), confidence, reason, conflict (JSON: what the
  portal holds that the value would change), decision pending/accepted/edited/rejected,
  edited (JSON), decided_by/at, note; ``item.value`` is the value that would be applied.
- ``ItemDecision``: every decision taken on an item (decision, value, note, by, at), appended
  and never rewritten.
- ``SourceSpan``: document, the object it gives a value of (content_type + object_id, generic
  ``target``), field ("" for the row as a whole), label ("7.01(b) minimum for March 31,
  2000"), start/end into ``document.text``, item_key; ``span.excerpt`` is the text.

Item keys and values (``proposed`` and ``edited`` have the same shape; dates ISO, amounts as
strings; names of parties and agreements refer to other items' values)
-----------------------------------------------------------------------------------------
- instrument ``agreement:<name>``: {name, kind, title, defined_term, contract_number,
  dated_as_of, effective_on, governing_law, guaranteed_agreement (a name or null),
  required_line_items [{code, name}]}
- instrument ``amendment:<agreement name>:<number>``: {agreement, number, title, defined_term,
  contract_number, dated_as_of, effective_on, status}
- instrument ``reaffirmation:<guaranty name>:<number>``: {guaranty, agreement, amendment
  (number), title, dated_as_of}
- parties ``party:<legal name>``: {legal_name, kind, jurisdiction, former_names [],
  address {street, suite, city, region, postal_code} or null, relationships [{kind, other}]}
- roles ``role:<agreement name>:<party>:<role>``: {agreement, party, role, defined_term,
  capacity_as_printed, holds_from, holds_to, added_by (amendment number or null)}
- covenants ``covenant:<section>``: {agreement, section, name, amendment (number), action,
  effective_from, text_as_printed, reading, metric_kind, line_item, window_periods,
  window_kind, direction, basis}
- covenants ``covenant:<section>:row:<test date>``: {test_date, threshold, amount_as_printed}
  (a row applies only with its covenant accepted)
- conditions ``condition:<agreement name>:<number>:<n>``: {agreement, amendment, description,
  deadline (null when printed blank), deadline_as_printed}
- signatures ``signature:<document>:<position>``, document "amendment:<agreement>:<number>"
  or "reaffirmation:<guaranty>:<number>": {document, position, party, party_name_as_printed,
  capacity_as_printed, through_party, through_capacity, lines [{person, title,
  title_as_printed, for_party, for_party_capacity, conformed}]} (a blank line: person null)

Services (each checks the user may review the document's agreement; PermissionDenied if not;
ValidationError naming the item and field for a value the models refuse; nothing half-saved)
-----------------------------------------------------------------------------------------
- ``open_review(user, document, agreement=None) -> ImportReview``
- ``decide(user, item, decision, value=None, note="") -> ReviewItem``
- ``decide_section(user, review, section, decision, note="") -> int`` (items decided)
- ``apply_review(user, review) -> Applied`` (rows created/updated/removed, spans written). A
  row the portal already holds is found by the row an earlier review of the same document
  wrote for the key (so a party renamed since stays one party), else by its natural key; a
  party found keeps the portal's name, and for agreements, amendments, parties and roles
  what the value leaves blank is left as the portal holds it. New terms of a covenant go
  through covenants.terms_services (the agreement is re-evaluated on commit); the terms a
  document gives keep exactly its accepted schedule rows, and its signature pages exactly
  its accepted blocks.
- ``abandon_review(user, review) -> ImportReview``
- ``add_item(user, review, *, key, section, label, value, note="") -> ReviewItem``: a fact the
  importer did not propose, added by the reviewer (an edit of an empty proposal, no span)

Selectors (scoped by the access rule)
-------------------------------------
- ``reviews_visible(user) -> QuerySet[ImportReview]``
- ``review_items(user, review, section=None) -> QuerySet[ReviewItem]``
- ``item_by_key(user, review, key) -> ReviewItem`` (ReviewItem.DoesNotExist if not visible)
- ``spans_of(user, obj, field=None) -> QuerySet[SourceSpan]`` (the spans a value came from)
"""

from documents.review.applying import apply_review
from documents.review.deciding import abandon_review, add_item, decide, decide_section
from documents.review.opening import open_review
from documents.review.selectors import item_by_key, review_items, reviews_visible, spans_of
from documents.review.writer import Applied

__all__ = [
    "Applied",
    "abandon_review",
    "add_item",
    "apply_review",
    "decide",
    "decide_section",
    "item_by_key",
    "open_review",
    "review_items",
    "reviews_visible",
    "spans_of",
]
