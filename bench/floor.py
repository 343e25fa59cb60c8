"""The least a one-record edit costs to render, whatever the engine around it: time the pages and data files
that an edit of one record must make again, in this one process, with everything else already loaded.

    python bench/floor.py SITE_ROOT [RECORD_ID]

An edit changes the record's own pages, its staff members' forms for its period and their staff pages, its
inspector's page and its period's page, and the pages that gather the whole site (summary, calibration, feed,
rules, data readme); and the data files made from them (the site-wide ones from one piece per period: the
record's period's pieces are made again, the others kept). The site is loaded as a build loads it (with the
build cache); the pages are rendered once each and nothing is written. Prints each page's time and the totals.
"""

from __future__ import annotations

import argparse
import gc
import time
from pathlib import Path

from site_builder.build import _prepare
from site_builder.cache import Fragments
from site_builder.periods import period_of


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("record", nargs="?", help="a record id (default: the first)")
    args = parser.parse_args()
    gc.set_threshold(100_000, 50, 1000)  # as the site-builder command does
    loaded, renderer = _prepare(args.root, cache=True, jobs=2)
    if renderer is None:
        raise SystemExit("the site has errors: run `site-builder check` first")
    site = loaded.site
    record = site.records[args.record or next(iter(site.records))]
    period = period_of(record.date, site.rules.cutoff_day).key
    touched = {"record.html": lambda c: c["record"].id == record.id,
               "appraisal.html": lambda c: c["staff_id"] in record.staff and c["period"] == period,
               "staff.html": lambda c: c["staff_id"] in record.staff,
               "inspector.html": lambda c: c["inspector_id"] == record.inspector,
               "period.html": lambda c: c["period"] == period}
    pages = 0.0
    for page, language in renderer.pages():
        made_again = touched.get(page.template)
        if made_again is None or made_again(page.context):  # (the others are always made)
            started = time.perf_counter()
            renderer.render_page(page, language)
            took = time.perf_counter() - started
            pages += took
            print(f"{took:8.3f} s  {page.path}")
    # the site-wide data files are put together from one piece per period: the others are kept
    renderer.fragments = fragments = Fragments()
    renderer.data_files(set(renderer.keyed_data()))
    fragments._known = {name: piece for name, piece in fragments._used.items() if not name.endswith(f" {period}")}
    mine = (f"data/periods/{period}", f"data/inspectors/{record.inspector}.csv",
            *(f"data/staff/{staff}.csv" for staff in record.staff))
    skip = {path for path in renderer.keyed_data() if not path.startswith(mine)}
    started = time.perf_counter()
    renderer.data_files(skip)
    data = time.perf_counter() - started
    print(f"record {record.id}: {len(renderer.index.by_period.get(period, []))} records in its period, "
          f"{len(renderer.index.by_inspector.get(record.inspector, []))} by its inspector")
    print(f"pages {pages:.2f} s, data files {data:.2f} s, in all {pages + data:.2f} s on one core")


if __name__ == "__main__":
    main()
