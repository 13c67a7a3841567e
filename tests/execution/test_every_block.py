"""
Every signature block of a stored document is executed by the one service, with the same
checks: the Reaffirmation of Guaranty given for Amendment No. 4 (KMC Telecom Holdings, Inc., by
James D. Grenfell) and a block of the Agreement itself, as an Amendment's blocks are. Only a
signatory named on the block signs it, with the password again and bound to the SHA-256 of the
stored version read; an execution is never changed, a revocation keeps it with the reason; an
Agent of another agreement sees nothing of either (service, API).
"""

from __future__ import annotations

import hashlib

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from covenants.access import may, visible
from covenants.models import Agreement, Reaffirmation
from documents.models import Document
from execution.models import Execution
from execution.services import Reauthentication, block_execute, execution_revoke
from parties.choices import MembershipRole
from parties.models import Membership, Party, Person, Signature, SignatureBlock
from syndicate.models import AuthorisedSignatory
from tests.execution.conftest import reauthentication
from tests.factories import PASSWORD, member, second_facility

pytestmark = pytest.mark.django_db


def stored(agreement: Agreement, kind: str, title: str, amendment=None) -> Document:
    """A text of the document stored for the agreement: the version signatures bind to."""
    text = f"{title.upper()}\n\nThe undersigned has caused this instrument to be executed."
    return Document.objects.create(
        agreement=agreement, amendment=amendment, kind=kind, title=title, filename=f"{kind}.txt",
        original=text.encode(), sha256=hashlib.sha256(text.encode()).hexdigest(), text=text,
    )  # fmt: skip


def blocks_on(document) -> list[SignatureBlock]:
    kind = ContentType.objects.get_for_model(type(document))
    return list(SignatureBlock.objects.filter(document_type=kind, document_id=document.pk).order_by("position"))


def signatory_for(block: SignatureBlock, username: str):
    """The user of the person of record on the block's first line, authorised for its parties."""
    line = block.signatures.filter(person__isnull=False).select_related("person").first()
    record = AuthorisedSignatory.objects.filter(person=line.person).select_related("user").first()
    user = record.user if record else member(username, MembershipRole.BORROWER)
    for party in {block.party, block.through_party} - {None}:
        Membership.objects.get_or_create(user=user, party=party, role=MembershipRole.BORROWER)
        AuthorisedSignatory.objects.get_or_create(
            party=party, user=user,
            defaults={"person": line.person, "signature": line, "title": line.title, "authority": "Of record"},
        )  # fmt: skip
    return user


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_reaffirmation_is_executed_by_its_named_signatory_as_an_amendment_is(deal):
    reaffirmation = Reaffirmation.objects.select_related("guaranty").get(amendment=deal.amendment)
    [block] = blocks_on(reaffirmation)
    version = stored(reaffirmation.guaranty, Document.Kind.REAFFIRMATION, reaffirmation.title, deal.amendment)
    grenfell = signatory_for(block, "james.grenfell")
    assert block.signatures.get().person.full_name == "James D. Grenfell"

    # Another block's signatory, and the Agent, may not sign it.
    other = deal.signer_of(deal.block_of("CANADIAN IMPERIAL BANK OF COMMERCE"))
    for user in (other, deal.agent):
        with pytest.raises(PermissionDenied):
            block_execute(user=user, block=block, reauthentication=reauthentication(), document_sha256=version.sha256)
    with pytest.raises(ValidationError, match="password"):
        block_execute(
            user=grenfell, block=block, reauthentication=Reauthentication(password="wrong"),
            document_sha256=version.sha256,
        )  # fmt: skip
    with pytest.raises(ValidationError, match="not the version on file"):
        block_execute(user=grenfell, block=block, reauthentication=reauthentication(), document_sha256="0" * 64)
    assert not Execution.objects.filter(block=block).exists()  # nothing half-saved

    response = api(grenfell).post(
        reverse("api:execution-list"),
        {"block": block.pk, "document_sha256": version.sha256, "password": PASSWORD},
        format="json",
    )
    assert response.status_code == 201, response.content
    execution = Execution.objects.get(pk=response.json()["id"])
    assert (execution.party.legal_name, execution.signatory_name) == ("KMC Telecom Holdings, Inc.", "James D. Grenfell")
    assert execution.document == version and execution.document_sha256 == version.sha256
    line = block.signatures.get()
    assert execution.ip_address and execution.capacity == (line.title_as_printed or line.title)
    with pytest.raises(ValidationError, match="already executed"):
        block_execute(user=grenfell, block=block, reauthentication=reauthentication(), document_sha256=version.sha256)
    execution.signatory_name = "Someone else"
    with pytest.raises(ValidationError, match="cannot be changed"):
        execution.save()

    signing = {"user": grenfell, "reauthentication": reauthentication()}
    execution_revoke(**signing, execution=execution, reason="Signed the wrong copy.")
    again = block_execute(**signing, block=block, document_sha256=version.sha256)
    assert again.sequence == 2
    assert list(Execution.objects.filter(block=block).values_list("sequence", "revocation__reason")) == [
        (1, "Signed the wrong copy."),
        (2, None),
    ]


def test_a_block_of_the_agreement_itself_is_executed_by_the_same_service(deal):
    version = stored(deal.agreement, Document.Kind.AGREEMENT, deal.agreement.title or "Loan Agreement")
    kmc = Party.objects.get(legal_name="KMC Telecom Inc.")
    block = SignatureBlock.objects.create(
        document_type=ContentType.objects.get_for_model(Agreement), document_id=deal.agreement.pk, position=1,
        party=kmc, party_name_as_printed=kmc.legal_name.upper(), capacity_as_printed="as a Borrower",
    )  # fmt: skip
    person, _ = Person.objects.get_or_create(full_name="Roscoe C. Young II")
    Signature.objects.create(block=block, position=1, person=person, title="President", title_as_printed="President")
    signer = signatory_for(block, "roscoe.young")
    with pytest.raises(PermissionDenied):
        block_execute(
            user=deal.agent, block=block, reauthentication=reauthentication(), document_sha256=version.sha256
        )  # fmt: skip
    execution = block_execute(
        user=signer, block=block, reauthentication=reauthentication(), document_sha256=version.sha256
    )
    assert execution.document == version and execution.signatory_name == "Roscoe C. Young II"
    assert execution.capacity == "President; as a Borrower" and execution.party == kmc

    # An Agent of another agreement sees nothing of these blocks or their executions.
    outsider = second_facility("Harbor").users["agent"]
    reaffirmation_block = blocks_on(Reaffirmation.objects.get(amendment=deal.amendment))[0]
    for shown in (block, reaffirmation_block):
        assert not visible(outsider, SignatureBlock).filter(pk=shown.pk).exists()
        assert not may(outsider, "execute", shown)
    assert not visible(outsider, Execution).filter(pk=execution.pk).exists()
    assert api(outsider).get(reverse("api:execution-detail", args=[execution.pk])).status_code == 404
    refused = api(outsider).post(
        reverse("api:execution-list"),
        {"block": block.pk, "document_sha256": version.sha256, "password": PASSWORD},
        format="json",
    )
    assert refused.status_code == 400 and "block" in refused.json()
    assert Execution.objects.filter(block=block).count() == 1
