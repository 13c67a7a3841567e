"""Choices for parties, their relationships and users' memberships."""

from django.db import models


class EntityKind(models.TextChoices):
    CORPORATION = "corporation", "Corporation"
    LIMITED_LIABILITY_COMPANY = "limited_liability_company", "Limited liability company"
    PUBLIC_SERVICE_COMPANY = "public_service_company", "Public service company"
    NATIONAL_BANK = "national_bank", "National bank"
    BANK = "bank", "Bank"
    BRANCH = "branch", "Branch"
    TRUST = "trust", "Trust"
    INSURANCE_COMPANY = "insurance_company", "Insurance company"
    PARTNERSHIP = "partnership", "Partnership"
    DIVISION = "division", "Division"
    OTHER = "other", "Other"


class RelationshipKind(models.TextChoices):
    """How one party stands to another: read as "<party> is <kind> <other party>"."""

    AFFILIATE_OF = "affiliate_of", "an affiliate of"
    SOLE_MEMBER_OF = "sole_member_of", "the sole member of"
    SUBSIDIARY_OF = "subsidiary_of", "a subsidiary of"
    ACTS_THROUGH_DIVISION = "acts_through_division", "acting through its division"
    ADVISOR_TO = "advisor_to", "advisor to"
    AGENT_FOR = "agent_for", "acting as agent for"


class MembershipRole(models.TextChoices):
    """What a user does for the party they belong to; scopes what they see and do."""

    BORROWER = "borrower", "Borrower"
    LENDER = "lender", "Lender"
    AGENT = "agent", "Agent"
    ADMINISTRATOR = "administrator", "Administrator"
