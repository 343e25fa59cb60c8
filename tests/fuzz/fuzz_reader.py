"""Coverage-guided fuzzing of the reader and validator with atheris (run on demand, not by pytest).

    pip install atheris
    python tests/fuzz/fuzz_reader.py -max_total_time=600            # seeds itself from content/
    python tests/fuzz/fuzz_reader.py -max_total_time=600 CORPUS_DIR  # or keep a corpus between runs

Each input is one file's bytes, written as a record, appeal, sign-off, people.yaml or rules.yaml (the first
byte chooses) into a temporary site, then read and validated exactly as `site-builder check` does (minus
git). The property: only diagnostics come back, each naming that file (or the one record that depends on a
fuzzed people.yaml or rules.yaml) with a sane line and column, and printable; any
exception is a crash that libFuzzer reports with the input that caused it (saved as crash-<sha1>).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import atheris

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

with atheris.instrument_imports():
    from site_builder.diagnostics import Diagnostics
    from site_builder.read import PEOPLE_FILE, RULES_FILE, read_source
    from site_builder.validate import validate_site

TARGETS = [  # (path, kind, doc id)
    ("content/records/2026/11/fuzz.md", "record", "2026/11/fuzz"),
    ("content/appeals/fuzz.md", "appeal", "fuzz"),
    ("content/months/2026-11.md", "month", "2026-11"),
    (PEOPLE_FILE, "people", ""),
    (RULES_FILE, "rules", ""),
]
ROOT = Path(tempfile.mkdtemp(prefix="fuzz-reader-"))


def _setup() -> dict:
    """A copy of the example's rules and people, read once; the fuzzed file replaces one source per run."""
    (ROOT / "content").mkdir()
    shutil.copy2(REPO / "rules.yaml", ROOT / RULES_FILE)
    shutil.copy2(REPO / PEOPLE_FILE, ROOT / PEOPLE_FILE)
    diags = Diagnostics()
    base = {kind: read_source(ROOT, path, kind, "", diags) for path, kind, _ in TARGETS[3:]}
    record = REPO / "content/records/2026/11/2026-11-12-supervisor_monthly-S001.md"
    (ROOT / "content/records/2026/11").mkdir(parents=True)
    shutil.copy2(record, ROOT / "content/records/2026/11/seed.md")
    base["seed"] = read_source(ROOT, "content/records/2026/11/seed.md", "record", "2026/11/seed", diags)
    assert not diags.errors, diags.errors
    return base


BASE = _setup()


def TestOneInput(data: bytes) -> None:
    target = TARGETS[data[0] % len(TARGETS)] if data else TARGETS[0]
    path, kind, doc_id = target
    full = ROOT / path
    full.parent.mkdir(parents=True, exist_ok=True)
    full.write_bytes(data[1:])
    diags = Diagnostics()
    source = read_source(ROOT, path, kind, doc_id, diags)
    sources = [BASE["rules"], BASE["people"], BASE["seed"]]
    sources = [s for s in sources if s.kind != kind] + [source]
    validate_site(sources, diags)
    for d in diags.items:  # the fuzzed file, or the record that leans on a fuzzed people.yaml or rules.yaml
        assert d.file in (path, BASE["seed"].path), d
        assert d.line >= 0 and d.column >= 0 and d.code and d.message, d
        d.text().encode("utf-8")  # printable
    full.unlink()


def _seeds() -> str:
    """A corpus folder seeded with the example site's files, each prefixed with the byte choosing its kind."""
    folder = Path(tempfile.mkdtemp(prefix="fuzz-reader-seeds-"))
    folders = {"content/records": 0, "content/appeals": 1, "content/months": 2}
    for name, index in folders.items():
        for n, path in enumerate(sorted((REPO / name).rglob("*.md"))[:40]):
            (folder / f"{index}-{n}").write_bytes(bytes([index]) + path.read_bytes())
    (folder / "people").write_bytes(b"\x03" + (REPO / PEOPLE_FILE).read_bytes())
    (folder / "rules").write_bytes(b"\x04" + (REPO / RULES_FILE).read_bytes())
    return str(folder)


if __name__ == "__main__":
    argv = list(sys.argv)
    if not any(not arg.startswith("-") for arg in argv[1:]):
        argv.append(_seeds())
    if not any(arg.startswith("-max_len") for arg in argv[1:]):
        argv.append("-max_len=65536")
    atheris.Setup(argv, TestOneInput)
    atheris.Fuzz()
