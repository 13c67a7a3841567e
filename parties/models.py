"""
Parties to agreements, the people who sign for them, and users' memberships in parties.

Signature blocks are recorded exactly as printed, traps included: a block that names the
wrong entity stays as printed and the execution check reports it for a person to resolve.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from .choices import EntityKind, MembershipRole, RelationshipKind


class TimeStamped(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Party(TimeStamped):
    """A legal entity (or a division of one) that can hold a role in an agreement."""

    legal_name = models.CharField(max_length=255, unique=True)
    kind = models.CharField(max_length=40, choices=EntityKind.choices, default=EntityKind.OTHER)
    jurisdiction = models.CharField(
        max_length=100, blank=True, help_text="State or country of formation, where the documents state it."
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["legal_name"]
        verbose_name_plural = "parties"

    def __str__(self) -> str:
        return self.legal_name

    @property
    def description(self) -> str:
        """The party as a document introduces it: "KMC Telecom Inc., a Delaware corporation"."""
        if self.jurisdiction and self.kind not in (EntityKind.OTHER, EntityKind.DIVISION):
            label = self.get_kind_display().lower()
            article = "an" if self.jurisdiction[0].lower() in "aeiou" else "a"
            return f"{self.legal_name}, {article} {self.jurisdiction} {label}"
        return self.legal_name


class FormerName(models.Model):
    """A name the party was formerly known as ("f/k/a")."""

    party = models.ForeignKey(Party, on_delete=models.CASCADE, related_name="former_names")
    name = models.CharField(max_length=255)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["party", "name"],
                name="former_name_unique_per_party",
                violation_error_message="This former name is already recorded for the party.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.party} (formerly {self.name})"


class Address(models.Model):
    """An office address of a party, as a document gives it."""

    party = models.ForeignKey(Party, on_delete=models.CASCADE, related_name="addresses")
    label = models.CharField(max_length=100, blank=True, default="Offices")
    street = models.CharField(max_length=255)
    suite = models.CharField(max_length=100, blank=True)
    city = models.CharField(max_length=100)
    region = models.CharField(max_length=100, help_text="State or province.")
    postal_code = models.CharField(max_length=20)
    country = models.CharField(max_length=100, default="United States")
    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "addresses"
        constraints = [
            models.UniqueConstraint(
                fields=["party", "street", "suite", "city", "postal_code"],
                name="address_unique_per_party",
                violation_error_message="This address is already recorded for the party.",
            )
        ]

    def __str__(self) -> str:
        street = f"{self.street}, {self.suite}" if self.suite else self.street
        return f"{street}, {self.city}, {self.region} {self.postal_code}"


class PartyRelationship(models.Model):
    """``party`` is ``kind`` ``other``: e.g. KMC Telecom Inc. is the sole member of Leasing I."""

    party = models.ForeignKey(Party, on_delete=models.CASCADE, related_name="relationships")
    kind = models.CharField(max_length=40, choices=RelationshipKind.choices)
    other = models.ForeignKey(Party, on_delete=models.CASCADE, related_name="inverse_relationships")
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["party", "kind", "other"],
                name="party_relationship_unique",
                violation_error_message="This relationship is already recorded.",
            ),
            models.CheckConstraint(
                condition=~Q(party=models.F("other")),
                name="party_relationship_not_to_itself",
                violation_error_message="A party cannot be related to itself.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.party} is {self.get_kind_display()} {self.other}"


class Person(TimeStamped):
    """A natural person who signs documents for parties."""

    full_name = models.CharField(max_length=255, unique=True)
    email = models.EmailField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["full_name"]
        verbose_name_plural = "people"

    def __str__(self) -> str:
        return self.full_name


class SignatureBlock(TimeStamped):
    """
    One party's signature block on an executed document, as printed.

    ``party_name_as_printed`` keeps the text of the block's heading; ``party`` is the
    entity that heading names (so a misprinted block stays attached to the entity it
    names). ``through_party`` is an intermediary "By:" line, e.g. the sole member of an LLC.
    """

    document_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    document_id = models.PositiveBigIntegerField()
    document = GenericForeignKey("document_type", "document_id")
    position = models.PositiveIntegerField(help_text="Order of the block on the signature pages.")
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="signature_blocks")
    party_name_as_printed = models.CharField(max_length=500)
    capacity_as_printed = models.CharField(max_length=255, blank=True, help_text='E.g. "as the Agent and as a Lender".')
    through_party = models.ForeignKey(
        Party, on_delete=models.PROTECT, null=True, blank=True, related_name="signature_blocks_as_intermediary"
    )
    through_capacity = models.CharField(max_length=255, blank=True, help_text='E.g. "as its Sole Member".')
    history = HistoricalRecords()

    class Meta:
        ordering = ["document_type", "document_id", "position"]
        indexes = [models.Index(fields=["document_type", "document_id"])]
        constraints = [
            models.UniqueConstraint(
                fields=["document_type", "document_id", "position"],
                name="signature_block_position_unique",
                violation_error_message="Another block already stands at this position on the document.",
            )
        ]

    def __str__(self) -> str:
        via = f", by {self.through_party} {self.through_capacity}".rstrip() if self.through_party else ""
        return f"{self.party_name_as_printed}{via}"


class Signature(TimeStamped):
    """
    One "By:" line of a block: who signed, with the title as printed.

    A blank line (no name, no title) is kept: it is part of the document as executed.
    ``conformed`` marks "/s/": signed, the signature image not reproduced.
    """

    block = models.ForeignKey(SignatureBlock, on_delete=models.CASCADE, related_name="signatures")
    position = models.PositiveIntegerField(default=1)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, null=True, blank=True, related_name="signatures")
    title = models.CharField(max_length=255, blank=True, help_text="The office, e.g. Vice President.")
    title_as_printed = models.CharField(max_length=500, blank=True)
    for_party = models.ForeignKey(
        Party,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="signatures_as_officer_of",
        help_text="The entity whose officer signs, where it is not the block's party.",
    )
    for_party_capacity = models.CharField(max_length=255, blank=True, help_text='E.g. "As Agent".')
    conformed = models.BooleanField(default=False, help_text='Printed as "/s/".')
    history = HistoricalRecords()

    class Meta:
        ordering = ["block", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["block", "position"],
                name="signature_position_unique",
                violation_error_message="Another signature line already stands at this position in the block.",
            )
        ]

    def __str__(self) -> str:
        if self.is_blank:
            return "(blank signature line)"
        return f"{self.person}, {self.title_as_printed or self.title}"

    @property
    def is_blank(self) -> bool:
        return self.person_id is None and not self.title_as_printed


class Membership(TimeStamped):
    """A portal user belongs to a party in a role; this scopes what the user may see and do."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    party = models.ForeignKey(Party, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=MembershipRole.choices)
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "party", "role"],
                name="membership_unique",
                violation_error_message="This user already has this role for the party.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} for {self.party}"
