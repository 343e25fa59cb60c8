"""Git provenance: who committed each source file, when, and how often it changed — from one `git log`.

One pass over the history (never one `git log` per file, which is what makes other generators' git
plugins slow), following renames, gives every file its commits, newest first, and every commit its
parents (so that compliance can tell what is in a sign-off's past when branches were merged). A merge
commit counts for the files it changed itself (`--cc`: what no parent had). A deletion ends a file's
history: a file added again under the same name starts a new one. Outside a repository, or in a shallow
clone, the build goes on and says once what it could not know.

A long history takes git seconds to walk, so once it holds `KEEP_FROM` commits the result is kept (`keep`,
in the build cache) with the commit it was read at: when HEAD has only moved forward since, without merges,
only the new commits are read and put in front of the kept ones — the same history a full `git log` gives,
as the log is in topological order.
"""

from __future__ import annotations

import os
import pickle
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

from site_builder.cache import code_fingerprint, write_atomically

# Two logs, each split only at NUL bytes, which neither git's own fields, nor paths, nor what a committer
# writes (names, emails, subjects: git refuses NUL in them) can hold. The first has only what git writes itself
# (hashes, parents, dates) and the files each commit changed; the second who made each commit and its subject.
# (Read otherwise, a subject or a file name holding a separator could pass for another commit, by someone else.)
_FORMAT = "%H%x00%P%x00%cI"
_PEOPLE = "%H%x00%an%x00%ae%x00%s"
_HASH = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")  # SHA-1 or SHA-256
_STATUS = re.compile(r"[A-Z]+[0-9]*")  # git's status letters (one per parent for a merge), a similarity


@dataclass(frozen=True, slots=True)
class Commit:
    hash: str
    author: str
    email: str
    committed: datetime  # with the committer's UTC offset
    subject: str
    order: int  # its place in the history: 1 for the oldest commit, larger is newer
    dated: bool = True  # False: git gave a date that cannot be read, and `committed` is UNDATED

    @property
    def day(self) -> date:
        """The calendar day of the commit where it was made."""
        return self.committed.date()

    @property
    def short(self) -> str:
        return self.hash[:10]


@dataclass(frozen=True, slots=True)
class FileHistory:
    commits: tuple[Commit, ...]  # newest first
    moves: frozenset[str] = frozenset()  # hashes of the commits that only moved the file (a rename, bytes unchanged)
    names: tuple[tuple[str, str], ...] = ()  # (hash, the file's path then) for commits made when it had another

    def path_at(self, commit: str, now: str) -> str:
        """The file's path in `commit` (`now` unless it was renamed since)."""
        return next((path for made, path in self.names if made == commit), now)

    def paths_of(self, commits: list[Commit], now: str) -> list[tuple[str, ...]]:
        """For each of `commits`: the file's path in it, and in its commit before (the same, unless the commit
        renamed it). (Each commit and name looked up once: a record renamed a thousand times has as many.)"""
        named: dict[str, str] = {}
        for made, path in self.names:
            named.setdefault(made, path)  # (the first, as path_at takes)
        position = {c.hash: n for n, c in enumerate(self.commits)}
        out = []
        for commit in commits:
            older = self.commits[position[commit.hash] + 1:position[commit.hash] + 2]
            out.append((named.get(commit.hash, now), *(named.get(c.hash, now) for c in older)))
        return out

    @property
    def changes(self) -> tuple[Commit, ...]:
        """The commits that wrote the file's bytes: all but those that only moved it, newest first."""
        return tuple(c for c in self.commits if c.hash not in self.moves) if self.moves else self.commits

    @property
    def first(self) -> Commit:
        return self.commits[-1]

    @property
    def last(self) -> Commit:
        return self.commits[0]

    @property
    def revisions(self) -> int:
        return len(self.commits)


