"""
Executing a signature block, uploading a scanned counterpart in its place, revoking a
mistaken execution and recording a condition satisfied by other means. Each in one
transaction: the block is locked, the execution written under the next sequence number (a
racing second execution of the same block fails on the unique constraint even where the lock
does nothing), and the amendment's conditions evaluated again (:mod:`execution.effectiveness`).

Signing asks for the password again and, for a user with a confirmed second-factor device, a
current code: a session left open is not a signature.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import django_otp
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django_otp.plugins.otp_totp.models import TOTPDevice

from covenants.access import may
from covenants.models import Amendment, ConditionPrecedent
from execution.choices import ExecutionMethod
from execution.effectiveness import amendment_conditions_apply
from execution.evidence import (
    capacity_words,
    checked_counterpart,
    signed_version,
    signed_version_refusal,
)
from execution.models import Execution, ExecutionRevocation, RecordedSatisfaction
from execution.scopes import authorised_signatories_of
from parties.models import Party, Person, SignatureBlock

__all__ = [
    "Reauthentication",
    "block_execute",
    "counterpart_upload",
    "execution_revoke",
    "satisfaction_record",
    "signatory_of",
]


@dataclass(frozen=True)
class Reauthentication:
    """The password entered again, the second-factor code where the user has a device, and
    the address the request came from."""

    password: str
    code: str = ""
    ip_address: str | None = None


@dataclass(frozen=True)
class Signatory:
    """Who the user signs a block as: the name signed, the person of record (if any), the title
    and the authority recorded."""

    name: str
    person: Person | None
    title: str
    authority: str = ""


def second_factor_checked(user: AbstractBaseUser, reauthentication: Reauthentication) -> bool:
    """Check the password and (where the user has a device) the code; True when a code was used."""
    if not reauthentication.password or not user.check_password(reauthentication.password):
        raise ValidationError({"password": ["The password is not correct; enter your portal password to sign."]})
    if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        return False
    code = (reauthentication.code or "").strip().replace(" ", "")
    if not code:
        raise ValidationError({"code": ["Enter the code from your authenticator app to sign."]})
    if django_otp.match_token(user, code) is None:
        raise ValidationError({"code": ["That code is not valid. Codes change every 30 seconds; try the current one."]})
    return True


def signatory_of(user: AbstractBaseUser, block: SignatureBlock) -> Signatory | None:
    """Who the user signs the block as, from their authorised signatory records holding today
    (:class:`syndicate.models.AuthorisedSignatory`): the person of record named on one of its
    lines, else one authorised for the block's party (or the party it signs through) with the
    authority recorded; None when neither."""
    records = list(authorised_signatories_of(user).select_related("person", "party"))
    lines = list(block.signatures.all())
    for record in records:
        for line in lines:
            if record.person_id is not None and line.person_id == record.person_id:
                return Signatory(record.person.full_name, record.person, line.title_as_printed or line.title,
                                 record.authority)  # fmt: skip
    for record in records:
        if record.party_id in (block.party_id, block.through_party_id):
            name = record.person.full_name if record.person_id else (user.get_full_name() or user.get_username())
            return Signatory(name, record.person, record.title, record.authority)
    return None


def _locked_block(block: SignatureBlock) -> tuple[SignatureBlock, int]:
    """The block locked for this transaction, and the sequence number its next execution takes;
    refused when it stands executed."""
    block = (
        SignatureBlock.objects.select_for_update(of=("self",))
        .select_related("party", "through_party", "document_type")
        .get(pk=block.pk)
    )
    if Execution.objects.filter(block=block, revocation__isnull=True).exists():
        raise ValidationError(
            {"block": [f"The block of {block.party_name_as_printed} is already executed; revoke that to sign again."]}
        )
    last = Execution.objects.filter(block=block).aggregate(last=Max("sequence"))["last"] or 0
    return block, last + 1


def _write(execution: Execution) -> Execution:
    try:
        with transaction.atomic():
            execution.save()
    except IntegrityError:
        raise ValidationError(
            {"block": [f"The block of {execution.block.party_name_as_printed} has just been executed by someone else."]}
        ) from None
    document = execution.block.document
    if isinstance(document, Amendment):
        amendment_conditions_apply(amendment=document)
    return execution


@transaction.atomic
def block_execute(
    *, user: AbstractBaseUser, block: SignatureBlock, reauthentication: Reauthentication, document_sha256: str
) -> Execution:
    """Execute a signature block as the signatory the user is (:func:`signatory_of`), binding the
    signature to the stored version of the document whose SHA-256 they read."""
    if not may(user, "execute", block):
        raise PermissionDenied("Only a signatory named on this block (or added to it by an administrator) signs it.")
    second_factor = second_factor_checked(user, reauthentication)
    block, sequence = _locked_block(block)
    signatory = signatory_of(user, block)
    if signatory is None:
        raise PermissionDenied("Only a signatory named on this block (or added to it by an administrator) signs it.")
    version = signed_version(block.document)
    refusal = signed_version_refusal(block, version, document_sha256)
    if refusal:
        raise ValidationError({"document_sha256": [refusal]})
    return _write(
        Execution(
            block=block,
            sequence=sequence,
            method=ExecutionMethod.PORTAL,
            party=block.party,
            person=signatory.person,
            signatory_name=signatory.name,
            capacity=capacity_words(block, signatory.title),
            authority=signatory.authority,
            signed_by=user,
            ip_address=reauthentication.ip_address,
            second_factor=second_factor,
            document=version,
            document_sha256=version.sha256,
        )
    )


@transaction.atomic
def counterpart_upload(
    *,
    user: AbstractBaseUser,
    block: SignatureBlock,
    reauthentication: Reauthentication,
    document_sha256: str,
    content: bytes,
    filename: str,
) -> Execution:
    """A scanned, signed counterpart stands for the block: uploaded by its named signatory or
    by the Agent who received it. Nothing is stored if the scan is refused."""
    if not may(user, "upload_counterpart", block):
        raise PermissionDenied("Only the block's signatory or the agreement's Agents upload its counterpart.")
    second_factor = second_factor_checked(user, reauthentication)
    scan = checked_counterpart(content, filename)
    block, sequence = _locked_block(block)
    version = signed_version(block.document)
    refusal = signed_version_refusal(block, version, document_sha256)
    if refusal:
        raise ValidationError({"document_sha256": [refusal]})
    # Signed on paper by the signatory of record (the first named line), unless the uploader signs.
    signatory = signatory_of(user, block)
    line = block.signatures.filter(person__isnull=False).select_related("person").first()
    if signatory is None and line is not None:
        signatory = Signatory(line.person.full_name, line.person, line.title_as_printed or line.title)
    return _write(
        Execution(
            block=block,
            sequence=sequence,
            method=ExecutionMethod.COUNTERPART,
            party=block.party,
            person=signatory.person if signatory else None,
            signatory_name=signatory.name if signatory else "",
            capacity=capacity_words(block, signatory.title if signatory else ""),
            signed_by=user,
            ip_address=reauthentication.ip_address,
            second_factor=second_factor,
            document=version,
            document_sha256=version.sha256,
            counterpart=scan.content,
            counterpart_name=scan.name,
            counterpart_media_type=scan.media_type,
            counterpart_sha256=scan.sha256,
        )
    )


@transaction.atomic
def execution_revoke(
    *, user: AbstractBaseUser, execution: Execution, reason: str, reauthentication: Reauthentication
) -> ExecutionRevocation:
    """Revoke a mistaken execution, with the reason; the execution stays in history and the
    block may be executed again. An amendment already effective stays effective."""
    if not may(user, "revoke", execution):
        raise PermissionDenied("Only the person who signed or the agreement's Agents revoke an execution.")
    second_factor_checked(user, reauthentication)
    if not (reason or "").strip():
        raise ValidationError({"reason": ["Say why the execution is revoked."]})
    SignatureBlock.objects.select_for_update().get(pk=execution.block_id)
    if ExecutionRevocation.objects.filter(execution=execution).exists():
        raise ValidationError({"execution": ["This execution is already revoked."]})
    revocation = ExecutionRevocation(execution=execution, reason=reason.strip(), revoked_by=user)
    revocation.save()
    document = execution.block.document
    if isinstance(document, Amendment):
        amendment_conditions_apply(amendment=document)
    return revocation


@transaction.atomic
def satisfaction_record(
    *,
    user: AbstractBaseUser,
    condition: ConditionPrecedent,
    reason: str,
    satisfied_on: dt.date,
    party: Party | None = None,
) -> RecordedSatisfaction:
    """Record a condition (or one party's part of it) satisfied by other means, e.g. originals
    received on paper: the agreement's Agents and administrators, with the reason."""
    if not may(user, "administer", condition.amendment.agreement):
        raise PermissionDenied("Only the agreement's Agents and administrators record a condition satisfied.")
    if not (reason or "").strip():
        raise ValidationError({"reason": ["Say how the condition was satisfied (e.g. originals received on paper)."]})
    if party is not None and not condition.amendment.agreement.roles.filter(party=party).exists():
        raise ValidationError({"party": [f"{party} holds no role in {condition.amendment.agreement}."]})
    record = RecordedSatisfaction(
        condition=condition, party=party, reason=reason.strip(), satisfied_on=satisfied_on, recorded_by=user
    )
    record.save()
    amendment_conditions_apply(amendment=condition.amendment)
    return record
