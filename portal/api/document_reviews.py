"""
Reviewing a stored document's proposal through the API, with the checks of the pages (the
services in documents.review): only the agreement's Agents and administrators; a user who
sees the document but not its review gets 404 for the review, 403 for a write.

- ``GET  /api/v1/documents/<id>/review/``: the document's current review and its items;
- ``POST /api/v1/documents/<id>/review/``: open a review (``agreement``: the one it applies to);
- ``POST /api/v1/documents/<id>/review/items/<key>/decision/``: ``decision`` (accepted, edited,
  rejected, pending), ``value`` (the whole value as corrected, for edited) and ``note``;
- ``POST /api/v1/documents/<id>/review/sections/<section>/decision/``: a section at once;
- ``POST /api/v1/documents/<id>/review/apply/``: apply what is accepted, all or nothing.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from covenants.models import Agreement
from documents.models import ImportReview, ReviewItem
from documents.review import (
    apply_review,
    decide,
    decide_section,
    item_by_key,
    open_review,
    review_items,
    reviews_visible,
)
from portal.api.base import ScopedPrimaryKeyRelatedField


class ReviewItemSerializer(serializers.ModelSerializer):
    value = serializers.JSONField(read_only=True)

    class Meta:
        model = ReviewItem
        fields = [
            "key", "section", "position", "label", "proposed", "span_start", "span_end", "confidence", "reason",
            "conflict", "decision", "edited", "value", "note", "decided_by", "decided_at",
        ]  # fmt: skip
        read_only_fields = fields


class ImportReviewSerializer(serializers.ModelSerializer):
    class Meta:
        model = ImportReview
        fields = ["id", "document", "agreement", "status", "opened_by", "opened_at", "applied_by", "applied_at"]
        read_only_fields = fields


class OpenReviewSerializer(serializers.Serializer):
    agreement = ScopedPrimaryKeyRelatedField(model=Agreement, required=False, allow_null=True)


class DecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=ReviewItem.Decision.choices)
    value = serializers.JSONField(required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, default="")


REVIEW_RESPONSE = inline_serializer(
    "DocumentReview", {"review": ImportReviewSerializer(), "items": ReviewItemSerializer(many=True)}
)
APPLIED_RESPONSE = inline_serializer(
    "DocumentReviewApplied",
    {
        "review": ImportReviewSerializer(),
        "created": serializers.DictField(child=serializers.IntegerField()),
        "updated": serializers.DictField(child=serializers.IntegerField()),
        "removed": serializers.DictField(child=serializers.IntegerField()),
        "spans": serializers.IntegerField(),
    },
)


class DocumentReviewActions:
    """The review routes of a stored document (mixed into the documents viewset)."""

    get_object: Any

    def current_review(self, request: Request) -> ImportReview:
        """The document's latest review the user may see (an open one first); 404 if none."""
        document = self.get_object()
        reviews = reviews_visible(request.user).filter(document=document)
        review = reviews.filter(status=ImportReview.Status.OPEN).order_by("-pk").first()
        review = review or reviews.exclude(status=ImportReview.Status.ABANDONED).order_by("-pk").first()
        if review is None:
            raise Http404("This document has no review you may see.")
        return review

    def review_body(self, request: Request, review: ImportReview, code: int = status.HTTP_200_OK) -> Response:
        items = review_items(request.user, review)
        return Response(
            {"review": ImportReviewSerializer(review).data, "items": ReviewItemSerializer(items, many=True).data},
            status=code,
        )

    @extend_schema(methods=["GET"], responses={200: REVIEW_RESPONSE})
    @extend_schema(methods=["POST"], request=OpenReviewSerializer, responses={201: REVIEW_RESPONSE})
    @action(detail=True, methods=["get", "post"])
    def review(self, request: Request, pk: str | None = None) -> Response:
        """The document's review and its items; POST opens a new one."""
        if request.method == "GET":
            return self.review_body(request, self.current_review(request))
        incoming = OpenReviewSerializer(data=request.data, context={"request": request})
        incoming.is_valid(raise_exception=True)
        review = open_review(request.user, self.get_object(), incoming.validated_data.get("agreement"))
        return self.review_body(request, review, status.HTTP_201_CREATED)

    @extend_schema(request=DecisionSerializer, responses={200: ReviewItemSerializer})
    @action(detail=True, methods=["post"], url_path=r"review/items/(?P<key>.+)/decision", url_name="review-decision")
    def review_decision(self, request: Request, pk: str | None = None, key: str = "") -> Response:
        """Decide one item, named by its key."""
        review = self.current_review(request)
        try:
            item = item_by_key(request.user, review, key)
        except ReviewItem.DoesNotExist:
            raise Http404(f"The review has no item {key}.") from None
        incoming = DecisionSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        item = decide(request.user, item, data["decision"], data.get("value"), data.get("note", ""))
        return Response(ReviewItemSerializer(item).data)

    @extend_schema(
        request=DecisionSerializer,
        responses={200: inline_serializer("SectionDecided", {"decided": serializers.IntegerField()})},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"review/sections/(?P<section>[a-z]+)/decision",
        url_name="review-section",
    )
    def review_section(self, request: Request, pk: str | None = None, section: str = "") -> Response:
        """Accept, reject or reset every item of a section."""
        review = self.current_review(request)
        incoming = DecisionSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        decided = decide_section(request.user, review, section, incoming.validated_data["decision"])
        return Response({"decided": decided})

    @extend_schema(request=None, responses={200: APPLIED_RESPONSE})
    @action(detail=True, methods=["post"], url_path="review/apply", url_name="review-apply")
    def review_apply(self, request: Request, pk: str | None = None) -> Response:
        """Write what the review accepts, all or nothing."""
        review = self.current_review(request)
        applied = apply_review(request.user, review)
        review.refresh_from_db()
        return Response(
            {
                "review": ImportReviewSerializer(review).data,
                "created": dict(applied.created),
                "updated": dict(applied.updated),
                "removed": dict(applied.removed),
                "spans": applied.spans,
            }
        )
