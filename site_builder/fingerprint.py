"""One digest of everything a build's output depends on, so an unchanged site is not rebuilt.

Content hashes, never modification times: the files under content/ and layouts/, rules.yaml, the
builder's own code, the git commit the history is read from, and the options that shape the output.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import site_builder

_CODE = Path(site_builder.__file__).resolve().parent


def _tree(base: Path, digest, label: str) -> None:
    if not base.exists():
        digest.update(f"absent {label}\n".encode())
        return
    if base.is_file():
        digest.update(f"file {label}\n".encode())
        digest.update(hashlib.blake2b(base.read_bytes(), digest_size=16).digest())
        return
    for directory, subdirs, files in os.walk(base):
        subdirs[:] = sorted(d for d in subdirs if d != "__pycache__")
        for name in sorted(files):
            path = Path(directory, name)
            digest.update(f"file {path.relative_to(base).as_posix()}\n".encode("utf-8", "surrogateescape"))
            try:
                digest.update(hashlib.blake2b(path.read_bytes(), digest_size=16).digest())
            except OSError:
                digest.update(b"unreadable")


def _git_head(root: Path) -> str:
    try:
        result = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, check=False)
    except OSError:
        return "no git"
    return result.stdout.decode().strip() if result.returncode == 0 else "no commit"


def inputs_fingerprint(root: Path, layouts: list[Path]) -> str:
    digest = hashlib.blake2b(digest_size=20)
    digest.update(f"site-builder {site_builder.__version__}\n".encode())
    _tree(_CODE, digest, "code")
    _tree(root / "rules.yaml", digest, "rules")
    _tree(root / "content", digest, "content")
    for n, folder in enumerate(layouts):
        _tree(folder, digest, f"layouts {n}")
    digest.update(f"git {_git_head(root)}\n".encode())
    return digest.hexdigest()
