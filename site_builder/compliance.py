"""Compliance from git history (pure): late entries, amendments after sign-off, commits by someone else.

Records first committed before `provenance.adopted` are imported paper history: they are never late and
never someone else's commit, but a change after their period's sign-off still shows. A commit that only
moved a record (renamed it, bytes unchanged) changed nothing in it: it is neither an amendment nor someone
else's work on it.

A signed-off period also changes when a record it held is deleted, or changed so that it no longer counts
there (another date, someone taken off its staff): those records are found by comparing the sign-off commit
with HEAD (`removals`), and the period of each person it no longer counts for is flagged as amended.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from site_builder.diagnostics import Diagnostics, Pos
from site_builder.history import Commit, History
from site_builder.model import Appeal, Inspector, Record, Site
from site_builder.periods import period_by_key, period_of

LATE_ENTRY = "late_entry"
AMENDED_AFTER_SIGNOFF = "amended_after_signoff"
AUTHOR_MISMATCH = "author_mismatch"


@dataclass(frozen=True, slots=True)
class RecordCompliance:
    flags: tuple[str, ...]
    imported: bool
    deadline: date  # the last day the record could be committed on time
    amendments: tuple[Commit, ...]  # commits that changed it and are not in its period's sign-off's past
    foreign: tuple[Commit, ...]  # commits that changed it by an email that is not the inspector's


@dataclass(frozen=True, slots=True)
class Decision:
    """Who wrote an appeal's decision into git (an appeal may be filed by anyone; its decision is the quality
    department's, 4.6): the commits that changed its decision (`decision`, `points`, `decided`, `decided_by`)
    from what every parent commit held."""

    commits: tuple[Commit, ...]  # those made since `provenance.adopted`, oldest first (imported ones: unknown)
    foreign: tuple[Commit, ...]  # those of them made by someone other than the inspector in `decided_by`
    last: Commit | None  # the newest, imported or not, that wrote the decision as it stands (None: none found)


# what appeal_decisions is told of a version of an appeal that decides nothing it can compare
MISSING = "missing"  # no file of that name in that commit
UNREADABLE = "unreadable"  # a file whose decision cannot be made out


@dataclass(frozen=True, slots=True)
class Removal:
    """A record that counted in a period when the period was signed off and no longer counts there for some
    of its staff."""

    path: str  # where it was at the sign-off
    month: str  # the signed-off period
    staff: tuple[str, ...]  # whom it no longer counts for there
    record: str  # its id now, or "" when it was deleted
    sign_off: Commit


def signed_in(site: Site, history: History) -> dict[str, Commit]:
    """month -> the commit that added its sign-off (for the periods whose sign-off is committed)."""
    out = {}
    for month, sign_off in site.sign_offs.items():
        file_history = history.of(sign_off.path)
        if file_history:
            out[month] = file_history.first
    return out


def removals(site: Site, signed: dict[str, Commit], changed: dict[str, list[tuple]],
             then: dict[str, tuple[date, tuple[str, ...]]]) -> list[Removal]:
    """The records taken out of signed-off periods: `changed` is, per sign-off commit, the record files that
    differ at HEAD (history.changed_since); `then` the date and staff of each one's version at the sign-off,
    by blob name (versions that cannot be read are passed over)."""
    cutoff = site.rules.cutoff_day
    by_path = {record.path: record for record in site.records.values()}
    out = []
    for month, sign_off in sorted(signed.items()):
        for _, path, now, blob in changed.get(sign_off.hash, ()):
            was = then.get(blob)
            if was is None or period_of(was[0], cutoff).key != month:
                continue
            record = by_path.get(now) if now else None
            kept = record.staff if record is not None and period_of(record.date, cutoff).key == month else ()
            gone = tuple(person for person in was[1] if person not in kept)
            if gone:
                out.append(Removal(path, month, gone, record.id if record is not None else "", sign_off))
    return out


def record_compliance(site: Site, history: History) -> dict[str, RecordCompliance]:
    """Per record id; empty when the history is unknown or incomplete (nothing is guessed)."""
    if not history.complete:
        return {}
    rules = site.rules
    in_past_of = _Ancestry(history.parents)
    signed = signed_in(site, history)
    listed_by = _listed_by(site)
    out = {}
    for record in site.records.values():
        file_history = history.of(record.path)
        if file_history is None:
            continue  # not committed yet: nothing to say until it is
        period = period_of(record.date, rules.cutoff_day)
        deadline = rules.deadline(period)
        entered = rules.day_of(file_history.first.committed)
        imported = rules.adopted is not None and entered < rules.adopted
        flags = []
        foreign: tuple[Commit, ...] = ()
        if not imported:
            if entered > deadline:
                flags.append(LATE_ENTRY)
            foreign = _not_by(site.inspectors[record.inspector], file_history.changes, listed_by)
            if foreign:
                flags.append(AUTHOR_MISMATCH)
        sign_off = signed.get(period.key)
        amendments = tuple(c for c in file_history.changes if sign_off and not in_past_of(sign_off, c))
        if amendments:
            flags.append(AMENDED_AFTER_SIGNOFF)
        out[record.id] = RecordCompliance(tuple(sorted(flags)), imported, deadline, amendments, foreign)
    return out


def decision_sources(site: Site, history: History) -> list[str]:
    """The versions of appeals that appeal_decisions needs read from git, as `git cat-file` names them: each
    decided appeal's file in each commit that changed it, and in that commit's parents."""
    return sorted({name for appeal in site.appeals.values() for _, here, parents in _changes_of(appeal, history)
                   for name in (here, *sum(parents, []))})


def appeal_decisions(site: Site, history: History, versions: dict[str, object],
                     at_head: dict[str, str]) -> dict[str, Decision]:
    """appeal path -> who wrote its decision, for each decided appeal whose decision as it stands is the one at
    HEAD (one written since is said once it is committed); empty when the history is unknown or incomplete.
    `at_head` names each appeal's version at HEAD (its blob); `versions` holds what each of those and of
    decision_sources' versions decided: (decision, points, decided, decided_by), None for no decision (pending),
    MISSING (no such file there) or UNREADABLE; a version git was not asked about, or could not say, is not in
    it."""
    if not history.complete:
        return {}
    listed_by, adopted, out = _listed_by(site), site.rules.adopted, {}
    for appeal in site.appeals.values():
        changes = _changes_of(appeal, history)
        now = (appeal.decision, appeal.points, appeal.decided, appeal.decided_by)
        if not changes or versions.get(at_head.get(appeal.path, "")) != now:
            continue
        writers = []  # (commit, what it decided), oldest first
        for commit, here, parents in reversed(changes):
            mine = versions.get(here)
            if isinstance(mine, tuple) and all(_in_parent(versions, names) != mine for names in parents):
                writers.append((commit, mine))
        judged = tuple(c for c, _ in writers if adopted is None or site.rules.day_of(c.committed) >= adopted)
        out[appeal.path] = Decision(judged, _not_by(site.inspectors[appeal.decided_by], judged, listed_by),
                                    next((c for c, decided in reversed(writers) if decided == now), None))
    return out


def _in_parent(versions: dict[str, object], names: list[str]) -> object:
    """What the appeal decided in a parent commit: at the first of its names that the parent has a file at."""
    return next((versions.get(name) for name in names if versions.get(name) != MISSING), MISSING)


def _changes_of(appeal: Appeal, history: History) -> list[tuple[Commit, str, list[list[str]]]]:
    """(commit, the name of the appeal's version in it, for each of the commit's parents the names its version
    may have there) for each commit that changed a decided appeal's file, newest first; [] for an appeal not
    decided or not committed. (A parent of a merge may hold the file under a name it had on one side only: each
    name it ever had is tried, the one it had before the commit first.)"""
    written = history.of(appeal.path) if appeal.decided_by is not None else None
    if written is None:
        return []
    changes = list(written.changes)
    known = list(dict.fromkeys([appeal.path, *(path for _, path in written.names)]))
    out = []
    for commit, (here, *before) in zip(changes, written.paths_of(changes, appeal.path)):
        tried = list(dict.fromkeys([before[0] if before else here, *known]))
        out.append((commit, _version(commit.hash, here),
                    [[_version(parent, path) for path in tried] for parent in history.parents.get(commit.hash, ())]))
    return out


def _version(commit_hash: str, path: str) -> str:
    return f"{commit_hash}:./{path}"  # (a path from the site root, which git is run in)


def _listed_by(site: Site) -> dict[str, list[Inspector]]:
    """email -> the inspectors whose git_emails list it."""
    listed_by: dict[str, list[Inspector]] = {}
    for inspector in site.inspectors.values():
        for email in inspector.git_emails:
            listed_by.setdefault(email, []).append(inspector)
    return listed_by


def _others(inspector: Inspector, email: str, listed_by: dict[str, list[Inspector]]) -> list[Inspector]:
    """The inspectors but `inspector` who list `email` (the same person under an id of their old role, by the
    same name, is not someone else)."""
    return [other for other in listed_by.get(email, ()) if other.name != inspector.name]


def _not_by(inspector: Inspector, commits: tuple[Commit, ...],
            listed_by: dict[str, list[Inspector]]) -> tuple[Commit, ...]:
    """The commits not made by `inspector`: under none of their git_emails; for an inspector who lists none,
    under an email someone else lists."""
    if inspector.git_emails:
        return tuple(c for c in commits if c.email not in inspector.git_emails)
    return tuple(c for c in commits if _others(inspector, c.email, listed_by))


def report_compliance(site: Site, history: History, found: dict[str, RecordCompliance], diags: Diagnostics,
                      removed: list[Removal] = (), decisions: dict[str, Decision] | None = None) -> None:
    """Warnings for `check` and `build`: each flagged record, each record taken out of a signed-off period, and
    each appeal decision committed by someone other than who decided it."""
    for removal in removed:
        staff, signed = ", ".join(removal.staff), f"period {removal.month} was signed off ({removal.sign_off.short})"
        if not removal.record:
            pos, message = Pos(removal.path, 1, 1), f"deleted after {signed}; it counted there for {staff}"
        else:
            now = site.records[removal.record].path
            moved = f"moved from `{removal.path}` and " if now != removal.path else ""
            pos, message = Pos(now, 1, 1), f"{moved}changed after {signed} so that it no longer counts there " \
                f"for {staff}"
        diags.warning(pos, "removed-after-signoff", message,
                      "a signed-off period should only change through an appeal: if this was not meant, restore "
                      f"the record with `git checkout {removal.sign_off.short} -- {removal.path}`")
    decisions = decisions or {}
    if history.complete:
        _report_undated(history, diags)
        _report_appeals_outdated(site, history, decisions, diags)
        _report_dates_ahead(site, history, decisions, diags)
        _report_sign_offs(site, history, found, diags)
    for appeal in site.appeals.values():
        foreign = decisions[appeal.path].foreign if appeal.path in decisions else ()
        if foreign:
            emails = ", ".join(sorted({c.email or "(no email)" for c in foreign}))
            diags.warning(Pos(appeal.path, 1, 1), "author-mismatch", f"its decision was written by {emails} "
                          f"({', '.join(c.short for c in foreign)}), not by `{appeal.decided_by}`, who decided it",
                          "the inspector who decides an appeal commits the decision under their own name")
    for record_id, audit in found.items():
        record: Record = site.records[record_id]
        pos = Pos(record.path, 1, 1)
        file_history = history.of(record.path)
        if LATE_ENTRY in audit.flags:
            first = file_history.first
            entered = f"on {site.rules.day_of(first.committed)}," if first.dated else \
                f"in {first.short}, whose date cannot be read: it counts as"
            diags.warning(pos, "late-entry", f"first committed {entered} after the collection deadline "
                          f"{audit.deadline} of its period (4.5.1)",
                          "records are due by the period's cutoff; the page shows it as entered late")
        if AMENDED_AFTER_SIGNOFF in audit.flags:
            hashes = ", ".join(c.short for c in audit.amendments)
            diags.warning(pos, "amended-after-signoff", f"changed after its period was signed off ({hashes})",
                          "a signed-off period should only change through an appeal")
        if AUTHOR_MISMATCH in audit.flags:
            emails = ", ".join(sorted({c.email or "(no email)" for c in audit.foreign}))
            if site.inspectors[record.inspector].git_emails:
                diags.warning(pos, "author-mismatch", f"committed by {emails}, not by inspector "
                              f"`{record.inspector}`'s git_emails", "commit records under your own name")
            else:
                inspector, listed_by = site.inspectors[record.inspector], _listed_by(site)
                owners = ", ".join(f"`{i}`" for i in sorted({other.id for c in audit.foreign
                                                             for other in _others(inspector, c.email, listed_by)}))
                diags.warning(pos, "author-mismatch", f"committed by {emails}, which inspector {owners} commits "
                              f"with, not by inspector `{record.inspector}`",
                              "commit records under your own name, and list your own emails in people.yaml")


def _report_undated(history: History, diags: Diagnostics) -> None:
    """Each commit whose date git gave in a form that cannot be read, once, at the first file (by path) it wrote."""
    undated: dict[str, tuple[str, Commit]] = {}
    for path, file_history in history.files.items():
        for commit in file_history.commits:
            if not commit.dated and (commit.hash not in undated or path < undated[commit.hash][0]):
                undated[commit.hash] = (path, commit)
    for path, commit in sorted(undated.values()):
        diags.warning(Pos(path), "undated-commit", f"commit {commit.short} has a date that cannot be read (a year "
                      "after 9999, a time zone beyond ±24 hours, or before 1970), so it counts as made after every "
                      "deadline: what it first committed is late, and none of it is imported history",
                      "rewrite the commit with its real date")


def _report_dates_ahead(site: Site, history: History, decisions: dict[str, Decision], diags: Diagnostics) -> None:
    """An appeal filed or decided on a day after the commit that wrote it (a date mistyped, or written ahead: a
    decision counts as soon as it is written, so one dated ahead would already change a score). A decision not
    committed yet is judged once it is."""
    adopted = site.rules.adopted

    def day(commit: Commit) -> date:  # the latest calendar day it was anywhere then: the writer's own, or the site's
        return max(commit.committed.date(), site.rules.day_of(commit.committed))

    for appeal in site.appeals.values():
        written = history.of(appeal.path)  # (an appeal not committed yet: nothing to say until it is)
        for label, when, commit in (("filed", appeal.filed, written and written.first),
                                    ("decided", appeal.decided, written and appeal.path in decisions
                                     and decisions[appeal.path].last)):
            if not commit or when is None or adopted is not None and site.rules.day_of(commit.committed) < adopted:
                continue  # (imported: git does not say when it was written)
            if when > day(commit):
                diags.warning(Pos(appeal.path, 1, 1), "dated-ahead", f"{label} on {when}, after the day it was "
                              f"committed ({day(commit)})", f"give the day it was {label}, not a later one")


def _report_sign_offs(site: Site, history: History, found: dict[str, RecordCompliance], diags: Diagnostics) -> None:
    """A sign-off committed by someone other than the inspector who signs the period off, or before its period's
    collection deadline with records entered on time after it (they count as amended after the sign-off)."""
    cutoff, listed_by, adopted = site.rules.cutoff_day, _listed_by(site), site.rules.adopted
    on_time_after: dict[str, int] = {}  # period -> its records first committed by the deadline, after the sign-off
    for record_id, audit in found.items():
        first = history.of(site.records[record_id].path).first
        if first in audit.amendments and site.rules.day_of(first.committed) <= audit.deadline:
            key = period_of(site.records[record_id].date, cutoff).key
            on_time_after[key] = on_time_after.get(key, 0) + 1
    for month, commit in sorted(signed_in(site, history).items()):
        day = site.rules.day_of(commit.committed)
        if adopted is not None and day < adopted:
            continue  # imported: git does not say how it was made
        sign_off = site.sign_offs[month]
        foreign = _not_by(site.inspectors[sign_off.closed_by], history.of(sign_off.path).changes, listed_by)
        if foreign:
            emails = ", ".join(sorted({c.email or "(no email)" for c in foreign}))
            diags.warning(Pos(sign_off.path, 1, 1), "author-mismatch", f"committed by {emails}, not by "
                          f"`{sign_off.closed_by}`, who signs the period off", "commit sign-offs under your own name")
        deadline = site.rules.deadline(period_by_key(month, cutoff))
        if on_time_after.get(month) and day <= deadline:  # (commit dates out of order say nothing of it)
            diags.warning(Pos(sign_off.path, 1, 1), "sign-off-early",
                          f"committed on {day}, before period {month}'s collection deadline {deadline}: "
                          f"{on_time_after[month]} record(s) entered on time after it count as amended after its "
                          "sign-off", "sign a period off after its deadline: delete the sign-off in one commit and "
                          "add it again in another (its first commit is the sign-off)")


def _report_appeals_outdated(site: Site, history: History, decisions: dict[str, Decision], diags: Diagnostics) -> None:
    """An appeal names a finding by its id or its position in the record: when the record changed after the
    appeal's decision was written (or, while pending, after the appeal was last committed) — in a later commit
    than that one, or on a later day than its date while it is not committed — the finding it names may no
    longer be the one appealed. (Commits before `provenance.adopted` are imported history, as for the other
    flags.)"""
    adopted = site.rules.adopted  # commits before it are imported paper history: their dates say nothing here
    day_of = site.rules.day_of
    for (record_id, finding_id), appeal in site.appeals.items():
        file_history = history.of(site.records[record_id].path)
        if file_history is None:
            continue
        written = history.of(appeal.path)
        if appeal.decided_by is not None:  # the commit that wrote the decision as it stands, if it is committed
            since = decisions[appeal.path].last if appeal.path in decisions else None
        else:
            since = written.last if written else None
        on = appeal.decided or appeal.filed
        later = [c for c in file_history.changes if c is not file_history.first  # (its first commit made it)
                 and (c.order > since.order if since is not None else day_of(c.committed) > on)
                 and (adopted is None or day_of(c.committed) >= adopted)]
        if later:
            changes = ", ".join(c.short for c in reversed(later))
            if since is None:
                when = f"after this appeal was {'decided' if appeal.decided else 'filed'} on {on} ({changes})"
            else:
                what = "this appeal's decision was committed" if appeal.decided_by is not None else \
                    "this appeal was last committed"
                when = f"in {changes}, after {what} ({since.short})"
            diags.warning(Pos(appeal.path, 1, 1), "appeal-outdated",
                          f"record `{record_id}` was changed {when}: check that finding `{finding_id}` is still the "
                          "one appealed", "if findings moved, point `finding:` at the right one; an `id:` on each "
                          "finding keeps them apart")


class _Ancestry:
    """in_past_of(sign_off, commit): whether `commit` is the sign-off's commit or one of its ancestors — made
    before it in the history it was made on. Any other commit changed the record after the sign-off, whichever
    way a merge brought the two together. `git log --topo-order` lists a commit before its ancestors, so one
    listed earlier (a larger order) never is one; in a history without merges every other commit is."""

    def __init__(self, parents: dict[str, tuple[str, ...]]):
        self._parents = parents
        self._merged = any(len(p) > 1 for p in parents.values())
        self._past: dict[str, set[str]] = {}  # sign-off commit -> it and its ancestors (walked once each)

    def __call__(self, sign_off: Commit, commit: Commit) -> bool:
        if commit.order > sign_off.order:
            return False
        if not self._merged:
            return True
        if sign_off.hash not in self._past:
            past, pending = {sign_off.hash}, [sign_off.hash]
            while pending:
                for parent in self._parents.get(pending.pop(), ()):
                    if parent not in past:
                        past.add(parent)
                        pending.append(parent)
            self._past[sign_off.hash] = past
        return commit.hash in self._past[sign_off.hash]
