"""The build cache: records already read and validated, kept between builds so that an unchanged record
is not read, parsed or validated again.

An entry is keyed by the file's path and content hash and holds the validated record (None when it
failed) with the diagnostics its file produced. A cache file counts only when it was written by this
exact builder (a fingerprint of its code) for the same rules.yaml and people.yaml, the context every record
is validated against. To know a file's content hash without reading it, an entry keeps the file's stat
signature (size, modification and change times, inode), as git's index does; a signature taken less than
two seconds before the cache was written is not kept, since a file changed again within the same clock
tick would look unchanged.

The cache is only ever a shortcut: a damaged or foreign cache file is discarded with a warning and its
records are read again. It lives outside the site (`$SITE_BUILDER_CACHE`, else `$XDG_CACHE_HOME` or
`~/.cache`, then `site-builder/<hash of the site's path>/`), so nothing committed to a site can plant one:
entries are pickles, which only the builder itself may write.
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import pickle
import stat
import tempfile
import time
import zlib
from pathlib import Path

import site_builder
from site_builder.diagnostics import Diagnostics, Pos

SHARDS = 64  # a one-record edit rewrites one shard: ~1/64 of the entries
_CODE = Path(site_builder.__file__).resolve().parent
RACY_NS = 2_000_000_000


# the libraries whose versions shape what is kept and published: Markdown bodies and their sanitizing are kept as
# HTML in the build cache, and YAML and Jinja make the rest
_LIBRARIES = ("jinja2", "markupsafe", "markdown", "nh3", "pyyaml")


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """site-builder's version, the bytes of its code and the versions of the libraries it renders with (worked
    out once per process: the code that runs). Upgrading one of those is a new builder to the build cache."""
    from importlib import metadata

    digest = hashlib.blake2b(f"site-builder {site_builder.__version__}".encode(), digest_size=16)
    for path in sorted(_CODE.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    for name in _LIBRARIES:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "absent"
        digest.update(f"\0{name} {version}".encode())
    return digest.hexdigest()


def cache_root() -> Path:
    explicit = os.environ.get("SITE_BUILDER_CACHE")
    if explicit:
        return Path(explicit)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "site-builder"


def site_folder(root: Path) -> Path:
    """This site's cache folder."""
    return cache_root() / hashlib.blake2b(os.fsencode(root.resolve()), digest_size=8).hexdigest()


def cache_problem(root: Path) -> str:
    """Why this site's cache folder cannot be used (made, or written in), or "": a build or check then works
    without the cache, and says so once (not once per cache file)."""
    folder = site_folder(root)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return exc.strerror or str(exc)
    return "" if os.access(folder, os.W_OK | os.X_OK) else "it cannot be written in"


def unusable_cache(diags: Diagnostics, root: Path, problem: str) -> None:
    diags.warning(Pos("."), "cache-unusable", f"the build cache folder {site_folder(root)} cannot be used "
                  f"({problem}), so everything is read and rendered again",
                  "set SITE_BUILDER_CACHE to a folder you can write in, or make that one usable")


