"""Tiny sites built from a dict of files in a temporary folder, and the CLI run as a user runs it."""

from __future__ import annotations

import io
import json
import shutil
import textwrap
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest

from site_builder.cli import main

REPO = Path(__file__).resolve().parent.parent
RULES = (REPO / "rules.yaml").read_text(encoding="utf-8")

PEOPLE = """\
staff:
  - {id: S001, name: 张伟, post: reception, joined: 2025-03-01}
  - {id: S002, name: 王芳, post: reception, joined: 2025-03-01}
  - {id: S003, name: 李强, post: reception, joined: 2025-03-01, left: 2026-10-31}
inspectors:
  - {id: I01, name: 李娜, role: supervisor, git_emails: [lina@example.com]}
  - {id: I05, name: 陈静, role: qa}
  - {id: I06, name: 刘洋, role: qa}
  - {id: I08, name: 周杰, role: office}
"""


@pytest.fixture(autouse=True, scope="session")
def _build_cache(tmp_path_factory):
    """Every test's build cache lives in its own temporary folder, never in the user's ~/.cache."""
    import os

    folder = tmp_path_factory.mktemp("build-cache")
    before = os.environ.get("SITE_BUILDER_CACHE")
    os.environ["SITE_BUILDER_CACHE"] = str(folder)
    yield folder
    if before is None:
        del os.environ["SITE_BUILDER_CACHE"]
    else:
        os.environ["SITE_BUILDER_CACHE"] = before


def record(type_: str = "supervisor_monthly", date: str = "2026-11-12", inspector: str = "I01",
           staff="S001", findings: str = "", commendations: str = "", body: str = "检查记录。") -> str:
    """A record file; `findings`/`commendations` are YAML list blocks (indented or not)."""
    staff_yaml = staff if isinstance(staff, str) else "[" + ", ".join(staff) + "]"
    text = f"---\ntype: {type_}\ndate: {date}\ninspector: {inspector}\nstaff: {staff_yaml}\n"
    if findings:
        text += "findings:\n" + textwrap.indent(textwrap.dedent(findings).strip("\n"), "  ") + "\n"
    if commendations:
        text += "commendations:\n" + textwrap.indent(textwrap.dedent(commendations).strip("\n"), "  ") + "\n"
    return text + "---\n" + body + "\n"


def finding(item: str, points, severity: str | None = "general", staff: str | None = None, **extra) -> str:
    lines = [f"- item: {item}"]
    if staff:
        lines.append(f"  staff: {staff}")
    if severity:
        lines.append(f"  severity: {severity}")
    lines.append(f"  points: {points}")
    lines.append("  note: 发现问题")
    lines += [f"  {k}: {v}" for k, v in extra.items()]
    return "\n".join(lines) + "\n"


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self):
        return json.loads(self.out)


class SiteDir:
    """A site root in a temporary folder."""

    def __init__(self, root: Path):
        self.root = root

    def write(self, path: str, text: str | bytes) -> Path:
        full = self.root / path
        full.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            full.write_bytes(text)
        else:
            full.write_text(text, encoding="utf-8")
        return full

    def run(self, *args: str) -> Result:
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            try:
                code = main([*args, "--root", str(self.root)])
            except SystemExit as exc:  # argparse usage errors
                code = exc.code
        return Result(code, out.getvalue(), err.getvalue())

    def scores(self, month: str | None = None) -> dict:
        args = ["scores", "--format", "json"] + (["--month", month] if month else [])
        result = self.run(*args)
        assert result.code == 0, result.err
        return result.json()


def example_site(dest: Path) -> SiteDir:
    """A copy of the shipped example site root (never build into the repository itself)."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(REPO / "rules.yaml", dest / "rules.yaml")
    shutil.copytree(REPO / "content", dest / "content")
    shutil.copytree(REPO / "layouts", dest / "layouts")
    return SiteDir(dest)


@pytest.fixture
def make_site(tmp_path):
    """make_site({path: text}) → SiteDir with the shipped rules.yaml and a small roster unless given."""

    def build(files: dict[str, str | bytes] | None = None, rules: str = RULES, people: str = PEOPLE) -> SiteDir:
        site = SiteDir(tmp_path / "site")
        site.write("rules.yaml", rules)
        site.write("content/people.yaml", people)
        for path, text in (files or {}).items():
            site.write(path, text)
        return site

    return build


def reported(result: Result, code: str, file: str, line: int, column: int | None = None) -> dict:
    """The error `check --format json` gave with this code at file:line(:column), after checking the run
    failed cleanly (exit 1, no crash, every error once); the assertion shows all errors when it is missing."""
    assert "Traceback" not in result.out + result.err
    assert "internal error" not in result.err, result.err
    assert result.code == 1, (result.code, result.out, result.err)
    errors = result.json()["errors"]
    assert len({json.dumps(e, sort_keys=True) for e in errors}) == len(errors), f"reported twice: {errors}"
    where = [e for e in errors if (e["code"], e["file"], e["line"]) == (code, file, line)
             and column in (None, e["column"])]
    assert where, f"no {code} at {file}:{line}:{column}; got {json.dumps(errors, ensure_ascii=False, indent=1)}"
    assert where[0]["message"].strip()
    return where[0]
