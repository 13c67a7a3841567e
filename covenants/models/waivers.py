"""Waivers of covenant breaches, granted by the Lenders and recorded by an agent."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from parties.models import Party

from .agreements import Agreement, Amendment
from .terms import Covenant

__all__ = ["Waiver"]


class Waiver(models.Model):
    """
    A waiver of one covenant's test on one test date (for one Borrower on an each-Borrower
    basis). It covers only what it names: another test date or covenant is not waived.
    """

    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="waivers")
    covenant = models.ForeignKey(Covenant, on_delete=models.PROTECT, related_name="waivers")
    test_date = models.DateField()
    borrower = models.ForeignKey(Party, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    instrument = models.CharField(max_length=255, help_text='The instrument granting it: "Waiver and Amendment No. 3".')
    amendment = models.ForeignKey(Amendment, on_delete=models.PROTECT, null=True, blank=True, related_name="waivers")
    note = models.TextField(blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["agreement", "covenant", "test_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["covenant", "test_date"],
                condition=Q(borrower__isnull=True),
                name="waiver_one_per_combined_test",
                violation_error_message="This test is already waived.",
            ),
            models.UniqueConstraint(
                fields=["covenant", "test_date", "borrower"],
                condition=Q(borrower__isnull=False),
                name="waiver_one_per_borrower_test",
                violation_error_message="This Borrower's test is already waived.",
            ),
        ]

    def __str__(self) -> str:
        return f"Waiver of {self.covenant.section} on {self.test_date:%Y-%m-%d} ({self.instrument})"
