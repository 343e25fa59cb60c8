"""Git provenance and the flags it raises, with real repositories whose dates and authors are set."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from conftest import PEOPLE, RULES, finding, record

REC = "content/records/2026/11/sup-S001.md"
APPEAL = "content/appeals/a.md"
PENDING = "---\nrecord: 2026/11/sup-S001\nfinding: 1\nfiled: 2026-11-20\n---\n申诉理由。\n"
OVERTURNED = ("---\nrecord: 2026/11/sup-S001\nfinding: 1\nfiled: 2026-11-20\ndecision: overturned\n"
              "decided: 2026-11-24\ndecided_by: I05\n---\n申诉理由。\n")
# Git is the record of truth from 2026-01-01 in these tests; nothing counts as imported.
ADOPTED_RULES = RULES.replace("adopted: 2026-12-01", "adopted: 2026-01-01")


def git(site, *args: str, date: str = "2026-11-12T10:00:00+08:00", email: str = "lina@example.com"):
    env = {**os.environ, "GIT_AUTHOR_NAME": "Someone", "GIT_AUTHOR_EMAIL": email,
           "GIT_COMMITTER_NAME": "Someone", "GIT_COMMITTER_EMAIL": email,
           "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
    return subprocess.run(["git", "-C", str(site.root), *args], env=env, check=True, capture_output=True,
                          text=True).stdout


def commit(site, message: str, **kw):
    git(site, "add", "-A")
    git(site, "commit", "-q", "-m", message, **kw)


@pytest.fixture
def repo(make_site):
    """A site in a git repository whose base files were committed early in November."""
    def build(files=None, rules=ADOPTED_RULES):
        site = make_site(files, rules=rules)
        git(site, "init", "-q", "-b", "main")
        commit(site, "roster", date="2026-11-01T09:00:00+08:00")
        return site
    return build


def flags(site, month="2026-11", staff="S001"):
    return site.scores(month)[month]["staff"][staff]["flags"]


def checked_and_signed_off(site) -> None:
    """S001 checked on 12 November (item a −2), and the period signed off on the 26th."""
    site.write(REC, record(findings=finding("a", 2)))
    commit(site, "check S001", date="2026-11-12T10:00:00+08:00")
    site.write("content/months/2026-11.md", "---\nmonth: 2026-11\nclosed: 2026-11-26\nclosed_by: I05\n---\n")
    commit(site, "sign off 2026-11", date="2026-11-26T10:00:00+08:00", email="qa@example.com")


def test_a_record_committed_by_the_deadline_has_no_git_flag(repo):
    site = repo()
    site.write(REC, record())
    commit(site, "check S001", date="2026-11-25T18:00:00+08:00")
    assert flags(site) == ["missing_check:qa_monthly"]
    assert site.run("check", "--format", "json").json()["warnings"] == []


def test_late_entry_after_the_collection_deadline(repo):
    site = repo()
    site.write(REC, record())
    commit(site, "check S001", date="2026-11-26T09:00:00+08:00")
    assert "late_entry" in flags(site)
    [warning] = site.run("check", "--format", "json").json()["warnings"]
    assert warning["code"] == "late-entry" and warning["file"] == REC and "2026-11-25" in warning["message"]


def test_late_grace_days_extend_the_deadline(repo):
    site = repo(rules=ADOPTED_RULES.replace("late_grace_days: 0", "late_grace_days: 2"))
    site.write(REC, record())
    commit(site, "check S001", date="2026-11-27T09:00:00+08:00")
    assert "late_entry" not in flags(site)


def test_imported_records_are_never_late(repo):
    site = repo(rules=RULES)  # adopted 2026-12-01: everything committed before it is imported history
    site.write(REC, record())
    commit(site, "import paper records", date="2026-11-30T09:00:00+08:00", email="clerk@example.com")
    assert flags(site) == ["missing_check:qa_monthly"]


def test_author_mismatch_when_someone_else_commits(repo):
    site = repo()
    site.write(REC, record())
    commit(site, "check S001", email="intern@example.com")
    assert "author_mismatch" in flags(site)
    warnings = site.run("check", "--format", "json").json()["warnings"]
    assert [w["code"] for w in warnings] == ["author-mismatch"] and "intern@example.com" in warnings[0]["message"]


def test_an_inspector_without_git_emails_is_told_apart_only_from_another_inspectors_emails(repo):
    site = repo()
    site.write(REC, record(type_="qa_monthly", inspector="I05"))
    commit(site, "qa check", email="anyone@example.com")
    assert "author_mismatch" not in flags(site)  # anyone may be I05: they list no email
    site.write(REC, record(type_="qa_monthly", inspector="I05", body="补充。"))
    commit(site, "edited", email="LiNa@example.com")  # I01's email (letter case aside): not I05
    assert "author_mismatch" in flags(site)
    warnings = site.run("check", "--format", "json").json()["warnings"]
    assert [w["code"] for w in warnings] == ["author-mismatch"]
    assert "lina@example.com, which inspector `I01` commits with, not by inspector `I05`" in warnings[0]["message"]
    # the same person, listed again under an id of a new role (as the README says to), is not someone else
    site.write("content/people.yaml", PEOPLE.replace("  - {id: I05,", "  - {id: I09, name: 李娜, role: qa}\n  - {id: I05,"))
    site.write(REC, record(type_="qa_monthly", inspector="I09"))
    commit(site, "now in the quality department", email="lina@example.com")
    assert "author_mismatch" not in flags(site)


def test_amended_after_sign_off(repo):
    site = repo()
    checked_and_signed_off(site)
    assert "amended_after_signoff" not in flags(site)
    site.write(REC, record(findings=finding("a", 1)))
    commit(site, "soften finding", date="2026-11-28T10:00:00+08:00")
    assert "amended_after_signoff" in flags(site)
    codes = [w["code"] for w in site.run("check", "--format", "json").json()["warnings"]]
    assert codes == ["amended-after-signoff"]


def test_moving_a_record_after_sign_off_is_not_an_amendment_but_changing_it_on_the_way_is(repo):
    site = repo()
    checked_and_signed_off(site)
    moved = "content/records/2026/11/moved/sup-S001.md"
    (site.root / moved).parent.mkdir(parents=True)
    git(site, "mv", REC, moved)
    commit(site, "file records by week", date="2026-11-28T10:00:00+08:00", email="clerk@example.com")
    assert "amended_after_signoff" not in flags(site) and "author_mismatch" not in flags(site)
    assert site.run("check", "--format", "json").json()["warnings"] == []

    again = "content/records/2026/11/sup-S001.md"
    git(site, "mv", moved, again)
    site.write(again, record(findings=finding("a", 1)))  # moved back, and softened on the way
    commit(site, "file back", date="2026-11-29T10:00:00+08:00", email="clerk@example.com")
    assert "amended_after_signoff" in flags(site) and "author_mismatch" in flags(site)
    assert site.run("build").code == 0
    page = (site.root / "_site/en/records/2026/11/sup-S001.html").read_text(encoding="utf-8")
    assert "rename from" in page and "-    points: 2" in page and "+    points: 1" in page  # the change, not all new


def test_renamed_records_keep_their_history(repo):
    site = repo()
    site.write("content/records/old-name.md", record())
    commit(site, "check S001", date="2026-11-12T10:00:00+08:00")
    (site.root / REC).parent.mkdir(parents=True)
    git(site, "mv", "content/records/old-name.md", REC)
    commit(site, "file it by month", date="2026-11-13T10:00:00+08:00")
    from site_builder.history import read_history
    history = read_history(site.root).of(REC)
    assert history.revisions == 2 and history.first.subject == "check S001"


def test_a_site_put_into_git_is_built_again_though_nothing_is_committed_yet(make_site):
    site = make_site({REC: record()})
    assert site.run("build").code == 0
    git(site, "init", "-q", "-b", "main")  # no commit yet: HEAD is as unknown as outside git, the pages differ
    result = site.run("build")
    assert result.code == 0 and "nothing changed" not in result.out
    _same_as_a_clean_build(site)


def test_outside_git_the_build_warns_once_and_still_works(make_site):
    site = make_site({REC: record()})
    result = site.run("build")
    assert result.code == 0
    assert result.err.count("not in a git repository") == 1


def test_a_shallow_clone_builds_and_says_what_it_cannot_know(repo, tmp_path):
    site = repo()
    site.write(REC, record())
    commit(site, "check S001", date="2026-11-26T09:00:00+08:00")
    site.write("content/records/x.md", record(date="2026-11-13"))
    commit(site, "another", date="2026-11-27T09:00:00+08:00")
    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{site.root}", str(clone)], check=True)
    from conftest import SiteDir
    shallow = SiteDir(clone)
    result = shallow.run("build")
    assert result.code == 0 and "shallow clone" in result.err
    assert "late_entry" not in flags(shallow)  # unknown, so not guessed
    page = (clone / "_site/en/records/2026/11/sup-S001.html").read_text(encoding="utf-8")
    assert "Only part of the git history is here" in page and "first committed by" not in page  # not the boundary
    # fetching the rest moves no HEAD and changes no file, but what the pages can say: the build sees it
    subprocess.run(["git", "-C", str(clone), "fetch", "-q", "--unshallow"], check=True)
    result = shallow.run("build")
    assert result.code == 0 and "nothing changed" not in result.out and "shallow clone" not in result.err
    assert "late_entry" in flags(shallow)
    _same_as_a_clean_build(shallow)


def test_new_writes_a_skeleton_that_passes_check(make_site):
    site = make_site()
    result = site.run("new", "supervisor_monthly", "--staff", "S001", "--inspector", "I01", "--date", "2026-11-12")
    assert result.code == 0
    path = "content/records/2026/11/2026-11-12-supervisor_monthly-S001.md"
    assert result.out.strip() == path and "it counts in period 2026-11 (2026-10-26 – 2026-11-25)" in result.err
    text = (site.root / path).read_text(encoding="utf-8")
    assert "type: supervisor_monthly" in text and "#   c  培训出勤率" in text and "shortfall_10 3–5" in text
    assert site.run("check").code == 0
    assert site.scores("2026-11")["2026-11"]["staff"]["S001"]["total"] == 100
    again = site.run("new", "supervisor_monthly", "--staff", "S001", "--inspector", "I01", "--date", "2026-11-12")
    assert again.code == 1 and "already exists" in again.err


def test_new_for_several_staff_passes_check(make_site):
    site = make_site()
    result = site.run("new", "qa_monthly", "--staff", "S001", "--staff", "S002", "--inspector", "I05",
                      "--date", "2026-11-12")
    assert result.code == 0 and site.run("check").code == 0


@pytest.mark.parametrize("args, message", [
    (["daily_check", "--staff", "S001", "--inspector", "I01"], "did you mean `daily`"),
    (["qa_monthly", "--staff", "S001", "--inspector", "I01"], "may not record"),
    (["daily", "--staff", "S404", "--inspector", "I01"], "unknown staff"),
    (["daily", "--staff", "S001,S002", "--inspector", "I01"], "--staff S001 --staff S002"),
    (["daily", "--staff", "S002", "--staff", "S001", "--staff", "S002", "--inspector", "I01"],
     "staff `S002` is given twice"),
    (["daily", "--staff", "S001", "--inspector", "I01", "--date", "2026-02-30"], "real date"),
])
def test_new_refuses_what_check_would_refuse(make_site, args, message):
    result = make_site().run("new", *args)
    assert result.code == 2 and message in result.err


def keep_short_histories(monkeypatch):
    """Histories are kept from KEEP_FROM commits on; these tests keep histories of a few."""
    import site_builder.history as history

    monkeypatch.setattr(history, "KEEP_FROM", 1)


def test_a_short_history_is_not_kept(repo):
    from site_builder.cache import site_folder

    site = repo()
    site.write(REC, record())
    commit(site, "check S001", date="2026-11-12T10:00:00+08:00")
    assert site.run("check").code == 0
    assert not (site_folder(site.root) / "history.pickle").exists()  # two commits: git reads them at once


def _reads(monkeypatch):
    """The `git log` commands run from now on."""
    import site_builder.history as history

    logs = []
    real = history.subprocess.Popen
    monkeypatch.setattr(history.subprocess, "Popen",
                        lambda args, **kw: (logs.append(args) if "log" in args else None) or real(args, **kw))
    return logs


def test_a_kept_history_reads_only_the_new_commits_and_equals_a_full_read(repo, tmp_path, monkeypatch):
    keep_short_histories(monkeypatch)
    from site_builder.history import read_history

    site, keep = repo(), tmp_path / "history.pickle"
    moved, gone = "content/records/a.md", "content/records/b.md"
    site.write(REC, record())
    site.write(moved, record(date="2026-11-13"))
    site.write(gone, record(date="2026-11-14"))
    commit(site, "three checks", date="2026-11-12T10:00:00+08:00")
    assert read_history(site.root, keep).files == read_history(site.root).files
    site.write(REC, record(findings=finding("a", 1)))
    commit(site, "soften", date="2026-11-13T10:00:00+08:00")
    git(site, "mv", moved, "content/records/c.md")
    commit(site, "rename", date="2026-11-14T10:00:00+08:00")
    (site.root / gone).unlink()
    commit(site, "delete", date="2026-11-15T10:00:00+08:00")
    site.write(moved, record(date="2026-11-16"))  # a new file under the renamed one's old name
    commit(site, "new file, old name", date="2026-11-16T10:00:00+08:00")
    logs = _reads(monkeypatch)
    kept = read_history(site.root, keep)
    # only the commits since were read (the log of changes, and the one of who made them)
    assert len(logs) == 2 and all(any(".." in arg for arg in log) for log in logs)
    monkeypatch.undo()
    full = read_history(site.root)
    assert kept.files == full.files and kept.parents == full.parents and len(full.parents) == 6
    assert [c.subject for c in kept.of("content/records/c.md").commits] == ["rename", "three checks"]
    assert [c.subject for c in kept.of("content/records/c.md").changes] == ["three checks"]  # the rename only moved it
    assert [c.subject for c in kept.of(moved).commits] == ["new file, old name"]
    assert [c.subject for c in kept.of(REC).commits] == ["soften", "three checks"]
    logs = _reads(monkeypatch)
    assert read_history(site.root, keep).files == full.files and logs == []  # HEAD unchanged: git log not run


@pytest.mark.parametrize("change", ["amend", "merge"])
def test_a_kept_history_is_read_again_in_full_after_a_rewrite_or_a_merge(repo, tmp_path, monkeypatch, change):
    keep_short_histories(monkeypatch)
    from site_builder.history import read_history

    site, keep = repo(), tmp_path / "history.pickle"
    site.write(REC, record())
    commit(site, "check S001", date="2026-11-12T10:00:00+08:00")
    read_history(site.root, keep)
    if change == "amend":
        site.write(REC, record(findings=finding("a", 1)))
        git(site, "add", "-A")
        git(site, "commit", "-q", "--amend", "-m", "check S001, amended", date="2026-11-13T10:00:00+08:00")
    else:
        git(site, "checkout", "-q", "-b", "side", "HEAD~1")
        site.write("content/records/side.md", record(date="2026-11-14"))
        commit(site, "on the side", date="2026-11-14T10:00:00+08:00")
        git(site, "checkout", "-q", "main")
        git(site, "merge", "-q", "--no-edit", "side", date="2026-11-15T10:00:00+08:00")
    logs = _reads(monkeypatch)
    kept = read_history(site.root, keep)
    assert len(logs) == 2 and not any(".." in arg for log in logs for arg in log)  # the whole log, as without a kept one
    monkeypatch.undo()
    assert kept.files == read_history(site.root).files


def test_pages_made_with_a_kept_history_equal_a_build_without_the_cache(repo, monkeypatch):
    keep_short_histories(monkeypatch)
    site = repo()
    site.write(REC, record(findings=finding("a", 2)))
    commit(site, "check S001", date="2026-11-12T10:00:00+08:00")
    assert site.run("build").code == 0
    site.write("content/months/2026-11.md", "---\nmonth: 2026-11\nclosed: 2026-11-26\nclosed_by: I05\n---\n")
    commit(site, "sign off 2026-11", date="2026-11-26T10:00:00+08:00", email="qa@example.com")
    site.write(REC, record(findings=finding("a", 1)))
    commit(site, "soften finding", date="2026-11-28T10:00:00+08:00")
    assert site.run("build").code == 0
    clean = site.root.parent / "clean"
    assert site.run("build", "--no-cache", "--output", str(clean)).code == 0
    made = {p.relative_to(clean): p.read_bytes() for p in clean.rglob("*") if p.is_file() and p.name != ".site-builder"}
    assert made == {p: (site.root / "_site" / p).read_bytes() for p in made}
    assert "amended_after_signoff" in flags(site)


def test_a_damaged_kept_history_is_discarded_with_a_warning(repo, monkeypatch):
    keep_short_histories(monkeypatch)
    from site_builder.cache import site_folder

    site = repo()
    site.write(REC, record())
    commit(site, "check S001", date="2026-11-12T10:00:00+08:00")
    assert site.run("check").code == 0
    (site_folder(site.root) / "history.pickle").write_bytes(b"not a pickle")
    [warning] = site.run("check", "--format", "json").json()["warnings"]
    assert warning["code"] == "cache-discarded" and "history.pickle" in warning["message"]
    assert site.run("check", "--format", "json").json()["warnings"] == []


def test_check_staged_reads_the_index_not_the_working_tree(repo):
    site = repo()
    site.write(REC, record(inspector="I99"))
    git(site, "add", REC)
    site.write(REC, record())  # fixed in the working tree, but not staged
    assert site.run("check").code == 0
    staged = site.run("check", "--staged")
    assert staged.code == 1 and f"{REC}:4:12: unknown-reference" in staged.out
    git(site, "add", REC)
    assert site.run("check", "--staged").code == 0


def test_check_staged_checks_what_the_index_holds_wherever_the_working_tree_differs(repo):
    site = repo()
    gone, loose = "content/records/2026/11/gone.md", "content/records/2026/11/loose.md"
    site.write(gone, record(inspector="I99"))
    site.write("content/people.yaml", PEOPLE.replace("  - {id: I08,", "  - {id: I09, name: 新人, role: supervisor}\n"
                                                                      "  - {id: I08,"))
    site.write(REC, record(inspector="I09"))
    git(site, "add", gone, REC, "content/people.yaml")
    (site.root / gone).unlink()  # deleted in the working tree, still staged: it is committed as staged
    site.write("content/people.yaml", PEOPLE)  # I09 only in the staged roster
    site.write(loose, record(inspector="I98"))  # never added: not part of the commit
    staged = site.run("check", "--staged", "--format", "json")
    assert staged.code == 1
    assert {(e["file"], e["code"]) for e in staged.json()["errors"]} == {(gone, "unknown-reference")}
    worktree = site.run("check", "--format", "json").json()["errors"]
    assert {(e["file"], e["code"]) for e in worktree} == {(REC, "unknown-reference"), (loose, "unknown-reference")}


@pytest.mark.parametrize("mark", ["--assume-unchanged", "--skip-worktree"])
def test_check_staged_reads_from_the_index_the_files_git_is_told_not_to_compare(repo, mark):
    site = repo()
    site.write(REC, record(inspector="I99"))
    git(site, "add", REC)
    git(site, "update-index", mark, REC)
    site.write(REC, record())  # git diff no longer compares this file with the index
    staged = site.run("check", "--staged")
    assert staged.code == 1 and f"{REC}:4:12: unknown-reference" in staged.out


def test_check_staged_exports_an_index_holding_a_link_and_refuses_the_link(repo, tmp_path):
    site = repo()
    outside = tmp_path / "elsewhere.md"
    outside.write_text(record(), encoding="utf-8")
    (site.root / REC).parent.mkdir(parents=True, exist_ok=True)
    (site.root / REC).symlink_to(outside)
    git(site, "add", REC)
    staged = site.run("check", "--staged", "--format", "json")
    assert staged.code == 1
    assert [(e["file"], e["code"]) for e in staged.json()["errors"]] == [(REC, "symlink")]


def test_check_staged_outside_git_is_a_usage_error(make_site):
    result = make_site().run("check", "--staged")
    assert result.code == 2 and "git repository" in result.err


def test_the_installed_hook_refuses_a_bad_commit(repo):
    site = repo()
    result = site.run("hook", "install")
    assert result.code == 0 and "pre-commit" in result.out
    site.write(REC, record(date="2026-02-30"))
    git(site, "add", REC)
    refused = subprocess.run(["git", "-C", str(site.root), "commit", "-q", "-m", "bad"], capture_output=True,
                             text=True, env={**os.environ, "GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@x",
                                             "GIT_COMMITTER_NAME": "a", "GIT_COMMITTER_EMAIL": "a@x"})
    assert refused.returncode != 0 and "not a real date" in refused.stdout + refused.stderr
    assert "commit refused (the staged files were checked)" in refused.stderr
    site.write(REC, record())
    git(site, "add", REC)
    commit(site, "good")  # passes the hook


def test_hook_install_for_a_site_in_a_folder_of_its_repository_names_the_hook_plainly(make_site, tmp_path):
    site = make_site()
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)  # the site is tmp_path/site
    result = site.run("hook", "install")
    assert result.code == 0 and str(tmp_path / ".git" / "hooks" / "pre-commit") in result.out
    assert "/../" not in result.out and (tmp_path / ".git" / "hooks" / "pre-commit").is_file()


def test_a_site_builder_folder_committed_to_the_site_cannot_stand_in_for_the_hooks_check(repo):
    site = repo()
    assert site.run("hook", "install").code == 0
    site.write("site_builder/__init__.py", "")
    site.write("site_builder/__main__.py", "print('stood in'); raise SystemExit(0)\n")
    site.write(REC, record(date="2026-02-30"))
    git(site, "add", "-A")
    refused = subprocess.run(["git", "-C", str(site.root), "commit", "-q", "-m", "bad"], capture_output=True,
                             text=True, env={**os.environ, "GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@x",
                                             "GIT_COMMITTER_NAME": "a", "GIT_COMMITTER_EMAIL": "a@x"})
    assert refused.returncode != 0 and "stood in" not in refused.stdout + refused.stderr
    assert "not a real date" in refused.stdout + refused.stderr


def test_hook_install_never_replaces_a_foreign_hook(repo):
    site = repo()
    hook = site.root / ".git/hooks/pre-commit"
    hook.write_text("#!/bin/sh\nexit 0\n")
    result = site.run("hook", "install")
    assert result.code == 1 and "--force" in result.err and hook.read_text() == "#!/bin/sh\nexit 0\n"
    assert site.run("hook", "install", "--force").code == 0


def test_record_pages_show_provenance_and_the_change_made_after_sign_off(repo):
    site = repo()
    checked_and_signed_off(site)
    site.write(REC, record(findings=finding("a", 1)))
    commit(site, "soften finding", date="2026-11-28T10:00:00+08:00")
    assert site.run("build").code == 0
    page = (site.root / "_site/en/records/2026/11/sup-S001.html").read_text(encoding="utf-8")
    assert "first committed by Someone on 12 Nov 2026" in page and "2 commit(s)" in page
    assert "soften finding" in page and "amended after sign-off" in page
    assert "-    points: 2" in page and "+    points: 1" in page  # the change itself
    period = (site.root / "_site/en/periods/2026-11.html").read_text(encoding="utf-8")
    assert "signed off by 陈静 on 26 Nov 2026" in period and "commit " in period


@pytest.mark.parametrize("dated", ["1794448800 +2500", "253402300800 +0800", "-100 +0800"])
def test_a_commit_whose_date_cannot_be_read_counts_as_late_and_hides_nothing_else(repo, dated):
    # a zone beyond ±24 hours, the year 10000 (git accepts both; Python's dates do not), before 1970 (git
    # cannot read it itself)
    site = repo()
    site.write(REC, record())
    commit(site, "check S001", date="2026-11-12T10:00:00+08:00", email="majun@example.com")  # not I01's
    other = "content/records/2026/11/sup-S002.md"
    site.write(other, record(staff="S002"))
    git(site, "add", "-A")
    tree, parent = git(site, "write-tree").strip(), git(site, "rev-parse", "HEAD").strip()
    raw = (f"tree {tree}\nparent {parent}\nauthor Li <lina@example.com> {dated}\n"
           f"committer Li <lina@example.com> {dated}\n\ncheck S002\n").encode()
    made = subprocess.run(["git", "-C", str(site.root), "hash-object", "-t", "commit", "-w", "--stdin"],
                          input=raw, capture_output=True, check=True).stdout.decode().strip()
    git(site, "update-ref", "refs/heads/main", made)
    result = site.run("build")
    assert result.code == 0 and "Traceback" not in result.err and "internal error" not in result.err
    assert f"{other}: warning: undated-commit: commit {made[:10]} has a date that cannot be read" in result.err
    assert "no-git-history" not in result.err
    assert flags(site, staff="S002") == ["late_entry", "missing_check:qa_monthly"]  # taken as after every deadline
    page = (site.root / "_site/en/records/2026/11/sup-S002.html").read_text(encoding="utf-8")
    assert "first committed by Li on —" in page and "9999" not in page  # never shown as a date
    assert "author_mismatch" in flags(site)  # every other commit's flags are still there
    check = site.run("check", "--format", "json").json()["warnings"]
    assert ("undated-commit", other) in {(w["code"], w["file"]) for w in check}
    late = next(w["message"] for w in check if w["code"] == "late-entry" and w["file"] == other)
    assert late.startswith(f"first committed in {made[:10]}, whose date cannot be read: it counts as after")


def test_check_staged_outside_the_site_root_says_so(repo):
    site = repo()
    site.write(REC, record())
    git(site, "add", "-A")
    from conftest import SiteDir
    result = SiteDir(site.root / "content").run("check", "--staged")
    assert result.code == 1 and "`rules.yaml` does not exist" in result.out and "pass --root DIR" in result.out
    assert "git add" not in result.out


def test_a_record_deleted_and_added_again_does_not_inherit_the_old_ones_history(repo, tmp_path, monkeypatch):
    keep_short_histories(monkeypatch)
    from site_builder.history import read_history

    site, keep = repo(), tmp_path / "history.pickle"
    site.write(REC, record())
    commit(site, "check S001", date="2026-11-12T10:00:00+08:00", email="someone@example.com")
    read_history(site.root, keep)  # kept from here: the rest is joined to it
    (site.root / REC).unlink()
    commit(site, "withdrawn", date="2026-11-21T10:00:00+08:00")
    site.write(REC, record(findings=finding("a", 1)))
    commit(site, "entered again, late", date="2026-12-03T10:00:00+08:00")
    assert [c.subject for c in read_history(site.root).of(REC).commits] == ["entered again, late"]
    assert read_history(site.root, keep).files == read_history(site.root).files
    assert "late_entry" in flags(site) and "author_mismatch" not in flags(site)  # someone@ wrote the old one


SIGN_OFF = "content/months/2026-11.md", "---\nmonth: 2026-11\nclosed: 2026-11-26\nclosed_by: I05\n---\n"


@pytest.mark.parametrize("into", ["main", "qa"])
def test_a_change_merged_in_after_sign_off_is_an_amendment_whichever_way_the_merge_went(repo, into):
    site = repo()
    site.write(REC, record(findings=finding("a", 2)))
    commit(site, "check S001", date="2026-11-12T10:00:00+08:00")
    git(site, "checkout", "-q", "-b", "qa")
    site.write(*SIGN_OFF)
    commit(site, "sign off 2026-11", date="2026-11-26T10:00:00+08:00", email="qa@example.com")
    git(site, "checkout", "-q", "main")
    site.write(REC, record(findings=finding("a", 1)))
    commit(site, "soften finding", date="2026-11-28T10:00:00+08:00")  # the sign-off is not in its past
    if into == "qa":
        git(site, "checkout", "-q", "qa")
    git(site, "merge", "-q", "--no-ff", "qa" if into == "main" else "main", "-m", "merge",
        date="2026-11-29T10:00:00+08:00")
    assert "amended_after_signoff" in flags(site)


@pytest.mark.parametrize("folder", [False, True])
def test_a_change_made_in_a_merge_commit_itself_is_seen(make_site, folder):
    site = make_site(rules=ADOPTED_RULES)  # in its own repository, or in a folder of a larger one
    git(site, "init", "-q", "-b", "main", str(site.root.parent if folder else site.root))
    commit(site, "roster", date="2026-11-01T09:00:00+08:00")
    checked_and_signed_off(site)
    git(site, "checkout", "-q", "-b", "side", "HEAD~1")
    site.write("content/records/2026/11/other.md", record(date="2026-11-13", staff="S002"))
    commit(site, "another check", date="2026-11-27T10:00:00+08:00")
    git(site, "checkout", "-q", "main")
    git(site, "merge", "-q", "--no-commit", "side", date="2026-11-28T10:00:00+08:00")
    site.write(REC, record(findings=finding("a", 1)))  # changed while merging: in no parent
    commit(site, "merge side", date="2026-11-28T10:00:00+08:00", email="clerk@example.com")
    assert "amended_after_signoff" in flags(site) and "author_mismatch" in flags(site)
    assert site.run("build").code == 0
    page = (site.root / "_site/en/records/2026/11/sup-S001.html").read_text(encoding="utf-8")
    assert "merge side" in page and "+    points: 1" in page


def test_a_record_merged_in_before_the_sign_off_is_not_an_amendment(repo):
    site = repo()
    git(site, "checkout", "-q", "-b", "side")
    site.write(REC, record(findings=finding("a", 2)))
    commit(site, "check S001", date="2026-11-12T10:00:00+08:00")
    git(site, "checkout", "-q", "main")
    site.write("content/records/2026/11/other.md", record(date="2026-11-13", staff="S002"))
    commit(site, "another check", date="2026-11-13T10:00:00+08:00")
    git(site, "merge", "-q", "--no-ff", "side", "-m", "merge side", date="2026-11-20T10:00:00+08:00")
    site.write(*SIGN_OFF)
    commit(site, "sign off 2026-11", date="2026-11-26T10:00:00+08:00", email="qa@example.com")
    assert "amended_after_signoff" not in flags(site)


def _warnings(site) -> list[tuple[str, str]]:
    return [(w["code"], w["file"]) for w in site.run("check", "--format", "json").json()["warnings"]]


def test_a_record_deleted_after_sign_off_flags_the_period_it_counted_in(repo):
    site = repo()
    checked_and_signed_off(site)
    assert "amended_after_signoff" not in flags(site)
    git(site, "rm", "-q", REC)
    commit(site, "drop the deduction", date="2026-11-28T10:00:00+08:00")
    assert flags(site) == ["amended_after_signoff", "missing_check:qa_monthly", "missing_check:supervisor_monthly",
                           "unscored"]  # S001 is still on the staff, so the period is still theirs
    assert ("removed-after-signoff", REC) in _warnings(site)
    staged = site.run("check", "--staged", "--format", "json").json()["warnings"]
    assert ("removed-after-signoff", REC) in [(w["code"], w["file"]) for w in staged]  # the hook says it too
    assert site.run("build").code == 0
    page = (site.root / "_site/en/staff/S001/2026-11.html").read_text(encoding="utf-8")
    assert f"{REC} counted here when the period was signed off" in page and "was deleted since" in page


def test_a_record_moved_out_of_a_signed_off_period_or_off_someone_is_flagged_there(repo):
    site = repo()
    site.write(REC, record(staff=["S001", "S002"]))
    commit(site, "check S001 and S002", date="2026-11-12T10:00:00+08:00")
    site.write("content/months/2026-11.md", "---\nmonth: 2026-11\nclosed: 2026-11-26\nclosed_by: I05\n---\n")
    commit(site, "sign off 2026-11", date="2026-11-26T10:00:00+08:00", email="qa@example.com")
    assert "amended_after_signoff" not in flags(site, staff="S002")
    site.write(REC, record(staff="S001"))  # S002 taken off the signed-off record
    commit(site, "only S001", date="2026-11-28T10:00:00+08:00")
    assert "amended_after_signoff" in flags(site, staff="S002") and "amended_after_signoff" in flags(site)
    assert ("removed-after-signoff", REC) in _warnings(site)

    later = "content/records/2026/12/sup-S001.md"
    (site.root / later).parent.mkdir(parents=True)
    git(site, "mv", REC, later)
    site.write(later, record(date="2026-11-30"))  # dated into the next, unsigned period
    commit(site, "redate", date="2026-11-29T10:00:00+08:00")
    assert "amended_after_signoff" in flags(site) and "amended_after_signoff" in flags(site, staff="S002")
    assert "amended_after_signoff" not in flags(site, month="2026-12")
    warned = [w for w in site.run("check", "--format", "json").json()["warnings"]
              if w["code"] == "removed-after-signoff"]
    assert [w["file"] for w in warned] == [later] and f"moved from `{REC}`" in warned[0]["message"]


def test_records_deleted_before_the_sign_off_or_only_renamed_after_it_are_not_flagged(repo):
    site = repo()
    site.write("content/records/2026/11/extra.md", record(date="2026-11-13"))
    commit(site, "an extra check", date="2026-11-13T10:00:00+08:00")
    git(site, "rm", "-q", "content/records/2026/11/extra.md")
    commit(site, "withdrawn before the sign-off", date="2026-11-14T10:00:00+08:00")
    checked_and_signed_off(site)
    (site.root / "content/records/2026/11/moved").mkdir()
    git(site, "mv", REC, "content/records/2026/11/moved/sup-S001.md")
    commit(site, "file by week", date="2026-11-28T10:00:00+08:00")
    assert "amended_after_signoff" not in flags(site)
    assert _warnings(site) == []


def test_new_quotes_ids_yaml_would_read_as_numbers_or_booleans(make_site):
    people = PEOPLE.replace("id: S002", 'id: "0012"').replace("id: I01", 'id: "007"').replace("id: S001", 'id: "1e3"') \
        .replace("id: S003", 'id: "n"').replace("left: 2026-10-31", "left: null")
    site = make_site(people=people)
    result = site.run("new", "supervisor_monthly", "--staff", "0012", "--staff", "1e3", "--staff", "n",
                      "--inspector", "007", "--date", "2026-11-12")
    assert result.code == 0, result.err
    text = (site.root / result.out.strip()).read_text(encoding="utf-8")
    # (1e3: a number to YAML 1.2; n: no to the YAML 1.1 specification)
    assert 'inspector: "007"' in text and 'staff: ["0012", "1e3", "n"]' in text
    assert site.run("check").code == 0


@pytest.mark.parametrize("args, message", [
    (["new", "daily", "--staff", "S001", "--inspector", "I01", "--date", "20261112"], "YYYY-MM-DD"),
    (["new", "daily", "--staff", "S003", "--inspector", "I01", "--date", "2026-11-12"], "left 2026-10-31"),
    (["scores", "--month", ""], "YYYY-MM"),
])
def test_dates_and_months_are_given_as_written_in_records(make_site, args, message):
    result = make_site().run(*args)
    assert result.code == 2 and message in result.err


def test_a_commit_subject_or_name_holding_separators_cannot_pass_for_another_commit(repo):
    """What a committer writes (subject, name) and file names are data: a subject that spells out another
    commit by someone else, with a hash that is really an option for git, changes nobody's provenance."""
    site = repo()
    checked_and_signed_off(site)
    site.write(REC, record(findings=finding("a", 1)))
    git(site, "add", "-A")
    forged = "fix typo\x1e--output=" + str(site.root / "written") + "\x1f\x1fLi Na\x1flina@example.com\x1f" \
        "2026-11-01T00:00:00+08:00\x1fimport"
    env = {**os.environ, "GIT_AUTHOR_NAME": "Mallory\x1f\x1fx", "GIT_AUTHOR_EMAIL": "mallory@evil.test",
           "GIT_COMMITTER_NAME": "Mallory", "GIT_COMMITTER_EMAIL": "mallory@evil.test",
           "GIT_AUTHOR_DATE": "2026-11-28T10:00:00+08:00", "GIT_COMMITTER_DATE": "2026-11-28T10:00:00+08:00"}
    subprocess.run(["git", "-C", str(site.root), "commit", "-q", "-m", forged], env=env, check=True)
    side = "content/records/side\x1e" + "0" * 40 + "\x1fx.md"  # a file name with separators, added and removed
    (site.root / side).write_text("x", encoding="utf-8")
    commit(site, "odd name", date="2026-11-29T10:00:00+08:00")
    (site.root / side).unlink()
    commit(site, "remove it", date="2026-11-29T11:00:00+08:00")

    assert sorted(flags(site)) == ["amended_after_signoff", "author_mismatch", "missing_check:qa_monthly"]
    from site_builder.history import read_history
    commits = read_history(site.root).of(REC).commits
    assert [(c.author, c.email, c.subject[:8]) for c in commits] == [
        ("Mallory\\x1f\\x1fx", "mallory@evil.test", "fix typo"), ("Someone", "lina@example.com", "check S0")]  # (as shown)
    assert site.run("build").code == 0 and not (site.root / "written").exists()


