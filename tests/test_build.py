"""`site-builder build` as a reader of the built site sees it: the pages, their links, and what never leaks in.

Every HTML page is parsed with the standard library's html.parser; assertions look at elements and attributes,
not at substrings of the file.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import pytest

from conftest import REPO, example_site, record

# ---------------------------------------------------------------------------------------------- reading pages

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@dataclass(eq=False)
class Element:
    tag: str
    attrs: list[tuple[str, str | None]]
    parent: Element | None = None
    children: list = field(default_factory=list)  # Elements and text

    def get(self, name: str) -> str | None:
        return next((value for key, value in self.attrs if key == name), None)

    @property
    def classes(self) -> set[str]:
        return set((self.get("class") or "").split())

    def iter(self):
        yield self
        for child in self.children:
            if isinstance(child, Element):
                yield from child.iter()

    def find_all(self, tag: str, cls: str | None = None) -> list[Element]:
        return [e for e in self.iter() if e.tag == tag and (cls is None or cls in e.classes)]

    def find(self, tag: str, cls: str | None = None) -> Element | None:
        return next(iter(self.find_all(tag, cls)), None)

    def text(self) -> str:
        return "".join(c.text() if isinstance(c, Element) else c for c in self.children)

    def inside(self, tag: str, cls: str) -> bool:
        node = self.parent
        while node is not None:
            if node.tag == tag and cls in node.classes:
                return True
            node = node.parent
        return False


class _TreeBuilder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", [])
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        element = Element(tag, attrs, self.stack[-1])
        self.stack[-1].children.append(element)
        if tag not in VOID:
            self.stack.append(element)

    def handle_startendtag(self, tag, attrs):
        self.stack[-1].children.append(Element(tag, attrs, self.stack[-1]))

    def handle_endtag(self, tag):
        if any(e.tag == tag for e in self.stack[1:]):
            while self.stack.pop().tag != tag:
                pass

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def parse(path: Path) -> Element:
    builder = _TreeBuilder()
    builder.feed(path.read_text(encoding="utf-8"))
    builder.close()
    return builder.root


def html_files(out: Path) -> list[Path]:
    return sorted(out.rglob("*.html"))


def tree(folder: Path) -> dict[str, bytes]:
    """Every file below `folder`, by relative path, with its bytes."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


_SCHEME = re.compile(r"([a-zA-Z][a-zA-Z0-9+.\-]*):")


def scheme(url: str) -> str | None:
    """The scheme a browser would see: it strips surrounding spaces/controls and ignores tabs and newlines."""
    cleaned = re.sub(r"[\t\n\r]", "", url).strip("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f"
                                                   "\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c"
                                                   "\x1d\x1e\x1f ")
    match = _SCHEME.match(cleaned)
    return match.group(1).lower() if match else None


def links(page: Element):
    """(element, attribute, url) for every href and src in a page."""
    for element in page.iter():
        for name, value in element.attrs:
            if name in ("href", "src") and value is not None:
                yield element, name, value


def link_problems(out: Path) -> list[str]:
    """Every link that would not work for a reader opening `out` from any folder or from file://."""
    pages = {path: parse(path) for path in html_files(out)}
    ids: dict[Path, set[str]] = {}
    problems = []
    for path, page in pages.items():
        seen: set[str] = set()
        for element in page.iter():
            if (value := element.get("id")) is not None:
                if value in seen:
                    problems.append(f"{path.relative_to(out)}: duplicate id {value!r}")
                seen.add(value)
        ids[path] = seen
    for path, page in pages.items():
        where = path.relative_to(out).as_posix()
        for element, attr, url in links(page):
            here = f"{where}: <{element.tag} {attr}={url!r}>"
            if url.startswith("//") or scheme(url) is not None:
                in_body = element.inside("div", "body")
                if not (in_body and scheme(url) in ("http", "https", "mailto")):
                    problems.append(f"{here}: absolute URL outside a sanitized Markdown body")
                continue
            if url.startswith("/"):
                problems.append(f"{here}: root-relative link breaks in a subfolder and from file://")
                continue
            target_part, _, anchor = url.partition("#")
            if target_part:
                joined = posixpath.normpath(posixpath.join(posixpath.dirname(where), unquote(target_part)))
                if joined.startswith("../") or joined == "..":
                    problems.append(f"{here}: leaves the site folder")
                    continue
                target = out / joined
                if not target.is_file():
                    problems.append(f"{here}: no such file {joined}")
                    continue
            else:
                target = path
            if anchor:
                if target.suffix != ".html":
                    problems.append(f"{here}: anchor into a non-page")
                elif unquote(anchor) not in ids[target]:
                    problems.append(f"{here}: no id {unquote(anchor)!r} in {target.relative_to(out).as_posix()}")
    return problems


# ------------------------------------------------------------------------------------------------ sites

@pytest.fixture(scope="module")
def built_example(tmp_path_factory) -> Path:
    """The example built once into <copy>/_site; tests read it and must not change it."""
    site = example_site(tmp_path_factory.mktemp("example") / "site")
    result = site.run("build")
    assert result.code == 0, result.err
    return site.root / "_site"


