"""Read stage: the files of a site root, decoded and split into positioned YAML and Markdown.

Nothing here knows what a record means; it only finds the files, refuses what cannot be read safely
(wrong encoding, binary, oversized, odd paths, links out of the site) and keeps every position.
"""

from __future__ import annotations

import codecs
import errno
import functools
import hashlib
import os
import re
import stat
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from site_builder import limits
from site_builder.diagnostics import Diagnostics, Pos
from site_builder.markup import plain_reason
from site_builder.yamltree import DIRECTION_CHARS, Node, parse_yaml

if TYPE_CHECKING:
    from site_builder.staged import Staged

RULES_FILE = "rules.yaml"
PEOPLE_FILE = "content/people.yaml"
# document kind -> folder under the root
FOLDERS = {"record": "content/records", "appeal": "content/appeals", "month": "content/months"}
RESERVED_NAMES = {"con", "prn", "aux", "nul", "conin$", "conout$", *(f"com{i}" for i in range(10)),
                  *(f"lpt{i}" for i in range(10))}  # Windows device names, whatever the extension
_EDITOR_TEMP = re.compile(r"^\.#|^#.*#$|~$|\.sw[a-p]$|\.tmp$|^\.(?!.*\.md$)")  # editors' files, and hidden ones
_FENCE = re.compile(r"---[ \t]*")
_CLOSE = re.compile(r"(---|\.\.\.)[ \t]*")


@contextmanager
def processing(path: str):
    """Name `path` on an unexpected error raised while it is processed: the CLI's one-line report shows it."""
    try:
        yield
    except Exception as exc:
        exc.add_note(path)
        raise


@dataclass(frozen=True, slots=True)
class Source:
    """One file as read: its YAML (front matter, or the whole file for .yaml) and Markdown body."""

    path: str  # relative to the root, forward slashes
    kind: str  # rules, people, record, appeal, month
    doc_id: str  # for records, appeals and months: the path under their folder without `.md`
    meta: Node | None
    readable: bool  # False when the file or its YAML could not be read (already reported)
    body: str = ""
    body_line: int = 0  # file line on which the body starts
    digest: str = ""  # sha256 of the bytes as stored

    @property
    def pos(self) -> Pos:
        return Pos(self.path, 1, 1)


def decode(data: bytes, path: str, diags: Diagnostics) -> str | None:
    """UTF-8 text with a BOM and CRLF accepted; anything else gets a message saying how to re-save it."""
    resave = "open it in your editor and save it again as UTF-8"
    # UTF-32 before UTF-16: the UTF-32-LE byte order mark starts with the UTF-16-LE one
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)) or _looks_utf32(data):
        diags.error(Pos(path, 1, 1), "not-utf8", "the file is UTF-32, not UTF-8", resave)
        return None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or _looks_utf16(data):
        diags.error(Pos(path, 1, 1), "not-utf8", "the file is UTF-16, not UTF-8", resave)
        return None
    if b"\x00" in data:
        diags.error(Pos(path, 1, 1), "binary-file", "the file contains NUL bytes: it is not a text file",
                    "records are plain text Markdown files; remove or replace this file")
        return None
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        # count characters, not bytes: the column an editor shows after earlier non-ASCII text on the line
        column = len(data[line_start:exc.start].decode("utf-8", "replace")) + 1
        try:
            data.decode("gb18030")
            what = "the file is not UTF-8 (it looks like GBK/GB18030)"
        except UnicodeDecodeError:
            what = "the file is not UTF-8"
        diags.error(Pos(path, line, column), "not-utf8", what, resave)
        return None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _looks_utf32(data: bytes) -> bool:
    head = data[:200]
    return len(head) >= 8 and head.count(0) > len(head) * 5 // 8  # text in UTF-32 is mostly NUL bytes


