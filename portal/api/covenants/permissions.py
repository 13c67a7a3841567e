"""
Rights by role in the covenants API. Reading is decided by the scope (``portal.api``):
what a user may not see is a 404. Writing is decided by the access rule's actions
(``covenants.access.may``), on rows the user sees:

- the Agents of an agreement and administrators change its terms, amendments' status and
  roles (``change``), and record waivers (``waive``, asked by the waiver service);
- Borrowers' users submit statements for their own entities only, Agents and
  administrators for any Borrower (``submit``, and per entity by the service).
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from covenants.access import may
from covenants.models import Agreement


class AdministersAgreement(BasePermission):
    """Writes only by the Agents of the row's agreement and administrators.

    A create names its agreement in the body, so the list-level check only asks whether the
    user administers any agreement; the service checks the agreement named."""

    message = "Only the Agents of this agreement and administrators may do this."

    def has_permission(self, request: Request, view: APIView) -> bool:
        if request.method in SAFE_METHODS or getattr(view, "detail", False):
            return True
        return may(request.user, "administer", Agreement)

    def has_object_permission(self, request: Request, view: APIView, obj: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return may(request.user, "change", obj)
