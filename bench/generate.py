"""A deterministic site of any size for benchmarks: N records over S staff and P periods.

    python bench/generate.py OUT --records 100000 --staff 1000 --periods 12

Uses the repository's rules.yaml and layouts; records carry the real mix of check types, findings
(general/serious/adverse, rate findings, missed tasks, a few punishable), commendations, appeals and
sign-offs, so the builder does the same work as on a real site.
"""

from __future__ import annotations

import argparse
import random
import shutil
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ITEMS_GENERAL = "abdeghj"
NOTES = ["来访登记缺少联系电话", "回访记录未及时填写", "交接班记录签名不清", "业主档案未及时归档",
         "报修单未转派工程部", "通知张贴不整齐", "钥匙借用登记缺项", "接听电话未使用规范用语"]
SUP, QA, OFFICE = ("I01", "I02", "I03"), ("I05", "I06", "I07"), ("I08", "I09")


def periods(count: int, last: tuple[int, int] = (2026, 11)) -> list[tuple[int, int]]:
    year, month = last
    out = []
    for _ in range(count):
        out.append((year, month))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return out[::-1]


def period_days(year: int, month: int) -> list[date]:
    start = date(year - 1, 12, 26) if month == 1 else date(year, month - 1, 26)
    end = date(year, month, 25)
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def finding(rng: random.Random, staff: str | None) -> str:
    roll = rng.random()
    who = f"\n    staff: {staff}" if staff else ""
    if roll < 0.08:
        actual, points = rng.choice([(88, 1), (89.5, 2), (84, 3), (80, 4)])  # shortfall 5–10 → 1–2; ≥ 10 → 3–5
        return f"  - item: c{who}\n    required_rate: 95\n    actual_rate: {actual}\n" \
               f"    points: {points}\n    note: 培训缺勤\n"
    if roll < 0.15:
        return f"  - item: f{who}\n    severity: missed_task\n    points: {rng.choice([1, 1.5, 2])}\n    note: 通知未按时发送\n"
    item = rng.choice(ITEMS_GENERAL)
    if roll < 0.80:
        severity, points = "general", rng.choice([1, 1.5, 2])
    elif roll < 0.97:
        severity, points = "serious", rng.choice([3, 4, 5])
    else:
        severity, points = "adverse", rng.choice([6, 8])
    extra = "\n    punishable: true" if severity == "adverse" and rng.random() < 0.2 else ""
    return f"  - item: {item}{who}\n    severity: {severity}\n    points: {points}\n    note: {rng.choice(NOTES)}{extra}\n"


def generate(out: Path, records: int, staff: int, period_count: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    if out.exists():
        shutil.rmtree(out)
    (out / "content" / "records").mkdir(parents=True)
    shutil.copy(REPO / "rules.yaml", out / "rules.yaml")
    shutil.copytree(REPO / "layouts", out / "layouts")
    staff_ids = [f"S{n:05d}" for n in range(1, staff + 1)]
    people = ["staff:"] + [f"  - {{id: {s}, name: 员工{s[1:]}, post: reception, joined: 2020-01-01}}"
                           for s in staff_ids]
    people += ["inspectors:"] + [f"  - {{id: {i}, name: 检查人{i}, role: {role}, git_emails: [{i.lower()}@example.com]}}"
                                 for ids, role in ((SUP, "supervisor"), (QA, "qa"), (OFFICE, "office"))
                                 for i in ids]
    (out / "content" / "people.yaml").write_text("\n".join(people) + "\n", encoding="utf-8")
    months = periods(period_count)
    per_period = records // period_count
    written = 0
    appealable = []
    for p_index, (year, month) in enumerate(months):
        days = period_days(year, month)
        count = per_period if p_index < period_count - 1 else records - written
        # every staff member gets a supervisor and a qa sheet when records allow; the rest is the mix
        for n in range(count):
            kind_roll = n / count
            person = staff_ids[n % staff]
            if kind_roll < 0.35:
                check_type, inspector, checked = "supervisor_monthly", rng.choice(SUP), [person]
            elif kind_roll < 0.60:
                check_type, inspector = "qa_monthly", rng.choice(QA)
                checked = [staff_ids[(n + k) % staff] for k in range(3)]
            elif kind_roll < 0.70:
                check_type, inspector, checked = "office_spot", rng.choice(OFFICE), [person]
            elif kind_roll < 0.90:
                check_type, inspector, checked = rng.choice(["daily", "weekly"]), rng.choice(SUP + QA), [person]
            elif kind_roll < 0.95:
                check_type, inspector, checked = "internal_audit", rng.choice(QA), [person]
            else:
                check_type, inspector, checked = "management_review", rng.choice(OFFICE), [person]
            day = rng.choice(days)
            findings = "".join(finding(rng, s if len(checked) > 1 else None)
                               for s in checked for _ in range(rng.choice([0, 0, 1, 1, 2])))
            commend = f"commendations:\n  - {{staff: {checked[0]}, points: {rng.choice([2, 5, 10])}, reason: 业主表扬}}\n" \
                if rng.random() < 0.03 else ""
            rid = f"{day:%Y/%m}/{day.isoformat()}-{check_type}-{checked[0]}-{n:06d}"
            path = out / "content" / "records" / f"{rid}.md"
            path.parent.mkdir(parents=True, exist_ok=True)
            staff_yaml = checked[0] if len(checked) == 1 else "[" + ", ".join(checked) + "]"
            text = (f"---\ntype: {check_type}\ndate: {day.isoformat()}\ninspector: {inspector}\nstaff: {staff_yaml}\n"
                    + (f"findings:\n{findings}" if findings else "") + commend
                    + f"---\n{day.month}月{day.day}日对{'、'.join(checked)}进行检查。\n\n"
                    "检查了前台接待、登记簿和交接班记录，情况如下：\n\n- 接待用语规范\n- 记录基本完整\n")
            path.write_text(text, encoding="utf-8")
            if findings and rng.random() < 0.02:
                appealable.append((rid, day, inspector))
            written += 1
    (out / "content" / "appeals").mkdir()
    decisions = ["pending", "upheld", "overturned"]
    for n, (rid, day, inspector) in enumerate(appealable):
        decision = decisions[n % 3]
        judge = rng.choice([q for q in QA if q != inspector])
        decided = "" if decision == "pending" else \
            f"decided: {(day + timedelta(days=3)).isoformat()}\ndecided_by: {judge}\n"
        (out / "content" / "appeals" / f"a{n:06d}.md").write_text(
            f"---\nrecord: {rid}\nfinding: 1\nfiled: {(day + timedelta(days=1)).isoformat()}\ndecision: {decision}\n"
            f"{decided}---\n申诉理由。\n", encoding="utf-8")
    (out / "content" / "months").mkdir()
    for year, month in months[:-1]:  # every period but the last is signed off
        closed = date(year, month, 27)
        (out / "content" / "months" / f"{year:04d}-{month:02d}.md").write_text(
            f"---\nmonth: {year:04d}-{month:02d}\nclosed: {closed.isoformat()}\nclosed_by: I05\n---\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--staff", type=int, default=100)
    parser.add_argument("--periods", type=int, default=12)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    generate(args.out, args.records, args.staff, args.periods, args.seed)


if __name__ == "__main__":
    main()
