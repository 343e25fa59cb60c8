"""The command line as a user meets it: exit codes, formats, usage errors."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import REPO, finding, record

SUP = "content/records/2026/11/sup-S001.md"


def test_scores_table_is_aligned_and_names_the_period(make_site):
    site = make_site({SUP: record(findings=finding("a", 2))})
    result = site.run("scores")
    assert result.code == 0
    assert "2026-11  (2026-10-26 – 2026-11-25)" in result.out
    row = next(line for line in result.out.splitlines() if line.startswith("S001"))
    assert "98.0" in row and "missing_check:qa_monthly" in row


def test_scores_table_speaks_the_sites_default_language(make_site):
    from conftest import RULES

    site = make_site({SUP: record(findings=finding("a", 2))},
                     rules=RULES.replace("  language: zh-CN", "  language: fr")
                     .replace("  languages: [zh-CN, en]", "  languages: [fr, en]"))
    site.write("layouts/i18n/fr.yaml", "status_provisional: Provisoire\nname: Nom\n")  # a catalogue begun
    lines = site.run("scores").out.splitlines()
    assert lines[0].endswith("Provisoire") and lines[2].split()[:2] == ["ID", "Nom"]  # English fills the rest
    assert "暂定" not in lines[0] and "Base" in lines[2] and "Total" in lines[2]


def test_scores_csv_has_one_row_per_staff_member_and_period(make_site):
    site = make_site({SUP: record(findings=finding("a", 2))})
    result = site.run("scores", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.out)))
    assert [(r["month"], r["staff"], r["total"]) for r in rows] == [
        ("2026-11", "S001", "98.0"), ("2026-11", "S002", ""), ("2026-11", "S003", "")]
    assert rows[1]["flags"].split(";") == ["missing_check:qa_monthly", "missing_check:supervisor_monthly",
                                          "unscored"]


def test_scores_month_filter_and_unknown_month(make_site):
    site = make_site({SUP: record(), "content/records/o.md": record(date="2026-09-01")})
    assert list(site.scores("2026-09")) == ["2026-09"]
    missing = site.run("scores", "--month", "2025-01")
    assert missing.code == 1 and "no scores for 2025-01" in missing.err
    bad = site.run("scores", "--month", "2026-13")
    assert bad.code == 2 and "YYYY-MM" in bad.err


def test_scores_refuses_content_with_errors(make_site):
    site = make_site({SUP: record(inspector="I99")})
    result = site.run("scores")
    assert result.code == 1 and "content/records/2026/11/sup-S001.md:4:12" in result.err


def test_check_exit_codes_and_json(make_site):
    site = make_site({SUP: record()})
    clean = site.run("check", "--format", "json")
    assert clean.code == 0 and clean.json() == {"errors": [], "warnings": []}
    site.write(SUP, record(type_="montly"))
    broken = site.run("check", "--format", "json")
    assert broken.code == 1
    [error] = broken.json()["errors"]
    assert error["file"] == SUP and error["line"] == 2 and error["code"] == "unknown-reference"


def test_usage_errors_exit_2(make_site, tmp_path):
    site = make_site()
    assert site.run("check", "no/such/file.md").code == 2
    assert site.run("frobnicate").code == 2
    assert site.run("scores", "--format", "xml").code == 2
    assert site.run("scores", "--month", "２０２６-11").code == 2  # full-width digits are no month (`\\d` took them)
    from site_builder.cli import main
    assert main(["check", "--root", str(tmp_path / "nowhere")]) == 2


def test_python_dash_m_runs_on_the_example_site():
    result = subprocess.run([sys.executable, "-m", "site_builder", "scores", "--format", "json",
                             "--root", str(REPO)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    months = json.loads(result.stdout)
    assert len(months) >= 4 and all(m["staff"] for m in months.values())
    assert "Traceback" not in result.stderr


def test_check_loads_neither_markdown_nor_jinja(make_site):
    site = make_site({"content/records/r.md": record(body="**加粗**的说明。")})
    code = ("import sys; from site_builder.cli import main; code = main(['check', '--root', sys.argv[1]]); "
            "print(code, sorted(m for m in ('markdown', 'nh3', 'jinja2') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code, str(site.root)], capture_output=True, text=True,
                            cwd=REPO, check=True)
    assert result.stdout.splitlines()[-1] == "0 []"  # the pre-commit hook starts quickly


def test_an_internal_error_is_one_clear_line_and_debug_shows_the_traceback(make_site, monkeypatch):
    import site_builder.score as score

    def broken(site):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(score, "score_site", broken)
    monkeypatch.setattr("site_builder.pipeline.score_site", broken)
    site = make_site({SUP: record()})
    result = site.run("scores")
    assert result.code == 3
    assert "internal error" in result.err and "--debug" in result.err and "Traceback" not in result.err
    debug = site.run("scores", "--debug")
    assert "Traceback" in debug.err


def test_check_of_one_file_still_fails_when_people_yaml_is_broken(make_site):
    site = make_site({SUP: record()}, people="staff: []\ninspectors: []\nstray: 1\n")
    result = site.run("check", str(site.root / SUP))
    assert result.code == 1 and "content/people.yaml:3:1: unknown-key" in result.out


def test_check_accepts_paths_relative_to_the_root(make_site):
    site = make_site({SUP: record(inspector="I99")})
    result = site.run("check", SUP)
    assert result.code == 1 and f"{SUP}:4:12" in result.out


def test_csv_cells_can_never_run_as_spreadsheet_formulas(make_site):
    note = finding("a", 2).replace("note: 发现问题", "note: \"=HYPERLINK(\\\"http://x\\\")\"")
    site = make_site({SUP: record(findings=note)})
    assert site.run("build").code == 0
    rows = list(csv.DictReader(io.StringIO((site.root / "_site/data/findings.csv").read_text("utf-8"))))
    assert rows[0]["note"] == "'=HYPERLINK(\"http://x\")"


def test_csv_cells_stay_inert_where_a_spreadsheet_splits_rows_at_semicolons(make_site):
    note = finding("a", 2).replace("note: 发现问题", "note: \"见附件;=HYPERLINK(1)\"")
    site = make_site({SUP: record(findings=note)})
    assert site.run("build").code == 0
    text = (site.root / "_site/data/findings.csv").read_text("utf-8")
    assert "见附件;'=HYPERLINK(1)" in text and ";=" not in text
    readme = (site.root / "_site/data/README.md").read_text("utf-8")  # and the data's readme says so
    assert "as is each such start after a `;` inside a cell" in readme


def test_build_quiet_prints_nothing_on_success(make_site):
    site = make_site({SUP: record()})
    result = site.run("build", "--quiet", "--jobs", "2")
    assert result.code == 0 and result.out == ""
    assert (site.root / "_site" / "index.html").is_file()
    assert site.run("build", "--jobs", "0").code == 2


def test_an_output_that_cannot_be_made_or_a_port_out_of_range_is_a_usage_error(make_site):
    site = make_site()
    result = site.run("build", "--output", str(site.root / "rules.yaml" / "out"))
    assert result.code == 2 and "cannot write the site to" in result.err and "Traceback" not in result.err
    result = site.run("serve", "--port", "70000")
    assert result.code == 2 and "0 to 65535" in result.err


def test_new_refuses_a_skeleton_check_would_refuse_and_writes_nothing(make_site):
    site = make_site()
    result = site.run("new", "daily", "--staff", "S001", "--inspector", "I01", "--date", "2100-01-04")
    assert result.code == 2 and "would not pass `check`" in result.err and "2099" in result.err, result.err
    assert not (site.root / "content" / "records").exists()


def test_scores_of_a_site_with_no_records_says_so(make_site):
    result = make_site().run("scores")
    assert result.code == 0 and "no scores yet" in result.out


def test_a_command_run_in_a_folder_of_the_site_finds_its_root(make_site, monkeypatch, capsys, tmp_path):
    from site_builder.cli import main

    site = make_site({"content/records/2026/11/r.md": record(date="2026-11-31")})
    monkeypatch.chdir(site.root / "content" / "records" / "2026" / "11")  # where an inspector works
    assert main(["check", "--format", "json", "r.md"]) == 1
    errors = json.loads(capsys.readouterr().out)["errors"]
    assert [(e["file"], e["code"]) for e in errors] == [("content/records/2026/11/r.md", "bad-date")]
    assert main(["new", "supervisor_monthly", "--staff", "S001", "--inspector", "I01", "--date", "2026-11-12"]) == 0
    written = capsys.readouterr().out.strip()  # a path that opens from where the inspector is
    assert written == "2026-11-12-supervisor_monthly-S001.md" and Path(written).is_file(), written
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # no site above: said as before
    assert main(["check"]) == 1 and "`rules.yaml` does not exist" in capsys.readouterr().out


def _broken_records(site, count: int) -> None:
    for n in range(count):
        site.write(f"content/records/bad{n}.md", record().replace("staff: S001", "staff: S001\nfoo: 1"))


def test_a_reader_that_leaves_early_does_not_turn_errors_into_success(make_site):
    site = make_site()
    _broken_records(site, 300)  # more than a pipe holds
    env = {**os.environ, "SITE_BUILDER_CACHE": str(site.root / ".cache")}
    process = subprocess.Popen([sys.executable, "-m", "site_builder", "check", "--root", str(site.root)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert b"unknown-key" in process.stdout.readline()
    process.stdout.close()  # `site-builder check | head -1`
    _, err = process.communicate(timeout=120)
    assert process.returncode == 1 and b"internal error" not in err  # the errors still fail the check


def test_a_terminal_that_is_not_utf8_gets_escapes_not_a_crash(make_site):
    site = make_site({SUP: record(findings=finding("a", 9, severity="serious"))})  # "band serious 3–5"
    env = {**os.environ, "PYTHONIOENCODING": "ascii", "SITE_BUILDER_CACHE": str(site.root / ".cache")}
    result = subprocess.run([sys.executable, "-m", "site_builder", "check", "--root", str(site.root)],
                            capture_output=True, env=env, check=False)
    assert result.returncode == 1 and b"internal error" not in result.stderr
    assert b"band serious 3\\u20135" in result.stdout


def test_a_cache_folder_that_cannot_be_made_is_said_once_and_the_build_goes_on(make_site, monkeypatch, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("SITE_BUILDER_CACHE", str(blocker))
    site = make_site({SUP: record()})
    for command in (["build"], ["check"]):
        result = site.run(*command)
        assert result.code == 0, result.err
        said = result.out + result.err
        assert said.count("cache-unusable") == 1 and "Not a directory" in said and "cache-discarded" not in said


def test_an_output_below_a_file_is_said_to_be_below_a_file(make_site, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = make_site({SUP: record()}).run("build", "--output", str(blocker / "site"))
    assert result.code == 2 and f"{blocker} is a file, not a folder" in result.err


def test_check_of_paths_that_hold_nothing_a_build_reads_says_so(make_site):
    site = make_site({SUP: record(), "notes/todo.txt": "x"})
    result = site.run("check", "notes/todo.txt")
    assert result.code == 0 and "checked 0 files" in result.out and "hold no file a build reads" in result.out
    assert "hold no file" not in site.run("check", SUP).out
