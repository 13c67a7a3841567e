"""
Re-evaluation when terms change. Terms, schedules, amendments, roles and waivers are
edited through the admin and the API alike; catching every write path here (rather than
in each form) guarantees the results never lag the terms. The receivers only request an
evaluation, which runs after the transaction commits.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from covenants.evaluation_requests import agreement_evaluation_request
from covenants.models import AgreementRole, Amendment, Covenant, CovenantTerms, ThresholdStep, Waiver


def _agreement_id(instance: Any) -> int | None:
    if isinstance(instance, Covenant | AgreementRole | Amendment | Waiver):
        return instance.agreement_id
    if isinstance(instance, CovenantTerms):
        return Covenant.objects.filter(pk=instance.covenant_id).values_list("agreement_id", flat=True).first()
    if isinstance(instance, ThresholdStep):
        return (
            CovenantTerms.objects.filter(pk=instance.terms_id).values_list("covenant__agreement_id", flat=True).first()
        )
    return None


@receiver(post_save, sender=Covenant)
@receiver(post_save, sender=CovenantTerms)
@receiver(post_save, sender=ThresholdStep)
@receiver(post_save, sender=Amendment)
@receiver(post_save, sender=AgreementRole)
@receiver(post_save, sender=Waiver)
@receiver(post_delete, sender=CovenantTerms)
@receiver(post_delete, sender=ThresholdStep)
@receiver(post_delete, sender=AgreementRole)
@receiver(post_delete, sender=Waiver)
def terms_changed(sender: type, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    """Any change that can move a result re-evaluates the agreement (fixtures loading raw excepted)."""
    if raw:
        return
    agreement_id = _agreement_id(instance)
    if agreement_id is not None:
        agreement_evaluation_request(agreement_ids=[agreement_id])
