"""
The syndicate API: facilities, commitments, assignments, consent requests (with their tally),
votes, Defaulting Lenders and voting thresholds. Reads start from the scope of each model
(:class:`portal.api.base.PortalViewSet`):
commitments and votes are seen by the lender side of the agreement, a request by whoever sees
its agreement, its tally by the lender side only. Writes go through the services, which ask
the access rule: a Lender's vote only by its own signatories.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from covenants.access import may
from portal.api.base import PortalViewSet
from portal.api.syndicate import serializers as s
from syndicate import consents, definitions, services
from syndicate.models import (
    Assignment,
    Commitment,
    ConsentRequest,
    DefaultingLender,
    Facility,
    Vote,
    VotingThreshold,
)
from syndicate.services import SyndicateRefused
from syndicate.tally import tally_of


def _refused(exc: SyndicateRefused) -> serializers.ValidationError:
    """A 400 with the service's sentence under the field it names (else ``non_field_errors``)."""
    return serializers.ValidationError({exc.field or "non_field_errors": [str(exc)]})


class ReadViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PortalViewSet):
    """Lists and details through the scope; writes, where any, through a service."""

    def created(self, pk: int) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=pk)).data, status=status.HTTP_201_CREATED)


class FacilityViewSet(ReadViewSet):
    """Facilities of the agreements, whose commitments the Lenders hold."""

    model = Facility
    serializer_class = s.FacilitySerializer
    ordering = ["agreement_id", "name"]


