"""Open and fair: from the example site's pages alone a reader can answer who scored what and why, where
the center loses points, whether an inspector differs from peers, who lacks a required check, and what was
appealed with what outcome."""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET

import pytest

from conftest import PEOPLE, RULES, example_site, finding, record
from test_build import parse


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    site = example_site(tmp_path_factory.mktemp("example"))
    assert site.run("build").code == 0
    return site.root / "_site"


def rows(table) -> list[list[str]]:
    return [[cell.text().strip() for cell in tr.iter() if cell.tag in ("th", "td") and cell.parent is tr]
            for tr in table.iter() if tr.tag == "tr"]


def caption(page, text: str):
    for table in page.iter():
        if table.tag == "table":
            cap = table.find("caption")
            if cap is not None and text in cap.text():
                return table
    raise AssertionError(f"no table captioned {text!r}")


def test_the_summary_says_where_the_center_loses_points(out):
    page = parse(out / "en" / "index.html")
    table = caption(page, "Points deducted per item")
    body = rows(table)[1:]
    points = [float(r[1]) for r in body]
    assert points == sorted(points, reverse=True)  # the item losing most comes first
    assert body[0][0].startswith("d ")  # the punishable key case zeroed item d (8 + 1 + a reduced one)
    assert len(page.find_all("svg")) >= 3  # histogram, heatmap, trend


def test_who_lacks_a_required_check_is_named(out):
    page = parse(out / "en" / "periods" / "2026-10.html")
    table = caption(page, "Compliance")
    missing = dict((r[0], r[1]) for r in rows(table))["Missing a required check (4.5.1)"]
    assert "黄佳慧" in missing and "Quality department" in missing  # S007 had no qa_monthly in 2026-10


def test_appeals_and_their_outcomes_are_listed(out):
    page = parse(out / "en" / "periods" / "2026-11.html")
    table = caption(page, "Appeals this period")
    decisions = sorted(r[4].split(" ·")[0] for r in rows(table)[1:])
    assert decisions == ["overturned", "pending", "reduced"]
    appeals = list(csv.DictReader(io.StringIO((out / "data" / "appeals.csv").read_text("utf-8"))))
    assert sorted(a["decision"] for a in appeals) == ["overturned", "pending", "reduced", "reduced", "upheld"]


def test_calibration_marks_inspectors_who_differ_and_says_when_too_few(out):
    data = json.loads((out / "data" / "calibration.json").read_text("utf-8"))
    overall = {(r["inspector"], r["check_type"]): r for r in data if r["scope"] == "all"}
    assert overall[("I09", "office_spot")]["marks"] == ["harsher"]
    assert overall[("I08", "office_spot")]["marks"] == ["more_lenient"]
    assert overall[("I06", "qa_monthly")]["too_few"] is True and overall[("I06", "qa_monthly")]["marks"] == []
    page = parse(out / "en" / "calibration.html")
    text = page.text()
    assert "much harsher than peers" in text and "too few to compare" in text


def test_a_staff_page_shows_the_trend_the_profile_and_what_changed(out):
    page = parse(out / "en" / "staff" / "S002.html")
    assert any(svg.get("class") == "chart" for svg in page.find_all("svg"))
    text = page.text()
    assert "Points deducted per item, all periods" in text and "What changed" in text
    assert "Oct 2026 → Nov 2026" in text
    # the change adds up with the totals the page shows (100.0 → 93.3), not with the exact ones (93.25)
    assert "Oct 2026 → Nov 2026: Total -6.7" in text


def test_the_feed_lists_published_periods(out):
    feed = ET.parse(out / "en" / "feed.xml").getroot()
    ns = {"a": "http://www.w3.org/2005/Atom"}
    titles = [e.find("a:title", ns).text for e in feed.findall("a:entry", ns)]
    assert titles == ["Appraisal of Oct 2026", "Appraisal of Sep 2026", "Appraisal of Aug 2026"]


def test_small_groups_are_not_compared(make_site):
    site = make_site({
        "content/records/a.md": record(type_="office_spot", inspector="I08", findings=finding("a", 2)),
    })
    assert site.run("build").code == 0
    data = json.loads((site.root / "_site" / "data" / "calibration.json").read_text("utf-8"))
    assert all(r["too_few"] and r["marks"] == [] for r in data)


def test_peers_with_too_few_checks_are_compared_on_neither_figure(make_site):
    people = PEOPLE.replace("inspectors:\n", "inspectors:\n  - {id: I02, name: 赵敏, role: supervisor}\n")
    files = {f"content/records/r{n}.md": record(date=f"2026-11-0{n}", staff=staff, findings=finding("a", 1))
             for n, staff in ((5, "S001"), (6, "S002"), (7, "S001"))}
    files["content/records/r8.md"] = record(date="2026-11-08", inspector="I02", staff="S002",
                                            findings=finding("a", 10, severity="adverse"))
    site = make_site(files, people=people)
    assert site.run("build").code == 0
    data = json.loads((site.root / "_site" / "data" / "calibration.json").read_text("utf-8"))
    mine = next(r for r in data if (r["scope"], r["inspector"], r["check_type"]) == ("all", "I01", "supervisor_monthly"))
    assert mine["checks"] == 3 and mine["marks"] == []  # one check of I02's is not a measure of peers
    assert mine["peer_findings_per_check"] is None and mine["peer_points_per_finding"] is None
    page = (site.root / "_site" / "en" / "calibration.html").read_text("utf-8")
    assert "no peers to compare with" in page and "in line with peers" not in page  # nothing was compared


