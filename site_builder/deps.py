"""Dependency tracking: for each page, one digest of everything it is made from.

A page whose key equals the one recorded for it by the last build is linked from that build instead of
rendered (publish.Writer.reuse_all). Keys are made of content hashes and of what the score stage derived from
them, never of modification times. Pages that gather the whole site (summary, calibration, feed, rules,
data readme) have no key and are always rendered; they are few.

Every key starts from the base: the builder's code and layouts, rules.yaml, people.yaml, the list of
periods (navigation and pagers show it), and how complete the git history is. Not the language: a key is
compared only with the key the same path had, and the path names the language.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict

from site_builder.pages import Index, Page
from site_builder.periods import period_of


def _digest(parts: list[str]) -> str:
    return hashlib.blake2b("\n".join(parts).encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()


class PageKeys:
    def __init__(self, base: list[str], index: Index, digests: dict[str, str], history, audits: dict,
                 decisions: dict | None = None):
        self.index = index
        site = index.site
        self._digests = digests
        self._base = self.base = _digest(base + list(index.periods))  # (every key starts from it)
        self._history = history
        appeals, decisions = defaultdict(list), decisions or {}
        for (rid, _), appeal in site.appeals.items():
            decision = decisions.get(appeal.path)  # (the page says which commits wrote it, and whose)
            appeals[rid] += [digests.get(appeal.path, ""), repr((tuple(c.hash for c in decision.commits),
                                                                  tuple(c.hash for c in decision.foreign)))
                             if decision else "-"]
        # a record's own inputs (its source, its appeals' sources and who wrote their decisions, its compliance, its
        # git history and the commits that amended it after sign-off) and the base: this is also the key of the
        # record's pages, the most numerous, so they need no digest each
        self.records = {}
        for rid, record in site.records.items():
            audit = audits.get(rid)
            file_history = history.of(record.path)
            self.records[rid] = _digest([
                self._base, record.path, digests.get(record.path, ""), *appeals.get(rid, ()),
                repr(audit.flags) + repr(audit.imported) if audit else "",
                *([c.hash for c in file_history.commits] if file_history else ["uncommitted"]),
                *(c.hash for c in (audit.amendments if audit else ()))])
        self._keys: dict[tuple, str] = {}  # (template, context values) -> key
        self._parts: dict[tuple, str] = {}  # (template, context values) -> digest of what the page is made of
        self._parts_of = {"record.html": self._record, "appraisal.html": self._appraisal, "staff.html": self._staff,
                          "inspector.html": self._inspector, "period.html": self._period}
        self._by_period = defaultdict(list)
        cutoff = site.rules.cutoff_day
        for rid, record in site.records.items():
            self._by_period[period_of(record.date, cutoff).key].append(self.records[rid])

    def key(self, page: Page) -> str | None:
        """The page's key, or None for a page that is always rendered (the same in every language)."""
        if page.template == "record.html":
            return self.records[page.context["record"].id]
        if page.template not in self._parts_of:
            return None
        memo = (page.template, *page.context.values())  # the same page in each language has the same key
        if memo not in self._keys:
            self._keys[memo] = _digest([self._base, self._made_of(page.template, page.context)])
        return self._keys[memo]

    def data_key(self, template: str, **context) -> str:
        """The key of data files (or pieces of them) made from what the `template` page with this context
        shows: a period's, staff member's or inspector's rows."""
        return _digest([self._base, "data", template, self._made_of(template, context)])

    def _made_of(self, template: str, context: dict) -> str:
        """One digest of what a page with this context is made from (asked for its page key and for the
        keys of its data files: worked out once)."""
        memo = (template, *context.values())
        if memo not in self._parts:
            self._parts[memo] = _digest(self._parts_of[template](**context))
        return self._parts[memo]

    def _status(self, key: str) -> list[str]:
        """A period's status and its sign-off (source and the commit that added it)."""
        sign_off = self.index.site.sign_offs.get(key)
        if sign_off is None:
            return [self.index.periods[key].status]
        committed = self._history.of(sign_off.path)
        return [self.index.periods[key].status, self._digests.get(sign_off.path, ""),
                committed.first.hash if committed else "uncommitted"]

    def _record(self, record) -> list[str]:
        return [self.records[record.id]]

    def _appraisal(self, staff_id: str, period: str) -> list[str]:
        sp = self.index.periods[period].staff[staff_id]
        return [repr(sp.period), repr(sp.flags), *self._status(period), *(self.records[r.id] for r in sp.records),
                *(f"removed {r.path} {r.record} {r.sign_off.hash}" for r in sp.removed)]

    def _staff(self, staff_id: str) -> list[str]:
        parts = []
        for sp in self.index.staff_periods.get(staff_id, []):
            parts += [repr(sp.period), repr(sp.flags), self.index.periods[sp.period.key].status,
                      *(self.records[r.id] for r in sp.records)]
        parts += (self.records[d.record.id] for d in self.index.by_staff.get(staff_id, []))
        return parts

    def _inspector(self, inspector_id: str) -> list[str]:
        return [self.records[r.id] for r in self.index.by_inspector.get(inspector_id, [])]

    def _period(self, period: str) -> list[str]:
        # everyone's flags too: not all come from the period's records (a record taken out of it after its
        # sign-off flags it from git, and the period's records may be the same before and after that commit)
        staff = self.index.periods[period].staff if period in self.index.periods else {}
        return [*self._status(period), *self._by_period.get(period, []),
                *(f"{sid} {sp.flags}" for sid, sp in staff.items())]