def clean_failure(result, code: int) -> None:
    assert result.code == code, (result.code, result.out, result.err)
    assert "Traceback" not in result.out + result.err
    assert "internal error" not in result.err, result.err


def siblings(output: Path) -> set[str]:
    return {p.name for p in output.parent.iterdir()}


def leftovers(output: Path) -> list[str]:
    """Staging or previous-site folders a build left beside the output."""
    if not output.parent.exists():
        return []
    return sorted(p.name for p in output.parent.iterdir() if re.search(r"\.(staging|old)-", p.name))


# ------------------------------------------------------------------------------------------------ 1. totals

def _total_shown(page: Element) -> Decimal | None:
    """The total row of the 'why this score' breakdown table, as the reader sees it."""
    table = page.find("table", "breakdown")
    if table is None:
        return None
    rows = [tr for tr in table.find_all("tr") if "total" in tr.classes]
    assert len(rows) == 1, "the breakdown has exactly one total row"
    cell = rows[0].find("td", "num")
    return Decimal(cell.text().strip())


def test_example_builds_and_every_staff_period_page_shows_the_total_in_scores_json(built_example):
    scores = json.loads((built_example / "data" / "scores.json").read_text(encoding="utf-8"))
    assert scores["months"], "the example has periods"
    expected = set()
    for month, period in scores["months"].items():
        for sid, entry in period["staff"].items():
            for prefix in ("", "en/"):
                path = f"{prefix}staff/{sid}/{month}.html"
                expected.add(path)
                page_file = built_example / path
                assert page_file.is_file(), f"missing {path}"
                page = parse(page_file)
                if entry["total"] is None:
                    assert page.find("table", "breakdown") is None, f"{path} shows a total for an unscored period"
                    assert page.find("p", "unscored") is not None, f"{path} does not say why there is no score"
                else:
                    assert _total_shown(page) == Decimal(str(entry["total"])), path
    pages = {p.relative_to(built_example).as_posix() for p in html_files(built_example)}
    appraisal_pages = {p for p in pages if re.fullmatch(r"(en/)?staff/[^/]+/\d{4}-\d{2}\.html", p)}
    assert appraisal_pages == expected, "a staff-period page without scores, or scores without a page"


def test_every_printed_form_says_whether_its_period_is_published(built_example):
    scores = json.loads((built_example / "data" / "scores.json").read_text(encoding="utf-8"))
    for month, period in scores["months"].items():
        for sid, entry in period["staff"].items():
            if entry["total"] is None:
                continue
            html = (built_example / "en" / "staff" / sid / f"{month}.html").read_text(encoding="utf-8")
            forms = html.split('<section class="form-sheet"')[1:]  # what prints: the no-print header does not
            word = "Published" if period["status"] == "published" else "Provisional"
            assert forms and all(f'{word}</strong>' in form.split("</header>")[0] for form in forms), (sid, month)


def test_example_staff_pages_link_each_period_with_its_total(built_example):
    scores = json.loads((built_example / "data" / "scores.json").read_text(encoding="utf-8"))
    for sid in {sid for period in scores["months"].values() for sid in period["staff"]}:
        page = parse(built_example / "staff" / f"{sid}.html")
        rows = {}
        for tr in page.find("table", "scores").find("tbody").find_all("tr"):
            rows[tr.find("a").get("href")] = tr.find("td", "total").text().strip()
        for month, period in scores["months"].items():
            if sid in period["staff"]:
                total = period["staff"][sid]["total"]
                shown = rows[f"{sid}/{month}.html"]
                if total is not None:
                    assert Decimal(shown) == Decimal(str(total)), (sid, month)


# ------------------------------------------------------------------------------------------------ 2. links

def test_every_link_of_the_example_resolves(built_example):
    assert len(html_files(built_example)) > 50
    problems = link_problems(built_example)
    assert not problems, "\n".join(problems[:30])


def test_link_checker_catches_broken_links(tmp_path):
    """The checker itself can fail: a missing file, a missing anchor, an absolute URL, a root-relative link."""
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "page.html").write_text(
        '<p id="x"><a href="missing.html">1</a><a href="#nope">2</a><a href="https://example.com/">3</a>'
        '<a href="/a/page.html">4</a><a href="page.html#x">ok</a><a href="../a/page%2Ehtml">ok</a></p>',
        encoding="utf-8")
    problems = link_problems(tmp_path)
    assert len(problems) == 4, problems


# ------------------------------------------------------------------------------------------------ 3. determinism

