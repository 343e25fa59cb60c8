"""Publish stage: write the rendered files so that readers only ever see a complete site.

The new site is written to a staging folder beside the output, then swapped in with one atomic rename
(Linux renameat2 RENAME_EXCHANGE, or two renames with recovery elsewhere). A lock file beside the output
keeps two builds from publishing at once; the kernel releases it if a build dies. Everything written beside
the output is named `.site-builder-<output name>.*`, which the site's .gitignore ignores.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import errno
import fcntl
import glob
import os
import shutil
from contextlib import contextmanager
from pathlib import Path

from site_builder import __version__

MARKER = ".site-builder"  # the manifest of a published site: what it holds and what it was built from
GENERATOR = f"site-builder {__version__}"
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


class PublishError(Exception):
    """The output cannot be written where asked; the message says why and what to do."""


@contextmanager
def output_lock(output: Path):
    """Hold an exclusive lock for `output` (waits for another build to finish)."""
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        handle = open(_beside(output, "lock"), "a+b")
    except OSError as exc:
        blocked = isinstance(exc, (FileExistsError, NotADirectoryError)) and exc.filename \
            and Path(exc.filename).exists() and not Path(exc.filename).is_dir()
        why = f"{exc.filename} is a file, not a folder" if blocked else f"{exc.strerror or exc} ({exc.filename})"
        raise PublishError(f"cannot write the site to {output}: {why}; choose another --output") from None
    with handle:
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
    for path in _leftovers(output, "stamps"):
        path.unlink(missing_ok=True)


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


class Writer:
    """Writes output files into a staging folder. A file whose bytes equal the published copy's is
    hard-linked from it instead: unchanged files keep their inode, and no new inode is allocated.

    The staging folder may start as the spare release (the site as published two builds ago, with
    `base` its path -> digest): files whose bytes are already right there are left alone, the others are
    replaced by rename (never written into: a spare file may share its inode with a published one), and
    `remove_stale` deletes what the new site no longer has."""

    def __init__(self, staging: Path, published: Path, previous: dict[str, str],
                 previous_keys: dict[str, str] | None = None, base: dict[str, str] | None = None):
        self.staging = staging
        self.published = published
        self.previous = previous  # path -> digest of the published site
        self.previous_keys = previous_keys or {}  # path -> key of everything the published page was made from
        self.base = base or {}  # path -> digest of the files already in the staging folder
        self.written: dict[str, str] = {}
        self.keys: dict[str, str] = {}
        self.mended: set[str] = set()  # files the manifests said were right that had been edited by hand
        self.inputs = ""  # the input fingerprint the manifest is to name (publishing() sets it)
        self._folders: set[str] = set()
        self._staging, self._published = str(staging) + os.sep, str(published) + os.sep
        self._owner = os.getpid()

    def reuse_all(self, keyed: list[tuple[str, str | None]]) -> list[int]:
        """Take each published file made from exactly the same inputs (its dependency key) instead of making
        it again; return the numbers of the others, which are to be made (their keys are noted for the next
        build). A key of None means "always made". One tight loop: it runs for every page of the site."""
        previous, previous_keys, base, written, keys = \
            self.previous, self.previous_keys, self.base, self.written, self.keys
        todo = []
        for n, (rel, key) in enumerate(keyed):
            if key is None:
                todo.append(n)
                continue
            digest = previous.get(rel)
            if digest is not None and previous_keys.get(rel) == key and \
                    (base.get(rel) == digest or self._link_published(rel, digest)):
                written[rel] = digest
            else:
                todo.append(n)
            keys[rel] = key
        return todo

    def _link_published(self, rel: str, digest: str) -> bool:
        source = self._published + rel  # plain strings: this can run for every unchanged page
        try:
            if os.stat(source).st_size != _size(digest):
                return False  # edited by hand since: make it again
            self._link(source, rel)
        except OSError:
            return False
        return True

    def write(self, rel: str, data: bytes) -> None:
        if os.getpid() != self._owner and os.getppid() != self._owner:
            # a render worker whose build was killed: writing on would refill a folder the next build removes
            raise PublishError("the build this process rendered for has stopped")
        digest = f"{hashlib.blake2b(data, digest_size=16).hexdigest()}:{len(data)}"
        self.written[rel] = digest
        # a file the manifests say has these bytes is kept or linked only if it still has them: a published
        # file edited in place by hand (`>>`, an editor that keeps hard links) is edited in the spare too
        if self.base.get(rel) == digest:
            if _holds(self._staging + rel, data):
                return
            self.mended.add(rel)
        if self.previous.get(rel) == digest:
            if _holds(self._published + rel, data):
                try:
                    self._link(self._published + rel, rel)
                    return
                except OSError:
                    pass  # a filesystem without hard links: write it
            else:
                self.mended.add(rel)
        self._folder_of(rel)
        target = self._staging + rel
        temp = target + _NEW if rel in self.base else target
        with open(temp, "wb") as handle:
            handle.write(data)
        if temp != target:
            os.replace(temp, target)

    def _link(self, source: str, rel: str) -> None:
        self._folder_of(rel)
        target = self._staging + rel
        if rel in self.base:
            os.link(source, target + _NEW)
            os.replace(target + _NEW, target)
        else:
            os.link(source, target)

    def _folder_of(self, rel: str) -> None:
        """Create the staging folder `rel` goes in, once."""
        folder = rel.rpartition("/")[0]
        if folder not in self._folders:
            os.makedirs(os.path.join(self.staging, folder), exist_ok=True)
            self._folders.add(folder)

    def remove_stale(self) -> None:
        """Delete the spare release's files that the new site does not have, and folders left empty."""
        folders = set()
        for rel in self.base.keys() - self.written.keys():
            try:
                os.unlink(self._staging + rel)
            except FileNotFoundError:
                pass
            folders.add(rel.rpartition("/")[0])
        for folder in sorted(folders, key=lambda f: -f.count("/")):
            while folder:
                try:
                    os.rmdir(self._staging + folder)
                except OSError:
                    break  # not empty
                folder = folder.rpartition("/")[0]


