"""`check` on bad content: every problem is an error naming file, line, column and what to do.

Each case is a tiny site with exactly one problem. Files are written out line by line so the expected
positions can be read off the text; `record()` puts type, date, inspector and staff on lines 2–5 and the
first finding or commendation on line 7.
"""

from __future__ import annotations

import csv
import io
import json
import re
import os
import subprocess
import sys

import pytest

from conftest import PEOPLE, REPO, RULES, finding, record, reported
from site_builder.cli import main

R = "content/records/r.md"
AP = "content/appeals/r-1.md"
MO = "content/months/2026-11.md"
P = "content/people.yaml"
ONE_FINDING = record(findings=finding("a", 2))  # record `r`, finding 1: item a, general, 2 points


def appeal(record_id: str = "r", finding_id="1", filed: str = "2026-11-20", **extra) -> str:
    """An appeal: record on line 2, finding 3, filed 4, then `extra` from line 5."""
    lines = ["---", f"record: {record_id}", f"finding: {finding_id}", f"filed: {filed}"]
    lines += [f"{key}: {value}" for key, value in extra.items()]
    return "\n".join(lines + ["---", "申诉理由。", ""])


def sign_off(month: str = "2026-11", closed: str = "2026-11-25", closed_by: str = "I05") -> str:
    """A sign-off: month on line 2, closed 3, closed_by 4."""
    return f"---\nmonth: {month}\nclosed: {closed}\nclosed_by: {closed_by}\n---\n"


def decided(decision: str, by: str = "I05", **extra) -> dict:
    return {"decision": decision, **extra, "decided": "2026-11-24", "decided_by": by}


def at(text: str, line: int, word: str) -> int:
    """Column of `word` on `line` of `text` (1-based), so people.yaml cases need no counting."""
    return text.split("\n")[line - 1].index(word) + 1


def case(name: str, files: dict, code: str, file: str, line: int, column: int | None, says: str = "",
         people: str = PEOPLE, rules: str = RULES):
    return pytest.param(files, people, rules, code, file, line, column, says, id=name)


def line_of(text: str, needle: str) -> int:
    """Line of the first line of `text` that is exactly `needle`."""
    return text.split("\n").index(needle) + 1


BAD_RULES = RULES.replace("    points: [1, 2]\n", "    points: [5, 1]\n", 1)
SELF_PEOPLE = PEOPLE.replace("inspectors:\n", "  - {id: I01, name: 李娜, post: reception}\ninspectors:\n")
DUP_PEOPLE = PEOPLE.replace("inspectors:\n", "  - {id: S001, name: 另一人, post: reception}\ninspectors:\n")
TYPO_POST = PEOPLE.replace("王芳, post: reception", "王芳, post: recepton")
BAD_ID = PEOPLE.replace("{id: S002,", "{id: S/002,")
E_ID = PEOPLE.replace("{id: S002,", "{id: 1e3,")
Y_ID = PEOPLE.replace("{id: S002,", "{id: Y,")
BAD_ROLE = PEOPLE.replace("role: office", "role: ofice")
DEVICE_ID = PEOPLE.replace("{id: I06,", "{id: Con,")
LEFT_EARLY = PEOPLE.replace("left: 2026-10-31", "left: 2024-10-31")
WRONG_NAME = PEOPLE.replace("name: 王芳", "name: 2026")
TWO_LINE_NAME = PEOPLE.replace("name: 李娜", 'name: "李娜\\nstaff: S999"')
LANGUAGES = "  languages: [zh-CN, en]                     # every language the site is built in"
SELF_TOWARD = "    counts_toward: supervisor_monthly        # reading 3"


CAP = next(line for line in RULES.split("\n") if line.startswith("  total_cap: 100 "))
CUTOFF = next(line for line in RULES.split("\n") if line.startswith("  cutoff_day: 25 "))


def rules_with(line: str, instead: str) -> str:
    assert line in RULES
    return RULES.replace(line, instead, 1)

