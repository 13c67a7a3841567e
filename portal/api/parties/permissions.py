"""
Rights in the parties API: everyone reads what their scope holds. Recording a new party or
signatory takes agent powers (``may(user, "add", Party)``); changing an existing one is
decided per record by the service (``may(user, "change", party)``, or a person),
since a party or signatory is shared by every deal it is in.
"""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from covenants.access import may
from parties.models import Party


class ManagesParties(BasePermission):
    """New parties and signatories only by administrators and the users of an Agent."""

    message = "Only administrators and the Agents' users may record parties and signatories."

    def has_permission(self, request: Request, view: APIView) -> bool:
        if request.method in SAFE_METHODS or getattr(view, "action", None) != "create":
            return True
        return may(request.user, "add", Party)