def test_totals_above_100_under_a_higher_cap_are_counted_in_the_distribution(make_site):
    rules = RULES.replace("  total_cap: 100 ", "  total_cap: 120 ")
    commended = record(commendations="- {staff: S001, points: 15, reason: 表扬}")
    site = make_site({"content/records/r.md": commended}, rules=rules)
    assert site.run("build").code == 0
    table = caption(parse(site.root / "_site" / "en" / "periods" / "2026-11.html"), "Distribution")
    assert rows(table)[-1] == ["100+", "1"]  # S001: 100 + 15, capped at 120
    for page in ("en/index.html", "en/staff/S001.html"):  # the trend charts' scales reach 115: drawn inside
        text = (site.root / "_site" / page).read_text("utf-8")
        heights = [float(y) for y in re.findall(r'<circle cx="[\d.]+" cy="(-?[\d.]+)"', text)]
        assert heights and all(0 <= y <= 260 for y in heights), (page, heights)
        assert '>115</text>' in text


def test_points_by_item_keep_two_forms_items_of_the_same_key_apart(make_site):
    cleaner = ("forms:\n  cleaner:\n    code: CL-01\n    post: {zh-CN: 保洁, en: Cleaning}\n    items:\n"
               "      a:\n        label: {zh-CN: 地面清洁, en: Floors}\n        full: 100\n"
               "        severities: [general, serious, adverse]\n")
    rules = RULES.replace("forms:\n", cleaner, 1)
    people = PEOPLE.replace("  - {id: S002, name: 王芳, post: reception", "  - {id: S002, name: 王芳, post: cleaner")
    files = {"content/records/2026/11/r1.md": record(findings=finding("a", 2)),
             "content/records/2026/11/r2.md": record(staff="S002", findings=finding("a", 1))}
    site = make_site(files, rules=rules, people=people)
    assert site.run("build").code == 0
    page = (site.root / "_site/en/periods/2026-11.html").read_text(encoding="utf-8")
    # each form's item a on a row of its own, never the two added together (3.0)
    assert '<th scope="row">a · Receiving residents&#39; inquiries (HG/QEW04-02-R01)</th><td class="num">2.0</td>' in page
    assert '<th scope="row">a · Floors (CL-01)</th><td class="num">1.0</td>' in page


def test_points_by_item_as_csv_have_the_heatmaps_columns_in_the_forms_order(make_site):
    items = "".join(f"      {key}:\n        label: {{zh-CN: {key}, en: {key}}}\n        full: 50\n"
                    "        severities: [general, serious, adverse]\n" for key in ("p9", "p10"))
    rules = RULES.replace("forms:\n", f"forms:\n  cleaner:\n    code: CL-01\n    post: {{zh-CN: 保洁, en: Cleaning}}\n"
                          f"    items:\n{items}", 1)
    people = PEOPLE.replace("  - {id: S002, name: 王芳, post: reception", "  - {id: S002, name: 王芳, post: cleaner")
    files = {"content/records/2026/11/r1.md": record(findings=finding("b", 2)),
             "content/records/2026/11/r2.md": record(staff="S002", findings=finding("p10", 1))}
    site = make_site(files, rules=rules, people=people)
    assert site.run("build").code == 0
    table = list(csv.reader(io.StringIO((site.root / "_site/data/periods/2026-11-items.csv").read_text("utf-8"))))
    assert table[0] == ["staff", "name", "p9", "p10", *"abcdefghij"]  # (as text, p10 came before p9)
    assert table[1][:5] == ["S001", "张伟", "", "", ""] and table[1][5] == "2.0"  # (points, as the pages show them)
    assert table[2][:4] == ["S002", "王芳", "", "1.0"]


def test_an_appealed_finding_is_marked_alike_on_every_page_that_shows_it(make_site):
    rec = "content/records/2026/11/r.md"
    found = finding("e", 8, "adverse", punishable="true")
    appeal = ("---\nrecord: 2026/11/r\nfinding: 1\nfiled: 2026-11-20\ndecision: reduced\npoints: 6\n"
              "decided: 2026-11-24\ndecided_by: I05\n---\n申诉理由。\n")
    site = make_site({rec: record(findings=found), "content/appeals/r-1.md": appeal})
    assert site.run("build").code == 0
    out = site.root / "_site"
    evidence = (out / "staff/S001/2026-11.html").read_text(encoding="utf-8")
    period = (out / "periods/2026-11.html").read_text(encoding="utf-8")
    record_page = (out / "records/2026/11/r.html").read_text(encoding="utf-8")
    assert "<del>−8.0</del> −6.0" in evidence  # the evidence list, as the form above it
    assert '<td class="num"><del>8.0</del> 6.0</td>' in period  # the period's appeals table
    assert 'flag-punishable"><del>' in record_page  # reduced: no longer zeroes its item