CASES = [
    # keys and types of a record
    case("unknown-key-did-you-mean", {R: record().replace("staff: S001\n", "staff: S001\nfinding: []\n")},
         "unknown-key", R, 6, 1, "did you mean `findings`"),
    case("missing-key", {R: record().replace("inspector: I01\n", "")}, "missing-key", R, 2, 1, "`inspector`"),
    case("duplicate-key-names-both-lines", {R: record().replace("staff: S001\n", "staff: S001\ndate: 2026-11-13\n")},
         "duplicate-key", R, 6, 1, "lines 3 and 6"),
    case("key-read-as-number", {R: record().replace("type:", "1: x\ntype:")}, "yaml-key-type", R, 2, 1, "number"),
    case("findings-not-a-list", {R: record().replace("staff: S001\n", "staff: S001\nfindings: 扣2分\n")},
         "wrong-type", R, 6, 11, "list"),
    case("finding-not-a-mapping", {R: record(findings="- a 项扣 2 分")}, "wrong-type", R, 7, 5, "mapping"),
    case("staff-is-a-mapping", {R: record(staff="{id: S001}")}, "wrong-type", R, 5, 8, "id"),
    case("points-quoted", {R: record(findings=finding("a", '"2"'))}, "wrong-type", R, 9, 13, "text"),
    case("note-is-a-number", {R: record(findings=finding("a", 2).replace("note: 发现问题", "note: 12"))},
         "wrong-type", R, 10, 11, "text"),
    case("note-missing", {R: record(findings=finding("a", 2).replace("  note: 发现问题\n", ""))},
         "missing-key", R, 7, 5, "`note`"),
    case("note-empty", {R: record(findings=finding("a", 2).replace("发现问题", '""'))}, "empty-value", R, 10, 11),
    case("punishable-yes", {R: record(findings=finding("e", 8, "adverse", punishable="yes"))},
         "wrong-type", R, 11, 17, "true"),
    case("rate-with-percent-sign", {R: record(findings=finding("c", 3, None, required_rate="95%",
                                                             actual_rate=84))},
         "wrong-type", R, 10, 20, "number"),
    # YAML 1.1 reads these as something other than the id or number meant
    case("staff-id-read-as-number", {R: record(staff="0012")}, "id-not-text", R, 5, 8, "number"),
    case("finding-id-read-as-boolean", {R: record(findings=finding("a", 2, id="yes"))},
         "id-not-text", R, 11, 9, "yes/no"),
    case("inspector-read-as-sexagesimal", {R: record(inspector="1:20")}, "id-not-text", R, 4, 12, "quote"),
    case("points-nan", {R: record(findings=finding("a", ".nan"))}, "bad-number", R, 9, 13, ".nan"),
    # dates
    case("impossible-date", {R: record(date="2026-02-30")}, "bad-date", R, 3, 7, "not a real date"),
    case("non-iso-date", {R: record(date="2026-1-5")}, "bad-date", R, 3, 7, "YYYY-MM-DD"),
    case("datetime-not-date", {R: record(date="2026-11-12 10:00")}, "bad-date", R, 3, 7, "YYYY-MM-DD"),
    case("slash-date", {R: record(date="2026/11/12")}, "bad-date", R, 3, 7, "YYYY-MM-DD"),
    case("full-width-date", {R: record(date="２０２６－１１－１２")}, "bad-date", R, 3, 7,
         "write it in ASCII digits: 2026-11-12"),  # (a Chinese input method in full-width mode)
    # references
    case("unknown-staff", {R: record(staff=["S001", "S999"])}, "unknown-reference", R, 5, 15, "S999"),
    case("staff-listed-twice", {R: record(staff=["S001", "S001"])}, "duplicate-id", R, 5, 15, "twice"),
    case("staff-empty-list", {R: record(staff="[]")}, "empty-value", R, 5, 8, "nobody"),
    case("unknown-inspector", {R: record(inspector="I99")}, "unknown-reference", R, 4, 12, "I99"),
    case("unknown-check-type", {R: record(type_="supervisor_montly")}, "unknown-reference", R, 2, 7,
         "did you mean `supervisor_monthly`"),
    case("unknown-item", {R: record(findings=finding("k", 2))}, "unknown-reference", R, 7, 11, "`k`"),
    case("unknown-severity", {R: record(findings=finding("a", 2, "minor"))}, "severity-not-allowed", R, 8, 15,
         "minor"),
    case("severity-not-for-item", {R: record(findings=finding("f", 2, "general"))}, "severity-not-allowed",
         R, 8, 15, "missed_task"),
    case("role-not-allowed-for-type", {R: record(type_="qa_monthly", inspector="I01")}, "role-not-allowed",
         R, 4, 12, "qa_monthly"),
    case("role-changed-since", {R: record(type_="qa_monthly", inspector="I01")}, "role-not-allowed",
         R, 4, 12, "list them again under a new id for the new role"),
    case("self-inspection", {R: record(staff="I01")}, "self-inspection", R, 5, 8, "themselves",
         people=SELF_PEOPLE),
    case("checked-after-leaving", {R: record(staff="S003")}, "not-employed", R, 5, 8, "2026-10-31"),
    case("checked-before-joining", {R: record(date="2025-02-20")}, "not-employed", R, 5, 8, "2025-03-01"),
    # findings
    case("points-outside-band", {R: record(findings=finding("a", 3))}, "points-outside-band", R, 9, 13, "1–2"),
    case("points-not-half-steps", {R: record(findings=finding("a", 1.25))}, "points-step", R, 9, 13, "0.5"),
    case("rate-shortfall-below-5", {R: record(findings=finding("c", 1, None, required_rate=95, actual_rate=92))},
         "no-rate-deduction", R, 11, 18, "shortfall 3"),
    case("rates-written-as-fractions", {R: record(findings=finding("c", 1, None, required_rate=0.95,
                                                                   actual_rate=0.8))},
         "no-rate-deduction", R, 11, 18, "rates are percentages: write 95 for 0.95, 80 for 0.8"),
    case("rate-band-mismatch", {R: record(findings=finding("c", 3, "shortfall_5", required_rate=95,
                                                         actual_rate=84))},
         "rate-band-mismatch", R, 8, 15, "shortfall_10"),
    case("rates-on-non-rate-item", {R: record(findings=finding("a", 2, required_rate=95, actual_rate=84))},
         "rate-not-allowed", R, 11, 20, "not a rate item"),
    case("rate-item-without-rates", {R: record(findings=finding("c", 2, "shortfall_5"))}, "missing-rates",
         R, 7, 5, "required_rate"),
    case("rate-item-one-rate", {R: record(findings=finding("c", 2, None, actual_rate=80))}, "missing-rates",
         R, 7, 5, "both"),
    case("punishable-not-adverse", {R: record(findings=finding("a", 2, punishable="true"))},
         "punishable-severity", R, 11, 17, "adverse"),
    case("punishable-when-rules-allow-none", {R: record(findings=finding("a", 2, punishable="true"))},
         "punishable-severity", R, 11, 17, "rules.yaml lets no finding be punishable",
         rules=rules_with("  punishable: [adverse] ", "  punishable: []       ")),
    case("finding-without-staff-on-multi-staff-record", {R: record(staff=["S001", "S002"],
                                                                   findings=finding("a", 2))},
         "missing-key", R, 7, 5, "several"),
    case("finding-names-someone-not-checked", {R: record(findings=finding("a", 2, staff="S002"))},
         "staff-not-checked", R, 8, 12, "S002"),
    case("procedure-not-cited-by-item", {R: record(findings=finding("a", 2, procedure="报修管理作业规程及标准"))},
         "unknown-procedure", R, 11, 16, "住户咨询作业规程及标准"),
    case("duplicate-finding-ids", {R: record(findings=finding("a", 2, id="x") + finding("b", 1, id="x"))},
         "duplicate-id", R, 16, 9, "findings 1 and 2"),
    # commendations
    case("commendation-zero", {R: record(commendations="- points: 0\n  reason: 拾金不昧")},
         "commendation-outside-range", R, 7, 13, "1–20"),
    case("commendation-25", {R: record(commendations="- points: 25\n  reason: 拾金不昧")},
         "commendation-outside-range", R, 7, 13, "1–20"),
    case("commendation-without-reason", {R: record(commendations="- points: 5")}, "missing-key", R, 7, 5,
         "`reason`"),
    case("commendation-long-off-step", {R: record(commendations="- points: 2.000000000000000000000000000000001\n"
                                                  "  reason: 拾金不昧")},
         "points-step", R, 7, 13, "points 2.00000000…000001 (35 characters) is not a multiple of 0.5"),
    # appeals
    case("appeal-unknown-record", {R: ONE_FINDING, AP: appeal("2026/r")}, "unknown-reference", AP, 2, 9, "2026/r"),
    case("appeal-unknown-finding", {R: ONE_FINDING, AP: appeal(finding_id=5)}, "unknown-reference", AP, 3, 10,
         "has no finding `5`"),
    case("appeal-empty-finding", {R: ONE_FINDING, AP: appeal(finding_id="")}, "empty-value", AP, 3, 9, "finding"),
    case("appeal-decided-by-non-qa", {R: ONE_FINDING, AP: appeal(**decided("upheld", by="I01"))},
         "role-not-allowed", AP, 7, 13, "4.6"),
    case("appeal-reduced-not-below-original", {R: ONE_FINDING, AP: appeal(**decided("reduced", points=2))},
         "bad-reduction", AP, 6, 9, "below the original 2"),
    case("appeal-reduced-without-points", {R: ONE_FINDING, AP: appeal(**decided("reduced"))}, "missing-key",
         AP, 5, 11, "points"),
    case("appeal-decided-without-date", {R: ONE_FINDING, AP: appeal(decision="upheld", decided_by="I05")},
         "missing-key", AP, 5, 11, "`decided`"),
    case("appeal-points-without-reduction", {R: ONE_FINDING, AP: appeal(**decided("upheld", points=1))},
         "points-without-reduction", AP, 6, 9, "reduced"),
    case("two-appeals-on-one-finding", {R: ONE_FINDING, AP: appeal(), "content/appeals/r-1b.md": appeal()},
         "duplicate-appeal", "content/appeals/r-1b.md", 3, 10, AP),
    case("pending-appeal-with-decided", {R: ONE_FINDING, AP: appeal(decided="2026-11-24")},
         "pending-with-decision", AP, 5, 10, "`decided`"),
    case("appeal-unknown-decision", {R: ONE_FINDING, AP: appeal(decision="dismissed")}, "unknown-reference",
         AP, 5, 11, "dismissed"),
    case("points-of-hundreds-of-digits", {R: record(findings=finding("a", "9" * 300))}, "points-outside-band", R, 9,
         13, "(300 characters)"),
    case("appeal-decision-in-chinese", {R: ONE_FINDING, AP: appeal(decision="驳回")}, "unknown-reference",
         AP, 5, 11, "write `upheld` for 驳回"),
    case("appeal-filed-before-record", {R: ONE_FINDING, AP: appeal(filed="2026-11-01")}, "bad-date", AP, 4, 8,
         "2026-11-12"),
    # sign-offs
    case("sign-off-by-non-qa", {MO: sign_off(closed_by="I01")}, "role-not-allowed", MO, 4, 12, "`qa`"),
    case("sign-off-file-name-not-its-month", {"content/months/2026-10.md": sign_off()}, "month-file-name",
         "content/months/2026-10.md", 2, 8, "2026-11.md"),
    case("sign-off-before-period-ends", {MO: sign_off(closed="2026-11-20")}, "bad-date", MO, 3, 9, "2026-11-25"),
    case("sign-off-impossible-month", {"content/months/2026-13.md": sign_off(month="2026-13")}, "bad-month",
         "content/months/2026-13.md", 2, 8, "YYYY-MM"),
    case("sign-off-month-in-full-width-digits", {MO: sign_off(month="２０２６-１１")}, "bad-month", MO, 2, 8,
         "write it in ASCII digits: 2026-11"),
    # people.yaml
    case("duplicate-staff-id", {}, "duplicate-id", P, 5, at(DUP_PEOPLE, 5, "S001"), "lines 2 and 5",
         people=DUP_PEOPLE),
    case("unknown-post", {}, "unknown-reference", P, 3, at(TYPO_POST, 3, "recepton"), "did you mean `reception`",
         people=TYPO_POST),
    case("bad-id-characters", {}, "bad-id", P, 3, at(BAD_ID, 3, "S/002"), "S/002", people=BAD_ID),
    case("id-yaml-1.2-reads-as-a-number", {}, "id-not-text", P, 3, at(E_ID, 3, "1e3"), "YAML 1.2", people=E_ID),
    case("id-yaml-1.1-spec-reads-as-a-boolean", {}, "id-not-text", P, 3, at(Y_ID, 3, "Y,"), "yes or no",
         people=Y_ID),
    case("id-is-a-windows-device", {}, "bad-id", P, 8, at(DEVICE_ID, 8, "Con"), "device on Windows",
         people=DEVICE_ID),
    case("unknown-role", {}, "unknown-reference", P, 9, at(BAD_ROLE, 9, "ofice"), "did you mean `office`",
         people=BAD_ROLE),
    case("left-before-joined", {}, "bad-date", P, 4, at(LEFT_EARLY, 4, "2024-10-31"), "before", people=LEFT_EARLY),
    case("name-read-as-number", {}, "wrong-type", P, 3, at(WRONG_NAME, 3, "2026"), "quotes", people=WRONG_NAME),
    case("people-is-a-list", {}, "wrong-type", P, 1, 1, "mapping", people="- S001\n- S002\n"),
    # rules.yaml
    case("severity-points-reversed", {}, "bad-range", "rules.yaml", line_of(BAD_RULES, "    points: [5, 1]"), 13,
         "[5, 1]", rules=BAD_RULES),
    case("language-listed-twice", {}, "bad-rule", "rules.yaml", line_of(RULES, LANGUAGES), 26, "twice",
         rules=rules_with(LANGUAGES, "  languages: [zh-CN, en, en]")),
    case("language-is-a-path", {}, "bad-rule", "rules.yaml", line_of(RULES, LANGUAGES), 22, "not a language tag",
         rules=rules_with(LANGUAGES, '  languages: [zh-CN, "../../out"]')),
    case("check-type-counts-toward-itself", {}, "bad-rule", "rules.yaml", line_of(RULES, SELF_TOWARD), 20, "itself",
         rules=rules_with(SELF_TOWARD, "    counts_toward: daily")),
    case("step-zero", {}, "bad-rule", "rules.yaml", line_of(RULES, "  step: 0.5                                  "
                                                            "# points are given in steps of 0.5"), 9, "above 0",
         rules=rules_with("  step: 0.5 ", "  step: 0   ")),
    case("total-cap-negative", {}, "bad-rule", "rules.yaml", line_of(RULES, "  total_cap: 100                   "
                                                                     "          # 4.5.4: the total may not exceed 100"),
         14, "above 0", rules=rules_with("  total_cap: 100 ", "  total_cap: -5  ")),
    case("cap-of-thousands-of-digits", {}, "bad-number", "rules.yaml", line_of(RULES, CAP), 14, "5001 digits",
         rules=rules_with("  total_cap: 100 ", "  total_cap: 1" + "0" * 5000 + " ")),  # (check passed; build failed)
    case("cutoff-day-of-thousands-of-digits", {}, "bad-number", "rules.yaml", line_of(RULES, CUTOFF), 15,
         "a number of 4301 digits before its point", rules=rules_with("  cutoff_day: 25 ", "  cutoff_day: " + "1" * 4301 + " ")),
    case("name-on-two-lines", {}, "bad-name", P, 6, at(TWO_LINE_NAME, 6, '"'), "one line", people=TWO_LINE_NAME),
    case("rules-unknown-role", {}, "unknown-reference", "rules.yaml", line_of(RULES, "    roles: [qa]"), 13, "`qa`",
         rules=RULES.replace("  qa:\n    label: {zh-CN: 品管部", "  qm:\n    label: {zh-CN: 品管部")),
]


