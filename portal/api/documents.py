"""
Agreements' texts through the API: ``POST /api/v1/documents/`` reads a text (a file as filed,
or pasted ``text``) and answers the importer's proposal as JSON; with ``agreement`` the text
is also stored for that deal (its Agents and administrators), once. Stored documents are
listed and read by whoever sees their agreement. A stored text's proposal is reviewed and
applied through ``/api/v1/documents/<id>/review/`` (portal.api.document_reviews).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from covenants.access import may
from covenants.models import Agreement
from documents.importer import MAX_CHARS, DocumentRefused
from documents.models import Document
from documents.services import document_propose, document_store
from portal.api.base import PortalViewSet, ScopedPrimaryKeyRelatedField
from portal.api.document_reviews import DocumentReviewActions

PROPOSE_REFUSED = "Reading agreements' texts is for Agents and administrators."


class DocumentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Document
        fields = ["id", "agreement", "amendment", "kind", "title", "filename", "media_type", "sha256", "stored_at"]
        read_only_fields = fields


class DocumentReadSerializer(serializers.Serializer):
    """A text to read: a file as filed (.txt, .htm) or pasted text; with an agreement, it is stored."""

    file = serializers.FileField(required=False)
    text = serializers.CharField(required=False, trim_whitespace=False, max_length=MAX_CHARS)
    agreement = ScopedPrimaryKeyRelatedField(model=Agreement, required=False, allow_null=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if bool(attrs.get("file")) == bool(attrs.get("text")):
            raise serializers.ValidationError({"file": "Send either a file or text, not both and not neither."})
        return attrs


PROPOSAL = OpenApiTypes.OBJECT  # the importer's proposal: see documents.importer.types.Proposal.to_dict
READ_RESPONSE = inline_serializer(
    "DocumentProposal",
    {"document": DocumentSerializer(allow_null=True), "proposal": serializers.JSONField()},
)


class DocumentViewSet(DocumentReviewActions, mixins.ListModelMixin, mixins.RetrieveModelMixin, PortalViewSet):
    """Agreements' stored texts, the importer's proposal of any text, and the review of a
    stored text's proposal (portal.api.document_reviews)."""

    model = Document
    serializer_class = DocumentSerializer
    ordering = ["agreement_id", "stored_at", "id"]
    ordering_fields = ["id", "stored_at"]

    @extend_schema(request=DocumentReadSerializer, responses={200: READ_RESPONSE, 201: READ_RESPONSE})
    def create(self, request: Request) -> Response:
        """Read a text into a proposal; with ``agreement``, store it for that deal as well."""
        incoming = DocumentReadSerializer(data=request.data, context=self.get_serializer_context())
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        upload = data.get("file")
        content = upload.read() if upload else data["text"]
        filename = (upload.name if upload else "") or "pasted text"
        agreement = data.get("agreement")
        try:
            if agreement is None:
                if not may(request.user, "administer", Agreement):
                    raise PermissionDenied(PROPOSE_REFUSED)
                proposal = document_propose(content=content, filename=filename)
                return Response({"document": None, "proposal": proposal.to_dict()})
            stored = document_store(
                user=request.user,
                agreement=agreement,
                content=content,
                filename=filename,
                media_type=(upload.content_type if upload else "text/plain") or "",
            )
        except DocumentRefused as exc:
            raise serializers.ValidationError({"file" if upload else "text": str(exc)}) from None
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from None
        code = status.HTTP_201_CREATED if stored.created else status.HTTP_200_OK
        return Response(
            {"document": DocumentSerializer(stored.document).data, "proposal": stored.proposal.to_dict()}, status=code
        )

    @extend_schema(responses={200: PROPOSAL})
    @action(detail=True, methods=["get"])
    def proposal(self, request: Request, pk: str | None = None) -> Response:
        """The importer's proposal of a stored text (spans point into the stored text)."""
        document = self.get_object()
        return Response(document_propose(content=document.text, filename=document.filename).to_dict())
