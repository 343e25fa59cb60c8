"""What pages the site has, where each is written, and the indexes templates read from.

Decides nothing about scores: it arranges the score stage's results for reading.
"""

from __future__ import annotations

import posixpath
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import quote

from site_builder.model import Record, Site
from site_builder.periods import period_of
from site_builder.score import Deduction, PeriodScores, StaffPeriod, deductions_of


@dataclass(frozen=True, slots=True)
class Page:
    path: str  # output path relative to the site root, e.g. "en/staff/S001.html"
    template: str
    context: dict = field(default_factory=dict, compare=False)


@dataclass
class Index:
    """Cross-references the pages need: who was found what, who recorded what, and the periods."""

    site: Site
    periods: dict[str, PeriodScores]
    deductions: dict[tuple[str, str], Deduction]
    by_staff: dict[str, list[Deduction]]
    by_inspector: dict[str, list[Record]]
    staff_periods: dict[str, list[StaffPeriod]]
    appeals: dict[str, list]  # record id -> its appeals
    by_period: dict[str, list[Record]]  # period key -> its records, by date and id

    @property
    def latest(self) -> str | None:
        return next(reversed(self.periods), None)

    def record_deductions(self, record: Record) -> list[Deduction]:
        return [self.deductions[(record.id, f.id)] for f in record.findings]

    def appeals_of(self, record: Record) -> list:
        return self.appeals.get(record.id, [])


def build_index(site: Site, periods: dict[str, PeriodScores]) -> Index:
    deductions = deductions_of(site)
    by_staff: dict[str, list[Deduction]] = defaultdict(list)
    for d in deductions.values():
        by_staff[d.finding.staff].append(d)
    for items in by_staff.values():
        items.sort(key=lambda d: (d.record.date, d.record.id, d.finding.position))
    by_inspector: dict[str, list[Record]] = defaultdict(list)
    by_period: dict[str, list[Record]] = defaultdict(list)
    cutoff = site.rules.cutoff_day
    for record in sorted(site.records.values(), key=lambda r: (r.date, r.id)):
        by_inspector[record.inspector].append(record)
        by_period[period_of(record.date, cutoff).key].append(record)
    staff_periods: dict[str, list[StaffPeriod]] = defaultdict(list)
    for p in periods.values():
        for sid, sp in p.staff.items():
            staff_periods[sid].append(sp)
    appeals: dict[str, list] = defaultdict(list)
    for (rid, _), appeal in site.appeals.items():
        appeals[rid].append(appeal)
    return Index(site, periods, deductions, by_staff, by_inspector, staff_periods, appeals, by_period)


# Where each kind of page lives, relative to a language's root.
def index_url() -> str:
    return "index.html"


def period_url(key: str) -> str:
    return f"periods/{key}.html"


def staff_url(staff_id: str) -> str:
    return f"staff/{staff_id}.html"


def appraisal_url(staff_id: str, key: str) -> str:
    return f"staff/{staff_id}/{key}.html"


def record_url(record_id: str) -> str:
    return f"records/{record_id}.html"


def inspector_url(inspector_id: str) -> str:
    return f"inspectors/{inspector_id}.html"


def rules_url() -> str:
    return "rules.html"


def calibration_url() -> str:
    return "calibration.html"


def feed_url() -> str:
    return "feed.xml"


@lru_cache(maxsize=1 << 16)
def _link(from_dir: str, to_path: str) -> str:
    # Both are clean relative output paths, so no filesystem lookups (posixpath.relpath asks for the cwd).
    here = from_dir.split("/") if from_dir else []
    there = to_path.split("/")
    common = 0
    while common < min(len(here), len(there) - 1) and here[common] == there[common]:
        common += 1
    return quote("/".join([".."] * (len(here) - common) + there[common:]), safe="/")


def relative(from_path: str, to_path: str, anchor: str = "") -> str:
    """A link from one output file to another (layouts see this module as `urls`, so it stays for theirs)."""
    return linker(from_path)(to_path, anchor)


def linker(from_path: str):
    """link(to_path, anchor="") from the output file `from_path` to another: relative, so that it works
    from any folder and from file://."""
    from_dir = posixpath.dirname(from_path)

    def link(to_path: str, anchor: str = "") -> str:
        made = _link(from_dir, to_path)
        return f"{made}#{quote(anchor, safe='')}" if anchor else made

    return link


def plan(index: Index, prefix: str) -> list[Page]:
    """Every page of one language, under `prefix` ("" or "en/")."""
    site = index.site
    pages = [Page(prefix + index_url(), "index.html", {"period": index.latest}),
             Page(prefix + rules_url(), "rules.html"),
             Page(prefix + calibration_url(), "calibration.html"),
             Page(prefix + feed_url(), "feed.xml")]
    for key in index.periods:
        pages.append(Page(prefix + period_url(key), "period.html", {"period": key}))
    for sid in site.staff:
        pages.append(Page(prefix + staff_url(sid), "staff.html", {"staff_id": sid}))
        for sp in index.staff_periods.get(sid, []):
            pages.append(Page(prefix + appraisal_url(sid, sp.period.key), "appraisal.html",
                              {"staff_id": sid, "period": sp.period.key}))
    for record in site.records.values():
        pages.append(Page(prefix + record_url(record.id), "record.html", {"record": record}))
    for iid in site.inspectors:
        pages.append(Page(prefix + inspector_url(iid), "inspector.html", {"inspector_id": iid}))
    return pages
