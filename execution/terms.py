"""Stating a condition precedent's execution terms from its text (:mod:`execution.reading`)."""

from __future__ import annotations

from django.db import transaction

from covenants.models import ConditionPrecedent
from execution.models import ExecutionCondition, SignerRequirement
from execution.reading import read_condition

__all__ = ["execution_terms_state"]


@transaction.atomic
def execution_terms_state(condition: ConditionPrecedent) -> ExecutionCondition | None:
    """The condition's execution terms as its text reads, written if missing or different;
    None (and any stale terms removed) when the text is not an execution condition."""
    read = read_condition(condition.description)
    existing = ExecutionCondition.objects.filter(condition=condition).first()
    if read is None:
        if existing is not None:
            existing.delete()
        return None
    amendment = condition.amendment
    as_of = amendment.dated_as_of if read.as_of_date_above_written else read.as_of
    wanted = [(r.role, r.vote, r.words) for r in read.requirements]
    if existing is not None:
        have = list(existing.requirements.order_by("position").values_list("role", "vote", "words"))
        if have == wanted and existing.effective_as_of == as_of:
            return existing
        existing.delete()
    terms = ExecutionCondition.objects.create(condition=condition, effective_as_of=as_of)
    SignerRequirement.objects.bulk_create(
        SignerRequirement(terms=terms, position=i, role=role, vote=vote, words=words)
        for i, (role, vote, words) in enumerate(wanted, start=1)
    )
    return terms
