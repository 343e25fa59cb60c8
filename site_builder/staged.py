"""`check --staged`: check what is about to be committed (the git index), not the working tree."""

from __future__ import annotations

import os
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

from site_builder.read import FOLDERS, PEOPLE_FILE, RULES_FILE


class StagedError(Exception):
    pass


@contextmanager
def staged_root(root: Path):
    """A temporary site root holding the staged versions of rules.yaml and content/ (git's own export)."""
    def git(*args: str, data: bytes | None = None) -> bytes:
        result = subprocess.run(["git", "-C", str(root), *args], input=data, capture_output=True, check=False)
        if result.returncode != 0:
            raise StagedError(f"--staged needs a git repository: {result.stderr.decode(errors='replace').strip()}")
        return result.stdout

    top = Path(git("rev-parse", "--show-toplevel").decode().strip())
    inside = os.path.relpath(root.resolve(), top.resolve())
    paths = [RULES_FILE, PEOPLE_FILE, *FOLDERS.values()]
    staged = git("ls-files", "-z", "--cached", "--", *paths)
    with tempfile.TemporaryDirectory(prefix="site-builder-staged-") as temp:
        if staged:
            # ls-files names paths relative to `root`; checkout-index wants them relative to the top
            names = b"\0".join(os.path.normpath(os.path.join(inside, p.decode())).encode()
                               for p in staged.split(b"\0") if p)
            git("-C", str(top), "checkout-index", "-z", "--stdin", f"--prefix={temp}/", data=names + b"\0")
        yield Path(temp) / inside
