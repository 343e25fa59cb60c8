"""`serve`: build in memory, serve on loopback, rebuild when sources change, reload open pages.

The site is held in memory and replaced whole after each successful build, so a reader never sees a
half-built site and the published `_site/` is never touched. When the content has errors, every page
shows them (file, line, column, message, hint and the offending lines) until the file is fixed.
"""

from __future__ import annotations

import html
import ipaddress
import mimetypes
import posixpath
import socket
import subprocess
import threading
import time
import warnings
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable
from urllib.parse import quote, unquote, urlsplit

from site_builder.build import BuildResult, render_site
from site_builder.diagnostics import Diagnostic

RELOAD_PATH = "/__site_builder/events"
DEBOUNCE_SECONDS = 0.15
WATCHED = ("content", "layouts", "rules.yaml")


def _reload_script(generation: int) -> str:
    """The script `serve` adds to each page: it reloads the page when a build other than the one the page
    came from (`generation`) is announced, even one that finished before the script connected."""
    return (f"<script>(function(){{var g='{generation}';var s=new EventSource('{RELOAD_PATH}');"
            "s.onmessage=function(e){if(e.data!==g){location.reload();}};})();</script>")



@dataclass
class State:
    """The current build, swapped whole under a lock; `generation` counts finished builds."""

    files: dict = field(default_factory=dict)
    diagnostics: list = field(default_factory=list)
    failed: bool = False
    generation: int = 0
    seconds: float = 0.0


class Preview:
    """Builds a site root into memory and keeps it current."""

    def __init__(self, root: Path, report: Callable[[str], None] = lambda line: None):
        self.root = root
        self.report = report
        self.state = State()
        self.changed = threading.Condition()
        self._build_lock = threading.Lock()
        self._rendered: dict = {}  # the last good build's pages by dependency key: only changed pages are rendered

    def rebuild(self) -> State:
        with self._build_lock:
            started = time.perf_counter()
            result: BuildResult = render_site(self.root, self._rendered)
            seconds = time.perf_counter() - started
            diagnostics = result.diagnostics.errors + result.diagnostics.warnings
            if result.ok:
                self._rendered = result.rendered
            # an editor's swap file, a `touch`, a save of the same bytes: the site is the same, and open pages
            # are not reloaded (the browser would lose its place, and a form being read)
            same = result.ok and not self.state.failed and self.state.generation > 0 and \
                result.files == self.state.files and diagnostics == self.state.diagnostics
            with self.changed:
                files = result.files if result.ok else self.state.files
                generation = self.state.generation + (not same)
                self.state = State(files, diagnostics, not result.ok, generation, seconds)
                self.changed.notify_all()
            if not same:
                for d in diagnostics:
                    self.report(d.text())
            status = "failed" if not result.ok else f"built {len(result.files)} files"
            self.report(f"{status} in {seconds * 1000:.0f} ms" + (" (the same: nothing to reload)" if same else ""))
            return self.state

    def wait_for_change(self, generation: int, timeout: float) -> int:
        with self.changed:
            self.changed.wait_for(lambda: self.state.generation != generation, timeout)
            return self.state.generation

    def source_lines(self, d: Diagnostic, around: int = 2) -> list[tuple[int, str]]:
        """The lines of the file around a diagnostic, for the error page."""
        path = self.root / d.file
        if not d.line or not path.is_file():
            return []
        try:
            lines = path.read_bytes().decode("utf-8", "replace").splitlines()
        except OSError:
            return []
        first = max(1, d.line - around)
        return [(n, lines[n - 1]) for n in range(first, min(len(lines), d.line + around) + 1)]


