"""Incremental builds (no-op skip, unchanged files hard-linked from the last release) are proven equal to a
clean build after any sequence of edits, and a damaged manifest is never trusted."""

from __future__ import annotations

import itertools
import os
import pickle
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import PEOPLE, REPO, RULES, SiteDir, finding, record


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def build(site: SiteDir, output: Path, *options: str) -> None:
    result = site.run("build", "--output", str(output), "--jobs", "1", *options)
    assert result.code in (0, 1), result.err


def cache_folder(site: SiteDir) -> Path:
    from site_builder.cache import RecordCache

    return RecordCache(site.root, "").folder


def equal_to_clean_build(site: SiteDir, tmp: Path) -> None:
    incremental = site.root / "_site"
    build(site, incremental)
    clean = tmp / "clean"
    shutil.rmtree(clean, ignore_errors=True)
    build(site, clean, "--no-cache")
    if clean.exists():
        assert tree(incremental) == tree(clean)


EDITS = st.lists(st.tuples(
    st.sampled_from(["add", "change", "delete", "rename", "people", "rules", "layout", "corrupt", "break",
                     "appeal", "unappeal", "body", "signoff", "unsignoff", "same-size", "cache"]),
    st.integers(0, 5), st.sampled_from([1, 1.5, 2])), min_size=1, max_size=6)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(EDITS)
def test_any_sequence_of_edits_gives_the_same_site_as_a_clean_build(tmp_path_factory, edits):
    import site_builder.fingerprint as fingerprint

    with pytest.MonkeyPatch.context() as patch:
        # each listing is trusted at once (as on a site left alone for two seconds), so that the stored listing
        # of the last build is what every edit has to get past
        patch.setattr(fingerprint, "RACY_NS", 0)
        apply_and_compare(tmp_path_factory.mktemp("incremental"), edits)


def apply_and_compare(tmp: Path, edits: list) -> None:
    site = SiteDir(tmp / "site")
    site.write("rules.yaml", RULES)
    site.write("content/people.yaml", PEOPLE)
    shutil.copytree(REPO / "layouts", site.root / "layouts")
    for n in range(3):
        site.write(f"content/records/2026/11/r{n}.md", record(date=f"2026-11-1{n}", findings=finding("a", 1)))
    build(site, site.root / "_site")
    records = site.root / "content" / "records"
    for action, n, points in edits:
        existing = sorted(records.rglob("*.md"))
        target = existing[n % len(existing)] if existing else None
        if action == "add" or target is None:
            site.write(f"content/records/2026/10/new{n}.md", record(date="2026-10-20", staff="S002",
                                                                     findings=finding("b", points)))
        elif action == "change":
            target.write_text(record(date="2026-11-05", findings=finding("e", points)), encoding="utf-8")
        elif action == "delete" and len(existing) > 1:
            target.unlink()
        elif action == "rename":
            target.rename(target.with_name(f"moved-{target.name}"))
        elif action == "people":
            site.write("content/people.yaml", PEOPLE.replace("张伟", f"张伟{n}"))
        elif action == "rules":
            site.write("rules.yaml", RULES.replace("total_cap: 100", f"total_cap: {95 + n}"))
        elif action == "layout":
            base = site.root / "layouts" / "base.html"
            base.write_text(base.read_text(encoding="utf-8").replace("<main id=\"main\">",
                                                                      f"<main id=\"main\" data-v=\"{n}\">"), "utf-8")
        elif action == "corrupt":
            manifest = site.root / "_site" / ".site-builder"
            if manifest.exists():
                manifest.write_text("{not json" if n % 2 else '{"generator": "site-builder 0.0", "files": {}}')
        elif action == "same-size":  # new bytes, same size, old modification time: the hash must tell
            text = target.read_text(encoding="utf-8")
            times = target.stat()
            swapped = text.replace("points: 1\n", "points: 2\n") if "points: 1\n" in text \
                else text.replace("points: 2\n", "points: 1\n")
            target.write_text(swapped, encoding="utf-8")
            os.utime(target, ns=(times.st_atime_ns, times.st_mtime_ns))
        elif action == "cache":  # a damaged, foreign or truncated build cache file is never trusted
            files = sorted(cache_folder(site).glob("*.pickle"))
            if files:
                victim = files[n % len(files)]
                damage = [b"", b"\x80\x05garbage", victim.read_bytes()[:-7],
                          pickle.dumps((("site-builder record cache", "another version", ""), {}))]
                victim.write_bytes(damage[n % 4])
        elif action == "appeal":  # an appeal on the first finding of a record: its page changes, others not
            rid = target.relative_to(records).with_suffix("").as_posix()
            if "findings:" in target.read_text(encoding="utf-8"):
                decision = ["pending", "overturned", "upheld"][n % 3]
                decided = "" if decision == "pending" else "decided: 2026-11-29\ndecided_by: I05\n"
                site.write("content/appeals/a.md", f"---\nrecord: {rid}\nfinding: 1\nfiled: 2026-11-28\n"
                                                   f"decision: {decision}\n{decided}---\n申诉{n}\n")
        elif action == "signoff":
            site.write(f"content/months/2026-1{n % 2}.md",
                       f"---\nmonth: 2026-1{n % 2}\nclosed: 2026-1{n % 2}-2{6 + n % 3}\nclosed_by: I0{5 + n % 2}\n---\n")
        elif action == "unsignoff":
            for month in (site.root / "content/months").glob("*.md"):
                month.unlink()
        elif action == "unappeal":
            (site.root / "content/appeals/a.md").unlink(missing_ok=True)
        elif action == "body":
            target.write_text(target.read_text(encoding="utf-8") + f"\n补充说明{n}\n", encoding="utf-8")
        elif action == "break":
            target.write_text("---\ntype: nope\n---\n", encoding="utf-8")
            before = tree(site.root / "_site")
            assert site.run("build", "--jobs", "1").code == 1
            assert tree(site.root / "_site") == before  # a failed build changes nothing
            target.write_text(record(date="2026-11-07"), encoding="utf-8")
        equal_to_clean_build(site, tmp)