def test_same_sources_give_byte_identical_output(tmp_path):
    """Three builds of the same sources, from three copies at different paths (the third's layouts/ are the
    shipped ones themselves, as when the repository is built), in processes with different hash seeds, into
    different output folders."""
    outputs = []
    for n, seed in ((1, "1"), (2, "2"), (3, "3")):
        root = example_site(tmp_path / f"copy{n}" / f"site-{n}").root
        if n == 3:
            shutil.rmtree(root / "layouts")
            (root / "layouts").symlink_to(REPO / "layouts")
        output = tmp_path / f"out{n}"
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(REPO)}
        done = subprocess.run([sys.executable, "-m", "site_builder", "build", "--root", str(root),
                               "--output", str(output)], cwd=tmp_path, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        outputs.append(tree(output))
    first = outputs[0]
    for other in outputs[1:]:
        assert sorted(first) == sorted(other)
        differ = [path for path in first if first[path] != other[path]]
        assert not differ, f"different bytes in {differ[:10]}"


# ------------------------------------------------------------------------------------------------ 4. failed build

def test_failed_build_leaves_the_previous_site_intact(tmp_path):
    site = example_site(tmp_path / "site")
    output = site.root / "_site"
    assert site.run("build").code == 0
    before, beside = tree(output), siblings(output)
    assert (output / ".site-builder").is_file()

    broken = "content/records/2026/11/2026-11-06-weekly-S001.md"
    text = (site.root / broken).read_text(encoding="utf-8")
    lines = text.splitlines()
    line = lines.index("date: 2026-11-06") + 1
    site.write(broken, text.replace("date: 2026-11-06", "date: 2026-11-31"))

    result = site.run("build")
    clean_failure(result, 1)
    assert f"{broken}:{line}:" in result.err, result.err
    assert f"1 error; nothing was written, {output} is unchanged" in result.err
    assert tree(output) == before
    assert siblings(output) == beside
    assert leftovers(output) == []


@pytest.mark.parametrize("fails", ["a full disk", "an output made unreplaceable"])
def test_a_write_that_fails_is_said_plainly_and_publishes_nothing(tmp_path, monkeypatch, fails):
    import errno

    from site_builder import publish

    site = example_site(tmp_path / "site")
    output = site.root / "_site"
    assert site.run("build").code == 0
    before = tree(output)
    site.write("content/records/2026/11/new.md", record(date="2026-11-20"))
    if fails == "a full disk":
        def write(self, rel, data):
            raise OSError(errno.ENOSPC, "No space left on device", str(self.staging / rel))
        monkeypatch.setattr(publish.Writer, "write", write)
        says = "No space left on device"
    else:
        def exchange(a, b):
            raise OSError(errno.EPERM, "Operation not permitted", str(a))
        monkeypatch.setattr(publish, "_exchange", exchange)
        says = "Operation not permitted"
    result = site.run("build")
    assert result.code == 2 and "Traceback" not in result.err and "internal error" not in result.err, result.err
    assert f"cannot write the site to {output}: {says}" in result.err and "nothing was published" in result.err
    assert ("free some space" in result.err) == (fails == "a full disk")
    assert ("make that folder writable" in result.err) == (fails != "a full disk")
    assert tree(output) == before and leftovers(output) == []


def test_every_file_of_a_release_has_the_mode_the_umask_gives(tmp_path):
    site = example_site(tmp_path / "site")
    output = site.root / "_site"

    def modes() -> set[tuple[str, int]]:
        return {("folder" if path.is_dir() else "file", path.stat().st_mode & 0o777) for path in output.rglob("*")}

    before = os.umask(0o077)
    try:
        assert site.run("build").code == 0
        assert modes() == {("folder", 0o700), ("file", 0o600)}
        os.umask(0o022)  # the next build, by someone else: every file is readable, not only those it made
        site.write("content/records/2026/11/new.md", record(date="2026-11-20"))
        assert site.run("build").code == 0
        assert modes() == {("folder", 0o755), ("file", 0o644)}
        assert "nothing changed" in site.run("build").out
        os.umask(0o077)  # nothing changed but the umask: published again
        assert "nothing changed" not in site.run("build").out
        assert modes() == {("folder", 0o700), ("file", 0o600)}
        for umask, folders in ((0o027, 0o750), (0o026, 0o751)):  # the same files' mode, another folders'
            os.umask(umask)
            assert "nothing changed" not in site.run("build").out
            assert modes() == {("folder", folders), ("file", 0o640)}
        site.write("content/records/2026/11/new.md", record(date="2026-11-21"))  # (the spare is 027's)
        assert site.run("build").code == 0 and modes() == {("folder", 0o751), ("file", 0o640)}
    finally:
        os.umask(before)


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_build_leaves_nothing_for_git_to_pick_up_beside_the_output(tmp_path):
    """Whatever a build writes beside `_site/` (its lock) is ignored by the shipped .gitignore, so an inspector's
    `git add -A` never commits it."""
    site = example_site(tmp_path / "site")
    shutil.copy2(REPO / ".gitignore", site.root / ".gitignore")
    assert site.run("build").code == 0
    assert site.run("build").code == 0  # the second build swaps the first out
    subprocess.run(["git", "init", "-q", str(site.root)], check=True)
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=site.root,
                            capture_output=True, text=True, check=True).stdout
    untracked = {line[3:].strip('"') for line in status.splitlines()}
    stray = {p for p in untracked if p != ".gitignore" and p != "rules.yaml"
             and not p.startswith(("content/", "layouts/"))}
    assert stray == set(), f"a build left files git would commit: {sorted(stray)}"


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_a_site_linked_to_the_web_root_is_ignored_by_git_too(tmp_path):
    site = example_site(tmp_path / "site")
    shutil.copy2(REPO / ".gitignore", site.root / ".gitignore")
    (tmp_path / "www").mkdir()
    (site.root / "_site").symlink_to(tmp_path / "www")  # a link: a file to git, which `_site/` does not match
    assert site.run("build").code == 0
    subprocess.run(["git", "init", "-q", str(site.root)], check=True)
    status = subprocess.run(["git", "status", "--porcelain"], cwd=site.root, capture_output=True, text=True,
                            check=True).stdout
    assert "_site" not in status and ".site-builder" not in status