def write_atomically(path: Path, *values) -> None:
    """Pickle `values` one after the other into `path`, replacing it in one rename."""
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix="." + path.name)
    with os.fdopen(handle, "wb") as out:
        for value in values:
            pickle.dump(value, out, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(temp, path)


class FileDigests:
    """What the files a build depends on held, so that a site whose files are unchanged is recognised
    without reading them (see the module's note on signatures), kept per folder: for each folder, the digest
    of its listing (its files' names and stat numbers), the content digest that listing stood for, and its
    files' (stat signature, content hash). A folder whose listing is unchanged keeps its content digest
    without a look at its files; in a changed folder, only files whose signature changed are read. And, in
    a small file of its own, the digest of the last listing of every input file with the content digest it
    stood for (see fingerprint.py)."""

    _HEADER = "site-builder file digests 3"

    def __init__(self, root: Path):
        self.file = site_folder(root) / "digests.pickle"
        self.listing_file = site_folder(root) / "listing.pickle"
        # folder -> (listing digest, trusted, content digest, its files pickled), loaded when first needed
        self._known: dict | None = None
        self._kept: dict = {}  # what this run keeps, in the same shape
        self._files: dict = {}  # folder -> name -> (signature, hash): of the folders being hashed now
        self.problem = ""  # why the stored digests were discarded
        self.damaged = self.file  # which file that was
        self._listing = self._load(self.listing_file, tuple) or ("", "", 0)
        self.count = self._listing[2]  # files in the last listing

    def _load(self, file: Path, kind: type):
        try:
            with open(file, "rb") as handle:
                header, value = pickle.load(handle)
            if header == self._HEADER and isinstance(value, kind):
                return value
            self.problem = "written by another version of site-builder"
        except FileNotFoundError:
            return None
        except Exception:  # noqa: BLE001 - any damage at all: every file is hashed
            self.problem = "damaged"
        self.damaged = file
        return None

    def report(self, diags: Diagnostics) -> None:
        if self.problem:
            diags.warning(Pos("."), "cache-discarded", f"the build cache file {self.damaged} was {self.problem} "
                          "and discarded", "nothing to do: the files are hashed again and the cache is rewritten")

    def shortcut(self, listing: str) -> str | None:
        """The content digest stored with this listing digest, if it is the last one (and was worked out
        by this very builder)."""
        digest, content, _ = self._listing[:3]
        same_code = self._listing[3:] == (code_fingerprint(),)
        return content if digest and digest == listing and same_code and isinstance(content, str) else None

    def remember(self, listing: str, content: str, count: int) -> None:
        """Keep the content digest for this listing ('' when it was taken too soon after a change)."""
        value = (listing, content, count, code_fingerprint())
        if self._listing != value:
            self._listing = value
            self._write(self.listing_file, value)

    def folder(self, folder: str, listing: bytes, trusted: bool) -> bytes | None:
        """The content digest of the files in `folder` when its listing is the stored one, and both that
        one and this were taken over two seconds after the newest change in the folder (`trusted`);
        else None, and the folder's files are hashed with `digest`."""
        if self._known is None:
            self._known = self._load(self.file, dict) or {}
        stored = self._known.get(folder)
        if stored is not None and stored[0] == listing and stored[1] and trusted:
            self._kept[folder] = stored
            return stored[2]
        self._files[folder] = {}
        return None

    def digest(self, folder: str, name: str, sig: tuple, read) -> bytes:
        """The content hash of the regular file `name` in `folder` (its stat signature); `read()` gives its
        bytes, read only when the signature is not the stored one."""
        stored = self._known.get(folder)
        if stored is not None and not isinstance(stored[3], dict):  # unpacked once, when first asked
            self._known[folder] = stored = (*stored[:3], pickle.loads(stored[3]))
        known = stored[3].get(name) if stored is not None else None
        same = known is not None and known[0] == sig
        digest = known[1] if same else hashlib.blake2b(read(), digest_size=16).digest()
        self._files[folder][name] = (sig, digest)
        return digest

    def hashed(self, folder: str, listing: bytes, trusted: bool, content: bytes) -> None:
        """Keep the content digest of a folder whose files were just hashed."""
        racy_from = time.time_ns() - RACY_NS
        files = {name: entry for name, entry in self._files.pop(folder).items()
                 if max(entry[0][1], entry[0][2]) < racy_from}
        self._kept[folder] = (listing, trusted, content, pickle.dumps(files, protocol=pickle.HIGHEST_PROTOCOL))

    def save(self) -> None:
        """Write what this run kept (the folders listed now), if it is not what was stored."""
        known = {folder: entry[:3] for folder, entry in (self._known or {}).items()}
        if known != {folder: entry[:3] for folder, entry in self._kept.items()}:
            self._write(self.file, self._kept)
        self._known, self._kept = None, {}  # done with: the memory is the build's from here on

    def _write(self, file: Path, value) -> None:
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(file, (self._HEADER, value))
        except OSError:
            pass


def signature(info: os.stat_result) -> tuple | None:
    """What tells a file's bytes unchanged without reading them; None for anything but a regular file."""
    if not stat.S_ISREG(info.st_mode):
        return None
    return (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, info.st_dev)


class RecordCache:
    """Validated records by path, for one site root and one validation context."""

    def __init__(self, root: Path, context: str):
        self.folder = site_folder(root)
        self.header = ("site-builder record cache", code_fingerprint(), context)
        self._shards: list[dict | None] = [None] * SHARDS  # loaded lazily: path -> (signature, entry)
        self._dirty: set[int] = set()
        self.problems: list[tuple[str, str]] = []  # (cache file, why it was discarded)

    @staticmethod
    def _shard(path: str) -> int:
        return zlib.crc32(path.encode("utf-8", "surrogateescape")) % SHARDS

    def _load(self, n: int) -> dict:
        shard = self._shards[n]
        if shard is None:
            shard = {}
            file = self.folder / f"records-{n:02d}.pickle"
            try:
                with open(file, "rb") as handle:
                    header, entries = pickle.load(handle)
                if header == self.header and isinstance(entries, dict):
                    shard = entries
                else:
                    if header[:2] != self.header[:2]:  # another builder (a changed context is expected)
                        self.problems.append((file.name, "written by another version of site-builder"))
                    self._dirty.add(n)
            except FileNotFoundError:
                pass
            except Exception:  # noqa: BLE001 - any damage at all: the cache is not trusted
                self.problems.append((file.name, "damaged"))
                self._dirty.add(n)
            self._shards[n] = shard
        return shard

    def lookup(self, path: str, sig: tuple, read_digest) -> tuple | None:
        """The cached entry (content hash, record, diagnostics) for the file at `path` if its bytes are
        those cached, else None. `read_digest()` hashes the file; it is called only when the signature
        does not settle it."""
        cached = self._load(self._shard(path)).get(path)
        if cached is None:
            return None
        cached_sig, entry = cached
        if cached_sig == sig:
            return entry
        try:
            same = read_digest() == entry[0]  # touched, checked out again, copied: same bytes
        except OSError:
            return None
        if same:
            self.store(path, sig, entry)
            return entry
        return None

    def store(self, path: str, sig: tuple | None, entry: tuple) -> None:
        n = self._shard(path)
        self._load(n)[path] = (sig, entry)
        self._dirty.add(n)

    def keep_only(self, paths: set[str]) -> None:
        """Forget files that are gone."""
        for n in range(SHARDS):
            shard = self._load(n)
            gone = [p for p in shard if p not in paths]
            for path in gone:
                del shard[path]
            if gone:
                self._dirty.add(n)

    def save(self) -> None:
        """Write the shards that changed, each atomically (two builds at once each write whole files)."""
        if not self._dirty:
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            racy_from = time.time_ns() - RACY_NS
            for n in sorted(self._dirty):
                entries = {path: (sig if sig is None or max(sig[1], sig[2]) < racy_from else None, entry)
                           for path, (sig, entry) in self._shards[n].items()}
                write_atomically(self.folder / f"records-{n:02d}.pickle", (self.header, entries))
        except OSError:
            pass  # a read-only or full disk: the next build reads the records again
        self._dirty.clear()

    def report(self, diags: Diagnostics) -> None:
        _report_discarded(diags, self.folder, self.problems, "those records are read again")


def _report_discarded(diags: Diagnostics, folder: Path, problems: list[tuple[str, str]], redone: str) -> None:
    """One warning for the cache files that were discarded, by reason: (file name, reason) each."""
    reasons: dict[str, list[str]] = {}
    for name, reason in sorted(problems):
        reasons.setdefault(reason, []).append(name)
    for reason, names in sorted(reasons.items()):
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        diags.warning(Pos("."), "cache-discarded",
                      f"{len(names)} build cache file{'s' * (len(names) != 1)} in {folder} "
                      f"{'were' if len(names) != 1 else 'was'} {reason} and discarded ({shown})",
                      f"nothing to do: {redone} and the cache is rewritten")


class _Kept:
    """A dict kept between builds in one file of the build cache, trusted only when this very builder wrote it
    (a damaged or foreign file is discarded, and said once). Without a file, it lives for one process."""

    _HEADER = ""
    _REDONE = ""  # what a build does instead of trusting a discarded file

    def __init__(self, file: Path | None, scope: str = ""):
        self.file = file
        self.scope = scope  # what it was kept for: a dict kept for another scope is of no use (and not loaded)
        self._known: dict = {}
        self._used: dict = {}  # what this run used: what is kept for the next
        self.problem = ""  # why the stored dict was discarded
        if file is not None:
            try:
                with open(file, "rb") as handle:
                    header = pickle.load(handle)
                    if header == (self._HEADER, code_fingerprint(), scope):
                        known = pickle.load(handle)
                        if not isinstance(known, dict):
                            raise TypeError("not a dict")
                        self._known = known
                    elif not (isinstance(header, tuple) and header[:2] == (self._HEADER, code_fingerprint())):
                        self.problem = "written by another version of site-builder"
            except FileNotFoundError:
                pass
            except Exception:  # noqa: BLE001 - any damage at all: nothing of it is trusted
                self.problem = "damaged"

    def report(self, diags: Diagnostics) -> None:
        if self.problem:
            diags.warning(Pos("."), "cache-discarded", f"the build cache file {self.file} was {self.problem} "
                          "and discarded", f"nothing to do: {self._REDONE} and the cache rewritten")

    def _write(self, value: dict) -> None:
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(self.file, (self._HEADER, code_fingerprint(), self.scope), value)
        except OSError:
            pass


class Fragments(_Kept):
    """Pieces of the site-wide data files (one period's rows of findings.csv, say) by name, each with the
    dependency key it was made from, kept between builds: a file is put together from the pieces, and
    only the pieces whose key changed are made again. Without a root, pieces live for one process."""

    _HEADER = "site-builder fragments 2"
    _REDONE = "the data files are made again"

    def __init__(self, root: Path | None = None, keyed_by: str = ""):
        """`keyed_by`: what every key starts from (deps.PageKeys.base): pieces kept under another are never used,
        so they are not loaded (a rules.yaml or layout edit remakes them all)."""
        super().__init__(site_folder(root) / "fragments.pickle" if root is not None else None, keyed_by)

    def get(self, name: str, key: str, make) -> str:
        """The piece `name` made from inputs with dependency `key`: kept, or `make()` now."""
        known = self._known.get(name)
        text = known[1] if known is not None and known[0] == key else make()
        self._used[name] = (key, text)
        return text

    def save(self) -> None:
        """Keep the pieces used by this build (and only those)."""
        if self.file is not None and self._used != self._known:
            self._write(self._used)


class Answers(_Kept):
    """What git said of things that never change once committed (what an appeal decided in a given commit), by
    name, kept between builds so that each is asked of git once. Without a root, they live for one process."""

    _HEADER = "site-builder answers 2"
    _REDONE = "git is asked again"

    def __init__(self, root: Path | None = None):
        super().__init__(site_folder(root) / "answers.pickle" if root is not None else None)
        self.unanswered = False  # git could not say what was asked

    def get(self, names: list[str], ask) -> dict:
        """name -> answer for each of `names`: kept, or from `ask(missing names)` (-> {name: answer}, or None
        when git could not say: those are not kept)."""
        missing = [name for name in names if name not in self._known]
        told = ask(missing) if missing else {}
        if told is None:
            self.unanswered = True
        else:
            self._known.update(told)
        out = {name: self._known[name] for name in names if name in self._known}
        self._used.update(out)
        return out

    def save(self) -> None:
        """Keep the answers this run used (and only those), unless that is what the file holds."""
        if self.file is not None and (self._used.keys() != self._known.keys() or self.problem
                                      or not self.file.exists()):
            self._write(self._used)


class PeriodMemo:
    """What was worked out from each period's scores and records — its summary, its inspectors' tallies — kept
    between builds with one digest of everything it was worked out from (`inputs`: period key -> digest), so
    that an edit works out its own period again and takes the others from here. Records and findings are kept
    by id: loaded, they are the site's own objects again."""

    _HEADER = "site-builder period memo 1"

    def __init__(self, root: Path, records: dict, deductions: dict, inputs: dict[str, str]):
        self.folder = site_folder(root)
        self.inputs = inputs
        self._records, self._deductions = records, deductions
        self._entries: dict[str, dict] = {}  # period key -> {name: value}, read when first asked for
        self._changed: set[str] = set()
        self.problems: list[tuple[str, str]] = []  # (file name, why it was discarded)

    def _file(self, period: str) -> Path:
        return self.folder / f"period-{period}.pickle"

    def _entry(self, period: str) -> dict:
        if period not in self._entries:
            entry = {}
            try:
                with open(self._file(period), "rb") as handle:
                    header, inputs, payload = pickle.load(handle)
                if header != (self._HEADER, code_fingerprint()):
                    self.problems.append((self._file(period).name,
                                          "written by another version of site-builder"))
                elif inputs == self.inputs[period]:
                    entry = self._unpickler(payload).load()
            except FileNotFoundError:
                pass
            except Exception:  # noqa: BLE001 - any damage at all: the period is worked out again
                self.problems.append((self._file(period).name, "damaged"))
                entry = {}
            self._entries[period] = entry if isinstance(entry, dict) else {}
        return self._entries[period]

    def _unpickler(self, payload: bytes) -> pickle.Unpickler:
        records, deductions = self._records, self._deductions
        unpickler = pickle.Unpickler(io.BytesIO(payload))
        unpickler.persistent_load = lambda ref: records[ref[1]] if ref[0] == "r" else deductions[ref[1:]]
        return unpickler

    def kept(self, name: str) -> dict:
        """period key -> what is kept under `name` for it, for each period whose inputs are unchanged."""
        return {period: entry[name] for period in self.inputs if name in (entry := self._entry(period))}

    def keep(self, name: str, values: dict) -> None:
        """Keep what was worked out under `name` for each period (those taken from here are left as they are)."""
        for period, value in values.items():
            if period in self.inputs and self._entry(period).get(name) is not value:
                self._entries[period][name] = value
                self._changed.add(period)

    def save(self) -> None:
        """Write the periods worked out again; forget the periods the site no longer has."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            by_id = _by_id()
            for period in sorted(self._changed):
                payload = io.BytesIO()
                pickler = pickle.Pickler(payload, protocol=pickle.HIGHEST_PROTOCOL)
                pickler.persistent_id = by_id
                pickler.dump(self._entries[period])
                write_atomically(self._file(period), ((self._HEADER, code_fingerprint()), self.inputs[period],
                                                      payload.getvalue()))
            for file in self.folder.glob("period-*.pickle"):
                if file.name[len("period-"):-len(".pickle")] not in self.inputs:
                    file.unlink(missing_ok=True)
        except OSError:
            pass  # a read-only or full disk: the next build works the periods out again
        self._changed.clear()

    def report(self, diags: Diagnostics) -> None:
        _report_discarded(diags, self.folder, self.problems, "those periods are worked out again")


def _by_id():
    """persistent_id for PeriodMemo: a record, or a finding as it stands after its appeal, pickled by id."""
    from site_builder.model import Record
    from site_builder.score import Deduction

    def by_id(obj) -> tuple | None:
        kind = type(obj)
        if kind is Record:
            return ("r", obj.id)
        if kind is Deduction:
            return ("d", obj.record.id, obj.finding.id)
        return None

    return by_id
