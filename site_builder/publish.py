"""Publish stage: write the rendered files so that readers only ever see a complete site.

The new site is written to a staging folder beside the output, then swapped in with one atomic rename
(Linux renameat2 RENAME_EXCHANGE, or two renames with recovery elsewhere). A lock file beside the output
keeps two builds from publishing at once; the kernel releases it if a build dies. Everything written beside
the output is named `.site-builder-<output name>.*`, which the site's .gitignore ignores.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import glob
import os
import shutil
from contextlib import contextmanager
from pathlib import Path

MARKER = ".site-builder"
MARKER_TEXT = b"This folder is written by site-builder; it is replaced on every build.\n"
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


class PublishError(Exception):
    """The output cannot be written where asked; the message says why and what to do."""


@contextmanager
def output_lock(output: Path):
    """Hold an exclusive lock for `output` (waits for another build to finish)."""
    output.parent.mkdir(parents=True, exist_ok=True)
    with open(_beside(output, "lock"), "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _beside(output: Path, kind: str) -> Path:
    """A working file or folder next to the output (lock, staging-<pid>, old-<pid>)."""
    return output.parent / f".site-builder-{output.name}.{kind}"


def _leftovers(output: Path, kind: str) -> list[Path]:
    return sorted(output.parent.glob(glob.escape(_beside(output, kind).name) + "-*"))


def recover(output: Path) -> None:
    """Undo what a killed build left behind (called with the lock held)."""
    old = _leftovers(output, "old")
    if old and not output.exists():
        os.rename(old[-1], output)  # killed between the two renames of the fallback swap
    for path in _leftovers(output, "staging") + _leftovers(output, "old"):
        shutil.rmtree(path, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        result = libc.renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    except (AttributeError, OSError):
        return False
    if result == 0:
        return True
    if ctypes.get_errno() in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()), str(a))


def check_replaceable(output: Path) -> None:
    if output.exists() and not (output / MARKER).exists():
        if not output.is_dir() or any(output.iterdir()):
            raise PublishError(f"{output} exists and was not written by site-builder; refusing to replace it "
                               "(choose another --output, or empty that folder)")


def publish(files: dict[str, bytes], output: Path) -> None:
    """Replace `output` with exactly `files`, atomically."""
    check_replaceable(output)  # before the lock, so a refused folder gets no lock file beside it
    with output_lock(output):
        recover(output)
        check_replaceable(output)
        staging = _beside(output, f"staging-{os.getpid()}")
        staging.mkdir()
        try:
            for rel, data in sorted(files.items()):
                target = staging / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            (staging / MARKER).write_bytes(MARKER_TEXT)
            if not output.exists():
                os.rename(staging, output)
            elif not _exchange(staging, output):
                old = _beside(output, f"old-{os.getpid()}")
                os.rename(output, old)
                os.rename(staging, output)
                staging = old
        finally:
            shutil.rmtree(staging, ignore_errors=True)