def test_a_second_build_with_nothing_changed_does_nothing(make_site):
    site = make_site({"content/records/r.md": record()})
    assert site.run("build").code == 0
    output = site.root / "_site"
    inodes = {p: p.stat().st_ino for p in output.rglob("*") if p.is_file()}
    again = site.run("build")
    assert again.code == 0 and "nothing changed" in again.out
    assert {p: p.stat().st_ino for p in output.rglob("*") if p.is_file()} == inodes


def test_unchanged_pages_keep_their_files_and_changed_ones_are_rewritten(make_site):
    site = make_site({"content/records/r.md": record(findings=finding("a", 1)),
                      "content/records/q.md": record(date="2026-11-13", staff="S002")})
    assert site.run("build").code == 0
    output = site.root / "_site"
    rules_page, record_page = output / "rules.html", output / "records" / "r.html"
    rules_inode, record_bytes = rules_page.stat().st_ino, record_page.read_bytes()
    site.write("content/records/r.md", record(findings=finding("a", 2)))
    result = site.run("build", "--jobs", "1")
    assert result.code == 0 and "nothing changed" not in result.out
    assert rules_page.stat().st_ino == rules_inode  # same bytes: the very same file, linked into the release
    assert record_page.read_bytes() != record_bytes


def test_a_damaged_manifest_is_not_trusted(make_site):
    site = make_site({"content/records/r.md": record()})
    assert site.run("build").code == 0
    output = site.root / "_site"
    (output / "records" / "r.html").write_bytes(b"tampered, same size?")
    (output / ".site-builder").write_text("{damaged", encoding="utf-8")
    result = site.run("build")
    assert result.code == 0 and "damaged-manifest" in result.err
    assert b"tampered" not in (output / "records" / "r.html").read_bytes()


def test_after_editing_one_record_only_its_own_record_pages_are_rendered(make_site, monkeypatch):
    from site_builder.render import Renderer

    site = make_site({f"content/records/r{n}.md": record(date=f"2026-11-1{n}") for n in range(4)})
    assert site.run("build", "--jobs", "1").code == 0
    site.write("content/records/r2.md", record(date="2026-11-12", findings=finding("a", 1)))
    rendered = []
    original = Renderer.render_page

    def counting(self, page, language):
        rendered.append(page.path)
        return original(self, page, language)

    monkeypatch.setattr(Renderer, "render_page", counting)
    assert site.run("build", "--jobs", "1").code == 0
    assert sorted(p for p in rendered if "/records/" in f"/{p}") == ["en/records/r2.html", "records/r2.html"]
    clean = site.root.parent / "clean"
    monkeypatch.setattr(Renderer, "render_page", original)
    assert site.run("build", "--output", str(clean)).code == 0
    assert tree(clean) == tree(site.root / "_site")


def test_after_a_rules_edit_the_last_builds_page_keys_and_data_pieces_are_not_even_read(make_site, monkeypatch):
    from site_builder import cache, publish

    site = make_site({f"content/records/r{n}.md": record(date=f"2026-11-1{n}") for n in range(4)})
    assert site.run("build", "--jobs", "1").code == 0
    read, loaded = [], []
    original_manifest, original_load = publish.read_manifest, cache.pickle.load
    monkeypatch.setattr(publish, "read_manifest", lambda output, head_only=False, files_only=False:
                        read.append((head_only, files_only)) or original_manifest(output, head_only, files_only))
    monkeypatch.setattr(cache.pickle, "load", lambda handle: loaded.append(Path(handle.name).name)
                        or original_load(handle))
    site.write("content/records/r2.md", record(date="2026-11-12", findings=finding("a", 1)))
    assert site.run("build", "--jobs", "1").code == 0  # one record: the keys and pieces are read, and used
    assert (False, False) in read and loaded.count("fragments.pickle") == 2
    read.clear(), loaded.clear()
    site.write("rules.yaml", RULES.replace("total_cap: 100", "total_cap: 99"))
    assert site.run("build", "--jobs", "1").code == 0  # every key now starts from another base
    assert (False, False) not in read and (False, True) in read and loaded.count("fragments.pickle") == 1
    clean = site.root.parent / "clean"
    assert site.run("build", "--output", str(clean), "--no-cache").code == 0
    assert tree(clean) == tree(site.root / "_site")


