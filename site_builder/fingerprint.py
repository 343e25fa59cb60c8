"""One digest of everything a build's output depends on, so an unchanged site is not rebuilt.

Content hashes, never modification times alone: the files of rules.yaml, content/ and the layouts, the
builder's own code, the git commit the history is read from. Knowing the hashes without reading every file
takes two steps, as git's index does (see cache.FileDigests):

- one `lstat` of every file gives the *listing*: each file's path and stat signature. When the listing is
  exactly the one of the last build, and that one was taken over two seconds after its newest file changed,
  the content digest stored with it still holds;
- otherwise each file whose signature is unchanged keeps its stored hash; the others are read and hashed.

On a large site the listing is taken by two processes, each walking half of the folders.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import stat
import subprocess
import time
from pathlib import Path

from site_builder import limits, workers
from site_builder.cache import RACY_NS, FileDigests, code_fingerprint

# the layouts shipped with site-builder: inside the package when it is installed from a wheel, else (from a
# checkout, or installed editable) the repository's own layouts/ beside the package
_PACKAGED = Path(__file__).resolve().parent / "layouts"
BUNDLED_LAYOUTS = _PACKAGED if _PACKAGED.is_dir() else _PACKAGED.parent.parent / "layouts"
_SPLIT_FROM = 20_000  # files in the last listing: below this a second process costs more than it saves


def layout_folders(root: Path) -> list[Path]:
    """Where templates are looked up: the site's layouts/, then the ones shipped with site-builder (both even
    when they are one folder, as when this repository is built: the fingerprints, and with them the output's
    manifest, are then those of any copy of it)."""
    own = root / "layouts"
    return [own, BUNDLED_LAYOUTS] if own.is_dir() else [BUNDLED_LAYOUTS]


class Listing:
    """Every file under some folders, one lstat each: full paths, and six numbers per file (mode, size,
    modification and change times in ns, inode, device) in one flat list (cheap to hash and to send)."""

    def __init__(self, paths: list[str] | None = None, numbers: list[int] | None = None,
                 unreadable: list[str] | None = None):
        self.paths = paths or []
        self.numbers = numbers or []
        self.unreadable = unreadable or []  # folders that could not be listed
        self._entries: dict | None = None

    def extend(self, other: "Listing") -> None:
        self.paths += other.paths
        self.numbers += other.numbers
        self.unreadable += other.unreadable
        self._entries = None

    def digest(self) -> bytes:
        digest = hashlib.blake2b(digest_size=20)
        digest.update("\0".join(self.paths).encode("utf-8", "surrogateescape"))
        digest.update(pickle.dumps((self.numbers, self.unreadable), protocol=pickle.HIGHEST_PROTOCOL))
        return digest.digest()

    def newest(self) -> int:
        """The latest modification or change time of any file (ns)."""
        times = self.numbers[2::6] + self.numbers[3::6]
        return max(times, default=0)

    def entries(self) -> dict[str, tuple]:
        """full path -> (mode, size, mtime_ns, ctime_ns, inode, device) (made once: hashing and reading ask)."""
        if self._entries is None:
            numbers = self.numbers
            self._entries = {path: tuple(numbers[6 * n:6 * n + 6]) for n, path in enumerate(self.paths)}
        return self._entries


def _list(folders: list[str], within: str | None, descend: bool = True) -> tuple[Listing, list[str]]:
    """The files under `folders` (only those directly in them unless `descend`), and, when not
    descending, the folders found in them. A link to a file inside the folder `within` counts as that file."""
    listing, found = Listing(), []
    paths, numbers = listing.paths, listing.numbers
    pending = list(folders)
    while pending:
        directory = pending.pop()
        try:
            with os.scandir(directory) as entries:
                for entry in entries:
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            (pending if descend else found).append(entry.path)
                            continue
                        info = entry.stat(follow_symlinks=False)
                    except OSError:
                        listing.unreadable.append(entry.path)
                        continue
                    paths.append(entry.path)
                    numbers += _numbers(entry.path, info, within)
        except OSError:
            listing.unreadable.append(directory)
    return listing, found


def _numbers(path: str, info: os.stat_result, within: str | None) -> tuple[int, ...]:
    """A file's six numbers in a listing. A symbolic link to a regular file inside the folder `within` (the
    site: the read stage follows such a link, as rules.yaml linked to a file elsewhere in the site) has the
    numbers of that file, under its own mode: editing that file changes the listing as editing the link's own
    would. Any other link has its own numbers (the read stage refuses it, and its target is never looked at)."""
    if stat.S_ISLNK(info.st_mode):
        followed = _followed(path, within)
        if followed is not None:
            return (info.st_mode, followed.st_size, followed.st_mtime_ns, followed.st_ctime_ns, followed.st_ino,
                    followed.st_dev)
    return info.st_mode, info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, info.st_dev


def _followed(link: str, within: str | None) -> os.stat_result | None:
    """The stat of the regular file `link` leads to, when that file is inside the folder `within` (a real path,
    links resolved); else None (dangling, a folder or a device, or outside: /proc/kmsg says it is a regular file
    and never ends). No link is followed without a `within`."""
    if not within:
        return None
    try:
        target = os.path.realpath(link)
        if not target.startswith(within + os.sep):
            return None
        followed = os.stat(target)
    except (OSError, ValueError):
        return None
    return followed if stat.S_ISREG(followed.st_mode) else None


def _walk_and_send(folders: list[str], within: str):
    """In a forked worker: its share of the walk, the digest first, the listing only if asked for."""
    listing, _ = _list(folders, within)
    yield listing.digest()
    yield listing.paths, listing.numbers, listing.unreadable


def _scan_folder(base: str, split: bool, within: str) -> tuple[bytes, Listing, workers.Forked | None]:
    """Walk one folder tree: (digest of its listing, the listing of the files this process walked, the
    worker that walked the rest or None). The first levels are listed until there are subtrees enough to
    share between two processes; with `split`, a forked worker walks every other one. The digest is the
    same whether the walk was shared or not."""
    listing, folders = Listing(), [base]
    while folders and len(folders) < 8:
        level, folders = _list(folders, within, descend=False)
        listing.extend(level)
        folders.sort()
    theirs, ours = folders[0::2], folders[1::2]
    digest = hashlib.blake2b(listing.digest(), digest_size=20)
    worker = workers.Forked(_walk_and_send, theirs, within) if split and len(folders) >= 2 else None
    if worker is None:
        shared = _list(theirs, within)[0]
        listing.extend(shared)
        digest.update(shared.digest())
    mine = _list(ours, within)[0]
    if worker is not None:
        try:
            digest.update(worker.next())
        except EOFError:  # the worker failed: walk its share here
            worker.close()
            worker, shared = None, _list(theirs, within)[0]
            listing.extend(shared)
            digest.update(shared.digest())
    listing.extend(mine)
    digest.update(mine.digest())
    return digest.digest(), listing, worker


class Inputs:
    """The input fingerprint of a site, and the lstat of every input file (taken once per build)."""

    def __init__(self, root: Path, layouts: list[Path], known: FileDigests | None = None, jobs: int = 1):
        self.trees = [("rules", root / "rules.yaml"), ("content", root / "content")] + \
            [(f"layouts {n}", folder) for n, folder in enumerate(layouts)]
        self.within = os.path.realpath(root)  # links to files inside the site count as those files
        started = time.time_ns()
        listing, digest, worker = Listing(), hashlib.blake2b(digest_size=20), None
        split = known is not None and jobs > 1 and known.count >= _SPLIT_FROM
        for label, base in self.trees:
            if base.is_dir():
                part, mine, helper = _scan_folder(str(base), split and label == "content", self.within)
                worker = worker or helper
                listing.extend(mine)
            elif os.path.lexists(base):
                single = _list_file(str(base), self.within)
                listing.extend(single)
                part = single.digest()
            else:
                part = b"absent"
            digest.update(f"{label} {base}".encode("utf-8", "surrogateescape") + b"\0" + part)
        self.listing_digest = digest.hexdigest()
        content = known.shortcut(self.listing_digest) if known is not None else None
        self._listing, self._worker = listing, worker
        if content is None:
            listing = self._whole_listing()
            content = self._content(listing, known, started)
            if known is not None:
                trusted = listing.newest() < started - RACY_NS
                known.remember(self.listing_digest if trusted else "", content, len(listing.paths))
        self.git = git_state(root)
        head = f"code {code_fingerprint()}\ngit {self.git}\ncontent {content}\n"
        self.fingerprint = hashlib.blake2b(head.encode(), digest_size=20).hexdigest()

    def _whole_listing(self) -> Listing:
        """The listing with the worker's share added (asked for only when needed: usually nothing changed)."""
        if self._worker is not None:
            try:
                paths, numbers, unreadable = self._worker.next()
                self._listing.extend(Listing(paths, numbers, unreadable))
            except EOFError:  # the worker failed after all: walk its share here
                self._listing.extend(_list(*self._worker.args)[0])  # (folders, within)
            finally:
                self.close()
        return self._listing

    def close(self) -> None:
        """End the worker, if it is still there."""
        if self._worker is not None:
            self._worker.close()
            self._worker = None

    def stats(self) -> dict[str, tuple]:
        """full path -> (mode, size, mtime_ns, ctime_ns, inode, device) of every input file."""
        return self._whole_listing().entries()

    def _content(self, listing: Listing, known: FileDigests | None, started: int) -> str:
        """The digest of every input file's bytes (or what it is, when it is not a regular file), folder by
        folder in order of their paths within their trees. A folder whose listing is the one `known` keeps
        gives the content digest kept with it, and its files are not looked at: an edit rereads one folder."""
        folders: dict[str, list[int]] = {}
        for n, path in enumerate(listing.paths):
            folders.setdefault(path.rpartition(os.sep)[0], []).append(n)
        named = [(label, str(base)) for label, base in self.trees]
        groups: dict[str, list[tuple[str, str, tuple]]] = {}  # name in its tree -> (file name, path, numbers)
        entries = listing.entries()  # (made once: the build reads the same stat numbers from it)
        for folder, members in folders.items():
            for label, base in named:
                if folder == base or folder.startswith(base + os.sep):
                    files = groups.setdefault(f"{label}/{folder[len(base) + 1:]}", [])
                    files += ((listing.paths[n][len(folder) + 1:], listing.paths[n], entries[listing.paths[n]])
                              for n in members)
                    break
            else:  # a tree that is one file (rules.yaml)
                for n in members:
                    path = listing.paths[n]
                    label = next((label for label, base in named if path == base), None)
                    if label is not None:
                        groups.setdefault(label, []).append(("", path, entries[path]))
        digest = hashlib.blake2b(digest_size=20)
        for name in sorted(groups):
            files = sorted(groups[name])
            digest.update(f"folder {name}\n".encode("utf-8", "surrogateescape"))
            digest.update(_folder_digest(name, files, known, started, self.within))
        for path in sorted(listing.unreadable):
            digest.update(f"unreadable {path}\n".encode("utf-8", "surrogateescape"))
        if known is not None:
            known.save()
        return digest.hexdigest()


