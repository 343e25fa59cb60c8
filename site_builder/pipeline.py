"""The stages joined up: read → validate → (git history) → score. Commands call these; only the CLI prints."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from site_builder import limits
from site_builder.cache import RecordCache, signature
from site_builder.compliance import record_compliance, report_compliance
from site_builder.diagnostics import Diagnostics
from site_builder.history import History, patch, read_history
from site_builder.model import Site
from site_builder.read import content_digest, discover, processing, read_context, read_source
from site_builder.score import PeriodScores, score_site
from site_builder.validate import Context, validate_context, validate_documents, validate_record_source


@dataclass
class Loaded:
    files: list[str]  # every source found, in reading order
    digests: dict[str, str]  # path -> content hash of every source that could be read
    site: Site | None  # None when rules.yaml or people.yaml is unusable
    diagnostics: Diagnostics
    history: History = field(default_factory=History)
    audits: dict = field(default_factory=dict)  # record id -> RecordCompliance
    amendments: dict = field(default_factory=dict)  # record id -> [(Commit, unified diff)] after sign-off

    @property
    def ok(self) -> bool:
        return self.site is not None and not self.diagnostics.errors

    def scores(self) -> dict[str, PeriodScores]:
        return score_site(self.site, self.audits)


def load(root: Path, cache: bool = False) -> Loaded:
    """Read and validate every source of the site root, and read its git history once. With `cache`,
    records whose bytes were validated by an earlier run in the same context are taken from the build
    cache instead of being read again."""
    diags = Diagnostics()
    context_sources = read_context(root, diags)
    documents = discover(root, diags)
    context = validate_context(context_sources, diags)
    digests = {s.path: s.digest for s in context_sources if s.digest}
    files = [s.path for s in context_sources] + [path for path, _, _ in documents]
    if context is None:  # every document is still read, so that all of its own problems are reported
        for path, kind, doc_id in documents:
            with processing(path):
                read_source(root, path, kind, doc_id, diags)
        return Loaded(files, digests, None, diags)

    record_cache = RecordCache(root, "\n".join(digests.get(s.path, "") for s in context_sources)) if cache else None
    records, broken, others = {}, set(), []
    for path, kind, doc_id in documents:
        if kind == "record":
            with processing(path):
                digest, record, items = _record(root, path, doc_id, context, record_cache)
            diags.extend(items)
            if record is None:
                broken.add(doc_id)
            else:
                records[record.id] = record
        else:
            with processing(path):
                source = read_source(root, path, kind, doc_id, diags)
            others.append(source)
            digest = source.digest
        if digest:
            digests[path] = digest
    if record_cache is not None:
        record_cache.keep_only({path for path, kind, _ in documents if kind == "record"})
        record_cache.save()
        record_cache.report(diags)

    site = validate_documents(context, records, broken, others, diags)
    history = read_history(root)
    audits = record_compliance(site, history)
    report_compliance(site, history, audits, diags)
    amendments = {rid: [(c, patch(root, c, site.records[rid].path)) for c in audit.amendments]
                  for rid, audit in audits.items() if audit.amendments}
    return Loaded(files, digests, site, diags, history, audits, amendments)


def _record(root: Path, path: str, doc_id: str, context: Context, cache: RecordCache | None):
    """(content hash, validated record or None, the file's diagnostics), from the cache when it can."""
    try:
        sig = signature(os.lstat(root / path))
    except OSError:
        sig = None
    if cache is not None and sig is not None and sig[0] <= limits.MAX_RECORD_BYTES:
        def read_digest() -> str:
            with open(root / path, "rb") as handle:
                return content_digest(handle.read())
        hit = cache.lookup(path, sig, read_digest)
        if hit is not None:
            return hit
    local = Diagnostics()
    source = read_source(root, path, "record", doc_id, local)
    record = validate_record_source(source, context, local)
    entry = (source.digest, record, tuple(local.items))
    if cache is not None and source.digest:
        cache.store(path, sig, entry)
    return entry