def test_an_unchanged_record_is_not_read_again(make_site, monkeypatch):
    import site_builder.pipeline as pipeline

    site = make_site({f"content/records/r{n}.md": record(date=f"2026-11-1{n}") for n in range(4)})
    assert site.run("build").code == 0
    site.write("content/records/r2.md", record(date="2026-11-12", findings=finding("a", 1)))
    read = []
    original = pipeline.read_source
    monkeypatch.setattr(pipeline, "read_source", lambda root, path, *rest: read.append(path) or original(root, path, *rest))
    assert site.run("build").code == 0
    assert read == ["content/records/r2.md"]
    assert "<td class=\"num\">1.0</td>" in (site.root / "_site" / "records" / "r2.html").read_text(encoding="utf-8")


def test_a_body_is_made_into_html_once_and_kept_with_its_record(make_site, monkeypatch):
    import site_builder.markup as markup

    body = "**已整改** 见 [制度](https://example.com/rules)"
    site = make_site({"content/records/r1.md": record(staff=["S001", "S002"], findings=finding("a", 1, staff="S002"),
                                                      body=body)})
    assert site.run("check").code == 0  # fills the cache with the record, not its HTML: `check` renders nothing
    made = []
    original = markup.MarkdownRenderer.render
    monkeypatch.setattr(markup.MarkdownRenderer, "render", lambda self, text: made.append(text) or original(self, text))
    assert site.run("build").code == 0
    assert made == [body + "\n"]  # once, though it appears on its own page and two forms, in two languages
    html = '<strong>已整改</strong> 见 <a href="https://example.com/rules" rel="noopener noreferrer">制度</a>'
    pages = ["records/r1.html", "en/records/r1.html", "staff/S001/2026-11.html", "staff/S002/2026-11.html"]
    for page in pages:
        assert html in (site.root / "_site" / page).read_text(encoding="utf-8"), page
    from site_builder.render import Renderer

    rendered = []
    render_page = Renderer.render_page
    monkeypatch.setattr(Renderer, "render_page", lambda self, page, language: rendered.append(page.path)
                        or render_page(self, page, language))
    site.write("layouts/assets/extra.css", "p {}")  # every page made again: the HTML comes from the cache
    made.clear()
    assert site.run("build").code == 0
    assert set(pages) <= set(rendered) and made == []
    assert html in (site.root / "_site" / "en/staff/S002/2026-11.html").read_text(encoding="utf-8")


def test_a_damaged_or_foreign_build_cache_is_discarded_with_a_warning(make_site):
    site = make_site({f"content/records/r{n}.md": record(date=f"2026-11-1{n}", findings=finding("a", 1))
                      for n in range(3)})
    assert site.run("build").code == 0
    files = sorted(cache_folder(site).glob("records-*.pickle"))
    assert files
    for file in files:
        file.write_bytes(file.read_bytes()[:-5])
    site.write("content/records/r1.md", record(date="2026-11-11", findings=finding("a", 2)))
    result = site.run("build")
    assert result.code == 0 and "cache-discarded" in result.err and "damaged" in result.err
    assert "<td class=\"num\">2.0</td>" in (site.root / "_site" / "records" / "r1.html").read_text(encoding="utf-8")
    for file in files:
        header, entries = pickle.loads(file.read_bytes())
        file.write_bytes(pickle.dumps(((header[0], "another version", header[2]), entries)))
    result = site.run("build", "--output", str(site.root / "again"))
    assert result.code == 0 and "another version of site-builder" in result.err
    (cache_folder(site) / "digests.pickle").write_bytes(b"\x80\x05damaged")
    site.write("content/records/r2.md", record(date="2026-11-12", findings=finding("a", 1.5)))
    for output in ("_site", "again"):
        result = site.run("build", "--output", str(site.root / output))
        assert result.code == 0 and ("digests.pickle was damaged" in result.err) == (output == "_site")
    clean = site.root.parent / "clean"
    assert site.run("build", "--output", str(clean), "--no-cache").code == 0
    assert tree(clean) == tree(site.root / "again") == tree(site.root / "_site")