def _folder_digest(folder: str, files: list[tuple[str, str, tuple]], known: FileDigests | None,
                   started: int, within: str) -> bytes:
    """The digest of the files directly in one folder of a tree: (name, full path, stat numbers) each."""
    listing = hashlib.blake2b(pickle.dumps([(name, numbers) for name, _, numbers in files],
                                           protocol=pickle.HIGHEST_PROTOCOL), digest_size=16).digest()
    # (taken over two seconds after the folder's newest change: a file changed again within the same clock
    # tick would not change the listing)
    trusted = max(max(numbers[2], numbers[3]) for _, _, numbers in files) < started - RACY_NS
    content = known.folder(folder, listing, trusted) if known is not None else None
    if content is not None:
        return content
    digest = hashlib.blake2b(digest_size=20)
    for name, path, numbers in files:
        stored = None if known is None else lambda sig, read, name=name: known.digest(folder, name, sig, read)
        digest.update(f"file {name}\n".encode("utf-8", "surrogateescape"))
        digest.update(_file_digest(path, numbers, stored, within))
    content = digest.digest()
    if known is not None:
        known.hashed(folder, listing, trusted, content)
    return content


def changed(files: dict[str, tuple | None], root: Path) -> list[str]:
    """Of `files` (full path -> their six numbers in the listing of the site `root`, or None for a file that was
    not in it), those whose numbers are not the same now (changed, replaced or gone since, and every one that
    was not in it): a file saved again changes its change time at least."""
    out, within = [], os.path.realpath(root)
    for path, numbers in files.items():
        try:
            now = _numbers(path, os.lstat(path), within)
        except OSError:
            now = None
        if numbers is None or now != numbers:  # (one that came, even if gone again: it was read)
            out.append(path)
    return out


