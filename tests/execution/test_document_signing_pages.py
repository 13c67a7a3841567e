"""
The signature blocks of a document that is not an amendment are executed in the portal on the
document's own page, with the same table, forms and checks as an amendment's: the Reaffirmation
of Guaranty given for Amendment No. 4 (KMC Telecom Holdings, Inc., by James D. Grenfell) and a
block of the Loan Agreement itself. Its named signatory signs with the password again, bound to
the SHA-256 of the version the page shows; a wrong password signs nothing; another party's
signatory is refused and a user of another agreement gets a 404; a revocation keeps the
execution with its reason, and a scanned counterpart may stand for the block. The agreement
page and the amendment's page link to these pages, for those who may see them.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from covenants.models import Agreement, Reaffirmation
from documents.models import Document
from execution.choices import ExecutionMethod
from execution.models import Execution
from parties.models import Party, Person, Signature, SignatureBlock
from tests.execution.test_every_block import blocks_on, signatory_for, stored
from tests.factories import PASSWORD, second_facility

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n"
NEWCOURT = "NEWCOURT COMMERCIAL FINANCE CORPORATION (f/k/a AT&T COMMERCIAL FINANCE CORPORATION), an affiliate of The CIT Group, Inc."  # noqa: E501

# The reaffirmation's page, read by its signatory: four queries wrap every page (the session, the
# user with its two-factor device check, the savepoint pair of ATOMIC_REQUESTS); then the user's
# memberships, the reaffirmation with its guaranty and amendment, the stored version, the blocks,
# their lines, their executions, the blocks the user signs, those they may upload for, the
# executions they may revoke, and the count of unread alerts in the page's header.
REAFFIRMATION_PAGE_QUERIES = 14


def _sha_shown(page: str) -> str:
    return re.search(r"<code data-sha256>([0-9a-f]{64})</code>", page).group(1)


@pytest.fixture
def reaffirmation(deal):
    """The Reaffirmation of Guaranty, its one block (Grenfell for Holdings), its stored text, and Grenfell."""
    reaffirmation = Reaffirmation.objects.select_related("guaranty").get(amendment=deal.amendment)
    [block] = blocks_on(reaffirmation)
    version = stored(reaffirmation.guaranty, Document.Kind.REAFFIRMATION, reaffirmation.title, deal.amendment)
    return reaffirmation, block, version, signatory_for(block, "james.grenfell")


def test_the_reaffirmation_is_signed_revoked_and_stood_for_by_a_counterpart_on_its_own_page(
    client, deal, reaffirmation
):
    reaffirmation, block, version, grenfell = reaffirmation
    page = reverse("execution:reaffirmation", args=[reaffirmation.pk])
    sign = reverse("execution:sign", args=[block.pk])
    client.force_login(grenfell)
    shown = client.get(page).content.decode()
    assert "Reaffirmation of Guaranty for Amendment No. 4" in shown and "KMC TELECOM HOLDINGS, INC." in shown
    assert f'action="{sign}"' in shown and "Conditions precedent" not in shown
    sha = _sha_shown(shown)
    assert sha == version.sha256

    wrong = client.post(sign, {"document_sha256": sha, "password": "not my password"}, follow=True)
    assert wrong.redirect_chain == [(page, 302)]
    assert "The password is not correct; enter your portal password to sign." in wrong.content.decode()
    assert not Execution.objects.filter(block=block).exists()

    # Newcourt, the guaranty's beneficiary, reads the page; its signatory may not sign Holdings' block.
    newcourt = deal.signer_of(deal.block_of(NEWCOURT))
    client.force_login(newcourt)
    assert f'action="{sign}"' not in client.get(page).content.decode()
    assert client.post(sign, {"document_sha256": sha, "password": PASSWORD}).status_code == 403
    # A user of another agreement learns nothing of it: neither the page nor the block exists for them.
    client.force_login(second_facility("Harbor").users["agent"])
    assert client.get(page).status_code == 404
    assert client.post(sign, {"document_sha256": sha, "password": PASSWORD}).status_code == 404
    assert not Execution.objects.filter(block=block).exists()

    client.force_login(grenfell)
    signed = client.post(sign, {"document_sha256": sha, "password": PASSWORD})
    assert signed.status_code == 302 and signed["Location"] == page
    execution = Execution.objects.get(block=block)
    assert (execution.signatory_name, execution.party.legal_name) == ("James D. Grenfell", "KMC Telecom Holdings, Inc.")
    assert execution.document == version and execution.document_sha256 == sha and execution.ip_address

    revoke = reverse("execution:revoke", args=[execution.pk])
    assert f'action="{revoke}"' in client.get(page).content.decode()
    revoked = client.post(revoke, {"reason": "Signed before the guaranty was read.", "password": PASSWORD})
    assert revoked["Location"] == page
    # With the block open again, the Agent of record uploads the signed page received on paper
    # (here an administrator: the guaranty's only parties are its Guarantor and its beneficiary).
    client.force_login(deal.admin)
    upload = client.post(
        reverse("execution:counterpart", args=[block.pk]),
        {"document_sha256": sha, "password": PASSWORD, "counterpart": SimpleUploadedFile("signed.pdf", PDF)},
    )
    assert upload["Location"] == page
    history = list(Execution.objects.filter(block=block).values_list("sequence", "method", "revocation__reason"))
    assert history == [
        (1, ExecutionMethod.PORTAL, "Signed before the guaranty was read."),
        (2, ExecutionMethod.COUNTERPART, None),
    ]
    shown = client.get(page).content.decode()
    assert "Revoked: Signed before the guaranty was read." in shown and "signed.pdf" in shown
    assert 'data-executed="yes"' in shown


def test_a_block_of_the_agreement_is_executed_on_the_agreement_signature_page(client, deal, reaffirmation):
    version = stored(deal.agreement, Document.Kind.AGREEMENT, deal.agreement.title)
    kmc = Party.objects.get(legal_name="KMC Telecom Inc.")
    kind = ContentType.objects.get_for_model(Agreement)
    block, other = (
        SignatureBlock.objects.create(
            document_type=kind,
            document_id=deal.agreement.pk,
            position=position,
            party=party,
            party_name_as_printed=party.legal_name.upper(),
            capacity_as_printed=capacity,
        )  # fmt: skip
        for position, party, capacity in (
            (1, kmc, "as a Borrower"),
            (2, Party.objects.get(legal_name="First Union National Bank"), "as the Agent"),
        )
    )
    person, _ = Person.objects.get_or_create(full_name="Roscoe C. Young II")
    Signature.objects.create(block=block, position=1, person=person, title="President", title_as_printed="President")
    signer = signatory_for(block, "roscoe.young")
    page = reverse("execution:agreement_signatures", args=[deal.agreement.pk])

    # The agreement page leads each user to the signature pages they may read: the Agent of the
    # Loan Agreement to its own, the Guarantor's signatory to the reaffirmation's as well.
    agreement_page = reverse("covenants:agreement_detail", args=[deal.agreement.pk])
    reaffirmation_page = reverse("execution:reaffirmation", args=[reaffirmation[0].pk])
    client.force_login(deal.agent)
    shown = client.get(agreement_page).content.decode()
    assert f'href="{page}"' in shown and f'href="{reaffirmation_page}"' not in shown
    client.force_login(reaffirmation[3])
    shown = client.get(agreement_page).content.decode()
    assert f'href="{page}"' in shown and f'href="{reaffirmation_page}"' in shown
    amendment_page = client.get(reverse("execution:amendment", args=[deal.amendment.pk])).content.decode()
    assert f'href="{reaffirmation_page}"' in amendment_page

    client.force_login(signer)
    shown = client.get(page).content.decode()
    assert _sha_shown(shown) == version.sha256 and "Conditions precedent" not in shown
    assert f'action="{reverse("execution:sign", args=[block.pk])}"' in shown
    assert f'action="{reverse("execution:sign", args=[other.pk])}"' not in shown
    # The Agent may not sign for the Borrower, nor the Borrower's signatory for the Agent.
    for user, target in ((deal.agent, block), (signer, other)):
        client.force_login(user)
        refused = client.post(
            reverse("execution:sign", args=[target.pk]), {"document_sha256": version.sha256, "password": PASSWORD}
        )
        assert refused.status_code == 403
    client.force_login(signer)
    done = client.post(
        reverse("execution:sign", args=[block.pk]), {"document_sha256": version.sha256, "password": PASSWORD}
    )
    assert done["Location"] == page
    execution = Execution.objects.get(block=block)
    assert execution.capacity == "President; as a Borrower" and execution.document_sha256 == version.sha256

    # The Agent files First Union's counterpart, then revokes it (the wrong page was scanned).
    client.force_login(deal.agent)
    uploaded = client.post(
        reverse("execution:counterpart", args=[other.pk]),
        {"document_sha256": version.sha256, "password": PASSWORD, "counterpart": SimpleUploadedFile("fu.pdf", PDF)},
    )
    assert uploaded["Location"] == page
    counterpart = Execution.objects.get(block=other)
    client.post(reverse("execution:revoke", args=[counterpart.pk]), {"reason": "The wrong page.", "password": PASSWORD})
    shown = client.get(page).content.decode()
    assert "Revoked: The wrong page." in shown and "fu.pdf" in shown
    assert Execution.objects.filter(block=other).get().revocation.reason == "The wrong page."

    # A user of another agreement: 404 on the page and on each of its actions.
    client.force_login(second_facility("Harbor").users["agent"])
    assert client.get(page).status_code == 404
    for url in (
        reverse("execution:sign", args=[other.pk]),
        reverse("execution:counterpart", args=[other.pk]),
        reverse("execution:revoke", args=[execution.pk]),
    ):
        assert client.post(url, {"password": PASSWORD, "reason": "x"}).status_code == 404
    assert Execution.objects.filter(block__in=[block, other]).count() == 2


def test_the_reaffirmation_page_reads_in_a_fixed_number_of_queries(client, reaffirmation):
    reaffirmation, block, version, grenfell = reaffirmation
    page = reverse("execution:reaffirmation", args=[reaffirmation.pk])
    client.force_login(grenfell)
    client.get(page)  # the session renewed, the content types cached
    with CaptureQueriesContext(connection) as unsigned:
        assert client.get(page).status_code == 200
    assert len(unsigned) == REAFFIRMATION_PAGE_QUERIES, [q["sql"] for q in unsigned.captured_queries]
    client.post(reverse("execution:sign", args=[block.pk]), {"document_sha256": version.sha256, "password": PASSWORD})
    client.get(page)  # the message of the signature shown once
    with CaptureQueriesContext(connection) as signed:
        assert 'data-executed="yes"' in client.get(page).content.decode()
    assert len(signed) == REAFFIRMATION_PAGE_QUERIES