class CommitmentViewSet(ReadViewSet):
    """Commitments per Lender per facility, from their effective dates (Agents and Lenders read them)."""

    model = Commitment
    serializer_class = s.CommitmentSerializer
    ordering = ["facility_id", "effective_on", "id"]

    def optimize(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("lender")

    @extend_schema(request=s.CommitmentWriteSerializer, responses={201: s.CommitmentSerializer})
    def create(self, request: Request) -> Response:
        """Allot a Lender a commitment (the Agents of the agreement and administrators)."""
        data = self._valid(s.CommitmentWriteSerializer, request)
        try:
            row = services.commitment_record(
                facility_id=data["facility"].pk, lender_id=data["lender"].pk, amount=data["amount"],
                effective_on=data["effective_on"], recorded_by=request.user,
            )  # fmt: skip
        except SyndicateRefused as exc:
            raise _refused(exc) from None
        return self.created(row.pk)

    def _valid(self, serializer_class: Any, request: Request) -> dict:
        serializer = serializer_class(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


class AssignmentViewSet(CommitmentViewSet):
    """Assignments moving commitments between Lenders, each from its date."""

    model = Assignment
    serializer_class = s.AssignmentSerializer

    def optimize(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("assignor", "assignee")

    @extend_schema(request=s.AssignmentWriteSerializer, responses={201: s.AssignmentSerializer})
    def create(self, request: Request) -> Response:
        """Record an assignment: the assignor must hold the amount on that date and every later one."""
        data = self._valid(s.AssignmentWriteSerializer, request)
        try:
            row = services.assignment_record(
                facility_id=data["facility"].pk, assignor_id=data["assignor"].pk, assignee_id=data["assignee"].pk,
                amount=data["amount"], effective_on=data["effective_on"], recorded_by=request.user,
            )  # fmt: skip
        except SyndicateRefused as exc:
            raise _refused(exc) from None
        return self.created(row.pk)


class ConsentRequestViewSet(CommitmentViewSet):
    """Consent requests: seen by whoever sees the agreement (the outcome once closed); the live
    tally by its Agents and Lenders; opened and closed by its Agents."""

    model = ConsentRequest
    serializer_class = s.ConsentRequestSerializer
    ordering = ["-opened_at", "-id"]

    def optimize(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("opened_by")

    @extend_schema(request=s.ConsentRequestWriteSerializer, responses={201: s.ConsentRequestSerializer})
    def create(self, request: Request) -> Response:
        """Open a request on an amendment or waiver stored for the agreement; the Lenders are alerted."""
        data = self._valid(s.ConsentRequestWriteSerializer, request)
        try:
            row = consents.consent_request_open(
                agreement_id=data["agreement"].pk, document_id=data["document"].pk, title=data["title"],
                kind=data["kind"], vote_needed=data["vote_needed"], deadline=data["deadline"],
                record_date=data["record_date"], consent_fee=data["consent_fee"],
                consent_fee_terms=data["consent_fee_terms"], opened_by=request.user,
                affected_lender_ids=[party.pk for party in data["affected_lenders"]],
            )  # fmt: skip
        except SyndicateRefused as exc:
            raise _refused(exc) from None
        return self.created(row.pk)

    @extend_schema(request=None, responses={200: s.TallySerializer})
    @action(detail=True, methods=["get"])
    def tally(self, request: Request, pk: str | None = None) -> Response:
        """The live tally by commitment: the Agents and Lenders of the agreement only."""
        consent = self.get_object()
        if not may(request.user, "tally", consent):
            raise PermissionDenied("The tally is shown to the Agents and Lenders of the agreement.")
        return Response(s.TallySerializer(tally_of(consent)).data)

    @extend_schema(request=None, responses={200: s.TallySerializer})
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str | None = None) -> Response:
        """Close the request now; its outcome is the tally's at this moment (its Agents only)."""
        consent = self.get_object()
        try:
            tally = consents.consent_request_close(request_id=consent.pk, closed_by=request.user)
        except SyndicateRefused as exc:
            raise _refused(exc) from None
        return Response(s.TallySerializer(tally).data)


class VoteViewSet(CommitmentViewSet):
    """Lenders' votes (the Agents and Lenders of the agreement read them; never a Borrower)."""

    model = Vote
    serializer_class = s.VoteSerializer
    ordering = ["request_id", "lender__legal_name"]

    def optimize(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("lender", "cast_by")

    @extend_schema(request=s.VoteWriteSerializer, responses={201: s.VoteSerializer})
    def create(self, request: Request) -> Response:
        """Cast or change a Lender's vote: only one of its authorised signatories, until the deadline."""
        data = self._valid(s.VoteWriteSerializer, request)
        try:
            vote, _ = consents.vote_cast(
                request_id=data["request"].pk, lender_id=data["lender"].pk, answer=data["answer"],
                condition=data["condition"], cast_by=request.user,
            )  # fmt: skip
        except SyndicateRefused as exc:
            raise _refused(exc) from None
        return self.created(vote.pk)


class DefaultingLenderViewSet(CommitmentViewSet):
    """Defaulting Lenders, each for a period (read by the Agents and Lenders of the agreement, not its
    Borrowers); marked, corrected and ended by its Agents. Each change re-tallies the open requests."""

    model = DefaultingLender
    serializer_class = s.DefaultingLenderSerializer
    ordering = ["agreement_id", "from_date", "id"]

    def optimize(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("lender")

    @extend_schema(request=s.DefaultingLenderWriteSerializer, responses={201: s.DefaultingLenderSerializer})
    def create(self, request: Request) -> Response:
        """Mark a Lender of the agreement a Defaulting Lender from a date (to a date, if it cured)."""
        data = self._valid(s.DefaultingLenderWriteSerializer, request)
        try:
            row = definitions.defaulting_lender_record(
                agreement_id=data["agreement"].pk, lender_id=data["lender"].pk, from_date=data["from_date"],
                to_date=data["to_date"], reason=data["reason"], recorded_by=request.user,
            )  # fmt: skip
        except SyndicateRefused as exc:
            raise _refused(exc) from None
        return self.created(row.pk)

    @extend_schema(request=s.DefaultingLenderChangeSerializer, responses={200: s.DefaultingLenderSerializer})
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        """Correct the period or the reason (the history keeps what it was)."""
        row = self.get_object()
        data = self._valid(s.DefaultingLenderChangeSerializer, request)
        try:
            row = definitions.defaulting_lender_change(
                defaulting_id=row.pk, changed_by=request.user, from_date=data.get("from_date", row.from_date),
                to_date=data.get("to_date", row.to_date), reason=data.get("reason", row.reason),
            )  # fmt: skip
        except SyndicateRefused as exc:
            raise _refused(exc) from None
        return Response(self.get_serializer(self.get_queryset().get(pk=row.pk)).data)

    @extend_schema(request=s.DefaultingLenderEndSerializer, responses={200: s.DefaultingLenderSerializer})
    @action(detail=True, methods=["post"])
    def end(self, request: Request, pk: str | None = None) -> Response:
        """The Lender stopped defaulting: its last day as a Defaulting Lender."""
        row = self.get_object()
        data = self._valid(s.DefaultingLenderEndSerializer, request)
        try:
            definitions.defaulting_lender_end(defaulting_id=row.pk, to_date=data["to_date"], ended_by=request.user)
        except SyndicateRefused as exc:
            raise _refused(exc) from None
        return Response(self.get_serializer(self.get_queryset().get(pk=row.pk)).data)


class VotingThresholdViewSet(CommitmentViewSet):
    """The agreement's votes as its definitions set them (read by whoever sees the agreement); set by
    its Agents and administrators. A vote without a percent is unknown: its tallies say so."""

    model = VotingThreshold
    serializer_class = s.VotingThresholdSerializer
    ordering = ["agreement_id", "vote"]

    def optimize(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("set_by")

    @extend_schema(request=s.VotingThresholdWriteSerializer, responses={201: s.VotingThresholdSerializer})
    def create(self, request: Request) -> Response:
        """Set how the agreement defines a vote (replacing its definition, if one is set)."""
        data = self._valid(s.VotingThresholdWriteSerializer, request)
        try:
            row = definitions.threshold_set(
                agreement_id=data["agreement"].pk, vote=data["vote"], basis=data["basis"], percent=data["percent"],
                more_than=data["more_than"], as_printed=data["as_printed"], set_by=request.user,
            )  # fmt: skip
        except SyndicateRefused as exc:
            raise _refused(exc) from None
        return self.created(row.pk)

    @extend_schema(request=s.VotingThresholdChangeSerializer, responses={200: s.VotingThresholdSerializer})
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        """Change the percent, basis or wording (``percent`` null: unknown again)."""
        row = self.get_object()
        data = self._valid(s.VotingThresholdChangeSerializer, request)
        try:
            definitions.threshold_set(
                agreement_id=row.agreement_id, vote=row.vote, basis=data.get("basis", row.basis),
                percent=data.get("percent", row.percent), more_than=data.get("more_than", row.more_than),
                as_printed=data.get("as_printed", row.as_printed), demo=row.demo, set_by=request.user,
            )  # fmt: skip
        except SyndicateRefused as exc:
            raise _refused(exc) from None
        return Response(self.get_serializer(self.get_queryset().get(pk=row.pk)).data)
