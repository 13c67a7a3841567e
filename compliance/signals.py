"""
What evaluation tells the rest of the portal. Evaluation records events and imports nothing
that consumes them; whoever acts on events (raising alerts) connects a receiver here.
"""

from __future__ import annotations

from django.dispatch import Signal

# Sent by the evaluation with ``events``, the ComplianceEvents it has just stored, inside its
# transaction: what a receiver writes is committed with the results, or rolled back with them.
events_recorded = Signal()
