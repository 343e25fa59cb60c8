"""The build: read → validate → score → render → publish, stopping before publish on any error."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from site_builder.diagnostics import Diagnostics, Pos
from site_builder.pipeline import load
from site_builder.publish import publish
from site_builder.render import Renderer, RenderError


@dataclass
class BuildResult:
    diagnostics: Diagnostics
    files: dict[str, bytes] | None  # None when the build failed and nothing was written

    @property
    def ok(self) -> bool:
        return self.files is not None


def render_site(root: Path) -> BuildResult:
    """Everything up to publishing: the output files in memory, or the diagnostics that stop the build."""
    loaded = load(root)
    if not loaded.ok:
        return BuildResult(loaded.diagnostics, None)
    if loaded.history.problem:  # said by build only: `check` stays quiet about history it does not need
        loaded.diagnostics.warning(Pos("."), "no-git-history", loaded.history.problem)
    renderer = Renderer(root, loaded, loaded.scores())
    try:
        files = renderer.render_all()
    except RenderError:
        return BuildResult(loaded.diagnostics, None)
    if loaded.diagnostics.errors:
        return BuildResult(loaded.diagnostics, None)
    return BuildResult(loaded.diagnostics, files)


def build(root: Path, output: Path) -> BuildResult:
    result = render_site(root)
    if result.ok:
        publish(result.files, output)
    return result
