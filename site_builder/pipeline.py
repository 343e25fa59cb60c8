"""The stages joined up: read → validate → (git history) → score. Commands call these; only the CLI prints."""

from __future__ import annotations

import functools
import hashlib
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from site_builder import limits, workers
from site_builder.analytics import Calibrations, PeriodSummary, calibrate, period_tallies, summarize
from site_builder.cache import Answers, PeriodMemo, RecordCache, cache_problem, signature, site_folder, unusable_cache
from site_builder.compliance import (MISSING, UNREADABLE, Decision, Removal, appeal_decisions, decision_sources,
                                     record_compliance, removals, report_compliance, signed_in)
from site_builder.diagnostics import Diagnostics, Pos
from site_builder.history import History, blobs_at, changed_since, patches, read_blobs, start_history
from site_builder.markup import MarkdownRenderer
from site_builder.model import Site
from site_builder.read import FOLDERS, content_digest, discover, processing, read_context, read_source
from site_builder.periods import period_of
from site_builder.score import PeriodScores, deductions_of, score_site
from site_builder.staged import Staged
from site_builder.validate import Context, validate_context, validate_documents, validate_record_source
from site_builder.yamltree import Mapping as YamlMapping
from site_builder.yamltree import Scalar, Sequence


@dataclass
class Loaded:
    files: list[str]  # every source found, in reading order
    digests: dict[str, str]  # path -> content hash of every source that could be read
    site: Site | None  # None when rules.yaml or people.yaml is unusable
    diagnostics: Diagnostics
    history: History = field(default_factory=History)
    audits: dict = field(default_factory=dict)  # record id -> RecordCompliance
    amendments: Mapping = field(default_factory=dict)  # record id -> [(Commit, unified diff)] after sign-off
    bodies: dict = field(default_factory=dict)  # record path -> its body as sanitized HTML (when asked for)
    removals: list = field(default_factory=list)  # [Removal]: records taken out of signed-off periods
    root: Path | None = None  # the site root, when what is worked out per period is kept in the build cache
    from_disk: set = field(default_factory=set)  # the sources whose bytes were read (not taken from the cache)
    decisions: dict = field(default_factory=dict)  # appeal path -> compliance.Decision: who committed its decision
    unsettled: bool = False  # git could not say all that was asked: the next build must not find nothing changed

    @property
    def ok(self) -> bool:
        return self.site is not None and not self.diagnostics.errors

    @functools.cached_property
    def memo(self) -> PeriodMemo | None:
        """What was worked out per period by earlier builds (None without the build cache): the renderer's
        summaries and tallies."""
        if self.root is None or self.site is None:
            return None
        return PeriodMemo(self.root, self.site.records, deductions_of(self.site),
                          period_inputs(self.site, self.digests, self.audits, self.removals))

    def scores(self) -> dict[str, PeriodScores]:
        return score_site(self.site, self.audits, self.removals)

    def insights(self, periods: dict[str, PeriodScores]) -> tuple[dict[str, PeriodSummary], Calibrations]:
        """What the scores say taken together: each period's summary, and how each inspector's findings compare
        with their peers'. Each period's part is taken from the build cache when what it is made of is
        unchanged (an edit works out its own period again)."""
        memo = self.memo
        summaries = summarize(self.site, periods, memo.kept("summary") if memo else None)
        tallies = period_tallies(self.site, memo.kept("tallies") if memo else None)
        calibration = calibrate(self.site, tallies)
        if memo is not None:
            memo.keep("summary", summaries)
            memo.keep("tallies", tallies)
        return summaries, calibration


