"""`check --staged`: check what is about to be committed (the git index), not the working tree.

Almost every staged file is byte for byte the one in the working tree, so only the others are taken out of
git: the index lists the files, `git diff` names those whose working copy differs, and `git cat-file` gives
their staged bytes (and those of files git is told not to compare: skip-worktree, assume-unchanged). The
rest are read (and found in the build cache) where they are. An index in an unusual state (a merge in
progress, links) is exported whole instead, as git's own `checkout-index` writes it.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from site_builder.history import read_blobs
from site_builder.read import FOLDERS, PEOPLE_FILE, RULES_FILE

_PATHS = [RULES_FILE, PEOPLE_FILE, *FOLDERS.values()]
_REGULAR = ("100644", "100755")


class StagedError(Exception):
    pass


@dataclass(frozen=True)
class Staged:
    """The site's files as the git index holds them."""

    paths: frozenset[str]  # every staged file under the site root (relative to it, forward slashes)
    blobs: dict[str, bytes]  # the staged bytes of those whose working-tree copy differs

    def under(self, folder: str) -> list[str]:
        """The staged files under `folder`, in the order a walk of the folder would find them."""
        inside = [path for path in self.paths if path.startswith(folder + "/")]
        return sorted(inside, key=lambda path: [(1, part) for part in path.split("/")[:-1]] + [(0, path)])


def _git(root: Path, *args: str, data: bytes | None = None) -> bytes:
    result = subprocess.run(["git", "--literal-pathspecs", "-C", str(root), *args], input=data, capture_output=True,
                            check=False)  # (a path is the file of that name, never a pattern)
    if result.returncode != 0:
        raise StagedError(f"--staged needs a git repository: {result.stderr.decode(errors='replace').strip()}")
    return result.stdout


def read_staged(root: Path) -> Staged | None:
    """The index as a Staged view of `root`, or None when it is in a state only an export shows exactly."""
    listed, unsure = {}, []
    for entry in _git(root, "ls-files", "-s", "-v", "-z", "--", *_PATHS).split(b"\0"):
        if not entry:
            continue
        info, _, name = entry.partition(b"\t")
        tag, mode, object_id, stage = info.decode().split(" ")
        if tag not in ("H", "S", "h", "s") or mode not in _REGULAR or stage != "0":
            return None
        path = name.decode("utf-8", "surrogateescape")
        listed[path] = object_id
        if tag != "H":  # skip-worktree or assume-unchanged: git does not compare the working copy
            unsure.append(path)
    for path in _intent_to_add(root, [path for path, object_id in listed.items() if object_id == _EMPTY_BLOB]):
        del listed[path]  # `git add -N`: named in the index, but nothing of it is committed until it is added
        if path in unsure:
            unsure.remove(path)
    differ = [path.decode("utf-8", "surrogateescape") for path in
              _git(root, "diff", "--name-only", "--no-renames", "--relative", "-z", "--", *_PATHS).split(b"\0")
              if path]
    wanted = sorted({path for path in differ if path in listed} | set(unsure))
    found = read_blobs(root, [listed[path] for path in wanted])
    if any(listed[path] not in found for path in wanted):
        raise StagedError("--staged could not read the staged files from git (`git cat-file` failed)")
    return Staged(frozenset(listed), {path: found[listed[path]] for path in wanted})


_EMPTY_BLOB = "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"


def _intent_to_add(root: Path, empty: list[str]) -> list[str]:
    """Of the index entries with no bytes, those only marked to be added (`git add -N`): neither in HEAD nor
    staged as new (git leaves them out of `diff --cached`), as opposed to empty files really staged."""
    if not empty:
        return []
    staged = set(_git(root, "diff", "--cached", "--name-only", "--no-renames", "--relative", "-z", "--",
                      *empty).decode("utf-8", "surrogateescape").split("\0"))
    try:
        committed = set(_git(root, "ls-tree", "-r", "--name-only", "-z", "HEAD", "--", *empty)
                        .decode("utf-8", "surrogateescape").split("\0"))
    except StagedError:  # no commit yet
        committed = set()
    return [path for path in empty if path not in staged and path not in committed]


@contextmanager
def staged_root(root: Path):
    """A temporary site root holding the staged versions of rules.yaml and content/ (git's own export)."""
    top = Path(_git(root, "rev-parse", "--show-toplevel").decode().strip())
    inside = os.path.relpath(root.resolve(), top.resolve())
    staged = _git(root, "ls-files", "-z", "--cached", "--", *_PATHS)
    with tempfile.TemporaryDirectory(prefix="site-builder-staged-") as temp:
        if staged:
            # ls-files names paths relative to `root`; checkout-index wants them relative to the top
            names = b"\0".join(os.path.normpath(os.path.join(inside, p.decode())).encode()
                               for p in staged.split(b"\0") if p)
            _git(top, "checkout-index", "-z", "--stdin", f"--prefix={temp}/", data=names + b"\0")
        yield Path(temp) / inside