def test_an_edit_sums_up_its_own_period_again_and_takes_the_others_from_the_cache(make_site, tmp_path, monkeypatch):
    import site_builder.analytics as analytics

    site = make_site({f"content/records/2026/{month:02d}/r{n}.md": record(date=f"2026-{month:02d}-1{n}",
                                                                           findings=finding("a", 1))
                      for month in (9, 10, 11) for n in range(2)})
    assert site.run("build").code == 0
    tallied, summarized = [], []
    add, mean = analytics._Tally.add, analytics._mean
    monkeypatch.setattr(analytics._Tally, "add", lambda self, record, *rest: tallied.append(record.id)
                        or add(self, record, *rest))
    monkeypatch.setattr(analytics, "_mean", lambda totals: summarized.append(totals) or mean(totals))  # once a period
    site.write("content/records/2026/10/r1.md", record(date="2026-10-11", findings=finding("a", 2)))
    assert site.run("build").code == 0
    assert sorted(tallied) == ["2026/10/r0", "2026/10/r1"] and len(summarized) == 1
    equal_to_clean_build(site, tmp_path)
    for file in cache_folder(site).glob("period-*.pickle"):  # damaged: worked out again, said once
        file.write_bytes(file.read_bytes()[:-9])
    tallied.clear()
    site.write("content/records/2026/11/r0.md", record(date="2026-11-10", findings=finding("b", 1)))
    result = site.run("build")
    assert result.code == 0 and "3 build cache files" in result.err and "were damaged" in result.err
    assert len(tallied) == 6
    equal_to_clean_build(site, tmp_path)


def test_a_page_edited_in_place_by_hand_is_put_right_when_it_is_made_again(make_site, tmp_path):
    site = make_site({"content/records/r.md": record()})
    for _ in range(2):  # the second build swaps out a release that shares its files' inodes with the new one
        assert site.run("build").code == 0
    output = site.root / "_site"
    rules, page = output / "rules.html", output / "records" / "r.html"
    expected = {rules: rules.read_bytes(), page: page.read_bytes()}
    for edited in expected:
        with open(edited, "ab") as handle:  # in place: the same inode, as `>>` or an editor keeping links
            handle.write(b"<!-- by hand -->")
    site.write("content/records/s.md", record(date="2026-11-11"))
    assert site.run("build").code == 0
    assert rules.read_bytes() == expected[rules]  # made on every build: put right
    assert site.run("build", "--no-cache").code == 0
    assert page.read_bytes() == expected[page]  # `--no-cache` makes every file: put right
    equal_to_clean_build(site, tmp_path)


def test_a_page_edited_by_hand_and_put_right_stays_right(make_site, tmp_path):
    site = make_site({"content/records/r.md": record(), "content/records/s.md": record(date="2026-11-11")})
    assert site.run("build").code == 0
    style = site.root / "layouts" / "assets" / "style.css"
    style.parent.mkdir(parents=True)
    style.write_text("/* 1 */", encoding="utf-8")
    assert site.run("build").code == 0  # the page is linked from the first release, which is now the spare
    page = site.root / "_site" / "records" / "r.html"
    expected = page.read_bytes()
    with open(page, "ab") as handle:  # in place: the published page and the spare's copy are one file
        handle.write(b"<!-- by hand -->")
    style.write_text("/* 2 */", encoding="utf-8")
    assert site.run("build").code == 0  # a layout changed: every page is made again, this one put right
    assert page.read_bytes() == expected
    site.write("content/records/s.md", record(date="2026-11-11", body="另一条。"))
    assert site.run("build").code == 0  # the page is unchanged, and the spare is the release it was edited in
    assert page.read_bytes() == expected
    equal_to_clean_build(site, tmp_path)


def test_an_edit_to_the_file_a_linked_rules_yaml_leads_to_is_seen(make_site, tmp_path):
    site = make_site({"content/records/r.md": record(findings=finding("a", 2))})
    (site.root / "config").mkdir()
    (site.root / "rules.yaml").rename(site.root / "config" / "rules.yaml")
    (site.root / "rules.yaml").symlink_to(Path("config") / "rules.yaml")
    assert site.run("build").code == 0
    target = site.root / "config" / "rules.yaml"
    target.write_text(target.read_text(encoding="utf-8").replace("total_cap: 100", "total_cap: 90"), "utf-8")
    result = site.run("build")
    assert result.code == 0 and "nothing changed" not in result.out
    assert "90.0" in (site.root / "_site" / "staff" / "S001" / "2026-11.html").read_text(encoding="utf-8")
    equal_to_clean_build(site, tmp_path)


def test_a_file_saved_while_a_build_reads_the_site_is_read_again_by_the_next_build(make_site, tmp_path,
                                                                                   monkeypatch):
    import site_builder.pipeline as pipeline

    site = make_site({"content/records/r.md": record(body="版本甲")})
    assert site.run("build").code == 0
    page = site.root / "_site" / "records" / "r.html"
    source = site.root / "content" / "records" / "r.md"
    saved = source.read_bytes()
    discover = pipeline.discover

    def saved_meanwhile(*args, **kwargs):  # after the input fingerprint, before the records are read
        source.write_bytes(saved.replace("版本甲".encode(), "版本乙".encode()))
        return discover(*args, **kwargs)

    monkeypatch.setattr(pipeline, "discover", saved_meanwhile)
    site.write("content/records/s.md", record(date="2026-11-13"))  # something for the build to do
    result = site.run("build")
    assert result.code == 0 and "版本乙" in page.read_text(encoding="utf-8")
    assert "content/records/r.md: warning: changed-during-build" in result.err
    monkeypatch.setattr(pipeline, "discover", discover)
    source.write_bytes(saved)  # undone: the bytes the last build's fingerprint was taken of
    result = site.run("build")
    assert "nothing changed" not in result.out and "版本甲" in page.read_text(encoding="utf-8")
    equal_to_clean_build(site, tmp_path)


