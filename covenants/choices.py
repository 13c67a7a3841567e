"""Choices for agreements, their roles, amendments and covenant terms."""

from django.db import models


class AgreementKind(models.TextChoices):
    LOAN_AND_SECURITY_AGREEMENT = "loan_and_security_agreement", "Loan and security agreement"
    CREDIT_AGREEMENT = "credit_agreement", "Credit agreement"
    GENERAL_AGREEMENT = "general_agreement", "General agreement"
    GUARANTY = "guaranty", "Guaranty"
    OTHER = "other", "Other"


class Role(models.TextChoices):
    """A party's role in an agreement, in the agreements' own words."""

    BORROWER = "borrower", "Borrower"
    LENDER = "lender", "Lender"
    AGENT = "agent", "Agent"
    COLLATERAL_AGENT = "collateral_agent", "Collateral Agent"
    GUARANTOR = "guarantor", "Guarantor"
    BENEFICIARY = "beneficiary", "Beneficiary"
    CUSTOMER = "customer", "Customer"
    SELLER = "seller", "Seller"


class AmendmentStatus(models.TextChoices):
    PENDING = "pending", "Pending its conditions precedent"
    EFFECTIVE = "effective", "Effective"


class TermsAction(models.TextChoices):
    """What an amendment does to a covenant from its effective date."""

    ADD = "add", "Adds"
    REPLACE = "replace", "Replaces"
    DELETE = "delete", "Deletes"


class Direction(models.TextChoices):
    AT_LEAST = "at_least", "at least"
    AT_MOST = "at_most", "at most"


class Basis(models.TextChoices):
    COMBINED = "combined", "combined across all Borrowers"
    EACH_BORROWER = "each_borrower", "each Borrower"
    CONSOLIDATED = "consolidated", "consolidated, as reported by one party for the group"


class Frequency(models.TextChoices):
    """How often a covenant is tested, or statements are reported: on the fiscal calendar's period ends."""

    MONTH = "month", "Monthly"
    QUARTER = "quarter", "Quarterly"
    YEAR = "year", "Annually"


class MetricNature(models.TextChoices):
    """A flow is earned over a period (revenues: "for" it); a balance is held at a date (cash: "at" it)."""

    FLOW = "flow", "Flow (for a period)"
    BALANCE = "balance", "Balance (at a date)"


class MetricKind(models.TextChoices):
    SUM = "sum", "Line item summed over the window"
    RATIO = "ratio", "Ratio of two windowed sums"


class WindowKind(models.TextChoices):
    TRAILING = "trailing", "Periods ending on the test date"
    FISCAL_YEAR_TO_DATE = "fiscal_ytd", "Fiscal year to date"


class ThresholdState(models.TextChoices):
    SET = "set", "Set"
    TO_BE_SET = "to_be_set", "To be set"
    REDACTED = "redacted", "Redacted in the copy on file"
