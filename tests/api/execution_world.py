"""The execution rows in each facility of the API's access matrix: an amendment with a stored
text, a block of the Lender whose signatory the matrix has (the syndicate's voter) for a new
execution, a block of the Agent executed by a scanned counterpart, and a condition precedent.
Whoever sees the agreement reads them; only the named signatory executes a block; the
agreement's Agents and administrators revoke the counterpart and record the condition."""

from __future__ import annotations

import hashlib
from typing import Any

from django.contrib.contenttypes.models import ContentType

from compliance.models import CovenantTestResult
from covenants.choices import Role
from covenants.models import Agreement, Amendment, ConditionPrecedent
from documents.models import Document
from execution.choices import CertificateStatus, ExecutionMethod
from execution.evidence import signed_version
from execution.models import ComplianceCertificate, Execution, ExecutionRevocation, RecordedSatisfaction
from parties.models import Party, SignatureBlock
from syndicate.models import Vote
from tests.factories import PASSWORD

PDF = b"%PDF-1.4\n%%EOF\n"
CONDITION = (
    "This Amendment shall become effective as of the date above written, if, and only if, the Agents have "
    "received duly executed originals of this Amendment from the Borrowers, the Requisite Lenders and the Agents."
)


def _amendment(agreement: Agreement) -> Amendment:
    """The seed's Amendment No. 4 (its blocks as printed), else the facility's Amendment No. 1."""
    return agreement.amendments.filter(number=4).first() or agreement.amendments.get(number=1)


def _text(amendment: Amendment) -> Document:
    stored = signed_version(amendment)
    if stored is not None:
        return stored
    text = f"{amendment.title.upper()}\n\nThe agreement is amended.\n".encode()
    return Document.objects.create(
        agreement=amendment.agreement, amendment=amendment, kind=Document.Kind.AMENDMENT, filename="executed.txt",
        original=text, sha256=hashlib.sha256(text).hexdigest(), text=text.decode(),
    )  # fmt: skip


def _block(amendment: Amendment, party: Party) -> SignatureBlock:
    kind = ContentType.objects.get_for_model(Amendment)
    found = SignatureBlock.objects.filter(document_type=kind, document_id=amendment.pk, party=party).first()
    if found is not None:
        return found
    taken = SignatureBlock.objects.filter(document_type=kind, document_id=amendment.pk).count()
    return SignatureBlock.objects.create(
        document_type=kind, document_id=amendment.pk, position=taken + 1, party=party,
        party_name_as_printed=party.legal_name.upper(),
    )  # fmt: skip


def add_execution(agreement: Agreement, admin: Any) -> None:
    """An executed Agent's block and a condition precedent on the facility's amendment."""
    amendment = _amendment(agreement)
    document = _text(amendment)
    agent = agreement.roles.filter(role=Role.AGENT).select_related("party").first().party
    block = _block(amendment, agent)
    Execution.objects.create(
        block=block, sequence=1, method=ExecutionMethod.COUNTERPART, party=agent, signatory_name="",
        capacity="as the Agent", signed_by=admin, document=document, document_sha256=document.sha256,
        counterpart=PDF, counterpart_name="agent-page.pdf", counterpart_media_type="application/pdf",
        counterpart_sha256=hashlib.sha256(PDF).hexdigest(),
    )  # fmt: skip
    _block(amendment, Vote.objects.get(request__agreement=agreement).lender)  # for a new execution
    if not ConditionPrecedent.objects.filter(amendment=amendment).exists():
        ConditionPrecedent.objects.create(amendment=amendment, description=CONDITION)
    # A signed certificate for the earlier tested quarter; the later one is left to prepare.
    first, _ = _periods(agreement)
    ComplianceCertificate.objects.create(
        agreement=agreement, period_end=first, status=CertificateStatus.SIGNED, prepared_by=admin,
        content={"agreement": agreement.name, "entries": [], "representation": "No Default."}, content_sha256="0" * 64,
    )  # fmt: skip


def _periods(agreement: Agreement) -> list[Any]:
    """The two quarters the matrix gave figures for, in order."""
    return sorted(set(CovenantTestResult.objects.filter(agreement=agreement).values_list("test_date", flat=True)))[:2]


