"""
A condition precedent stored (by the admin, the API or the seed's loader) is read for who must
execute the document (:mod:`execution.reading`); what it reads is stored as the condition's
execution terms, so it is evaluated from the executions rather than ticked. A text the reading
does not know stays a text, recorded satisfied by hand.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from compliance.models import AgreementStanding
from compliance.standings import standings_write
from covenants.models import ConditionPrecedent
from execution.certificate_deadlines import DELIVERED
from execution.models import ComplianceCertificate
from execution.terms import execution_terms_state


@receiver(post_save, sender=ConditionPrecedent, dispatch_uid="execution.condition_read")
def condition_read(sender: type, instance: ConditionPrecedent, raw: bool = False, **kwargs: Any) -> None:
    """State the execution terms of a newly stored condition, or of one whose text changed."""
    update_fields = kwargs.get("update_fields")
    if raw or (update_fields is not None and "description" not in update_fields):
        return
    execution_terms_state(instance)


@receiver(post_save, sender=ComplianceCertificate, dispatch_uid="execution.certificate_standing")
def certificate_standing(
    sender: type, instance: ComplianceCertificate, raw: bool = False, created: bool = False, **kwargs: Any
) -> None:
    """A certificate signed, accepted, returned or superseded changes which periods'
    certificates are late: the agreement's stored standing (compliance.standings) is written
    again in the same transaction. One newly prepared changes nothing late."""
    if raw or (created and instance.status not in DELIVERED):
        return
    standings_write(agreement_ids=[instance.agreement_id], as_of=timezone.localdate())


@receiver(post_delete, sender=ComplianceCertificate, dispatch_uid="execution.certificate_standing_deleted")
def certificate_removed(sender: type, instance: ComplianceCertificate, **kwargs: Any) -> None:
    """A certificate removed (its agreement's deletion among the ways): the agreement's stored
    standing goes with it, and the dashboard counts the agreement live until it is written
    again. Never written here: the agreement itself may be on its way out."""
    AgreementStanding.objects.filter(agreement_id=instance.agreement_id).delete()
