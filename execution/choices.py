"""Choices for executions and conditions precedent."""

from django.db import models


class ExecutionMethod(models.TextChoices):
    """How a signature block came to be executed."""

    PORTAL = "portal", "Executed in the portal"
    COUNTERPART = "counterpart", "Scanned counterpart uploaded"
