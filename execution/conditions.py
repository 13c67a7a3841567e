"""
Conditions precedent evaluated from the executions, never ticked: for each requirement of a
condition (every Borrower, the Agents, the Lenders reaching the Requisite vote) who has
executed the document, who has not and why ("KMC Telecom Leasing II LLC: no signature block in
the document as printed"), and for a vote the share of commitments signed
(:func:`syndicate.voting.voting_share`). A party's part, or the whole condition, recorded
satisfied by other means by an administrator counts, and is said so.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from compliance.formatting import long_date
from compliance.formatting import percent as format_percent
from covenants.models import AgreementRole, Amendment, ConditionPrecedent
from execution.models import Execution, ExecutionCondition, RecordedSatisfaction
from parties.models import Party, SignatureBlock
from syndicate.choices import ShareBasis, VoteNeeded
from syndicate.voting import Share, voting_share

__all__ = ["ConditionFindings", "RequirementFindings", "condition_findings", "amendment_findings"]


@dataclass(frozen=True)
class RequirementFindings:
    """One requirement of a condition: who signed, what is missing; ``share`` for a vote."""

    words: str
    met: bool
    signed: list[Party] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    share: Share | None = None


@dataclass(frozen=True)
class ConditionFindings:
    """A condition precedent as evaluated on ``on``: ``met`` when every requirement holds or an
    administrator recorded the whole condition satisfied; ``evaluated`` False for a condition
    stated only as text (met only when recorded)."""

    condition: ConditionPrecedent
    on: dt.date
    evaluated: bool
    met: bool
    requirements: list[RequirementFindings] = field(default_factory=list)
    recorded: list[RecordedSatisfaction] = field(default_factory=list)

    @property
    def missing(self) -> list[str]:
        return [line for requirement in self.requirements for line in requirement.missing]


@dataclass(frozen=True)
class _Facts:
    """What the evaluation reads, loaded once per amendment."""

    holders: dict[str, list[Party]]
    executed: dict[int, Execution]
    printed: set[int]
    recorded: list[RecordedSatisfaction]


def _facts(amendment: Amendment, condition_ids: list[int]) -> _Facts:
    on = amendment.in_force_from
    holders: dict[str, list[Party]] = {}
    roles = AgreementRole.objects.filter(agreement_id=amendment.agreement_id).select_related("party")
    for role in roles.order_by("party__legal_name"):
        if on is None or role.holds_on(on):
            holders.setdefault(role.role, []).append(role.party)
    blocks = SignatureBlock.objects.filter(
        document_type=ContentType.objects.get_for_model(Amendment), document_id=amendment.pk
    )
    executed: dict[int, Execution] = {}
    current = Execution.objects.filter(block__in=blocks, revocation__isnull=True).select_related("person")
    for execution in current.order_by("signed_at", "pk"):
        executed.setdefault(execution.party_id, execution)
    recorded = list(
        RecordedSatisfaction.objects.filter(condition_id__in=condition_ids).select_related("party", "recorded_by")
    )
    return _Facts(holders, executed, set(blocks.values_list("party_id", flat=True)), recorded)


def _why_missing(party: Party, facts: _Facts) -> str:
    if party.pk not in facts.printed:
        return f"{party.legal_name}: no signature block in the document as printed"
    return f"{party.legal_name}: not yet executed"


def _vote_words(share: Share) -> str:
    label = VoteNeeded(share.vote).label
    shown = format_percent(share.percent, places=1) if share.percent is not None else "no share"
    basis = "commitments" if share.basis == ShareBasis.COMMITMENTS else "loans outstanding"
    needed = share.threshold.wording() if share.threshold else "not set"
    if share.reached is None:
        return f"{label}: {shown} of {basis} signed; cannot be decided: {share.reason or 'the threshold is not set'}"
    return f"{label}: {shown} of {basis} signed, {needed.replace(' of aggregate Commitments', '')} needed"


def _requirement(requirement, condition: ConditionPrecedent, facts: _Facts, on: dt.date) -> RequirementFindings:
    parties = facts.holders.get(requirement.role, [])
    recorded_parties = {r.party_id for r in facts.recorded if r.condition_id == condition.pk and r.party_id}
    signed = [p for p in parties if p.pk in facts.executed or p.pk in recorded_parties]
    if requirement.vote:
        amendment = condition.amendment
        share = voting_share(amendment.agreement_id, [p.pk for p in signed], on, vote=requirement.vote)
        met = share.reached is True
        return RequirementFindings(requirement.words, met, signed, [] if met else [_vote_words(share)], share)
    missing = [_why_missing(p, facts) for p in parties if p not in signed]
    if not parties:
        missing = [f"{requirement.words}: no party holds the role on {long_date(condition.amendment.in_force_from)}"]
    return RequirementFindings(requirement.words, not missing, signed, missing)


def _findings(condition: ConditionPrecedent, facts: _Facts, on: dt.date) -> ConditionFindings:
    recorded = [r for r in facts.recorded if r.condition_id == condition.pk]
    whole = any(r.party_id is None for r in recorded)
    terms: ExecutionCondition | None = getattr(condition, "execution_terms", None)
    if terms is None:
        return ConditionFindings(condition, on, evaluated=False, met=whole, recorded=recorded)
    found = [_requirement(r, condition, facts, on) for r in terms.requirements.all()]
    return ConditionFindings(
        condition, on, evaluated=True, met=whole or all(f.met for f in found), requirements=found, recorded=recorded
    )


def amendment_findings(amendment: Amendment, *, on: dt.date | None = None) -> list[ConditionFindings]:
    """Every condition precedent of the amendment, evaluated on ``on`` (today: whose
    commitments weigh the Lenders' signatures)."""
    on = on or timezone.localdate()
    conditions = list(
        ConditionPrecedent.objects.filter(amendment=amendment)
        .select_related("amendment", "execution_terms")
        .prefetch_related("execution_terms__requirements")
        .order_by("id")
    )
    facts = _facts(amendment, [c.pk for c in conditions])
    return [_findings(condition, facts, on) for condition in conditions]


def condition_findings(condition: ConditionPrecedent, *, on: dt.date | None = None) -> ConditionFindings:
    """One condition precedent evaluated (see :func:`amendment_findings`)."""
    for found in amendment_findings(condition.amendment, on=on):
        if found.condition.pk == condition.pk:
            return found
    raise ConditionPrecedent.DoesNotExist(f"Condition {condition.pk} is not a condition of {condition.amendment}.")
