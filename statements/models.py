"""Borrowers' quarterly financial statements, their uploads and restatements."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from covenants.models.agreements import Agreement, LineItem
from parties.models import Party
from statements.choices import StatementStatus, UploadFormat

__all__ = ["StatementUpload", "FinancialStatement", "StatementLine"]


class StatementUpload(models.Model):
    """
    An uploaded file, kept whole with its SHA-256.

    The bytes live in the database, not on disk, so the file and the statements it
    carries are saved in one transaction: accepted whole or not at all.
    """

    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="uploads")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="statement_uploads"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100, blank=True)
    format = models.CharField(max_length=10, choices=UploadFormat.choices)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    content = models.BinaryField()
    source = models.CharField(max_length=20, default="page", help_text="page, api or command.")

    class Meta:
        ordering = ["-uploaded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.sha256[:12]})"


class FinancialStatement(models.Model):
    """
    One Borrower's figures for one fiscal quarter under one agreement, in one version.

    A later statement for the same Borrower and quarter is a restatement: this version is
    kept, marked superseded, and still explains the results computed from it.
    """

    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="statements")
    borrower = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="financial_statements")
    period_end = models.DateField(help_text="The last day of the fiscal quarter.")
    currency = models.CharField(max_length=3, default="USD")
    version = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=20, choices=StatementStatus.choices, default=StatementStatus.CURRENT)
    supersedes = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="superseded_by"
    )
    upload = models.ForeignKey(StatementUpload, on_delete=models.PROTECT, related_name="statements")
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="statements"
    )
    submitted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["agreement", "period_end", "borrower", "version"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "borrower", "period_end", "version"],
                name="statement_version_unique",
                violation_error_message="This version of the statement already exists.",
            ),
            models.UniqueConstraint(
                fields=["agreement", "borrower", "period_end"],
                condition=Q(status="current"),
                name="statement_one_current_per_quarter",
                violation_error_message="The Borrower already has a current statement for this fiscal quarter.",
            ),
        ]
        indexes = [models.Index(fields=["agreement", "status", "period_end"])]

    def __str__(self) -> str:
        return f"{self.borrower} {self.period_end:%Y-%m-%d} v{self.version}"


class StatementLine(models.Model):
    """One line item's amount in a statement, in whole currency units."""

    statement = models.ForeignKey(FinancialStatement, on_delete=models.CASCADE, related_name="lines")
    line_item = models.ForeignKey(LineItem, on_delete=models.PROTECT, related_name="statement_lines")
    amount = models.DecimalField(max_digits=20, decimal_places=2)

    class Meta:
        ordering = ["statement", "line_item"]
        constraints = [
            models.UniqueConstraint(
                fields=["statement", "line_item"],
                name="statement_line_unique",
                violation_error_message="The statement already has this line item.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.line_item}: {self.amount}"
