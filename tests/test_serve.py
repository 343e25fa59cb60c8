"""`serve`: the preview rebuilds on edits, shows errors in the browser, and recovers."""

from __future__ import annotations

import shutil
import socket
import threading
import time
import urllib.error
import urllib.request

import pytest

from conftest import finding, record
from site_builder.serve import RELOAD_PATH, Running

REC = "content/records/2026/11/sup-S001.md"


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8")


def wait_until(condition, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


@pytest.fixture
def served(make_site):
    site = make_site({REC: record(findings=finding("a", 2))})
    running = Running(site.root, "127.0.0.1", 0, report=lambda line: None)
    yield site, running
    running.stop()


def total_shown(running) -> str:
    _, page = get(running.url + "staff/S001/2026-11.html")
    return page


def test_serves_the_site_with_the_reload_script(served):
    site, running = served
    status, page = get(running.url)
    assert status == 200 and "EventSource" in page and RELOAD_PATH in page
    # the page knows the build it came from: one announced before its script connected still reloads it
    assert f"var g='{running.preview.state.generation}'" in page
    assert not (site.root / "_site").exists()  # the published site is never written by serve


def test_a_rebuild_that_changes_nothing_reloads_no_page(make_site):
    from site_builder.serve import Preview

    site = make_site({REC: record(findings=finding("a", 2))})
    said = []
    preview = Preview(site.root, report=said.append)
    first = preview.rebuild().generation
    (site.root / "content/records/2026/11/.sup-S001.md.swp").write_bytes(b"\x00vim swap\xff")  # an editor's file
    assert preview.rebuild().generation == first and said[-1].endswith("(the same: nothing to reload)")
    site.write(REC, record(findings=finding("a", 1)))
    assert preview.rebuild().generation == first + 1


def test_a_page_not_found_comes_back_by_itself(served):
    site, running = served
    status, page = get(running.url + "records/2026/11/gone.html")
    assert status == 404 and "records/2026/11/gone.html: not found" in page and "EventSource" in page


def test_a_preview_on_every_network_says_so(make_site):
    site = make_site({REC: record()})
    for host, shared in (("0.0.0.0", True), ("127.0.0.1", False)):
        running = Running(site.root, host, 0, report=lambda line: None)
        try:
            assert running.shared is shared and running.url.endswith(f":{running.port}/")
        finally:
            running.stop()


def test_serve_outside_a_site_says_so(tmp_path):
    from conftest import SiteDir

    result = SiteDir(tmp_path).run("serve", "--port", "0")
    assert result.code == 2 and "is not a site root: it has neither rules.yaml nor content/" in result.err


def test_editing_a_record_rebuilds_and_shows_the_new_score(served):
    site, running = served
    assert "98.0" in total_shown(running)
    generation = running.preview.state.generation
    site.write(REC, record(findings=finding("a", 1)))
    wait_until(lambda: running.preview.state.generation > generation)
    assert "99.0" in total_shown(running)


def test_the_events_stream_announces_each_build(served):
    site, running = served
    host, port = running.server.server_address[:2]
    events = []

    def listen():
        with socket.create_connection((host, port), timeout=10) as sock:
            sock.sendall(f"GET {RELOAD_PATH} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
            buffer = b""
            while buffer.count(b"data:") < 2:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                buffer += chunk
            events.append(buffer.decode())

    thread = threading.Thread(target=listen)
    thread.start()
    time.sleep(0.3)
    site.write(REC, record(findings=finding("a", 1.5)))
    thread.join(timeout=10)
    assert events and events[0].count("data:") == 2


def test_broken_content_shows_its_errors_in_the_browser_then_recovers(served):
    site, running = served
    generation = running.preview.state.generation
    site.write(REC, record(findings=finding("a", 2)).replace("inspector: I01", "inspector: I99"))
    wait_until(lambda: running.preview.state.generation > generation)
    status, page = get(running.url + "index.html")
    assert status == 500
    assert "content/records/2026/11/sup-S001.md:4:12" in page and "I99" in page
    assert "<mark>" in page and "EventSource" in page  # shows the offending line, reloads by itself
    generation = running.preview.state.generation
    site.write(REC, record(findings=finding("a", 2)))
    wait_until(lambda: running.preview.state.generation > generation)
    assert get(running.url + "index.html")[0] == 200


def test_a_burst_of_saves_gives_one_rebuild(served):
    site, running = served
    generation = running.preview.state.generation
    for points in (1, 1.5, 2, 1, 1.5):
        site.write(REC, record(findings=finding("a", points)))
    wait_until(lambda: running.preview.state.generation > generation)
    time.sleep(0.6)
    assert running.preview.state.generation == generation + 1
    assert "98.5" in total_shown(running)


def test_save_by_rename_is_seen(served):
    site, running = served
    generation = running.preview.state.generation
    temp = site.write("content/records/2026/11/.sup-S001.md.tmp", record(findings=finding("a", 1)))
    temp.replace(site.root / REC)
    wait_until(lambda: running.preview.state.generation > generation)
    wait_until(lambda: "99.0" in total_shown(running))


def test_layout_and_rules_changes_rebuild(served):
    site, running = served
    layouts = site.root / "layouts"
    from conftest import REPO
    shutil.copytree(REPO / "layouts", layouts)
    generation = running.preview.state.generation
    base = layouts / "base.html"
    base.write_text(base.read_text(encoding="utf-8").replace("<main id=\"main\">", "<main id=\"main\"><p>PREVIEW-MARK</p>"),
                    encoding="utf-8")
    wait_until(lambda: "PREVIEW-MARK" in get(running.url)[1])
    rules = site.root / "rules.yaml"
    rules.write_text(rules.read_text(encoding="utf-8").replace("total_cap: 100", "total_cap: 90"), encoding="utf-8")
    wait_until(lambda: "90.0" in total_shown(running))
    assert running.preview.state.generation > generation


def test_a_taken_port_is_a_clear_usage_error(make_site):
    site = make_site({REC: record()})
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = site.run("serve", "--port", str(port))
    assert result.code == 2 and f"port {port}" in result.err and "already in use" in result.err


@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0"])
def test_ctrl_c_stops_the_server_cleanly(make_site, host):
    import signal
    import subprocess
    import sys

    site = make_site({REC: record()})
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "site_builder", "serve", "--root", str(site.root),
                               "--port", str(port), "--host", host], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    try:
        wait_until(lambda: get(f"http://127.0.0.1:{port}/")[0] == 200 if _listening(port) else False)
    finally:
        server.send_signal(signal.SIGINT)
        out, err = server.communicate(timeout=15)
    assert server.returncode == 0
    assert f"serving http://{host}" in out and "stopping" in err and "Traceback" not in err
    assert ("open to the network" in out) is (host == "0.0.0.0")  # (and provisional appraisals with it)


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_a_rebuild_renders_only_the_pages_an_edit_touches_and_gives_a_clean_builds_files(make_site, monkeypatch):
    from site_builder.build import render_site
    from site_builder.render import Renderer
    from site_builder.serve import Preview

    site = make_site({f"content/records/r{n}.md": record(date=f"2026-11-1{n}") for n in range(4)})
    preview = Preview(site.root)
    preview.rebuild()
    site.write("content/records/r2.md", record(date="2026-11-12", findings=finding("a", 1)))
    rendered = []
    original = Renderer.render_page
    monkeypatch.setattr(Renderer, "render_page",
                        lambda self, page, language: rendered.append(page.path) or original(self, page, language))
    state = preview.rebuild()
    assert sorted(p for p in rendered if "records/" in p) == ["en/records/r2.html", "records/r2.html"]
    assert not any(p.endswith(("r0.html", "r1.html", "r3.html")) for p in rendered)
    assert state.files == render_site(site.root).files


def test_a_layout_the_site_adds_in_front_of_a_shipped_one_is_used_at_once(make_site):
    from conftest import REPO
    from site_builder.serve import Preview

    site = make_site({REC: record()})
    site.write("layouts/base.html", (REPO / "layouts" / "base.html").read_text(encoding="utf-8"))
    preview = Preview(site.root)
    assert b"OWN-RULES" not in preview.rebuild().files["rules.html"]  # the shipped rules.html, compiled
    shipped = (REPO / "layouts" / "rules.html").read_text(encoding="utf-8")
    site.write("layouts/rules.html", shipped.replace("<h1", "<h1 data-mark=\"OWN-RULES\"", 1))
    assert b"OWN-RULES" in preview.rebuild().files["rules.html"]


def test_a_taken_port_is_said_before_the_first_build(make_site, monkeypatch):
    from site_builder import serve

    built = []
    monkeypatch.setattr(serve.Preview, "rebuild", lambda self: built.append(1))
    site = make_site({REC: record()})
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(OSError):
            Running(site.root, "127.0.0.1", taken.getsockname()[1], report=lambda line: None)
    assert built == []


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _ipv6_loopback(), reason="this machine has no IPv6 loopback")
def test_serves_on_an_ipv6_host(make_site):
    site = make_site({REC: record()})
    running = Running(site.root, "::1", 0, report=lambda line: None)
    try:
        assert running.url.startswith("http://[::1]:")
        status, page = get(running.url)
        assert status == 200 and "<html" in page
    finally:
        running.stop()


