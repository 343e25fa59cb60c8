"""Render stage: scores and records → the bytes of every page and data file, in memory.

Jinja templates come from the site's `layouts/` (falling back to the ones shipped with site-builder);
they autoescape everything, and Markdown bodies arrive already sanitized.
"""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path
from types import BuiltinFunctionType, FunctionType, MethodType

import jinja2
import markupsafe

from site_builder import pages as urls
from site_builder import analytics, limits, report, workers
from site_builder.figures import Figures
from site_builder.fingerprint import layout_folders, templates_fingerprint
from site_builder.cache import Fragments, cache_root
from site_builder.deps import PageKeys
from site_builder.diagnostics import Pos, site_path
from site_builder.i18n import Catalog, UIStringError, default_strings, load_strings
from site_builder.markup import MarkdownRenderer
from site_builder.pages import Page, build_index, linker, plan
from site_builder.pipeline import Loaded
from site_builder.read import refuse_linked_layouts, walk
from site_builder.publish import Writer
from site_builder.rules import exact, pick
from site_builder.score import PeriodScores

_ENVIRONMENTS: dict[tuple[str, ...], tuple[str, jinja2.Environment]] = {}  # folders -> (their fingerprint, env)

# Callables a layout may call that never ask Jinja for its context: the renderer's helpers (functions,
# bound methods, a language's strings) and Python's own.
_DIRECT = frozenset({FunctionType, MethodType, BuiltinFunctionType, Catalog})


class _Context(jinja2.runtime.Context):
    """Jinja's context, with one shortcut. Every call a layout makes (`t('x')`, `url(...)`, ...) goes
    through `Context.call`, which asks each callable, several ways, whether it wants the context passed
    in: about a quarter of a page's rendering time. A helper of the kinds above that is not marked with
    `jinja2.pass_context` (or its kin) is called straight away, as Jinja would call it; anything else (macros,
    marked functions, callable objects) goes the usual way."""

    def call(self, obj, /, *args, **kwargs):
        if type(obj) not in _DIRECT or hasattr(obj, "jinja_pass_arg"):
            return super().call(obj, *args, **kwargs)
        kwargs.pop("_block_vars", None)  # what Jinja adds to calls made inside a loop or block
        kwargs.pop("_loop_vars", None)
        try:
            return obj(*args, **kwargs)
        except StopIteration:  # as Jinja does
            return self.environment.undefined("value was undefined because a callable raised a"
                                              " StopIteration exception")


class _Environment(jinja2.Environment):
    context_class = _Context


def _environment(folders: tuple[str, ...], watch: bool, fingerprint: str) -> jinja2.Environment:
    """A Jinja environment for a set of layout folders. With `watch` (for `serve`) it is kept for the
    process while the layouts' `fingerprint` stays the same, so a template is compiled once (Jinja would see
    an edit to the file a template came from, but not a new file that now comes first: a site's own copy of a
    shipped layout or partial); a build gets one of its own that never asks whether a file changed (its
    templates were fingerprinted when it began), which spares a few `stat` calls on every page."""
    if watch and _ENVIRONMENTS.get(folders, ("",))[0] == fingerprint:
        return _ENVIRONMENTS[folders][1]
    compiled = cache_root() / "templates"  # compiled once per template source, shared by builds
    try:
        compiled.mkdir(parents=True, exist_ok=True)
        bytecode = jinja2.FileSystemBytecodeCache(str(compiled))
    except OSError:
        bytecode = None
    env = _Environment(bytecode_cache=bytecode,
        loader=jinja2.FileSystemLoader(list(folders)), autoescape=True, undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, auto_reload=watch)
    if watch:
        _ENVIRONMENTS[folders] = (fingerprint, env)
    return env


class RenderError(Exception):
    """A layout failed; carries the diagnostic."""


