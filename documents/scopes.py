"""Who sees agreements' texts: whoever sees the agreement; its Agents and administrators store them."""

from __future__ import annotations

from covenants.access import register_agreement_rows
from documents.models import Document

register_agreement_rows({Document: "agreement"})
