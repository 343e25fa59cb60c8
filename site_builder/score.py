"""Score stage (pure, no I/O): validated Site → one sheet per scored check type, staff member and period,
then base, commendations, total and flags.

Arithmetic is exact: points are Decimals as written, the weighted mean is a Fraction, and only
`round_half_up` turns a result into the figure people see.
"""

from __future__ import annotations

import decimal
from collections import defaultdict
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

from site_builder.compliance import AMENDED_AFTER_SIGNOFF
from site_builder.model import Appeal, Commendation, Finding, Record, Site
from site_builder.periods import Period, period_by_key, period_of, span
from site_builder.rules import EXACT, Rules, exact

# What an appeal does to a finding: whether it still counts, and how it is shown.
STATUS_COUNTED = "counted"
STATUS_UNDER_APPEAL = "under_appeal"
STATUS_UPHELD = "upheld"
STATUS_OVERTURNED = "overturned"
STATUS_REDUCED = "reduced"
_STATUS_OF_DECISION = {"pending": STATUS_UNDER_APPEAL, "upheld": STATUS_UPHELD,
                       "overturned": STATUS_OVERTURNED, "reduced": STATUS_REDUCED}


@dataclass(frozen=True, slots=True)
class Deduction:
    """A finding as it stands after any appeal."""

    record: Record
    finding: Finding
    status: str
    points: Decimal  # what is deducted now: 0 when overturned, the new points when reduced
    appeal: Appeal | None

    @property
    def zeroes_item(self) -> bool:
        """4.5.5: a punishable finding zeroes its item, unless an appeal overturned or reduced it."""
        return self.finding.punishable and self.status not in (STATUS_OVERTURNED, STATUS_REDUCED)


@dataclass(frozen=True, slots=True)
class ItemScore:
    item: str
    full: Decimal
    deducted: Decimal  # sum of the counted deductions, before the floor
    score: Decimal
    zeroed: bool  # set to 0 by a punishable finding


@dataclass(frozen=True, slots=True)
class Sheet:
    """One appraisal form: a scored check type for one staff member in one period."""

    check_type: str
    items: tuple[ItemScore, ...]
    score: Decimal
    records: tuple[Record, ...]  # every record whose findings go on this sheet
    deductions: tuple[Deduction, ...]

    @property
    def inspectors(self) -> tuple[str, ...]:
        return tuple(sorted({r.inspector for r in self.records}))

    @property
    def dates(self) -> tuple:
        return tuple(sorted({r.date for r in self.records}))


@dataclass(frozen=True, slots=True)
class StaffPeriod:
    staff: str
    period: Period
    sheets: dict  # scored check type -> Sheet, in rules order
    base: Fraction | None  # weighted mean of the sheets; None when unscored
    bonus: Decimal
    total: Fraction | None
    commendations: tuple[tuple[Record, Commendation], ...]
    flags: tuple[str, ...]
    records: tuple[Record, ...]  # every record that counted on a sheet, oldest first
    removed: tuple = ()  # compliance.Removal: records that counted here at the sign-off and no longer do

    @property
    def scored(self) -> bool:
        return self.total is not None

    @property
    def capped(self) -> bool:
        """The commendations would have taken the total past the cap (4.5.4)."""
        return self.total is not None and self.total < self.base + Fraction(self.bonus)



@dataclass(frozen=True, slots=True)
class PeriodScores:
    period: Period
    signed_off: bool
    staff: dict  # staff id -> StaffPeriod, in people.yaml order

    @property
    def status(self) -> str:
        return "published" if self.signed_off else "provisional"


# Digits a rounded number may have and still be made in Decimal's default context (28 digits, one kept for a
# carry): scores of 100-point forms have a few, and stay there; entering an exact context for each of the
# millions of numbers a large site shows would cost seconds
_ROUNDED_IN_DEFAULT_CONTEXT = decimal.DefaultContext.prec - 1
_ROUNDED_BELOW = 10 ** _ROUNDED_IN_DEFAULT_CONTEXT


