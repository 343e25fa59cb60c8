"""`hook install`: a plain git pre-commit hook that runs `site-builder check --staged`."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

MARK = "# installed by site-builder"


class HookError(Exception):
    pass


def hook_script(repo_top: Path, root: Path) -> str:
    relative = os.path.relpath(root, repo_top)
    return (
        "#!/bin/sh\n"
        f"{MARK}: refuses a commit whose staged content does not pass `site-builder check`.\n"
        "# Remove this file to stop checking; reinstall with `site-builder hook install`.\n"
        'top=$(git rev-parse --show-toplevel) || exit 1\n'
        # -P: never the site's own folder first on Python's path (a `site_builder/` committed to it would run instead)
        f'{shlex.quote(sys.executable)} -P -m site_builder check --staged '
        f'--root "$top"/{shlex.quote(relative)} && exit 0\n'
        'status=$?\n'
        "echo 'site-builder: commit refused (the staged files were checked): fix them, git add them, commit again' >&2\n"
        'exit $status\n'
    )


def install_hook(root: Path, force: bool = False) -> Path:
    """Write .git/hooks/pre-commit (or the repository's hooks path); never replaces a foreign hook
    unless `force`."""
    def git(*args: str) -> str:
        result = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise HookError(f"{root} is not in a git repository (git: {result.stderr.strip()})")
        return result.stdout.strip()

    top = Path(git("rev-parse", "--show-toplevel"))
    hooks = Path(git("rev-parse", "--git-path", "hooks"))
    hooks = Path(os.path.normpath(hooks if hooks.is_absolute() else root / hooks))  # (`site/../.git/hooks`: said plainly)
    hook = hooks / "pre-commit"
    if hook.exists() and MARK not in hook.read_text(encoding="utf-8", errors="replace") and not force:
        raise HookError(f"{hook} already exists and was not written by site-builder; add "
                        "`site-builder check --staged` to it yourself, or pass --force to replace it")
    hooks.mkdir(parents=True, exist_ok=True)
    hook.write_text(hook_script(top, root), encoding="utf-8")
    hook.chmod(0o755)
    return hook
