"""Git provenance: who committed each source file, when, and how often it changed — from one `git log`.

One pass over the history (never one `git log` per file, which is what makes other generators' git
plugins slow), following renames, gives every file its commits, newest first. Outside a repository, or
in a shallow clone, the build goes on and says once what it could not know.
"""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

_FORMAT = "%x1e%H%x1f%an%x1f%ae%x1f%cI%x1f%s"


@dataclass(frozen=True, slots=True)
class Commit:
    hash: str
    author: str
    email: str
    committed: datetime  # with the committer's UTC offset
    subject: str
    order: int  # 0 for the newest commit in the log; larger is older

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
    complete: bool = False
    problem: str = ""  # what could not be known, said once as a warning

    def of(self, path: str) -> FileHistory | None:
        return self.files.get(path)


def _git(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, check=False)


def read_history(root: Path) -> History:
    """The history of everything under `root`, from one `git log` (paths relative to `root`)."""
    return start_history(root)()


def start_history(root: Path):
    """Start reading the history in the background (git runs on another core while the build reads the
    records); the function returned waits for it and gives the History."""
    out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()  # files, not pipes: git never waits on us
    try:
        inside = subprocess.Popen(["git", "-C", str(root), "rev-parse", "--is-inside-work-tree",
                                   "--is-shallow-repository"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        log = subprocess.Popen(["git", "-C", str(root), "-c", "core.quotepath=off", "log", f"--format={_FORMAT}",
                                "--name-status", "-M", "-z", "--relative", "--", "."], stdout=out, stderr=err)
    except OSError:
        out.close()
        err.close()
        return lambda: History(problem="git is not installed, so records have no provenance and no git flags")

    def finish() -> History:
        answer, _ = inside.communicate()
        log.wait()
        with out, err:
            out.seek(0)
            err.seek(0)
            text, problem = out.read(), err.read()
        if inside.returncode != 0:
            return History(problem="the site is not in a git repository, so records have no provenance "
                                   "and no git flags (late entry, amended after sign-off, author mismatch)")
        shallow = answer.split()[-1] == b"true"
        if log.returncode != 0:  # e.g. a repository with no commits yet
            return History(complete=not shallow, problem="" if b"does not have any commits" in problem
                           else "git log failed: " + problem.decode("utf-8", "replace").strip())
        files = _parse(text.decode("utf-8", "surrogateescape"))
        problem = ("this is a shallow clone: the first commit of older files is unknown, so git flags are not "
                   "computed (fetch the full history with `git fetch --unshallow`)") if shallow else ""
        return History(files, complete=not shallow, problem=problem)

    return finish


def patch(root: Path, commit: Commit, path: str) -> str:
    """What `commit` changed in `path` (a unified diff), for showing an amendment after sign-off."""
    result = _git(root, "-c", "core.quotepath=off", "show", "--format=", "--no-color", "-M", commit.hash,
                  "--relative", "--", path)
    return result.stdout.decode("utf-8", "replace") if result.returncode == 0 else ""


def _parse(text: str) -> dict[str, FileHistory]:
    commits_of: dict[str, list[Commit]] = {}
    renamed: dict[str, str] = {}  # an older name -> the name it has now
    for order, chunk in enumerate(c for c in text.split("\x1e") if c):
        header, _, changes = chunk.partition("\0")
        commit_hash, author, email, committed, subject = header.split("\x1f", 4)
        commit = Commit(commit_hash, author, email.lower(), datetime.fromisoformat(committed), subject, order)
        tokens = [t for t in changes.lstrip("\n").split("\0") if t]
        index = 0
        while index < len(tokens):
            status = tokens[index]
            if status[:1] in ("R", "C"):
                old, new = tokens[index + 1], tokens[index + 2]
                index += 3
                current = renamed.get(new, new)
                commits_of.setdefault(current, []).append(commit)
                if status[0] == "R":
                    renamed[old] = current
            else:
                path = tokens[index + 1]
                index += 2
                current = renamed.get(path, path)
                if status[0] == "D" and current == path:
                    continue  # a deleted file that no longer exists has no page to show
                commits_of.setdefault(current, []).append(commit)
    return {path: FileHistory(tuple(commits)) for path, commits in commits_of.items()}
