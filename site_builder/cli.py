"""Command line: parses arguments, runs a command, prints. Commands do the work; only this module prints."""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import sys
import traceback
from pathlib import Path

from site_builder import __version__

EXIT_OK, EXIT_CONTENT, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
REPORT_URL = "the site-builder maintainers (include the command and the file named above)"


class UsageError(Exception):
    """Wrong command-line use: printed as one line, exit 2."""


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text} is not a port: give a number from 0 to 65535")
    return port


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--root", type=Path, default=argparse.SUPPRESS,
                        help="the site root (default: the current folder, or the nearest above it with rules.yaml "
                        "and content/)")
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show a traceback on an internal error")
    parser = argparse.ArgumentParser(prog="site-builder", parents=[common],
                                     description="Validate, score and publish customer service center appraisals.")
    parser.add_argument("--version", action="version", version=f"site-builder {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    check = sub.add_parser("check", parents=[common], help="validate the sources (all, or the files given)")
    check.add_argument("paths", nargs="*", type=Path, metavar="PATH")
    check.add_argument("--format", choices=("text", "json"), default="text")
    check.add_argument("--staged", action="store_true",
                       help="check the versions staged for commit (git index), for a pre-commit hook")

    build = sub.add_parser("build", parents=[common], help="validate, score and render the site")
    build.add_argument("--output", type=Path, help="output folder (default: _site in the site root)")
    build.add_argument("--jobs", type=int, help="processes rendering pages (default: one per core)")
    build.add_argument("--quiet", action="store_true", help="no progress bar and no summary line (for CI)")
    build.add_argument("--no-cache", action="store_true",
                       help="read, validate and render everything again (use neither the build cache nor the last build)")

    serve = sub.add_parser("serve", parents=[common], help="preview the site, rebuilding as you edit")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback only)")
    serve.add_argument("--port", type=_port, default=8000, help="port to listen on, 0–65535 (default: 8000)")
    serve.add_argument("--open", action="store_true", help="open the preview in a browser")

    new = sub.add_parser("new", parents=[common], help="write a record skeleton to fill in")
    new.add_argument("type", metavar="TYPE", help="the check type, e.g. supervisor_monthly")
    new.add_argument("--staff", action="append", required=True, metavar="ID", help="a staff member checked (repeat)")
    new.add_argument("--inspector", required=True, metavar="ID")
    new.add_argument("--date", help="the inspection date, YYYY-MM-DD (default: today)")

    hook = sub.add_parser("hook", parents=[common], help="install the git pre-commit check")
    hook.add_argument("action", choices=("install",))
    hook.add_argument("--force", action="store_true", help="replace a pre-commit hook not written by site-builder")

    scores = sub.add_parser("scores", parents=[common], help="print the scores")
    scores.add_argument("--month", help="only this period, YYYY-MM")
    scores.add_argument("--format", choices=("table", "json", "csv"), default="table")
    return parser