def _list_file(path: str, within: str | None) -> Listing:
    try:
        info = os.lstat(path)
    except OSError:
        return Listing(unreadable=[path])
    return Listing([path], list(_numbers(path, info, within)))


def _file_digest(path: str, numbers: tuple, known=None, within: str | None = None) -> bytes:
    """A regular file's bytes (bounded); a link's target, and the bytes of the file it leads to when that is a
    file inside the site (`within`); for anything else (FIFO, device), only what it is: the read stage reports
    it, and reading it here could block or never end."""
    mode, size = numbers[0], numbers[1]
    try:
        if stat.S_ISLNK(mode):  # where it leads, and the bytes there when the read stage may read them
            led = f"special {stat.S_IFMT(mode)} {os.readlink(path)}".encode("utf-8", "surrogateescape")
            followed = _followed(path, within)
            if followed is not None and followed.st_size <= limits.MAX_DATA_FILE_BYTES:
                return led + b"\0" + hashlib.blake2b(_read(path), digest_size=16).digest()
            return led
        if not stat.S_ISREG(mode):
            return f"special {stat.S_IFMT(mode)}".encode()
        if size > limits.MAX_DATA_FILE_BYTES:
            return f"oversized {size} {numbers[2]}".encode()  # refused by the read stage
        if known is not None:  # known(signature, read) -> the stored hash, or read() hashed
            return known(numbers[1:], lambda: _read(path))
        return hashlib.blake2b(_read(path), digest_size=16).digest()
    except OSError:
        return b"unreadable"


