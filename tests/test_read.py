"""`check` on files that cannot be read safely: encodings, control characters, unsafe or broken YAML,
missing or broken front matter, odd file names. Each is an error at the right place, never a traceback.
"""

from __future__ import annotations

import codecs
import os
from contextlib import contextmanager
from pathlib import Path

import pytest

from conftest import PEOPLE, RULES, finding, record, reported

R = "content/records/r.md"
P = "content/people.yaml"
GOOD = record(findings=finding("a", 2))  # the finding's note `发现问题` is on line 10, column 11


def with_note(note: str) -> str:
    return GOOD.replace("发现问题", note)


def case(name: str, files: dict, code: str, file: str, line: int, column: int | None, says: str = "",
         people: str = PEOPLE, rules: str = RULES):
    return pytest.param(files, people, rules, code, file, line, column, says, id=name)


CASES = [
    # YAML that would construct objects or share values
    case("python-tag", {R: record(type_="!!python/object/apply:os.system [echo hi]")}, "yaml-tag", R, 2, 7,
         "`!!python/object/apply:os.system`"),
    case("str-tag", {R: record(inspector="!!str I01")}, "yaml-tag", R, 4, 12, "`!!str`"),
    case("local-tag", {R: record(inspector="!secret I01")}, "yaml-tag", R, 4, 12, "`!secret`"),
    case("anchor", {R: record(staff="&who S001")}, "yaml-anchor", R, 5, 8, "&who"),
    case("alias", {R: record(staff="*who")}, "yaml-alias", R, 5, 8, "*who"),
    case("too-deep", {R: record(staff="[" * 20 + "S001" + "]" * 20)}, "yaml-too-deep", R, 5, 23, "16"),
    case("second-document-in-people", {}, "yaml-multiple-documents", P, 10, 1, "`---`",
         people=PEOPLE + "---\nstaff: []\n"),
    # YAML syntax: where the parser notices, and where the cause is
    case("tab-indented-list", {R: GOOD.replace("  - item", "\t- item")}, "yaml-syntax", R, 7, 1, "spaces"),
    case("tab-indented-key", {R: GOOD.replace("    severity", "\tseverity")}, "yaml-syntax", R, 8, 1, "spaces"),
    case("tab-in-rules", {}, "yaml-syntax", "rules.yaml", RULES.split("\n").index("  qa:") + 1, 1, "spaces",
         rules=RULES.replace("\n  qa:\n", "\n\tqa:\n")),
    case("unclosed-bracket", {R: record(staff="[S001, S002")}, "yaml-syntax", R, 6, 1, "starts on line 5"),
    case("unclosed-quote", {R: record(staff='"S001')}, "yaml-syntax", R, 6, 1, "starts on line 5"),
    # a comment cutting a finding written in braces short: said at the ` #`, not where YAML gave up
    case("comment-in-flow-finding", {R: GOOD.replace(
        "  - item: a\n    severity: general\n    points: 2\n    note: 发现问题",
        "  - {item: a, severity: general, points: 2, note: 态度差 #2 次}")}, "yaml-syntax", R, 7, 55, "in quotes"),
    case("note-starting-with-a-quote", {R: with_note('"业主说"不行"" 后')}, "yaml-syntax", R, 10, 16,
         "single quotes"),
    case("no-space-after-colon", {R: record().replace("date: ", "date:")}, "yaml-syntax",
         R, 4, 1, "space after the colon"),
    case("people-flow-syntax", {}, "yaml-syntax", P, 3, 15, "", people=PEOPLE.replace("{id: S002,", "{id: S002,,")),
    case("key-read-as-date", {R: GOOD.replace("type:", "2026-11-12: x\ntype:")}, "yaml-key-type", R, 2, 1,
         "a date"),
    # the shape of the front matter
    case("top-level-list", {R: "---\n- supervisor_monthly\n- S001\n---\n"}, "wrong-type", R, 2, 1, "not a list"),
    case("top-level-text", {R: "---\n主管月检 S001\n---\n"}, "wrong-type", R, 2, 1, "mapping"),
    case("empty-front-matter", {R: "---\n---\n检查记录。\n"}, "missing-key", R, 1, 1, "`date`"),
    case("no-front-matter", {R: "type: supervisor_monthly\n"}, "no-front-matter", R, 1, 1, "`---`"),
    case("unclosed-front-matter", {R: GOOD.replace("---\n检查记录", "检查记录")}, "no-front-matter", R, 1, 1,
         "never closed"),
    case("empty-file", {R: ""}, "no-front-matter", R, 1, 1, "`---`"),
    case("front-matter-too-large", {R: with_note("很长" * 40_000)}, "front-matter-too-large", R, 1, 1, "KiB"),
    case("file-too-large", {R: GOOD + "正文" * 200_000}, "file-too-large", R, 1, 1, "KiB"),
    # encodings and characters
    case("gbk", {R: with_note("张伟").encode("gbk")}, "not-utf8", R, 10, 11, "GBK"),
    case("gbk-after-utf8-on-the-line", {R: GOOD.encode().replace("问题".encode(), "张伟".encode("gbk"))},
         "not-utf8", R, 10, 13, "UTF-8"),
    case("utf16-with-bom", {R: GOOD.encode("utf-16")}, "not-utf8", R, 1, 1, "UTF-16"),
    case("utf16-without-bom", {R: GOOD.encode("utf-16-le")}, "not-utf8", R, 1, 1, "UTF-16"),
    case("nul-bytes", {R: GOOD.encode().replace("发现".encode(), b"\x00\x00")}, "binary-file", R, 1, 1, "NUL"),
    case("line-separator", {R: with_note("发现\u2028问题")}, "bad-character", R, 10, 13, "U+2028"),
    case("paragraph-separator-in-people", {}, "bad-character", P, 2, 24, "U+2029",
         people=PEOPLE.replace("张伟", "张伟\u2029")),
    case("next-line-c1", {R: with_note("发现\x85问题")}, "bad-character", R, 10, 13, "U+0085"),
    case("other-c1-control", {R: with_note("发现\x81问题")}, "bad-character", R, 10, 13, "U+0081"),
    case("bom-inside", {R: with_note("发现\ufeff问题")}, "bad-character", R, 10, 13, "U+FEFF"),
    case("escape-control", {R: with_note("发现\x1b[31m问题")}, "bad-character", R, 10, 13, "U+001B"),
    # file names that cannot become portable URLs
    case("colon-in-name", {"content/records/a:b.md": GOOD}, "bad-file-name", "content/records/a:b.md", 0, 0, ":"),
    case("reserved-name", {"content/records/con.md": GOOD}, "bad-file-name", "content/records/con.md", 0, 0,
         "CON"),
    case("names-differ-in-case", {"content/records/R.md": GOOD, R: GOOD}, "name-collision", R, 0, 0, "`R`"),
    case("colon-in-folder-name", {"content/records/a:b/r.md": GOOD}, "bad-file-name", "content/records/a:b/r.md",
         0, 0, "rename the folder"),
]


