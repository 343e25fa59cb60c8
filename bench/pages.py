"""Where rendering time goes: render every page of a site in this one process and total it by template.

    python bench/pages.py SITE_ROOT

The site is loaded as a build loads it (with the build cache), then each page is rendered in plan order —
the order a build renders them — and nothing is written. Prints, per template: pages, seconds, ms per page.
"""

from __future__ import annotations

import argparse
import gc
import time
from pathlib import Path

from site_builder.build import _prepare


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("root", type=Path)
    root = parser.parse_args().root
    gc.set_threshold(100_000, 50, 1000)  # as the site-builder command does
    loaded, renderer = _prepare(root, cache=True, jobs=2)
    if renderer is None:
        raise SystemExit("the site has errors: run `site-builder check` first")
    seconds: dict[str, float] = {}
    count: dict[str, int] = {}
    started = time.perf_counter()
    for page, language in renderer.pages():
        before = time.perf_counter()
        renderer.render_page(page, language)
        seconds[page.template] = seconds.get(page.template, 0.0) + time.perf_counter() - before
        count[page.template] = count.get(page.template, 0) + 1
    print(f"{'template':20} {'pages':>8} {'seconds':>9} {'ms/page':>9}")
    for template in sorted(seconds, key=seconds.get, reverse=True):
        print(f"{template:20} {count[template]:8d} {seconds[template]:9.2f} "
              f"{seconds[template] / count[template] * 1000:9.3f}")
    print(f"{'all':20} {sum(count.values()):8d} {time.perf_counter() - started:9.2f}")


if __name__ == "__main__":
    main()