def test_the_preview_answers_only_to_localhost_names(served):
    _, running = served
    port = running.server.server_address[1]
    for host, expected in ((f"127.0.0.1:{port}", 200), (f"localhost:{port}", 200),
                           (f"attacker.example:{port}", 403), ("attacker.example", 403)):
        request = urllib.request.Request(running.url, headers={"Host": host})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        assert status == expected, host


def test_a_request_with_two_host_headers_is_refused(served):
    _, running = served
    host, port = running.server.server_address[:2]
    with socket.create_connection((host, port), timeout=5) as conn:
        conn.sendall(f"GET / HTTP/1.1\r\nHost: localhost:{port}\r\nHost: attacker.example\r\n"
                     "Connection: close\r\n\r\n".encode())
        answer = conn.recv(200).decode("latin-1")
    assert answer.startswith("HTTP/1.1 403"), answer


def test_a_folder_asked_for_without_its_slash_is_redirected(served):
    _, running = served
    host, port = running.server.server_address[:2]
    with socket.create_connection((host, port), timeout=5) as conn:
        conn.sendall(f"GET /en HTTP/1.1\r\nHost: localhost:{port}\r\nConnection: close\r\n\r\n".encode())
        answer = conn.recv(500).decode("latin-1")
    assert answer.startswith("HTTP/1.1 301") and "Location: /en/\r\n" in answer, answer
    assert get(running.url + "en")[0] == 200  # (a browser follows it to the English summary)
    assert get(running.url + "nothing-here")[0] == 404


