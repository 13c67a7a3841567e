"""Choices for executions and conditions precedent."""

from django.db import models


class ExecutionMethod(models.TextChoices):
    """How a signature block came to be executed."""

    PORTAL = "portal", "Executed in the portal"
    COUNTERPART = "counterpart", "Scanned counterpart uploaded"


class CertificateStatus(models.TextChoices):
    """Where a compliance certificate stands."""

    PREPARED = "prepared", "Prepared, awaiting the Responsible Officer's signature"
    SIGNED = "signed", "Signed, awaiting the Agent's review"
    ACCEPTED = "accepted", "Accepted by the Agent"
    RETURNED = "returned", "Returned by the Agent with comments"
    SUPERSEDED = "superseded", "Superseded: the figures changed after it was prepared"
