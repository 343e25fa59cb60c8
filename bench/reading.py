"""Where reading time goes: read a sample of a site's records as a cold build does, stage by stage.

    python bench/reading.py SITE_ROOT [--every 10]

Every `--every`-th record file (in reading order) is read once first, so that the disk is out of the picture,
then timed in this one process, CPU time per record: the file read and its YAML front matter parsed into a
tree with positions, the record validated against rules.yaml and people.yaml, its Markdown body made into
sanitized HTML. Nothing is cached or written. Multiply by the number of records for a cold build's reading
CPU time (a build shares it out over the cores).
"""

from __future__ import annotations

import argparse
import gc
import time
from pathlib import Path

from site_builder.diagnostics import Diagnostics
from site_builder.markup import MarkdownRenderer
from site_builder.read import discover, read_context, read_source
from site_builder.validate import validate_context, validate_record_source


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--every", type=int, default=10, help="time every Nth record (default 10)")
    args = parser.parse_args()
    root = args.root
    gc.set_threshold(100_000, 50, 1000)  # as the site-builder command does
    diags = Diagnostics()
    context = validate_context(read_context(root, diags, None), diags)
    if context is None:
        raise SystemExit("rules.yaml or people.yaml has errors: run `site-builder check` first")
    records = [(path, doc_id) for path, kind, doc_id in discover(root, diags, {}, None) if kind == "record"]
    sample = records[::max(1, args.every)]
    for path, _ in sample:
        (root / path).read_bytes()
    markdown = MarkdownRenderer()  # (made before the clock starts: it imports Markdown and nh3)
    started = time.process_time()
    sources = [read_source(root, path, "record", doc_id, Diagnostics(), None) for path, doc_id in sample]
    read = time.process_time()
    valid = [validate_record_source(source, context, Diagnostics()) for source in sources]
    validated = time.process_time()
    for record in valid:
        if record is not None:
            markdown.render(record.body)
    made = time.process_time()
    per = 1000 / len(sample) if sample else 0.0
    print(f"{len(sample)} of {len(records)} records, CPU ms per record:")
    for what, seconds in (("read and YAML", read - started), ("validation", validated - read),
                          ("Markdown and sanitizing", made - validated), ("all", made - started)):
        print(f"  {what:24} {seconds * per:6.3f}")
    print(f"all {len(records)} records: ~{(made - started) * per * len(records) / 1000:.0f} CPU s")


if __name__ == "__main__":
    main()