_NEW = ".site-builder-new"


def _holds(path: str, data: bytes) -> bool:
    """The file at `path` holds exactly `data` (read only when its size says it may)."""
    try:
        if os.stat(path).st_size != len(data):
            return False
        with open(path, "rb") as handle:
            return handle.read() == data
    except OSError:
        return False


def _size(digest: str) -> int:
    return int(digest.rsplit(":", 1)[-1])


def read_manifest(output: Path, head_only: bool = False, files_only: bool = False) -> dict:
    """The published site's marker, three lines of JSON: a head {"generator", "inputs", "pages", "count"}, then
    {"files": {path: digest}}, then {"keys": {path: dependency key}}. {} when absent or damaged (then nothing
    is trusted: every file is written anew). With `head_only` only the head is read, with `files_only` the
    keys are not (each line is large on a large site)."""
    try:
        with open(output / MARKER, encoding="utf-8") as handle:
            manifest = json.loads(handle.readline())
            if not isinstance(manifest, dict) or manifest.get("generator") != GENERATOR:
                return {}
            if head_only:
                return manifest
            manifest.update(json.loads(handle.readline()))
            if not files_only:
                manifest.update(json.loads(handle.readline()))
    except (OSError, ValueError):
        return {}
    files, keys = manifest.get("files"), manifest.get("keys")
    if not isinstance(files, dict) or not (files_only or isinstance(keys, dict)):
        return {}
    if keys:  # made of the same path strings as `files` (each line is parsed into strings of its own)
        manifest["keys"] = {rel: key for rel in files if (key := keys.get(rel)) is not None}
    return manifest


def _folder_stamps(top: Path, files) -> tuple[list[str], dict[str, int]]:
    """The names at the top of a published folder, and the modification time of each folder its `files`
    are in (every folder of a release holds some of them): a file added, removed or renamed anywhere
    changes the time of its folder."""
    folders: set[str] = set()
    for rel in files:
        folder = rel.rpartition("/")[0]
        while folder and folder not in folders:
            folders.add(folder)
            folder = folder.rpartition("/")[0]
    base = str(top) + os.sep
    return sorted(os.listdir(top)), {folder: os.stat(base + folder).st_mtime_ns for folder in sorted(folders)}


def intact(output: Path, stamps: Path | None = None) -> bool:
    """The published folder is as the build left it: nobody added, removed or renamed a file by hand
    (compared with the stamps taken when it was published: a change anywhere changes the modification
    time of a folder that was there, so each of those is asked once, and nothing is walked)."""
    try:
        with open(stamps or _beside(output, "stamps"), encoding="utf-8") as handle:
            stored = json.load(handle)
        if sorted(os.listdir(output)) != stored["top"]:
            return False
        base = str(output)
        return all(os.lstat(os.path.join(base, folder)).st_mtime_ns == stamp
                   for folder, stamp in stored["folders"].items())
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return False


def _stamp(output: Path, files) -> None:
    names, stamps = _folder_stamps(output, files)
    temp = _beside(output, f"stamps-{os.getpid()}")
    temp.write_text(json.dumps({"top": names, "folders": stamps}), encoding="utf-8")
    os.replace(temp, _beside(output, "stamps"))