def _read(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


def git_state(root: Path) -> str:
    """What of git the output depends on besides the files: whether the site is in a repository at all, the
    commit checked out, and where a shallow clone's history is cut off (`git fetch --unshallow` or
    `--deepen` changes what is known of it without moving HEAD)."""
    try:
        result = subprocess.run(["git", "-C", str(root), "rev-parse", "--is-inside-work-tree",
                                 "--is-shallow-repository", "--git-path", "shallow", "--verify", "-q",
                                 "HEAD^{commit}"], capture_output=True, check=False)
    except OSError:
        return "no git"
    lines = result.stdout.decode("utf-8", "surrogateescape").split("\n")
    if len(lines) < 3 or lines[0] != "true":
        return "not a repository"
    head = lines[3] if len(lines) > 3 and lines[3] else "no commit"
    cut = ""
    if lines[1] == "true":
        try:
            cut = hashlib.blake2b((root / lines[2]).read_bytes(), digest_size=16).hexdigest()
        except OSError:
            cut = "unknown"
    return f"{head} shallow {cut}" if lines[1] == "true" else head


def templates_fingerprint(layouts: list[Path]) -> str:
    """site-builder's own code and the layouts: what every page's rendering depends on."""
    digest = hashlib.blake2b(digest_size=20)
    digest.update(f"code {code_fingerprint()}\n".encode())
    for n, folder in enumerate(layouts):
        listing = _list([str(folder)], None)[0] if folder.is_dir() else _list_file(str(folder), None)
        for path, numbers in sorted(listing.entries().items()):
            digest.update(f"layouts {n}/{path[len(str(folder)) + 1:]}\n".encode("utf-8", "surrogateescape"))
            digest.update(_file_digest(path, numbers, None))
        for path in sorted(listing.unreadable):
            digest.update(f"unreadable {path}\n".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()
