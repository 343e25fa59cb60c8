"""One digest of everything a build's output depends on, so an unchanged site is not rebuilt.

Content hashes, never modification times alone (a file's hash is reused only while its whole stat
signature is unchanged, see cache.py): the files under content/ and layouts/, rules.yaml, the
builder's own code, the git commit the history is read from, and the options that shape the output.
"""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
from pathlib import Path

from site_builder import limits
from site_builder.cache import FileDigests, code_fingerprint


def _file(path: str, digest, known: FileDigests | None = None) -> None:
    """A regular file's bytes (bounded); for anything else (FIFO, device, link), only what it is: the read
    stage reports it, and reading it here could block or never end."""
    try:
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode):
            target = os.readlink(path) if stat.S_ISLNK(info.st_mode) else ""
            digest.update(f"special {stat.S_IFMT(info.st_mode)} {target}".encode("utf-8", "surrogateescape"))
        elif info.st_size > limits.MAX_DATA_FILE_BYTES:
            digest.update(f"oversized {info.st_size} {info.st_mtime_ns}".encode())  # refused by the read stage
        elif known is not None:
            digest.update(known.digest(path, info, lambda: _read(path)))
        else:
            digest.update(hashlib.blake2b(_read(path), digest_size=16).digest())
    except OSError:
        digest.update(b"unreadable")


def _read(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


def _tree(base: Path, digest, label: str, known: FileDigests | None = None) -> None:
    if not base.exists():
        digest.update(f"absent {label}\n".encode())
        return
    if not base.is_dir():
        digest.update(f"file {label}\n".encode())
        _file(str(base), digest, known)
        return
    top = str(base)
    for directory, subdirs, files in os.walk(top):  # plain strings: pathlib costs more than the hashing
        subdirs[:] = sorted(d for d in subdirs if d != "__pycache__")
        prefix = directory[len(top) + 1:].replace(os.sep, "/")
        for name in sorted(files):
            rel = f"{prefix}/{name}" if prefix else name
            digest.update(f"file {rel}\n".encode("utf-8", "surrogateescape"))
            _file(os.path.join(directory, name), digest, known)


def _git_head(root: Path) -> str:
    try:
        result = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, check=False)
    except OSError:
        return "no git"
    return result.stdout.decode().strip() if result.returncode == 0 else "no commit"


def templates_fingerprint(layouts: list[Path]) -> str:
    """site-builder's own code and the layouts: what every page's rendering depends on."""
    digest = hashlib.blake2b(digest_size=20)
    digest.update(f"code {code_fingerprint()}\n".encode())
    for n, folder in enumerate(layouts):
        _tree(folder, digest, f"layouts {n}")
    return digest.hexdigest()


def inputs_fingerprint(root: Path, layouts: list[Path], known: FileDigests | None = None) -> str:
    """With `known`, files whose stat signature is unchanged since they were last hashed are not read."""
    digest = hashlib.blake2b(digest_size=20)
    digest.update(f"code {code_fingerprint()}\n".encode())
    _tree(root / "rules.yaml", digest, "rules", known)
    _tree(root / "content", digest, "content", known)
    for n, folder in enumerate(layouts):
        _tree(folder, digest, f"layouts {n}", known)
    digest.update(f"git {_git_head(root)}\n".encode())
    if known is not None:
        known.save()
    return digest.hexdigest()
