"""Reads the text of a credit agreement or amendment and proposes what it says: the instrument,
parties, covenants and schedules, conditions precedent and signature blocks. Pure and
deterministic: no Django, no network. Each item carries its span in the text read, a
confidence and a reason; what could not be read is listed, never guessed."""

from .reader import read_document
from .text import MAX_CHARS, DocumentRefused
from .types import Proposal

__all__ = ["MAX_CHARS", "DocumentRefused", "Proposal", "read_document"]
