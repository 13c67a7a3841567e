"""
The execution check: has every party to a document signed it, once, on a complete line?

Signature blocks are recorded as printed, so a misprinted block is not corrected on the
way in; this check is where it surfaces, for a person to resolve. Amendment No. 4 to the
Loan Agreement prints two "KMC TELECOM LEASING I LLC" blocks and none for Leasing II: the
check reports Leasing II unsigned and Leasing I signing twice, and notes Morgan Stanley
Senior Funding's blank second line (a blank line is not an unsigned party: the block has
a signed line too).

The parties to a document:
- an Amendment: every party holding a role in its agreement on the amendment's date
  (effective, else dated as of), so a party added by that very amendment is included;
- a Reaffirmation: the Guarantor(s) of its guaranty;
- an Agreement: the holders of its roles on its date.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.db.models import Prefetch

from covenants.choices import Role
from covenants.models import Agreement, AgreementRole, Amendment, Reaffirmation
from parties.models import Party, Signature, SignatureBlock

Document = Agreement | Amendment | Reaffirmation

__all__ = ["Document", "ExecutionFindings", "check_execution", "document_label", "execution_findings_for_all"]


def document_label(document: Document) -> str:
    """The document as its parties call it: "Amendment No. 4", "Amendment Number Four", "Guaranty"."""
    if isinstance(document, Amendment):
        # Titles may carry the agreement's title ("Amendment No. 4 to Loan and Security Agreement").
        suffix = f" to {document.agreement.title}"
        title = document.title
        return title[: -len(suffix)] if title.lower().endswith(suffix.lower()) else title
    return document.title


def _document_date(document: Document) -> dt.date | None:
    if isinstance(document, Amendment):
        return document.in_force_from
    if isinstance(document, Reaffirmation):
        return document.dated_as_of
    return document.date


@dataclass(frozen=True)
class ExecutionFindings:
    """What the execution check found on one document; ``ok`` when there is nothing to resolve."""

    document: Document
    on: dt.date | None
    parties: list[Party] = field(default_factory=list)
    parties_without_signature: list[Party] = field(default_factory=list)
    parties_signing_more_than_once: list[tuple[Party, int]] = field(default_factory=list)
    blank_signature_lines: list[Signature] = field(default_factory=list)
    blocks_for_non_parties: list[SignatureBlock] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (
            self.parties_without_signature
            or self.parties_signing_more_than_once
            or self.blank_signature_lines
            or self.blocks_for_non_parties
        )

    @property
    def label(self) -> str:
        return document_label(self.document)

    def messages(self) -> list[str]:
        """One sentence per finding, in the words of the document."""
        label = self.label
        out = [f"{party}, a party to {label}, has no signature block." for party in self.parties_without_signature]
        out += [
            f"{party}, a party to {label}, signs in {count} signature blocks; one is expected."
            for party, count in self.parties_signing_more_than_once
        ]
        out += [
            f"{block.party_name_as_printed} signs {label} but is not a party to it."
            for block in self.blocks_for_non_parties
        ]
        out += [
            f"The signature block of {line.block.party} on {label} has a blank signature line "
            f"(line {line.position}): no name, no title."
            for line in self.blank_signature_lines
        ]
        return out


def _parties_to(document: Document, on: dt.date | None) -> list[Party]:
    """The parties to the document on its date, each once, by legal name."""
    if isinstance(document, Reaffirmation):
        roles = AgreementRole.objects.filter(agreement_id=document.guaranty_id, role=Role.GUARANTOR)
    else:
        agreement_id = document.agreement_id if isinstance(document, Amendment) else document.pk
        roles = AgreementRole.objects.filter(agreement_id=agreement_id)
    parties: dict[int, Party] = {}
    for role in roles.select_related("party"):
        # A role without dates always holds; a dated role must hold on the document's date.
        if on is None:
            if role.holds_from is None and role.holds_to is None:
                parties[role.party_id] = role.party
        elif role.holds_on(on):
            parties[role.party_id] = role.party
    return sorted(parties.values(), key=lambda party: party.legal_name)


def _blocks_of(document: Document) -> list[SignatureBlock]:
    return list(
        SignatureBlock.objects.filter(
            document_type=ContentType.objects.get_for_model(document), document_id=document.pk
        )
        .select_related("party")
        .prefetch_related(Prefetch("signatures", queryset=Signature.objects.select_related("person", "block__party")))
        .order_by("position")
    )


def check_execution(document: Document) -> ExecutionFindings:
    """Compare a document's parties with its signature blocks as printed."""
    on = _document_date(document)
    parties = _parties_to(document, on)
    blocks = _blocks_of(document)
    party_ids = {party.pk for party in parties}
    blocks_per_party = Counter(block.party_id for block in blocks)
    return ExecutionFindings(
        document=document,
        on=on,
        parties=parties,
        parties_without_signature=[party for party in parties if blocks_per_party[party.pk] == 0],
        parties_signing_more_than_once=[
            (party, blocks_per_party[party.pk]) for party in parties if blocks_per_party[party.pk] > 1
        ],
        blank_signature_lines=[line for block in blocks for line in block.signatures.all() if line.is_blank],
        blocks_for_non_parties=[block for block in blocks if block.party_id not in party_ids],
    )


def execution_findings_for_all() -> list[ExecutionFindings]:
    """The check for every document whose signature pages are on file (at least one block recorded).

    A document with no block recorded is one whose executed copy the portal does not hold
    (the Loan Agreement itself, the earlier amendments): there is nothing to check.
    """
    findings: list[ExecutionFindings] = []
    for model in (Agreement, Amendment, Reaffirmation):
        document_type = ContentType.objects.get_for_model(model)
        ids = SignatureBlock.objects.filter(document_type=document_type).values("document_id")
        documents = model.objects.filter(pk__in=ids)
        if model is Amendment:
            documents = documents.select_related("agreement")
        findings += [check_execution(document) for document in documents]
    return findings
