"""
Reads for the covenants app. The engine's inputs and the results are read in
``compliance.selectors``.
"""

from __future__ import annotations

from django.db.models import Q

from covenants.models import Agreement


def agreement_for_reference(reference: str) -> Agreement:
    """An agreement by id, name or title (case-insensitive); raises Agreement.DoesNotExist or
    Agreement.MultipleObjectsReturned with a message naming the candidates."""
    ref = reference.strip()
    if ref.isdigit():
        return Agreement.objects.get(pk=int(ref))
    matches = list(Agreement.objects.filter(Q(name__iexact=ref) | Q(title__iexact=ref)))
    if not matches:
        raise Agreement.DoesNotExist(f"No agreement is named or titled '{ref}'.")
    if len(matches) > 1:
        names = "; ".join(f"{a.pk}: {a.name}" for a in matches)
        raise Agreement.MultipleObjectsReturned(f"'{ref}' names several agreements ({names}); give its id.")
    return matches[0]
