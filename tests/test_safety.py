"""Prove it safe: bad files, odd paths, resource floods, hostile content and internal errors.

Adds to the corpora of test_read.py and test_validate.py what they do not cover. Every case runs `check`
(the diagnostic, its file and line, never a traceback) and then `build` (exit 1, or 0 when the input is
only warned about), and compares a snapshot of the whole temporary folder before and after: nothing may
be written, moved or touched outside the output folder (and its lock file).
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import stat
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import PEOPLE, RULES, SiteDir, finding, record, reported
from test_build import FORBIDDEN_TAGS, html_files, link_problems, links, parse, scheme

R = "content/records/r.md"
AP = "content/appeals/r-1.md"
MO = "content/months/2026-11.md"
P = "content/people.yaml"
GOOD = record(findings=finding("a", 2))  # the note `发现问题` is on line 10, column 11
APPEAL = "---\nrecord: r\nfinding: 1\nfiled: 2026-11-20\n---\n申诉理由。\n"  # record on line 2, column 9
OUTPUT_NAMES = {"_site", ".site-builder-_site.lock", ".site-builder-_site.stamps"}


def with_note(note: str) -> str:
    return GOOD.replace("发现问题", note)


def snapshot(base: Path) -> dict:
    """Every entry below `base` without following links: type, permissions, mtime and content. The output
    folder, its lock and its stamps are left out: they are the one place a build may write."""
    out = {}
    for directory, dirs, files in os.walk(base):
        dirs[:] = [d for d in dirs if d not in OUTPUT_NAMES]
        for name in dirs + files:
            if name in OUTPUT_NAMES:
                continue
            full = os.path.join(directory, name)
            info = os.lstat(full)
            if stat.S_ISLNK(info.st_mode):
                content = os.readlink(full)
            elif stat.S_ISREG(info.st_mode):
                with open(full, "rb") as handle:
                    content = handle.read()
            else:
                content = None
            # a folder's mtime moves when the output or lock is created in it; its entries are listed anyway
            mtime = None if stat.S_ISDIR(info.st_mode) else info.st_mtime_ns
            out[os.path.relpath(full, base)] = (info.st_mode, mtime, content)
    return out


@pytest.fixture
def hazard(tmp_path):
    """Runs check and build on a site, asserting the reported problem and that nothing outside the output
    was touched; a file beside the site stands for everything a `../` could reach."""
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "victim.md").write_text(GOOD, encoding="utf-8")

    def run(site: SiteDir, code: str, file: str, line: int, column: int | None = None, says: str = "",
            build_fails: bool = True):
        before = snapshot(tmp_path)
        result = site.run("check", "--format", "json")
        out = result.out + result.err
        assert "Traceback" not in out and "internal error" not in out, out
        result.out.encode("utf-8")  # printable on a UTF-8 terminal: no lone surrogates from odd names
        if build_fails:
            error = reported(result, code, file, line, column)
        else:
            error = _warned(result, code, file, line, column)
        assert says in error["message"] + error.get("hint", ""), error
        assert snapshot(tmp_path) == before, "check wrote or touched something"
        built = site.run("build")
        assert "Traceback" not in built.err and "internal error" not in built.err, built.err
        assert built.code == (1 if build_fails else 0), (built.code, built.err)
        assert snapshot(tmp_path) == before, "build touched something outside its output folder"
        assert (site.root / "_site").exists() != build_fails
        return error

    return run


def _warned(result, code: str, file: str, line: int, column: int | None) -> dict:
    assert result.code == 0, result.out
    warnings = result.json()["warnings"]
    where = [w for w in warnings if (w["code"], w["file"], w["line"]) == (code, file, line)
             and column in (None, w["column"])]
    assert where, f"no warning {code} at {file}:{line}; got {warnings}"
    return where[0]


def case(name: str, files: dict, code: str, file: str, line: int, column: int | None, says: str = "",
         people: str | bytes = PEOPLE, rules: str = RULES):
    return pytest.param(files, people, rules, code, file, line, column, says, id=name)


DEEP_BLOCK = "staff:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(20)) + "  " * 21 + "x\n"
BILLION_LAUGHS = "---\n" + 'lol: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n' + "".join(
    f"l{n}: &l{n} [{', '.join([f'*l{n - 1}' if n > 1 else '*a'] * 9)}]\n" for n in range(1, 10)) + "---\n"
CASE_TWIN = PEOPLE.replace("{id: S002,", "{id: s001,")

CASES = [
    # YAML that would construct objects, share values or never end
    case("billion-laughs", {R: BILLION_LAUGHS}, "yaml-anchor", R, 2, 6, "&a"),
    case("recursive-alias", {R: record(staff="&s [*s]")}, "yaml-anchor", R, 5, 8, "&s"),
    case("merge-key-alias", {R: GOOD.replace("staff: S001\n", "staff: S001\n<<: *base\n")}, "yaml-alias", R, 6, 5,
         "*base"),
    case("python-tag-on-mapping", {R: record(staff="!!python/object/new:os.system {args: [id]}")}, "yaml-tag", R,
         5, 8, "!!python/object/new:os.system"),
    case("binary-tag", {R: with_note("!!binary aGk=")}, "yaml-tag", R, 10, 11, "!!binary"),
    case("set-tag", {R: record(staff="!!set {S001}")}, "yaml-tag", R, 5, 8, "!!set"),
    case("deep-block-nesting", {}, "yaml-too-deep", P, 17, 33, "16", people=DEEP_BLOCK),
    # the column is 17 where site-builder stops first, 1001 where libyaml (PyYAML ≥ 6.0.4) reads ahead
    case("deep-flow-nesting-100k", {}, "yaml-too-deep", P, 1, None, "16", people="[" * 100_000),
    case("null-key", {R: GOOD.replace("type:", "~: x\ntype:")}, "yaml-key-type", R, 2, 1, "empty value"),
    case("boolean-key", {R: GOOD.replace("type:", "on: x\ntype:")}, "yaml-key-type", R, 2, 1, "yes/no"),
    case("float-key", {R: GOOD.replace("type:", "1.5: x\ntype:")}, "yaml-key-type", R, 2, 1, "number"),
    case("complex-key", {R: GOOD.replace("type:", "? [a, b]\n: c\ntype:")}, "yaml-key-type", R, 2, 3,
         "a key that is a list or mapping (written `? …`) is not text"),
    case("top-level-scalar-appeal", {R: GOOD, AP: "---\n42\n---\n"}, "wrong-type", AP, 2, 1, "`42`"),
    case("top-level-list-sign-off", {MO: "---\n- 2026-11\n---\n"}, "wrong-type", MO, 2, 1, "a list"),
    case("top-level-scalar-people", {}, "wrong-type", P, 1, 1, "mapping", people="张伟\n"),
    case("top-level-list-rules", {}, "wrong-type", "rules.yaml", 1, 1, "mapping", rules="- a\n"),
    case("empty-people", {}, "missing-key", P, 1, 1, "people.yaml has no", people=""),
    case("stray-dashes-before-front-matter", {R: "---\n" + GOOD}, "missing-key", R, 1, 1, "`date`"),
    case("second-document-in-front-matter", {R: GOOD.replace("staff: S001\n", "staff: S001\n--- # more\n")},
         "yaml-multiple-documents", R, 6, 1, "`---`"),
    # control characters that only exist once YAML's escapes are decoded
    case("escaped-control-char", {R: with_note('"发现\\x01问题"')}, "bad-character", R, 10, 11, "U+0001"),
    case("escaped-escape-char", {R: with_note('"\\e[31m红"')}, "bad-character", R, 10, 11, "U+001B"),
    case("escaped-nul", {R: with_note('"发现\\0"')}, "bad-character", R, 10, 11, "U+0000"),
    case("escaped-line-separator", {R: with_note('"发现\\L问题"')}, "bad-character", R, 10, 11, "U+2028"),
    case("escaped-next-line-in-name", {}, "bad-character", P, 2, 22, "U+0085",
         people=PEOPLE.replace("name: 张伟", 'name: "张\\N伟"')),
    # YAML 1.1 reading values as something else
    case("points-inf", {R: record(findings=finding("a", ".inf"))}, "bad-number", R, 9, 13, ".inf"),
    case("rate-minus-inf", {R: record(findings=finding("c", 3, None, required_rate=95, actual_rate="-.inf"))},
         "bad-number", R, 11, 18, ".inf"),
    case("commendation-nan", {R: record(commendations="- points: .NaN\n  reason: 拾金不昧")}, "bad-number", R, 7,
         13, ".NaN"),
    case("staff-id-nan", {R: record(staff=".nan")}, "id-not-text", R, 5, 8, "number"),
    case("staff-id-octal", {R: record(staff="017")}, "id-not-text", R, 5, 8, "number"),
    case("staff-id-hex", {R: record(staff="0x1F")}, "id-not-text", R, 5, 8, "number"),
    case("staff-id-underscored", {R: record(staff="1_000")}, "id-not-text", R, 5, 8, "number"),
    case("staff-id-on", {R: record(staff="on")}, "id-not-text", R, 5, 8, "yes/no"),
    case("inspector-No", {R: record(inspector="No")}, "id-not-text", R, 4, 12, "yes/no"),
    case("staff-id-read-as-date", {R: record(staff="2026-11-12")}, "id-not-text", R, 5, 8, "date"),
    case("punishable-on", {R: record(findings=finding("e", 8, "adverse", punishable="on"))}, "wrong-type", R,
         11, 17, "true"),
    case("punishable-off", {R: record(findings=finding("e", 8, "adverse", punishable="off"))}, "wrong-type", R,
         11, 17, "true"),
    case("points-sexagesimal", {R: record(findings=finding("a", "1:20"))}, "bad-number", R, 9, 13, "1:20"),
    case("inspector-sexagesimal-3", {R: record(inspector="190:20:30")}, "id-not-text", R, 4, 12, "quote"),
    case("date-with-time", {R: record(date="2026-11-12T10:00:00Z")}, "bad-date", R, 3, 7, "YYYY-MM-DD"),
    case("date-as-number", {R: record(date="20261112")}, "bad-date", R, 3, 7, "YYYY-MM-DD"),
    case("date-year-9999", {R: record(date="9999-12-30")}, "bad-date", R, 3, 7, "2099"),
    case("date-year-1", {R: record(date="0001-01-01")}, "bad-date", R, 3, 7, "1970"),
    case("sign-off-month-0000", {"content/months/0000-01.md": "---\nmonth: 0000-01\nclosed: 2026-11-25\n"
                                                              "closed_by: I05\n---\n"},
         "bad-month", "content/months/0000-01.md", 2, 8, "1970"),
    case("appeal-huge-reduction-on-unknown-finding",
         {R: GOOD, AP: APPEAL.replace("finding: 1", "finding: 5").replace(
             "filed: 2026-11-20\n", "filed: 2026-11-20\ndecision: reduced\npoints: " + "9" * 40 +
             "\ndecided: 2026-11-24\ndecided_by: I05\n")}, "unknown-reference", AP, 3, 10, "no finding `5`"),
    case("ids-differing-only-in-case", {}, "duplicate-id", P, 3, 10, "letter case", people=CASE_TWIN),
    # encodings
    case("gb18030-four-byte", {R: with_note("𠀀").encode("gb18030")}, "not-utf8", R, 10, 11, "GB18030"),
    case("utf16-be-with-bom", {R: codecs.BOM_UTF16_BE + GOOD.encode("utf-16-be")}, "not-utf8", R, 1, 1, "UTF-16"),
    case("utf16-be-without-bom", {R: GOOD.encode("utf-16-be")}, "not-utf8", R, 1, 1, "UTF-16"),
    case("utf32", {R: GOOD.encode("utf-32")}, "not-utf8", R, 1, 1, "UTF-32"),
    case("latin1", {R: with_note("café").replace("检查记录。", "ok").encode("latin-1")}, "not-utf8", R, 10, 14, "UTF-8"),
    case("utf16-people", {}, "not-utf8", P, 1, 1, "UTF-16", people=PEOPLE.encode("utf-16")),
    case("png-named-md", {R: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00"}, "binary-file", R, 1, 1, "NUL"),
    case("high-bytes", {R: bytes(range(128, 256))}, "not-utf8", R, 1, 1, "UTF-8"),
    case("empty-appeal", {AP: b""}, "no-front-matter", AP, 1, 1, "`---`"),
    case("whitespace-only-sign-off", {MO: "  \n\n"}, "no-front-matter", MO, 1, 1, "`---`"),
    case("huge-people", {}, "file-too-large", P, 1, 1, "KiB", people=b"# " + b"x" * (16 << 20) + b"\n"),
    case("huge-appeal-front-matter", {R: GOOD, AP: APPEAL.replace("filed:", "x: " + "长" * 30_000 + "\nfiled:")},
         "front-matter-too-large", AP, 1, 1, "KiB"),
    case("body-too-large", {R: GOOD + "x" * 200_001}, "body-too-large", R, 12, 1, "characters"),
    # ids and paths that try to leave their folder
    case("appeal-record-dot-dot", {R: GOOD, AP: APPEAL.replace("record: r", "record: ../../outside/victim")},
         "unknown-reference", AP, 2, 9, "../../outside/victim"),
    case("appeal-record-absolute", {R: GOOD, AP: APPEAL.replace("record: r", "record: /etc/passwd")},
         "unknown-reference", AP, 2, 9, "/etc/passwd"),
    case("appeal-record-windows", {R: GOOD, AP: APPEAL.replace("record: r", "record: 'C:\\Windows\\r'")},
         "unknown-reference", AP, 2, 9, "Windows"),
    case("appeal-record-prefix-and-dot-dot", {R: GOOD, AP: APPEAL.replace("record: r",
                                                                           "record: content/records/../r")},
         "unknown-reference", AP, 2, 9, "../r"),
    case("appeal-record-nul", {R: GOOD, AP: APPEAL.replace("record: r", 'record: "r\\0.md"')},
         "bad-character", AP, 2, 9, "U+0000"),
    # file names that cannot be portable URLs
    case("reserved-aux", {"content/records/aux.md": GOOD}, "bad-file-name", "content/records/aux.md", 0, 0, "AUX"),
    case("reserved-com1", {"content/records/COM1.md": GOOD}, "bad-file-name", "content/records/COM1.md", 0, 0,
         "COM1"),
    case("reserved-with-extension", {"content/records/lpt9.txt.md": GOOD}, "bad-file-name",
         "content/records/lpt9.txt.md", 0, 0, "LPT9"),
    case("reserved-with-space", {"content/records/con .md": GOOD}, "bad-file-name", "content/records/con .md", 0,
         0, "CON"),
    case("reserved-folder", {"content/records/prn/r.md": GOOD}, "bad-file-name", "content/records/prn/r.md", 0,
         0, "PRN"),
    case("folder-trailing-dot", {"content/records/2026./r.md": GOOD}, "bad-file-name",
         "content/records/2026./r.md", 0, 0, "dot"),
    case("folder-trailing-space", {"content/records/2026 /r.md": GOOD}, "bad-file-name",
         "content/records/2026 /r.md", 0, 0, "space"),
    case("leading-space", {"content/records/ r.md": GOOD}, "bad-file-name", "content/records/ r.md", 0, 0,
         "space"),
    case("control-char-in-name", {"content/records/a\x01b.md": GOOD}, "bad-file-name",
         "content/records/a\\x01b.md", 0, 0, "control"),
    case("newline-in-name", {"content/records/a\nb.md": GOOD}, "bad-file-name", "content/records/a\\x0ab.md", 0, 0,
         "control"),
    case("backslash-in-name", {"content/records/a\\b.md": GOOD}, "bad-file-name", "content/records/a\\b.md", 0, 0,
         "\\"),
    case("name-too-long", {"content/records/" + "x" * 250 + ".md": GOOD}, "bad-file-name",
         "content/records/" + "x" * 250 + ".md", 0, 0, "140 bytes"),
    case("chinese-name-too-long", {"content/records/" + "长" * 84 + ".md": GOOD}, "bad-file-name",
         "content/records/" + "长" * 84 + ".md", 0, 0, "46 Chinese"),
    case("names-differ-in-normalization", {"content/records/cafe\u0301.md": GOOD, "content/records/café.md": GOOD},
         "name-collision", "content/records/café.md", 0, 0, "Unicode"),
    case("folders-differ-in-case", {"content/records/A/x.md": GOOD, "content/records/a/x.md": GOOD},
         "name-collision", "content/records/a/x.md", 0, 0, "letter case"),
    case("names-differ-in-case-folding", {"content/records/STRASSE.md": GOOD, "content/records/straße.md": GOOD},
         "name-collision", "content/records/straße.md", 0, 0, "letter case"),
    case("appeals-differ-in-case", {R: GOOD, AP: APPEAL, "content/appeals/R-1.md": APPEAL}, "name-collision", AP, 0,
         0, "R-1"),
]


@pytest.mark.parametrize("files, people, rules, code, file, line, column, says", CASES)
def test_hazard_is_reported_at_its_place_and_touches_nothing(make_site, hazard, files, people, rules, code, file,
                                                              line, column, says):
    site = make_site(files, rules=rules, people=people)
    hazard(site, code, file, line, column, says)


def test_the_corpus_covers_every_hazard_family():
    names = " ".join(c.id for c in CASES)
    for word in ("laughs", "alias", "tag", "deep", "key", "top-level", "stray", "second-document",
                 "control", "line-separator", "nan", "inf", "octal", "on", "sexagesimal", "gb18030", "utf16",
                 "utf32", "empty", "huge", "dot-dot", "absolute", "reserved", "trailing", "too-long", "normalization",
                 "case"):
        assert word in names, word


@pytest.mark.parametrize("encode", [
    pytest.param(lambda text: codecs.BOM_UTF8 + text.encode(), id="bom"),
    pytest.param(lambda text: text.replace("\n", "\r\n").encode(), id="crlf"),
    pytest.param(lambda text: codecs.BOM_UTF8 + text.replace("\n", "\r\n").encode(), id="bom-crlf"),
])
def test_editor_encodings_are_accepted_in_every_kind_of_file(make_site, tmp_path, encode):
    site = make_site({R: encode(GOOD), AP: encode(APPEAL), MO: encode("---\nmonth: 2026-11\nclosed: 2026-11-25\n"
                                                                      "closed_by: I05\n---\n签发。\n")},
                     people=encode(PEOPLE), rules=encode(RULES))
    before = snapshot(tmp_path)
    assert site.run("check", "--format", "json").json() == {"errors": [], "warnings": []}
    result = site.run("build")
    assert result.code == 0, result.err
    assert snapshot(tmp_path) == before
    assert "申诉理由" in parse(site.root / "_site/records/r.html").text()


def test_paths_are_capped(make_site, hazard, monkeypatch):
    from site_builder import limits

    monkeypatch.setattr(limits, "MAX_PATH_BYTES", 40)
    path = "content/records/2026/11/12/supervisor/r.md"
    hazard(make_site({path: GOOD}), "bad-file-name", path, 0, 0, "40 bytes")


def test_the_longest_names_allowed_still_build(make_site, tmp_path):
    name = "长" * 45 + "xx"  # 140 bytes with `.md`, 142 as a page (`.html`): within every common filesystem
    assert len(f"{name}.md".encode()) == 140
    site = make_site({f"content/records/{name}/{name}.md": GOOD})
    result = site.run("build")
    assert result.code == 0, result.err
    assert (site.root / f"_site/records/{name}/{name}.html").is_file()


def test_file_name_that_is_not_utf8(make_site, hazard):
    site = make_site({R: GOOD})
    with open(os.fsencode(site.root / "content/records") + b"/bad\xff.md", "wb") as handle:
        handle.write(GOOD.encode())
    hazard(site, "bad-file-name", "content/records/bad\\xff.md", 0, 0, "UTF-8")


def test_ignored_file_whose_name_is_not_utf8_is_printable(make_site, hazard):
    site = make_site({R: GOOD})
    with open(os.fsencode(site.root / "content/records") + b"/photo\xff.jpg", "wb") as handle:
        handle.write(b"\xff\xd8")
    hazard(site, "ignored-file", "content/records/photo\\xff.jpg", 0, 0, "ignored", build_fails=False)


def test_folder_linked_from_outside_the_content(make_site, hazard, tmp_path):
    site = make_site({R: GOOD})
    os.symlink(tmp_path / "outside", site.root / "content/records/linked")
    hazard(site, "symlink", "content/records/linked", 0, 0, "not followed")


def test_records_folder_itself_linked_outside(make_site, hazard, tmp_path):
    site = make_site({})
    (site.root / "content").mkdir(exist_ok=True)
    os.symlink(tmp_path / "outside", site.root / "content/records")
    hazard(site, "symlink", "content/records", 0, 0, "outside")


def test_people_yaml_linked_outside_the_site(make_site, hazard, tmp_path):
    site = make_site({R: GOOD})
    (tmp_path / "outside" / "people.yaml").write_text(PEOPLE, encoding="utf-8")
    (site.root / P).unlink()
    os.symlink(tmp_path / "outside" / "people.yaml", site.root / P)
    hazard(site, "symlink", P, 0, 0, "outside")


def test_layout_files_linked_outside_the_layouts_are_refused(make_site, tmp_path):
    site = make_site({R: GOOD, "layouts/assets/own.css": "p { color: black }\n"})
    (tmp_path / "secret.txt").write_text("the build machine's secret\n", encoding="utf-8")
    os.symlink("own.css", site.root / "layouts/assets/alias.css")  # inside the layouts: followed
    assert site.run("build").code == 0
    assert (site.root / "_site/assets/alias.css").read_text(encoding="utf-8") == "p { color: black }\n"
    os.symlink(tmp_path / "secret.txt", site.root / "layouts/assets/leak.css")
    os.symlink(tmp_path / "secret.txt", site.root / "layouts/rules.html")
    elsewhere = tmp_path / "elsewhere"  # (an output given relative to the current folder lands in the repository)
    for run in (site.run("build"), site.run("build", "--output", str(elsewhere))):
        assert run.code == 1 and "Traceback" not in run.err
        for path in ("layouts/assets/leak.css", "layouts/rules.html"):
            assert f"{path}: symlink: the file links outside the layouts folder" in run.err, run.err
    assert not (site.root / "_site/assets/leak.css").exists() and not elsewhere.exists()


def test_symlink_loop(make_site, hazard):
    site = make_site({R: GOOD})
    os.symlink("loop.md", site.root / "content/records/loop.md")
    hazard(site, "broken-link", "content/records/loop.md", 0, 0, "a loop of links")  # (not a link "outside")


def test_dangling_symlink_inside_the_content(make_site, hazard):
    site = make_site({R: GOOD})
    os.symlink("gone.md", site.root / "content/records/dangling.md")
    hazard(site, "broken-link", "content/records/dangling.md", 0, 0, "a link to `gone.md`, which does not exist")


def test_people_yaml_linked_to_a_file_that_is_not_there_is_said_so(make_site, hazard):
    site = make_site({R: GOOD})
    (site.root / P).unlink()
    os.symlink("people-2026.yaml", site.root / P)
    hazard(site, "broken-link", P, 0, 0, "a link to `people-2026.yaml`, which does not exist")  # not "missing"


def test_a_socket_named_like_a_record_is_not_a_file(make_site, hazard):
    import socket

    site = make_site({R: GOOD})
    with socket.socket(socket.AF_UNIX) as listening:
        listening.bind(str(site.root / "content/records/socket.md"))
        hazard(site, "not-a-file", "content/records/socket.md", 0, 0, "a socket")


def test_fifo_named_like_a_record_does_not_hang_check(make_site, tmp_path):
    """A named pipe would block a plain open() for ever. (`build` is the next test.)"""
    site = make_site({R: GOOD})
    os.mkfifo(site.root / "content/records/pipe.md")
    before = snapshot(tmp_path)
    reported(site.run("check", "--format", "json"), "not-a-file", "content/records/pipe.md", 0, 0)
    assert snapshot(tmp_path) == before


def test_fifo_named_like_a_record_does_not_hang_build(make_site):
    site = make_site({R: GOOD})
    os.mkfifo(site.root / "content/records/pipe.md")
    done = subprocess.run([sys.executable, "-m", "site_builder", "build", "--quiet", "--root", str(site.root)],
                          capture_output=True, text=True, timeout=5)
    assert done.returncode == 1 and "not-a-file" in done.stderr, done.stderr


@pytest.mark.parametrize("name", ["检查 记录", "a#1 %20&b", "x' onmouseover='alert(1)", "[方括号](1)+=;@!~$"])
def test_odd_but_valid_names_build_working_urls(make_site, tmp_path, name):
    """Chinese, spaces and URL-significant characters in folder and file names give pages whose links
    resolve, from the record's appeal too."""
    record_path = f"content/records/2026/{name}/{name}.md"
    rid = f"2026/{name}/{name}"
    site = make_site({
        record_path: GOOD,
        "content/records/2026/qa.md": record(type_="qa_monthly", inspector="I05"),
        f"content/appeals/{name}.md": APPEAL.replace("record: r", f"record: {json.dumps(rid, ensure_ascii=False)}"),
    })
    before = snapshot(tmp_path)
    result = site.run("build")
    assert result.code == 0, result.err
    assert snapshot(tmp_path) == before
    output = site.root / "_site"
    assert "申诉理由" in parse(output / f"records/{rid}.html").text(), "the appeal found its record"
    problems = link_problems(output)
    assert not problems, "\n".join(problems[:20])
    hrefs = [a.get("href") for page in html_files(output) for a in parse(page).find_all("a") if a.get("href")]
    assert any(h.partition("#")[0].endswith(".html") and "%" in h for h in hrefs)


