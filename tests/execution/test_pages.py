"""
The execution page as its users see it: the signatory signs their block with the password
again, the Agent sees what is still missing and records Leasing II's paper original, and the
page shows the amendment effective; a wrong password signs nothing. The certificate pages: the
officer prepares and signs, the Agent accepts, the Lender reads it once signed.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from execution.choices import CertificateStatus
from execution.models import ComplianceCertificate, Execution
from execution.services import block_execute
from parties.choices import MembershipRole
from parties.models import Party
from syndicate.models import AuthorisedSignatory
from tests.execution.conftest import reauthentication
from tests.factories import PASSWORD, member

pytestmark = pytest.mark.django_db


def test_a_signatory_signs_on_the_page_and_the_agent_sees_what_is_missing(client, deal):
    block = deal.block_of("CANADIAN IMPERIAL BANK OF COMMERCE")
    page = reverse("execution:amendment", args=[deal.amendment.pk])
    client.force_login(deal.signer_of(block))
    shown = client.get(page).content.decode()
    assert deal.document.sha256 in shown and f'action="{reverse("execution:sign", args=[block.pk])}"' in shown
    sign = reverse("execution:sign", args=[block.pk])
    wrong = client.post(sign, {"document_sha256": deal.document.sha256, "password": "nope"}, follow=True)
    assert "The password is not correct" in wrong.content.decode()
    assert not Execution.objects.exists()
    client.post(sign, {"document_sha256": deal.document.sha256, "password": PASSWORD})
    assert Execution.objects.get().block == block
    # Another Lender's signatory may not sign CIBC's block.
    client.force_login(deal.signer_of(deal.block_of("BANKBOSTON, N.A.")))
    assert client.post(sign, {"document_sha256": deal.document.sha256, "password": PASSWORD}).status_code == 403

    client.force_login(deal.agent)
    shown = client.get(page).content.decode()
    assert "KMC Telecom Leasing II LLC: no signature block in the document as printed" in shown
    assert "Requisite Lenders: " in shown and "Record satisfied by other means" in shown


def test_the_certificate_pages_from_preparation_to_acceptance(client, deal):
    kmc = Party.objects.get(legal_name="KMC Telecom Inc.")
    officer = member("kmc.officer", MembershipRole.BORROWER, kmc)
    AuthorisedSignatory.objects.create(party=kmc, user=officer, title="Chief Financial Officer", authority="By-laws")
    client.force_login(officer)
    listing = reverse("execution:certificates", args=[deal.agreement.pk])
    assert client.get(listing).status_code == 200
    client.post(reverse("execution:certificate_prepare", args=[deal.agreement.pk]), {"period_end": "1999-12-31"})
    certificate = ComplianceCertificate.objects.get()
    detail = reverse("execution:certificate", args=[certificate.pk])
    assert "Sign the certificate" in client.get(detail).content.decode()
    lender = deal.signer_of(deal.block_of("CANADIAN IMPERIAL BANK OF COMMERCE"))
    client.force_login(lender)
    assert client.get(detail).status_code == 404  # not signed yet: the Borrowers' side and the Agents only
    client.force_login(officer)
    client.post(
        reverse("execution:certificate_sign", args=[certificate.pk]),
        {"content_sha256": certificate.content_sha256, "password": PASSWORD},
    )
    certificate.refresh_from_db()
    assert certificate.status == CertificateStatus.SIGNED and certificate.signed_at.date() <= dt.date.today()
    client.force_login(deal.agent)
    client.post(reverse("execution:certificate_review", args=[certificate.pk]), {"decision": "accept"})
    certificate.refresh_from_db()
    assert certificate.status == CertificateStatus.ACCEPTED
    client.force_login(lender)
    shown = client.get(detail).content.decode()
    assert "Accepted by the Agent" in shown and "Chief Financial Officer" in shown
    # The review says who reviewed it for the Agent, and what they decided, once.
    reviewer = deal.agent.get_full_name() or deal.agent.username
    assert f"Reviewed by {reviewer} for the Agent, " in shown and "Accepted by the Agent by" not in shown
    assert re.search(r'<p class="review">Reviewed by [^<]*: accepted\.</p>', shown)


def test_the_execution_page_reads_in_the_same_number_of_queries_however_many_blocks_are_executed(client, deal):
    page = reverse("execution:amendment", args=[deal.amendment.pk])
    client.force_login(deal.agent)
    client.get(page)  # caches warmed (content types, the session)
    with CaptureQueriesContext(connection) as before:
        assert client.get(page).status_code == 200
    for block in deal.blocks[:8]:
        block_execute(
            user=deal.signer_of(block),
            block=block,
            reauthentication=reauthentication(),
            document_sha256=deal.document.sha256,
        )
    with CaptureQueriesContext(connection) as after:
        assert client.get(page).status_code == 200
    assert len(after) == len(before), (len(before), len(after))


def test_each_form_repeated_on_the_page_has_ids_of_its_own_so_its_labels_name_its_fields(client, deal):
    """The Agent's page repeats forms: a counterpart upload per block not yet executed, a revocation
    per execution, the record of satisfaction. Were an id shared, a label (and a screen reader, and a
    click on it) would reach the first field of that id on the page, in another block's form."""
    signed = deal.block_of("CANADIAN IMPERIAL BANK OF COMMERCE")
    block_execute(
        user=deal.signer_of(signed),
        block=signed,
        reauthentication=reauthentication(),
        document_sha256=deal.document.sha256,
    )
    client.force_login(deal.agent)
    shown = client.get(reverse("execution:amendment", args=[deal.amendment.pk])).content.decode()
    ids = re.findall(r'\sid="([^"]+)"', shown)
    assert sorted({i for i in ids if ids.count(i) > 1}) == []
    forms = re.findall(r'<form [^>]*action="/execution/.*?</form>', shown, re.S)
    assert len(forms) == len(deal.blocks) - 1 + 1 + 1  # counterparts of the unexecuted, one revocation, the record
    for form in forms:
        for target in re.findall(r'<label for="([^"]+)"', form):
            assert f'id="{target}"' in form, target
    # The names, and so what each form posts, are the form's own.
    assert shown.count('name="password"') == len(deal.blocks) - 1 + 1
