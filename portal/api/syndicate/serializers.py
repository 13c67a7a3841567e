"""Serializers of the syndicate API: commitments, assignments, consent requests, votes, tallies,
Defaulting Lenders and voting thresholds."""

from __future__ import annotations

from rest_framework import serializers

from covenants.models import Agreement
from documents.models import Document
from parties.models import Party
from portal.api.base import ScopedPrimaryKeyRelatedField
from portal.api.covenants.serializers.references import UsernameField
from portal.api.parties.serializers import PartyRefSerializer
from syndicate.choices import Answer, RequestKind, ShareBasis, VoteNeeded
from syndicate.models import (
    Assignment,
    Commitment,
    ConsentRequest,
    DefaultingLender,
    Facility,
    Vote,
    VotingThreshold,
)


class FacilitySerializer(serializers.ModelSerializer):
    class Meta:
        model = Facility
        fields = ["id", "agreement", "name", "demo"]
        read_only_fields = fields


class CommitmentSerializer(serializers.ModelSerializer):
    """A commitment allotted to a Lender under a facility from a date (``demo``: not in the documents)."""

    lender = PartyRefSerializer(read_only=True)

    class Meta:
        model = Commitment
        fields = ["id", "facility", "lender", "amount", "effective_on", "demo", "created_at"]
        read_only_fields = fields


class CommitmentWriteSerializer(serializers.Serializer):
    facility = ScopedPrimaryKeyRelatedField(Facility)
    lender = ScopedPrimaryKeyRelatedField(Party)
    amount = serializers.DecimalField(max_digits=20, decimal_places=2)
    effective_on = serializers.DateField()


class AssignmentSerializer(serializers.ModelSerializer):
    """An assignment moving commitment between two Lenders from its effective date."""

    assignor = PartyRefSerializer(read_only=True)
    assignee = PartyRefSerializer(read_only=True)

    class Meta:
        model = Assignment
        fields = ["id", "facility", "assignor", "assignee", "amount", "effective_on", "demo", "created_at"]
        read_only_fields = fields


class AssignmentWriteSerializer(serializers.Serializer):
    facility = ScopedPrimaryKeyRelatedField(Facility)
    assignor = ScopedPrimaryKeyRelatedField(Party)
    assignee = ScopedPrimaryKeyRelatedField(Party)
    amount = serializers.DecimalField(max_digits=20, decimal_places=2)
    effective_on = serializers.DateField()


class ConsentRequestSerializer(serializers.ModelSerializer):
    """A consent request as everyone who sees its agreement sees it: the outcome once closed,
    never the live tally (``GET .../tally/``, for the Agents and Lenders)."""

    opened_by = UsernameField()

    class Meta:
        model = ConsentRequest
        fields = [
            "id", "agreement", "document", "amendment", "kind", "title", "vote_needed", "record_date", "deadline",
            "consent_fee", "consent_fee_terms", "status", "outcome", "opened_by", "opened_at", "closed_at",
        ]  # fmt: skip
        read_only_fields = fields


class ConsentRequestWriteSerializer(serializers.Serializer):
    agreement = ScopedPrimaryKeyRelatedField(Agreement)
    document = ScopedPrimaryKeyRelatedField(Document)
    title = serializers.CharField(max_length=255)
    kind = serializers.ChoiceField(choices=RequestKind.choices, default=RequestKind.AMENDMENT)
    vote_needed = serializers.ChoiceField(choices=VoteNeeded.choices)
    deadline = serializers.DateTimeField()
    record_date = serializers.DateField(required=False, allow_null=True, default=None)
    consent_fee = serializers.DecimalField(
        max_digits=20, decimal_places=2, required=False, allow_null=True, default=None
    )
    consent_fee_terms = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    affected_lenders = ScopedPrimaryKeyRelatedField(Party, many=True, required=False, default=list)


class VoteSerializer(serializers.ModelSerializer):
    """A Lender's one vote on a request (seen by the Agents and Lenders of the agreement)."""

    lender = PartyRefSerializer(read_only=True)
    cast_by = UsernameField()

    class Meta:
        model = Vote
        fields = ["id", "request", "lender", "answer", "condition", "cast_by", "cast_at", "updated_at"]
        read_only_fields = fields