# ------------------------------------------------------------------------------------------------ resource bounds

def test_findings_per_record_are_capped(make_site, hazard):
    many = record(findings="".join(finding("a", 1) for _ in range(201)))
    hazard(make_site({R: many}), "too-many-findings", R, 7, 3, "200")


def test_yaml_values_are_capped(make_site, hazard, monkeypatch):
    from site_builder import limits

    monkeypatch.setattr(limits, "YAML_MAX_NODES", 1000)
    people = PEOPLE + "".join(f"  - {{id: X{n}, name: 某, role: qa}}\n" for n in range(300))
    hazard(make_site({}, people=people), "yaml-too-large", P, 143, 33, "1000")


def _body_of(output: Path, page: str) -> str:
    body = parse(output / page).find("div", "body")
    assert body is not None, page
    for element in body.iter():
        assert element.tag in {"div", "p", "br"}, f"plain text has no <{element.tag}>"
    return body.text()


FLOODS = [
    pytest.param("[" * 150_000, id="open-brackets"),
    pytest.param("[x](" * 30_000, id="unclosed-links"),
    pytest.param("<a " * 40_000, id="unclosed-tags"),
    pytest.param("&#91;" * 30_000, id="entities"),
    pytest.param("-\n" * 60_000, id="dash-lines"),
    pytest.param("1. " * 3000 + "x", id="nested-list-markers"),
    pytest.param(">" * 20_000 + " x", id="nested-quotes"),
    pytest.param("".join("    " * i + "- x\n" for i in range(60)), id="indented-lists"),
    pytest.param(("长" * 6000 + "\n\n") * 3, id="long-paragraphs"),
]