def _to_nowhere(fileno: int) -> None:
    """Point a stream whose reader has gone at /dev/null."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), fileno)


class _ReaderMayLeave:
    """stdout or stderr, which a reader that leaves (`site-builder check | head`) silences instead of stopping
    the command: it finishes, and exits with its own status (a check that found errors still exits 1)."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._gone()
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._gone()

    def _gone(self) -> None:
        _to_nowhere(self._stream.fileno())  # (what is still buffered goes there)

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def run() -> None:
    """The `site-builder` command: `main`, then leave at once. A large build ends holding millions of
    objects; freeing them one by one as Python shuts down took 1.7 s of a 15 s rebuild, and changes nothing
    on disk (everything is written, closed and published by then)."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if hasattr(stream, "reconfigure"):  # a terminal or pipe that is not UTF-8 gets `\u2013`, never a crash
            stream.reconfigure(errors="backslashreplace")
        setattr(sys, name, _ReaderMayLeave(stream))
    code = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        pass
    os._exit(code)


def _enclosing_root(here: Path) -> Path:
    """The site root when none is given: the current folder, or, as git finds its repository, the nearest
    folder above it holding `rules.yaml` and `content/` (an inspector working in content/records/2026/11/)."""
    if (here / "rules.yaml").exists():
        return here
    for folder in here.parents:
        if (folder / "rules.yaml").is_file() and (folder / "content").is_dir():
            return folder
    return here  # (and the command says that rules.yaml is missing here)


def main(argv: list[str] | None = None) -> int:
    # A build keeps millions of small objects alive until it ends, and they hold almost no reference
    # cycles: the collector's full passes over them took a third of an incremental build's time.
    gc.set_threshold(100_000, 50, 1000)
    args = _parser().parse_args(argv)
    root = getattr(args, "root", None) or _enclosing_root(Path.cwd())
    debug = getattr(args, "debug", False)
    try:
        if not root.is_dir():
            raise UsageError(f"the site root `{root}` is not a folder")
        return COMMANDS[args.command](root.resolve(), args)
    except UsageError as exc:
        print(f"site-builder: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("site-builder: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader has gone (`| head`) where output is not written through run()'s streams
        _to_nowhere(sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001 - the one place that turns a bug into a clear line
        if debug:
            traceback.print_exc()
        else:
            where = _innermost_file(exc)
            print(f"site-builder: internal error ({type(exc).__name__}: {exc}){where}. This is a bug in "
                  f"site-builder, not in your content: please report it to {REPORT_URL}; "
                  "run again with --debug to see the traceback.", file=sys.stderr)
        return EXIT_INTERNAL


def _innermost_file(exc: BaseException) -> str:
    note = getattr(exc, "__notes__", None)
    return f" while processing {note[-1]}" if note else ""


def _print_diagnostics(diags, stream) -> None:
    for diagnostic in diags.errors + diags.warnings:
        print(diagnostic.text(), file=stream)


def cmd_check(root: Path, args) -> int:
    from site_builder.pipeline import load

    if args.staged:
        from site_builder.staged import StagedError, read_staged, staged_root

        try:
            staged = read_staged(root)
            if staged is not None:  # the working tree with the staged versions of the files that differ
                loaded = load(root, cache=True, jobs=os.cpu_count() or 1, staged=staged)
            else:
                with staged_root(root) as exported:
                    loaded = load(exported)
        except StagedError as exc:
            raise UsageError(str(exc)) from None
    else:
        loaded = load(root, cache=True, jobs=os.cpu_count() or 1)
    diags = loaded.diagnostics
    given = _selected_paths(root, args.paths)
    selected = None if given is None else _depending(root, given, loaded.files, diags.errors)
    errors = [d for d in diags.errors if selected is None or _wanted(d.file, selected)]
    warnings = [d for d in diags.warnings if selected is None or _wanted(d.file, selected)]
    if args.format == "json":
        print(json.dumps({"errors": [d.as_json() for d in errors], "warnings": [d.as_json() for d in warnings]},
                         ensure_ascii=False, indent=2))
    else:
        for diagnostic in errors + warnings:
            print(diagnostic.text())
        files = len(loaded.files) if given is None else sum(_wanted(path, given) for path in loaded.files)
        print(f"checked {files} file{'s' * (files != 1)}: {len(errors)} error{'s' * (len(errors) != 1)}, "
              f"{len(warnings)} warning{'s' * (len(warnings) != 1)}"
              + (" (the paths given hold no file a build reads: rules.yaml, content/people.yaml and the .md files "
                 "under content/)" if given is not None and not files and not errors and not warnings else ""))
    return EXIT_CONTENT if errors else EXIT_OK


def _selected_paths(root: Path, paths: list[Path]) -> list[str] | None:
    """The given paths relative to the root (each relative to the current folder, else to the root); a folder
    selects everything below it, and a record deleted since the last commit what names it."""
    from site_builder.history import in_head

    if not paths:
        return None
    selected = []
    for path in paths:
        candidates = dict.fromkeys([(Path.cwd() / path).resolve(), (root / path).resolve()])
        found = [full for full in candidates if full.exists()]
        inside = [full.relative_to(root).as_posix() for full in found if full.is_relative_to(root)]
        if inside:
            selected.append(inside[0])
        elif found:
            raise UsageError(f"{path} is outside the site root {root}")
        else:  # a record deleted since the last commit (`git rm`): what still names it is what can break
            gone = [rel for full in candidates if full.is_relative_to(root)
                    and (rel := full.relative_to(root).as_posix()).endswith(".md")
                    and rel.startswith("content/records/") and in_head(root, rel)]
            if not gone:
                raise UsageError(f"no such file or folder: {path}")
            selected.append(gone[0])
    return selected


def _depending(root: Path, given: list[str], files: list[str], errors: list) -> list[str] | None:
    """What `check PATH…` reports on: the files given, and those whose errors a change to them can cause.
    Every document is validated against rules.yaml and people.yaml, so their errors always count, and when
    one of them is given, everyone's do (None); an appeal's errors count when the record it names is given."""
    from site_builder.diagnostics import Diagnostics
    from site_builder.read import FOLDERS, PEOPLE_FILE, RULES_FILE, read_source
    from site_builder.yamltree import Mapping, Scalar

    if any(_wanted(context, given) for context in (RULES_FILE, PEOPLE_FILE)):
        return None
    records = FOLDERS["record"] + "/"
    ids = {path[len(records):-3] for path in files if path.startswith(records) and _wanted(path, given)}
    ids |= {path[len(records):-3] for path in given if path.startswith(records) and path.endswith(".md")}
    related = []
    for path in sorted({d.file for d in errors if d.file.startswith(FOLDERS["appeal"] + "/")} if ids else ()):
        meta = read_source(root, path, "appeal", "", Diagnostics()).meta
        target = meta.get("record") if isinstance(meta, Mapping) else None
        if isinstance(target, Scalar) and target.text in ids:
            related.append(path)
    return given + [RULES_FILE, PEOPLE_FILE] + related


def _wanted(file: str, selected: list[str]) -> bool:
    return any(s == "." or file == s or file.startswith(s.rstrip("/") + "/") for s in selected)


def cmd_scores(root: Path, args) -> int:
    from site_builder import report
    from site_builder.pipeline import load

    if args.month is not None and not re.fullmatch(r"[0-9]{4}-(0[1-9]|1[0-2])", args.month):
        raise UsageError(f"--month {args.month}: write the month as YYYY-MM, like 2026-11")
    loaded = load(root, cache=True)
    if not loaded.ok:
        _print_diagnostics(loaded.diagnostics, sys.stderr)
        print("site-builder: the content has errors; fix them and run again (see `site-builder check`)",
              file=sys.stderr)
        return EXIT_CONTENT
    site = loaded.site
    periods = loaded.scores()
    if args.month is not None:
        if args.month not in periods:
            known = ", ".join(periods) or "none"
            print(f"site-builder: no scores for {args.month} (months with scores: {known})", file=sys.stderr)
            return EXIT_CONTENT
        periods = {args.month: periods[args.month]}
    if args.format == "json":
        print(json.dumps(report.months_json(site, periods), ensure_ascii=False, indent=2))
    elif args.format == "csv":
        sys.stdout.write(report.to_csv(report.scores_rows(site, periods)))
    elif periods:
        from site_builder.diagnostics import Diagnostics
        from site_builder.fingerprint import layout_folders
        from site_builder.i18n import Catalog, default_strings

        # (a catalogue's own mistakes are for `build` to report: its pages use them)
        strings = default_strings(layout_folders(root), root, site.rules.language, Diagnostics())
        sys.stdout.write(report.scores_table(site, periods, Catalog(site.rules.language, strings, strings)))
    else:
        print("no scores yet: the site has no records or sign-offs (write one with `site-builder new`)")
    return EXIT_OK


def _progress_bar(enabled: bool):
    """A one-line bar on a terminal, shown only once a build has taken a couple of seconds."""
    import time

    started = time.monotonic()

    def show(done: int, total: int, what: str = "pages") -> None:
        if not enabled or time.monotonic() - started < 2:
            return
        filled = 30 * done // max(total, 1)
        end = "\n" if done >= total else ""
        print(f"\r[{'#' * filled}{'.' * (30 - filled)}] {done}/{total} {what}", end=end, file=sys.stderr, flush=True)

    return show


def cmd_build(root: Path, args) -> int:
    from site_builder.build import build
    from site_builder.publish import PublishError

    # (resolved: `_site` linked to the web root publishes there, as `--output _site` does, and is never replaced)
    output = (Path.cwd() / (args.output or root / "_site")).resolve()
    if root.is_relative_to(output):
        raise UsageError(f"--output {output} would replace the site's own folder; choose a folder of its own")
    if output.is_relative_to(root / "content") or output.is_relative_to(root / "layouts"):
        raise UsageError(f"--output {output} is inside the site's sources (content/ or layouts/); choose a folder "
                         "of its own")
    try:
        if args.jobs is not None and args.jobs < 1:
            raise UsageError("--jobs must be 1 or more")
        result = build(root, output, args.jobs, _progress_bar(enabled=not args.quiet and sys.stderr.isatty()),
                       cache=not args.no_cache)
    except PublishError as exc:
        raise UsageError(str(exc)) from None
    _print_diagnostics(result.diagnostics, sys.stderr)
    if not result.ok:
        count = len(result.diagnostics.errors)
        kept = f", {output} is unchanged" if output.exists() else f" (no site at {output} yet)"
        print(f"site-builder: {count} error{'s' * (count != 1)}; nothing was written{kept}", file=sys.stderr)
        return EXIT_CONTENT
    if args.quiet:
        pass
    elif result.unchanged:
        print(f"nothing changed since the last build: {output} is up to date ({result.pages} pages)")
    else:
        print(f"built {result.pages} pages and {result.others} other files in {output}")
    return EXIT_OK


def cmd_new(root: Path, args) -> int:
    from datetime import date

    from site_builder.pipeline import load
    from site_builder.periods import period_of
    from site_builder.scaffold import record_path, request_problem, skeleton, skeleton_problem, write_new

    try:  # (Python also reads 20261112 and 2026-W46-4; a record's date is written YYYY-MM-DD)
        if args.date is not None and not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", args.date):
            raise ValueError
        day = date.fromisoformat(args.date) if args.date is not None else date.today()
    except ValueError:
        raise UsageError(f"--date {args.date}: write a real date as YYYY-MM-DD") from None
    loaded = load(root, cache=True)
    site = loaded.site
    if site is None:
        _print_diagnostics(loaded.diagnostics, sys.stderr)
        return EXIT_CONTENT
    problem = request_problem(site, args.type, args.staff, args.inspector, day)
    if problem:
        raise UsageError(problem)
    path = record_path(args.type, args.staff, day)
    text = skeleton(site, args.type, args.staff, args.inspector, day)
    problem = skeleton_problem(root, path, text)
    if problem:
        raise UsageError(f"{path} would not pass `check`: {problem}")
    try:
        path = write_new(root, path, text)
    except FileExistsError as exc:
        print(f"site-builder: {Path(exc.filename).relative_to(root)} already exists; not overwritten "
              "(edit it; for another check of the same staff that day, copy it under another name)", file=sys.stderr)
        return EXIT_CONTENT
    here = Path.cwd().resolve()  # (from a folder inside the site, a path that opens from there)
    print((Path(os.path.relpath(path, here)) if here != root and here.is_relative_to(root)
           else path.relative_to(root)).as_posix())
    counted = period_of(day, site.rules.cutoff_day)  # (the folder is the date's month; the period may be the next)
    print(f"it counts in period {counted.key} ({counted.start} – {counted.end})", file=sys.stderr)
    return EXIT_OK


def cmd_serve(root: Path, args) -> int:
    import errno
    import time
    import webbrowser

    from site_builder.serve import Running

    def report(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    if not (root / "rules.yaml").exists() and not (root / "content").exists():  # (a site half made shows its errors)
        raise UsageError(f"{root} is not a site root: it has neither rules.yaml nor content/ (run serve in a site "
                         "root or a folder inside one, or pass --root DIR)")
    try:
        if not args.host.strip():  # (`--host "$HOST"` with HOST unset would listen on every network)
            raise UsageError("--host is empty: give an address, 127.0.0.1 for this machine only (the default) "
                             "or 0.0.0.0 for every network")
        running = Running(root, args.host, args.port, report)
    except KeyboardInterrupt:  # during the first build: stopped as at any other time
        print("stopping", file=sys.stderr)
        return EXIT_OK
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise UsageError(f"port {args.port} on {args.host} is already in use; pass another --port") from None
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None
    print(f"serving {running.url} — edit content/, layouts/ or rules.yaml and the page reloads; Ctrl-C stops",
          flush=True)
    if running.shared:  # (0.0.0.0 is no address to give a colleague, and what the preview shows is not published)
        import socket

        print(f"open to the network, as http://{socket.gethostname()}:{running.port}/ or this machine's address: "
              "anyone who can reach it sees provisional appraisals too", flush=True)
    if args.open:
        webbrowser.open(running.url)
    try:
        while True:
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("stopping", file=sys.stderr)
    finally:
        running.stop()
    return EXIT_OK


def cmd_hook(root: Path, args) -> int:
    from site_builder.githooks import HookError, install_hook

    try:
        hook = install_hook(root, force=args.force)
    except HookError as exc:
        print(f"site-builder: {exc}", file=sys.stderr)
        return EXIT_CONTENT
    print(f"installed {hook}: every commit is now checked with `site-builder check --staged`")
    return EXIT_OK


COMMANDS = {"check": cmd_check, "build": cmd_build, "serve": cmd_serve, "new": cmd_new, "hook": cmd_hook, "scores": cmd_scores}
