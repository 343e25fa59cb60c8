"""The stages joined up: read → validate → (git history) → score. Commands call these; only the CLI prints."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from site_builder.compliance import record_compliance, report_compliance
from site_builder.diagnostics import Diagnostics
from site_builder.history import History, patch, read_history
from site_builder.model import Site
from site_builder.read import Source, read_site
from site_builder.score import PeriodScores, score_site
from site_builder.validate import validate_site


@dataclass
class Loaded:
    sources: list[Source]
    site: Site | None  # None when rules.yaml or people.yaml is unusable
    diagnostics: Diagnostics
    history: History = field(default_factory=History)
    audits: dict = field(default_factory=dict)  # record id -> RecordCompliance
    amendments: dict = field(default_factory=dict)  # record id -> [(Commit, unified diff)] after sign-off

    @property
    def digests(self) -> dict[str, str]:
        """Path -> content hash of every source that was read."""
        return {s.path: s.digest for s in self.sources}

    @property
    def ok(self) -> bool:
        return self.site is not None and not self.diagnostics.errors

    def scores(self) -> dict[str, PeriodScores]:
        return score_site(self.site, self.audits)


def load(root: Path) -> Loaded:
    """Read and validate every source of the site root, and read its git history once."""
    diags = Diagnostics()
    sources = read_site(root, diags)
    site = validate_site(sources, diags)
    if site is None:
        return Loaded(sources, None, diags)
    history = read_history(root)
    audits = record_compliance(site, history)
    report_compliance(site, history, audits, diags)
    amendments = {rid: [(c, patch(root, c, site.records[rid].path)) for c in audit.amendments]
                  for rid, audit in audits.items() if audit.amendments}
    return Loaded(sources, site, diags, history, audits, amendments)
