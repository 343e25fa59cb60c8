"""Scores as data a program reads (JSON, CSV) and as a table a person reads in a terminal."""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from decimal import Decimal, localcontext
from fractions import Fraction

from site_builder.model import DECISIONS, Site
from site_builder.rules import EXACT, pick
from site_builder.score import PeriodScores, StaffPeriod, round_half_up

SCHEMA = 1


def shown(value: Fraction | Decimal, decimals: int) -> Decimal:
    """A score as reported: rounded half up to the rules' decimals."""
    return round_half_up(value, decimals)


def points(value: Decimal | Fraction, decimals: int) -> Decimal:
    """Points as written (a finding's, a band's, commendations) and sums of them: every decimal they have (0.75
    with a step of 0.25), and at least the rules' decimals; never rounded as scores are."""
    with localcontext(EXACT):  # (normalize() rounds to 28 digits in the default context)
        places = -value.normalize().as_tuple().exponent if isinstance(value, Decimal) else 0
        return shown(value, max(decimals, places))


def json_number(value: Fraction | Decimal | None, decimals: int):
    """A reported score as a JSON number: 95 stays an integer, 93.5 a one-decimal number."""
    if value is None:
        return None
    return _json(shown(value, decimals))


def _json(rounded: Decimal):
    return int(rounded) if rounded == rounded.to_integral_value() else float(rounded)


def staff_period_json(sp: StaffPeriod, decimals: int) -> dict:
    return {
        "total": json_number(sp.total, decimals),
        "base": json_number(sp.base, decimals),
        "bonus": _json(points(sp.bonus, decimals)),  # (points as recorded, as the pages show them)
        "sheets": {
            key: {"score": json_number(sheet.score, decimals),
                  "items": {i.item: json_number(i.score, decimals) for i in sheet.items}}
            for key, sheet in sp.sheets.items()
        },
        "flags": list(sp.flags),
    }


def month_json(site: Site, p: PeriodScores) -> dict:
    """One period's member of the `months` object of data/scores.json."""
    decimals = site.rules.decimals
    return {
        "period": {"start": p.period.start.isoformat(), "end": p.period.end.isoformat()},
        "status": p.status,
        "staff": {sid: staff_period_json(sp, decimals) for sid, sp in p.staff.items()},
    }


def months_json(site: Site, periods: dict[str, PeriodScores]) -> dict:
    """The `months` object of data/scores.json."""
    return {key: month_json(site, p) for key, p in periods.items()}


class Laid(str):
    """JSON text already laid out by `to_json` at the place it goes (e.g. kept from an earlier build)."""


MONTH_EXPAND, MONTH_INDENT = 1, "    "  # how `to_json(scores_json(...), 3)` lays out each month


def scores_json(site: Site, periods: dict[str, PeriodScores], month=None) -> dict:
    """data/scores.json as the SPEC defines it. `month(key, p)` may give a month's member as `Laid` text
    (`to_json(month_json(site, p), MONTH_EXPAND, MONTH_INDENT)`) instead of a value."""
    month = month or (lambda key, p: month_json(site, p))
    return {
        "schema": SCHEMA,
        "rules": {"document": site.rules.document_code, "version": site.rules.version},
        "months": {key: month(key, p) for key, p in periods.items()},
    }


def to_json(value, expand: int, indent: str = "") -> str:
    """JSON with the outer `expand` levels one member per line and anything deeper written on that line:
    readable and diffable, and fast (deeper levels go through json's C encoder)."""
    if isinstance(value, Laid):
        return value
    inner = indent + "  "
    if expand and isinstance(value, dict) and value:
        members = (f"{inner}{json.dumps(k, ensure_ascii=False)}: {to_json(v, expand - 1, inner)}"
                   for k, v in value.items())
        return "{\n" + ",\n".join(members) + f"\n{indent}}}"
    if expand and isinstance(value, list) and value:
        return "[\n" + ",\n".join(inner + to_json(v, expand - 1, inner) for v in value) + f"\n{indent}]"
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def _text(value, decimals: int) -> str:
    return "" if value is None else str(shown(value, decimals))


def scores_header(site: Site) -> list[str]:
    return ["month", "status", "staff", "name", *(ct.key for ct in site.rules.scored_types), "base", "bonus",
            "total", "flags"]