@pytest.mark.parametrize("body", FLOODS)
def test_markdown_floods_render_as_plain_text_with_a_warning(make_site, hazard, body):
    """Python-Markdown is quadratic on these (minutes for the `[` flood) or recursive (a crash); they are
    shown as written instead, at once. The render completing is the test; no clock is read."""
    site = make_site({R: record(body=body)})
    warning = hazard(site, "body-shown-as-text", R, 7, 1, "", build_fails=False)
    assert "Markdown" in warning["message"]
    shown = _body_of(site.root / "_site", "records/r.html")
    assert shown.replace("\n", "") == body.replace("\n", ""), "the text is shown whole and as written"


def test_a_body_just_within_the_bounds_is_still_markdown(make_site):
    body = "\n\n".join(["[链接](https://example.com/a) " + "[" * 100 + "x" * 200] * 4) + "\n\n- a\n  - b\n"
    site = make_site({R: record(body=body)})
    result = site.run("build")
    assert result.code == 0 and "body-shown-as-text" not in result.err, result.err
    page = parse(site.root / "_site/records/r.html").find("div", "body")
    assert page.find("a") is not None and page.find("ul") is not None


def test_markdown_recursion_is_never_a_crash(monkeypatch):
    from site_builder.markup import MarkdownRenderer

    renderer = MarkdownRenderer()

    def too_deep(text):
        raise RecursionError

    monkeypatch.setattr(renderer._md, "convert", too_deep)
    assert renderer.render("a <b>\n\nc") == "<p>a &lt;b&gt;</p>\n<p>c</p>"


