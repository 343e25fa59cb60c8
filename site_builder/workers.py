"""Worker processes for the stages that run on every core (reading records, rendering pages).

Workers are forked, so they start with the parent's data and only results travel back. A worker dies with
the build that forked it, instead of waiting for work for ever or writing after the build was killed.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal


def pool(jobs: int):
    """A pool of `jobs` forked workers that end when this process ends."""
    return multiprocessing.get_context("fork").Pool(jobs, initializer=_die_with_parent, initargs=(os.getpid(),))


def _die_with_parent(parent: int) -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (AttributeError, OSError):
        pass  # not Linux: publish.Writer still stops an orphan's writes
    if os.getppid() != parent:  # the build died before the line above took effect
        os._exit(1)