def test_failed_build_into_a_new_folder_creates_nothing(tmp_path):
    site = example_site(tmp_path / "site")
    site.write("content/records/2026/11/bad.md", record(date="2026-02-30", staff="S001"))
    output = tmp_path / "out"
    result = site.run("build", "--output", str(output))
    clean_failure(result, 1)
    assert f"1 error; nothing was written (no site at {output} yet)" in result.err  # (not "unchanged")
    assert not output.exists()
    assert leftovers(output) == []


# ------------------------------------------------------------------------------------------------ 5. hostile

SCRIPT = '<script>alert(1)</script>'
ATTR = '" onmouseover="x'
HOSTILE_BODY = f"""\
Intro {SCRIPT}

<img src=x onerror=alert(1)>

[x](javascript:alert(1)) and [y]( JaVaScRiPt:alert(2)) and <javascript:alert(3)>

<a href="data:text/html,<script>alert(4)</script>">d</a>

<iframe src="https://example.com"></iframe><style>body{{display:none}}</style><form action="x"></form>

<svg><script>alert(5)</script></svg> <a href="https://example.com/c" onclick="alert(6)">c</a>

[safe](https://example.com/ok)
"""

HOSTILE_PEOPLE = f"""\
staff:
  - {{id: S001, name: '{SCRIPT}{ATTR}', post: reception, joined: 2025-03-01}}
  - {{id: S002, name: 王芳, post: reception, joined: 2025-03-01}}
inspectors:
  - {{id: I01, name: '<b onmouseover=alert(7)>李娜</b>', role: supervisor}}
  - {{id: I05, name: 陈静, role: qa}}
  - {{id: I08, name: 周杰, role: office}}
"""


def _hostile_record() -> str:
    findings = f"""\
- item: a
  severity: general
  points: 2
  note: '{SCRIPT}{ATTR}'
  procedure: 住户咨询作业规程及标准
"""
    commendations = f"""\
- staff: S001
  points: 2
  reason: '<img src=x onerror=alert(8)>{ATTR}'
"""
    return record(staff="S001", findings=findings, commendations=commendations, body=HOSTILE_BODY)


FORBIDDEN_TAGS = {"script", "iframe", "object", "embed", "style", "form", "base", "img", "foreignobject"}


def _is_build_time_chart(element) -> bool:
    """The only SVG allowed: a chart site-builder drew, never one from a Markdown body."""
    node = element.parent
    while node is not None:
        if node.tag == "div" and "body" in (node.get("class") or "").split():
            return False
        node = node.parent
    return element.get("class") == "chart"


def test_hostile_content_is_inert_on_every_page(make_site):
    site = make_site({
        "content/records/2026/11/hostile.md": _hostile_record(),
        "content/records/2026/11/qa.md": record(type_="qa_monthly", inspector="I05", staff="S001",
                                                body=HOSTILE_BODY),
        "content/appeals/hostile-1.md": "---\nrecord: 2026/11/hostile\nfinding: 1\nfiled: 2026-11-20\n---\n"
                                        + HOSTILE_BODY,
    }, people=HOSTILE_PEOPLE)
    result = site.run("build")
    assert result.code == 0, result.err
    output = site.root / "_site"
    pages = html_files(output)
    assert pages
    for path in pages:
        page = parse(path)
        where = path.relative_to(output).as_posix()
        for element in page.iter():
            assert element.tag not in FORBIDDEN_TAGS, f"{where}: <{element.tag}> element"
            assert element.tag != "svg" or _is_build_time_chart(element), f"{where}: <svg> from content"
            for name, value in element.attrs:
                assert not name.lower().startswith("on"), f"{where}: <{element.tag} {name}={value!r}>"
        for element, attr, url in links(page):
            assert scheme(url) not in ("javascript", "data", "vbscript"), f"{where}: <{element.tag} {attr}={url!r}>"

    # The payloads are shown as text, not dropped: the test above is not passing because nothing was rendered.
    staff_page = parse(output / "staff" / "S001.html")
    assert SCRIPT + ATTR in staff_page.find("h1").text()
    assert SCRIPT + ATTR in staff_page.find("table", "findings").text()
    record_page = parse(output / "records" / "2026" / "11" / "hostile.html")
    assert "<img src=x onerror=alert(8)>" in record_page.text()
    body = record_page.find("div", "body")
    hrefs = [a.get("href") for a in body.find_all("a") if a.get("href")]
    assert hrefs == ["https://example.com/c", "https://example.com/ok"]

    json.loads((output / "data" / "scores.json").read_text(encoding="utf-8"))
    assert SCRIPT in (output / "data" / "findings.csv").read_text(encoding="utf-8")


