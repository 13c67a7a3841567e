"""The statuses a covenant test can have (equal to the engine's strings)."""

from django.db import models


class ResultStatus(models.TextChoices):
    COMPLIANT = "compliant", "Compliant"
    BREACH = "breach", "Breach"
    INCOMPLETE = "incomplete", "Incomplete"
    NOT_TESTED = "not_tested", "Not tested"
    WAIVED = "waived", "Waived"
