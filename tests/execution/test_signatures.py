"""
One signature: who may sign a block, what is asked of them, what is recorded, and that a
record is never changed, only revoked with a reason.
"""

from __future__ import annotations

import datetime as dt

import django_otp
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from covenants.models import ConditionPrecedent
from execution.choices import ExecutionMethod
from execution.conditions import amendment_findings
from execution.models import Execution, ExecutionRevocation, RecordedSatisfaction
from execution.services import Reauthentication, block_execute, counterpart_upload, execution_revoke
from tests.execution.conftest import reauthentication
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def execute(deal, block, user=None, **kwargs):
    return block_execute(
        user=user or deal.signer_of(block),
        block=block,
        reauthentication=kwargs.pop("reauthentication", reauthentication()),
        document_sha256=kwargs.pop("sha256", deal.document.sha256),
    )


def test_the_record_says_who_for_whom_in_which_capacity_when_from_where_and_what_was_signed(deal):
    block = deal.block_of("KMC TELECOM LEASING I LLC")
    execution = execute(deal, block)
    assert execution.signatory_name == "James D. Grenfell" and execution.person.full_name == "James D. Grenfell"
    assert execution.party.legal_name == "KMC Telecom Leasing I LLC"
    assert execution.capacity.startswith("By: KMC Telecom Inc., as its Sole Member")
    assert execution.ip_address == "192.0.2.10"
    assert execution.document_sha256 == deal.document.sha256 and len(execution.document_sha256) == 64
    assert execution.method == ExecutionMethod.PORTAL and execution.signed_at is not None
    assert execution.authority == "Of record"


def test_only_a_signatory_named_on_the_block_signs_it(deal):
    cibc = deal.block_of("CANADIAN IMPERIAL BANK OF COMMERCE")
    first_union = deal.block_of("FIRST UNION NATIONAL BANK")
    for user in (deal.admin, deal.agent, deal.signer_of(first_union)):
        with pytest.raises(PermissionDenied):
            execute(deal, cibc, user=user)
    assert not Execution.objects.exists()


def test_the_password_is_asked_again_and_the_version_read_must_be_the_one_on_file(deal):
    block = deal.block_of("GENERAL ELECTRIC CAPITAL CORPORATION")
    with pytest.raises(ValidationError) as wrong:
        execute(deal, block, reauthentication=Reauthentication(password="not-it"))
    assert "password" in wrong.value.message_dict
    with pytest.raises(ValidationError) as stale:
        execute(deal, block, sha256="0" * 64)
    assert "not the version on file" in stale.value.message_dict["document_sha256"][0]
    assert not Execution.objects.exists()


def test_a_signatory_with_a_second_factor_enters_a_current_code(deal):
    block = deal.block_of("BANKBOSTON, N.A.")
    user = deal.signer_of(block)
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    with pytest.raises(ValidationError) as missing:
        execute(deal, block)
    assert "code" in missing.value.message_dict
    with pytest.raises(ValidationError):
        execute(deal, block, reauthentication=Reauthentication(password=PASSWORD, code="000000"))
    code = f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"
    execution = execute(deal, block, reauthentication=Reauthentication(password=PASSWORD, code=code))
    assert execution.second_factor is True
    assert django_otp.user_has_device(user)


def test_a_signature_is_never_changed_only_revoked_with_a_reason_and_both_stay(deal):
    block = deal.block_of("KEYPORT LIFE INSURANCE COMPANY")
    first = execute(deal, block)
    with pytest.raises(ValidationError):
        execute(deal, block)  # executed already
    first.capacity = "Something else"
    with pytest.raises(ValidationError):
        first.save()
    with pytest.raises(ValidationError):
        first.delete()
    with pytest.raises(ValidationError):
        Execution.objects.filter(pk=first.pk).update(capacity="x")
    with pytest.raises(ValidationError):
        Execution.objects.filter(pk=first.pk).delete()
    with pytest.raises(ValidationError) as no_reason:
        execution_revoke(user=deal.signer_of(block), execution=first, reason=" ", reauthentication=reauthentication())
    assert "reason" in no_reason.value.message_dict
    with pytest.raises(PermissionDenied):  # another Lender's signatory
        execution_revoke(
            user=deal.signer_of(deal.block_of("BANKBOSTON, N.A.")),
            execution=first,
            reason="Mine now",
            reauthentication=reauthentication(),
        )
    execution_revoke(
        user=deal.signer_of(block),
        execution=first,
        reason="Signed the wrong page.",
        reauthentication=reauthentication(),
    )
    second = execute(deal, block)
    assert (first.sequence, second.sequence) == (1, 2)
    assert list(Execution.objects.filter(block=block).values_list("sequence", flat=True)) == [1, 2]
    assert ExecutionRevocation.objects.get().reason == "Signed the wrong page."


def test_a_revocation_reopens_what_the_signature_satisfied(deal):
    block = deal.block_of("KMC TELECOM INC.")
    execution = execute(deal, block)
    assert "KMC Telecom Inc.: not yet executed" not in amendment_findings(deal.amendment)[0].missing
    execution_revoke(user=deal.admin, execution=execution, reason="Wrong officer.", reauthentication=reauthentication())
    assert "KMC Telecom Inc.: not yet executed" in amendment_findings(deal.amendment)[0].missing


def test_a_scanned_counterpart_stands_for_a_block_when_it_is_a_pdf_or_image_of_a_sensible_size(deal):
    block = deal.block_of("UNION BANK OF CALIFORNIA, N.A.")

    def upload(content, filename, user=deal.agent):
        return counterpart_upload(
            user=user,
            block=block,
            reauthentication=reauthentication(),
            document_sha256=deal.document.sha256,
            content=content,
            filename=filename,
        )

    with pytest.raises(ValidationError) as renamed:
        upload(b"MZ\x90\x00 a program", "signed-page.pdf")
    assert "not a PDF, PNG or JPEG" in renamed.value.message_dict["counterpart"][0]
    with pytest.raises(ValidationError) as large:
        upload(PDF + b"0" * (10 * 1024 * 1024), "signed-page.pdf")
    assert "at most" in large.value.message_dict["counterpart"][0]
    with pytest.raises(PermissionDenied):  # a Lender's signatory uploads only for its own block
        upload(PDF, "page.pdf", user=deal.signer_of(deal.block_of("KEYPORT LIFE INSURANCE COMPANY")))
    assert not Execution.objects.exists()
    execution = upload(PDF, "union-bank-page.pdf")
    assert execution.method == ExecutionMethod.COUNTERPART
    assert execution.counterpart_media_type == "application/pdf" and bytes(execution.counterpart) == PDF
    assert execution.signatory_name == "Keith M. Wilson" and execution.signed_by == deal.agent


def test_a_recorded_satisfaction_is_kept_as_recorded(deal):
    condition = ConditionPrecedent.objects.get(amendment=deal.amendment)
    record = RecordedSatisfaction.objects.create(
        condition=condition, reason="Paper originals", satisfied_on=dt.date(2000, 1, 20), recorded_by=deal.admin
    )
    record.reason = "changed"
    with pytest.raises(ValidationError):
        record.save()