def test_terminal_escapes_in_a_commit_email_are_written_out_not_sent_to_the_terminal(repo):
    site = repo()
    site.write(REC, record())
    commit(site, "check S001", date="2026-11-12T10:00:00+08:00", email="m\x1b]0;owned\x07@evil.test")
    result = site.run("check")
    assert "author-mismatch" in result.out and "\x1b" not in result.out and "\\x1b]0;owned\\x07" in result.out


def _same_as_a_clean_build(site) -> None:
    clean = site.root.parent / "clean"
    shutil.rmtree(clean, ignore_errors=True)
    assert site.run("build", "--no-cache", "--output", str(clean)).code == 0
    made = {p.relative_to(clean): p.read_bytes() for p in clean.rglob("*") if p.is_file()}
    assert made == {p: (site.root / "_site" / p).read_bytes() for p in made}


def test_a_removal_committed_after_it_was_built_from_the_working_tree_updates_the_period_pages(repo):
    site = repo()
    checked_and_signed_off(site)
    assert site.run("build").code == 0
    (site.root / REC).unlink()  # deleted in the working tree: the period's records change, no flag yet
    assert site.run("build").code == 0
    _same_as_a_clean_build(site)
    commit(site, "delete it", date="2026-11-28T10:00:00+08:00")  # the same records, now with the flag
    assert site.run("build").code == 0
    assert "amended_after_signoff" in (site.root / "_site/data/periods/2026-11.csv").read_text(encoding="utf-8")
    _same_as_a_clean_build(site)