def _looks_utf16(data: bytes) -> bool:
    head = data[:200]
    return len(head) >= 4 and (head[1::2].count(0) > len(head) // 4 or head[0::2].count(0) > len(head) // 4)


def split_front_matter(text: str, path: str, diags: Diagnostics):
    """(yaml text, its first line, body, body's first line), or None when there is no front matter."""
    lines = text.split("\n")
    if not lines or not _FENCE.fullmatch(lines[0]):
        diags.error(Pos(path, 1, 1), "no-front-matter", "the file does not start with a `---` line",
                    "start the file with `---`, the settings (type, date, …), then `---`, then the text")
        return None
    for index in range(1, len(lines)):
        if _CLOSE.fullmatch(lines[index]):
            return "\n".join(lines[1:index]) + "\n", 2, "\n".join(lines[index + 1:]), index + 2
    diags.error(Pos(path, 1, 1), "no-front-matter", "the `---` on line 1 is never closed",
                "end the settings with a line holding only `---`")
    return None


def read_source(root: Path, path: str, kind: str, doc_id: str, diags: Diagnostics,
                data: bytes | None = None) -> Source:
    """Read one file (or take its bytes as `data`); problems become diagnostics and an unreadable Source."""
    unreadable = Source(path, kind, doc_id, None, False)
    cap = limits.MAX_RECORD_BYTES if kind in FOLDERS else limits.MAX_DATA_FILE_BYTES
    regular = True
    try:
        if data is None:
            # non-blocking, then checked: a FIFO or device named like a record would otherwise hang the build
            with open(os.open(root / path, os.O_RDONLY | os.O_NONBLOCK), "rb") as handle:
                regular = stat.S_ISREG(os.fstat(handle.fileno()).st_mode)
                data = handle.read(cap + 1) if regular else b""
    except OSError as exc:
        broken = broken_link(root / path)
        if broken:
            diags.error(Pos(path), "broken-link", broken, "point the link at an existing file, or remove it")
        elif exc.errno == errno.ENXIO:  # (a socket: it cannot be opened at all)
            diags.error(Pos(path), "not-a-file", "this is not a regular file (a socket)",
                        "remove it from the content folder")
        else:
            diags.error(Pos(path), "unreadable", f"cannot read the file: {exc.strerror}",
                        "make it readable, or remove it" if exc.errno == errno.EACCES else
                        "check the file (`ls -l` on it) and run the command again")
        return unreadable
    if not regular:
        diags.error(Pos(path), "not-a-file", "this is not a regular file (a folder, device or pipe)",
                    "remove it from the content folder")
        return unreadable
    if len(data) > cap:
        diags.error(Pos(path, 1, 1), "file-too-large", f"the file is larger than {cap // 1024} KiB",
                    "split it, or move attachments out of the content folder")
        return unreadable
    digest = content_digest(data)
    text = decode(data, path, diags)
    if text is None:
        return unreadable
    if kind not in FOLDERS:
        errors = len(diags.items)
        meta = parse_yaml(text, path, diags)
        return Source(path, kind, doc_id, meta, len(diags.items) == errors, digest=digest)
    parts = split_front_matter(text, path, diags)
    if parts is None:
        return unreadable
    yaml_text, first_line, body, body_line = parts
    if len(yaml_text.encode()) > limits.MAX_FRONT_MATTER_BYTES:
        diags.error(Pos(path, 1, 1), "front-matter-too-large",
                    f"the front matter is larger than {limits.MAX_FRONT_MATTER_BYTES // 1024} KiB",
                    "keep findings short and put long evidence in the text below the front matter")
        return unreadable
    if len(body) > limits.MAX_BODY_CHARS:
        diags.error(Pos(path, body_line, 1), "body-too-large",
                    f"the text is longer than {limits.MAX_BODY_CHARS} characters", "shorten it")
        return unreadable
    reason = plain_reason(body) if kind in ("record", "appeal") else None
    if reason:
        diags.warning(Pos(path, body_line, 1), "body-shown-as-text",
                      f"the text will be shown as written, without Markdown formatting: {reason}",
                      "split it into shorter paragraphs with blank lines, or shorten it")
    if kind in ("record", "appeal") and ("](" in body or "<" in body or "]:" in body):  # (the usual has none)
        _dropped_from_body(path, body, body_line, diags)
    control = DIRECTION_CHARS.search(body)
    if control:  # as in any text: what follows it on the page would show reordered
        line = body_line + body.count("\n", 0, control.start())
        diags.error(Pos(path, line, control.start() - body.rfind("\n", 0, control.start())), "direction-control",
                    f"the text holds an invisible direction control (U+{ord(control.group()):04X}), which would show "
                    "it, and what follows it on the page, reordered", "retype the text without it (it comes with "
                    "text pasted from elsewhere)")
    errors = len(diags.items)
    meta = parse_yaml(yaml_text, path, diags, first_line)
    readable = len(diags.items) == errors
    if readable and " #" in yaml_text:  # (rare: most front matter has no comment at all)
        _cut_by_comments(path, yaml_text, first_line, diags)
    return Source(path, kind, doc_id, meta, readable, body, body_line, digest)


_IMAGE = re.compile(r"!\[[^\]\n]*\]\(|<img\b", re.IGNORECASE)
_MARKDOWN_IMAGE = re.compile(r"!\[[^\]\n]*\]\(")
# a link's target: inline `[text](target)` (one level of brackets inside it), a reference's definition
# `[name]: target`, and raw HTML `<a href="target">`
_LINK = re.compile(r"""\]\(\s*<?((?:[^()\s>]|\([^()\s]*\))*)|^ {0,3}\[[^\]\n]+\]:[ \t]*<?([^\s>]*)"""
                   r"""|<a\b[^>]*?\bhref\s*=\s*["']?\s*([^"'\s>]*)""", re.IGNORECASE | re.MULTILINE)
_KEPT_LINK = re.compile(r"(?:https?|mailto):", re.IGNORECASE)


def _dropped_from_body(path: str, body: str, body_line: int, diags: Diagnostics) -> None:
    """Warn of what a body asks for that its page will not show: images (a page carries nothing from outside
    the site), and links other than http(s) and mailto (a relative one could only be right on one of the
    pages the body appears on)."""
    images = list(_IMAGE.finditer(body))
    if images:  # (said once per body, at the first, with how many more: one file may hold dozens)
        diags.warning(Pos(path, body_line + body.count("\n", 0, images[0].start()), 1), "body-image-dropped",
                      "the image is not shown: pages carry no images or files from outside the site" +
                      _more(len(images) - 1, "image"),
                      "describe in words what it shows, and say where the original is kept")
    text = _MARKDOWN_IMAGE.sub("", body)  # (an image's target is no link; line breaks stay where they were)
    dropped = [(link.start(), target) for link in _LINK.finditer(text)
               if (target := next(filter(None, link.groups()), "")) and not _KEPT_LINK.match(target)]
    if dropped:
        at, target = dropped[0]
        diags.warning(Pos(path, body_line + text.count("\n", 0, at), 1), "body-link-dropped",
                      f"the link to `{target}` is not kept: only http(s) and mailto links are" +
                      _more(len(dropped) - 1, "link"),
                      "write the full address (https://…), or name the record it points to in words")


def _more(count: int, what: str) -> str:
    return f" (nor {count} more {what}{'s' * (count != 1)} in this body)" if count else ""


# a text value written plain, with ` #` in it: YAML reads the rest of the line as a comment
_CUT_TEXT = re.compile(r"\s*(?:-\s+)?(note|reason)\s*:[ \t]+(?![\"'|>])([^#\n]*?)[ \t]+#(.*)")


def _cut_by_comments(path: str, yaml_text: str, first_line: int, diags: Diagnostics) -> None:
    """Warn where a note or reason loses the end of its line to a YAML comment (`工单 #1234`)."""
    for number, line in enumerate(yaml_text.split("\n")):
        cut = _CUT_TEXT.match(line)
        if cut and cut.group(2).strip():
            diags.warning(Pos(path, first_line + number, line.index("#", cut.start(3) - 1) + 1), "text-cut-by-comment",
                          f"`{cut.group(1)}` ends before ` #`: YAML reads `#{cut.group(3)}` as a comment, so it is "
                          "not shown", f"put the whole {cut.group(1)} in quotes: {cut.group(1)}: \"…\"")


def shown(path: str) -> str:
    """A path as it can be printed: undecodable bytes and control characters written as escapes."""
    text = os.fsencode(path).decode("utf-8", "backslashreplace")
    return "".join(f"\\x{ord(ch):02x}" if unicodedata.category(ch) == "Cc" else ch for ch in text)


_PLAIN_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*[A-Za-z0-9_-]|[A-Za-z0-9_-]")
# a document's name that needs no closer look: plain letters, not hidden, short, not a Windows device name
_PLAIN_DOCUMENT = re.compile(r"(?!(?i:%s)\.)[A-Za-z0-9_-][A-Za-z0-9_.-]{0,%d}\.md" % (
    "|".join(re.escape(name) for name in sorted(RESERVED_NAMES)), limits.MAX_NAME_BYTES - 4))


def _name_problem(part: str) -> str:
    """What is wrong with one file or folder name, or ''."""
    if _PLAIN_NAME.fullmatch(part) and len(part) <= limits.MAX_NAME_BYTES \
            and part.split(".")[0].lower() not in RESERVED_NAMES:
        return ""  # the usual case, settled at once
    if part.isascii():  # no character to look up one by one
        if not part.isprintable():
            return "contains a control character"
    elif any(unicodedata.category(ch) == "Cs" for ch in part):  # os.walk's stand-ins for undecodable bytes
        return "is not valid UTF-8"
    elif any(unicodedata.category(ch) == "Cc" for ch in part):
        return "contains a control character"
    elif DIRECTION_CHARS.search(part):
        return "contains an invisible direction control (it would show the name reversed: `exe.gnp` as `png.exe`)"
    stem = part.split(".")[0].rstrip(" ").lower()  # Windows ignores the spaces in `CON .md`
    if part != part.rstrip(". ") or part != part.lstrip(" "):
        return "starts or ends with a space or ends with a dot"
    if stem in RESERVED_NAMES:
        return f"uses the reserved device name `{stem.upper()}`"
    if any(ch in part for ch in '<>:"\\|?*'):
        return "contains one of < > : \" \\ | ? *"
    if len(os.fsencode(part)) > limits.MAX_NAME_BYTES:
        return f"is longer than {limits.MAX_NAME_BYTES} bytes ({limits.MAX_NAME_BYTES // 3} Chinese characters)"
    return ""


def _check_name(rel: str, diags: Diagnostics) -> bool:
    """Refuse file names that cannot become portable, unambiguous URLs."""
    if len(os.fsencode(rel)) > limits.MAX_PATH_BYTES:
        diags.error(Pos(shown(rel)), "bad-file-name", f"the path is longer than {limits.MAX_PATH_BYTES} bytes",
                    "use fewer or shorter folder names")
        return False
    folder, _, name = rel.rpartition("/")
    part, problem = _folder_problem(folder)
    what = "folder"
    if not problem:
        part, problem, what = name, _name_problem(name), "file"
    if problem:
        diags.error(Pos(shown(rel)), "bad-file-name", f"the name `{shown(part)}` {problem}",
                    f"rename the {what} with letters, digits, `-` and `_`")
        return False
    return True


@functools.lru_cache(maxsize=1 << 16)
def _folder_problem(folder: str) -> tuple[str, str]:
    """The first folder name of a path that has a problem, and the problem; ('', '') for none.
    Asked once per folder, not once per file in it; a folder's own name is looked at, its parent's answer
    taken as given (folders are walked from the top: in a deep tree, each name is looked at once)."""
    if not folder:
        return "", ""
    parent, _, name = folder.rpartition("/")
    found = _folder_problem(parent)
    if found[1]:
        return found
    problem = _name_problem(name)
    return (name, problem) if problem else ("", "")


def discover(root: Path, diags: Diagnostics, stats: dict | None = None,
             staged: Staged | None = None) -> list[tuple[str, str, str]]:
    """(path, kind, doc id) of every content document, sorted; odd names and links are reported.
    `stats` (full path -> (mode, ...), from the input fingerprint's walk) spares asking about files again.
    With `staged`, the documents are the files the git index holds (all regular files), not the folder's."""
    found = []
    stats = stats or {}
    for kind, folder in FOLDERS.items():
        if staged is not None:
            seen: dict[str, str] = {}
            for rel in staged.under(folder):
                if not any(part.startswith(".") for part in rel[len(folder) + 1:].split("/")[:-1]) and \
                        _content_file(rel, diags):
                    _add_document(rel, kind, folder, seen, found, diags)
            continue
        base = root / folder
        if not base.is_dir():
            continue
        if not _inside(base, root / "content"):
            diags.error(Pos(folder), "symlink", "the folder links outside the content folder",
                        "move the files into the content folder itself")
            continue
        seen: dict[str, str] = {}
        for directory, subdirs, files in os.walk(base):
            subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
            for name in subdirs:
                if os.path.islink(os.path.join(directory, name)):
                    rel = Path(directory, name).relative_to(root).as_posix()
                    diags.error(Pos(shown(rel)), "symlink", "linked folders are not followed",
                                "move the files into the content folder itself")
            subdirs[:] = [d for d in subdirs if not os.path.islink(os.path.join(directory, d))]
            prefix = Path(directory).relative_to(root).as_posix() + "/"
            if len(os.fsencode(prefix)) > limits.MAX_PATH_BYTES and (files or subdirs):  # nothing below can be
                diags.error(Pos(shown(prefix[:-1])), "bad-file-name",  # named: not walked (nor too deep for it)
                            f"the folder's path is longer than {limits.MAX_PATH_BYTES} bytes, so nothing in it is read",
                            "use fewer or shorter folder names")
                subdirs[:] = []
                continue
            # names of plain letters in a folder of plain names, as nearly all are: settled with one match each
            plain = prefix.isascii() and not _folder_problem(prefix[:-1])[1]
            there = os.path.join(directory, "")
            for name in sorted(files):
                full = there + name
                rel = prefix + name
                if plain and _PLAIN_DOCUMENT.fullmatch(name) and len(rel) <= limits.MAX_PATH_BYTES:
                    info = stats.get(full)
                    if not (os.path.islink(full) if info is None else stat.S_ISLNK(info[0])):
                        doc_id = rel[len(folder) + 1:-3]
                        folded = doc_id.lower()  # (what NFC and casefold make of ASCII)
                        if folded not in seen:
                            seen[folded] = doc_id
                            found.append((rel, kind, doc_id))
                            continue
                    # a link, or a name seen already: looked at the long way below, which says what is wrong
                if not _content_file(rel, diags):
                    continue
                info = stats.get(full)
                linked = os.path.islink(full) if info is None else stat.S_ISLNK(info[0])
                if linked and not _inside(Path(full), base) and not broken_link(Path(full)):
                    diags.error(Pos(shown(rel)), "symlink", f"the file links outside {folder}/",
                                "copy the file in instead of linking to it")
                    continue
                _add_document(rel, kind, folder, seen, found, diags)
    return found


def _content_file(rel: str, diags: Diagnostics) -> bool:
    """Whether a file in a content folder is a document: editors' temporary files are passed over, and
    anything but `.md` is ignored with a warning."""
    name = rel.rpartition("/")[2]
    if _EDITOR_TEMP.search(name):
        return False
    if name.startswith((".", "#")) and name.endswith(".md"):  # hidden, or a draft: said, or it goes unnoticed
        diags.warning(Pos(shown(rel)), "ignored-file", f"its name starts with `{name[0]}`, so it is taken for a "
                      "hidden or temporary file and ignored", f"rename it without the `{name[0]}` if it is a record")
        return False
    if not name.endswith(".md"):
        diags.warning(Pos(shown(rel)), "ignored-file", "not a `.md` file, so it is ignored",
                      "rename it to end in `.md` if it is a record")
        return False
    return True


def _add_document(rel: str, kind: str, folder: str, seen: dict, found: list, diags: Diagnostics) -> None:
    """Add the document at `rel` unless its name is refused or collides with one already seen."""
    if not _check_name(rel, diags):
        return
    doc_id = rel[len(folder) + 1:-3]
    folded = unicodedata.normalize("NFC", doc_id).casefold()
    if folded in seen:
        diags.error(Pos(rel), "name-collision", f"`{doc_id}` differs from `{seen[folded]}` only "
                    "in letter case or Unicode form, so both would get the same page", "rename one of them")
        return
    seen[folded] = doc_id
    found.append((rel, kind, doc_id))


def walk(folder: Path):
    """Every file and folder under `folder` (not following linked folders), as os.walk's (directory, folders,
    files), top down, each list sorted; without recursion (os.walk and Path.rglob recurse once a level: a
    thousand nested folders crash them). A folder that cannot be listed is passed over."""
    pending = [str(folder)]
    while pending:
        directory = pending.pop()
        try:
            with os.scandir(directory) as entries:
                listed = sorted((entry.name, entry.is_dir(follow_symlinks=False)) for entry in entries)
        except OSError:
            continue
        subdirs = [name for name, is_dir in listed if is_dir]
        yield directory, subdirs, [name for name, is_dir in listed if not is_dir]
        pending += (os.path.join(directory, name) for name in reversed(subdirs))


def refuse_linked_layouts(root: Path, diags: Diagnostics) -> None:
    """A file or folder of the site's layouts/ that links outside it would publish (as an asset) or render
    whatever it points to, a file of the build machine's: refused, as in content/."""
    folder = root / "layouts"
    for directory, subdirs, files in walk(folder):
        for name in sorted(subdirs + files):
            path = Path(directory, name)
            if path.is_symlink() and not _inside(path, folder):
                diags.error(Pos(shown(path.relative_to(root).as_posix())), "symlink",
                            "the file links outside the layouts folder", "copy the file in instead of linking to it")


def broken_link(path: Path) -> str:
    """What is wrong with `path` when it is a symbolic link leading nowhere (to a file that does not exist, or
    round in a loop); "" otherwise."""
    try:
        if not path.is_symlink():
            return ""
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "the file is a link that leads back to itself (a loop of links)"
        if exc.errno == errno.ENOENT:
            return f"the file is a link to `{os.readlink(path)}`, which does not exist"
    return ""


def _inside(path: Path, base: Path) -> bool:
    try:
        path.resolve().relative_to(base.resolve())
        return True
    except (ValueError, OSError, RuntimeError):  # RuntimeError: a symlink loop
        return False


def read_context(root: Path, diags: Diagnostics, staged: Staged | None = None) -> list[Source]:
    """rules.yaml and people.yaml, which every document is validated against (as staged, with `staged`)."""
    sources = []
    for path, kind in ((RULES_FILE, "rules"), (PEOPLE_FILE, "people")):
        if staged is not None and path in staged.paths:
            with processing(path):
                sources.append(read_source(root, path, kind, "", diags, staged.blobs.get(path)))
        elif staged is not None and (root / path).is_file():
            diags.error(Pos(path), "missing-file", f"`{path}` is not staged", "add it with `git add`")
        elif broken := broken_link(root / path):
            diags.error(Pos(path), "broken-link", broken,
                        "point the link at an existing file, or put the file itself here")
        elif (root / path).is_symlink() and not _inside(root / path, root / path.rpartition("/")[0]):
            diags.error(Pos(path), "symlink", "the file links outside the site",
                        "copy the file in instead of linking to it")
        elif (root / path).is_file() and staged is None:
            with processing(path):
                sources.append(read_source(root, path, kind, "", diags))
        elif (root / path).exists() and staged is None:
            diags.error(Pos(path), "not-a-file", f"`{path}` is a folder or a device, not a file",
                        f"replace it with the {kind} file")
        else:
            diags.error(Pos(path), "missing-file", f"`{path}` does not exist",
                        "run site-builder in a site root, or pass --root DIR")
    return sources


def content_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