@contextmanager
def publishing(output: Path, inputs: str = "", reuse: bool = True, keyed_by: str = ""):
    """Yield a Writer into a staging folder; when the block completes, the staging folder replaces
    `output` in one atomic swap. On any exception nothing is published and `output` stays as it was.
    Without `reuse`, no page is taken from the last build by its dependency key; nor when the published
    pages' keys started from another `keyed_by` than this build's (deps.PageKeys.base: none could match, and
    on a large site their list is large).

    The release that is swapped out is kept beside the output as the spare, and becomes the next build's
    staging folder: a build then touches only the files that changed, not every file of the site."""
    check_replaceable(output)  # before the lock, so a refused folder gets no lock file beside it
    with output_lock(output):
        try:
            yield from _publish(output, inputs, reuse, keyed_by)
        except OSError as exc:  # a full disk, a folder made read-only: said as such, never as a bug
            full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
            raise PublishError(f"cannot write the site to {output}: {exc.strerror or exc}"
                               f"{f' ({exc.filename})' if exc.filename else ''}; nothing was published "
                               f"({'free some space, or ' if full else ''}choose another --output"
                               f"{'' if full else ', or make that folder writable'})") from None


def _publish(output: Path, inputs: str, reuse: bool, keyed_by: str):
    """publishing(), with the lock held."""
    recover(output)
    check_replaceable(output)
    staging = _beside(output, f"staging-{os.getpid()}")
    umask = output_umask()
    reuse = reuse and read_manifest(output, head_only=True).get("keyed_by") == keyed_by
    previous = read_manifest(output, files_only=not reuse)
    if previous.get("umask") != umask:  # made under another umask: no file of it is reused (one mode for all)
        previous = {}
    base = _take_spare(output, staging, umask)
    try:
        files = previous.get("files", {})
        base = _shared(base, files)  # and the spare manifest's own strings are let go
        mended = previous.get("mended")  # edited by hand in the release now the spare (it shared their inodes)
        for rel in mended if isinstance(mended, list) else ():  # and put right in the published one since:
            if isinstance(rel, str) and rel in base:  # the spare's copies are not right
                base[rel] = ""
        writer = Writer(staging, output, files, previous.get("keys", {}) if reuse else {}, base)
        writer.inputs = inputs
        yield writer
        writer.remove_stale()
        # the last build's lists are done with: let them go before the new manifest is put into words
        writer.previous = writer.previous_keys = writer.base = {}
        del previous, files, base
        head = {"generator": GENERATOR, "inputs": writer.inputs, "umask": umask, "keyed_by": keyed_by,
                "pages": sum(path.endswith(".html") for path in writer.written),
                "count": len(writer.written)}
        if writer.mended:
            head["mended"] = sorted(writer.mended)
        with open(staging / MARKER, "w", encoding="utf-8") as handle:  # in pieces: it is large on a large site
            handle.write(json.dumps(head, ensure_ascii=False) + "\n")
            for name, value in (("files", writer.written), ("keys", writer.keys)):
                handle.write(json.dumps({name: value}, ensure_ascii=False, sort_keys=True) + "\n")
        stamps = _beside(output, "stamps")
        if stamps.exists():  # they describe the release being swapped out: the spare from now on
            os.replace(stamps, _beside(output, "spare-stamps"))
        if not output.exists():
            os.rename(staging, output)
        elif not _exchange(staging, output):
            old = _beside(output, f"old-{os.getpid()}")
            os.rename(output, old)
            os.rename(staging, output)
            staging = old
        _stamp(output, writer.written)
        if staging.exists():
            try:
                os.rename(staging, _beside(output, "spare"))
            except OSError:
                pass  # e.g. an old spare could not be removed: the next build starts from an empty folder
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def output_umask() -> int:
    """This process's umask, which gives new files and folders their modes (0644 and 0755 under the usual
    022): every file and folder of a release has the modes of one umask, so files and folders are reused only
    from a release made under the same one."""
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


def _shared(base: dict[str, str], previous: dict[str, str]) -> dict[str, str]:
    """`base` made of the same string objects as `previous` where they agree: both name every file of a
    large site, and the memory of a rebuild is what it holds beyond a build from nothing."""
    out = {rel: digest if base.get(rel) == digest else base[rel] for rel, digest in previous.items() if rel in base}
    out.update((rel, digest) for rel, digest in base.items() if rel not in out)
    return out


def _take_spare(output: Path, staging: Path, umask: int) -> dict[str, str]:
    """Make the spare release the staging folder and return its files (path -> digest); when there is
    none, or it is not exactly as it was published (under this `umask`), start from an empty folder."""
    spare, stamps = _beside(output, "spare"), _beside(output, "spare-stamps")
    if spare.is_dir() and not spare.is_symlink():
        manifest = read_manifest(spare, files_only=True)
        if manifest and manifest.get("umask") == umask and intact(spare, stamps):
            stamps.unlink()
            os.rename(spare, staging)
            (staging / MARKER).unlink()
            return manifest["files"]
        shutil.rmtree(spare, ignore_errors=True)
    stamps.unlink(missing_ok=True)
    staging.mkdir()
    return {}