@pytest.mark.parametrize("meanwhile", ["gone and back", "come and gone"])
def test_a_record_that_comes_or_goes_while_a_build_runs_is_looked_for_again_by_the_next(make_site, tmp_path,
                                                                                        monkeypatch, meanwhile):
    import site_builder.pipeline as pipeline

    site = make_site({"content/records/r.md": record(), "content/records/q.md": record(date="2026-11-14")})
    assert site.run("build").code == 0
    q = site.root / "content" / "records" / "q.md"
    saved = q.read_bytes()
    if meanwhile == "come and gone":
        q.unlink()
        assert site.run("build").code == 0
    discover = pipeline.discover

    def checked_out_meanwhile(*args, **kwargs):  # after the input fingerprint (`git checkout other` …)
        q.unlink() if q.exists() else q.write_bytes(saved)
        return discover(*args, **kwargs)

    monkeypatch.setattr(pipeline, "discover", checked_out_meanwhile)
    site.write("content/records/s.md", record(date="2026-11-13"))  # something for the build to do
    result = site.run("build")
    assert result.code == 0 and "content/records/q.md: warning: changed-during-build" in result.err
    monkeypatch.setattr(pipeline, "discover", discover)
    q.unlink() if q.exists() else q.write_bytes(saved)  # (… `git checkout -`): as at the fingerprint
    assert "nothing changed" not in site.run("build").out
    equal_to_clean_build(site, tmp_path)


def test_records_found_through_a_linked_folder_inside_content_are_not_taken_for_changes(make_site):
    site = make_site({"content/archive/records/r.md": record()})
    (site.root / "content" / "records").symlink_to(Path("archive") / "records")  # a folder within content/: read
    first = site.run("build")
    assert first.code == 0 and "changed-during-build" not in first.err, first.err
    assert "nothing changed" in site.run("build").out


def test_a_layout_saved_while_pages_are_made_and_undone_leaves_no_page_made_with_it(make_site, tmp_path,
                                                                                   monkeypatch):
    import site_builder.render as render

    site = make_site({"content/records/r.md": record()})
    site.write("layouts/record.html", (REPO / "layouts" / "record.html").read_text(encoding="utf-8"))
    assert site.run("build").code == 0
    layout = site.root / "layouts" / "record.html"
    saved = layout.read_bytes()
    write_all = render.Renderer.write_all

    def saved_meanwhile(self, *args, **kwargs):  # after the page keys were made, before Jinja reads the layout
        layout.write_bytes(saved.replace(b"<h1", b'<h1 data-mark="MEANWHILE"', 1))
        return write_all(self, *args, **kwargs)

    monkeypatch.setattr(render.Renderer, "write_all", saved_meanwhile)
    site.write("content/records/s.md", record(date="2026-11-13"))
    assert "layouts/record.html: warning: changed-during-build" in site.run("build").err
    monkeypatch.setattr(render.Renderer, "write_all", write_all)
    layout.write_bytes(saved)  # undone
    assert site.run("build").code == 0
    assert b"MEANWHILE" not in (site.root / "_site" / "records" / "s.html").read_bytes()
    equal_to_clean_build(site, tmp_path)


def test_a_build_that_finds_nothing_changed_says_the_warnings_of_the_build_it_follows(make_site):
    site = make_site({"content/records/r.md": record(), "content/records/notes.txt": "not a record"})
    first = site.run("build", "--no-cache")
    assert first.code == 0 and "ignored-file" in first.err
    again = site.run("build")  # after a build without the cache
    assert "nothing changed" in again.out and "ignored-file" in again.err
    shutil.rmtree(cache_folder(site))  # the warnings kept with the fingerprint are gone: built again to know them
    again = site.run("build")
    assert "nothing changed" not in again.out and "ignored-file" in again.err
    assert "nothing changed" in site.run("build").out


def test_another_version_of_a_library_the_pages_are_made_with_is_another_builder_to_the_cache(monkeypatch):
    from importlib import metadata

    from site_builder import cache

    cache.code_fingerprint.cache_clear()
    ours = cache.code_fingerprint()
    installed = metadata.version
    monkeypatch.setattr(metadata, "version", lambda name: "0.0.1" if name == "nh3" else installed(name))
    cache.code_fingerprint.cache_clear()
    try:
        assert cache.code_fingerprint() != ours  # bodies kept as HTML were sanitized by the other nh3
    finally:
        monkeypatch.undo()
        cache.code_fingerprint.cache_clear()
    assert cache.code_fingerprint() == ours