def error_page(preview: Preview, state: State) -> bytes:
    """The diagnostics of a failed build as a page that reloads itself when the build is fixed."""
    parts = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Build failed · site-builder"
             "</title><style>body{font:15px/1.5 system-ui,sans-serif;margin:2rem;color:#1d2733}"
             ".d{border-left:4px solid #b3261e;padding:.25rem 1rem;margin:1rem 0;background:#fdf3f2}"
             ".w{border-color:#a15c00;background:#fff8ec}pre{background:#fff;padding:.5rem;overflow:auto}"
             "mark{background:#fde7e5}</style></head><body><h1>The site could not be built</h1>"
             "<p>Fix the problems below and save: this page reloads by itself.</p>"]
    for d in state.diagnostics:
        kind = "d" if d.severity == "error" else "d w"
        where = f"{d.file}:{d.line}:{d.column}" if d.line else d.file
        parts.append(f"<section class='{kind}'><p><strong>{html.escape(where)}</strong> · "
                     f"<code>{html.escape(d.code)}</code></p><p>{html.escape(d.message)}</p>")
        if d.hint:
            parts.append(f"<p><em>hint:</em> {html.escape(d.hint)}</p>")
        lines = preview.source_lines(d)
        if lines:
            parts.append("<pre>")
            for number, text in lines:
                row = f"{number:5d} | {html.escape(text)}"
                parts.append(f"<mark>{row}</mark>\n" if number == d.line else row + "\n")
            parts.append("</pre>")
        parts.append("</section>")
    parts.append(_reload_script(state.generation) + "</body></html>")
    return "".join(parts).encode("utf-8")