# ------------------------------------------------------------------------------------------------ hostile content

PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(2)>',
    "'><svg onload=alert(3)>",
    "javascript:alert(4)",
    "</title><script>alert(5)</script>",
    "]]><script>alert(6)</script><![CDATA[",
    "{{ 7*7 }}",
    "&lt;script&gt;alert(8)&lt;/script&gt;",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCg5KTwvc2NyaXB0Pg==",
    "<a href=javascript:alert(10)>x</a>",
]
H = " ".join(PAYLOADS)  # one string that every field gets


def yq(text: str) -> str:
    """`text` as a YAML double-quoted scalar (a JSON string is one)."""
    return json.dumps(text, ensure_ascii=False)


HOSTILE_BODY = f"""\
{H}

[a](javascript:alert(11)) [b]( JaVaScRiPt:alert(12)) [c](data:text/html,x) <javascript:alert(13)>
[d](&#106;avascript:alert(14)) [e](vbscript:msgbox(15)) ![f](data:image/svg+xml,<svg onload=alert(16)>)
[g][ref] <a href="&#x6A;avascript:alert(17)">h</a> <img src=x onerror=alert(18)>

[ref]: javascript:alert(19)

<svg><script>alert(20)</script></svg><iframe srcdoc="<script>alert(21)</script>"></iframe>
<math><mtext><table><mglyph><style><img src=x onerror=alert(22)></style></mglyph></table></mtext></math>
<form action="javascript:alert(23)"><button>go</button></form><base href="javascript:alert(24)//">

[safe](https://example.com/ok)
"""
NAME = "x' onmouseover='alert(25)' (1)"  # a record id from a file name: quotes and spaces are allowed
SVG_TAGS = {"svg", "title", "desc", "rect", "text", "line", "polyline", "circle", "g", "path"}