def test_a_link_leading_out_of_the_site_is_refused_without_its_target_being_read(make_site, tmp_path, monkeypatch):
    import site_builder.fingerprint as fingerprint

    site = make_site({"content/records/r.md": record()})
    outside = tmp_path / "elsewhere.md"  # (/proc/kmsg says it is a regular file, and a read never ends)
    outside.write_text(record(), encoding="utf-8")
    (site.root / "content" / "records" / "evil.md").symlink_to(outside)
    read, real = [], fingerprint._read
    monkeypatch.setattr(fingerprint, "_read", lambda path: read.append(path) or real(path))
    result = site.run("build")
    assert result.code == 1 and "content/records/evil.md: symlink: the file links outside" in result.err
    assert not any(path.endswith("evil.md") for path in read)


def test_a_page_removed_or_added_by_hand_is_put_right_by_the_next_build(make_site):
    site = make_site({"content/records/r.md": record()})
    assert site.run("build").code == 0
    output = site.root / "_site"
    page = output / "records" / "r.html"
    expected = page.read_bytes()
    page.unlink()
    (output / "staff" / "stray.html").write_text("left by hand", encoding="utf-8")
    result = site.run("build")
    assert result.code == 0 and "nothing changed" not in result.out
    assert page.read_bytes() == expected and not (output / "staff" / "stray.html").exists()
    assert "nothing changed" in site.run("build").out


def test_records_read_and_pages_written_on_every_core_give_the_same_site_and_messages(make_site, monkeypatch):
    import site_builder.pipeline as pipeline
    import site_builder.render as render

    files = {f"content/records/r{n}.md": record(date=f"2026-11-{10 + n}", findings=finding("a", 1 + n % 2))
             for n in range(8)}
    files["content/records/bad.md"] = "---\ntype: nope\n---\n"
    site = make_site(files)
    serial = site.run("check", "--format", "json")
    monkeypatch.setattr(pipeline, "_PARALLEL_FROM", 2)
    monkeypatch.setattr(render, "_PARALLEL_FROM", 2)
    parallel = site.run("build", "--jobs", "2", "--no-cache", "--output", str(site.root / "parallel"))
    assert parallel.code == 1 and serial.json()["errors"]
    for error in serial.json()["errors"]:
        assert f"{error['file']}:{error['line']}:{error['column']}: {error['code']}" in parallel.err
    del files["content/records/bad.md"]
    (site.root / "content/records/bad.md").unlink()
    assert site.run("build", "--jobs", "2", "--no-cache", "--output", str(site.root / "parallel")).code == 0
    site.write("content/records/r3.md", record(date="2026-11-13", findings=finding("e", 2)))  # and incrementally
    assert site.run("build", "--jobs", "2", "--output", str(site.root / "parallel")).code == 0
    monkeypatch.setattr(pipeline, "_PARALLEL_FROM", 10**9)
    monkeypatch.setattr(render, "_PARALLEL_FROM", 10**9)
    assert site.run("build", "--jobs", "1", "--no-cache", "--output", str(site.root / "serial")).code == 0
    assert tree(site.root / "parallel") == tree(site.root / "serial")


def test_pages_are_made_on_every_core_when_there_are_many_pages_however_few_the_records(make_site, monkeypatch):
    import site_builder.render as render
    import site_builder.workers as workers

    site = make_site({"content/records/r.md": record()})  # one record, and a page per person, period, …
    pools, pool = [], workers.pool
    monkeypatch.setattr(workers, "pool", lambda jobs: pools.append(jobs) or pool(jobs))
    monkeypatch.setattr(render, "_PARALLEL_FROM", 10)  # pages
    assert site.run("build", "--jobs", "2").code == 0 and pools == [2]


def test_the_release_swapped_out_is_brought_up_to_date_as_the_next_staging_folder(make_site, monkeypatch):
    import site_builder.publish as publish

    site = make_site({f"content/records/r{n}.md": record(date=f"2026-11-1{n}") for n in range(3)})
    output = site.root / "_site"
    spare = site.root / ".site-builder-_site.spare"
    assert site.run("build").code == 0 and not spare.exists()
    rules_inode = (output / "rules.html").stat().st_ino
    site.write("content/records/r1.md", record(date="2026-11-11", findings=finding("a", 1)))
    assert site.run("build").code == 0 and spare.is_dir()
    taken = []
    original = publish._take_spare
    monkeypatch.setattr(publish, "_take_spare", lambda *args: taken.append(original(*args)) or taken[-1])
    site.write("content/records/r2.md", record(date="2026-11-12", findings=finding("b", 2)))
    (site.root / "content/records/r0.md").unlink()
    assert site.run("build").code == 0
    assert taken[-1]  # the spare was used: its files were known
    assert (output / "rules.html").stat().st_ino == rules_inode
    assert not (output / "records" / "r0.html").exists()
    (spare / "records" / "stray.html").write_text("not from a build", encoding="utf-8")  # a spare touched by hand
    site.write("content/records/r2.md", record(date="2026-11-12", findings=finding("b", 1)))
    assert site.run("build").code == 0
    assert not taken[-1]  # it was not trusted
    clean = site.root.parent / "clean"
    assert site.run("build", "--output", str(clean), "--no-cache").code == 0
    assert tree(clean) == tree(output)