def test_a_build_that_finds_nothing_changed_says_the_warnings_again(repo):
    site = repo()
    site.write(REC, record())
    commit(site, "check S001", date="2026-11-28T09:00:00+08:00")  # after the deadline
    first = site.run("build")
    again = site.run("build")
    assert "nothing changed" in again.out and "late-entry" in first.err
    assert [line for line in again.err.splitlines() if "late-entry" in line] == \
        [line for line in first.err.splitlines() if "late-entry" in line]


@pytest.mark.parametrize("kept", [False, True])
def test_an_amendment_still_shows_its_change_after_the_record_is_moved(repo, monkeypatch, kept):
    if kept:  # the move is read on top of a kept history that holds the amendment
        keep_short_histories(monkeypatch)
    site = repo()
    checked_and_signed_off(site)
    site.write(REC, record(findings=finding("a", 1)))
    commit(site, "soften finding", date="2026-11-28T10:00:00+08:00")
    assert site.run("build").code == 0
    moved = "content/records/2026/11/filed/sup-S001.md"
    (site.root / moved).parent.mkdir()
    git(site, "mv", REC, moved)
    commit(site, "file it", date="2026-11-29T10:00:00+08:00")
    assert site.run("build").code == 0
    page = (site.root / "_site/en/records/2026/11/filed/sup-S001.html").read_text(encoding="utf-8")
    assert "soften finding" in page and "-    points: 2" in page and "+    points: 1" in page


