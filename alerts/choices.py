"""What alerts say and how they travel."""

from django.db import models


class AlertKind(models.TextChoices):
    """What an alert tells its recipients, in the agreements' words."""

    BREACH = "breach", "Breach"
    CURE = "cure", "Breach cured"
    NEAR_BREACH = "near_breach", "Near breach"
    FINANCIALS_LATE = "financials_late", "Financials late"
    CERTIFICATE_LATE = "certificate_late", "Compliance certificate late"
    AMENDMENT_OVERDUE = "amendment_overdue", "Amendment past its conditions-precedent deadline"
    AMENDMENT_EFFECTIVE = "amendment_effective", "Amendment effective: its conditions precedent satisfied"
    CONSENT_REQUESTED = "consent_requested", "Consent requested of the Lenders"
    CONSENT_THRESHOLD_REACHED = "consent_threshold_reached", "Consent request: the vote it needs is reached"
    CONSENT_DEADLINE_APPROACHING = "consent_deadline_approaching", "Consent request: deadline approaching"
    CONSENT_CLOSED = "consent_closed", "Consent request closed"


class AlertChannel(models.TextChoices):
    """How an alert reaches a recipient: the inbox, e-mail, or a party's webhook subscription."""

    IN_APP = "in_app", "Inbox"
    EMAIL = "email", "E-mail"
    WEBHOOK = "webhook", "Webhook"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed after every retry"
    CANCELLED = "cancelled", "Stopped (the breach was waived)"
