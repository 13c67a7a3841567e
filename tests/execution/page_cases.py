"""
The execution pages' cases for the site's access matrix (tests/portal/test_page_access.py):
on each agreement an amendment with a stored text, a condition precedent, a block nobody in the
matrix signs and a block executed by a scanned counterpart; a reaffirmation of the agreement
(as a guaranty) given for that amendment and a block of the agreement itself, each likewise
with a block nobody signs and one executed by a counterpart, signed on their own pages.
Whoever sees the agreement reads the pages and the counterparts; only its Agents and
administrators upload, revoke and record (the empty form comes back to the page); nobody there
is a named signatory or a Responsible Officer, so signing a block or a certificate is refused
(403) to those who see it and 404 to everyone else. A signed compliance certificate is read by
every party; the Borrowers' users and the Agents prepare them, the Agents review them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from covenants.choices import Role
from covenants.models import Agreement, Amendment, ConditionPrecedent, Reaffirmation
from documents.models import Document
from execution.choices import CertificateStatus, ExecutionMethod
from execution.models import ComplianceCertificate, Execution
from parties.models import SignatureBlock

PDF = b"%PDF-1.4\n%%EOF\n"
CONDITION = (
    "This Amendment shall become effective as of the date above written, if, and only if, the Agents have "
    "received duly executed originals of this Amendment from the Borrowers, the Requisite Lenders and the Agents."
)


@dataclass
class Pages:
    amendment: Amendment
    block: SignatureBlock
    execution: Execution
    condition: ConditionPrecedent
    certificate: ComplianceCertificate
    reaffirmation: Reaffirmation
    reaffirmation_block: SignatureBlock
    reaffirmation_execution: Execution
    agreement_block: SignatureBlock
    agreement_execution: Execution


def _block(document: Amendment | Reaffirmation | Agreement, position: int, party: Any) -> SignatureBlock:
    block, _ = SignatureBlock.objects.get_or_create(
        document_type=ContentType.objects.get_for_model(type(document)),
        document_id=document.pk,
        position=position,
        defaults={"party": party, "party_name_as_printed": party.legal_name.upper()},
    )
    return block


def _stored(deal: Agreement, kind: str, text: bytes, amendment: Amendment | None = None) -> Document:
    return Document.objects.create(
        agreement=deal, amendment=amendment, kind=kind, filename=f"{kind}.txt",
        original=text, sha256=hashlib.sha256(text).hexdigest(), text=text.decode(),
    )  # fmt: skip


def _counterpart(block: SignatureBlock, document: Document, admin: Any) -> Execution:
    """The block executed by a scanned counterpart the administrator uploaded."""
    return Execution.objects.create(
        block=block, sequence=1, method=ExecutionMethod.COUNTERPART, party=block.party, signatory_name="",
        capacity="", signed_by=admin, document=document, document_sha256=document.sha256,
        counterpart=PDF, counterpart_name="page.pdf", counterpart_media_type="application/pdf",
        counterpart_sha256=hashlib.sha256(PDF).hexdigest(),
    )  # fmt: skip


def pages_of(world: Any, agreement: str) -> Pages:
    """The rows the execution pages of one agreement act on (made once per agreement)."""
    made = world.__dict__.setdefault("execution_pages", {})
    if agreement in made:
        return made[agreement]
    deal = world.agreements[agreement]
    amendment, _ = Amendment.objects.get_or_create(
        agreement=deal, number=90, defaults={"title": f"Amendment No. 90 to {deal.title}"}
    )
    text = f"AMENDMENT NO. 90 TO {deal.name.upper()}\n".encode()
    document = _stored(deal, Document.Kind.AMENDMENT, text, amendment)
    lenders = [role.party for role in deal.roles.filter(role=Role.LENDER).select_related("party").order_by("pk")]
    admin = world.users["admin"]
    execution = _counterpart(_block(amendment, 2, lenders[-1]), document, admin)
    reaffirmation = Reaffirmation.objects.create(guaranty=deal, amendment=amendment, dated_as_of=dt.date(2020, 1, 1))
    reaffirmed = _stored(deal, Document.Kind.REAFFIRMATION, b"REAFFIRMATION OF GUARANTY\n", amendment)
    reaffirmation_execution = _counterpart(_block(reaffirmation, 2, lenders[-1]), reaffirmed, admin)
    agreed = _stored(deal, Document.Kind.AGREEMENT, f"{deal.name.upper()}\n".encode())
    agreement_execution = _counterpart(_block(deal, 2, lenders[-1]), agreed, admin)
    condition = ConditionPrecedent.objects.create(amendment=amendment, description=CONDITION)
    certificate = ComplianceCertificate.objects.create(
        agreement=deal, period_end=dt.date(2020, 6, 30), status=CertificateStatus.SIGNED,
        content={"agreement": deal.name, "title": deal.title, "entries": [], "representation": "No Default."},
        content_sha256="0" * 64, prepared_by=world.users["admin"],
    )  # fmt: skip
    made[agreement] = Pages(
        amendment, _block(amendment, 1, lenders[0]), execution, condition, certificate,
        reaffirmation, _block(reaffirmation, 1, lenders[0]), reaffirmation_execution,
        _block(deal, 1, lenders[0]), agreement_execution,
    )  # fmt: skip
    return made[agreement]


def _url(name: str, row: str):
    return lambda world, agreement: reverse(name, args=[getattr(pages_of(world, agreement), row).pk])


def _agreement_url(name: str):
    return lambda world, agreement: reverse(name, args=[world.agreements[agreement].pk])


def _administers(world: Any, user: str, agreement: str | None) -> set[int]:
    role = world.role(user, agreement)
    if role is None:
        return {404}
    return {302} if role in ("agent", "admin") else {403}


def _signs(world: Any, user: str, agreement: str | None) -> set[int]:
    return {403} if world.role(user, agreement) else {404}


def _prepares(world: Any, user: str, agreement: str | None) -> set[int]:
    role = world.role(user, agreement)
    if role is None:
        return {404}
    return {403} if role == "lender" else {302}


def _reads(world: Any, user: str, agreement: str | None) -> set[int]:
    return {200} if world.role(user, agreement) else {404}


def execution_cases(case: Any) -> dict[str, Any]:
    """The cases, built with the matrix's own ``Case``."""
    return {
        "execution:amendment": case(_url("execution:amendment", "amendment"), _reads),
        "execution:reaffirmation": case(_url("execution:reaffirmation", "reaffirmation"), _reads, shows_agreement=True),
        "execution:agreement_signatures": case(
            _agreement_url("execution:agreement_signatures"), _reads, shows_agreement=True
        ),
        "execution:sign": case(_url("execution:sign", "block"), _signs, method="post"),
        "execution:counterpart": case(_url("execution:counterpart", "block"), _administers, method="post"),
        "execution:revoke": case(_url("execution:revoke", "execution"), _administers, method="post"),
        "execution:counterpart_download": case(_url("execution:counterpart_download", "execution"), _reads),
        "execution:record": case(_url("execution:record", "condition"), _administers, method="post"),
        "execution:certificates": case(_agreement_url("execution:certificates"), _reads, shows_agreement=True),
        "execution:certificate_prepare": case(
            _agreement_url("execution:certificate_prepare"), _prepares, method="post"
        ),
        "execution:certificate": case(_url("execution:certificate", "certificate"), _reads, shows_agreement=True),
        "execution:certificate_sign": case(_url("execution:certificate_sign", "certificate"), _signs, method="post"),
        "execution:certificate_review": case(
            _url("execution:certificate_review", "certificate"), _administers, method="post"
        ),
    }


def document_block_cases(case: Any) -> dict[str, Any]:
    """The actions on the blocks of a reaffirmation and of the agreement itself, through the
    routes an amendment's blocks use, each expected as on an amendment's (keyed by document and
    route, for a matrix of their own: the site's is keyed by route)."""
    cases = {}
    for document in ("reaffirmation", "agreement"):
        cases |= {
            f"{document} execution:sign": case(_url("execution:sign", f"{document}_block"), _signs, method="post"),
            f"{document} execution:counterpart": case(
                _url("execution:counterpart", f"{document}_block"), _administers, method="post"
            ),
            f"{document} execution:revoke": case(
                _url("execution:revoke", f"{document}_execution"), _administers, method="post"
            ),
            f"{document} execution:counterpart_download": case(
                _url("execution:counterpart_download", f"{document}_execution"), _reads
            ),
        }
    return cases