def period_inputs(site: Site, digests: dict[str, str], audits: dict, removals: list) -> dict[str, str]:
    """period key -> one digest of everything its scores (and so its summary and tallies) are made from:
    rules.yaml and people.yaml, whether it is signed off, each of its records (path, bytes, git flags) and their
    appeals, and the records taken out of it after its sign-off. (Periods without a record have none: they are
    quickly made.)"""
    cutoff = site.rules.cutoff_day
    parts: dict[str, list[str]] = {}
    for record in site.records.values():
        audit = audits.get(record.id)
        parts.setdefault(period_of(record.date, cutoff).key, []).append(
            f"record {record.path} {digests.get(record.path, '')} {audit.flags if audit else ()}")
    for (record_id, _), appeal in site.appeals.items():
        parts[period_of(site.records[record_id].date, cutoff).key].append(
            f"appeal {appeal.path} {digests.get(appeal.path, '')}")
    for removal in removals:
        if removal.month in parts:
            parts[removal.month].append(f"removed {removal!r}")
    context = [digests.get("rules.yaml", ""), digests.get("content/people.yaml", "")]
    return {key: hashlib.blake2b("\n".join([*context, key, f"signed off {key in site.sign_offs}", *sorted(lines)])
                                 .encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()
            for key, lines in parts.items()}


def load(root: Path, cache: bool = False, jobs: int = 1, progress=None, stats: dict | None = None,
         bodies: bool = False, staged: Staged | None = None) -> Loaded:
    """Read and validate every source of the site root, and read its git history once. With `cache`,
    records whose bytes were validated by an earlier run in the same context are taken from the build
    cache instead of being read again; records are read in `jobs` processes when there are many, and
    `progress(done, total, "records")` hears how far reading has got. `stats` (full path -> (mode, size,
    mtime, ctime, inode, device), from the input fingerprint's walk) spares asking about files again.
    With `bodies` (for rendering), each record's Markdown body is also made into HTML as it is read, once,
    and kept in the cache with the record: it appears on several pages, and Markdown is slow. With `staged`,
    the sources are the files the git index holds, as it holds them (`check --staged`)."""
    diags = Diagnostics()
    unusable = cache_problem(root) if cache else ""
    if unusable:  # (`build` has found it already and asks for no cache)
        unusable_cache(diags, root, unusable)
        cache = False
    stats = stats if stats is not None else {}
    # git works on another core while the records are read; with the cache, only new commits are read
    kept_history = site_folder(root) / "history.pickle" if cache else None
    history = start_history(root, kept_history)
    context_sources = read_context(root, diags, staged)
    documents = discover(root, diags, stats, staged)
    blobs = staged.blobs if staged is not None else {}
    context = validate_context(context_sources, diags)
    digests = {s.path: s.digest for s in context_sources if s.digest}
    files = [s.path for s in context_sources] + [path for path, _, _ in documents]
    if context is None:  # every document is still read, so that all of its own problems are reported
        for path, kind, doc_id in documents:
            with processing(path):
                read_source(root, path, kind, doc_id, diags, blobs.get(path))
        history()  # not needed, but git is waited for
        return Loaded(files, digests, None, diags)

    record_cache = RecordCache(root, "\n".join(digests.get(s.path, "") for s in context_sources)) if cache else None
    from_disk = {s.path for s in context_sources if s.path not in blobs}
    read = _read_records(root, [(path, doc_id) for path, kind, doc_id in documents if kind == "record"],
                         context, record_cache, jobs, progress or (lambda done, total, what: None), stats,
                         bodies, blobs, from_disk)
    records, broken, others, html = {}, set(), [], {}
    for path, kind, doc_id in documents:
        if kind == "record":
            digest, record, items, body = read[path]
            diags.extend(items)
            if record is None:
                broken.add(doc_id)
            else:
                records[record.id] = record
                if body is not None:
                    html[path] = body
        else:
            with processing(path):
                source = read_source(root, path, kind, doc_id, diags, blobs.get(path))
            others.append(source)
            digest = source.digest
            if path not in blobs:
                from_disk.add(path)
        if digest:
            digests[path] = digest
    if record_cache is not None:
        record_cache.keep_only({path for path, kind, _ in documents if kind == "record"})
        record_cache.save()
        record_cache.report(diags)

    site = validate_documents(context, records, broken, others, diags)
    history = history()
    if history.discarded:
        diags.warning(Pos("."), "cache-discarded", f"the build cache file {kept_history} was {history.discarded} "
                      "and discarded", "nothing to do: the git history is read again")
    audits = record_compliance(site, history)
    removed = _removals(root, site, history)
    decisions, unanswered = _decisions(root, site, history, cache, diags)
    report_compliance(site, history, audits, diags, removed, decisions)
    return Loaded(files, digests, site, diags, history, audits, Amendments(root, site, audits, history), html, removed,
                  root if cache else None, from_disk, decisions, unanswered)


def _removals(root: Path, site: Site, history: History) -> list[Removal]:
    """The records taken out of signed-off periods since their sign-off (see compliance.removals): git says
    which record files differ between each sign-off commit and HEAD, and what they held then."""
    if not history.complete or not history.head or not site.sign_offs:
        return []
    signed = signed_in(site, history)
    changed = changed_since(root, history.head, sorted({commit.hash for commit in signed.values()}),
                            FOLDERS["record"])
    wanted = sorted({blob for changes in changed.values() for _, path, _, blob in changes if path.endswith(".md")})
    then = {}
    for blob, data in read_blobs(root, wanted).items():
        was = _date_and_staff(data)
        if was is not None:
            then[blob] = was
    return removals(site, signed, changed, then)


def _date_and_staff(data: bytes) -> tuple | None:
    """The `date` and `staff` of a record's earlier version, read leniently (it need not be valid now);
    None when they cannot be made out."""
    source = read_source(Path("."), "then.md", "record", "then", Diagnostics(), data)
    meta = source.meta
    if not isinstance(meta, YamlMapping) or not isinstance(meta.get("date"), Scalar):
        return None
    try:
        when = date.fromisoformat(meta.get("date").text)
    except ValueError:
        return None
    if not limits.MIN_YEAR <= when.year <= limits.MAX_YEAR:  # (as a record's date must be: no period beyond)
        return None
    staff = meta.get("staff")
    people = [staff] if isinstance(staff, Scalar) else list(staff.items) if isinstance(staff, Sequence) else []
    return when, tuple(person.text for person in people if isinstance(person, Scalar))


def _decisions(root: Path, site: Site, history: History, cache: bool,
               diags: Diagnostics) -> tuple[dict[str, Decision], bool]:
    """Who wrote each appeal's decision (compliance.appeal_decisions), with what its versions decided read from
    git (and, with `cache`, kept in the build cache); and whether git could not say it all (said, once)."""
    if not history.complete:
        return {}, False
    decided = [appeal.path for appeal in site.appeals.values() if appeal.decided_by is not None]
    at_head = blobs_at(root, history.head, FOLDERS["appeal"]) if decided else {}
    wanted = decision_sources(site, history) + sorted({at_head[path] for path in decided if path in at_head})
    answers = Answers(root if cache else None)
    decisions = appeal_decisions(site, history, answers.get(wanted, functools.partial(_decided_then, root)), at_head)
    answers.save()
    answers.report(diags)
    if answers.unanswered:
        diags.warning(Pos("."), "no-git-history", "git could not read earlier versions of the appeals, so record "
                      "pages do not say who committed their decisions", "nothing to do: the next build asks again")
    return decisions, answers.unanswered


def _decided_then(root: Path, names: list[str]) -> dict[str, object] | None:
    """What each of these versions of appeals (`commit:./path`) decided (see compliance.appeal_decisions), from
    one `git cat-file --batch`: for each name git answered; None when git could not say at all."""
    asked = [name for name in names if "\n" not in name]  # (a name git's batch input cannot hold: never known)
    missing: set[str] = set()
    blobs = read_blobs(root, asked, missing)
    if asked and not blobs and not missing:
        return None
    told: dict[str, object] = {name: UNREADABLE for name in names if "\n" in name}
    told.update((name, MISSING) for name in missing)
    told.update((name, _decision_of(data)) for name, data in blobs.items())
    return told


def _decision_of(data: bytes) -> tuple | str | None:
    """(decision, points, decided, decided_by) of an appeal's version, read leniently (it need not be valid now)
    and as validation reads them (an empty value is no value); None when it decides nothing (pending),
    UNREADABLE when that cannot be made out."""
    meta = read_source(Path("."), "then.md", "appeal", "then", Diagnostics(), data).meta
    if not isinstance(meta, YamlMapping):
        return UNREADABLE
    fields = {key: meta.get(key) for key in ("decision", "points", "decided", "decided_by")}
    if any(node is not None and not isinstance(node, Scalar) for node in fields.values()):
        return UNREADABLE
    text = {key: node.text if node is not None and node.kind != "null" else None for key, node in fields.items()}
    if text["decision"] in (None, "pending"):
        return None
    try:
        points = Decimal(text["points"]) if text["points"] is not None else None
        decided = date.fromisoformat(text["decided"]) if text["decided"] is not None else None
    except (ArithmeticError, ValueError):
        return UNREADABLE
    return text["decision"], points, decided, text["decided_by"]


class Amendments(Mapping):
    """record id -> [(Commit, unified diff)]: the commits that changed the record after its period was
    signed off, with what each changed. The diffs are asked of git only when a page that shows them is made
    (one git command for all of a record's, and most builds make none of those pages)."""

    def __init__(self, root: Path, site: Site, audits: dict, history: History):
        self._root = root
        self._history = history
        self._commits = {rid: (site.records[rid].path, audit.amendments)
                         for rid, audit in audits.items() if audit.amendments}
        self._made: dict[str, list] = {}

    def __getitem__(self, record_id: str) -> list:
        if record_id not in self._made:
            path, commits = self._commits[record_id]
            named = self._history.of(path)  # (the record may have had another name when a commit was made)
            made = patches(self._root, list(zip(commits, named.paths_of(commits, path), strict=True)))
            self._made[record_id] = [(commit, made.get(commit.hash, "")) for commit in commits]
        return self._made[record_id]

    def __iter__(self):
        return iter(self._commits)

    def __len__(self) -> int:
        return len(self._commits)


_PARALLEL_FROM = 2000  # fewer records than this are read faster than workers start and send them back


def _read_records(root: Path, wanted: list[tuple[str, str]], context: Context, cache: RecordCache | None,
                  jobs: int, progress, stats: dict, bodies: bool, blobs: dict[str, bytes],
                  from_disk: set[str]) -> dict[str, tuple]:
    """path -> (content hash, validated record or None, the file's diagnostics, the body as HTML or None)
    for every record file: from the cache when its bytes are unchanged (and its body was made into HTML,
    if `bodies` asks for that), else read and validated (on every core when many). A file in `blobs` is
    those bytes (staged in git), whatever is on disk. The path of each file whose bytes are read from disk is
    added to `from_disk`."""
    out, missing = {}, []
    top = str(root / "_")[:-1]  # what str(root / path) starts with: plain strings, as pathlib is slow here
    for path, doc_id in wanted:
        sig = None if path in blobs else _signature(top + path, stats)
        hit = _cached(root, path, sig, cache, from_disk) if cache is not None else None
        if hit is None or (bodies and hit[1] is not None and hit[3] is None):
            missing.append((path, doc_id, sig))
            if path not in blobs:
                from_disk.add(path)
        else:
            out[path] = hit
    if jobs > 1 and len(missing) >= _PARALLEL_FROM:
        global _ACTIVE
        _ACTIVE = (root, context, bodies, blobs)
        fresh = []
        try:
            with workers.pool(jobs) as pool:
                for chunk in pool.imap(_validate_chunk, [missing[n:n + 500] for n in range(0, len(missing), 500)]):
                    fresh += chunk
                    progress(len(fresh), len(missing), "records")
        finally:
            _ACTIVE = None
    else:
        fresh = []
        for path, doc_id, _ in missing:
            fresh.append(_validate(root, path, doc_id, context, bodies, blobs.get(path)))
            if len(fresh) % 500 == 0 or len(fresh) == len(missing):
                progress(len(fresh), len(missing), "records")
    for (path, _, sig), entry in zip(missing, fresh):
        out[path] = entry
        if cache is not None and entry[0] and path not in blobs:  # (a staged version is not the file on disk)
            cache.store(path, sig, entry)
    return out


_ACTIVE = None  # (root, context, bodies, blobs) inherited by forked workers


def _validate_chunk(chunk: list[tuple]) -> list[tuple]:
    root, context, bodies, blobs = _ACTIVE
    return [_validate(root, path, doc_id, context, bodies, blobs.get(path)) for path, doc_id, _ in chunk]


def _validate(root: Path, path: str, doc_id: str, context: Context, bodies: bool, data: bytes | None) -> tuple:
    local = Diagnostics()
    with processing(path):
        source = read_source(root, path, "record", doc_id, local, data)
        record = validate_record_source(source, context, local)
        html = _markdown().render(record.body) if bodies and record is not None else None
    return source.digest, record, tuple(local.items), html


@functools.lru_cache(maxsize=1)
def _markdown() -> MarkdownRenderer:
    return MarkdownRenderer()  # (made only when a build asks for bodies: `check` never loads Markdown)


def _signature(full: str, stats: dict) -> tuple | None:
    known = stats.get(full)  # (mode, size, mtime, ctime, inode, device) from the input fingerprint's walk
    if known is not None:
        return known[1:] if stat.S_ISREG(known[0]) else None
    try:
        return signature(os.lstat(full))
    except OSError:
        return None


def _cached(root: Path, path: str, sig: tuple | None, cache: RecordCache, from_disk: set[str]) -> tuple | None:
    if sig is None or sig[0] > limits.MAX_RECORD_BYTES:
        return None

    def read_digest() -> str:
        from_disk.add(path)
        with open(root / path, "rb") as handle:
            return content_digest(handle.read())

    return cache.lookup(path, sig, read_digest)