def test_a_long_build_shows_a_progress_bar_on_a_terminal_and_quiet_shows_none(make_site, monkeypatch, capsys):
    import time

    from site_builder.build import build
    from site_builder.cli import _progress_bar

    site = make_site({f"content/records/r{n}.md": record(date=f"2026-11-1{n}") for n in range(3)})
    heard = []
    assert build(site.root, site.root / "_site", 1, lambda done, total, what="pages": heard.append((what, done, total)))
    assert ("records", 3, 3) in heard and heard[-1][0] == "pages" and heard[-1][1] == heard[-1][2] > 0

    clock = iter([0.0, 0.5, 5.0, 5.1, 9.0, 9.5])
    monkeypatch.setattr(time, "monotonic", lambda: next(clock))
    show = _progress_bar(enabled=True)
    show(1, 4, "records")  # within the first two seconds: nothing
    show(2, 4, "records")
    show(4, 4)
    assert capsys.readouterr().err == f"\r[{'#' * 15}{'.' * 15}] 2/4 records\r[{'#' * 30}] 4/4 pages\n"
    quiet = _progress_bar(enabled=False)
    quiet(4, 4)
    assert capsys.readouterr().err == ""


def test_the_input_listing_taken_by_two_processes_sees_every_change(make_site, monkeypatch):
    import site_builder.fingerprint as fingerprint
    from site_builder.cache import FileDigests

    forked = []
    original = fingerprint.workers.Forked
    monkeypatch.setattr(fingerprint, "_SPLIT_FROM", 0)  # as on a large site: the walk is shared with a worker
    monkeypatch.setattr(fingerprint.workers, "Forked", lambda *args: forked.append(args) or original(*args))
    files = {f"content/records/2026/{month:02d}/r.md": record(date=f"2026-{month:02d}-12") for month in range(1, 10)}
    site = make_site(files)
    assert site.run("build", "--jobs", "2").code == 0
    assert "nothing changed" in site.run("build", "--jobs", "2").out and forked
    layouts = fingerprint.layout_folders(site.root)
    shared = fingerprint.Inputs(site.root, layouts, FileDigests(site.root), jobs=2)
    alone = fingerprint.Inputs(site.root, layouts, None, jobs=1)
    assert shared.fingerprint == alone.fingerprint
    assert len([path for path in shared.stats() if "/content/records/" in path]) == 9
    for month in (1, 2):  # one folder walked by each process
        path = f"content/records/2026/{month:02d}/r.md"
        site.write(path, record(date=f"2026-{month:02d}-12", findings=finding("a", 1)))
        result = site.run("build", "--jobs", "2")
        assert result.code == 0 and "nothing changed" not in result.out
        page = site.root / "_site" / "records" / f"2026/{month:02d}/r.html"
        assert "<td class=\"num\">1.0</td>" in page.read_text(encoding="utf-8")
        assert "nothing changed" in site.run("build", "--jobs", "2").out


def test_data_files_put_together_from_kept_pieces_equal_the_files_made_whole(make_site):
    from site_builder import report
    from site_builder.pipeline import load
    from site_builder.score import deductions_of

    site = make_site({f"content/records/2026/{month:02d}/r{n}.md":
                      record(date=f"2026-{month:02d}-1{n}", staff=f"S00{1 + n}", findings=finding("a", 1 + n))
                      for month in (9, 10, 11) for n in range(2)})
    assert site.run("build").code == 0
    site.write("content/records/2026/10/r1.md", record(date="2026-10-11", staff="S002", findings=finding("b", 2)))
    assert site.run("build").code == 0  # months 9 and 11 from kept pieces, month 10 made again
    loaded = load(site.root)
    scores, data = loaded.scores(), site.root / "_site" / "data"
    whole = report.to_json(report.scores_json(loaded.site, scores), expand=3) + "\n"
    assert (data / "scores.json").read_text(encoding="utf-8") == whole
    found = sorted(deductions_of(loaded.site).values(), key=lambda d: (d.record.date, d.record.id, d.finding.position))
    rows = [report.FINDINGS_HEADER] + report.findings_rows(loaded.site, found)
    assert (data / "findings.csv").read_text(encoding="utf-8") == report.to_csv(rows)
    assert (data / "scores.csv").read_text(encoding="utf-8") == report.to_csv(report.scores_rows(loaded.site, scores))
    edited = [row for row in rows if row[1] == "2026/10/r1"]
    assert [(row[0], row[7], row[9], row[11]) for row in edited] == [("2026-10", "S002", "b", "2")]


