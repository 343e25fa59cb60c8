"""The build: read → validate → score → render → publish, stopping before publish on any error."""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from site_builder.cache import (FileDigests, Fragments, cache_problem, code_fingerprint, site_folder,
                                 unusable_cache, write_atomically)
from site_builder.diagnostics import Diagnostics, Pos, site_path
from site_builder.fingerprint import Inputs, changed, git_state, layout_folders
from site_builder.publish import (MARKER, check_replaceable, intact, output_lock, output_umask, publishing,
                                  read_manifest, recover)

if TYPE_CHECKING:
    from site_builder.pipeline import Loaded
    from site_builder.render import Renderer

# The stages themselves (YAML, Markdown, Jinja, ...) are imported only once a build has something to do:
# finding that nothing changed is most builds, and takes a fraction of a second.


@dataclass
class BuildResult:
    diagnostics: Diagnostics
    files: dict | None  # path -> bytes (in memory) or digest (published); None when the build failed
    unchanged: bool = False  # the published site was already up to date
    pages: int = 0  # HTML pages in the output
    others: int = 0  # other files in the output
    rendered: dict = field(default_factory=dict)  # in memory: path -> (dependency key, bytes), for the next build

    @classmethod
    def of(cls, diagnostics: Diagnostics, files: dict) -> "BuildResult":
        pages = sum(path.endswith(".html") for path in files)
        return cls(diagnostics, files, pages=pages, others=len(files) - pages)

    @property
    def ok(self) -> bool:
        return self.files is not None


class _Failed(Exception):
    """Errors were found while rendering: publish nothing."""


def _prepare(root: Path, cache: bool = True, jobs: int = 1, progress=None,
             stats: dict | None = None, watch: bool = False) -> tuple[Loaded, Renderer | None]:
    from site_builder.pipeline import load
    from site_builder.render import Renderer

    loaded = load(root, cache=cache, jobs=jobs, progress=progress, stats=stats, bodies=True)
    if not loaded.ok:
        return loaded, None
    if loaded.history.problem:  # said by build only: `check` stays quiet about history it does not need
        loaded.diagnostics.warning(Pos("."), "no-git-history", loaded.history.problem)
    periods = loaded.scores()
    renderer = Renderer(root, loaded, periods, *loaded.insights(periods), watch)
    if loaded.memo is not None:
        loaded.memo.save()
        loaded.memo.report(loaded.diagnostics)
    return loaded, None if loaded.diagnostics.errors else renderer  # (layouts linked outside, say)


def render_site(root: Path, previous: dict | None = None) -> BuildResult:
    """Everything up to publishing, in memory (for `serve`): the files, or the diagnostics that stop it.
    `previous` is the `rendered` of the last result: pages whose inputs are unchanged are taken from it."""
    from site_builder.render import RenderError

    loaded, renderer = _prepare(root, watch=True)
    if renderer is None:
        return BuildResult(loaded.diagnostics, None)
    try:
        files = renderer.render_all(previous)
    except RenderError:
        return BuildResult(loaded.diagnostics, None)
    if loaded.diagnostics.errors:
        return BuildResult(loaded.diagnostics, None)
    result = BuildResult.of(loaded.diagnostics, files)
    result.rendered = renderer.rendered
    return result


def build(root: Path, output: Path, jobs: int | None = None, progress=lambda done, total, what="pages": None,
          cache: bool = True) -> BuildResult:
    """Render straight into a staging folder beside `output` (in `jobs` processes) and swap it in.

    When nothing the output depends on has changed since it was published, nothing is done at all.
    Without `cache`, every record is read again and every page rendered (files whose bytes are unchanged
    are still linked from the last build). `progress(done, total, what)` hears of records read and pages
    rendered."""
    jobs = jobs or os.cpu_count() or 1
    unusable = cache_problem(root) if cache else ""
    cache = cache and not unusable  # (a cache folder that cannot be made or written: said once, below)
    known = FileDigests(root) if cache else None
    scanned = Inputs(root, layout_folders(root), known, jobs)
    inputs = scanned.fingerprint
    try:
        if output.exists() and cache:
            check_replaceable(output)  # (before the lock: a refused folder gets no lock file beside it)
            with output_lock(output):
                recover(output)  # what a build killed after its swap left beside the output
                published = read_manifest(output, head_only=True)
                # (under another umask, the files are published again with the mode it gives; without the
                # warnings of the build that published it, which a build says again, it is built again)
                kept = _kept_warnings(root, inputs) if published.get("inputs") == inputs else None
                if kept is not None and published.get("umask") == output_umask() and intact(output):
                    diagnostics = Diagnostics(kept)
                    known.report(diagnostics)
                    return BuildResult(diagnostics, {}, unchanged=True, pages=published.get("pages", 0),
                                       others=published.get("count", 0) - published.get("pages", 0))
        else:
            published = {}
        stats = scanned.stats()  # every input file's lstat, taken once
    finally:
        scanned.close()
    from site_builder.render import RenderError

    loaded, renderer = _prepare(root, cache, jobs, progress, stats)
    layouts = tuple(str(folder) + os.sep for folder in layout_folders(root))  # (what their files' paths start with)
    watched, git = _watched(root, loaded, stats, layouts), scanned.git
    del stats, scanned  # memory: the pages need it more
    if unusable:
        unusable_cache(loaded.diagnostics, root, unusable)
    if known is not None:
        known.report(loaded.diagnostics)
    if renderer is None:
        return BuildResult(loaded.diagnostics, None)
    if cache:
        renderer.fragments = Fragments(root, renderer.keys.base)
        renderer.fragments.report(loaded.diagnostics)
    if cache and not published and (output / MARKER).exists():
        loaded.diagnostics.warning(Pos(f"{output.name}/{MARKER}"), "damaged-manifest",
                                   f"the manifest of {output.name}/ is damaged or from another version, "
                                   "so no file of the last build is reused",
                                   "nothing to do: this build rewrites every file")
    try:
        with publishing(output, inputs, reuse=cache, keyed_by=renderer.keys.base) as writer:
            renderer.write_all(writer, jobs, progress)
            if loaded.diagnostics.errors:
                raise _Failed
            moved = _moved(root, watched, git, loaded.diagnostics)
            if moved or loaded.unsettled:
                inputs = writer.inputs = f"{inputs} unsettled"  # the next build is never "nothing changed"
                if any(path.startswith(layouts) for path in moved):  # pages made with a layout their keys do
                    writer.keys.clear()  # not say: the next build makes every page again
    except (RenderError, _Failed):
        return BuildResult(loaded.diagnostics, None)
    if not unusable:  # (`--no-cache` builds keep them too: the build after one may find nothing changed)
        _keep_warnings(root, inputs, loaded.diagnostics)
    return BuildResult.of(loaded.diagnostics, writer.written)