def test_a_record_added_again_after_sign_off_shows_itself_as_new_not_as_a_copy_of_another(repo):
    site = repo()
    twin = "content/records/2026/11/twin.md"
    site.write(twin, record(findings=finding("a", 2)))
    checked_and_signed_off(site)  # REC has the same finding as its twin
    git(site, "rm", "-q", REC)
    commit(site, "withdraw", date="2026-11-27T10:00:00+08:00")
    site.write(REC, record(findings=finding("a", 2)))
    commit(site, "put it back", date="2026-11-28T10:00:00+08:00")
    assert site.run("build").code == 0
    page = (site.root / "_site/en/records/2026/11/sup-S001.html").read_text(encoding="utf-8")
    assert "put it back" in page and "new file mode" in page and "copy from" not in page


def test_new_shows_an_example_finding_from_the_sites_own_form(make_site):
    rules = RULES.replace("      a:\n", "      x1:\n", 1).replace("  step: 0.5 ", "  step: 0.25", 1)
    rules = rules.replace("    points: [1, 2]\n", "    points: [1.1, 2]\n", 1)  # the first band: general
    site = make_site(rules=rules)
    result = site.run("new", "supervisor_monthly", "--staff", "S001", "--inspector", "I01", "--date", "2026-11-12")
    assert result.code == 0, result.err
    text = (site.root / result.out.strip()).read_text(encoding="utf-8")
    assert "#   - item: x1\n#     severity: general\n#     points: 1.25\n" in text


