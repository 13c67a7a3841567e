"""The proposal's types: frozen, plain data, every item carrying where it was read.

Spans are (start, end) character offsets into ``Proposal.text``: the text the importer read
(the input itself for plain text; the converted text for HTML)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

Span = tuple[int, int]


@dataclass(frozen=True)
class Unread:
    """Something the importer saw but could not read: a person must look."""

    span: Span
    reason: str
    excerpt: str = ""


@dataclass(frozen=True)
class Finding:
    """A discrepancy read as printed and kept, not fixed (a block printed twice, a party unsigned)."""

    kind: str
    subject: str
    span: Span
    reason: str
    confidence: float = 0.9


@dataclass(frozen=True)
class PrintedDate:
    """A date as printed and its reading. ``value`` is None when the text leaves it blank."""

    as_printed: str
    value: date | None
    span: Span
    confidence: float
    reason: str
    day_printed: bool = True
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class InstrumentRef:
    """An earlier instrument the document recites (the agreement, its amendments, a guaranty)."""

    name: str
    kind: str
    number: int | None
    dated: PrintedDate | None
    contract_number: str | None
    span: Span
    confidence: float
    reason: str
    reaffirmed_as_of: PrintedDate | None = None


@dataclass(frozen=True)
class GoverningLaw:
    jurisdiction: str
    as_printed: str
    span: Span
    confidence: float
    reason: str


@dataclass(frozen=True)
class Change:
    """What the document does to the earlier text: amend, add, replace, delete, restate."""

    target: str
    action: str
    as_printed: str
    span: Span
    confidence: float
    reason: str


@dataclass(frozen=True)
class Instrument:
    title: str
    kind: str
    number: int | None
    amends: str | None
    dated: PrintedDate | None
    date_label: str
    chain: tuple[InstrumentRef, ...]
    governing_law: GoverningLaw | None
    changes: tuple[Change, ...]
    span: Span
    confidence: float
    reason: str


@dataclass(frozen=True)
class Role:
    role: str
    as_printed: str
    span: Span
    confidence: float
    reason: str
    effective: date | None = None
    capacity: str = ""


@dataclass(frozen=True)
class Party:
    name: str
    key: str
    kind: str | None
    jurisdiction: str | None
    short_name: str | None
    former_names: tuple[str, ...]
    roles: tuple[Role, ...]
    span: Span
    confidence: float
    reason: str
    affiliate_of: str | None = None
    address: str | None = None
    acting_through: str | None = None
    signs_through: tuple[str, ...] = ()


@dataclass(frozen=True)
class Threshold:
    """A covenant level. ``value`` is None when redacted or left to be set."""

    as_printed: str
    value: Decimal | None
    unit: str  # "USD", "ratio" or "" when unknown
    span: Span
    confidence: float
    reason: str
    negative: bool = False
    redacted: bool = False
    to_be_set: bool = False


@dataclass(frozen=True)
class Window:
    as_printed: str
    kind: str  # "quarter", "trailing", "year_to_date", "month"
    months: int | None
    quarters: int | None
    span: Span
    confidence: float
    reason: str


@dataclass(frozen=True)
class ScheduleRow:
    """One level and the test dates it applies to.

    kind: "dates" (the listed dates), "range" (dates[0] through dates[-1]), "up_to" (every test
    date up to and including dates[0]), "thereafter" (every test date after the previous row),
    "after" (every test date after dates[0]), "flat" (every test date)."""

    kind: str
    dates: tuple[PrintedDate, ...]
    open_ended: bool
    threshold: Threshold
    span: Span
    confidence: float
    reason: str


@dataclass(frozen=True)
class Covenant:
    section: str | None
    name: str
    metric: str
    action: str  # "add", "replace", "amend", "delete", "state"
    direction: str | None  # "minimum", "maximum" or None when the text does not say
    window: Window | None
    frequency: str | None  # "quarterly", "monthly", "annually"
    basis: str | None  # "combined", "consolidated"
    rows: tuple[ScheduleRow, ...]
    span: Span
    confidence: float
    reason: str
    replaces: Threshold | None = None
    reading: str = ""
    flags: tuple[str, ...] = ()
    # "ratio" when the covenant tests a ratio ("4.00 to 1.00", a name ending in "Ratio"), else
    # "amount": a ratio's levels are never money, and its window sums both sides, not the ratio.
    kind: str = "amount"


@dataclass(frozen=True)
class Condition:
    description: str
    deadline: date | None
    deadline_as_printed: str | None
    span: Span
    confidence: float
    reason: str
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class SignatureLine:
    by_as_printed: str
    conformed: bool
    name: str | None
    title: str | None
    blank: bool
    span: Span
    confidence: float
    reason: str
    on_behalf_of: str | None = None  # lines under the title naming whom the signer acts for


@dataclass(frozen=True)
class SignatoryEntity:
    as_printed: str
    name: str
    key: str
    capacity: str
    former_name: str | None
    span: Span


@dataclass(frozen=True)
class Through:
    """A party signing through another ("By: KMC Telecom Inc., as its Sole Member")."""

    as_printed: str
    entity: str
    key: str
    capacity: str
    span: Span


@dataclass(frozen=True)
class SignatureBlock:
    heading: str | None
    entities: tuple[SignatoryEntity, ...]
    through: tuple[Through, ...]
    lines: tuple[SignatureLine, ...]
    shared: bool  # "In each case:": one line signs for every entity of the block
    span: Span
    confidence: float
    reason: str
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Proposal:
    filename: str
    text: str
    instrument: Instrument | None
    parties: tuple[Party, ...]
    covenants: tuple[Covenant, ...]
    conditions: tuple[Condition, ...]
    signatures: tuple[SignatureBlock, ...]
    findings: tuple[Finding, ...] = ()
    unread: tuple[Unread, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: dates ISO, Decimals as strings, tuples as lists; the text is left out."""
        out = {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self) if f.name != "text"}
        out["text_length"] = len(self.text)
        return out


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value