@pytest.mark.parametrize("files, people, rules, code, file, line, column, says", CASES)
def test_unreadable_input_is_reported_at_its_place(make_site, files, people, rules, code, file, line, column,
                                                   says):
    site = make_site(files, rules=rules, people=people)
    error = reported(site.run("check", "--format", "json"), code, file, line, column)
    assert says in error["message"] + error.get("hint", "")


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 30


ACCEPTED = [
    pytest.param(codecs.BOM_UTF8 + GOOD.encode(), id="bom"),
    pytest.param(GOOD.replace("\n", "\r\n").encode(), id="crlf"),
    pytest.param(codecs.BOM_UTF8 + GOOD.replace("\n", "\r\n").encode(), id="bom-and-crlf"),
    pytest.param(GOOD.replace("\n", "\r").encode(), id="old-mac-cr"),
    pytest.param(GOOD.replace("---\n检查", "...\n检查").encode(), id="closed-with-dots"),
    pytest.param(GOOD.replace("检查记录。", "正文里可以有\u2028和\x85，只有设置里不行。").encode(), id="separators-in-body"),
]


@pytest.mark.parametrize("data", ACCEPTED)
def test_ordinary_editor_output_is_accepted(make_site, data):
    site = make_site({R: data})
    result = site.run("check", "--format", "json")
    assert result.code == 0, result.out + result.err
    assert result.json()["errors"] == []


def test_bom_and_crlf_data_files_are_accepted(make_site):
    site = make_site(rules=codecs.BOM_UTF8 + RULES.replace("\n", "\r\n").encode(),
                     people=codecs.BOM_UTF8 + PEOPLE.replace("\n", "\r\n").encode())
    result = site.run("check", "--format", "json")
    assert result.code == 0, result.out + result.err


@pytest.mark.parametrize("data", [
    pytest.param(codecs.BOM_UTF8 + record(date="2026-02-30").encode(), id="bom"),
    pytest.param(record(date="2026-02-30").replace("\n", "\r\n").encode(), id="crlf"),
])
def test_positions_survive_bom_and_crlf(make_site, data):
    reported(make_site({R: data}).run("check", "--format", "json"), "bad-date", R, 3, 7)