def test_check_staged_passes_over_files_only_marked_to_be_added(repo):
    site = repo()
    later = "content/records/2026/11/later.md"
    site.write(later, record())
    git(site, "add", "-N", later)  # intent to add: none of its bytes are in the index, nor in the commit
    assert site.run("check", "--staged").code == 0
    empty = "content/records/2026/11/empty.md"
    site.write(empty, "")
    git(site, "add", empty)  # really staged, and empty: that is checked
    result = site.run("check", "--staged", "--format", "json")
    assert result.code == 1 and {e["file"] for e in result.json()["errors"]} == {empty}


def test_a_merge_changing_a_record_one_side_renamed_keeps_the_history_readable(repo):
    site = repo()
    checked_and_signed_off(site)
    git(site, "checkout", "-q", "-b", "side")
    (site.root / "content/records/2026/11/filed").mkdir()
    moved = "content/records/2026/11/filed/sup-S001.md"
    git(site, "mv", REC, moved)
    commit(site, "file it", date="2026-11-27T10:00:00+08:00")
    git(site, "checkout", "-q", "main")
    site.write(REC, record(findings=finding("a", 1)))
    commit(site, "soften", date="2026-11-27T11:00:00+08:00")
    git(site, "merge", "-q", "side", "-m", "merge")  # git's --cc shows the merge's own change as `RM`, one path
    result = site.run("check", "--format", "json")
    assert result.code == 0 and "amended_after_signoff" in flags(site)
    assert not any("could not be read" in w["message"] for w in result.json()["warnings"])


@pytest.mark.parametrize("name, date_then", [("sep\x1eara\x1f:tor.md", "2026-11-12"), ("typo.md", "9999-12-30")])
def test_odd_names_and_dates_of_records_removed_after_sign_off_are_no_crash(repo, name, date_then):
    site = repo()
    odd = f"content/records/2026/11/{name}"
    site.write(odd, record(date=date_then))
    checked_and_signed_off(site)
    git(site, "rm", "-q", odd)
    commit(site, "remove it", date="2026-11-28T10:00:00+08:00")
    result = site.run("check", "--format", "json")
    assert result.code == 0, result.err
    removed = [w for w in result.json()["warnings"] if w["code"] == "removed-after-signoff"]
    assert len(removed) == (1 if date_then.startswith("2026") else 0)  # a date no period has is passed over


def test_an_appeal_whose_record_changed_after_the_decision_is_warned_about(repo):
    site = repo()
    site.write(REC, record(findings=finding("a", 2) + finding("d", 2)))
    commit(site, "check S001", date="2026-11-12T10:00:00+08:00")
    appeal = ("---\nrecord: 2026/11/sup-S001\nfinding: 2\nfiled: 2026-11-20\ndecision: overturned\n"
              "decided: 2026-11-24\ndecided_by: I05\n---\n申诉理由。\n")
    site.write("content/appeals/a.md", appeal)
    commit(site, "appeal decided", date="2026-11-24T10:00:00+08:00", email="qa@example.com")
    assert _warnings(site) == []
    site.write(REC, record(findings=finding("d", 2) + finding("h", 9, "adverse")))  # finding 2 is now another
    commit(site, "rework the record", date="2026-11-27T10:00:00+08:00")
    assert ("appeal-outdated", "content/appeals/a.md") in _warnings(site)


def test_an_outdated_appeal_is_told_by_its_commits_once_committed_and_by_its_date_before(repo):
    site = repo()
    site.write(REC, record(findings=finding("a", 2) + finding("d", 2)))
    commit(site, "check S001", date="2026-11-12T10:00:00+08:00")
    site.write(APPEAL, OVERTURNED.replace("decided: 2026-11-24", "decided: 2026-11-30"))  # dated ahead, too
    commit(site, "appeal decided", date="2026-11-23T10:00:00+08:00", email="qa@example.com")
    site.write(REC, record(findings=finding("d", 2) + finding("h", 9, "adverse")))
    commit(site, "rework the record", date="2026-11-24T10:00:00+08:00")
    warnings = {w["code"]: w["message"] for w in site.run("check", "--format", "json").json()["warnings"]}
    decided, reworked = (git(site, "log", "-1", "--format=%h", f"HEAD~{n}", "--abbrev=10").strip() for n in (1, 0))
    assert f"was changed in {reworked}, after this appeal's decision was committed ({decided})" \
        in warnings["appeal-outdated"] and "2026-11-30" not in warnings["appeal-outdated"]
    site.write(APPEAL, OVERTURNED.replace("decided: 2026-11-24", "decided: 2026-11-23"))  # decided again, uncommitted
    warnings = {w["code"]: w["message"] for w in site.run("check", "--format", "json").json()["warnings"]}
    assert f"was changed after this appeal was decided on 2026-11-23 ({reworked})" in warnings["appeal-outdated"]