def add_executions(world: Any, agreements: list[Agreement]) -> None:
    """The execution rows of each facility (after its syndicate: the voter's block needs the vote)."""
    for agreement in agreements:
        add_execution(agreement, world.users["admin"])


def execution_objects(agreement: Agreement) -> dict[str, Any]:
    """The matrix's objects of one facility's execution, and what its writes send."""
    amendment = _amendment(agreement)
    voter = Vote.objects.get(request__agreement=agreement).lender
    return {
        "execution": Execution.objects.get(block__document_id=amendment.pk, sequence=1, method="counterpart"),
        "condition": ConditionPrecedent.objects.filter(amendment=amendment).order_by("pk").first(),
        "new_execution": {
            "block": _block(amendment, voter).pk,
            "document_sha256": signed_version(amendment).sha256,
            "password": PASSWORD,
        },
        "revocation": {"reason": "Signed the wrong page.", "password": PASSWORD},
        "recorded": {"reason": "Originals received on paper.", "satisfied_on": "2000-01-20"},
        "certificate": ComplianceCertificate.objects.get(agreement=agreement),
        "new_certificate": {"agreement": agreement.pk, "period_end": _periods(agreement)[1].isoformat()},
        "certificate_signature": {"content_sha256": "0" * 64, "password": PASSWORD},
    }


def execution_rows(route: str, agreements: list[Agreement]) -> set[int] | None:
    """Ids of a facility's executions or certificates a list could return; None for another route."""
    if route == "compliancecertificate-list":
        return set(ComplianceCertificate.objects.filter(agreement__in=agreements).values_list("pk", flat=True))
    if route != "execution-list":
        return None
    amendments = Amendment.objects.filter(agreement__in=agreements).values("pk")
    return set(
        Execution.objects.filter(
            block__document_type=ContentType.objects.get_for_model(Amendment), block__document_id__in=amendments
        ).values_list("pk", flat=True)
    )


def execution_cases(case: Any, detail: Any, in_facility: Any, row_state: Any, tables: dict[str, Any]) -> dict:
    """The matrix's cases of the execution routes, built with its own helpers; ``tables`` gives
    its AGENTS, SUBMITTERS and VOTERS (the signatories the syndicate's rows record)."""
    agents, submitters, voters = tables["AGENTS"], tables["SUBMITTERS"], tables["VOTERS"]
    return {
        ("execution-list", "GET"): case("list"),
        ("execution-detail", "GET"): detail("execution"),
        ("execution-list", "POST"): case(
            "create", payload=lambda o: o["new_execution"], allowed=in_facility(voters), success=201,
            count=Execution, refused=frozenset({400, 403}),  # an unseen block is refused like a missing one
        ),
        ("execution-revoke", "POST"): case(
            "write", kwargs=lambda o: {"pk": o["execution"].pk}, payload=lambda o: o["revocation"],
            allowed=in_facility(agents), count=ExecutionRevocation,
        ),
        ("condition-detail", "GET"): detail("condition"),
        ("condition-record", "POST"): case(
            "write", kwargs=lambda o: {"pk": o["condition"].pk}, payload=lambda o: o["recorded"],
            allowed=in_facility(agents), success=201, count=RecordedSatisfaction,
        ),
        ("compliancecertificate-list", "GET"): case("list"),
        ("compliancecertificate-detail", "GET"): detail("certificate"),
        ("compliancecertificate-list", "POST"): case(
            "create", payload=lambda o: o["new_certificate"], allowed=in_facility(submitters), success=201,
            count=ComplianceCertificate, refused=frozenset({400, 403}),
        ),
        # No Responsible Officer among the matrix's users: signing is refused to all who see it.
        ("compliancecertificate-sign", "POST"): case(
            "write", kwargs=lambda o: {"pk": o["certificate"].pk}, payload=lambda o: o["certificate_signature"],
            state=row_state(ComplianceCertificate, "certificate"),
        ),
        ("compliancecertificate-review", "POST"): case(
            "write", kwargs=lambda o: {"pk": o["certificate"].pk}, payload=lambda o: {"accept": True},
            allowed=in_facility(agents), state=row_state(ComplianceCertificate, "certificate"),
        ),
    }  # fmt: skip