def _watched(root: Path, loaded: Loaded, stats: dict[str, tuple], layouts: tuple[str, ...]) -> dict[str, tuple | None]:
    """full path -> its numbers in the input fingerprint's listing, for every file whose bytes or whose absence
    this build went by: the sources not taken from the build cache, the content files the listing has that were
    not found, and the layouts (read as the pages are rendered); for a file found that the listing does not have,
    its numbers where the listing has it (found through a linked folder, it is listed where it really is), or
    None: it came after the fingerprint."""
    watched: dict[str, tuple | None] = {full: numbers for full, numbers in stats.items() if full.startswith(layouts)}
    top = str(root / "_")[:-1]  # what the listing's full paths start with
    for path in loaded.from_disk:
        if top + path in stats:
            watched[top + path] = stats[top + path]
    found = set(loaded.files)
    real_root = os.path.join(os.path.realpath(root), "")
    for path in found:
        if top + path not in stats:  # come since (always a change: the fingerprint was taken without it), or
            real = os.path.realpath(top + path)  # found through a linked folder, and listed where it really is
            listed = top + real[len(real_root):] if real.startswith(real_root) else None
            watched[top + path] = stats.get(listed) if listed else None
    content = top + "content" + os.sep
    for full, numbers in stats.items():
        if full.startswith(content) and full[len(top):] not in found:
            watched[full] = numbers
    return watched


def _moved(root: Path, watched: dict[str, tuple | None], git: str, diagnostics: Diagnostics) -> list[str]:
    """The files this build went by that changed, came or went after the input fingerprint was taken (a save,
    a checkout or a commit while it ran), and "." when the commit checked out moved: the site shows what was
    read, and a warning says so."""
    moved = sorted(changed(watched, root))
    for full in moved[:_SAID]:
        diagnostics.warning(Pos(site_path(Path(full), root)), "changed-during-build",
                            "the file changed, came or went while the build was running: the site shows what "
                            "was read", "nothing to do: the next build reads it again")
    if len(moved) > _SAID:
        diagnostics.warning(Pos("."), "changed-during-build", f"{len(moved) - _SAID} other files changed, came or "
                            "went while the build was running", "nothing to do: the next build reads them again")
    if git_state(root) != git:
        diagnostics.warning(Pos("."), "changed-during-build", "git's HEAD moved while the build was running: "
                            "the site shows the history as it was read", "nothing to do: the next build reads it again")
        moved.append(".")
    return moved


_SAID = 5  # files named one by one in changed-during-build warnings (a checkout may change thousands)


def _keep_warnings(root: Path, inputs: str, diagnostics: Diagnostics) -> None:
    """Keep a published build's warnings with its input fingerprint: a build that finds nothing changed says
    them again (late entries, amendments, … are still there), without reading anything."""
    try:
        site_folder(root).mkdir(parents=True, exist_ok=True)
        write_atomically(site_folder(root) / "warnings.pickle",
                         ((_WARNINGS, code_fingerprint()), inputs,
                          [d for d in diagnostics.warnings if d.code not in _OF_THIS_RUN]))
    except OSError:
        pass


def _kept_warnings(root: Path, inputs: str) -> list | None:
    """The warnings of the build that published these inputs; None when they are not known (absent, damaged,
    or kept for other inputs)."""
    try:
        with open(site_folder(root) / "warnings.pickle", "rb") as handle:
            header, kept_for, warnings = pickle.load(handle)
    except Exception:  # noqa: BLE001 - absent or damaged: not known
        return None
    return warnings if header == (_WARNINGS, code_fingerprint()) and kept_for == inputs else None


_WARNINGS = "site-builder warnings 1"
# about the cache a build found, or what changed as it ran, not about the site
_OF_THIS_RUN = {"cache-discarded", "damaged-manifest", "changed-during-build"}