def _hostile_site(make_site) -> SiteDir:
    people = f"""\
staff:
  - {{id: S001, name: {yq(H)}, post: reception, joined: 2025-03-01}}
  - {{id: S002, name: {yq(H + ' 2')}, post: reception, joined: 2025-03-01}}
inspectors:
  - {{id: I01, name: {yq(H + ' I01')}, role: supervisor}}
  - {{id: I05, name: {yq(H + ' I05')}, role: qa}}
  - {{id: I08, name: 周杰, role: office}}
"""
    rules = RULES.replace("company: 兴鸿业", f"company: {yq(H)}")
    rules = rules.replace("zh-CN: 客户服务中心绩效考评公示", f"zh-CN: {yq(H)}")
    assert rules.count(yq(H)) == 2
    note = f"- {{item: a, severity: general, points: 2, note: {yq(H)}, staff: S001}}\n" \
           f"- {{item: b, severity: general, points: 1, note: {yq(H)}, staff: S002}}\n"
    reason = f"- {{staff: S001, points: 2, reason: {yq(H)}}}\n"
    return make_site({
        f"content/records/2026/11/{NAME}.md": record(staff=["S001", "S002"], findings=note, commendations=reason,
                                                     body=HOSTILE_BODY),
        "content/records/2026/11/qa.md": record(type_="qa_monthly", inspector="I05", staff=["S001", "S002"],
                                                findings=note, body=HOSTILE_BODY),
        "content/appeals/a.md": f"---\nrecord: {yq(f'2026/11/{NAME}')}\nfinding: 1\nfiled: 2026-11-20\n"
                                f"decision: upheld\ndecided: 2026-11-24\ndecided_by: I05\n---\n{HOSTILE_BODY}",
        MO: f"---\nmonth: 2026-11\nclosed: 2026-11-25\nclosed_by: I05\n---\n{HOSTILE_BODY}",
    }, people=people, rules=rules)