def test_a_record_committed_with_its_appeal_is_not_an_outdated_appeal(repo):
    site = repo()
    site.write(REC, record(findings=finding("a", 2)))
    site.write("content/appeals/a.md", "---\nrecord: 2026/11/sup-S001\nfinding: 1\nfiled: 2026-11-21\n---\n理由。\n")
    commit(site, "check and appeal", date="2026-11-22T10:00:00+08:00")  # the record's only commit: it made it
    assert _warnings(site) == []


def test_the_users_git_configuration_does_not_change_what_the_site_shows(make_site, monkeypatch):
    site = make_site({REC: record(findings=finding("a", 2))}, rules=ADOPTED_RULES)
    git(site, "init", "-q", "-b", "main")
    commit(site, "check S001", date="2026-11-12T10:00:00+08:00")  # the root commit holds the record
    site.write("content/months/2026-11.md", "---\nmonth: 2026-11\nclosed: 2026-11-26\nclosed_by: I05\n---\n")
    commit(site, "sign off 2026-11", date="2026-11-26T10:00:00+08:00", email="qa@example.com")
    site.write(REC, record(findings=finding("a", 1)))
    commit(site, "soften finding", date="2026-11-28T10:00:00+08:00")
    assert site.run("build").code == 0
    page = site.root / "_site/en/records/2026/11/sup-S001.html"
    before = page.read_text(encoding="utf-8")
    assert "first committed by Someone on 12 Nov 2026" in before and "--- a/content/records" in before
    assert re.search(r"index [0-9a-f]{40}\.\.[0-9a-f]{40} ", before)  # (abbreviated, they grow with the repository)
    for setting in ("log.showRoot=false", "log.showSignature=true", "log.follow=true", "diff.noprefix=true",
                    "diff.context=0", "i18n.logOutputEncoding=GBK", "core.abbrev=12", "diff.algorithm=histogram",
                    "diff.suppressBlankEmpty=true"):
        git(site, "config", *setting.split("="))
    monkeypatch.setenv("GIT_DIFF_OPTS", "-u8")
    (site.root / ".git/info/attributes").write_text("*.md -diff\n", encoding="utf-8")  # this clone's own
    assert site.run("build", "--no-cache").code == 0
    assert page.read_text(encoding="utf-8") == before


def test_the_history_is_the_commits_as_made_whatever_git_replace_says(repo):
    site = repo()
    site.write(REC, record(findings=finding("a", 2)))
    commit(site, "check S001", date="2026-11-12T10:00:00+08:00")
    site.write(REC, record(findings=finding("a", 1)))
    commit(site, "soften finding", date="2026-11-13T10:00:00+08:00")
    assert site.run("build").code == 0
    page = site.root / "_site/en/records/2026/11/sup-S001.html"
    before = page.read_bytes()
    git(site, "replace", "--graft", "HEAD")  # HEAD's parents hidden: `git log` would show one commit
    assert "nothing changed" in site.run("build").out
    assert site.run("build", "--no-cache").code == 0 and page.read_bytes() == before


def test_a_commit_whose_author_is_not_utf8_is_shown_not_a_crash(repo):
    site = repo()
    site.write(REC, record())
    git(site, "add", "-A")
    tree, parent = git(site, "write-tree").strip(), git(site, "rev-parse", "HEAD").strip()
    raw = (f"tree {tree}\nparent {parent}\n".encode() + b"author M\xfcller <lina@example.com> 1794448800 +0800\n"
           b"committer M\xfcller <lina@example.com> 1794448800 +0800\n\ncheck \x1b[31mS001\n")
    made = subprocess.run(["git", "-C", str(site.root), "hash-object", "-t", "commit", "-w", "--stdin"],
                          input=raw, capture_output=True, check=True).stdout.decode().strip()
    git(site, "update-ref", "refs/heads/main", made)
    result = site.run("build")
    assert result.code == 0 and "internal error" not in result.err, result.err
    page = (site.root / "_site/en/records/2026/11/sup-S001.html").read_text(encoding="utf-8")
    assert "first committed by M" in page and "ller on 12 Nov 2026" in page  # the name, however git gives its byte
    assert "\x1b" not in page and "check \\x1b[31mS001" in page  # a control character, written out


def test_a_record_amended_many_times_shows_every_change_from_one_git_command(repo, monkeypatch):
    import site_builder.history as history

    site = repo()
    checked_and_signed_off(site)
    for n, points in enumerate((1, 1.5, 2)):
        site.write(REC, record(findings=finding("a", points)))
        commit(site, f"amend {n}", date=f"2026-11-2{7 + n}T10:00:00+08:00")
    asked = []
    real = history._git
    monkeypatch.setattr(history, "_git", lambda root, *args: asked.append(args) or real(root, *args))
    assert site.run("build", "--no-cache").code == 0
    page = (site.root / "_site/en/records/2026/11/sup-S001.html").read_text(encoding="utf-8")
    for was, now in (("2", "1"), ("1", "1.5"), ("1.5", "2")):
        assert f"-    points: {was}\n+    points: {now}" in page
    assert sum("-p" in args for args in asked) == 1  # one diff command for the record's three amendments


def test_a_record_named_like_a_pattern_shows_only_its_own_amendment(repo):
    site = repo()
    odd, plain = "content/records/2026/11/br[1].md", "content/records/2026/11/br1.md"
    site.write(odd, record(findings=finding("a", 2)))
    site.write(plain, record(staff="S002", findings=finding("b", 2)))
    checked_and_signed_off(site)
    site.write(odd, record(findings=finding("a", 1)))
    site.write(plain, record(staff="S002", findings=finding("b", 1.5)))
    commit(site, "amend both", date="2026-11-27T10:00:00+08:00")
    assert site.run("build").code == 0
    page = (site.root / "_site/en/records/2026/11/br[1].html").read_text(encoding="utf-8")
    assert "a/content/records/2026/11/br[1].md" in page and "br1.md" not in page  # a name, never a pattern


@pytest.mark.parametrize("into", ["main", "edit"])
def test_an_edit_on_a_branch_merged_with_a_rename_of_the_record_stays_in_its_history(repo, into):
    site = repo()
    checked_and_signed_off(site)
    git(site, "checkout", "-q", "-b", "edit")
    site.write(REC, record(findings=finding("a", 1)))
    commit(site, "edit after sign-off", date="2026-11-27T10:00:00+08:00", email="evil@x.test")
    git(site, "checkout", "-q", "main")
    moved = "content/records/filed/sup-S001.md"
    (site.root / "content/records/filed").mkdir(parents=True)
    git(site, "mv", REC, moved)
    commit(site, "file it", date="2026-11-27T11:00:00+08:00")
    if into == "edit":  # merged the other way: the edit branch is the first parent
        git(site, "checkout", "-q", "edit")
        git(site, "merge", "-q", "--no-edit", "main", date="2026-11-27T12:00:00+08:00")
    else:
        git(site, "merge", "-q", "--no-edit", "edit", date="2026-11-27T12:00:00+08:00")
    from site_builder.history import read_history
    subjects = [c.subject for c in read_history(site.root).of(moved).commits]
    assert "edit after sign-off" in subjects and "file it" in subjects and "check S001" in subjects
    assert "author_mismatch" in flags(site) and "amended_after_signoff" in flags(site)


def test_a_merge_that_only_joined_an_edit_and_a_rename_is_nobodys_change(repo):
    site = repo()
    site.write(REC, record(findings=finding("a", 2)))
    commit(site, "check S001", date="2026-11-12T10:00:00+08:00")
    git(site, "checkout", "-q", "-b", "edit")
    site.write(REC, record(findings=finding("a", 1)))
    commit(site, "soften", date="2026-11-13T10:00:00+08:00")
    git(site, "checkout", "-q", "main")
    moved = "content/records/filed/sup-S001.md"
    (site.root / "content/records/filed").mkdir(parents=True)
    git(site, "mv", REC, moved)
    commit(site, "file it", date="2026-11-14T10:00:00+08:00")
    # git's combined diff names the file (it differs from the first parent's, and the second parent's has
    # another name), yet the merge holds the edit branch's bytes: the clerk who merged changed nothing
    git(site, "merge", "-q", "--no-ff", "edit", "-m", "merge", date="2026-11-15T10:00:00+08:00",
        email="clerk@example.com")
    from site_builder.history import read_history
    assert sorted(c.subject for c in read_history(site.root).of(moved).commits) == ["check S001", "file it", "soften"]
    assert "author_mismatch" not in flags(site) and _warnings(site) == []


def test_check_of_a_record_just_deleted_reports_what_still_names_it(repo):
    site = repo()
    site.write(REC, record(findings=finding("a", 2)))
    appeal = "content/appeals/sup-S001-1.md"
    site.write(appeal, "---\nrecord: 2026/11/sup-S001\nfinding: 1\nfiled: 2026-11-20\n---\n理由。\n")
    commit(site, "check and appeal", date="2026-11-20T10:00:00+08:00")
    git(site, "rm", "-q", REC)
    result = site.run("check", REC)  # (what a pre-commit check of the deletion is given)
    assert result.code == 1 and f"{appeal}:2:" in result.out and "unknown-reference" in result.out
    assert site.run("check", REC.replace("sup-S001", "sup-S999")).code == 2  # never there: a typo


