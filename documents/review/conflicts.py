"""What the portal holds that an item would change: a party held under another name, fields
that differ, terms in force that the document's terms would replace."""

from __future__ import annotations

from typing import Any

import documents.review.matching as matching
from covenants.models import AgreementRole, Amendment, Covenant, CovenantTerms
from documents.models import Document

Conflict = dict[str, dict[str, Any]]


def _plain(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def differences(obj: Any, value: dict[str, Any], fields: tuple[str, ...]) -> Conflict:
    """The fields the item states (a value, not blank) that the row holds otherwise."""
    out: Conflict = {}
    for name in fields:
        proposed = value.get(name)
        held = _plain(getattr(obj, name))
        if proposed not in (None, "") and str(held) != str(proposed):
            out[name] = {"portal": held, "proposed": proposed}
    return out


def _party(document: Document, key: str, value: dict[str, Any]) -> Conflict:
    party = matching.existing(document, key, value)
    if party is None:
        return {}
    out = differences(party, value, ("kind", "jurisdiction"))
    if party.legal_name != value.get("legal_name"):
        out["legal_name"] = {
            "portal": party.legal_name,
            "proposed": value.get("legal_name"),
            "note": "the portal holds this party under another name; applying keeps the portal's name",
        }
    return out


def _agreement_named(key: str | None) -> Any:
    return matching.agreement_named(key[10:]) if key and key.startswith("agreement:") else None


def _role(value: dict[str, Any]) -> Conflict:
    agreement = _agreement_named(value.get("agreement"))
    party = matching.party_named(value["party"][6:]) if value.get("party") else None
    role = AgreementRole.objects.filter(agreement=agreement, party=party, role=value.get("role")).first()
    return differences(role, value, ("defined_term", "capacity_as_printed", "holds_from", "holds_to")) if role else {}


def _covenant(value: dict[str, Any]) -> Conflict:
    """Terms in force before the document's date are replaced from it; terms of the same date differ."""
    covenant = Covenant.objects.filter(agreement=_agreement_named(value.get("agreement")), section=value.get("section"))
    covenant = covenant.first()
    effective = value.get("effective_from")
    if covenant is None or not effective:
        return {}
    same = CovenantTerms.objects.filter(covenant=covenant, effective_from=effective).first()
    if same is not None:
        return differences(same, value, ("action", "reading", "window_periods", "direction", "basis"))
    in_force = covenant.terms.filter(effective_from__lt=effective).order_by("-effective_from").first()
    if in_force is None:
        return {}
    return {
        "terms": {
            "portal": f"terms in force from {in_force.effective_from.isoformat()}",
            "proposed": f"{value.get('action')} from {effective}",
            "note": "the document's terms replace the terms in force from its date; the earlier terms are kept",
        }
    }


def conflict_of(document: Document, key: str, value: dict[str, Any]) -> Conflict:
    """What applying this item would change of what the portal holds ({} when nothing)."""
    kind = key.split(":", 1)[0]
    if kind == "party":
        return _party(document, key, value)
    if kind == "agreement":
        agreement = matching.existing(document, key, value)
        fields = ("kind", "title", "contract_number", "dated_as_of", "effective_on", "governing_law")
        return differences(agreement, value, fields) if agreement else {}
    if kind == "amendment":
        amendment = Amendment.objects.filter(
            agreement=_agreement_named(value.get("agreement")), number=value.get("number")
        ).first()
        return differences(amendment, value, ("title", "dated_as_of", "effective_on", "status")) if amendment else {}
    if kind == "role":
        return _role(value)
    if kind == "covenant" and ":row:" not in key:
        return _covenant(value)
    return {}