def _check_html(path: Path, where: str, seen: set[str]) -> None:
    page = parse(path)
    for element in page.iter():
        assert element.tag not in FORBIDDEN_TAGS | {"math", "button", "frame", "applet"}, f"{where}: <{element.tag}>"
        for name, value in element.attrs:
            assert not name.lower().startswith("on"), f"{where}: <{element.tag} {name}={value!r}>"
            assert name.lower() not in ("srcdoc", "formaction"), f"{where}: <{element.tag} {name}>"
        if element.tag == "svg":
            assert element.get("class") == "chart" and not element.inside("div", "body"), f"{where}: <svg> from content"
            for inner in element.iter():
                assert inner.tag in SVG_TAGS, f"{where}: <{inner.tag}> inside a chart"
                assert not any(n.lower() in ("href", "xlink:href") for n, _ in inner.attrs), f"{where}: link in SVG"
                if inner.tag in ("text", "title") and H in inner.text():  # (a long label is cut short: whole in tooltips)
                    seen.add("chart label")
    for element, attr, url in links(page):
        assert scheme(url) in (None, "http", "https", "mailto"), f"{where}: <{element.tag} {attr}={url!r}>"
    if H in page.text():
        seen.add("page text")


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def test_hostile_content_in_every_field_reaches_no_output_as_markup(make_site, tmp_path):
    site = _hostile_site(make_site)
    before = snapshot(tmp_path)
    result = site.run("build")
    assert result.code == 0, result.err
    assert snapshot(tmp_path) == before
    output = site.root / "_site"
    seen: set[str] = set()
    kinds = set()
    for path in sorted(p for p in output.rglob("*") if p.is_file()):
        where = path.relative_to(output).as_posix()
        kinds.add(path.suffix)
        if path.suffix == ".html":
            _check_html(path, where, seen)
        elif path.suffix in (".xml", ".svg"):
            root = ET.parse(path).getroot()  # well-formed: no stray control characters or broken CDATA
            namespace = root.tag.partition("}")[0] + "}"
            for element in root.iter():
                assert element.tag.startswith(namespace), f"{where}: foreign element {element.tag}"
                assert element.tag.rpartition("}")[2] not in ("script", "foreignObject"), where
                assert not any(n.lower().startswith("on") for n in element.attrib), where
                href = element.get("href")
                assert href is None or scheme(href) is None, f"{where}: {href}"
                if H in (element.text or ""):
                    seen.add(f"{path.suffix} text")
        elif path.suffix == ".json" or path.name == ".site-builder":  # the manifest: one JSON value per line
            text = path.read_text(encoding="utf-8")
            data = [json.loads(line) for line in text.splitlines()] if path.suffix != ".json" else json.loads(text)
            if any(H in s for s in _strings(data)):
                seen.add("json")
        elif path.suffix == ".csv":
            rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
            if any(H in cell for row in rows for cell in row):
                seen.add("csv")
        elif path.suffix in (".css", ".md"):
            path.read_text(encoding="utf-8")  # layout assets and the data README: no content reaches them
        else:
            pytest.fail(f"{where}: an output kind this test does not check")
    assert {".html", ".xml", ".json", ".csv"} <= kinds
    # the payloads were shown, as text, everywhere they belong: the checks above had something to check
    assert seen >= {"page text", "chart label", ".xml text", "json", "csv"}, seen
    feed = ET.parse(output / "feed.xml").getroot()
    summaries = [e.text for e in feed.iter("{http://www.w3.org/2005/Atom}summary")]
    assert any(H + " I05" in s for s in summaries), summaries
    record_page = parse(output / f"records/2026/11/{NAME}.html")
    body_links = [a.get("href") for a in record_page.find("div", "body").find_all("a") if a.get("href")]
    assert body_links == ["https://example.com/ok"], body_links