def score_row(site: Site, p: PeriodScores, sp: StaffPeriod) -> list[str]:
    """One row of data/scores.csv: a staff member in a period."""
    decimals = site.rules.decimals
    sheets = [_text(sp.sheets[ct.key].score, decimals) if ct.key in sp.sheets else ""
              for ct in site.rules.scored_types]
    return [p.period.key, p.status, sp.staff, site.staff[sp.staff].name, *sheets, _text(sp.base, decimals),
            str(points(sp.bonus, decimals)), _text(sp.total, decimals), ";".join(sp.flags)]


def scores_rows(site: Site, periods: dict[str, PeriodScores]) -> list[list[str]]:
    """data/scores.csv: a header, then one row per staff member and period."""
    return [scores_header(site)] + [score_row(site, p, sp) for p in periods.values() for sp in p.staff.values()]


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


_ANY_FORMULA = re.compile("(?:^|\x00|;)[" + re.escape("".join(_FORMULA_START)) + "]")
# where `;` separates cells (spreadsheets in locales writing 2,5 for 2.5 open a .csv that way), a cell also
# starts after each `;`
_AFTER_SEMICOLON = re.compile(";(?=[" + re.escape("".join(_FORMULA_START)) + "])")


def _inert(row: list) -> list[str]:
    """Cells a spreadsheet will show as text, never run as a formula (notes come from many hands), whether it
    splits the row at commas or at semicolons."""
    cells = list(map(str, row))
    if _ANY_FORMULA.search("\x00".join(cells)) is None:  # the usual case, checked in one pass
        return cells
    return [_AFTER_SEMICOLON.sub(";'", "'" + cell if cell.startswith(_FORMULA_START) else cell) for cell in cells]


def to_csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(map(_inert, rows))
    return out.getvalue()


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool) -> str:
    space = " " * (width - _width(text))
    return space + text if right else text + space


def scores_table(site: Site, periods: dict[str, PeriodScores], t) -> str:
    """One aligned table per period, for a terminal, in the site's default language (`t`: its UI strings, an
    i18n.Catalog, as the pages have them)."""
    rules = site.rules
    types = rules.scored_types
    blocks = []
    for key, p in periods.items():
        title = f"{key}  ({p.period.start} – {p.period.end})  {t('status_' + p.status)}"
        head = [t("staff_id"), t("name"), *(pick(ct.label, rules.language, rules.language) for ct in types),
                t("base"), t("bonus"), t("total"), t("flags")]
        rows = [head]
        for sid, sp in p.staff.items():
            rows.append([sid, site.staff[sid].name,
                         *(_text(sp.sheets[ct.key].score, rules.decimals) if ct.key in sp.sheets else "—"
                           for ct in types),
                         _text(sp.base, rules.decimals) or "—", str(points(sp.bonus, rules.decimals)),
                         _text(sp.total, rules.decimals) or "—", " ".join(sp.flags)])
        widths = [max(_width(row[i]) for row in rows) for i in range(len(head))]
        numeric = {i for i in range(2, len(head) - 1)}
        lines = [title, ""]
        for n, row in enumerate(rows):
            cells = [_pad(cell, widths[i], i in numeric and n > 0) for i, cell in enumerate(row)]
            lines.append("  ".join(cells).rstrip())
            if n == 0:
                lines.append("  ".join("-" * w for w in widths))
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + ("\n" if blocks else "")


FINDINGS_HEADER = ["month", "record", "finding", "date", "check_type", "sheet", "inspector", "staff", "name",
                   "item", "severity", "points", "counted_points", "status", "punishable", "required_rate",
                   "actual_rate", "procedure", "note"]


def findings_rows(site: Site, deductions) -> list[list[str]]:
    """Rows of data/findings.csv (no header) for these deductions, in the order given (the file's order is
    by record date, record id, then the finding's place in the record)."""
    from site_builder.periods import period_of

    rules = site.rules
    rows = []
    for d in deductions:
        r, f = d.record, d.finding
        rows.append([period_of(r.date, rules.cutoff_day).key, r.id, f.id, r.date.isoformat(), r.type,
                     rules.check_types[r.type].sheet, r.inspector, f.staff, site.staff[f.staff].name, f.item,
                     f.severity, str(f.points), str(d.points), d.status, "true" if f.punishable else "false",
                     "" if f.required_rate is None else str(f.required_rate),
                     "" if f.actual_rate is None else str(f.actual_rate), f.procedure, f.note])
    return rows