# ------------------------------------------------------------------------------------------------ 6. subfolder

def test_site_works_from_a_nested_folder(built_example, tmp_path):
    moved = tmp_path / "deep" / "nested" / "folder"
    shutil.copytree(built_example, moved)
    problems = link_problems(moved)
    assert not problems, "\n".join(problems[:30])
    for path in html_files(moved):
        for element, attr, url in links(parse(path)):
            assert not url.startswith("/"), f"{path.relative_to(moved)}: <{element.tag} {attr}={url!r}>"


# ------------------------------------------------------------------------------------------------ 7. file names

def test_record_with_chinese_and_space_in_its_file_name_is_linked(make_site):
    name = "检查 记录"
    site = make_site({
        f"content/records/2026/11/{name}.md": record(staff="S001"),
        "content/records/2026/11/qa.md": record(type_="qa_monthly", inspector="I05", staff="S001"),
    })
    result = site.run("build")
    assert result.code == 0, result.err
    output = site.root / "_site"
    for prefix in ("", "en/"):
        target = output / f"{prefix}records/2026/11/{name}.html"
        assert target.is_file()
        for source in (f"{prefix}staff/S001/2026-11.html", f"{prefix}inspectors/I01.html"):
            hrefs = [a.get("href") for a in parse(output / source).find_all("a") if a.get("href")]
            found = [h for h in hrefs if (output / source).parent.joinpath(unquote(h.partition("#")[0])).resolve()
                     == target.resolve()]
            assert found, f"{source} does not link {target.relative_to(output)}; links: {hrefs}"
            assert all(" " not in h and name not in h for h in found), f"not percent-encoded: {found}"
    problems = link_problems(output)
    assert not problems, "\n".join(problems[:30])


# ------------------------------------------------------------------------------------------------ 8. --output

def test_build_output_writes_where_asked(make_site, tmp_path):
    site = make_site({"content/records/2026/11/r.md": record(staff="S001")})
    output = tmp_path / "elsewhere" / "public"
    result = site.run("build", "--output", str(output))
    assert result.code == 0, result.err
    assert (output / "index.html").is_file()
    assert (output / "data" / "scores.json").is_file()
    assert not (site.root / "_site").exists()


def test_a_default_output_linked_to_the_web_root_publishes_there(make_site, tmp_path):
    site = make_site({"content/records/2026/11/r.md": record(staff="S001")})
    www = tmp_path / "www"
    www.mkdir()
    (site.root / "_site").symlink_to(www)
    for _ in range(2):  # (the second build swaps releases: the link stays, and leads to the new one)
        site.write("content/records/2026/11/r.md", record(staff="S001", body=f"第{_}次。"))
        result = site.run("build")
        assert result.code == 0, result.err
        assert (site.root / "_site").is_symlink() and (www / "index.html").is_file()
        assert f"第{_}次。" in (www / "en/records/2026/11/r.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("where, says", [(".", "would replace the site's own folder"),
                                         ("..", "would replace the site's own folder"),
                                         ("content", "is inside the site's sources"),
                                         ("content/records/out", "is inside the site's sources"),
                                         ("layouts", "is inside the site's sources")])
def test_build_output_onto_the_sources_is_refused(tmp_path, where, says):
    site = example_site(tmp_path / "site")
    before = tree(site.root)
    result = site.run("build", "--output", str(site.root / where))
    clean_failure(result, 2)
    assert "--output" in result.err and says in result.err
    assert tree(site.root) == before


def test_build_output_into_a_foreign_folder_is_refused(make_site, tmp_path):
    site = make_site({"content/records/2026/11/r.md": record(staff="S001")})
    output = tmp_path / "documents"
    output.mkdir()
    (output / "thesis.txt").write_text("mine", encoding="utf-8")
    (output / "sub").mkdir()
    (output / "sub" / "notes.md").write_text("also mine", encoding="utf-8")
    before, beside = tree(output), siblings(output)
    result = site.run("build", "--output", str(output))
    clean_failure(result, 2)
    assert str(output) in result.err
    assert tree(output) == before
    assert {p.relative_to(output).as_posix() for p in output.rglob("*")} == {"thesis.txt", "sub", "sub/notes.md"}
    assert leftovers(output) == []
    assert {n for n in siblings(output) if n not in beside} == set()  # not even a lock file


def test_build_output_into_its_own_previous_site_is_replaced(make_site, tmp_path):
    site = make_site({"content/records/2026/11/r.md": record(staff="S001")})
    output = tmp_path / "public"
    assert site.run("build", "--output", str(output)).code == 0
    (output / "stale.html").write_text("old", encoding="utf-8")
    assert site.run("build", "--output", str(output)).code == 0
    assert not (output / "stale.html").exists()
    assert leftovers(output) == []