@pytest.mark.parametrize("shared", [False, True], ids=["one process", "walk shared with a worker"])
def test_a_stored_listing_never_hides_a_change_to_any_input(make_site, monkeypatch, shared):
    import site_builder.fingerprint as fingerprint

    monkeypatch.setattr(fingerprint, "RACY_NS", 0)  # trust each listing at once, as a site untouched for a while
    monkeypatch.setattr(fingerprint, "_SPLIT_FROM", 0 if shared else 10**9)
    worked_out = []
    original = fingerprint.Inputs._content
    monkeypatch.setattr(fingerprint.Inputs, "_content", lambda *args: worked_out.append(1) or original(*args))
    site = make_site({f"content/records/2026/{month:02d}/r.md": record(date=f"2026-{month:02d}-12")
                      for month in range(1, 10)})
    assert site.run("build").code == 0
    worked_out.clear()
    assert "nothing changed" in site.run("build").out and not worked_out  # the stored listing stood
    edits = [("rules.yaml", lambda text: text + "# edited\n"),
             ("content/people.yaml", lambda text: text + "# edited\n"),
             ("content/records/2026/01/r.md", lambda text: text.replace("2026-01-12", "2026-01-13")),
             ("content/records/2026/08/r.md", lambda text: text + "\nOne more line.\n"),
             ("content/records/2026/05/new.md", lambda text: record(date="2026-05-20", staff="S002"))]
    for path, edit in edits:
        file = site.root / path
        site.write(path, edit(file.read_text(encoding="utf-8") if file.exists() else ""))
        result = site.run("build")
        assert result.code == 0 and "nothing changed" not in result.out, path
        assert "nothing changed" in site.run("build").out, path


def test_an_edit_rereads_only_the_file_it_was_made_in(make_site, monkeypatch):
    import site_builder.cache as cache
    import site_builder.fingerprint as fingerprint

    # trust each listing and signature at once, as on a site untouched for a while
    monkeypatch.setattr(fingerprint, "RACY_NS", 0)
    monkeypatch.setattr(cache, "RACY_NS", 0)
    read = []
    original = fingerprint._read
    monkeypatch.setattr(fingerprint, "_read", lambda path: read.append(path) or original(path))
    asked = []  # the files whose stored hash was looked up: those of folders whose listing changed
    stored = cache.FileDigests.digest
    monkeypatch.setattr(cache.FileDigests, "digest", lambda self, folder, name, *rest:
                        asked.append(f"{folder}/{name}") or stored(self, folder, name, *rest))
    site = make_site({f"content/records/2026/{month:02d}/r{n}.md": record(date=f"2026-{month:02d}-1{n}")
                      for month in range(1, 7) for n in range(3)})

    def content_read() -> list[str]:  # (the layouts are hashed by the renderer on each build, as a whole)
        return sorted(rel for path in read if (rel := os.path.relpath(path, site.root)).startswith("content/"))

    assert site.run("build").code == 0
    read.clear()
    asked.clear()
    site.write("content/records/2026/03/r1.md", record(date="2026-03-11", findings=finding("a", 2)))
    assert site.run("build").code == 0
    assert content_read() == ["content/records/2026/03/r1.md"]
    assert sorted(asked) == [f"content/records/2026/03/r{n}.md" for n in range(3)]
    assert "<td class=\"num\">2.0</td>" in (site.root / "_site/records/2026/03/r1.html").read_text(encoding="utf-8")
    read.clear()
    (site.root / "content/records/2026/05/r2.md").unlink()  # a folder that lost a file is looked at again
    site.write("content/records/2026/06/new.md", record(date="2026-06-20"))  # ... and one that gained one
    assert site.run("build").code == 0
    assert content_read() == ["content/records/2026/06/new.md"]
    assert not (site.root / "_site/records/2026/05/r2.html").exists()
    assert (site.root / "_site/records/2026/06/new.html").exists()


@pytest.mark.parametrize("sends", [0, 1], ids=["dies at once", "dies after its digest"])
def test_a_walk_worker_that_dies_leaves_its_share_to_the_build(make_site, monkeypatch, sends):
    import site_builder.fingerprint as fingerprint

    def dying(folders):
        if sends:
            yield from itertools.islice(original(folders), sends)
        raise SystemExit("the worker was killed")

    original = fingerprint._walk_and_send
    monkeypatch.setattr(fingerprint, "_SPLIT_FROM", 0)
    monkeypatch.setattr(fingerprint, "_walk_and_send", dying)
    site = make_site({f"content/records/2026/{month:02d}/r.md": record(date=f"2026-{month:02d}-12")
                      for month in range(1, 10)})
    layouts = fingerprint.layout_folders(site.root)
    from site_builder.cache import FileDigests

    shared = fingerprint.Inputs(site.root, layouts, FileDigests(site.root), jobs=2)
    assert shared.fingerprint == fingerprint.Inputs(site.root, layouts, None, jobs=1).fingerprint
    assert len([path for path in shared.stats() if "/content/records/" in path]) == 9
    assert site.run("build", "--jobs", "2").code == 0
    assert len(list((site.root / "_site" / "records" / "2026").rglob("r.html"))) == 9
