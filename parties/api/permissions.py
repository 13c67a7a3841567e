"""
Rights by role in the parties API: everyone reads what their scope holds; only
administrators and the users of an agent create or change parties and signatories
(``portal.access.may_manage_parties``).
"""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from portal.access import may_manage_parties


class ManagesParties(BasePermission):
    """Writes only by administrators and agents' users."""

    message = "Only administrators and the Agents' users may create or change parties and signatories."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return request.method in SAFE_METHODS or may_manage_parties(request.user)