def calibration_rows(site: Site, calibration: list) -> list[list[str]]:
    """data/calibration.csv: one row per inspector, check type and scope (a period, or all)."""
    decimals = 2

    def ratio(value) -> str:
        return "" if value is None else str(shown(value, decimals))

    rows = [["scope", "inspector", "name", "check_type", "checks", "staff_covered", "findings",
             "findings_per_check", "points_per_finding", "top_of_band_share", "appealed", "overturned",
             "reduced", "repeat_checks", "peer_findings_per_check", "peer_points_per_finding", "too_few",
             "marks"]]
    for c in calibration:
        rows.append([c.scope, c.inspector, site.inspectors[c.inspector].name, c.check_type, str(c.checks),
                     str(c.staff_covered), str(c.findings), ratio(c.findings_per_check),
                     ratio(c.points_per_finding), ratio(c.top_share), str(c.appealed), str(c.overturned),
                     str(c.reduced), str(c.repeat_checks), ratio(c.peer_findings_per_check),
                     ratio(c.peer_points_per_finding), "true" if c.too_few else "false", ";".join(c.marks)])
    return rows


def calibration_json(site: Site, calibration: list) -> list[dict]:
    header, *rows = calibration_rows(site, calibration)
    out = []
    for row in rows:
        entry = dict(zip(header, row))
        for key in ("checks", "staff_covered", "findings", "appealed", "overturned", "reduced", "repeat_checks"):
            entry[key] = int(entry[key])
        for key in ("findings_per_check", "points_per_finding", "top_of_band_share", "peer_findings_per_check",
                    "peer_points_per_finding"):
            entry[key] = float(entry[key]) if entry[key] else None
        entry["too_few"] = entry["too_few"] == "true"
        entry["marks"] = entry["marks"].split(";") if entry["marks"] else []
        out.append(entry)
    return out


def trend_rows(site: Site, periods: dict, summaries: dict) -> list[list[str]]:
    """data/trend.csv: the center per period — the summary's small tables (severities, commendations,
    appeals, compliance) as columns."""
    decimals = site.rules.decimals
    severities = list(site.rules.severities)
    rows = [["month", "status", "scored", "unscored", "mean", "median", "findings",
             *(f"severity_{s}" for s in severities), "commendations", "commendation_points",
             *(f"appeals_{d}" for d in DECISIONS), "missing_checks", "flagged"]]
    for key, p in periods.items():
        s = summaries[key]
        rows.append([key, p.status, str(s.scored), str(s.unscored),
                     "" if s.mean is None else str(shown(s.mean, decimals)),
                     "" if s.median is None else str(shown(s.median, decimals)),
                     str(sum(s.by_severity.values())), *(str(s.by_severity.get(v, 0)) for v in severities),
                     str(s.commendations), str(points(s.commendation_points, decimals)),
                     *(str(s.appeals.get(d, 0)) for d in DECISIONS),
                     ";".join(f"{sid}:{ct}" for sid, ct in s.missing_checks),
                     ";".join(f"{flag}:{sid}" for flag, ids in s.flagged.items() for sid in ids)])
    return rows


def inspector_rows(records: list) -> list[list[str]]:
    """data/inspectors/ID.csv: the checks an inspector recorded (`records`)."""
    rows = [["date", "record", "check_type", "staff", "findings", "commendations"]]
    for r in records:
        rows.append([r.date.isoformat(), r.id, r.type, ";".join(r.staff), str(len(r.findings)),
                     str(len(r.commendations))])
    return rows


def appeals_rows(site: Site, deductions: dict) -> list[list[str]]:
    """data/appeals.csv: one row per appeal, with the finding it is against and the decision."""
    rows = [["record", "finding", "staff", "name", "item", "points", "filed", "decision", "new_points", "decided",
             "decided_by", "status"]]
    for d in sorted((d for d in deductions.values() if d.appeal), key=lambda d: (d.appeal.filed, d.record.id)):
        a = d.appeal
        rows.append([d.record.id, d.finding.id, d.finding.staff, site.staff[d.finding.staff].name, d.finding.item,
                     str(d.finding.points), a.filed.isoformat(), a.decision, "" if a.points is None else str(a.points),
                     a.decided.isoformat() if a.decided else "", a.decided_by or "", d.status])
    return rows


def item_rows(site: Site, summary) -> list[list[str]]:
    """data/periods/YYYY-MM-items.csv: points deducted per staff member and item (the heatmap's numbers)."""
    items, decimals = site.rules.item_keys, site.rules.decimals  # the columns of the heatmap, in its order
    rows = [["staff", "name", *items]]
    for sid, per_item in sorted(summary.item_deductions.items()):
        rows.append([sid, site.staff[sid].name, *(str(points(per_item[i], decimals)) if i in per_item else ""
                                                    for i in items)])
    return rows