def test_editor_files_are_skipped_and_other_files_warned_about(make_site):
    site = make_site({R: GOOD, "content/records/.r.md.swp": b"\x00\xff", "content/records/r.md~": b"\xff",
                      "content/records/.#r.md": b"x", "content/records/#r.md#": b"x", "content/records/.DS_Store": b"",
                      "content/records/photo.jpg": b"\xff\xd8\xff\x00",
                      # records a name hides: a draft, a number written first
                      "content/records/.draft.md": GOOD, "content/records/#3-check.md": GOOD})
    result = site.run("check", "--format", "json")
    assert result.code == 0, result.out
    warnings = result.json()["warnings"]
    assert [(w["file"], w["code"]) for w in warnings] == [
        ("content/records/#3-check.md", "ignored-file"), ("content/records/.draft.md", "ignored-file"),
        ("content/records/photo.jpg", "ignored-file")]
    assert "rename it without the `#`" in warnings[0]["hint"]


def test_missing_people_file(make_site):
    site = make_site({R: GOOD})
    (site.root / P).unlink()
    error = reported(site.run("check", "--format", "json"), "missing-file", P, 0, 0)
    assert "--root" in error["hint"]


def test_symlink_out_of_the_content_folder(make_site, tmp_path):
    outside = tmp_path / "elsewhere.md"
    outside.write_text(GOOD, encoding="utf-8")
    site = make_site({})
    (site.root / "content/records").mkdir(parents=True)
    os.symlink(outside, site.root / R)
    reported(site.run("check", "--format", "json"), "symlink", R, 0, 0)


def test_people_yaml_that_is_a_folder_is_said_to_be_one(make_site):
    site = make_site()
    (site.root / "content/people.yaml").unlink()
    (site.root / "content/people.yaml").mkdir()
    result = site.run("check", "--format", "json")
    assert result.code == 1
    assert [(e["code"], e["file"]) for e in result.json()["errors"]] == [("not-a-file", "content/people.yaml")]


def test_direction_controls_that_would_show_names_reversed_are_refused(make_site):
    spoof = "content/records/2026/11/a\u202egpj.exe.md"
    people = PEOPLE.replace("name: 张伟", "name: \"张\u202e伟\"")
    result = make_site({spoof: record()}, people=people).run("check", "--format", "json")
    found = {(e["code"], e["file"]) for e in result.json()["errors"]}
    assert result.code == 1 and ("bad-file-name", spoof) in found and ("direction-control", "content/people.yaml") in found


def test_images_and_links_a_page_will_not_show_are_warned_about_at_their_line(make_site):
    body = "检查记录。\n\n![照片](photo.jpg)\n\n见[上次记录](../10/r.md)，[规程](https://example.com/a)。\n"
    result = make_site({"content/records/r.md": record(body=body)}).run("check", "--format", "json")
    found = [(w["code"], w["line"]) for w in result.json()["warnings"]]
    assert result.code == 0 and found == [("body-image-dropped", 9), ("body-link-dropped", 11)], found
    many = body + "\n![二](b.jpg) <img src=c.png> [甲](a.md) [乙](javascript:x) [丙](mailto:a@example.com)\n"
    warnings = make_site({"content/records/r.md": record(body=many)}).run("check", "--format", "json").json()["warnings"]
    assert [(w["code"], w["line"]) for w in warnings] == [("body-image-dropped", 9), ("body-link-dropped", 11)]
    assert warnings[0]["message"].endswith("(nor 2 more images in this body)")
    assert warnings[1]["message"].endswith("(nor 2 more links in this body)")
    clean = make_site({"content/records/r.md": record(body="见[规程](https://example.com/a)。")})
    assert clean.run("check", "--format", "json").json()["warnings"] == []
    # links written other ways: by reference, in raw HTML, with brackets in the address
    others = "见[手册][m]。\n\n<a href=\"docs/x.html\">x</a> [r](notes_(v2).md)\n\n[m]: docs/manual.html\n"
    warnings = make_site({"content/records/r.md": record(body=others)}).run("check", "--format", "json").json()["warnings"]
    assert [(w["code"], w["line"]) for w in warnings] == [("body-link-dropped", 9)]
    assert "`docs/x.html`" in warnings[0]["message"] and warnings[0]["message"].endswith("(nor 2 more links in this body)")
    reference = make_site({"content/records/r.md": record(body="见[手册][d]。\n\n[d]: ../x.html\n")})
    warnings = reference.run("check", "--format", "json").json()["warnings"]
    assert [(w["code"], w["line"]) for w in warnings] == [("body-link-dropped", 9)]  # a reference alone, too
    brackets = make_site({"content/records/r.md": record(body="[r](notes_(v2).md)")})
    assert "`notes_(v2).md`" in brackets.run("check", "--format", "json").json()["warnings"][0]["message"]


