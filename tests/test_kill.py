"""Killed and concurrent builds: readers only ever see a complete site.

`site-builder build` runs as a real process on a copy of the example site and is SIGKILLed at random points,
most of them while it writes the new site. After every kill the published `_site/` must be exactly one of the
two complete sites (the one published before, or the new one if the kill came after the swap), nothing of the
dead build may go on writing, and the next build must succeed (the lock is released with the dead process) and
clean up what the dead one left beside the output.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO, example_site
from test_build import leftovers, tree

RECORD = "content/records/2026/11/2026-11-12-supervisor_monthly-S001.md"
KILLS = 20
JOBS = 2  # render processes: the kill hits the build, and its workers must notice


def _command(root: Path, output: Path | None = None) -> list[str]:
    out = ["--output", str(output)] if output else []
    return [sys.executable, "-m", "site_builder", "build", "--quiet", "--jobs", str(JOBS), "--root", str(root), *out]


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(REPO)}


def _variant(root: Path, name: str) -> None:
    """Two versions of the sources, A and B, whose sites differ on many pages (a record's text and points)."""
    path = root / RECORD
    text = (REPO / RECORD).read_text(encoding="utf-8")
    if name == "B":
        text = text.rstrip("\n") + "\n\n复查时补充：前台登记本已更换。\n"
    path.write_text(text, encoding="utf-8")


def _session(sid: int) -> list[int]:
    """Live (not zombie) processes of the session a build was started in: the build and its workers."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8", errors="replace") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and fields[3] == str(sid):
            found.append(int(entry))
    return found


def _staged(output: Path) -> set[str]:
    """Every file in a staging folder beside the output (what a dead build left, or its workers still add).
    A live build may remove a folder while it is looked at: os.walk passes over it (Path.rglob raised)."""
    out = set()
    for folder in output.parent.glob(f".site-builder-{output.name}.staging-*"):
        for directory, _, files in os.walk(folder):
            out |= {Path(directory, name).relative_to(output.parent).as_posix() for name in files}
    return out


def _wait_gone(sid: int, limit: float = 15.0) -> list[int]:
    deadline = time.monotonic() + limit
    while (alive := _session(sid)) and time.monotonic() < deadline:
        time.sleep(0.02)
    return alive


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    """Clean builds of versions A and B: the only two sites a reader may ever find published."""
    base = tmp_path_factory.mktemp("clean")
    out = {}
    for name in ("A", "B"):
        site = example_site(base / f"site-{name}")
        _variant(site.root, name)
        output = base / f"out-{name}"
        done = subprocess.run(_command(site.root, output), env=_env(), capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        out[name] = tree(output)
    assert out["A"] != out["B"]
    return out


def test_a_killed_build_never_damages_the_published_site(tmp_path, sites):
    site = example_site(tmp_path / "site")
    output = site.root / "_site"
    _variant(site.root, "A")
    done = subprocess.run(_command(site.root), env=_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    published = "A"
    assert tree(output) == sites["A"]
    rng = random.Random(7)
    mid_write = 0
    for kill in range(KILLS):
        new = "B" if published == "A" else "A"
        _variant(site.root, new)
        process = subprocess.Popen(_command(site.root), env=_env(), stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            if kill % 2:  # anywhere in the build
                time.sleep(rng.uniform(0.0, 1.0))
            else:  # while it writes: once its staging folder exists
                deadline = time.monotonic() + 30
                while not _staged(output) and process.poll() is None and time.monotonic() < deadline:
                    time.sleep(0.002)
                time.sleep(rng.uniform(0.0, 0.04))  # a build of this small site writes for a few tens of ms
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
            left = _staged(output)
            mid_write += (output.parent / f".site-builder-{output.name}.staging-{process.pid}").exists()
            alive = _wait_gone(process.pid)
            assert not alive, f"kill {kill}: processes of the killed build are still running: {alive}"
            later = _staged(output)
            # each worker may finish the one file it was writing, but none goes on rendering the site
            assert len(later - left) <= JOBS, f"kill {kill}: the dead build's workers wrote {len(later - left)} more files"
        finally:
            if _session(process.pid):
                os.killpg(process.pid, signal.SIGKILL)  # the session this test started, never anything else

        now = tree(output)
        assert now in (sites[published], sites[new]), f"kill {kill}: the published site is a mix or incomplete"
        assert (output / ".site-builder").is_file()

        following = subprocess.run(_command(site.root), env=_env(), capture_output=True, text=True, timeout=120)
        assert following.returncode == 0, f"kill {kill}: the build after it failed: {following.stderr}"
        assert "Traceback" not in following.stderr
        assert tree(output) == sites[new], f"kill {kill}: the build after it published something else"
        assert leftovers(output) == [], f"kill {kill}: left beside the output: {leftovers(output)}"
        published = new
    # the kills did land while the site was being written, which is what this test is about
    assert mid_write >= KILLS // 4, f"only {mid_write} of {KILLS} kills hit a build while it was writing"
    _variant(site.root, "B" if published == "A" else "A")
    final = subprocess.run(_command(site.root), env=_env(), capture_output=True, text=True, timeout=120)
    assert final.returncode == 0, final.stderr
    assert leftovers(output) == []


def test_what_a_build_killed_after_its_swap_left_is_removed_by_the_next_build(tmp_path):
    site = example_site(tmp_path / "site")
    output = site.root / "_site"
    assert subprocess.run(_command(site.root), env=_env(), capture_output=True, timeout=120).returncode == 0
    # what `publishing` leaves when killed after the exchange: the previous site, in its staging folder
    shutil.copytree(output, output.parent / ".site-builder-_site.staging-999999")
    done = subprocess.run(_command(site.root), env=_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert leftovers(output) == []


def test_two_builds_started_together_never_interleave(tmp_path, sites):
    """Two sources published to one output at the same moment: both succeed, and the output is exactly one
    of the two sites, never a mix; the same sources twice give exactly the clean build."""
    roots = {}
    for name in ("A", "B"):
        site = example_site(tmp_path / f"site-{name}")
        _variant(site.root, name)
        roots[name] = site.root
    output = tmp_path / "public"
    for pair in (("A", "B"), ("A", "A")):
        if output.exists():
            shutil.rmtree(output)
        processes = [subprocess.Popen(_command(roots[name], output), env=_env(), stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True) for name in pair]
        results = [(p.wait(timeout=120), p.stderr.read()) for p in processes]
        for p in processes:
            p.stdout.close()
            p.stderr.close()
        assert [code for code, _ in results] == [0, 0], results
        assert all("Traceback" not in err for _, err in results)
        assert tree(output) in (sites[pair[0]], sites[pair[1]]), f"{pair}: the output is a mix of two builds"
        assert leftovers(output) == []


def test_ctrl_c_during_a_parallel_build_says_interrupted_without_tracebacks(tmp_path):
    site = tmp_path / "site"
    subprocess.run([sys.executable, str(REPO / "bench/generate.py"), "--records", "2500", "--staff", "40",
                    "--periods", "3", str(site)], check=True, capture_output=True)
    env = {**_env(), "SITE_BUILDER_CACHE": str(tmp_path / "cache")}
    build = subprocess.Popen(_command(site), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             start_new_session=True)
    deadline = time.monotonic() + 60
    while len(_session(build.pid)) < 1 + JOBS and build.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)  # until its workers are there
    time.sleep(0.2)  # (an interrupt while the pool is being made reaches only the workers, which ignore it)
    os.killpg(build.pid, signal.SIGINT)  # as a terminal's Ctrl-C: to every process of the group
    _, err = build.communicate(timeout=60)
    assert build.returncode == 130, err
    assert err.decode().strip() == "site-builder: interrupted"
    assert _wait_gone(build.pid) == []
