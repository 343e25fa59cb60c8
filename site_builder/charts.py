"""Charts as SVG text, drawn at build time: visible without JavaScript, in print, and to screen readers.

Every chart has a <title> and <desc>; pages put the same numbers in a table beside it. All text is
escaped here, since the SVG is inserted into pages as markup.
"""

from __future__ import annotations

import functools
import unicodedata
from html import escape

from markupsafe import Markup

WIDTH, HEIGHT = 640, 260
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 44, 16, 16, 40
PALETTE = ("#0b5cab", "#c2410c", "#15803d", "#7e22ce")


def _n(value: float) -> str:
    return f"{value:.1f}"


def _svg(chart_id: str, title: str, desc: str, body: list[str], width: int = WIDTH, height: int = HEIGHT) -> Markup:
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
            f'width="{width}" height="{height}" role="img" aria-labelledby="{chart_id}-t {chart_id}-d">'
            f'<title id="{chart_id}-t">{escape(title)}</title><desc id="{chart_id}-d">{escape(desc)}</desc>')
    return Markup(head + "".join(body) + "</svg>")


def _axis(y_max: float, y_steps: int, plot_h: float) -> list[str]:
    out = []
    for k in range(y_steps + 1):
        value = y_max * k / y_steps
        y = PAD_TOP + plot_h - plot_h * k / y_steps
        out.append(f'<line x1="{PAD_LEFT}" y1="{_n(y)}" x2="{WIDTH - PAD_RIGHT}" y2="{_n(y)}" class="grid"/>')
        out.append(f'<text x="{PAD_LEFT - 6}" y="{_n(y + 4)}" text-anchor="end" class="tick">{escape(f"{value:g}")}</text>')
    return out


def bar_chart(chart_id: str, title: str, desc: str, bars: list[tuple[str, float]]) -> Markup:
    """Vertical bars, one per (label, value)."""
    plot_w, plot_h = WIDTH - PAD_LEFT - PAD_RIGHT, HEIGHT - PAD_TOP - PAD_BOTTOM
    top = max([v for _, v in bars] + [1])
    steps = int(min(top, 5)) or 1
    top = steps * -(-top // steps)  # a whole number of steps
    body = _axis(top, steps, plot_h)
    slot = plot_w / max(len(bars), 1)
    for i, (label, value) in enumerate(bars):
        h = plot_h * value / top
        x = PAD_LEFT + i * slot + slot * 0.15
        y = PAD_TOP + plot_h - h
        body.append(f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(slot * 0.7)}" height="{_n(h)}" fill="{PALETTE[0]}">'
                    f'<title>{escape(label)}: {escape(f"{value:g}")}</title></rect>')
        if value:
            body.append(f'<text x="{_n(x + slot * 0.35)}" y="{_n(y - 4)}" text-anchor="middle" class="value">'
                        f'{escape(f"{value:g}")}</text>')
        body.append(f'<text x="{_n(x + slot * 0.35)}" y="{HEIGHT - PAD_BOTTOM + 16}" text-anchor="middle" '
                    f'class="label">{escape(label)}</text>')
    return _svg(chart_id, title, desc, body)


def line_chart(chart_id: str, title: str, desc: str, labels: list[str],
               series: list[tuple[str, list[float | None]]], y_min: float, y_max: float) -> Markup:
    """Lines over the x labels; None leaves a gap. A legend names each series."""
    plot_w, plot_h = WIDTH - PAD_LEFT - PAD_RIGHT, HEIGHT - PAD_TOP - PAD_BOTTOM
    span = (y_max - y_min) or 1
    body = []
    for k in range(5):
        value = y_min + span * k / 4
        y = PAD_TOP + plot_h - plot_h * k / 4
        body.append(f'<line x1="{PAD_LEFT}" y1="{_n(y)}" x2="{WIDTH - PAD_RIGHT}" y2="{_n(y)}" class="grid"/>')
        body.append(f'<text x="{PAD_LEFT - 6}" y="{_n(y + 4)}" text-anchor="end" class="tick">{escape(f"{value:g}")}</text>')

    inset = 24  # keeps the first and last labels inside the picture
    step = (plot_w - 2 * inset) / max(len(labels) - 1, 1)

    def x_of(i: int) -> float:
        return PAD_LEFT + inset + (i * step if len(labels) > 1 else plot_w / 2 - inset)

    for i, label in enumerate(labels):
        body.append(f'<text x="{_n(x_of(i))}" y="{HEIGHT - PAD_BOTTOM + 16}" text-anchor="middle" class="label">'
                    f'{escape(label)}</text>')
    for n, (name, values) in enumerate(series):
        color = PALETTE[n % len(PALETTE)]
        points = [(x_of(i), PAD_TOP + plot_h - plot_h * (v - y_min) / span, v) for i, v in enumerate(values)
                  if v is not None]
        for run in _runs(values):  # a period without a value breaks the line: nothing is drawn across it
            if len(run) > 1:
                path = " ".join(f"{_n(x_of(i))},{_n(PAD_TOP + plot_h - plot_h * (values[i] - y_min) / span)}"
                                for i in run)
                body.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"/>')
        for x, y, v in points:
            body.append(f'<circle cx="{_n(x)}" cy="{_n(y)}" r="3.5" fill="{color}"><title>{escape(name)}: '
                        f'{escape(f"{v:g}")}</title></circle>')
        body.append(f'<rect x="{PAD_LEFT + n * 150}" y="{HEIGHT - 14}" width="10" height="10" fill="{color}"/>'
                    f'<text x="{PAD_LEFT + n * 150 + 14}" y="{HEIGHT - 5}" class="legend">{escape(name)}</text>')
    return _svg(chart_id, title, desc, body)