# ------------------------------------------------------------------------------------------------ 9. layouts

@pytest.mark.parametrize("layout, old, new", [
    ("staff.html", "{% block main %}", "{% block main %}{{ undefined_name }}"),
    ("staff.html", "{% block main %}", "{% block main %}{% if %}"),
    ("partials/form.html", "{{ person.name }} ({{ person.id }})", "{{ person.nickname.first }}"),
    ("base.html", "</main>", "</main>{% endfor %}"),
])
def test_broken_layout_is_reported_with_file_and_line(tmp_path, layout, old, new):
    site = example_site(tmp_path / "site")
    output = site.root / "_site"
    assert site.run("build").code == 0
    before = tree(output)
    path = site.root / "layouts" / layout
    text = path.read_text(encoding="utf-8")
    line = next(n for n, content in enumerate(text.splitlines(), 1) if old in content)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")

    result = site.run("build")
    clean_failure(result, 1)
    assert f"layouts/{layout}:{line}:" in result.err, result.err
    assert tree(output) == before
    assert leftovers(output) == []


def test_layouts_call_helpers_directly_but_still_pass_the_context_to_those_that_ask(tmp_path):
    import jinja2

    from site_builder.render import _environment

    (tmp_path / "page.html").write_text(
        "{% macro row(n) %}<{{ twice(n) }}{{ caller() }}>{% endmacro %}"
        "{% for n in range(2) %}{{ twice(n) }}{% call row(n) %}{{ where() }}{{ twice(n=n) }}{% endcall %}{% endfor %}",
        encoding="utf-8")
    env = _environment((str(tmp_path),), watch=False, fingerprint="")
    page = env.get_template("page.html").render(
        twice=lambda n: n * 2, where=jinja2.pass_context(lambda context: context.name))
    assert page == "0<0page.html0>2<2page.html2>"


def test_relative_links_in_bodies_are_dropped_but_their_text_stays(make_site):
    body = "See [the key log](../keys.html), [the rules](https://example.com/rules) and [above](#top)."
    site = make_site({"content/records/r.md": record(body=body)})
    assert site.run("build").code == 0
    page = (site.root / "_site/records/r.html").read_text(encoding="utf-8")
    assert "the key log" in page and 'href="../keys.html"' not in page and 'href="#top"' not in page
    assert 'href="https://example.com/rules"' in page


def test_a_site_overriding_one_template_keeps_the_shipped_strings_and_assets(make_site):
    site = make_site({"content/records/r.md": record()})
    shipped = (REPO / "layouts" / "record.html").read_text(encoding="utf-8")
    site.write("layouts/record.html", shipped.replace("<h1>", '<h1 class="ours">'))
    result = site.run("build")
    assert result.code == 0 and "missing-catalog" not in result.err, result.err
    page = (site.root / "_site" / "en" / "records" / "r.html").read_text(encoding="utf-8")
    assert '<h1 class="ours">' in page and ">Inspector<" in page and "record_id" not in page
    assert (site.root / "_site" / "assets" / "style.css").read_bytes() == \
        (REPO / "layouts" / "assets" / "style.css").read_bytes()


@pytest.mark.parametrize("file, text, code, where, says", [
    ("layouts/i18n/en.yaml", 'signed_off_by: "signed off by {nme} on {date}"\n', "bad-ui-string",
     "layouts/i18n/en.yaml:1:16", "{nme} is not a value this text is given (it is given: {date}, {name})"),
    ("layouts/i18n/en.yaml", 'revisions: "{count commit(s)"\n', "bad-ui-string", "layouts/i18n/en.yaml:1:12",
     "not matched"),
    ("layouts/i18n/en.yaml", 'appraisal_title: "{name!z}"\n', "layout-error", "layouts/appraisal.html:",
     "UI string `appraisal_title` (en) cannot be filled in"),
    ("layouts/inspector.html", "{% extends 'base.html' %}{% block main %}{{ inspector_id / 0 }}{% endblock %}\n",
     "layout-error", "layouts/inspector.html:1:", "unsupported operand"),
    ("layouts/inspector.html", "{% extends 'base.html' %}{% block main %}{{ analytics.profile() }}{% endblock %}\n",
     "layout-error", "layouts/inspector.html:1:", "missing 1 required positional argument"),
])
def test_a_mistake_in_a_sites_ui_strings_or_layout_is_reported_where_it_is(make_site, file, text, code, where, says):
    site = make_site({"content/records/r.md": record()})
    site.write(file, text)
    result = site.run("build")
    clean_failure(result, 1)
    [line] = [line for line in result.err.splitlines() if f" {code}: " in line]
    assert where in line and says in line, result.err


