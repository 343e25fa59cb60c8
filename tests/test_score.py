"""Scoring, clause by clause of the seed procedure (4.3–4.5) and its readings, with hand-computed scores."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from conftest import RULES, finding, record
from site_builder.periods import period_of
from site_builder.score import round_half_up

SUP = "content/records/2026/11/sup-S001.md"


def staff_scores(site, month="2026-11", staff="S001"):
    return site.scores(month)[month]["staff"][staff]


def test_4_3_1_a_check_with_no_findings_gives_full_marks_on_all_ten_items(make_site):
    site = make_site({SUP: record()})
    s = staff_scores(site)
    assert s["sheets"]["supervisor_monthly"] == {
        "score": 100, "items": {k: 10 for k in "abcdefghij"}}
    assert (s["base"], s["bonus"], s["total"]) == (100, 0, 100)


def test_4_4_general_serious_adverse_deduct_per_occurrence(make_site):
    findings = finding("a", 2) + finding("b", 4, "serious") + finding("e", 7, "adverse") + finding("a", 1.5)
    site = make_site({SUP: record(findings=findings)})
    sheet = staff_scores(site)["sheets"]["supervisor_monthly"]
    assert sheet["items"]["a"] == 6.5  # 10 − 2 − 1.5
    assert sheet["items"]["b"] == 6
    assert sheet["items"]["e"] == 3
    assert sheet["score"] == 85.5  # 100 − 14.5


def test_4_4_an_item_is_deducted_until_exhausted_never_below_zero(make_site):
    findings = finding("h", 8, "adverse") + finding("h", 9, "adverse") + finding("a", 1)
    site = make_site({SUP: record(findings=findings)})
    sheet = staff_scores(site)["sheets"]["supervisor_monthly"]
    assert sheet["items"]["h"] == 0  # 10 − 17 floors at 0, it does not eat into other items
    assert sheet["score"] == 89  # 100 − 10 (h exhausted) − 1 (a)


def test_4_4_3_training_rate_shortfall_gives_the_band(make_site):
    # required 95, actual 87.5: shortfall 7.5 percentage points → 1–2 band; 100 vs 90 → 3–5 band
    findings = (finding("c", 2, severity=None, required_rate=95, actual_rate=87.5)
                + finding("i", 5, severity=None, required_rate=100, actual_rate=90))
    site = make_site({SUP: record(findings=findings)})
    sheet = staff_scores(site)["sheets"]["supervisor_monthly"]
    assert (sheet["items"]["c"], sheet["items"]["i"], sheet["score"]) == (8, 5, 93)


def test_4_4_6_notices_deduct_per_missed_task(make_site):
    findings = finding("f", 2, "missed_task") + finding("f", 1, "missed_task")
    site = make_site({SUP: record(findings=findings)})
    assert staff_scores(site)["sheets"]["supervisor_monthly"]["items"]["f"] == 7


def test_reading_2_several_checks_of_one_type_accumulate_on_one_sheet(make_site):
    site = make_site({
        SUP: record(findings=finding("a", 2)),
        "content/records/2026/11/sup2.md": record(date="2026-11-20", findings=finding("a", 2)),
    })
    sheets = staff_scores(site)["sheets"]
    assert list(sheets) == ["supervisor_monthly"]
    assert sheets["supervisor_monthly"]["items"]["a"] == 6


def test_reading_3_daily_and_weekly_count_toward_supervisor_and_audits_toward_qa(make_site):
    site = make_site({
        SUP: record(),
        "content/records/d.md": record("daily", "2026-11-02", "I08", findings=finding("j", 1)),
        "content/records/w.md": record("weekly", "2026-11-03", "I05", findings=finding("h", 2)),
        "content/records/q.md": record("qa_monthly", "2026-11-05", "I05"),
        "content/records/ia.md": record("internal_audit", "2026-11-06", "I06", findings=finding("b", 3, "serious")),
    })
    sheets = staff_scores(site)["sheets"]
    assert sheets["supervisor_monthly"]["score"] == 97  # daily 1 + weekly 2
    assert sheets["qa_monthly"]["score"] == 97  # internal audit 3
    assert staff_scores(site)["base"] == 97


def test_reading_1_base_is_the_mean_of_sheets_present_rounded_half_up(make_site):
    site = make_site({
        SUP: record(findings=finding("a", 1)),  # 99
        "content/records/q.md": record("qa_monthly", "2026-11-05", "I05"),  # 100
        "content/records/o.md": record("office_spot", "2026-11-06", "I08"),  # 100
    })
    s = staff_scores(site)
    assert s["base"] == 99.7  # 299 / 3 = 99.666… → 99.7
    assert [sheet["score"] for sheet in s["sheets"].values()] == [99, 100, 100]


def test_reading_8_rounding_is_half_up_not_bankers(make_site):
    # sheets 87.5 and 99 → mean 93.25 → 93.3 (banker's rounding would give 93.2)
    site = make_site({
        SUP: record(findings=finding("a", 2) + finding("b", 2) + finding("e", 5, "serious") + finding("h", 3.5, "serious")),
        "content/records/q.md": record("qa_monthly", "2026-11-05", "I05", findings=finding("a", 1)),
    })
    s = staff_scores(site)
    assert [sheet["score"] for sheet in s["sheets"].values()] == [87.5, 99]
    assert s["base"] == 93.3 and s["total"] == 93.3


def test_weights_come_from_rules_yaml(make_site):
    weighted = RULES.replace("    weight: 1                                # equal weights (reading 1)",
                             "    weight: 2")
    assert weighted != RULES
    site = make_site({
        SUP: record(findings=finding("a", 3, "serious")),  # 97, weight 2
        "content/records/q.md": record("qa_monthly", "2026-11-05", "I05"),  # 100, weight 1
    }, rules=weighted)
    assert staff_scores(site)["base"] == 98  # (2·97 + 100) / 3 = 98


def test_4_5_4_commendations_are_added_after_scoring_and_capped_at_100(make_site):
    site = make_site({
        SUP: record(findings=finding("a", 2), commendations="- {points: 1.5, reason: 拾金不昧}"),
        "content/records/q.md": record("qa_monthly", "2026-11-05", "I05", staff="S002",
                                       commendations="- {points: 20, reason: 协助抢险}"),
    })
    s1, s2 = staff_scores(site), staff_scores(site, staff="S002")
    assert (s1["base"], s1["bonus"], s1["total"]) == (98, 1.5, 99.5)
    assert (s2["base"], s2["bonus"], s2["total"]) == (100, 20, 100)


def test_4_5_5_a_punishable_finding_zeroes_its_item_and_flags_the_case(make_site):
    site = make_site({SUP: record(findings=finding("d", 6, "adverse", punishable="true") + finding("a", 1))})
    s = staff_scores(site)
    assert s["sheets"]["supervisor_monthly"]["items"]["d"] == 0  # the whole column, not just 6
    assert s["sheets"]["supervisor_monthly"]["score"] == 89
    assert "punishable" in s["flags"]


def test_4_5_1_a_missing_required_check_is_flagged(make_site):
    site = make_site({SUP: record()})
    assert staff_scores(site)["flags"] == ["missing_check:qa_monthly"]


def test_a_staff_member_with_no_record_has_no_score_and_is_flagged_not_given_100(make_site):
    site = make_site({SUP: record()})
    s2 = staff_scores(site, staff="S002")
    assert s2["total"] is None and s2["base"] is None and s2["sheets"] == {}
    assert "unscored" in s2["flags"]
    assert "missing_check:supervisor_monthly" in s2["flags"]


def test_someone_who_left_before_the_period_is_not_listed(make_site):
    site = make_site({"content/records/2026/12/x.md": record(date="2026-12-01")})
    assert "S003" not in site.scores("2026-12")["2026-12"]["staff"]  # left 2026-10-31


@pytest.mark.parametrize("decision, extra, expected_a", [
    ("overturned", "decided: 2026-11-22\ndecided_by: I05\n", 10),
    ("reduced", "points: 1\ndecided: 2026-11-22\ndecided_by: I05\n", 9),
    ("upheld", "decided: 2026-11-22\ndecided_by: I05\n", 7),
    ("pending", "", 7),
])
def test_4_6_appeals_decided_by_the_quality_department_change_what_counts(make_site, decision, extra, expected_a):
    appeal = (f"---\nrecord: 2026/11/sup-S001\nfinding: 1\nfiled: 2026-11-20\ndecision: {decision}\n"
              f"{extra}---\n申诉理由。\n")
    site = make_site({SUP: record(findings=finding("a", 3, "serious")), "content/appeals/a1.md": appeal})
    assert staff_scores(site)["sheets"]["supervisor_monthly"]["items"]["a"] == expected_a


def test_an_overturned_punishable_finding_no_longer_zeroes_the_item(make_site):
    appeal = ("---\nrecord: 2026/11/sup-S001\nfinding: K1\nfiled: 2026-11-20\ndecision: overturned\n"
              "decided: 2026-11-22\ndecided_by: I05\n---\n")
    site = make_site({SUP: record(findings=finding("d", 6, "adverse", punishable="true", id="K1")),
                      "content/appeals/a1.md": appeal})
    s = staff_scores(site)
    assert s["sheets"]["supervisor_monthly"]["items"]["d"] == 10 and "punishable" not in s["flags"]


@pytest.mark.parametrize("day, month", [
    ("2026-10-26", "2026-11"), ("2026-11-25", "2026-11"), ("2026-11-26", "2026-12"),
    ("2026-12-26", "2027-01"), ("2026-01-01", "2026-01"),
])
def test_reading_4_the_period_ends_on_the_cutoff_day(make_site, day, month):
    site = make_site({SUP: record(date=day)})
    assert list(site.scores()) == [month]


def test_period_bounds_are_published(make_site):
    site = make_site({SUP: record()})
    assert site.scores()["2026-11"]["period"] == {"start": "2026-10-26", "end": "2026-11-25"}


def test_calendar_months_when_rules_say_end(make_site):
    rules = RULES.replace("cutoff_day: 25 ", "cutoff_day: end")
    site = make_site({SUP: record(date="2026-11-30")}, rules=rules)
    assert site.scores()["2026-11"]["period"] == {"start": "2026-11-01", "end": "2026-11-30"}


def test_a_signed_off_period_is_published_the_others_provisional(make_site):
    signoff = "---\nmonth: 2026-10\nclosed: 2026-10-27\nclosed_by: I05\n---\n"
    site = make_site({SUP: record(), "content/records/o.md": record(date="2026-10-10"),
                      "content/months/2026-10.md": signoff})
    months = site.scores()
    assert months["2026-10"]["status"] == "published"
    assert months["2026-11"]["status"] == "provisional"


def test_months_between_records_are_listed_with_everyone_unscored(make_site):
    site = make_site({SUP: record(), "content/records/o.md": record(date="2026-09-10")})
    months = site.scores()
    assert list(months) == ["2026-09", "2026-10", "2026-11"]
    assert all(s["total"] is None for s in months["2026-10"]["staff"].values())


def test_scores_are_exact_with_many_half_points(make_site):
    # ten 0.5-point... findings on several items: no float drift anywhere
    findings = "".join(finding(k, 1.5) for k in "abdeghj")
    site = make_site({SUP: record(findings=findings)})
    assert staff_scores(site)["sheets"]["supervisor_monthly"]["score"] == 89.5


@pytest.mark.parametrize("value, expected", [
    (Decimal("91.25"), "91.3"), (Decimal("91.24"), "91.2"), (Fraction(2, 3), "0.7"),
    (Fraction(599, 6), "99.8"), (Decimal("0.05"), "0.1"), (Decimal("100"), "100.0"),
])
def test_round_half_up(value, expected):
    assert str(round_half_up(value, 1)) == expected


def test_period_of_handles_year_end():
    from datetime import date
    assert period_of(date(2026, 12, 31), 25).key == "2027-01"
    assert period_of(date(2027, 1, 1), 25).start == date(2026, 12, 26)


def test_numbers_written_with_more_than_28_digits_are_still_exact(make_site):
    # Decimal's default context rounds to 28 digits; the sum here needs 30
    tiny = "0." + "0" * 26 + "1"  # 1e-27
    rules = RULES.replace("  step: 0.5 ", f"  step: {tiny} ")
    sup = record(findings=finding("a", "3.5" + "0" * 25 + "1", "serious"))
    qa = record("qa_monthly", inspector="I05", findings=finding("a", 4, "serious"))
    site = make_site({SUP: sup, "content/records/2026/11/qa.md": qa}, rules=rules)
    # base = (96.499…999 + 96) / 2 = 96.2499…9995, half up to one decimal: 96.2, not 96.3
    assert staff_scores(site)["base"] == 96.2
    # a rate shortfall a hair under 10 points is in the 1–2 band, not 3–5
    rate = finding("c", 2, severity=None, required_rate="95." + "0" * 28 + "1", actual_rate="85." + "0" * 28 + "2")
    assert make_site({SUP: record(findings=rate)}).run("check").code == 0
