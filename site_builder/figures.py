"""The site's charts in one language: analytics numbers → labelled SVG (see charts.py)."""

from __future__ import annotations

from markupsafe import Markup

from site_builder import charts
from site_builder.analytics import PeriodSummary
from site_builder.report import shown


class Figures:
    def __init__(self, site, periods: dict, summaries: dict[str, PeriodSummary], t, label):
        self.site = site
        self.periods = periods
        self.summaries = summaries
        self.t = t
        self.label = label
        self.decimals = site.rules.decimals

    def _number(self, value) -> float:
        return float(shown(value, self.decimals))

    def histogram(self, key: str) -> Markup:
        summary = self.summaries[key]
        bars = [(label, count) for label, count in summary.histogram]
        desc = "; ".join(f"{label}: {count}" for label, count in bars)
        return charts.bar_chart(f"hist-{key}", self.t("chart_histogram", month=self.t.month(key)), desc, bars)

    def trend(self) -> Markup:
        keys = list(self.periods)
        means = [None if self.summaries[k].mean is None else self._number(self.summaries[k].mean) for k in keys]
        medians = [None if self.summaries[k].median is None else self._number(self.summaries[k].median)
                   for k in keys]
        y_min, y_max = _span([v for v in means + medians if v is not None])
        desc = "; ".join(f"{k}: {m if m is not None else '—'} / {d if d is not None else '—'}"
                         for k, m, d in zip(keys, means, medians))
        return charts.line_chart("trend", self.t("chart_trend"), desc, keys,
                                 [(self.t("mean"), means), (self.t("median"), medians)], y_min, y_max)

    def heatmap(self, key: str) -> Markup:
        summary = self.summaries[key]
        items = self.site.rules.item_keys
        rows = [(f"{sid} {self.site.staff[sid].name}", [float(summary.item_deductions.get(sid, {}).get(i, 0))
                                                         for i in items])
                for sid in self.periods[key].staff]
        desc = "; ".join(f"{label}: " + ", ".join(f"{i} {v:g}" for i, v in zip(items, values) if v)
                         for label, values in rows if any(values)) or self.t("no_findings")
        return charts.heatmap(f"heat-{key}", self.t("chart_heatmap", month=self.t.month(key)), desc, rows, items)

    def staff_trend(self, staff_id: str, staff_periods: list) -> Markup:
        keys = [sp.period.key for sp in staff_periods]
        totals = [None if sp.total is None else self._number(sp.total) for sp in staff_periods]
        y_min, y_max = _span([v for v in totals if v is not None])
        desc = "; ".join(f"{k}: {v if v is not None else '—'}" for k, v in zip(keys, totals))
        name = self.site.staff[staff_id].name
        return charts.line_chart(f"trend-{staff_id}", self.t("chart_staff_trend", name=name), desc, keys,
                                 [(self.t("total"), totals)], y_min, y_max)


def _span(values: list[float]) -> tuple[float, float]:
    """The scale of a chart of totals: from a little below the lowest to 100, or higher when a total is (a
    `total_cap` above 100), in steps of five."""
    low, high = min(values + [100.0]), max(values + [100.0])
    return max(0.0, (int(low) // 5) * 5 - 5), float(-(-high // 5) * 5)