@dataclass(frozen=True)
class History:
    """Every source file's commits. `complete` is False outside git or in a shallow clone."""

    files: dict = field(default_factory=dict)  # path relative to the site root -> FileHistory
    parents: dict = field(default_factory=dict)  # hash -> its parents' hashes, of every commit read (merges too)
    complete: bool = False
    problem: str = ""  # what could not be known, said once as a warning
    discarded: str = ""  # why a kept history could not be used (damaged, another version), or ""
    head: str = ""  # the commit it was read at

    def of(self, path: str) -> FileHistory | None:
        return self.files.get(path)


# What git prints does not depend on the user's git configuration: settings that would change the logs and diffs
# read here (a log without its root commit, signatures among the commits, --follow's guesses, other prefixes or
# context in a published diff, another encoding of names) are set back to git's defaults for every command.
_CONFIG = [part for setting in (
    "core.quotepath=off", "log.showRoot=true", "log.showSignature=false", "log.follow=false", "diff.noprefix=false",
    "diff.mnemonicPrefix=false", "diff.context=3", "diff.interHunkContext=0", "diff.relative=false",
    "diff.algorithm=myers", "diff.indentHeuristic=true", "diff.suppressBlankEmpty=false",
    "core.attributesFile=/dev/null", "i18n.logOutputEncoding=UTF-8", "core.abbrev=auto") for part in ("-c", setting)]
# and the variables that would (another context, another program); attributes (`*.md -diff`, say) are the site's
# own `.gitattributes` only: not the system's (GIT_ATTR_NOSYSTEM), nor the user's, and `--text` for each diff
_UNSET = ("GIT_DIFF_OPTS", "GIT_EXTERNAL_DIFF")


def _command(root: Path, *args: str) -> list[str]:
    # a path is the file of that name (`br[1].md` is not a pattern that also finds `br1.md`); the history is the
    # commits as made (`git replace` and grafts would change it without moving HEAD, which says what was read)
    return ["git", "--literal-pathspecs", "--no-replace-objects", "-C", str(root), *_CONFIG, *args]