def test_a_commit_without_an_email_is_named_as_such(repo):
    site = repo()
    site.write(REC, record())
    commit(site, "check S001", date="2026-11-12T10:00:00+08:00", email="")
    warning = next(w for w in site.run("check", "--format", "json").json()["warnings"] if w["code"] == "author-mismatch")
    assert "committed by (no email), not by" in warning["message"]


def test_moving_a_record_is_not_called_its_last_change(repo):
    site = repo()
    site.write(REC, record())
    commit(site, "check S001", date="2026-11-12T10:00:00+08:00")
    moved = "content/records/2026/11/filed/sup-S001.md"
    (site.root / moved).parent.mkdir(parents=True)
    git(site, "mv", REC, moved)
    commit(site, "file records by week", date="2026-11-28T10:00:00+08:00", email="clerk@example.com")
    assert site.run("build").code == 0
    page = (site.root / "_site/en/records/2026/11/filed/sup-S001.html").read_text(encoding="utf-8")
    assert "first committed by Someone on 12 Nov 2026" in page and "2 commit(s)" in page
    assert "last changed" not in page  # the move wrote no byte of it
    site.write(moved, record(findings=finding("a", 1)))
    commit(site, "soften", date="2026-11-29T10:00:00+08:00")
    assert site.run("build").code == 0
    page = (site.root / "_site/en/records/2026/11/filed/sup-S001.html").read_text(encoding="utf-8")
    assert "last changed by Someone on 29 Nov 2026" in page


def test_a_commit_made_while_a_build_runs_is_said_and_the_next_build_reads_the_history_again(repo, monkeypatch):
    import site_builder.pipeline as pipeline

    site = repo({REC: record()})
    assert site.run("build").code == 0
    site.write("content/records/2026/11/other.md", record(date="2026-11-13"))  # something for the build to do
    start_history = pipeline.start_history

    def committed_meanwhile(*args, **kwargs):  # after the input fingerprint, before the history is read
        git(site, "commit", "-q", "--allow-empty", "-m", "meanwhile")
        return start_history(*args, **kwargs)

    monkeypatch.setattr(pipeline, "start_history", committed_meanwhile)
    result = site.run("build")
    assert result.code == 0 and ".: warning: changed-during-build: git's HEAD moved" in result.err
    monkeypatch.setattr(pipeline, "start_history", start_history)
    git(site, "reset", "-q", "--soft", "HEAD~1")  # back at the commit the fingerprint was taken at
    assert "nothing changed" not in site.run("build").out


def test_a_sign_off_committed_before_its_period_ended_is_said_to_be_early(repo):
    site = repo()
    site.write("content/months/2026-12.md", "---\nmonth: 2026-12\nclosed: 2026-12-25\nclosed_by: I05\n---\n")
    commit(site, "sign off december in november", date="2026-11-26T10:00:00+08:00", email="qa@example.com")
    site.write("content/records/2026/12/sup-S001.md", record(date="2026-12-10"))
    commit(site, "an on-time check", date="2026-12-10T10:00:00+08:00")
    warnings = site.run("check", "--format", "json").json()["warnings"]
    early = [w for w in warnings if w["code"] == "sign-off-early"]
    assert len(early) == 1 and early[0]["file"] == "content/months/2026-12.md"
    assert "before period 2026-12's collection deadline 2026-12-25: 1 record(s) entered on time" in early[0]["message"]


def test_a_sign_off_on_the_last_day_is_early_only_for_records_entered_on_time_after_it(repo):
    site = repo()
    site.write(REC, record(findings=finding("a", 2)))
    commit(site, "check S001", date="2026-11-12T10:00:00+08:00")
    site.write("content/months/2026-11.md", "---\nmonth: 2026-11\nclosed: 2026-11-25\nclosed_by: I05\n---\n")
    commit(site, "sign off on the last day", date="2026-11-25T10:00:00+08:00", email="qa@example.com")
    assert "sign-off-early" not in site.run("check").out  # on the last day, nothing entered after it
    site.write("content/records/2026/11/sup-S002.md", record(staff="S002"))
    commit(site, "an on-time check after it", date="2026-11-25T17:00:00+08:00")
    assert "content/months/2026-11.md:1:1: warning: sign-off-early" in site.run("check").out


def test_a_sign_off_after_the_deadline_is_not_early_whatever_dates_later_commits_claim(repo):
    site = repo()
    checked_and_signed_off(site)  # signed off on the 26th, after the deadline
    site.write("content/records/2026/11/sup-S002.md", record(staff="S002"))
    commit(site, "a clock set back", date="2026-11-25T20:00:00+08:00")  # after it in history, dated before it
    assert "sign-off-early" not in site.run("check").out


def test_a_quality_inspector_deciding_an_appeal_about_themselves_is_warned(make_site):
    people = PEOPLE.replace("staff:\n", "staff:\n  - {id: I05, name: 陈静, post: reception}\n", 1)
    site = make_site({REC: record(staff="I05", findings=finding("a", 2)),
                      "content/appeals/a.md": "---\nrecord: 2026/11/sup-S001\nfinding: 1\nfiled: 2026-11-20\n"
                                              "decision: overturned\ndecided: 2026-11-24\ndecided_by: I05\n---\n"},
                     people=people)
    warnings = site.run("check", "--format", "json").json()["warnings"]
    assert [w["code"] for w in warnings] == ["own-finding-appeal"] and "about themselves" in warnings[0]["message"]


def test_a_sign_off_committed_by_someone_else_than_who_signs_off_is_warned(repo):
    site = repo()
    checked_and_signed_off(site)
    assert site.run("check", "--format", "json").json()["warnings"] == []  # qa@: listed by nobody else
    site.write("content/months/2026-11.md", "---\nmonth: 2026-11\nclosed: 2026-11-26\nclosed_by: I05\n---\n补。\n")
    commit(site, "a supervisor edits the sign-off", date="2026-11-27T10:00:00+08:00", email="lina@example.com")
    warnings = site.run("check", "--format", "json").json()["warnings"]
    assert [(w["code"], w["file"]) for w in warnings] == [("author-mismatch", "content/months/2026-11.md")]
    assert "lina@example.com, not by `I05`, who signs the period off" in warnings[0]["message"]


@pytest.mark.parametrize("time_zone, late", [("", False), ('  time_zone: "+08:00"\n', True)])
def test_the_deadline_is_one_moment_for_everyone_in_the_sites_time_zone(repo, time_zone, late):
    rules = ADOPTED_RULES.replace('  time_zone: "+08:00"', "  #").replace("  late_grace_days: 0\n",
                                                                           "  late_grace_days: 0\n" + time_zone)
    site = repo(rules=rules)
    site.write(REC, record())
    # 23:30 on the 25th where the committer's clock is; 12:30 on the 26th in Beijing, after the deadline
    commit(site, "check S001", date="2026-11-25T23:30:00-05:00")
    assert ("late_entry" in flags(site)) is late
    page = (site.root / "_site" / "records" / "2026" / "11" / "sup-S001.html")
    assert site.run("build").code == 0
    assert ("2026年11月26日" if late else "2026年11月25日") in page.read_text(encoding="utf-8")


@pytest.mark.parametrize("written, ok", [("Asia/Shanghai", False), ('"-13:00"', False), ('"+14:00"', True),
                                         ('"+8:00"', True), ('"-05:30"', True)])
def test_a_time_zone_is_a_utc_offset(make_site, written, ok):
    rules = RULES.replace('time_zone: "+08:00"', f"time_zone: {written}")
    errors = make_site(rules=rules).run("check", "--format", "json").json()["errors"]
    assert errors == [] if ok else [(e["code"], e["file"]) for e in errors] == [("bad-rule", "rules.yaml")]


def test_an_appeal_dated_after_the_day_it_was_committed_is_warned(repo):
    site = repo()
    checked_and_signed_off(site)
    site.write("content/appeals/a.md", "---\nrecord: 2026/11/sup-S001\nfinding: 1\nfiled: 2026-11-27\n"
                                       "decision: overturned\ndecided: 2099-11-20\ndecided_by: I05\n---\n")
    commit(site, "appeal decided", date="2026-11-28T10:00:00+08:00", email="qa@example.com")
    warnings = site.run("check", "--format", "json").json()["warnings"]
    assert [(w["code"], w["file"]) for w in warnings] == [("dated-ahead", "content/appeals/a.md")]
    assert "decided on 2099-11-20, after the day it was committed (2026-11-28)" in warnings[0]["message"]
    site.write("content/appeals/a.md", "---\nrecord: 2026/11/sup-S001\nfinding: 1\nfiled: 2026-11-27\n"
                                       "decision: overturned\ndecided: 2026-11-29\ndecided_by: I05\n---\n")
    # the 29th where it was written (Tokyo), still the 28th in Beijing: the writer's own day is not ahead
    commit(site, "appeal decided", date="2026-11-29T00:30:00+09:00", email="qa@example.com")
    assert site.run("check", "--format", "json").json()["warnings"] == []


def _record_page(site, language="en/") -> str:
    return (site.root / f"_site/{language}records/2026/11/sup-S001.html").read_text(encoding="utf-8")