@pytest.mark.parametrize("files, people, rules, code, file, line, column, says", CASES)
def test_bad_input_is_reported_at_its_place(make_site, files, people, rules, code, file, line, column, says):
    site = make_site(files, rules=rules, people=people)
    error = reported(site.run("check", "--format", "json"), code, file, line, column)
    assert says in error["message"] + error.get("hint", "")


@pytest.mark.parametrize("text, code, says", [
    ("", "empty-file", "rules.yaml is empty"),
    ("# all settings removed\n", "empty-file", "rules.yaml is empty"),
    ("- document\n- site\n", "wrong-type", "mapping"),
    ("document: [HG/QEW01-30]\n", "wrong-type", "`document` must be a mapping"),
])
def test_a_rules_yaml_that_is_empty_or_the_wrong_shape_gets_one_message_not_a_cascade(make_site, text, code, says):
    result = make_site({}, rules=text).run("check", "--format", "json")
    assert result.code == 1
    about_rules = [e for e in result.json()["errors"] if e["file"] == "rules.yaml"]
    mine = [e for e in about_rules if e["code"] == code]
    assert len(mine) == 1 and says in mine[0]["message"], about_rules
    # what is inside a section that is missing or not a mapping is not asked for as well
    assert not any(e["message"].startswith("`document` has no") for e in about_rules), about_rules
    if code == "empty-file":
        assert about_rules == mine


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 40