def _runs(values: list) -> list[list[int]]:
    """The positions of each unbroken run of values that are not None."""
    runs: list[list[int]] = [[]]
    for i, value in enumerate(values):
        if value is None:
            runs.append([])
        else:
            runs[-1].append(i)
    return [run for run in runs if run]


_NARROWEST = 6.5  # px: the least any character is taken to take


def _char_width(ch: str) -> float:
    """Roughly how wide a character is drawn at the charts' 11px: wide (Chinese) characters take a full em."""
    return 11.0 if unicodedata.east_asian_width(ch) in "WF" else _NARROWEST


def _text_width(text: str) -> float:
    return sum(map(_char_width, text))


def _fitted(text: str, room: float) -> str:
    """The label cut short with … when it would not fit in `room` pixels (its start, the id, is kept). Only
    as many characters are looked at as could fit: a name may be thousands of characters long."""
    head = text[:int(room // _NARROWEST) + 2]  # (more than this cannot fit, even all narrow)
    if len(head) == len(text) and _text_width(text) <= room:
        return text
    room -= _char_width("…")
    width, kept = 0.0, 0
    for ch in head:
        width += _char_width(ch)
        if width > room:
            break
        kept += 1
    return head[:kept] + "…"


def _luminance(rgb: tuple[float, float, float]) -> float:
    def linear(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (linear(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


HEAT_RGB, INK_RGB = (179, 38, 30), (29, 39, 51)
MIN_CONTRAST = 4.5  # WCAG AA for small text


@functools.lru_cache(maxsize=4096)  # (a heatmap of a thousand staff has a few dozen values)
def _heat(shade: float) -> tuple[str, str]:
    """A cell's fill and the colour of the number written on it, readable (4.5:1) either way: a fill between
    what white and dark ink can each be read on is darkened until white text can."""
    ink_l = _luminance(INK_RGB)
    alpha = round(0.08 + 0.82 * shade, 2)  # (as written into the page: the contrast is that of what is drawn)
    while True:
        mixed = tuple(255 + alpha * (c - 255) for c in HEAT_RGB)
        fill_l = _luminance(mixed)
        if (fill_l + 0.05) / (ink_l + 0.05) >= MIN_CONTRAST:
            return f"rgba(179,38,30,{alpha:.2f})", "#1d2733"
        if 1.05 / (fill_l + 0.05) >= MIN_CONTRAST or alpha >= 1:
            return f"rgba(179,38,30,{alpha:.2f})", "#fff"
        alpha = round(alpha + 0.01, 2)


def heatmap(chart_id: str, title: str, desc: str, rows: list[tuple[str, list[float]]],
            columns: list[str]) -> Markup:
    """A grid of cells shaded by value (darker = more points deducted), with the value written in. Row labels
    get the room the longest needs, up to a limit past which they are cut short (each cell's tooltip has it
    whole)."""
    cell_w, cell_h, top = 44, 24, 24
    left = int(min(max([96.0] + [_text_width(label) + 12 for label, _ in rows]), 260))
    width = left + cell_w * len(columns) + 8
    height = top + cell_h * len(rows) + 8
    peak = max([v for _, values in rows for v in values] + [1])
    body = []
    for j, column in enumerate(columns):
        body.append(f'<text x="{left + j * cell_w + cell_w / 2:.1f}" y="16" text-anchor="middle" class="label">'
                    f'{escape(column)}</text>')
    for i, (label, values) in enumerate(rows):
        y = top + i * cell_h
        body.append(f'<text x="{left - 6}" y="{y + 16}" text-anchor="end" class="label">'
                    f'{escape(_fitted(label, left - 10))}</text>')
        for j, value in enumerate(values):
            fill, ink = _heat(value / peak) if value else ("#f3f5f7", "#1d2733")
            x = left + j * cell_w
            body.append(f'<rect x="{x}" y="{y}" width="{cell_w - 2}" height="{cell_h - 2}" fill="{fill}">'
                        f'<title>{escape(label)} · {escape(columns[j])}: {escape(f"{value:g}")}</title></rect>')
            if value:  # (hovering the number shows the cell's tooltip)
                body.append(f'<text x="{x + cell_w / 2 - 1:.1f}" y="{y + 16}" text-anchor="middle" class="value" '
                            f'fill="{ink}" pointer-events="none">{escape(f"{value:g}")}</text>')
    return _svg(chart_id, title, desc, body, width, height)