@pytest.mark.parametrize("line, instead, code, where, says", [
    ("  severity: general", "  severity：general", "yaml-syntax", (8, 13), "full-width colon"),
    ("  note: 发现问题", "  note: 业主表扬: 态度好", "yaml-syntax", (10, 15), "must be in quotes"),
    ("  note: 发现问题", "  note: 工单 #1234 未回访", "text-cut-by-comment", (10, 14), "#1234 未回访"),
])
def test_what_an_inspector_types_by_habit_gets_a_message_about_it(make_site, line, instead, code, where, says):
    text = record(findings=finding("a", 2)).replace(line, instead, 1)
    assert instead in text
    result = make_site({"content/records/r.md": text}).run("check", "--format", "json").json()
    found = [e for e in result["errors"] + result["warnings"] if e["code"] == code]
    assert [(e["line"], e["column"]) for e in found] == [where], result
    assert says in found[0]["message"] + found[0].get("hint", "")


@pytest.mark.parametrize("line, instead, says", [
    ("  severity: general", "  severity: 一般违规", "`general`, not 一般违规"),
    ("staff: S001", "staff: ［S001］", "plain brackets and commas"),
    ("  points: 2", "  points: 2分", "as digits: 2"),
    ("  points: 2", "  points: ２", "as digits: 2"),
    ("  points: 2", "  points: 1.3", "steps of 0.5: 1 or 1.5"),
])
def test_slips_of_chinese_typing_get_hints_in_their_own_words(make_site, line, instead, says):
    _hinted(make_site, line, instead, says)


def test_a_code_in_the_wrong_letter_case_is_suggested_in_the_right_one(make_site):
    text = record(findings=finding("a", 2)).replace("- item: a", "- item: A", 1)
    errors = make_site({"content/records/r.md": text}).run("check", "--format", "json").json()["errors"]
    assert any("did you mean `a`" in e["message"] + e.get("hint", "") for e in errors), errors


def _hinted(make_site, line, instead, says):
    text = record(findings=finding("a", 2)).replace(line, instead, 1)
    assert instead in text
    errors = make_site({"content/records/r.md": text}).run("check", "--format", "json").json()["errors"]
    assert any(says in e.get("hint", "") for e in errors), errors
    assert not any(e["code"] == "missing-key" for e in errors)  # (what is there but wrong is not called missing)


def test_a_direction_control_in_a_body_is_refused_and_one_written_as_an_entity_never_reaches_a_page(make_site):
    site = make_site({R: record(body="检查记录。\n\n态度生硬\u202e，已纠正。\n")})
    error = reported(site.run("check", "--format", "json"), "direction-control", R, 9, 5)
    assert "U+202E" in error["message"]
    site = make_site({R: record(body="态度生硬&#x202E;，已纠正。")})
    assert site.run("build").code == 0
    page = (site.root / "_site" / "records" / "r.html").read_text(encoding="utf-8")
    assert "\u202e" not in page and "态度生硬，已纠正" in page


@contextmanager
def nested(top: Path, name: str, text: str, levels: int = 1000):
    """A file at the bottom of `levels` nested folders `a/a/…` under `top`: made and removed a level at a time
    (os.walk, Path.rglob, Path.mkdir and shutil.rmtree, which pytest cleans up with, recurse once a level)."""
    deep = str(top)
    for _ in range(levels):
        deep += "/a"
        os.mkdir(deep)
    with open(f"{deep}/{name}", "w", encoding="utf-8") as handle:
        handle.write(text)
    try:
        yield
    finally:
        os.unlink(f"{deep}/{name}")
        for _ in range(levels):
            os.rmdir(deep)
            deep = os.path.dirname(deep)


def test_a_folder_tree_deeper_than_any_path_allowed_is_refused_where_its_path_grows_too_long(make_site):
    site = make_site({"content/records/r.md": record()})
    with nested(site.root / "content" / "records", "r.md", record()):
        result = site.run("check", "--format", "json")
    assert result.code == 1, result.err
    errors = result.json()["errors"]
    assert [e["code"] for e in errors] == ["bad-file-name"] and "nothing in it is read" in errors[0]["message"]
    assert len(errors[0]["file"].encode()) > 1024 >= len(errors[0]["file"].encode()) - 2


def test_a_thousand_nested_folders_in_the_layouts_are_walked_without_a_crash(make_site):
    site = make_site({"content/records/r.md": record()})
    (site.root / "layouts" / "assets").mkdir(parents=True)
    with nested(site.root / "layouts", "notes.txt", "x"):
        assert site.run("build").code == 0  # (a folder of the layouts that is not an asset: not published)
    with nested(site.root / "layouts" / "assets", "x.css", "p{}"):
        result = site.run("build")
    assert result.code == 1 and "layouts/assets/" in result.err and ": bad-file-name: the folder's path is longer" \
        in result.err and "nothing was written" in result.err

