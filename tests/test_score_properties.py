"""Properties of scoring that hold for any records the rules allow (hypothesis)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings, strategies as st

from conftest import REPO
from site_builder.diagnostics import Diagnostics, Pos
from site_builder.model import Commendation, Finding, Record, Site, Staff
from site_builder.rules import load_rules
from site_builder.score import score_site
from site_builder.yamltree import parse_yaml

RULES = load_rules(parse_yaml((REPO / "rules.yaml").read_text("utf-8"), "rules.yaml", Diagnostics()),
                   "rules.yaml", Diagnostics())
STAFF = {sid: Staff(sid, sid, "reception", None, None) for sid in ("S1", "S2")}
FORM = RULES.forms["reception"]
POS = Pos("x.md", 1, 1)


def _steps(low: Decimal, high: Decimal):
    n = int((high - low) / RULES.step)
    return st.integers(0, n).map(lambda k: low + k * RULES.step)


@st.composite
def findings(draw, staff: str):
    item = FORM.items[draw(st.sampled_from(sorted(FORM.items)))]
    severity = RULES.severities[draw(st.sampled_from(item.severities))]
    points = draw(_steps(severity.points.low, severity.points.high))
    punishable = severity.key in RULES.punishable_severities and draw(st.booleans())
    return Finding("0", 0, staff, item.key, severity.key, points, "n", "", punishable, None, None, POS)


@st.composite
def records(draw):
    check_type = draw(st.sampled_from(sorted(RULES.check_types)))
    staff = tuple(sorted(draw(st.sets(st.sampled_from(sorted(STAFF)), min_size=1))))
    found = draw(st.lists(st.one_of(*(findings(s) for s in staff)), max_size=6))
    found = tuple(Finding(str(i), i, f.staff, f.item, f.severity, f.points, f.note, "", f.punishable, None,
                          None, POS) for i, f in enumerate(found, 1))
    commended = draw(st.lists(st.tuples(st.sampled_from(staff), _steps(RULES.commendation.low,
                                                                         RULES.commendation.high)), max_size=2))
    day = date(2026, 10, 26) + timedelta(days=draw(st.integers(0, 60)))
    return check_type, day, staff, found, tuple(Commendation(s, p, "r", POS) for s, p in commended)


def _site(specs) -> Site:
    recs = {}
    for n, (check_type, day, staff, found, commended) in enumerate(specs):
        rid = f"r{n:03d}"
        recs[rid] = Record(rid, rid + ".md", check_type, day, "I", staff, found, commended, "", 1)
    return Site(RULES, STAFF, {}, recs, {}, {})


def _flat(periods):
    return {(k, sid): sp for k, p in periods.items() for sid, sp in p.staff.items()}


@settings(max_examples=150, deadline=None)
@given(st.lists(records(), max_size=8))
def test_items_stay_within_their_marks_and_totals_within_the_cap(specs):
    for sp in _flat(score_site(_site(specs))).values():
        for sheet in sp.sheets.values():
            for item in sheet.items:
                assert 0 <= item.score <= item.full
            assert 0 <= sheet.score <= FORM.full
        if sp.total is not None:
            assert 0 <= sp.base <= FORM.full
            assert sp.total <= RULES.total_cap
            assert sp.total >= min(sp.base, RULES.total_cap)


@settings(max_examples=150, deadline=None)
@given(st.lists(records(), min_size=1, max_size=6), st.data())
def test_adding_a_deduction_never_raises_a_score(specs, data):
    before = _flat(score_site(_site(specs)))
    index = data.draw(st.integers(0, len(specs) - 1))
    check_type, day, staff, found, commended = specs[index]
    extra = data.draw(findings(data.draw(st.sampled_from(staff))))
    extra = Finding(str(len(found) + 1), len(found) + 1, extra.staff, extra.item, extra.severity, extra.points,
                    "n", "", extra.punishable, None, None, POS)
    specs = list(specs)
    specs[index] = (check_type, day, staff, found + (extra,), commended)
    after = _flat(score_site(_site(specs)))
    assert before.keys() == after.keys()
    for key, sp in after.items():
        old = before[key]
        if old.total is None:  # unscored stays unscored: a deduction goes on an existing sheet
            assert sp.total is None
            continue
        assert sp.total <= old.total and sp.base <= old.base
        for t, sheet in sp.sheets.items():
            assert sheet.score <= old.sheets[t].score
            for new_item, old_item in zip(sheet.items, old.sheets[t].items):
                assert new_item.score <= old_item.score


@settings(max_examples=100, deadline=None)
@given(st.lists(records(), max_size=8), st.randoms(use_true_random=False))
def test_the_order_of_records_never_changes_a_result(specs, rnd):
    site = _site(specs)
    shuffled_items = list(site.records.items())
    rnd.shuffle(shuffled_items)
    shuffled = Site(RULES, STAFF, {}, dict(shuffled_items), {}, {})

    def summary(periods):
        return {k: (sp.total, sp.base, sp.bonus, sp.flags,
                    {t: [i.score for i in s.items] for t, s in sp.sheets.items()})
                for k, sp in _flat(periods).items()}

    assert summary(score_site(site)) == summary(score_site(shuffled))
