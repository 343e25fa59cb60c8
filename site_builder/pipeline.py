"""The stages joined up: read → validate → score. Commands call these; only the CLI prints."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from site_builder.diagnostics import Diagnostics
from site_builder.model import Site
from site_builder.read import Source, read_site
from site_builder.score import PeriodScores, score_site
from site_builder.validate import validate_site


@dataclass
class Loaded:
    sources: list[Source]
    site: Site | None  # None when rules.yaml or people.yaml is unusable
    diagnostics: Diagnostics

    @property
    def ok(self) -> bool:
        return self.site is not None and not self.diagnostics.errors


def load(root: Path) -> Loaded:
    """Read and validate every source of the site root."""
    diags = Diagnostics()
    sources = read_site(root, diags)
    site = validate_site(sources, diags)
    return Loaded(sources, site, diags)


def scores(site: Site) -> dict[str, PeriodScores]:
    return score_site(site)
