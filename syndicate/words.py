"""
The values and words of the syndicate's votes, bases and outcomes, as plain strings: the pure
computation (:mod:`syndicate.shares`) reads them here, and the model choices
(:mod:`syndicate.choices`) are built from them, so each is written once.
"""

from __future__ import annotations

from typing import Final

REQUISITE: Final = "requisite"
SUPERMAJORITY: Final = "supermajority"
ALL_LENDERS: Final = "all_lenders"
ALL_AFFECTED: Final = "all_affected"
VOTE_LABELS: Final[dict[str, str]] = {
    REQUISITE: "Requisite Lenders",
    SUPERMAJORITY: "Supermajority Lenders",
    ALL_LENDERS: "All Lenders",
    ALL_AFFECTED: "All affected Lenders",
}

COMMITMENTS: Final = "commitments"
LOANS_OUTSTANDING: Final = "loans_outstanding"
BASIS_LABELS: Final[dict[str, str]] = {COMMITMENTS: "aggregate Commitments", LOANS_OUTSTANDING: "Loans outstanding"}

REACHED: Final = "reached"
NOT_REACHED: Final = "not_reached"
UNKNOWN: Final = "unknown"
OUTCOME_LABELS: Final[dict[str, str]] = {
    REACHED: "Threshold reached",
    NOT_REACHED: "Threshold not reached",
    UNKNOWN: "Threshold unknown",
}