def _git(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(_command(root, *args), capture_output=True, check=False,
                          env={**{name: value for name, value in os.environ.items() if name not in _UNSET},
                               "GIT_ATTR_NOSYSTEM": "1"})


def read_history(root: Path, keep: Path | None = None) -> History:
    """The history of everything under `root`, from one `git log` (paths relative to `root`)."""
    return start_history(root, keep)()


_KEPT = "site-builder history 4"
KEEP_FROM = 1000  # commits: git lists fewer in well under a second (a few huge commits are cheap for it too)


def start_history(root: Path, keep: Path | None = None):
    """Start reading the history in the background (git runs on another core while the build reads the
    records); the function returned waits for it and gives the History. With `keep`, the history is kept
    in that file, and only the commits made since are read next time (see the module's note)."""
    kept, discarded = _load_kept(keep)
    head = _answer(root, "rev-parse", "-q", "--verify", "HEAD^{commit}")
    if kept is not None and head and kept[0] == head:
        return lambda: History(kept[2], kept[3], complete=True, discarded=discarded, head=head)
    since = kept if kept is not None and head and _moved_forward(root, kept[0], head) else None
    out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()  # files, not pipes: git never waits on us
    who = tempfile.TemporaryFile()
    # up to the commit named above, even if another is made meanwhile
    span = [f"{since[0]}..{head}"] if since else [head] if head else []
    try:
        inside = subprocess.Popen(_command(root, "rev-parse", "--is-inside-work-tree", "--is-shallow-repository",
                                           "--show-prefix"),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        log = subprocess.Popen(_command(root, "log", "--topo-order", f"--format={_FORMAT}", "--name-status", "-M", "-z",
                                        # parents as the site's own history links them; what a merge changed itself
                                        "--relative", "--parents", "--cc", *span, "--", "."), stdout=out, stderr=err)
        people = subprocess.Popen(_command(root, "log", f"--format={_PEOPLE}", "-z", *span),
                                  stdout=who, stderr=subprocess.DEVNULL)
    except OSError:
        out.close()
        err.close()
        who.close()
        return lambda: History(problem="git is not installed, so records have no provenance and no git flags")

    def parsed(text: bytes, names: bytes, shallow: bool, prefix: str) -> History:
        listed = _merges_relative(_commits(text.decode("utf-8", "surrogateescape")), prefix)
        people_text = _shown(names.decode("utf-8", "replace"))  # names, emails, subjects: text, whatever bytes
        listed = _without_merged_moves(root, listed, prefix)
        if shallow:
            return History(*_parse(listed, people_text)[:2], complete=False, problem=(
                "this is a shallow clone: the first commit of older files is unknown, so git flags are not "
                "computed (fetch the full history with `git fetch --unshallow`)"))
        files, parents, read = _parse(listed, people_text, since[2:] if since else None, since[1] if since else 0)
        count = (since[1] if since else 0) + read  # commits read so far, kept ones too
        if keep is not None and head:
            _save_kept(keep, head, count, files, parents)
        return History(files, parents, complete=True, discarded=discarded, head=head)

    def finish() -> History:
        answer, _ = inside.communicate()
        log.wait()
        people.wait()
        with out, err, who:
            out.seek(0)
            err.seek(0)
            who.seek(0)
            text, problem, names = out.read(), err.read(), who.read()
        if inside.returncode != 0:
            return History(problem="the site is not in a git repository, so records have no provenance "
                                   "and no git flags (late entry, amended after sign-off, author mismatch)")
        lines = answer.decode("utf-8", "surrogateescape").split("\n")
        shallow, prefix = lines[1:2] == ["true"], "".join(lines[2:3])  # (the site's folder in its repository)
        if log.returncode != 0:  # e.g. a repository with no commits yet
            return History(complete=not shallow, problem="" if b"does not have any commits" in problem
                           else "git log failed: " + problem.decode("utf-8", "replace").strip())
        try:
            return parsed(text, names, shallow, prefix)
        except UnreadableHistory as exc:
            return History(problem=str(exc))

    return finish


_CONTROL = re.compile(r"[\x01-\x08\x0b-\x1f\x7f-\x9f]")  # (NUL splits the log; \t and \n are layout)


def _shown(text: str) -> str:
    """Control characters a commit's author, email or subject holds, as `\\x1b`: as on the terminal."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def in_head(root: Path, path: str) -> bool:
    """Whether the commit checked out holds this file (relative to `root`): a file gone from the working tree
    was deleted, not mistyped."""
    try:
        return _git(root, "cat-file", "-e", f"HEAD:./{path}").returncode == 0
    except OSError:
        return False


def _answer(root: Path, *args: str) -> str:
    """A git command's output, or "" when it fails (or git is not installed)."""
    try:
        result = _git(root, *args)
    except OSError:
        return ""
    return result.stdout.decode().strip() if result.returncode == 0 else ""


def _moved_forward(root: Path, before: str, head: str) -> bool:
    """HEAD descends from `before` and no merge came in between: the new commits simply go on top."""
    return _git(root, "merge-base", "--is-ancestor", before, head).returncode == 0 and \
        _answer(root, "rev-list", "--merges", "--count", f"{before}..{head}") == "0"


def _load_kept(keep: Path | None) -> tuple[tuple | None, str]:
    """(HEAD it was read at, how many commits it holds, path -> FileHistory, hash -> parents) of the kept
    history, or None; and why a kept one was discarded."""
    if keep is None:
        return None, ""
    try:
        with open(keep, "rb") as handle:
            header, head, count, files, parents = pickle.load(handle)
    except FileNotFoundError:
        return None, ""
    except Exception:  # noqa: BLE001 - any damage at all: git is asked again
        return None, "damaged"
    if header != (_KEPT, code_fingerprint()) or not isinstance(files, dict) or not isinstance(head, str) \
            or not isinstance(count, int) or not isinstance(parents, dict):
        return None, "written by another version of site-builder"
    return (head, count, files, parents), ""


def _save_kept(keep: Path, head: str, count: int, files: dict, parents: dict) -> None:
    """Keep a long history; a short one is read again faster than a kept one is loaded, on the other core."""
    try:
        if count < KEEP_FROM:
            keep.unlink(missing_ok=True)
            return
        keep.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(keep, ((_KEPT, code_fingerprint()), head, count, files, parents))
    except OSError:
        pass  # a read-only or full disk: the next run reads the whole history again


def patches(root: Path, wanted: list[tuple[Commit, tuple[str, ...]]]) -> dict[str, str]:
    """commit hash -> what the commit changed in a file (a unified diff), for showing amendments after sign-off,
    for each (commit, the file's paths) wanted. The paths: the file's name in that commit, and in its commit
    before, if another (a commit that renamed it as it changed it then shows the change, not the whole file as
    new; nothing else is compared with it, as `--follow` would). One git command for all the commits that name
    the same paths: a record amended many times asks git once."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for commit, paths in wanted:
        if _HASH.fullmatch(commit.hash):  # (it comes from git's log; never pass git anything else)
            groups.setdefault(tuple(dict.fromkeys(paths)), []).append(commit.hash)
    out: dict[str, str] = {}
    for paths, hashes in groups.items():
        result = _git(root, "log", "--no-walk=unsorted", "-p", "--cc", "--format=%x00%H%x00", *_PATCH, *hashes,
                      "--relative", "--", *paths)
        if result.returncode != 0:
            continue
        parts = result.stdout.decode("utf-8", "replace").split("\0")
        for at in range(1, len(parts) - 1, 2):  # "", hash, its diff, hash, its diff, ...
            out[parts[at]] = parts[at + 1].lstrip("\n")
    return out


# a diff as text whatever an attribute says, with git's own prefixes, naming blobs in full (abbreviated names grow
# with the number of objects in the repository, which is not the site's)
_PATCH = ["--no-color", "--no-ext-diff", "--no-textconv", "--text", "--src-prefix=a/", "--dst-prefix=b/", "-M",
          "--full-index"]


def changed_since(root: Path, head: str, commits: list[str], folder: str) -> dict[str, list[tuple]]:
    """commit -> the files under `folder` whose bytes at `head` are not those at the commit, as (status, path
    then, path now or "", blob then): status D (gone), M (changed) or R (renamed and changed; a file only
    renamed is left out). One `git diff-tree` for all the commits; {} when git cannot say. Its output is read
    at NUL bytes only (a path may hold any other): each commit's part starts with HEAD's hash."""
    if not commits or not _HASH.fullmatch(head) or not all(_HASH.fullmatch(c) for c in commits):
        return {}
    try:
        result = subprocess.run(_command(root, "diff-tree", "--stdin", "--always",
                                         "--format=%H", "-r", "--raw", "-M", "-z", "--relative", "--", folder),
                                input="".join(f"{head} {commit}\n" for commit in commits).encode(),
                                capture_output=True, check=False)
    except OSError:
        return {}
    if result.returncode != 0:
        return {}
    out: dict[str, list[tuple]] = {}
    tokens, at, changes = result.stdout.decode("utf-8", "surrogateescape").split("\0"), 0, None
    parts = iter(commits)
    while at < len(tokens):
        token = tokens[at].strip("\n")
        at += 1
        if token == head:  # the next commit's part
            changes = out[next(parts, "")] = []
            continue
        if not token:
            continue
        fields = token[1:].split(" ") if token.startswith(":") else []
        if changes is None or len(fields) != 5:
            return {}  # not as git writes it: nothing is said rather than something wrong
        _, _, blob_then, blob_now, status = fields
        width = 2 if status[0] in ("R", "C") else 1
        paths, at = tokens[at:at + width], at + width
        if len(paths) != width:
            return {}
        if status[0] == "R" and blob_then != blob_now:  # (a pure rename changed nothing)
            changes.append(("R", paths[0], paths[1], blob_then))
        elif status[0] in ("D", "M"):
            changes.append((status[0], paths[0], paths[0] if status[0] == "M" else "", blob_then))
    out.pop("", None)
    return out


def read_blobs(root: Path, names: list[str], missing: set[str] | None = None) -> dict[str, bytes]:
    """blob name -> its bytes, from one `git cat-file --batch` ({} when git cannot say); the names git says
    there is no such blob for are added to `missing`."""
    if not names:
        return {}
    try:
        result = subprocess.run(_command(root, "cat-file", "--batch"),
                                input="".join(name + "\n" for name in names).encode(), capture_output=True, check=False)
    except OSError:
        return {}
    out, data, at = {}, result.stdout, 0
    for name in names:
        line_end = data.find(b"\n", at)
        if line_end < 0:
            break
        header = data[at:line_end].split()
        at = line_end + 1
        if missing is not None and header[-1:] == [b"missing"]:  # ("<name> missing")
            missing.add(name)
        if len(header) != 3 or header[1] != b"blob":
            continue
        size = int(header[2])
        out[name] = data[at:at + size]
        at += size + 1
    return out


def blobs_at(root: Path, commit: str, folder: str) -> dict[str, str]:
    """path (from `root`) -> blob name of each file under `folder` in `commit`, from one `git ls-tree` ({} when
    git cannot say)."""
    try:
        result = _git(root, "ls-tree", "-r", "-z", commit, "--", folder)
    except OSError:
        return {}
    out = {}
    for entry in result.stdout.decode("utf-8", "surrogateescape").split("\0") if result.returncode == 0 else ():
        info, _, path = entry.partition("\t")
        fields = info.split()
        if len(fields) == 3 and fields[1] == "blob":
            out[path] = fields[2]
    return out


class UnreadableHistory(Exception):
    """git's log is not as site-builder reads it; the message says so, for a warning."""


# What a commit is taken as made at when its date cannot be read (git accepts years past 9999 and zones past
# ±24 hours, and writes its placeholder, `%cI`, for a date before 1970): after every deadline, never imported
# history, so that one such commit hides nothing (a day that still exists in every time zone).
UNDATED = datetime(9999, 12, 31, tzinfo=timezone.utc)


def _unreadable(what: str) -> UnreadableHistory:
    return UnreadableHistory(f"git's log could not be read ({what}), so records have no provenance and no git "
                             "flags (`git fsck` may say what is wrong with the repository)")


def _commits(text: str) -> list[tuple[str, str, str, list[tuple[str, ...]]]]:
    """(hash, parents, commit date, [(status, path…)]) of each commit of the first log, newest first."""
    tokens, at, out = text.split("\0"), 0, []
    while at < len(tokens):
        token = tokens[at].lstrip("\n")
        if not token:
            at += 1
            continue
        if not _HASH.fullmatch(token) or at + 2 >= len(tokens) or \
                not all(_HASH.fullmatch(p) for p in tokens[at + 1].split()):
            raise _unreadable(f"`{token[:40]!r}` where a commit was expected")
        changes: list[tuple[str, ...]] = []
        out.append((token, tokens[at + 1], tokens[at + 2], changes))
        at += 3
        while at < len(tokens):
            status = tokens[at].lstrip("\n")
            if not status:
                at += 1
            elif _STATUS.fullmatch(status):
                # a rename or copy names the file before and after; a merge's status has a letter per parent
                # (`RM`) and names only the file as the merge left it
                width = 3 if status[0] in ("R", "C") and not status[1:2].isalpha() else 2
                if at + width > len(tokens):
                    raise _unreadable("a change without its file")
                changes.append((status, *tokens[at + 1:at + width]))
                at += width
            else:
                break  # the next commit
    return out


def _merges_relative(listed: list[tuple], prefix: str) -> list[tuple]:
    """`listed` with each merge's files named from the site root, as every other commit's are: git's combined diff
    ignores `--relative`, so in a site that is a folder of its repository (`prefix`, like `site/`) a merge names
    `site/content/…` where the others name `content/…`."""
    if not prefix:
        return listed
    return [(commit, parents, committed, [(status, *(path.removeprefix(prefix) for path in paths))
                                          for status, *paths in changes] if len(parents.split()) > 1 else changes)
            for commit, parents, committed, changes in listed]


def _without_merged_moves(root: Path, listed: list[tuple], prefix: str = "") -> list[tuple]:
    """`listed` (see _commits) without the files a merge is said to change only because one side renamed them:
    git's combined diff compares each parent's file of the same name, so a file renamed on one side and edited
    on the other looks changed by the merge even when it holds exactly one parent's bytes (what no parent had is
    what a merge changed itself). One `git log` of those merges, with every parent's name and blob of them."""
    merges = [commit for commit, parents, _, changes in listed
              if len(parents.split()) > 1 and any("R" in status or "C" in status for status, *_ in changes)]
    if not merges:
        return listed
    try:
        result = _git(root, "log", "--no-walk=unsorted", "--cc", "--raw", "--no-abbrev", "-M", "--combined-all-paths",
                      "-z", "--format=%x00%H", "--relative", *merges, "--", ".")
    except OSError:
        return listed
    if result.returncode != 0:
        return listed
    kept: set[tuple[str, str]] = set()  # (merge, the file as it left it) holding one parent's bytes
    tokens, at, commit = result.stdout.decode("utf-8", "surrogateescape").split("\0"), 0, ""
    while at < len(tokens):
        token = tokens[at].strip("\n")
        at += 1
        if _HASH.fullmatch(token):
            commit = token
        elif token.startswith("::"):
            fields = token.lstrip(":").split(" ")
            parents = (len(fields) - 2) // 2  # modes of each parent and the result, blobs likewise, the status
            blobs = fields[parents + 1:2 * parents + 2]
            names = [name.removeprefix(prefix) for name in tokens[at:at + parents + 1]]
            at += parents + 1
            if len(blobs) == parents + 1 and len(names) == parents + 1 and blobs[-1] in blobs[:-1]:
                kept.add((commit, names[-1]))
    if not kept:
        return listed
    return [(commit, parents, committed, [change for change in changes if (commit, change[-1]) not in kept])
            for commit, parents, committed, changes in listed]


def _people(text: str) -> dict[str, tuple[str, str, str]]:
    """hash -> (author, email, subject), from the second log."""
    tokens = text.split("\0")
    if len(tokens) % 4 == 1 and tokens[-1] in ("", "\n"):  # a NUL at the end
        tokens.pop()
    out = {}
    for at in range(0, len(tokens), 4):
        commit = tokens[at].lstrip("\n")
        if not _HASH.fullmatch(commit) or at + 3 >= len(tokens):
            raise _unreadable(f"`{commit[:40]!r}` where a commit was expected among the authors")
        out[commit] = (tokens[at + 1], tokens[at + 2], tokens[at + 3])
    return out


def _adopt(commits_of: dict, names_of: dict, moves_of: dict, old: str, current: str) -> None:
    """The commits read so far under `old` (newer than the commit that renamed it to `current`, so made on a
    branch that did not have the rename and was merged with it later) are the renamed file's."""
    adopted = commits_of.pop(old)
    commits_of[current] = sorted(commits_of.get(current, []) + adopted, key=lambda c: -c.order)
    names = names_of.setdefault(current, {})
    names.update(names_of.pop(old, {}))
    names.update((c.hash, old) for c in adopted if c.hash not in names)
    if old in moves_of:
        moves_of.setdefault(current, set()).update(moves_of.pop(old))


def _parse(listed: list[tuple], people: str, older: tuple[dict, dict] | None = None,
           base: int = 0) -> tuple[dict, dict, int]:
    """Each file's commits from the two `git log`s (see _FORMAT; the first as `_commits` lists it), newest first,
    each commit's parents, and how many commits were read; with `older` (the files and parents of a kept history
    of `base` commits), the logs hold only the commits made since, and the two are joined (following the new
    commits' renames)."""
    commits_of: dict[str, list[Commit]] = {}
    parents: dict[str, tuple[str, ...]] = dict(older[1]) if older else {}
    moves_of: dict[str, set[str]] = {}  # the name a file has now -> the commits that only renamed it
    names_of: dict[str, dict[str, str]] = {}  # the name a file has now -> commit -> its older name then
    renamed: dict[str, str] = {}  # an older name -> the name it has now
    # names whose older commits belong to a file since deleted (read newest first: a deletion ends a file's
    # life, so a record deleted and added again does not inherit its predecessor's history)
    ended: set[str] = set()
    born: set[str] = set()  # names a file was added under, in the commits read so far
    made_by = _people(people)
    for index, (commit_hash, parent_hashes, committed, changes) in enumerate(listed):
        parents[commit_hash] = tuple(parent_hashes.split())
        try:
            when, dated = datetime.fromisoformat(committed), True
        except ValueError:
            when, dated = UNDATED, False
        if commit_hash not in made_by:
            raise _unreadable(f"commit {commit_hash[:10]} has no author")
        author, email, subject = made_by[commit_hash]
        commit = Commit(commit_hash, author, email.lower(), when, subject, base + len(listed) - index, dated)
        for status, *paths in changes:
            if len(paths) == 2:
                old, new = paths
                if new in ended:  # made a file that was deleted later: so is what it came from
                    if status[0] == "R":
                        ended.add(old)
                    continue
                current = renamed.get(new, new)
                commits_of.setdefault(current, []).append(commit)
                if current != new:
                    names_of.setdefault(current, {})[commit.hash] = new
                if status[0] == "R":
                    renamed[old] = current
                    ended.discard(old)  # the older commits of that name are this file's
                    if old != current and old in commits_of and old not in born:  # changed on a branch merged later
                        _adopt(commits_of, names_of, moves_of, old, current)
                    if status == "R100":  # git's similarity index: the very same bytes under a new name
                        moves_of.setdefault(current, set()).add(commit.hash)
            else:
                path = paths[0]
                if path in ended:
                    continue
                if set(status) == {"D"}:  # gone from the commit (a merge's `DD` too)
                    ended.add(path)
                    continue
                if status[0] == "A":
                    born.add(path)
                current = renamed.get(path, path)
                commits_of.setdefault(current, []).append(commit)
                if current != path:
                    names_of.setdefault(current, {})[commit.hash] = path
    if older is None:
        return {path: FileHistory(tuple(commits), frozenset(moves_of.get(path, ())), _names(names_of.get(path)))
                for path, commits in commits_of.items()}, parents, len(listed)
    # the kept files the new commits did not touch stay as they were; those they deleted are gone
    joined = {path: kept for path, kept in older[0].items() if path not in ended}
    gathered: dict[str, list[FileHistory]] = {}  # kept histories of files renamed since, under their names now
    for old, new in renamed.items():
        if old != new and old in joined:
            kept = joined.pop(old)  # its commits were made under its old names
            gathered.setdefault(new, []).append(FileHistory(kept.commits, kept.moves, _names(
                {c.hash: kept.path_at(c.hash, old) for c in kept.commits})))
    for path, histories in gathered.items():
        if path in joined:  # another kept file had this name: both histories, newest first
            histories.append(joined[path])
        joined[path] = FileHistory(tuple(sorted((c for h in histories for c in h.commits), key=lambda c: -c.order)),
                                   frozenset().union(*(h.moves for h in histories)),
                                   tuple(sorted(pair for h in histories for pair in h.names)))
    for path, commits in commits_of.items():
        before = joined.get(path)
        joined[path] = FileHistory(tuple(commits) + (before.commits if before else ()),
                                   frozenset(moves_of.get(path, ())) | (before.moves if before else frozenset()),
                                   _names({**dict(before.names if before else ()), **names_of.get(path, {})}))
    return joined, parents, len(listed)


def _names(names: dict[str, str] | None) -> tuple[tuple[str, str], ...]:
    """FileHistory.names from commit -> the file's path then."""
    return tuple(sorted(names.items())) if names else ()
