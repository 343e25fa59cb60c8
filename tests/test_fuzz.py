"""Property tests: whatever the files hold, reading and validating only ever returns diagnostics.

Hypothesis writes arbitrary bytes, front-matter text built from YAML's special characters and the
procedure's words, YAML structures of any shape, and odd file names into a small site, then runs
`pipeline.load` on it as `check` does. The property: no exception, and every diagnostic names a file and
a position and can be printed. (The coverage-guided counterpart is tests/fuzz/fuzz_reader.py.)
"""

from __future__ import annotations

import json
import shutil

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from conftest import PEOPLE, RULES, SiteDir, record
from site_builder.pipeline import load

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow],
                derandomize=True)  # the same examples every run: the suite stays deterministic

R = "content/records/2026/11/fuzz.md"
AP = "content/appeals/fuzz.md"
MO = "content/months/2026-11.md"
GOOD = "content/records/2026/11/good.md"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> SiteDir:
    site = SiteDir(tmp_path_factory.mktemp("fuzz") / "site")
    site.write("rules.yaml", RULES)
    site.write("content/people.yaml", PEOPLE)
    site.write(GOOD, record(findings="- {item: a, severity: general, points: 2, note: 发现问题}"))
    return site


def _load_cleanly(site: SiteDir, files: dict[str, bytes]):
    """Write `files` into the site, load it, check the property, then put the site back."""
    written = []
    try:
        for path, data in files.items():
            written.append(site.write(path, data))
        loaded = load(site.root)
    finally:
        for path in written:
            path.unlink()
        site.write("content/people.yaml", PEOPLE)
    for d in loaded.diagnostics.items:
        assert d.file and d.code and d.message, d
        assert d.line >= 0 and d.column >= 0, d
        d.text().encode("utf-8")  # printable: no lone surrogates from odd bytes or names
        json.dumps(d.as_json(), ensure_ascii=False).encode("utf-8")
    return loaded


SPECIAL = list("-:[]{},'\"&*!|>#%@`?~ \t\n\r.=<\\/") + ["\ufeff", "\u2028", "\x85", "\x00", "\x1b", "é", "张"]
WORDS = ["type", "date", "inspector", "staff", "findings", "commendations", "item", "severity", "points", "note",
         "procedure", "punishable", "id", "required_rate", "actual_rate", "reason", "record", "finding", "filed",
         "decision", "decided", "decided_by", "month", "closed", "closed_by", "supervisor_monthly", "qa_monthly",
         "daily", "general", "adverse", "shortfall_5", "S001", "S002", "I01", "I05", "a", "c", "e", "f", "2026-11-12",
         "2026-02-30", "2026-11", "yes", "no", "on", "off", "true", "null", "~", ".nan", ".inf", "1:20", "0012",
         "0x1F", "1e3", "2.5", "-1", "95", "84", "!!python/object/apply:os.system", "!!str", "&a", "*a", "<<",
         "---", "...", "- ", ": ", "  ", "\n  - ", "\n    ", "reduced", "overturned", "'", '"']
front_matter = st.lists(st.one_of(st.sampled_from(WORDS), st.sampled_from(SPECIAL),
                                  st.text(max_size=6)), max_size=60).map("".join)


@FAST
@given(data=st.binary(max_size=2048), kind=st.sampled_from([R, AP, MO]))
def test_any_bytes_in_a_document_give_only_diagnostics(site, data, kind):
    _load_cleanly(site, {kind: data})


@FAST
@given(data=st.binary(max_size=2048))
def test_any_bytes_in_people_yaml_give_only_diagnostics(site, data):
    _load_cleanly(site, {"content/people.yaml": data})


@FAST
@given(text=front_matter, body=st.text(max_size=200), kind=st.sampled_from([R, AP, MO]))
def test_any_front_matter_gives_only_diagnostics(site, text, body, kind):
    _load_cleanly(site, {kind: f"---\n{text}\n---\n{body}".encode("utf-8", "surrogatepass")})


scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.sampled_from(WORDS),
                    st.text(max_size=12), st.dates().map(str))
keys = st.one_of(st.sampled_from(WORDS), st.text(max_size=8), st.integers(), st.booleans(), st.none())
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(keys, inner, max_size=5)), max_leaves=25)


def _document(draw, required: list[str]):
    """A mapping that has the document's keys (so validation goes deep), with values of any shape."""
    doc = {key: draw(values) for key in required}
    doc.update(draw(st.dictionaries(keys, values, max_size=3)))
    return doc


@st.composite
def yaml_documents(draw):
    kind = draw(st.sampled_from([R, AP, MO]))
    required = {R: ["type", "date", "inspector", "staff", "findings", "commendations"],
                AP: ["record", "finding", "filed", "decision", "points", "decided", "decided_by"],
                MO: ["month", "closed", "closed_by"]}[kind]
    doc = _document(draw, required)
    if kind == R and draw(st.booleans()):  # findings that look like findings, with odd values
        doc["findings"] = [_document(draw, ["item", "severity", "points", "note", "staff"])
                           for _ in range(draw(st.integers(0, 3)))]
    if kind == AP and draw(st.booleans()):
        doc["record"] = "2026/11/good"
    top = draw(st.sampled_from(["mapping", "mapping", "list", "scalar"]))
    if top == "list":
        doc = list(doc.items())
    elif top == "scalar":
        doc = draw(scalars)
    style = draw(st.sampled_from([None, True, False]))  # block, flow or mixed YAML
    return kind, yaml.safe_dump(doc, allow_unicode=True, default_flow_style=style, sort_keys=False)


@FAST
@given(document=yaml_documents())
def test_any_yaml_structure_gives_only_diagnostics(site, document):
    kind, text = document
    _load_cleanly(site, {kind: f"---\n{text}---\n".encode("utf-8", "surrogatepass")})


@FAST
@given(document=yaml_documents())
def test_yaml_structures_as_people_yaml_give_only_diagnostics(site, document):
    _, text = document
    _load_cleanly(site, {"content/people.yaml": text.encode("utf-8", "surrogatepass")})


names = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="/\x00"), min_size=1, max_size=16)


@FAST
@given(folder=names, name=names)
def test_any_file_name_gives_only_diagnostics(site, folder, name):
    assume(folder not in (".", "..") and name not in (".", ".."))
    target = site.root / "content/records/fz" / folder / f"{name}.md"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(record().encode())
    except (OSError, UnicodeError):
        assume(False)
    try:
        loaded = load(site.root)
    finally:
        shutil.rmtree(site.root / "content/records/fz", ignore_errors=True)
    for d in loaded.diagnostics.items:
        d.text().encode("utf-8")
    for rid in loaded.site.records if loaded.site else ():
        rid.encode("utf-8")  # every record id that became a page can be written as a URL


MARKDOWN = list("[]()<>!*_`#>-+=|\\&;:/ \n\t\"'~^") + ["1. ", "    ", "\n\n", "javascript:", "http://", "<a ",
                                                       "<script>", "&#", "<!--", "-->", "![", "](", "[^1]", "---"]


@FAST
@given(text=st.lists(st.one_of(st.sampled_from(MARKDOWN), st.text(max_size=4)), max_size=300).map("".join))
def test_any_markdown_body_renders_to_safe_html(text):
    from test_build import FORBIDDEN_TAGS, _TreeBuilder

    from site_builder.markup import MarkdownRenderer

    builder = _TreeBuilder()
    builder.feed(MarkdownRenderer().render(text))
    builder.close()
    for element in builder.root.iter():
        assert element.tag not in FORBIDDEN_TAGS | {"svg", "math"}, element.tag
        assert not any(name.startswith("on") for name, _ in element.attrs), element.attrs