def test_the_record_page_says_who_committed_an_appeals_decision_and_warns_when_not_the_decider(repo):
    site = repo()
    site.write(REC, record(findings=finding("a", 2)))
    site.write(APPEAL, PENDING)
    commit(site, "check S001, and S001 appeals", date="2026-11-20T10:00:00+08:00")  # filed by anyone: nothing said
    site.write(APPEAL, OVERTURNED)
    commit(site, "appeal decided", date="2026-11-24T10:00:00+08:00", email="qa@example.com")
    site.write(APPEAL, OVERTURNED.replace("申诉理由。", "申诉理由。补充。"))  # the filer adds to the reasons only
    commit(site, "more reasons", date="2026-11-25T10:00:00+08:00", email="lina@example.com")
    assert _warnings(site) == [] and site.run("build").code == 0
    page = _record_page(site)
    assert "decision committed by Someone on 24 Nov 2026" in page and "25 Nov" not in page
    assert "not committed by the inspector" not in page
    # the supervisor whose finding it was writes another decision: the page and the warning say so
    site.write(APPEAL, OVERTURNED.replace("overturned", "reduced\npoints: 1"))
    commit(site, "appeal edited", date="2026-11-26T10:00:00+08:00", email="lina@example.com")
    result = site.run("build")
    assert result.code == 0 and ("author-mismatch", APPEAL) in _warnings(site)
    assert "its decision was written by lina@example.com" in result.err
    assert "not by `I05`, who decided it" in result.err
    page = _record_page(site)
    assert "decision committed by Someone on 24 Nov 2026" in page and "decision committed by Someone on 26 Nov" in page
    assert page.count("not committed by the inspector who decided it") == 1
    assert "提交人与决定人不符" in _record_page(site, "")
    period = (site.root / "_site/en/periods/2026-11.html").read_text(encoding="utf-8")  # and in its period's appeals
    assert "not committed by the inspector who decided it" in period
    assert "author_mismatch" not in flags(site)  # said, and shown on the page: the record's own flags are its own


def test_a_decision_not_committed_yet_is_credited_to_nobody(repo):
    site = repo()
    site.write(REC, record(findings=finding("a", 2)))
    site.write(APPEAL, PENDING)
    commit(site, "check S001, and S001 appeals", date="2026-11-20T10:00:00+08:00")
    site.write(APPEAL, OVERTURNED)  # the quality department decides, and has not committed it yet
    assert _warnings(site) == []  # (not `dated-ahead` against the filing commit either)
    git(site, "add", "-A")
    assert "0 warnings" in site.run("check", "--staged").out  # what the hook says as it is committed
    assert site.run("build").code == 0 and "decision committed" not in _record_page(site)


def test_a_decision_written_on_a_branch_is_credited_to_its_writer_not_to_the_merge(repo):
    site = repo()
    site.write(REC, record(findings=finding("a", 2)))
    site.write(APPEAL, PENDING + "\n\n\n末行。\n")
    commit(site, "check S001, and S001 appeals", date="2026-11-20T10:00:00+08:00")
    git(site, "checkout", "-q", "-b", "side")
    site.write(APPEAL, OVERTURNED + "\n\n\n末行。\n")
    commit(site, "a decision written by the supervisor", date="2026-11-24T10:00:00+08:00")
    git(site, "checkout", "-q", "main")
    site.write(APPEAL, PENDING + "\n\n\n末行，补充。\n")
    commit(site, "the quality department edits the body", date="2026-11-24T11:00:00+08:00", email="qa@example.com")
    git(site, "merge", "-q", "--no-edit", "side", date="2026-11-24T12:00:00+08:00", email="qa@example.com")
    merged = (site.root / APPEAL).read_text(encoding="utf-8")
    assert "decision: overturned" in merged and "补充" in merged  # both sides
    warnings = site.run("check", "--format", "json").json()["warnings"]
    assert [(w["code"], w["file"]) for w in warnings] == [("author-mismatch", APPEAL)]
    assert "lina@example.com" in warnings[0]["message"]


def test_an_imported_appeal_decision_says_nothing_of_who_committed_it(repo):
    site = repo(rules=RULES)  # adopted 2026-12-01: everything committed before is imported paper history
    site.write(REC, record(findings=finding("a", 2)))
    site.write(APPEAL, OVERTURNED)
    commit(site, "import", date="2026-11-24T10:00:00+08:00", email="lina@example.com")
    assert "author-mismatch" not in site.run("check").out and site.run("build").code == 0
    assert "decision committed" not in _record_page(site)


def test_what_an_appeal_decided_in_a_commit_is_asked_of_git_once(repo, monkeypatch):
    from site_builder import pipeline
    site = repo()
    site.write(REC, record(findings=finding("a", 2)))
    site.write(APPEAL, OVERTURNED)
    commit(site, "check and decision", date="2026-11-24T10:00:00+08:00", email="qa@example.com")
    asked = []
    original = pipeline.read_blobs
    monkeypatch.setattr(pipeline, "read_blobs", lambda root, names, missing=None: asked.append(names)
                        or original(root, names, missing))
    assert site.run("build").code == 0 and len(asked) == 1
    site.write(REC, record(findings=finding("a", 1)))  # something else changes: the appeal's versions are known
    commit(site, "another finding", date="2026-11-24T11:00:00+08:00")
    assert site.run("build").code == 0 and len(asked) == 1
    assert "decision committed by Someone on 24 Nov 2026" in _record_page(site)


def test_empty_values_in_an_appeal_are_read_as_validation_reads_them(repo):
    site = repo()
    site.write(REC, record(findings=finding("a", 2)))
    site.write(APPEAL, PENDING.replace("filed: 2026-11-20\n", "filed: 2026-11-20\ndecision: ~\n"))  # still pending
    commit(site, "check S001, and S001 appeals", date="2026-11-20T10:00:00+08:00")
    site.write(APPEAL, OVERTURNED.replace("overturned", "upheld\npoints:"))  # an empty `points`: none
    commit(site, "appeal decided", date="2026-11-24T10:00:00+08:00", email="qa@example.com")
    assert _warnings(site) == [] and site.run("build").code == 0
    page = _record_page(site)
    assert "decision committed by Someone on 24 Nov 2026" in page and "20 Nov 2026 (" not in page


@pytest.mark.parametrize("keep", ["ours", "theirs"])
def test_the_decision_a_merge_keeps_is_credited_to_whoever_wrote_it(repo, keep):
    site = repo()
    site.write(REC, record(findings=finding("a", 2)))
    site.write(APPEAL, PENDING)
    commit(site, "check S001, and S001 appeals", date="2026-11-20T10:00:00+08:00")
    git(site, "checkout", "-q", "-b", "side")
    site.write(APPEAL, OVERTURNED)
    commit(site, "decided by the quality department", date="2026-11-24T10:00:00+08:00", email="qa@example.com")
    git(site, "checkout", "-q", "main")
    site.write(APPEAL, OVERTURNED.replace("overturned", "upheld"))
    commit(site, "decided by the supervisor", date="2026-11-24T11:00:00+08:00")
    subprocess.run(["git", "-C", str(site.root), "merge", "-q", "side"], capture_output=True)  # a conflict
    git(site, "checkout", f"--{keep}", APPEAL)
    commit(site, "merge", date="2026-11-24T12:00:00+08:00", email="qa@example.com")
    warnings = [(w["code"], w["file"]) for w in site.run("check", "--format", "json").json()["warnings"]]
    assert (("author-mismatch", APPEAL) in warnings) == (keep == "ours")  # the supervisor's decision stands


def test_a_merge_of_a_side_that_only_renamed_and_reworded_an_appeal_writes_no_decision(repo):
    site = repo()
    site.write(REC, record(findings=finding("a", 2)))
    site.write(APPEAL, PENDING + "\n\n\n末行。\n")
    commit(site, "check S001, and S001 appeals", date="2026-11-20T10:00:00+08:00")
    git(site, "checkout", "-q", "-b", "side")
    git(site, "mv", APPEAL, "content/appeals/b.md")
    site.write("content/appeals/b.md", PENDING + "\n\n\n末行，补充。\n")
    commit(site, "filed elsewhere, reworded", date="2026-11-22T10:00:00+08:00")
    git(site, "checkout", "-q", "main")
    site.write(APPEAL, OVERTURNED + "\n\n\n末行。\n")
    commit(site, "decided", date="2026-11-24T10:00:00+08:00", email="qa@example.com")
    git(site, "merge", "-q", "--no-edit", "side", date="2026-11-24T12:00:00+08:00")  # by the supervisor
    assert "decision: overturned" in (site.root / "content/appeals/b.md").read_text(encoding="utf-8")
    assert _warnings(site) == []


def test_when_git_cannot_say_what_an_appeal_decided_the_build_says_so_and_the_next_build_catches_up(
        repo, monkeypatch, tmp_path):
    from site_builder import pipeline
    site = repo()
    site.write(REC, record(findings=finding("a", 2)))
    site.write(APPEAL, OVERTURNED)
    commit(site, "check and decision", date="2026-11-24T10:00:00+08:00")  # by the supervisor
    with monkeypatch.context() as patched:
        patched.setattr(pipeline, "read_blobs", lambda root, names, missing=None: {})
        result = site.run("build")
    assert result.code == 0 and "git could not read earlier versions of the appeals" in result.err
    assert site.run("build").code == 0 and "not committed by the inspector" in _record_page(site)
    assert site.run("build", "--no-cache", "--output", str(tmp_path / "clean")).code == 0
    assert _record_page(site) == (tmp_path / "clean/en/records/2026/11/sup-S001.html").read_text(encoding="utf-8")