def test_every_ui_string_the_shipped_layouts_name_is_in_every_shipped_catalogue():
    import yaml

    named = set()
    for path in (REPO / "layouts").rglob("*"):
        if path.suffix in (".html", ".xml", ".md"):
            named |= set(re.findall(r"\bt\('([a-z_]+)'\s*[,)]", path.read_text(encoding="utf-8")))
    assert {"check_types", "list_separator", "record_id"} <= named
    for catalogue in (REPO / "layouts" / "i18n").glob("*.yaml"):
        strings = yaml.safe_load(catalogue.read_text(encoding="utf-8"))
        assert named - set(strings) == set(), catalogue.name  # else the page shows the key itself


def test_a_site_layout_written_for_an_earlier_version_still_builds(make_site):
    site = make_site({"content/records/r.md": record()})
    shipped = (REPO / "layouts" / "staff.html").read_text(encoding="utf-8")
    older = shipped.replace("analytics.changes(history_of, rules.decimals)", "analytics.changes(history_of)")
    assert older != shipped
    site.write("layouts/staff.html", older)  # as layouts copied before `changes` was given the decimals
    rules_page = (REPO / "layouts" / "rules.html").read_text(encoding="utf-8")
    rules_page = re.sub(r"\{\{ t\('rule_sheets_of'.*?</li>", "{{ t('rule_sheets') }}</li>", rules_page, flags=re.S)
    rules_page = re.sub(r"\{\{ t\('rule_punishable_of'.*?\}\}", "{{ t('rule_punishable') }}", rules_page)
    assert "rule_sheets_of" not in rules_page and "rule_punishable_of" not in rules_page
    site.write("layouts/rules.html", rules_page)  # as copied before the rules page named the site's own sheets
    result = site.run("build")
    assert result.code == 0, result.err
    page = (site.root / "_site/en/rules.html").read_text(encoding="utf-8")
    assert "{" not in page.split("<main", 1)[1] and "each give one sheet per period" in page  # no raw placeholder