class Renderer:
    def __init__(self, root: Path, loaded: Loaded, periods: dict[str, PeriodScores],
                 summaries: dict[str, analytics.PeriodSummary], calibration: analytics.Calibrations,
                 watch: bool = False):
        self.root = root
        self.site = site = loaded.site
        self.rules = site.rules
        self.diags = diags = loaded.diagnostics
        self.history = loaded.history
        self.audits = loaded.audits
        self.amendments = loaded.amendments
        self.decisions = loaded.decisions
        self.folders = folders = layout_folders(root)  # the site's layouts/ first, then the shipped ones
        refuse_linked_layouts(root, diags)
        layouts = templates_fingerprint(folders)
        self.env = _environment(tuple(str(f) for f in folders), watch, layouts)
        self.index = build_index(site, periods)
        digests = loaded.digests
        self.keys = PageKeys([layouts, digests.get("rules.yaml", ""),
                              digests.get("content/people.yaml", ""),
                              f"history {self.history.complete} {self.history.problem}"],
                             self.index, digests, self.history, self.audits, self.decisions)
        self.summaries = summaries
        self.calibration = calibration
        self.markdown = MarkdownRenderer()
        self.bodies = loaded.bodies  # record path -> body HTML, made as the record was read
        self.fragments = Fragments()  # pieces of the data files; a build gives one kept between builds
        self.rendered: dict[str, tuple[str, bytes]] = {}  # render_all: path -> (dependency key, bytes)
        self._bodies: dict[str, str] = {}
        default = default_strings(folders, root, self.rules.language, diags)
        self.catalogs = {lang: Catalog(lang, default if lang == self.rules.language
                                       else load_strings(folders, root, lang, diags), default)
                         for lang in self.rules.languages}

    def prefix(self, language: str) -> str:
        return "" if language == self.rules.language else f"{language}/"

    def body_html(self, record) -> str:
        """The record's (or appeal's) Markdown body, sanitized: a record's was made as it was read; others
        are made here. The pages of one appeal in every language are rendered one after the other, so the
        last few bodies are all that is worth keeping."""
        key = getattr(record, "path", "")
        made = self.bodies.get(key)
        if made is not None:
            return made
        if key not in self._bodies:
            if len(self._bodies) >= 256:
                self._bodies.clear()
            self._bodies[key] = self.markdown.render(record.body)
        return self._bodies[key]

    def pages(self) -> list[tuple[Page, str]]:
        """Every page with its language; Pelican's rule: no two outputs may claim one path."""
        languages = self.rules.languages
        prefixes = [(self.prefix(language), language) for language in languages]
        # the same pages in each language, sharing one context (a site of 100,000 records has twice as many pages)
        jobs = [(Page(prefix + page.path, page.template, page.context) if prefix else page, language)
                for page in plan(self.index, "") for prefix, language in prefixes]
        jobs.append((Page("data/README.md", "data_readme.md"), self.rules.language))
        seen: set[str] = set()
        for page, _ in jobs:
            _unclaimed(seen, page.path)
            seen.add(page.path)
        return jobs

    def assets(self) -> dict[str, bytes]:
        """The files under the layouts' assets/ folders: the shipped ones, and the site's own, which replace
        a shipped file of the same name (a site may override only its stylesheet, or nothing)."""
        files: dict[str, bytes] = {}
        for layouts in reversed(self.folders):
            folder = layouts / "assets"
            for directory, subdirs, names in walk(folder) if folder.is_dir() else ():
                if len(os.fsencode(directory)) - len(os.fsencode(folder)) > limits.MAX_PATH_BYTES:
                    self.diags.error(Pos(site_path(Path(directory), self.root)), "bad-file-name",
                                     f"the folder's path is longer than {limits.MAX_PATH_BYTES} bytes, so nothing in "
                                     "it is published", "use fewer or shorter folder names")
                    subdirs[:] = []
                    continue
                for name in names:
                    path = Path(directory, name)
                    if path.is_file():
                        files["assets/" + path.relative_to(folder).as_posix()] = path.read_bytes()
        return dict(sorted(files.items()))

    def static_files(self) -> dict[str, bytes]:
        """The assets of the layouts and the open data files."""
        files = self.assets()
        for path, data in self.data_files().items():
            _add(files, path, data)
        return files

    def render_all(self, previous: dict[str, tuple[str, bytes]] | None = None) -> dict[str, bytes]:
        """Every output file in memory: path relative to the output folder → bytes (for `serve`).
        A page whose dependency key is in `previous` (path -> (key, bytes), from the last call) is taken
        from there; `self.rendered` is filled in the same shape for the next call."""
        previous = previous or {}
        files = self.static_files()
        self.rendered = {}
        for page, language in self.pages():
            key = self.keys.key(page)
            before = previous.get(page.path)
            data = before[1] if key and before and before[0] == key else \
                self.render_page(page, language).encode("utf-8")
            _add(files, page.path, data)
            if key:
                self.rendered[page.path] = (key, data)
        return files

    def write_all(self, writer: "Writer", jobs: int, progress=lambda done, total, what="pages": None) -> None:
        """Render every page into `writer`'s folder, in `jobs` processes; RenderError on a layout error.
        `progress(done, total)` is called as pages are written. On a large site, one worker makes the
        data files while this process finds the pages that can be taken from the last build."""
        for path, data in self.assets().items():
            writer.write(path, data)
        pages = self.pages()
        keyed = list(self.keyed_data().items())
        skip = {path for path, _ in keyed} - {keyed[n][0] for n in writer.reuse_all(keyed)}
        if jobs <= 1 or len(pages) < _PARALLEL_FROM:
            self._write_files(self.data_files(skip), writer)
            self.fragments.save()
            todo = [pages[n] for n in self._todo(pages, writer)]
            for done, (page, language) in enumerate(todo, 1):
                self._write_files({page.path: self.render_page(page, language).encode("utf-8")}, writer)
                if done % 256 == 0:
                    progress(done, len(todo))
            progress(len(todo), len(todo))
            return
        global _ACTIVE
        _ACTIVE = (self, pages, writer)
        try:
            with workers.pool(jobs) as pool:
                data = pool.apply_async(_write_data_files, (skip,))
                todo = self._todo(pages, writer)
                size = max(1, min(256, len(todo) // (jobs * 4)))  # a few pages are still shared out
                chunks = [todo[start:start + size] for start in range(0, len(todo), size)]
                done = 0
                for problems, written in pool.imap(_render_chunk, chunks):
                    if problems:
                        self.diags.extend(problems)
                        pool.terminate()
                        raise RenderError(problems[0])
                    self._written(written, writer)
                    done += len(written)
                    progress(done, len(todo))
                self._written(data.get(), writer)
        finally:
            _ACTIVE = None

    def _write_files(self, files: dict[str, bytes], writer: Writer) -> None:
        for path, data in files.items():
            _unclaimed(writer.written, path)
            writer.write(path, data)

    @staticmethod
    def _written(written: dict[str, str], writer: Writer) -> None:
        """Record what a worker wrote (Pelican's rule: no two outputs may claim one path)."""
        for path in written:
            _unclaimed(writer.written, path)
        writer.written.update(written)

    def _todo(self, pages: list[tuple[Page, str]], writer: Writer) -> list[int]:
        """The numbers of the pages to render: the others are taken from the last build by their keys."""
        key = self.keys.key
        return writer.reuse_all([(page.path, key(page)) for page, _ in pages])

    def keyed_data(self) -> dict[str, str]:
        """path -> dependency key of the data files made for one period, staff member or inspector: like
        pages, they are taken from the last build when their key is unchanged."""
        key = self.keys.data_key
        out = {}
        for p in self.index.periods:
            out[f"data/periods/{p}.csv"] = out[f"data/periods/{p}-items.csv"] = key("period.html", period=p)
        for sid in self.site.staff:
            out[f"data/staff/{sid}.csv"] = key("staff.html", staff_id=sid)
        for iid in self.site.inspectors:
            out[f"data/inspectors/{iid}.csv"] = key("inspector.html", inspector_id=iid)
        return out

    def data_files(self, skip: set[str] | frozenset[str] = frozenset()) -> dict[str, bytes]:
        """The open data files but those in `skip` (taken from the last build). The site-wide ones are put
        together from one piece per period, each kept in `self.fragments` by the period's key."""
        site, index, periods = self.site, self.index, self.index.periods
        period_keys = {p: self.keys.data_key("period.html", period=p) for p in periods}

        def piece(name: str, p: str, make) -> str:
            return self.fragments.get(f"{name} {p}", period_keys[p], partial(make, p))

        def month(p: str) -> str:
            return report.to_json(report.month_json(site, periods[p]), report.MONTH_EXPAND, report.MONTH_INDENT)

        def score_rows(p: str) -> str:
            return report.to_csv([report.score_row(site, periods[p], sp) for sp in periods[p].staff.values()])

        def finding_rows(p: str) -> str:
            found = (index.deductions[(r.id, f.id)] for r in index.by_period.get(p, ()) for f in r.findings)
            return report.to_csv(report.findings_rows(site, found))

        laid = report.scores_json(site, periods, month=lambda p, _: report.Laid(piece("scores.json", p, month)))
        scores = {p: piece("scores.csv", p, score_rows) for p in periods}
        header = report.to_csv([report.scores_header(site)])
        out = {
            "data/scores.json": report.to_json(laid, expand=3) + "\n",
            "data/scores.csv": header + "".join(scores.values()),
            "data/findings.csv": report.to_csv([report.FINDINGS_HEADER])
            + "".join(piece("findings.csv", p, finding_rows) for p in periods),
            "data/calibration.json": report.to_json(report.calibration_json(site, self.calibration), 1) + "\n",
            "data/calibration.csv": report.to_csv(report.calibration_rows(site, self.calibration)),
            "data/trend.csv": report.to_csv(report.trend_rows(site, periods, self.summaries)),
            "data/appeals.csv": report.to_csv(report.appeals_rows(site, index.deductions)),
        }
        for p in periods:  # each table on the site as CSV: a period's table, a person's results
            if f"data/periods/{p}-items.csv" not in skip:
                out[f"data/periods/{p}-items.csv"] = report.to_csv(report.item_rows(site, self.summaries[p]))
            if f"data/periods/{p}.csv" not in skip:
                out[f"data/periods/{p}.csv"] = header + scores[p]
        for sid in site.staff:
            if f"data/staff/{sid}.csv" not in skip:
                mine = index.staff_periods.get(sid, [])
                out[f"data/staff/{sid}.csv"] = header + report.to_csv(
                    [report.score_row(site, periods[sp.period.key], sp) for sp in mine])
        for iid in site.inspectors:
            if f"data/inspectors/{iid}.csv" not in skip:
                made = index.by_inspector.get(iid, [])
                out[f"data/inspectors/{iid}.csv"] = report.to_csv(report.inspector_rows(made))
        return {path: text.encode("utf-8") for path, text in out.items()}

    def render_page(self, page: Page, language: str) -> str:
        try:
            template = self.env.get_template(page.template)
            return template.render(self._context(page, language))
        except jinja2.TemplateSyntaxError as exc:
            raise RenderError(self._layout_diagnostic(exc, exc.filename, exc.lineno)) from exc
        except (jinja2.TemplateError, UIStringError) as exc:
            filename, line = _template_frame(exc)
            raise RenderError(self._layout_diagnostic(exc, filename, line)) from exc
        except Exception as exc:
            filename, line = _template_frame(exc, innermost=True)
            if filename is not None:  # the layout's own expression failed, e.g. `{{ record.id / 0 }}`
                raise RenderError(self._layout_diagnostic(exc, filename, line)) from exc
            source = page.context.get("record")  # a bug: say which page and source it was rendering
            exc.add_note(source.path if source is not None else page.path)
            raise

    def _layout_diagnostic(self, exc, filename, line) -> Pos:
        path = Path(filename or "layouts")
        rel = site_path(path, self.root)
        message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        self.diags.error(Pos(rel, line or 0, 1 if line else 0), "layout-error", message,
                         "fix the template; `site-builder check` validates content, not layouts")
        return Pos(rel, line or 0)

    def _context(self, page: Page, language: str) -> dict:
        t = self.catalogs[language]
        prefix = self.prefix(language)
        rules = self.rules

        link = linker(page.path)

        def url(path: str, anchor: str = "") -> str:
            return link(prefix + path, anchor)

        def asset(path: str) -> str:
            return link(path)

        def in_language(other: str) -> str:
            return link(self.prefix(other) + page.path[len(prefix):])

        def label(item) -> str:
            return pick(item if isinstance(item, dict) else item.label, language, rules.language)

        def fmt(value) -> str:
            return "—" if value is None else str(report.shown(value, rules.decimals))

        def labels(items, table: dict | None = None) -> str:
            """The labels of `items` (or of the entries of `table` they name) as one list, as plain text."""
            return t("list_separator").join(label(table[item] if table is not None else item) for item in items)

        def pts(value) -> str:
            """Points and rates as written (a finding's, a band's, full marks) and sums of them: shown with
            every decimal they have (0.75 with a step of 0.25), never rounded as scores are."""
            return "—" if value is None else str(report.points(value, rules.decimals))

        def flag_text(flag: str) -> str:
            kind, _, arg = flag.partition(":")
            if kind == "missing_check" and arg in rules.check_types:
                return t("flag_missing_check", check=label(rules.check_types[arg]))
            return t(f"flag_{kind}")

        # what inspectors wrote is in the site's own language: on a page in another, it says so (screen readers)
        content_lang = "" if language == rules.language else markupsafe.Markup(f' lang="{rules.language}"')
        return {
            **page.context, "page_path": page.path, "language": language, "languages": rules.languages,
            "content_lang": content_lang,
            "t": t, "url": url, "asset": asset, "in_language": in_language, "label": label, "labels": labels,
            "fmt": fmt, "pts": pts,
            "date": t.date, "month": t.month, "flag_text": flag_text, "body_html": self.body_html,
            # in the site's time zone, if it has one; "—" for a date that cannot be read (never its stand-in)
            "commit_day": lambda commit: rules.day_of(commit.committed) if commit.dated else None,
            "site": self.site, "rules": rules, "index": self.index, "periods": self.index.periods,
            "summaries": self.summaries, "calibration": self.calibration, "analytics": analytics,
            "figures": Figures(self.site, self.index.periods, self.summaries, t, label),
            "urls": urls, "history": self.history, "audits": self.audits, "amendments": self.amendments,
            "decisions": self.decisions,
        }


_ACTIVE = None  # (renderer, pages, writer) inherited by forked workers


_PARALLEL_FROM = 2000  # pages: below this, workers cost more to start than they save (a site of 8,000 staff and
# few records has tens of thousands of pages)


def _write_data_files(skip: set[str]) -> dict[str, str]:
    """In a worker: make and write the data files but those in `skip`; return {path: digest}."""
    renderer, _, writer = _ACTIVE
    writer.written = {}
    for path, data in renderer.data_files(skip).items():
        writer.write(path, data)
    renderer.fragments.save()
    return writer.written


def _render_chunk(numbers: list[int]):
    """In a worker: render and write the pages with these numbers; return (diagnostics, {path: digest})."""
    renderer, pages, writer = _ACTIVE
    writer.written = {}
    errors_before = len(renderer.diags.items)
    for page, language in (pages[n] for n in numbers):
        try:
            writer.write(page.path, renderer.render_page(page, language).encode("utf-8"))
        except RenderError:
            return renderer.diags.items[errors_before:], {}
    return [], writer.written


def _template_frame(exc: BaseException, innermost: bool = False) -> tuple[str | None, int | None]:
    """The innermost template file and line in a Jinja runtime error's traceback. With `innermost`, only
    when the error was raised in the template itself (not in Python code it called)."""
    found, last = (None, None), ""
    tb = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if code not in _GLUE and not code.co_filename.startswith(_JINJA):
            last = code.co_filename  # (how a call is made is not where it failed: a helper called wrongly)
        if code.co_filename.endswith(_TEMPLATE_SUFFIXES):
            found = (code.co_filename, tb.tb_lineno)
        tb = tb.tb_next
    if innermost and not last.endswith(_TEMPLATE_SUFFIXES):
        return None, None
    return found


_TEMPLATE_SUFFIXES = (".html", ".xml", ".svg", ".txt", ".md")
_GLUE = {_Context.call.__code__, exact(lambda: None).__code__}  # frames between a layout's call and a helper
_JINJA = os.path.dirname(jinja2.__file__) + os.sep


def _unclaimed(claimed, path: str) -> None:
    """Pelican's rule: two outputs may never claim the same path (a bug in site-builder if they do)."""
    if path in claimed:
        raise RuntimeError(f"two outputs would both be written to {path}")


def _add(files: dict[str, bytes], path: str, data: bytes) -> None:
    _unclaimed(files, path)
    files[path] = data
