"""The validated domain: people, records, findings, commendations, appeals and sign-offs.

Everything here has passed validation; positions are kept so later stages can point back at sources.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from site_builder.diagnostics import Pos, pickled_by_fields
from site_builder.rules import Rules


@dataclass(frozen=True, slots=True)
class Staff:
    id: str
    name: str
    post: str  # a form key of rules.yaml
    joined: date | None
    left: date | None

    def employed(self, start: date, end: date) -> bool:
        """Employed on at least one day of start..end."""
        return (self.joined is None or self.joined <= end) and (self.left is None or self.left >= start)


@dataclass(frozen=True, slots=True)
class Inspector:
    id: str
    name: str
    role: str
    git_emails: tuple[str, ...]


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Finding:
    id: str  # its `id:`, or its 1-based position in the record
    position: int
    staff: str
    item: str
    severity: str
    points: Decimal
    note: str
    procedure: str
    punishable: bool
    required_rate: Decimal | None
    actual_rate: Decimal | None
    pos: Pos


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Commendation:
    staff: str
    points: Decimal
    reason: str
    pos: Pos


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Record:
    id: str  # path under content/records without `.md`
    path: str
    type: str
    date: date
    inspector: str
    staff: tuple[str, ...]
    findings: tuple[Finding, ...]
    commendations: tuple[Commendation, ...]
    body: str
    body_line: int


DECISIONS = ("pending", "upheld", "overturned", "reduced")  # what the quality department may decide (4.6)


@dataclass(frozen=True, slots=True)
class Appeal:
    id: str
    path: str
    record: str
    finding: str  # the finding's id
    filed: date
    decision: str  # pending, upheld, overturned, reduced
    points: Decimal | None  # the new deduction, with reduced
    decided: date | None
    decided_by: str | None
    body: str


@dataclass(frozen=True, slots=True)
class SignOff:
    month: str  # YYYY-MM
    path: str
    closed: date
    closed_by: str
    body: str


@dataclass(frozen=True, slots=True)
class Site:
    rules: Rules
    staff: dict  # id -> Staff, in people.yaml order
    inspectors: dict  # id -> Inspector
    records: dict  # id -> Record, sorted by id
    appeals: dict  # (record id, finding id) -> Appeal
    sign_offs: dict  # month -> SignOff
    derived: dict = field(default_factory=dict, compare=False, repr=False)  # computed once, e.g. deductions
