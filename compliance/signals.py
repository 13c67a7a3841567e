"""
What evaluation tells the rest of the portal. Evaluation records events and imports nothing
that consumes them; whoever acts on events (raising alerts) connects a receiver here.
"""

from __future__ import annotations

from django.dispatch import Signal

# Sent by the evaluation with ``events``, the events it has just stored (compliance.writing.
# RecordedEvent: each ComplianceEvent row's fields by name, with its results before and after, as
# plain data), inside its transaction: what a receiver writes is committed with the results, or
# rolled back with them.
events_recorded = Signal()