def round_half_up(value: Fraction | Decimal, decimals: int) -> Decimal:
    """四舍五入 to `decimals` places, exactly: 91.25 → 91.3, 2/3 → 0.7, never banker's rounding."""
    if isinstance(value, Decimal):  # points as written: Decimal's own half-up rounding is exact
        if value.adjusted() + decimals < _ROUNDED_IN_DEFAULT_CONTEXT:
            return value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
        with localcontext(EXACT):  # (beyond the default context's digits quantize fails)
            return value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    numerator, denominator = value.numerator * 10 ** decimals, value.denominator  # integers: exact and fast
    magnitude, remainder = divmod(abs(numerator), denominator)
    if 2 * remainder >= denominator:
        magnitude += 1
    if magnitude < _ROUNDED_BELOW:
        return Decimal(magnitude if numerator >= 0 else -magnitude).scaleb(-decimals)
    with localcontext(EXACT):  # (beyond them scaleb would round)
        return Decimal(magnitude if numerator >= 0 else -magnitude).scaleb(-decimals)


def deductions_of(site: Site) -> dict[tuple[str, str], Deduction]:
    """(record id, finding id) → the finding with its appeal applied (worked out once per site)."""
    if "deductions" in site.derived:
        return site.derived["deductions"]
    out = site.derived["deductions"] = {}
    for record in site.records.values():
        for finding in record.findings:
            appeal = site.appeals.get((record.id, finding.id))
            status = _STATUS_OF_DECISION[appeal.decision] if appeal else STATUS_COUNTED
            points = finding.points
            if status == STATUS_OVERTURNED:
                points = Decimal(0)
            elif status == STATUS_REDUCED:
                points = appeal.points
            out[(record.id, finding.id)] = Deduction(record, finding, status, points, appeal)
    return out


_ZERO = Decimal(0)


def _sheet(rules: Rules, form_key: str, check_type: str, records: list[Record],
           deductions: list[Deduction], memo: dict) -> Sheet:
    form = rules.forms[form_key]
    if not deductions:  # most sheets: nothing found, every item at full marks
        items, score = _clean_sheet(form, memo)
        return Sheet(check_type, items, score, tuple(records), ())
    by_item: dict[str, list[Deduction]] = {}
    for d in deductions:
        by_item.setdefault(d.finding.item, []).append(d)
    items, clean = [], _clean_items(form, memo)
    for item in form.items.values():
        mine = by_item.get(item.key)
        if mine is None:  # most items of most sheets: nothing found
            items.append(clean[item.key])
            continue
        deducted = sum((d.points for d in mine), _ZERO)
        zeroed = any(d.zeroes_item for d in mine)
        score = _ZERO if zeroed else max(_ZERO, item.full - deducted)
        items.append(ItemScore(item.key, item.full, deducted, score, zeroed))
    return Sheet(check_type, tuple(items), sum((i.score for i in items), _ZERO), tuple(records), tuple(deductions))


def _clean_sheet(form, memo: dict) -> tuple[tuple[ItemScore, ...], Decimal]:
    """The items and score of a sheet on this form with nothing deducted."""
    key = ("sheet", form.key)
    if key not in memo:
        items = tuple(_clean_items(form, memo).values())
        memo[key] = items, sum((i.score for i in items), _ZERO)
    return memo[key]


def _clean_items(form, memo: dict) -> dict[str, ItemScore]:
    """item key -> the item's score with nothing deducted (the same for every sheet on this form)."""
    if form.key not in memo:
        memo[form.key] = {item.key: ItemScore(item.key, item.full, _ZERO, max(_ZERO, item.full), False)
                          for item in form.items.values()}
    return memo[form.key]


