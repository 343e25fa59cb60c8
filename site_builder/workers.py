"""Worker processes for the stages that run on every core (reading records, rendering pages).

Workers are forked, so they start with the parent's data and only results travel back. A worker dies with
the build that forked it, instead of waiting for work for ever or writing after the build was killed. Ctrl-C
is the build's to handle (it says "interrupted" and ends its workers): workers ignore it, so that a terminal's
interrupt, which reaches every process of the group, does not make each of them print a traceback.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import pickle
import signal
import threading


def pool(jobs: int):
    """A pool of `jobs` forked workers that end when this process ends."""
    main = threading.current_thread() is threading.main_thread()  # (signals can be set there only)
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None  # inherited by the workers
    try:
        return multiprocessing.get_context("fork").Pool(jobs, initializer=_die_with_parent, initargs=(os.getpid(),))
    finally:
        if main:
            signal.signal(signal.SIGINT, previous)


def _die_with_parent(parent: int) -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (AttributeError, OSError):
        pass  # not Linux: publish.Writer still stops an orphan's writes
    if os.getppid() != parent:  # the build died before the line above took effect
        os._exit(1)


class Forked:
    """A generator function run in one forked child; the values it yields come back one at a time.
    `next()` raises EOFError when the child has no more to send (or failed); `close()` ends it."""

    def __init__(self, function, *args):
        self.args = args
        read, write = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # the child: send every value, then leave without running the parent's cleanup
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            os.close(read)
            try:
                with os.fdopen(write, "wb") as out:
                    for value in function(*args):
                        pickle.dump(value, out, protocol=pickle.HIGHEST_PROTOCOL)
                        out.flush()
            finally:
                os._exit(0)
        os.close(write)
        self._pipe = os.fdopen(read, "rb")

    def next(self):
        try:
            return pickle.load(self._pipe)
        except (OSError, pickle.UnpicklingError) as exc:
            raise EOFError(str(exc)) from exc

    def close(self) -> None:
        self._pipe.close()
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(self.pid, 0)