def test_ctrl_c_during_the_first_build_stops_cleanly(make_site, monkeypatch, capsys):
    from site_builder import serve
    from site_builder.cli import main

    site = make_site({REC: record()})

    def interrupted(self):
        raise KeyboardInterrupt

    monkeypatch.setattr(serve.Preview, "rebuild", interrupted)
    assert main(["serve", "--root", str(site.root), "--port", "0"]) == 0
    assert "stopping" in capsys.readouterr().err


@pytest.mark.parametrize("host, allowed", [
    ("localhost:8000", True), ("127.0.0.1:8000", True), ("127.9.9.9", True), ("[::1]:8000", True),
    ("127.evil.example:8000", False), ("127.0.0.1.nip.io", False), ("evil.example", False), ("", False),
])
def test_only_loopback_names_reach_a_loopback_preview(host, allowed):
    from site_builder.serve import _host_allowed

    assert _host_allowed(host, "127.0.0.1") is allowed and _host_allowed(host, "::1") is allowed
    assert _host_allowed(host, "0.0.0.0")  # (shared on the network on purpose: any name)


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
@pytest.mark.parametrize("top", ["site", "above"], ids=["repository of the site", "site in a folder of a repository"])
def test_a_commit_rebuilds_so_the_pages_show_what_git_says(make_site, top):
    import os
    import subprocess

    site = make_site({REC: record()})
    repository = site.root if top == "site" else site.root.parent
    env = {**os.environ, "GIT_AUTHOR_NAME": "Someone", "GIT_AUTHOR_EMAIL": "lina@example.com",
           "GIT_COMMITTER_NAME": "Someone", "GIT_COMMITTER_EMAIL": "lina@example.com"}

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(repository), *args], env=env, check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    git("add", "-A")
    git("commit", "-q", "-m", "roster")
    running = Running(site.root, "127.0.0.1", 0, report=lambda line: None)
    try:
        new = "content/records/2026/11/sup-S002.md"
        generation = running.preview.state.generation
        site.write(new, record(staff="S002"))
        wait_until(lambda: running.preview.state.generation > generation)
        page = running.url + "en/records/2026/11/sup-S002.html"
        assert "not been committed to git yet" in get(page)[1]
        generation = running.preview.state.generation
        git("add", "-A")
        git("commit", "-q", "-m", "a check of S002")  # nothing in the site's folders changes
        wait_until(lambda: running.preview.state.generation > generation)
        assert "first committed by Someone" in get(page)[1]
    finally:
        running.stop()


def test_head_is_answered_like_get_without_the_body(served):
    _, running = served
    request = urllib.request.Request(running.url + "staff/S001/2026-11.html", method="HEAD")
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200 and int(response.headers["Content-Length"]) > 1000
        assert response.read() == b""  # (`curl -I`, link checkers)


def test_an_empty_host_is_a_usage_error_not_every_network(make_site):
    site = make_site({REC: record()})
    result = site.run("serve", "--host", "", "--port", "0")
    assert result.code == 2 and "--host is empty" in result.err