@exact
def score_site(site: Site, audits: dict | None = None, removals: list = ()) -> dict[str, PeriodScores]:
    """Every period from the first to the last that has a record or a sign-off, gaps included.

    `audits` (record id → RecordCompliance, from git) adds each record's compliance flags to the staff
    periods it counts in; `removals` (compliance.Removal) flags the periods records were taken out of after
    their sign-off as amended, for the staff they counted for.
    """
    rules = site.rules
    audits = audits or {}
    cutoff = rules.cutoff_day
    deductions = deductions_of(site)
    # staff id -> period key -> records covering them
    covering: dict[str, dict[str, list[Record]]] = defaultdict(lambda: defaultdict(list))
    keys = set()
    for record in site.records.values():
        key = period_of(record.date, cutoff).key
        keys.add(key)
        for person in record.staff:
            covering[person][key].append(record)
    for month in site.sign_offs:
        keys.add(month)
    if not keys:
        return {}
    first, last = min(keys), max(keys)
    periods = span(period_by_key(first, cutoff), period_by_key(last, cutoff), cutoff)
    shared = _Shared(rules)
    out = {}
    for p in periods:
        staff = {}
        for person in site.staff.values():
            records = covering[person.id][p.key]
            if records or person.employed(p.start, p.end):
                staff[person.id] = _staff_period(shared, person.id, person.post, p, records, deductions, audits)
        out[p.key] = PeriodScores(p, p.key in site.sign_offs, staff)
    for removal in removals:
        staff = out[removal.month].staff if removal.month in out else {}
        for person in removal.staff:
            sp = staff.get(person)
            if sp is not None:
                flags = tuple(sorted({*sp.flags, AMENDED_AFTER_SIGNOFF}))
                staff[person] = replace(sp, flags=flags, removed=sp.removed + (removal,))
    return out


class _Shared:
    """What every staff period of a site is scored with, worked out once (there are thousands)."""

    def __init__(self, rules: Rules):
        self.rules = rules
        self.scored = [ct.key for ct in rules.scored_types]  # in rules order: the order of the sheets
        self.sheet_of = {key: ct.sheet for key, ct in rules.check_types.items()}
        self.weights = {key: Fraction(rules.check_types[key].weight) for key in self.scored}
        self.required = [ct.key for ct in rules.required_types]
        self.cap = Fraction(rules.total_cap)
        self.clean: dict = {}  # form key -> its items with nothing deducted
        self._fractions: dict[Decimal, Fraction] = {}
        self._results: dict[tuple, tuple[Fraction, Fraction]] = {}

    def fraction(self, value: Decimal) -> Fraction:
        """Fraction(value), once per value (a sheet's score is one of a few dozen)."""
        made = self._fractions.get(value)
        if made is None:
            made = self._fractions[value] = Fraction(value)
        return made

    def result(self, scores: tuple[tuple[str, Decimal], ...], bonus: Decimal) -> tuple[Fraction, Fraction]:
        """(base, total) of sheets with these scores and these commendation points: the weighted mean of the
        sheets, and it with the commendations, capped. Worked out once per combination (staff periods share
        most: full marks on every sheet, a point or two off on one)."""
        made = self._results.get((scores, bonus))
        if made is None:
            weights = self.weights
            base = sum(weights[k] * self.fraction(score) for k, score in scores) / sum(weights[k] for k, _ in scores)
            made = self._results[(scores, bonus)] = base, min(self.cap, base + self.fraction(bonus))
        return made


def _staff_period(shared: _Shared, person: str, post: str, p: Period, records: list[Record],
                  deductions: dict, audits: dict) -> StaffPeriod:
    rules = shared.rules
    by_sheet: dict[str, list[Record]] = {}
    for r in records:
        by_sheet.setdefault(shared.sheet_of[r.type], []).append(r)
    sheets = {}
    for check_type in shared.scored:
        mine = by_sheet.get(check_type)
        if not mine:
            continue
        counted = [deductions[(r.id, f.id)] for r in mine for f in r.findings if f.staff == person]
        sheets[check_type] = _sheet(rules, post, check_type, mine, counted, shared.clean)
    commendations = tuple((r, c) for r in records for c in r.commendations if c.staff == person)
    bonus = sum((c.points for _, c in commendations), Decimal(0))
    base = total = None
    if sheets:
        base, total = shared.result(tuple((k, s.score) for k, s in sheets.items()), bonus)
    flags = []
    types_present = {r.type for r in records}
    for required in shared.required:
        if required not in types_present:
            flags.append(f"missing_check:{required}")
    if not sheets:
        flags.append("unscored")
    if any(d.zeroes_item for s in sheets.values() for d in s.deductions):
        flags.append("punishable")
    flags.extend({flag for r in records if r.id in audits for flag in audits[r.id].flags})
    counted = {r.id: r for sheet in sheets.values() for r in sheet.records}
    return StaffPeriod(person, p, sheets, base, bonus, total, commendations, tuple(sorted(flags)),
                       tuple(sorted(counted.values(), key=lambda r: (r.date, r.id))))