# ------------------------------------------------------------------------------------------------ internal errors

def _one_clear_line(result, file: str) -> None:
    assert result.code == 3, (result.code, result.out, result.err)
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert "Traceback" not in result.err
    assert f"while processing {file}" in lines[0]
    assert "report" in lines[0] and "--debug" in lines[0]


@pytest.mark.parametrize("stage, target, file", [
    ("read", "site_builder.read.decode", "content/records/2026/11/b.md"),
    ("validate", "site_builder.validate.validate_record", "content/records/2026/11/b.md"),
    ("appeal", "site_builder.validate.validate_appeal", "content/appeals/b-1.md"),
    ("sign-off", "site_builder.validate.validate_sign_off", MO),
    ("people", "site_builder.validate.validate_people", P),
    ("rules", "site_builder.validate.load_rules", "rules.yaml"),
])
def test_an_internal_error_names_the_file_being_processed(make_site, monkeypatch, stage, target, file):
    module, _, name = target.rpartition(".")
    import importlib

    real = getattr(importlib.import_module(module), name)

    def broken(*args, **kwargs):
        if file in [getattr(a, "path", a) for a in args]:  # a Source, or the path itself
            raise KeyError("boom")
        return real(*args, **kwargs)

    monkeypatch.setattr(target, broken)
    site = make_site({"content/records/2026/11/a.md": GOOD, "content/records/2026/11/b.md": GOOD,
                      "content/appeals/b-1.md": APPEAL.replace("record: r", "record: 2026/11/b"),
                      MO: "---\nmonth: 2026-11\nclosed: 2026-11-25\nclosed_by: I05\n---\n"})
    for command in (("check",), ("build",), ("scores",)):
        _one_clear_line(site.run(*command), file)
    debug = site.run("check", "--debug")
    assert debug.code == 3 and "Traceback" in debug.err and "KeyError: 'boom'" in debug.err
    assert file in debug.err
