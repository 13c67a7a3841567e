"""How each kind of accepted item is written into the portal's models."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType

import documents.review.matching as matching
from covenants.models import Agreement, AgreementRole, Amendment, ConditionPrecedent, LineItem, Reaffirmation
from documents.models import ReviewItem
from documents.review.writer import Writer
from parties.models import Address, FormerName, Party, PartyRelationship, Person, Signature, SignatureBlock

AGREEMENT_FIELDS = ("kind", "title", "defined_term", "contract_number", "dated_as_of", "effective_on", "governing_law")


def write_agreement(w: Writer, item: ReviewItem) -> Agreement:
    value = item.value
    found = matching.existing(w.document, item.key, value)
    if found is None and item.key == f"agreement:{w.review.agreement.name if w.review.agreement else ''}":
        found = w.review.agreement
    values = {name: value.get(name) or "" for name in AGREEMENT_FIELDS}
    values["dated_as_of"], values["effective_on"] = value.get("dated_as_of"), value.get("effective_on")
    values["guaranteed_agreement"] = w.resolve(item, value.get("guaranteed_agreement"), "guaranteed_agreement")
    agreement = w.save(item, Agreement, found, {} if found else {"name": value["name"]}, values, fill_only=True)
    wanted = set()
    for line in value.get("required_line_items") or []:
        found_item = LineItem.objects.filter(code=line["code"]).first()
        wanted.add(
            w.save(item, LineItem, found_item, {"code": line["code"]}, {} if found_item else {"name": line["name"]}).pk
        )
    if set(agreement.required_line_items.values_list("pk", flat=True)) != wanted:
        agreement.required_line_items.set(wanted)
    w.span(item, agreement)
    return agreement


def write_amendment(w: Writer, item: ReviewItem) -> Amendment:
    value = item.value
    agreement = w.agreement(item, value["agreement"])
    found = matching.amendment_of(agreement, value.get("number"))
    fields = ("title", "defined_term", "contract_number", "dated_as_of", "effective_on", "status")
    values = {
        name: value.get(name) if name in ("dated_as_of", "effective_on") else value.get(name) or "" for name in fields
    }
    lookup = {"agreement": agreement, "number": value.get("number")}
    amendment = w.save(item, Amendment, found, lookup, values, fill_only=True)
    w.span(item, amendment)
    return amendment


def write_reaffirmation(w: Writer, item: ReviewItem) -> Reaffirmation:
    value = item.value
    guaranty = w.agreement(item, value["guaranty"], "guaranty")
    amendment = w.resolve(item, value["amendment"], "amendment")
    found = matching.reaffirmation_of(guaranty, amendment)
    values = {"title": value.get("title") or "Reaffirmation of Guaranty", "dated_as_of": value.get("dated_as_of")}
    reaffirmation = w.save(item, Reaffirmation, found, {"guaranty": guaranty, "amendment": amendment}, values)
    w.span(item, reaffirmation)
    return reaffirmation


def write_party(w: Writer, item: ReviewItem) -> Party:
    """A party found keeps its name in the portal (a rename there stands); what the document
    states of its kind and jurisdiction is set, what it leaves unstated is left alone."""
    value = item.value
    found = matching.existing(w.document, item.key, value)
    stated = {name: value[name] for name in ("kind", "jurisdiction") if value.get(name)}
    if found is None:
        stated.setdefault("kind", "other")
    party = w.save(item, Party, found, {} if found else {"legal_name": value["legal_name"]}, stated)
    for name in value.get("former_names") or []:
        w.save(
            item,
            FormerName,
            FormerName.objects.filter(party=party, name=name).first(),
            {"party": party, "name": name},
            {},
        )
    office = value.get("address")
    if office:
        lookup = {"party": party, **{k: office.get(k) or "" for k in ("street", "suite", "city", "postal_code")}}
        w.save(item, Address, Address.objects.filter(**lookup).first(), lookup, {"region": office.get("region") or ""})
    w.span(item, party)
    return party


def write_relationship(w: Writer, item: ReviewItem) -> PartyRelationship:
    value = item.value
    lookup = {
        "party": w.party(item, value["party"], "party"),
        "kind": value["kind"],
        "other": w.party(item, value["other"], "other"),
    }
    relationship = w.save(item, PartyRelationship, PartyRelationship.objects.filter(**lookup).first(), lookup, {})
    w.span(item, relationship)
    return relationship


def write_role(w: Writer, item: ReviewItem) -> AgreementRole:
    value = item.value
    agreement = w.agreement(item, value["agreement"])
    lookup = {"agreement": agreement, "party": w.party(item, value["party"], "party"), "role": value["role"]}
    values = {
        "defined_term": value.get("defined_term") or "",
        "capacity_as_printed": value.get("capacity_as_printed") or "",
        "holds_from": value.get("holds_from"),
        "holds_to": value.get("holds_to"),
        "added_by": w.resolve(item, value.get("added_by"), "added_by"),
    }
    role = w.save(item, AgreementRole, AgreementRole.objects.filter(**lookup).first(), lookup, values, fill_only=True)
    w.span(item, role)
    return role


def write_condition(w: Writer, item: ReviewItem) -> ConditionPrecedent:
    value = item.value
    amendment = w.resolve(item, value["amendment"], "amendment")
    lookup = {"amendment": amendment, "description": value.get("description") or ""}
    values = {"deadline": value.get("deadline"), "deadline_as_printed": value.get("deadline_as_printed") or ""}
    condition = w.save(item, ConditionPrecedent, ConditionPrecedent.objects.filter(**lookup).first(), lookup, values)
    w.span(item, condition)
    return condition


def write_signature(w: Writer, item: ReviewItem) -> SignatureBlock:
    """A block as printed, at its position on the document's signature pages, with its lines;
    a line printed blank is kept blank (no person, no title)."""
    value = item.value
    document = w.document_of(item, value["document"])
    lookup: dict[str, Any] = {
        "document_type": ContentType.objects.get_for_model(document),
        "document_id": document.pk,
        "position": value["position"],
    }
    values = {
        "party": w.party(item, value["party"], "party"),
        "party_name_as_printed": value.get("party_name_as_printed") or "",
        "capacity_as_printed": value.get("capacity_as_printed") or "",
        "through_party": w.party(item, value.get("through_party"), "through_party"),
        "through_capacity": value.get("through_capacity") or "",
    }
    block = w.save(item, SignatureBlock, SignatureBlock.objects.filter(**lookup).first(), lookup, values)
    lines = value.get("lines") or []
    for position, line in enumerate(lines, start=1):
        person = None
        if line.get("person"):
            person = w.save(
                item, Person, Person.objects.filter(full_name=line["person"]).first(), {"full_name": line["person"]}, {}
            )
        line_values = {
            "person": person,
            "title": line.get("title") or "",
            "title_as_printed": line.get("title_as_printed") or "",
            "for_party": w.party(item, line.get("for_party"), "for_party"),
            "for_party_capacity": line.get("for_party_capacity") or "",
            "conformed": bool(line.get("conformed")),
        }
        found = Signature.objects.filter(block=block, position=position).first()
        w.save(item, Signature, found, {"block": block, "position": position}, line_values)
    w.prune(block.signatures.filter(position__gt=len(lines)))
    w.span(item, block)
    return block


def prune_signature_pages(w: Writer) -> None:
    """A document's signature pages are the blocks applied from it: a block at a position the
    accepted items no longer give is removed (its lines with it)."""
    written: dict[tuple[int, int], set[int]] = {}
    for key, block in w.rows.items():
        if key.startswith("signature:"):
            written.setdefault((block.document_type_id, block.document_id), set()).add(block.position)
    for (type_id, document_id), positions in written.items():
        w.prune(
            SignatureBlock.objects.filter(document_type_id=type_id, document_id=document_id).exclude(
                position__in=positions
            )
        )
