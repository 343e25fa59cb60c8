"""Open and fair (pure): what a manager reads in a minute, and whether inspectors judge alike.

Everything here is derived from the score stage's results; nothing changes a score. Comparisons are
prompts for a conversation, never verdicts: groups too small to compare are said to be so.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from statistics import median

from site_builder.model import Site
from site_builder.rules import exact
from site_builder.periods import period_of
from site_builder.score import (STATUS_OVERTURNED, STATUS_REDUCED, Deduction, PeriodScores, deductions_of,
                                round_half_up)

MIN_CHECKS_TO_COMPARE = 3  # fewer checks than this are "too few to compare"
# An inspector differs strongly when their findings per check or mean points per finding are at least
# this many times their peers' (or at most its inverse).
OUTLIER_RATIO = Fraction(3, 2)
HISTOGRAM_BINS = ((0, 60), (60, 70), (70, 80), (80, 90), (90, 95), (95, 100), (100, None))  # None: and above


@dataclass(frozen=True, slots=True)
class PeriodSummary:
    key: str
    scored: int
    unscored: int
    mean: Fraction | None
    median: Fraction | None
    histogram: tuple[tuple[str, int], ...]  # bin label -> staff count
    item_deductions: dict  # staff id -> item key -> points deducted (counted)
    item_totals: dict  # item key -> points deducted across staff
    by_severity: dict  # severity key -> number of counted findings
    commendations: int
    commendation_points: Decimal
    appeals: dict  # decision -> count
    appealed: tuple  # the Deductions appealed, oldest first
    missing_checks: tuple[tuple[str, str], ...]  # (staff id, check type)
    flagged: dict  # flag -> staff ids
    # (form key, item key) -> points deducted across staff: forms may share item keys (`item_totals` adds
    # those together; it stays for layouts written before this)
    form_item_totals: dict = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Calibration:
    """How one inspector judged with one check type, over a set of periods."""

    inspector: str
    check_type: str
    scope: str  # a period key, or "all"
    checks: int
    staff_covered: int
    findings: int
    points: Decimal
    top_of_band: int  # findings given the highest points their band allows
    by_severity: dict
    appealed: int
    overturned: int
    reduced: int
    repeat_checks: int  # checks of someone this inspector had already checked in the scope
    peer_findings_per_check: Fraction | None
    peer_points_per_finding: Fraction | None

    @property
    def too_few(self) -> bool:
        return self.checks < MIN_CHECKS_TO_COMPARE

    @property
    def findings_per_check(self) -> Fraction:
        return Fraction(self.findings, self.checks) if self.checks else Fraction(0)

    @property
    def points_per_finding(self) -> Fraction | None:
        return Fraction(self.points) / self.findings if self.findings else None

    @property
    def top_share(self) -> Fraction | None:
        return Fraction(self.top_of_band, self.findings) if self.findings else None

    def _comparisons(self) -> list[tuple[Fraction, Fraction]]:
        """(this inspector's figure, the peers') for each figure there is something to compare with."""
        if self.too_few:
            return []
        return [(mine, peers) for mine, peers in ((self.findings_per_check, self.peer_findings_per_check),
                                                  (self.points_per_finding, self.peer_points_per_finding))
                if mine is not None and peers]

    @property
    def compared(self) -> bool:
        """Whether there were peers to compare with at all (else neither a mark nor "in line" is said)."""
        return bool(self._comparisons())

    @property
    def marks(self) -> tuple[str, ...]:
        """`harsher`/`more_lenient` when strongly different from peers with the same check type."""
        out = []
        for mine, peers in self._comparisons():
            if mine >= peers * OUTLIER_RATIO:
                out.append("harsher")
            elif mine * OUTLIER_RATIO <= peers:
                out.append("more_lenient")
        return tuple(sorted(set(out)))


def _mean(values: list[Fraction]) -> Fraction | None:
    return sum(values, Fraction(0)) / len(values) if values else None


@exact
def summarize(site: Site, periods: dict[str, PeriodScores],
              kept: Mapping[str, PeriodSummary] | None = None) -> dict[str, PeriodSummary]:
    """Each period's summary; `kept` (period key -> its summary, made by this function from the same inputs:
    see cache.PeriodMemo) spares making those again."""
    kept = kept or {}
    deductions = deductions_of(site)
    by_period: dict[str, list[Deduction]] = defaultdict(list)
    cutoff = site.rules.cutoff_day
    for d in deductions.values():
        key = period_of(d.record.date, cutoff).key
        if key not in kept:
            by_period[key].append(d)
    for found in by_period.values():  # (sorting each period's apart is cheaper than sorting them all)
        found.sort(key=lambda d: (d.record.date, d.record.id, d.finding.position))
    out = {}
    for key, p in periods.items():
        if key in kept:
            out[key] = kept[key]
            continue
        totals = [sp.total for sp in p.staff.values() if sp.total is not None]
        bins = []
        above = site.rules.total_cap > 100  # a cap above the procedure's lets totals pass 100
        for low, high in HISTOGRAM_BINS:
            label = f"{low}–{high}" if high is not None else f"{low}+" if above else f"{low}"
            bins.append((label, sum(1 for t in totals if low <= t and (high is None or t < high))))
        per_staff: dict[str, dict[str, Decimal]] = {}
        item_totals: Counter = Counter()
        form_item_totals: Counter = Counter()
        severity: Counter = Counter()
        appeals: Counter = Counter()
        for d in by_period[key]:
            if d.appeal:
                appeals[d.appeal.decision] += 1
            if d.status == STATUS_OVERTURNED:
                continue
            severity[d.finding.severity] += 1
            row = per_staff.setdefault(d.finding.staff, {})
            row[d.finding.item] = row.get(d.finding.item, Decimal(0)) + d.points
            item_totals[d.finding.item] += d.points
            form_item_totals[(site.staff[d.finding.staff].post, d.finding.item)] += d.points
        commended = [c for sp in p.staff.values() for _, c in sp.commendations]
        missing = tuple((sid, flag.split(":", 1)[1]) for sid, sp in p.staff.items() for flag in sp.flags
                        if flag.startswith("missing_check:"))
        flagged: dict[str, list[str]] = defaultdict(list)
        for sid, sp in p.staff.items():
            for flag in sp.flags:
                if not flag.startswith("missing_check:"):
                    flagged[flag].append(sid)
        out[key] = PeriodSummary(
            key, len(totals), len(p.staff) - len(totals), _mean(totals),
            Fraction(median(totals)) if totals else None, tuple(bins), per_staff, dict(sorted(item_totals.items())),
            dict(sorted(severity.items())), len(commended), sum((c.points for c in commended), Decimal(0)),
            dict(sorted(appeals.items())), tuple(d for d in by_period[key] if d.appeal), missing,
            dict(sorted(flagged.items())), dict(sorted(form_item_totals.items())))
    return out


class _Tally:
    """What one inspector's checks of one type add up to in a scope (a period, or all of them)."""

    def __init__(self):
        self.checks = self.findings = self.top_of_band = self.appealed = self.staff_checks = 0
        self.points = Decimal(0)
        self.staff: set[str] = set()
        self.severity: Counter = Counter()
        self.status: Counter = Counter()

    def add(self, record, found: list[Deduction], highest: dict) -> None:
        self.checks += 1
        self.staff.update(record.staff)
        self.staff_checks += len(record.staff)
        self.findings += len(found)
        for d in found:
            self.points += d.finding.points
            self.top_of_band += d.finding.points == highest[d.finding.severity]
            self.appealed += d.appeal is not None
            self.severity[d.finding.severity] += 1
            self.status[d.status] += 1

    def merge(self, other: "_Tally") -> None:
        for name in ("checks", "findings", "top_of_band", "appealed", "staff_checks", "points"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.staff |= other.staff
        self.severity.update(other.severity)
        self.status.update(other.status)

    def row(self) -> dict:
        # a record names each person once, so every check of someone but the first is a repeat check
        return dict(checks=self.checks, staff_covered=len(self.staff), findings=self.findings, points=self.points,
                    top_of_band=self.top_of_band, by_severity=dict(sorted(self.severity.items())),
                    appealed=self.appealed, overturned=self.status[STATUS_OVERTURNED],
                    reduced=self.status[STATUS_REDUCED], repeat_checks=self.staff_checks - len(self.staff))


@exact
def period_tallies(site: Site, kept: Mapping[str, dict] | None = None) -> dict[str, dict[tuple[str, str], _Tally]]:
    """period key -> (inspector, check type) -> what that inspector's checks of that type add up to in the
    period (a calibration's raw material); `kept` (the same, made by this function from the same inputs: see
    cache.PeriodMemo) spares adding those up again."""
    kept = kept or {}
    deductions = deductions_of(site)
    highest = {key: severity.points.high for key, severity in site.rules.severities.items()}
    cutoff = site.rules.cutoff_day
    made: dict[str, dict[tuple[str, str], _Tally]] = {}
    for record in site.records.values():  # one pass over every record and finding: it counts for its period
        key = period_of(record.date, cutoff).key
        if key in kept:
            continue
        scope = (record.inspector, record.type)
        tallies = made.setdefault(key, {})
        tally = tallies.get(scope)
        if tally is None:
            tally = tallies[scope] = _Tally()
        tally.add(record, [deductions[(record.id, f.id)] for f in record.findings], highest)
    return {**kept, **made}


class Calibrations(list):
    """The rows of a calibration, in order; `scope(key)` gives those of one period, or of "all" (a page of
    hundreds of periods asks for each: filtering the whole list each time grew with their square)."""

    def scope(self, key: str) -> list[Calibration]:
        if not hasattr(self, "_scopes"):
            self._scopes: dict[str, list[Calibration]] = {}
            for row in self:
                self._scopes.setdefault(row.scope, []).append(row)
        return self._scopes.get(key, [])


@exact
def calibrate(site: Site, by_period: dict | None = None) -> Calibrations:
    """One row per inspector and check type, per period and over all periods ("all"); `by_period` is what
    period_tallies gives, when it was asked already."""
    by_period = period_tallies(site) if by_period is None else by_period
    tallies = {(inspector, check_type, key): tally for key, scopes in by_period.items()
               for (inspector, check_type), tally in scopes.items()}
    overall: dict[tuple[str, str, str], _Tally] = {}
    for (inspector, check_type, _), tally in tallies.items():  # ... and, summed up, for "all"
        overall.setdefault((inspector, check_type, "all"), _Tally()).merge(tally)
    raw = {scope: tally.row() for scope, tally in (tallies | overall).items()}
    everyone: dict[tuple[str, str], list] = defaultdict(lambda: [0, 0, Decimal(0)])  # checks, findings, points
    for (_, check_type, scope), row in raw.items():
        total = everyone[(check_type, scope)]
        total[0] += row["checks"]
        total[1] += row["findings"]
        total[2] += row["points"]
    out = Calibrations()
    for (inspector, check_type, scope), row in sorted(raw.items(), key=lambda kv: (kv[0][2] != "all", kv[0])):
        total = everyone[(check_type, scope)]  # the peers: everyone else (exact: integers and Decimals)
        checks, findings, points = total[0] - row["checks"], total[1] - row["findings"], total[2] - row["points"]
        if checks < MIN_CHECKS_TO_COMPARE:
            checks = findings = 0  # peers too few to compare against, on either figure
        out.append(Calibration(
            inspector, check_type, scope, **row,
            peer_findings_per_check=Fraction(findings, checks) if checks else None,
            peer_points_per_finding=Fraction(points) / findings if findings else None))
    return out


@dataclass(frozen=True, slots=True)
class Change:
    """What moved for one person from one scored period to the next."""

    before: str
    after: str
    total_delta: Decimal | Fraction  # between the totals as shown (rounded), so it adds up with what the page says
    items: tuple[tuple[str, Decimal, Decimal], ...]  # item, deducted before, deducted after (only changed)


@exact
def item_deductions(sp) -> dict[str, Decimal]:
    """Counted points deducted per item across a staff period's sheets."""
    out: dict[str, Decimal] = {}
    for sheet in sp.sheets.values():
        for d in sheet.deductions:
            if d.points:
                out[d.finding.item] = out.get(d.finding.item, Decimal(0)) + d.points
    return out


@exact
def changes(staff_periods: list, decimals: int | None = None) -> list[Change]:
    """Period-to-period changes of one person, between consecutive scored periods: between the totals as
    shown to `decimals` places (100.0 → 93.3 moved by 6.7, though the exact totals moved by 6.75). Without
    `decimals` (as layouts written before it was asked for call it), between the exact totals."""
    scored = [sp for sp in staff_periods if sp.scored]
    out = []
    for before, after in zip(scored, scored[1:]):
        a, b = item_deductions(before), item_deductions(after)
        moved = tuple((item, a.get(item, Decimal(0)), b.get(item, Decimal(0)))
                      for item in sorted(set(a) | set(b)) if a.get(item) != b.get(item))
        delta = after.total - before.total if decimals is None else \
            round_half_up(after.total, decimals) - round_half_up(before.total, decimals)
        out.append(Change(before.period.key, after.period.key, delta, moved))
    return out


@exact
def profile(staff_periods: list) -> dict[str, Decimal]:
    """Points deducted per item over every period of one person."""
    out: dict[str, Decimal] = {}
    for sp in staff_periods:
        for item, points in item_deductions(sp).items():
            out[item] = out.get(item, Decimal(0)) + points
    return dict(sorted(out.items()))
