"""The instrument section: the agreement, its amendments, the guaranty and its reaffirmation."""

from __future__ import annotations

from typing import Any

from covenants.choices import AgreementKind, AmendmentStatus
from documents.importer.types import InstrumentRef, PrintedDate
from documents.review.proposed.context import Context, ItemData

SECTION = "instrument"

# Words of a title and the kind of agreement they name, the first that matches.
KINDS: tuple[tuple[str, str], ...] = (
    ("loan and security", AgreementKind.LOAN_AND_SECURITY_AGREEMENT),
    ("credit agreement", AgreementKind.CREDIT_AGREEMENT),
    ("general agreement", AgreementKind.GENERAL_AGREEMENT),
    ("guaranty", AgreementKind.GUARANTY),
)


def agreement_kind(title: str) -> str:
    lowered = title.lower()
    return next((kind for words, kind in KINDS if words in lowered), AgreementKind.OTHER)


def iso(printed: PrintedDate | None) -> str | None:
    return printed.value.isoformat() if printed is not None and printed.value is not None else None


def line_item(metric: str) -> dict[str, str]:
    """The line item a covenant's metric is measured on ("EBITDA losses" are EBITDA's): its
    code, and its name as the document writes it."""
    words = metric.replace(" losses", "").replace(" loss", "").strip()
    return {"code": "_".join(words.lower().split()), "name": words[:1].upper() + words[1:]}


def line_item_code(metric: str) -> str:
    return line_item(metric)["code"]


def _agreement(context: Context, ref: InstrumentRef | None) -> ItemData:
    proposal, instrument = context.proposal, context.proposal.instrument
    title = ref.name if ref else (instrument.amends or instrument.title if instrument else context.agreement_name)
    law = instrument.governing_law if instrument else None
    # A ratio is no line item: its numerator and denominator are, and the reviewer names them.
    codes = {
        line_item_code(c.metric): line_item(c.metric) for c in proposal.covenants if c.metric and c.kind != "ratio"
    }
    value = {
        "name": context.agreement_name,
        "kind": agreement_kind(title),
        "title": title,
        "defined_term": "",
        "contract_number": (ref.contract_number or "") if ref else "",
        "dated_as_of": iso(ref.dated) if ref else None,
        "effective_on": None,
        "governing_law": law.jurisdiction if law else "",
        "guaranteed_agreement": None,
        "required_line_items": [codes[code] for code in sorted(codes)],
    }
    span = ref.span if ref else (instrument.span if instrument else None)
    confidence = ref.confidence if ref else (instrument.confidence if instrument else 0.5)
    reason = ref.reason if ref else "the agreement the document amends"
    return ItemData(context.agreement_key, SECTION, context.agreement_name, value, span, confidence, reason)


def _amendment(context: Context, ref: InstrumentRef) -> ItemData:
    value = {
        "agreement": context.agreement_key,
        "number": ref.number,
        "title": ref.name,
        "defined_term": "",
        "contract_number": ref.contract_number or "",
        "dated_as_of": iso(ref.dated),
        "effective_on": None,
        "status": AmendmentStatus.EFFECTIVE,
    }
    key = f"amendment:{context.agreement_name}:{ref.number}"
    return ItemData(
        key, SECTION, f"{ref.name} of {context.agreement_name}", value, ref.span, ref.confidence, ref.reason
    )


def _this_amendment(context: Context) -> ItemData:
    """The document itself, when it is an amendment: pending while it has conditions precedent."""
    instrument = context.proposal.instrument
    assert instrument is not None and context.amendment_key is not None
    effective = "effective" in instrument.date_label
    status = AmendmentStatus.PENDING if context.proposal.conditions else AmendmentStatus.EFFECTIVE
    value: dict[str, Any] = {
        "agreement": context.agreement_key,
        "number": instrument.number,
        "title": instrument.title,
        "defined_term": "",
        "contract_number": "",
        "dated_as_of": None if effective else iso(instrument.dated),
        "effective_on": iso(instrument.dated) if effective else None,
        "status": status,
    }
    label = f"{instrument.title} of {context.agreement_name}"
    return ItemData(
        context.amendment_key, SECTION, label, value, instrument.span, instrument.confidence, instrument.reason
    )


def _guaranty(context: Context, ref: InstrumentRef) -> list[ItemData]:
    key = context.guaranty_key
    assert key is not None
    value = {
        "name": ref.name,
        "kind": AgreementKind.GUARANTY,
        "title": ref.name,
        "defined_term": "",
        "contract_number": ref.contract_number or "",
        "dated_as_of": iso(ref.dated),
        "effective_on": None,
        "governing_law": "",
        "guaranteed_agreement": context.agreement_key,
        "required_line_items": [],
    }
    items = [ItemData(key, SECTION, ref.name, value, ref.span, ref.confidence, ref.reason)]
    if context.reaffirmation_key is not None and ref.reaffirmed_as_of is not None:
        reaffirmed = ref.reaffirmed_as_of
        value = {
            "guaranty": key,
            "amendment": context.amendment_key,
            "title": "Reaffirmation of Guaranty",
            "dated_as_of": iso(reaffirmed),
        }
        label = f"Reaffirmation of {ref.name}"
        items.append(
            ItemData(
                context.reaffirmation_key,
                SECTION,
                label,
                value,
                reaffirmed.span,
                reaffirmed.confidence,
                reaffirmed.reason,
            )
        )
    return items


def instrument_items(context: Context) -> list[ItemData]:
    """The agreement (as the document recites it), the earlier amendments it recites, the
    document itself as an amendment, and a guaranty it reaffirms."""
    instrument = context.proposal.instrument
    chain = instrument.chain if instrument else ()
    agreement_ref = next((ref for ref in chain if ref.kind == "agreement"), None)
    items = [_agreement(context, agreement_ref)]
    items.extend(_amendment(context, ref) for ref in chain if ref.number is not None and ref.kind != "agreement")
    if context.amendment_key is not None:
        items.append(_this_amendment(context))
    guaranty = context.guaranty
    if guaranty is not None:
        items.extend(_guaranty(context, guaranty))
    return items