class VoteWriteSerializer(serializers.Serializer):
    """Cast or change a Lender's vote: only a signatory of that Lender may."""

    request = ScopedPrimaryKeyRelatedField(ConsentRequest)
    lender = ScopedPrimaryKeyRelatedField(Party)
    answer = serializers.ChoiceField(choices=Answer.choices)
    condition = serializers.CharField(required=False, allow_blank=True, default="")


class TallyLineSerializer(serializers.Serializer):
    lender_id = serializers.IntegerField()
    name = serializers.CharField()
    holding = serializers.DecimalField(max_digits=20, decimal_places=2)
    percent = serializers.DecimalField(max_digits=12, decimal_places=4, allow_null=True)
    defaulting = serializers.BooleanField()
    answer = serializers.CharField(help_text="consent, decline, abstain; empty: not answered.")
    condition = serializers.CharField()


class TallySerializer(serializers.Serializer):
    """The live tally: by commitment weight, Defaulting Lenders left out, and whether the vote is reached."""

    request = serializers.IntegerField(source="request_id")
    vote = serializers.CharField(source="share.vote")
    basis = serializers.CharField(source="share.basis")
    held = serializers.DecimalField(source="share.held", max_digits=20, decimal_places=2)
    aggregate = serializers.DecimalField(source="share.aggregate", max_digits=20, decimal_places=2)
    percent = serializers.DecimalField(source="share.percent", max_digits=12, decimal_places=4, allow_null=True)
    outcome = serializers.CharField(source="share.outcome", help_text="reached, not_reached or unknown.")
    summary = serializers.CharField(source="share.describe")
    demo = serializers.BooleanField()
    lines = TallyLineSerializer(many=True)
    not_answered = TallyLineSerializer(many=True)


class DefaultingLenderSerializer(serializers.ModelSerializer):
    """A Lender counted on neither side of a vote from ``from_date`` to ``to_date`` (empty: not ended)."""

    lender = PartyRefSerializer(read_only=True)

    class Meta:
        model = DefaultingLender
        fields = ["id", "agreement", "lender", "from_date", "to_date", "reason", "demo", "created_at"]
        read_only_fields = fields


class DefaultingLenderWriteSerializer(serializers.Serializer):
    """Mark a Lender of the agreement a Defaulting Lender; its periods may not overlap."""

    agreement = ScopedPrimaryKeyRelatedField(Agreement)
    lender = ScopedPrimaryKeyRelatedField(Party)
    from_date = serializers.DateField()
    to_date = serializers.DateField(required=False, allow_null=True, default=None)
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class DefaultingLenderChangeSerializer(serializers.Serializer):
    """Correct a period or its reason; fields left out keep their values."""

    from_date = serializers.DateField(required=False)
    to_date = serializers.DateField(required=False, allow_null=True)
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True)


class DefaultingLenderEndSerializer(serializers.Serializer):
    to_date = serializers.DateField(help_text="The last day the Lender was a Defaulting Lender.")


class VotingThresholdSerializer(serializers.ModelSerializer):
    """How the agreement defines a vote; ``percent`` null: not in the documents, unknown until set."""

    set_by = UsernameField()

    class Meta:
        model = VotingThreshold
        fields = [
            "id",
            "agreement",
            "vote",
            "basis",
            "percent",
            "more_than",
            "as_printed",
            "demo",
            "set_by",
            "updated_at",
        ]
        read_only_fields = fields


class VotingThresholdWriteSerializer(serializers.Serializer):
    """Set how the agreement defines a vote (replacing the definition already set for it, if any)."""

    agreement = ScopedPrimaryKeyRelatedField(Agreement)
    vote = serializers.ChoiceField(choices=VoteNeeded.choices)
    basis = serializers.ChoiceField(choices=ShareBasis.choices, default=ShareBasis.COMMITMENTS)
    percent = serializers.DecimalField(
        max_digits=7, decimal_places=4, allow_null=True, help_text="Above 0 and at most 100; null: unknown."
    )
    more_than = serializers.BooleanField(default=True, help_text='"more than" the percent; false: "at least".')
    as_printed = serializers.CharField(required=False, allow_blank=True, default="")


class VotingThresholdChangeSerializer(serializers.Serializer):
    """Change a vote's definition; fields left out keep their values (``percent`` null: unknown again)."""

    basis = serializers.ChoiceField(choices=ShareBasis.choices, required=False)
    percent = serializers.DecimalField(max_digits=7, decimal_places=4, allow_null=True, required=False)
    more_than = serializers.BooleanField(required=False)
    as_printed = serializers.CharField(required=False, allow_blank=True)