def test_an_installed_wheel_carries_the_shipped_layouts_and_builds_a_site_without_its_own(make_site, tmp_path):
    import zipfile

    source = tmp_path / "source"  # built from a copy: pip would leave build/ and egg-info in the checkout
    for name in ("site_builder", "layouts"):
        shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    made = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "wheel"),
                           str(source)], capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    wheel = zipfile.ZipFile(next((tmp_path / "wheel").glob("*.whl")))
    shipped = sorted(f"site_builder/layouts/{p.relative_to(REPO / 'layouts').as_posix()}"
                     for p in (REPO / "layouts").rglob("*") if p.is_file())
    assert sorted(n for n in wheel.namelist() if n.startswith("site_builder/layouts/")) == shipped
    wheel.extractall(tmp_path / "installed")

    site = make_site({"content/records/2026/11/sup-S001.md": record()})
    assert not (site.root / "layouts").exists()
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "installed")}
    where = subprocess.run([sys.executable, "-c", "import site_builder; print(site_builder.__file__)"], env=env,
                           capture_output=True, text=True, cwd=tmp_path)
    assert where.stdout.startswith(str(tmp_path / "installed"))  # the wheel's copy, not the checkout
    built = subprocess.run([sys.executable, "-m", "site_builder", "--root", str(site.root), "build", "--quiet"],
                           env=env, capture_output=True, text=True, cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    assert "S001" in (site.root / "_site/staff/S001.html").read_text(encoding="utf-8")


def test_points_are_shown_as_written_while_scores_are_rounded(make_site):
    from conftest import RULES, finding

    rules = RULES.replace("  step: 0.5 ", "  step: 0.25", 1)
    site = make_site({"content/records/2026/11/r.md": record(findings=finding("a", 1.25))}, rules=rules)
    assert site.run("build").code == 0
    form = (site.root / "_site/en/staff/S001/2026-11.html").read_text(encoding="utf-8")
    assert "−1.25" in form and "−1.3" not in form  # the deduction as recorded
    assert ">8.8<" in form and ">98.8<" in form  # the item's and the sheet's scores, to one decimal


def test_numbers_beyond_decimals_default_28_digits_are_scored_and_shown_exactly(make_site):
    from conftest import RULES, finding

    big = "1" + "0" * 27  # a cap written as "no cap", an item worth that much: Decimal's default context fails
    rules = RULES.replace("  total_cap: 100 ", f"  total_cap: {big} ").replace("        full: 10\n", f"        full: {big}\n", 1)
    site = make_site({"content/records/2026/11/r.md": record(findings=finding("a", 2))}, rules=rules)
    result = site.run("build")
    assert result.code == 0, result.err
    sheet = site.scores("2026-11")["2026-11"]["staff"]["S001"]["sheets"]["supervisor_monthly"]
    assert sheet["items"]["a"] == int(big) - 2 and sheet["score"] == int(big) + 88
    assert f"{big}.0" in (site.root / "_site/en/rules.html").read_text(encoding="utf-8")


def test_the_rules_page_states_the_sites_own_check_types_and_punishable_bands(make_site):
    from conftest import RULES

    rules = RULES.replace("  punishable: [adverse]", "  punishable: []")
    rules = rules.replace('en: "Supervisor\'s monthly check"', 'en: Team lead round')
    site = make_site({"content/records/2026/11/r.md": record()}, rules=rules)
    assert site.run("build").code == 0
    page = (site.root / "_site/en/rules.html").read_text(encoding="utf-8")
    assert "full marks: Team lead round, " in page and "count toward the sheet of Team lead round" in page
    assert "must be punished" not in page  # no band may be marked punishable here
    # a rate band's threshold is published with it, whatever its definition says
    assert "1.0–2.0 Points · for a rate 5 or more percentage points below the required one</dt>" in page
    assert "3.0–5.0 Points · for a rate 10 or more percentage points below the required one</dt>" in page


def test_the_rules_page_lists_the_sites_readings_of_the_procedure_as_readings(make_site):
    from conftest import RULES

    site = make_site({"content/records/2026/11/r.md": record()})
    assert site.run("build").code == 0
    page = (site.root / "_site/en/rules.html").read_text(encoding="utf-8")
    assert "How this site reads the procedure&#39;s unclear clauses" in page
    assert "it alone decides appeals against a finding" in page and "never banker&#39;s rounding" in page
    assert "考评期：各表于每月25日前收集" in (site.root / "_site/rules.html").read_text(encoding="utf-8")
    start, end = RULES.index("  readings:"), RULES.index("\nsite:")
    without = make_site({"content/records/2026/11/r.md": record()}, rules=RULES[:start] + RULES[end:])
    assert without.run("build").code == 0
    assert "unclear clauses" not in (without.root / "_site/en/rules.html").read_text(encoding="utf-8")
    broken = make_site({}, rules=RULES[:start] + "  readings: 12\n" + RULES[end:])
    errors = broken.run("check", "--format", "json").json()["errors"]
    assert [(e["code"], e["file"]) for e in errors] == [("wrong-type", "rules.yaml")]


def test_a_language_without_ui_strings_is_told_to_add_them_to_the_site(make_site):
    from conftest import RULES

    site = make_site({"content/records/2026/11/r.md": record()},
                     rules=RULES.replace("  languages: [zh-CN, en]", "  languages: [zh-CN, en, fr]"))
    result = site.run("build")
    assert result.code == 0 and "layouts/i18n/fr.yaml: warning: missing-catalog" in result.err
    assert "add layouts/i18n/fr.yaml to the site" in result.err and str(REPO) not in result.err


def test_a_default_language_without_ui_strings_shows_the_english_ones_not_their_keys(make_site):
    from conftest import RULES

    site = make_site({"content/records/2026/11/r.md": record()},
                     rules=RULES.replace("  language: zh-CN", "  language: fr")
                     .replace("  languages: [zh-CN, en]", "  languages: [fr, en]"))
    result = site.run("build")
    assert result.code == 0 and "layouts/i18n/fr.yaml: warning: missing-catalog" in result.err
    assert "English strings are used meanwhile" in result.err
    english = (site.root / "_site" / "en" / "index.html").read_text(encoding="utf-8")
    french = (site.root / "_site" / "index.html").read_text(encoding="utf-8")
    assert "skip_to_content" not in french and english.count("Skip to") == french.count("Skip to") == 1
    assert '<html lang="fr">' in french
    site.write("layouts/i18n/fr.yaml", "skip_to_content: Aller au contenu\n")  # a catalogue begun
    result = site.run("build")
    assert result.code == 0 and "missing-catalog" not in result.err
    french = (site.root / "_site" / "index.html").read_text(encoding="utf-8")
    assert "Aller au contenu" in french and "latest_period" not in french and "Latest period" in french
    english = (site.root / "_site" / "en" / "index.html").read_text(encoding="utf-8")
    assert ">English<" in french and 'lang="fr">fr<' in english  # the switcher: English named, fr by its code
    assert "language_" not in french + english


def test_what_inspectors_wrote_is_marked_in_its_language_on_pages_in_another(make_site):
    from conftest import finding

    site = make_site({"content/records/2026/11/r.md": record(findings=finding("a", 2), body="前台登记本缺页。")})
    assert site.run("build").code == 0
    english = (site.root / "_site/en/records/2026/11/r.html").read_text(encoding="utf-8")
    own = (site.root / "_site/records/2026/11/r.html").read_text(encoding="utf-8")
    assert '<div class="body" lang="zh-CN">' in english and '<span lang="zh-CN">发现问题</span>' in english
    assert 'lang="zh-CN">' not in own.split("<body", 1)[1]  # the page itself is in that language already


def test_points_and_rates_written_with_more_than_28_digits_are_shown_with_all_of_them(make_site):
    from conftest import finding

    rate = finding("c", 3, severity=None, required_rate=95, actual_rate="84." + "0" * 28 + "1")
    site = make_site({"content/records/2026/11/r.md": record(findings=rate)})
    assert site.run("build").code == 0
    page = (site.root / "_site/en/records/2026/11/r.html").read_text(encoding="utf-8")
    assert "84." + "0" * 28 + "1" in page