def _loopback(host: str) -> bool:
    """`localhost`, or a loopback address (127.0.0.0/8, ::1): a name that merely starts with `127.` is not."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _host_allowed(header: str, bound: str) -> bool:
    """Whether a request's Host is this machine, when the preview listens on loopback only (the default): a
    web page elsewhere could otherwise make the browser ask for the appraisals under a name of its own that
    points here (DNS rebinding). Listening on another address is asking to be reached by any name."""
    if not _loopback(bound):
        return True
    host = header[1:].partition("]")[0] if header.startswith("[") else header.rsplit(":", 1)[0]
    return _loopback(host)


def _handler(preview: Preview):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        head = False  # answering HEAD: everything GET would say but the body (`curl -I`, link checkers)

        def log_message(self, format, *args):  # the terminal shows builds, not every request
            pass

        def do_HEAD(self):
            self.head = True
            try:
                self.do_GET()
            finally:
                self.head = False

        def do_GET(self):
            hosts = self.headers.get_all("Host") or [""]  # (two Host headers: which one a proxy reads is unclear)
            if len(hosts) != 1 or not _host_allowed(hosts[0], self.server.server_address[0]):
                return self._send(HTTPStatus.FORBIDDEN, b"this preview answers only to localhost", "text/plain")
            path = unquote(urlsplit(self.path).path)
            if path == RELOAD_PATH:
                return self._events()
            state = preview.state
            if state.failed and (path.endswith(".html") or path.endswith("/")):
                return self._send(HTTPStatus.INTERNAL_SERVER_ERROR, error_page(preview, state), "text/html")
            rel = posixpath.normpath(path.lstrip("/")) if path.strip("/") else "index.html"
            if path.endswith("/") and path.strip("/"):
                rel += "/index.html"
            data = state.files.get(rel)
            if data is None and f"{rel}/index.html" in state.files:  # a folder asked for without its `/` (`/en`)
                self.send_response(HTTPStatus.MOVED_PERMANENTLY)
                self.send_header("Location", quote(path.rstrip("/") + "/"))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            if data is None:  # (a record moved away and back, a checkout: the page comes back by itself)
                page = (f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>not found</title></head><body>"
                        f"<p>{html.escape(path)}: not found</p>{_reload_script(state.generation)}</body></html>")
                return self._send(HTTPStatus.NOT_FOUND, page.encode("utf-8"), "text/html")
            kind = mimetypes.guess_type(rel)[0] or "application/octet-stream"
            if kind == "text/html":
                data = data.replace(b"</body>", _reload_script(state.generation).encode() + b"</body>", 1)
            self._send(HTTPStatus.OK, data, kind)

        def _send(self, status, data: bytes, kind: str):
            self.send_response(status)
            charset = "; charset=utf-8" if kind.startswith("text/") or kind.endswith("json") else ""
            self.send_header("Content-Type", kind + charset)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            if not self.head:
                self.wfile.write(data)

        def _events(self):
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            if self.head:
                return
            generation = preview.state.generation
            try:
                self.wfile.write(f"data: {generation}\n\n".encode())
                self.wfile.flush()
                while not self.server.stopping:
                    new = preview.wait_for_change(generation, timeout=1.0)
                    if new != generation:
                        generation = new
                        self.wfile.write(f"data: {generation}\n\n".encode())
                    else:
                        self.wfile.write(b": keep-alive\n\n")
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.close_connection = True

    return Handler


class Server(ThreadingHTTPServer):
    daemon_threads = True
    stopping = False


class Server6(Server):
    address_family = socket.AF_INET6  # --host ::1, say


class Watcher:
    """Rebuilds after a burst of changes to content/, layouts/ or rules.yaml, or a commit, has settled."""

    def __init__(self, preview: Preview, debounce: float = DEBOUNCE_SECONDS):
        from watchdog.events import FileSystemEventHandler
        from watchdog.observers import Observer

        # a watched folder moved away and back: watchdog watches it again, and says so with a dump of every
        # watch (kilobytes, once per folder); watching goes on as it should
        warnings.filterwarnings("ignore", message="Callback with id .* already exists", category=RuntimeWarning)

        self.preview = preview
        self.debounce = debounce
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()
        watcher = self

        class Events(FileSystemEventHandler):
            def on_any_event(self, event):
                if event.event_type in ("opened", "closed_no_write"):
                    return
                paths = [event.src_path, getattr(event, "dest_path", "")]
                if any(watcher.watched(p) for p in paths if p):
                    watcher.poke()

        self.observer = Observer()
        self.observer.schedule(Events(), str(preview.root), recursive=True)
        # pages show what git says (provenance, late entries, amendments): a commit, a checkout, a reset or a
        # fetch that deepens a shallow clone moves HEAD, a branch or the shallow file
        self.git_files = _git_files(preview.root)
        for folder in sorted({path.parent for path in self.git_files}):
            if not folder.is_relative_to(preview.root.resolve()):  # (the site is a folder of a larger repository)
                self.observer.schedule(Events(), str(folder), recursive=True)

    def watched(self, path: str) -> bool:
        full = Path(path).resolve()
        try:
            rel = full.relative_to(self.preview.root.resolve()).parts
        except ValueError:
            rel = ()
        if rel and rel[0] in WATCHED:
            return True
        return any(full == git or full.is_relative_to(git) for git in self.git_files)

    def poke(self) -> None:
        """A change: (re)start the debounce timer, so a burst of saves gives one rebuild."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(self.debounce, self.preview.rebuild)
            self._timer.daemon = True
            self._timer.start()

    def start(self) -> None:
        self.observer.start()

    def stop(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
        self.observer.stop()
        self.observer.join(timeout=5)


def _git_files(root: Path) -> list[Path]:
    """HEAD, the refs and the shallow file of the repository the site is in ([] outside git)."""
    try:
        result = subprocess.run(["git", "-C", str(root), "rev-parse", "--git-dir", "--git-common-dir"],
                                capture_output=True, check=False)
    except OSError:
        return []
    folders = result.stdout.decode("utf-8", "surrogateescape").splitlines()
    if result.returncode != 0 or len(folders) != 2:
        return []
    own, common = ((root / folder).resolve() for folder in folders)  # (relative to the root, or absolute)
    return [own / "HEAD", common / "refs", common / "packed-refs", common / "shallow"]


class Running:
    """A started preview server; `stop()` shuts it down cleanly."""

    def __init__(self, root: Path, host: str, port: int, report: Callable[[str], None]):
        self.preview = Preview(root, report)
        # the port first (OSError if it is taken: said at once, not after the first build), then the build;
        # a browser that connects meanwhile waits for it
        server = Server6 if ":" in host else Server
        self.server = server((host, port), _handler(self.preview))
        self.preview.rebuild()
        self.watcher = Watcher(self.preview)
        self.watcher.start()
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.2},
                                       daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    @property
    def shared(self) -> bool:
        """Listening on every network (`--host 0.0.0.0` or `::`), not on one address."""
        return ipaddress.ip_address(self.server.server_address[0]).is_unspecified

    def stop(self) -> None:
        self.server.stopping = True
        self.watcher.stop()
        self.server.shutdown()
        self.server.server_close()