def test_shipped_example_passes(capsys):
    code = main(["check", "--root", str(REPO), "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert json.loads(out)["errors"] == []
    assert "Traceback" not in out + err


def test_every_problem_of_a_site_is_reported_in_one_run(make_site):
    site = make_site({R: record(date="2026-02-30"),
                      "content/records/q.md": record(findings=finding("a", 3)),
                      MO: sign_off(closed_by="I01")})
    result = site.run("check", "--format", "json")
    reported(result, "bad-date", R, 3, 7)
    reported(result, "points-outside-band", "content/records/q.md", 9, 13)
    reported(result, "role-not-allowed", MO, 4, 12)


def test_check_path_reports_only_that_file(make_site):
    site = make_site({R: record(date="2026-02-30"), "content/records/q.md": record(findings=finding("a", 3))})
    result = site.run("check", "--format", "json", str(site.root / "content/records/q.md"))
    reported(result, "points-outside-band", "content/records/q.md", 9, 13)
    assert {e["file"] for e in result.json()["errors"]} == {"content/records/q.md"}


def test_check_path_of_a_good_file_passes_while_another_is_broken(make_site):
    site = make_site({R: record(date="2026-02-30"), "content/records/q.md": record()})
    result = site.run("check", str(site.root / "content/records/q.md"))
    assert result.code == 0, result.out
    assert "2026-02-30" not in result.out


def test_text_format_names_file_line_column_code_and_hint(make_site):
    site = make_site({R: record(type_="supervisor_montly")})
    result = site.run("check")
    assert result.code == 1
    lines = result.out.splitlines()
    first = lines.index(next(line for line in lines if line.startswith(f"{R}:")))
    assert lines[first] == (f"{R}:2:7: unknown-reference: check type `supervisor_montly` is not in rules.yaml; "
                            "did you mean `supervisor_monthly`?")
    assert lines[first + 1].startswith("    hint: check types: `supervisor_monthly`")


def test_a_clean_tiny_site_passes(make_site):
    """The corpus's base site is valid, so each case above fails for its one problem only."""
    site = make_site({R: record(staff=["S001", "S002"], findings=finding("a", 2, staff="S001")
                                + finding("c", 3, None, staff="S002", required_rate=95, actual_rate=84),
                                commendations="- {staff: S001, points: 5, reason: 拾金不昧}"),
                      AP: appeal(**decided("reduced", points=1)), MO: sign_off()})
    result = site.run("check", "--format", "json")
    assert result.code == 0, result.out
    assert result.json() == {"errors": [], "warnings": []}


def test_a_finding_about_someone_refused_from_staff_offers_no_empty_list(make_site):
    site = make_site({R: record(staff="S003", findings=finding("a", 2, staff="S003"))})  # S003 left in October
    error = reported(site.run("check", "--format", "json"), "staff-not-checked", R, 8, 12)
    assert error["hint"] == "add `S003` to `staff`"


def test_two_findings_with_ids_that_are_not_ids_are_not_also_called_duplicates(make_site):
    bad = finding("a", 2, id='"a b"') + "\n" + finding("b", 2, id='"c d"')
    result = make_site({R: record(findings=bad)}).run("check", "--format", "json")
    codes = [e["code"] for e in result.json()["errors"]]
    assert result.code == 1 and "bad-id" in codes and "duplicate-id" not in codes, codes


def test_check_of_given_files_reports_the_errors_their_change_causes_elsewhere(make_site, tmp_path):
    other = "content/records/other.md"
    site = make_site({R: record(), AP: appeal(), other: record(inspector="I99")})  # r lost its finding
    result = site.run("check", R)  # the appeal on r's finding 1 is broken by r: it counts
    assert result.code == 1 and f"{AP}:3:" in result.out and other not in result.out
    assert site.run("check", other.replace("other", "missing")).code == 2
    # people.yaml given: every document is checked against it, so everyone's errors count
    result = site.run("check", "content/people.yaml")
    assert result.code == 1 and f"{other}:4:" in result.out and f"{AP}:3:" in result.out
    # a path relative to --root is found there even when the current folder has a file of that name
    (tmp_path / "cwd" / "content/records").mkdir(parents=True)
    (tmp_path / "cwd" / other).write_text("stray", encoding="utf-8")
    moved = subprocess.run([sys.executable, "-m", "site_builder", "--root", str(site.root), "check", other],
                           cwd=tmp_path / "cwd", capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert moved.returncode == 1 and f"{other}:4:" in moved.stdout


@pytest.mark.parametrize("line, instead, says", [
    ("    shortfall: 10", "    shortfall: -10", "not 0–100"),
    ("    shortfall: 10", "    shortfall: 5", "can never be given"),
    ("    roles: [office]", "    roles: []", "no role may record"),
    ("        severities: [general, serious, adverse]", "        severities: []", "allows no severity"),
    ("        severities: [general, serious, adverse]", "        severities: [general, general]", "twice"),
    (LANGUAGES, "  languages: [zh-CN, data]", "folder of the site"),
    (LANGUAGES, "  languages: [zh-CN, en, EN]", "twice"),
    ("  step: 0.5 ", "  step: 3   ", "multiple of the step"),
])
def test_rules_that_could_never_work_or_would_score_wrongly_are_refused(make_site, line, instead, says):
    result = make_site({}, rules=RULES.replace(line, instead, 1)).run("check", "--format", "json")
    mine = [e for e in result.json()["errors"] if e["file"] == "rules.yaml" and says in e["message"]]
    assert result.code == 1 and mine and all(e["line"] > 0 for e in mine), result.json()["errors"]


def test_a_cutoff_that_is_neither_a_day_nor_end_says_both_are_possible(make_site):
    rules = RULES.replace(re.search(r"  cutoff_day: .*", RULES).group(), "  cutoff_day: last")
    errors = make_site({}, rules=rules).run("check", "--format", "json").json()["errors"]
    assert [e["code"] for e in errors] == ["bad-rule"] and "`end`" in errors[0]["hint"]


def test_a_form_whose_items_do_not_add_up_to_100_is_warned_about(make_site):
    rules = RULES.replace("        full: 10", "        full: 5", 1)
    result = make_site({}, rules=rules).run("check", "--format", "json")
    assert result.code == 0 and [w["code"] for w in result.json()["warnings"]] == ["form-not-100"]
    assert "add up to 95" in result.json()["warnings"][0]["message"]


def test_an_appeal_when_rules_name_no_one_to_decide_appeals_says_where_to_name_them(make_site):
    rules = re.sub(r"\nappeals:\n(  .*\n)+", "\n", RULES)
    files = {"content/records/r.md": ONE_FINDING,
             AP: appeal(decision="upheld", decided="2026-11-24", decided_by="I05")}
    errors = make_site(files, rules=rules).run("check", "--format", "json").json()["errors"]
    assert any("appeals: {decided_by:" in e.get("hint", "") for e in errors), errors


def test_a_label_yaml_reads_as_a_number_is_told_to_be_quoted_as_written(make_site):
    rules = RULES.replace("    label: {zh-CN: 品管部", "    label: 12\n    x_label: {zh-CN: 品管部", 1)
    rules = rules.replace("    x_label: ", "    # ", 1)
    errors = make_site({}, rules=rules).run("check", "--format", "json").json()["errors"]
    assert [(e["code"], e["hint"]) for e in errors] == [("wrong-type", 'put it in quotes: "12"')], errors


@pytest.mark.parametrize("when, side, apart", [("2062-11-24", "after", 432), ("2025-03-05", "before", 19)])
def test_a_record_whose_year_is_far_from_all_others_is_warned_about(make_site, when, side, apart):
    odd = "content/records/odd.md"
    files = {R: record(), "content/records/r2.md": record(date="2026-10-20"), odd: record(date=when)}
    result = make_site(files).run("check", "--format", "json")
    assert result.code == 0
    warnings = result.json()["warnings"]
    assert [(w["code"], w["file"]) for w in warnings] == [("record-apart", odd)]
    assert f"{apart} months {side} any other period with a record" in warnings[0]["message"]
    files[odd] = record(date="2026-07-20")  # a few months apart is a pause, not a typo
    assert make_site(files).run("check", "--format", "json").json()["warnings"] == []
    only = {R: record(), "content/records/r2.md": record(date="2026-11-20"), odd: record(date=when)}
    warnings = make_site(only).run("check", "--format", "json").json()["warnings"]
    assert [(w["code"], w["file"]) for w in warnings] == [("record-apart", odd)]  # two periods: the odd one only


def test_a_direction_control_in_a_note_is_refused(make_site):
    text = record(findings=finding("a", 2)).replace("发现问题", "态度生硬\u202e")
    error = reported(make_site({R: text}).run("check", "--format", "json"), "direction-control", R,
                     text.splitlines().index([l for l in text.splitlines() if "note:" in l][0]) + 1)
    assert "U+202E" in error["message"]


def test_a_sign_off_far_ahead_of_the_records_is_warned_about(make_site):
    files = {R: record(), MO: sign_off(), "content/months/2062-11.md": sign_off("2062-11", "2062-11-25")}
    warnings = make_site(files).run("check", "--format", "json").json()["warnings"]
    assert [(w["code"], w["file"]) for w in warnings] == [("sign-off-ahead", "content/months/2062-11.md")]
    assert "432 months after the last period with a record (2026-11)" in warnings[0]["message"]


def test_an_appeal_naming_a_finding_by_a_number_that_is_one_findings_position_and_anothers_id_is_refused(make_site):
    two = record(findings=finding("a", 2, id='"2"') + finding("d", 2, id="B"))
    result = make_site({R: two, AP: appeal(finding_id="2")}).run("check", "--format", "json")
    assert [(e["code"], e["line"]) for e in result.json()["errors"]] == [("ambiguous-finding", 3)]
    only = record(findings=finding("a", 2, id='"7"'))  # a number that is only an id names that finding
    assert make_site({R: only, AP: appeal(finding_id="7")}).run("check").code == 0
    three = record(findings=finding("a", 2, id="X") + finding("b", 1, id="W") + finding("d", 1, id="Z"))
    errors = make_site({R: three, AP: appeal(finding_id='"2"')}).run("check", "--format", "json").json()["errors"]
    assert errors[0]["code"] == "unknown-reference" and "written as a number" in errors[0]["hint"]


def test_an_appeal_naming_a_finding_by_a_digit_python_reads_but_yaml_does_not_is_no_crash(make_site):
    errors = make_site({R: ONE_FINDING, AP: appeal(finding_id='"²"')}).run("check", "--format", "json").json()
    assert [e["code"] for e in errors["errors"]] == ["unknown-reference"]


@pytest.mark.parametrize("written, reads_as", [("yes", "a yes/no value"), ("007", "a whole number"), ("0x1F", "a whole number")])
def test_an_appeal_naming_a_finding_by_a_word_yaml_reads_otherwise_is_told_to_quote_it(make_site, written, reads_as):
    named = record(findings=finding("a", 2, id=f'"{written}"'))  # an id a record may hold, quoted
    errors = make_site({R: named, AP: appeal(finding_id=written)}).run("check", "--format", "json").json()["errors"]
    assert [(e["code"], e["line"]) for e in errors] == [("id-not-text", 3)]
    assert reads_as in errors[0]["message"] and f"quote an id: '{written}'" in errors[0]["hint"]
    assert make_site({R: named, AP: appeal(finding_id=f'"{written}"')}).run("check").code == 0


@pytest.mark.parametrize("written", ["1" * 5000, '"' + "1" * 5000 + '"'], ids=["plain", "quoted"])
def test_an_appeal_naming_a_finding_by_a_number_of_thousands_of_digits_is_no_crash(make_site, written):
    result = make_site({R: ONE_FINDING, AP: appeal(finding_id=written)}).run("check", "--format", "json")
    assert result.code == 1 and [e["code"] for e in result.json()["errors"]] == ["unknown-reference"]


def test_ids_take_the_contracts_pattern_and_a_rules_yaml_without_a_period_ends_each_on_the_25th(make_site):
    people = PEOPLE.replace("{id: S002,", "{id: -S2,")
    rules = re.sub(r"\nperiod:\n  cutoff_day: 25[^\n]*", "", RULES)
    assert "\nperiod:" not in rules
    site = make_site({R: record(staff="-S2", date="2026-10-26")}, people=people, rules=rules)
    result = site.run("check", "--format", "json")
    assert result.code == 0, result.out
    months = site.scores()
    assert list(months) == ["2026-11"] and "-S2" in months["2026-11"]["staff"]  # 26 October is November's


@pytest.mark.parametrize("line, instead, says", [
    ("  late_grace_days: 0", "  late_grace_days: 1000000000", "more than a year"),  # (it overflowed a date)
    ("  qa_monthly:\n", "  base:\n", "`base` is also the name of a column"),  # scores.csv would have two `base`
])
def test_rules_that_would_break_the_data_files_are_refused(make_site, line, instead, says):
    site = make_site({}, rules=rules_with(line, instead))
    result = site.run("check", "--format", "json")
    assert result.code == 1 and "internal error" not in result.err
    assert any(e["file"] == "rules.yaml" and says in e["message"] for e in result.json()["errors"]), result.out


def test_commendation_points_are_given_as_recorded_in_the_data_files(make_site):
    rules = rules_with("  step: 0.5 ", "  step: 0.25")
    text = record(findings=finding("a", 2)) .replace("---\n检查", "commendations:\n  - {staff: S001, points: 1.75, reason: 拾金不昧}\n---\n检查")
    site = make_site({R: text}, rules=rules)
    assert site.run("build").code == 0, site.run("check").out
    row = site.scores("2026-11")["2026-11"]["staff"]["S001"]
    assert row["bonus"] == 1.75 and row["base"] == 98 and row["total"] == 99.8  # the total, as a score, is rounded
    csv_text = (site.root / "_site/data/scores.csv").read_text(encoding="utf-8")
    assert ",1.75," in csv_text


def test_sums_of_points_in_the_data_files_are_written_as_the_pages_show_them(make_site):
    rules = rules_with("  step: 0.5 ", "  step: 0.25")
    praised = "commendations:\n  - {staff: S001, points: 1.25, reason: 拾金不昧}\n---\n检查"
    files = {R: record(findings=finding("a", 1.25)).replace("---\n检查", praised),
             R.replace(".md", "-2.md"): record(findings=finding("a", 1.25)).replace("---\n检查", praised)}
    site = make_site(files, rules=rules)
    assert site.run("build").code == 0, site.run("check").out
    trend = list(csv.DictReader(io.StringIO((site.root / "_site/data/trend.csv").read_text(encoding="utf-8"))))
    assert [row["commendation_points"] for row in trend] == ["2.5"]  # 1.25 + 1.25, not 2.50
    items = list(csv.DictReader(io.StringIO((site.root / "_site/data/periods/2026-11-items.csv").read_text("utf-8"))))
    assert items[0]["a"] == "2.5"


@pytest.mark.parametrize("line, instead, says, hint", [
    ("  cutoff_day: 25", "  cutoff_day: '25'", "neither a day nor `end`", "remove the quotes: cutoff_day: 25"),
    ("  cutoff_day: 25", "  cutoff_day: 021", "different YAML readers", "without the leading zero: 21"),
    ("period:\n  cutoff_day: 25", "period:\n  # cutoff_day: 25", "`period` is empty", "indented"),
])
def test_a_rules_section_written_almost_right_is_told_how_to_write_it(make_site, line, instead, says, hint):
    errors = make_site({}, rules=rules_with(line, instead)).run("check", "--format", "json").json()["errors"]
    assert any(says in e["message"] and hint in e.get("hint", "") for e in errors), errors


def test_a_label_missing_in_a_language_falls_back_to_the_sites_own_language():
    from site_builder.rules import pick

    label = {"zh-CN": "主管月检", "en": "Supervisor's monthly check"}
    assert pick(label, "ja", "en") == "Supervisor's monthly check"  # not the first label listed
    assert pick(label, "en-GB", "zh-CN") == "Supervisor's monthly check"  # a language of the same kind first
    assert pick({"": "neutral"}, "ja", "en") == "neutral"


def test_the_nearest_allowed_points_are_inside_the_band():
    from decimal import Decimal

    from site_builder.rules import PointRange
    from site_builder.validate import _step_hint

    assert _step_hint(Decimal("0.25"), Decimal("0.5"), PointRange(Decimal("0.25"), Decimal("2"))) == \
        "points go in steps of 0.5: 0.5"  # (0 is below the band)
    assert _step_hint(Decimal("1.3"), Decimal("0.5")) == "points go in steps of 0.5: 1 or 1.5"
    assert "E" not in _step_hint(Decimal("3E-32"), Decimal("2E-32"))  # written out, never as 2E-32


def test_a_rules_key_may_be_any_letter_though_an_id_of_y_or_n_is_refused(make_site):
    rules = RULES.replace("\n      j:\n", "\n      n:\n")  # the tenth item keyed `n`, as a form of 14 items would
    site = make_site({R: record(findings=finding("n", 1))}, rules=rules)
    assert site.run("check").code == 0, site.run("check").err
    assert site.scores()["2026-11"]["staff"]["S001"]["sheets"]["supervisor_monthly"]["items"]["n"] == 9
    named = make_site({R: record(findings=finding("a", 1, id="n"))})  # a finding given the id `n`
    errors = named.run("check", "--format", "json").json()["errors"]
    assert [e["code"] for e in errors] == ["id-not-text"] and "yes or no" in errors[0]["message"]



@pytest.mark.parametrize("found, hint", [
    (finding("a", 3), "give 1 to 2 points, or choose severity serious (3–5)"),
    (finding("a", 12, "adverse"), "a finding is one occurrence (4.4), so several occurrences are several findings"),
    (finding("f", 4, "missed_task"), "a finding is one occurrence (4.4)"),
])
def test_points_outside_their_band_are_told_the_band_that_holds_them_or_one_finding_per_occurrence(
        make_site, found, hint):
    errors = make_site({R: record(findings=found)}).run("check", "--format", "json").json()["errors"]
    assert [e["code"] for e in errors] == ["points-outside-band"] and hint in errors[0]["hint"], errors