def test_a_trend_line_is_broken_where_a_period_has_no_value():
    from site_builder.charts import line_chart

    def polylines(values):
        svg = line_chart("t", "title", "desc", ["a", "b", "c", "d", "e"], [("mean", values)], 0, 100)
        return svg.count("<polyline")

    assert polylines([90, 85, 80, 70, 60]) == 1
    assert polylines([90, 85, None, 70, 60]) == 2  # nothing drawn across the empty period
    assert polylines([90, None, 80, None, 60]) == 0  # single points stand alone


def test_heatmap_numbers_are_readable_and_long_names_are_cut_not_clipped():
    import re

    from site_builder.charts import heatmap

    def contrast(a, b):
        def lum(rgb):
            lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (v / 255 for v in rgb)]
            return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
        high, low = sorted((lum(a), lum(b)), reverse=True)
        return (high + 0.05) / (low + 0.05)

    name = "S001 " + "澹台夏侯端木呼延" * 6
    svg = heatmap("h", "title", "desc", [(name, [float(v) for v in range(0, 21)]), ("S002 王", [1.0] * 21)],
                  [f"i{n}" for n in range(21)])
    for values in ([4.5, 6.5], [10.0, 11.5]):  # shades whose two-decimal alpha once fell just under 4.5:1
        for alpha, ink in re.findall(r'fill="rgba\(179,38,30,([0-9.]+)\)">.*?</rect><text [^>]*fill="(#[0-9a-f]+)"',
                                     heatmap("v", "t", "d", [("S", values)], ["a", "b"])):
            fill = tuple(255 + float(alpha) * (c - 255) for c in (179, 38, 30))
            rgb = tuple(int(ink[i:i + 2], 16) for i in (1, 3, 5)) if len(ink) == 7 else (255, 255, 255)
            assert contrast(fill, rgb) >= 4.5, (values, alpha, ink)
    cells = re.findall(r'<rect x="\d+" y="\d+" width="\d+" height="\d+" fill="rgba\(179,38,30,([0-9.]+)\)">'
                       r'.*?</rect><text [^>]*fill="(#[0-9a-f]+)"', svg)
    assert len(cells) == 41  # every cell with a value
    for alpha, ink in cells:
        fill = tuple(255 + float(alpha) * (c - 255) for c in (179, 38, 30))
        rgb = tuple(int(ink[i:i + 2], 16) for i in (1, 3, 5)) if len(ink) == 7 else (255, 255, 255)
        assert contrast(fill, rgb) >= 4.5, (alpha, ink)
    label = re.search(r'class="label">(S001[^<]*)</text>', svg).group(1)
    assert label.endswith("…") and len(label) < len(name)  # its start, the id, is what stays
    assert f"<title>{name} · i1: 1</title>" in svg  # the whole name is in each cell's tooltip


def test_a_name_thousands_of_characters_long_is_cut_by_looking_at_its_start_only(monkeypatch):
    from site_builder import charts

    looked_at = []
    width = charts._char_width
    monkeypatch.setattr(charts, "_char_width", lambda ch: looked_at.append(ch) or width(ch))
    label = charts._fitted("S001 " + "欧阳" * 50_000, 250.0)
    assert label.startswith("S001 欧阳") and label.endswith("…") and charts._text_width(label) <= 250.0
    assert len(looked_at) < 100  # (measured whole and cut one character at a time, it took a minute a chart)


def test_the_calibration_page_takes_each_periods_rows_at_once_and_a_layout_filtering_the_list_still_works(make_site):
    from conftest import REPO

    site = make_site({f"content/records/2026/{month:02d}/r{n}.md": record(date=f"2026-{month:02d}-1{n}",
                                                                           findings=finding("a", 1 + n))
                      for month in (8, 9, 10, 11) for n in range(2)})
    assert site.run("build").code == 0
    shipped = (site.root / "_site" / "calibration.html").read_bytes()
    assert shipped.count(b"<details>") == 4
    shipped_layout = (REPO / "layouts" / "calibration.html").read_text(encoding="utf-8")
    before = shipped_layout \
        .replace("calibration.scope('all')", "calibration | selectattr('scope', 'equalto', 'all') | list") \
        .replace("calibration.scope(key)", "calibration | selectattr('scope', 'equalto', key) | list")
    assert before.count("selectattr('scope'") == 2  # a site's own copy of the layout as it was: the whole list filtered
    site.write("layouts/calibration.html", before)
    assert site.run("build", "--output", str(site.root / "before")).code == 0
    assert (site.root / "before" / "calibration.html").read_bytes() == shipped

