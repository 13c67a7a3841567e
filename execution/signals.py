"""
A condition precedent stored (by the admin, the API or the seed's loader) is read for who must
execute the document (:mod:`execution.reading`); what it reads is stored as the condition's
execution terms, so it is evaluated from the executions rather than ticked. A text the reading
does not know stays a text, recorded satisfied by hand.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from covenants.models import ConditionPrecedent
from execution.terms import execution_terms_state


@receiver(post_save, sender=ConditionPrecedent, dispatch_uid="execution.condition_read")
def condition_read(sender: type, instance: ConditionPrecedent, raw: bool = False, **kwargs: Any) -> None:
    """State the execution terms of a newly stored condition, or of one whose text changed."""
    update_fields = kwargs.get("update_fields")
    if raw or (update_fields is not None and "description" not in update_fields):
        return
    execution_terms_state(instance)
