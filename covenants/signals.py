"""
Re-evaluation when terms change. Terms, schedules, amendments, roles and waivers are
edited through the admin and the API alike; catching every write path here (rather than
in each form) guarantees the results never lag the terms. The receivers only request an
evaluation, which runs after the transaction commits.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from covenants.amendment_terms import amendment_move_refusals, amendment_terms_follow, refusal_error
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


@receiver(pre_save, sender=Amendment)
def amendment_date_check(sender: type, instance: Amendment, raw: bool = False, **kwargs: Any) -> None:
    """Before an amendment's effective date changes, check that the terms it made can follow it
    (covenants.amendment_terms); refused, the amendment is not written."""
    instance._terms_follow = False
    if raw or instance.pk is None:
        return
    before = Amendment.objects.filter(pk=instance.pk).values_list("effective_on", "dated_as_of").first()
    if before is None or (before[0] or before[1]) == instance.in_force_from:
        return
    refusals = amendment_move_refusals(instance, instance.in_force_from)
    if refusals:
        raise refusal_error(instance, refusals)
    instance._terms_follow = True


@receiver(post_save, sender=Amendment)
def amendment_terms_move(sender: type, instance: Amendment, raw: bool = False, **kwargs: Any) -> None:
    """The terms the amendment made take effect on its new effective date, in the same transaction."""
    if not raw and getattr(instance, "_terms_follow", False):
        instance._terms_follow = False
        amendment_terms_follow(instance)
