"""The one run-chart renderer: an XmR run chart, small multiples of run charts and annual bars (DEFRA
fly-tipping) for the slides, the Meeting page and the meeting pack.

A chart is drawn once as a list of shapes in output units (a :class:`dashboard.render.staticmap.Drawn`,
the static maps' shapes and writers), then written as SVG (:meth:`~dashboard.render.staticmap.Drawn.svg`:
slides, pages, the pack's HTML) or as a reportlab drawing (:meth:`~dashboard.render.staticmap.Drawn.pdf`:
vector in the pack's PDF, its text extractable). Drawn for reading at a distance: few, large labels,
every text measured in Helvetica's metrics (as the static maps') so that no label is cut at the edge
(a year drawn as "20") and no two labels overlap: year labels are thinned to every 2nd, 3rd, ... year
until they fit, the limits' labels are moved apart, a long title is shortened with "…". Colours as NHS
"Making Data Count": special cause concerning orange, improving blue, common cause grey; a special-cause
point is also larger and a diamond, and the icon carries a letter and words, so colour is never the
only cue. Every text is escaped by the writers.
"""

from __future__ import annotations

import html
import math

import numpy as np

from dashboard.render.staticmap import Drawn, _helvetica, _text
from geodata.methods import runchart

CONCERNING, IMPROVING, COMMON = "#c05600", "#0060a8", "#595959"
#: The variation icon of a run chart: (colour, letter, words, short words).
ICONS = {
    runchart.CONCERNING: (CONCERNING, "H", "Special cause: concerning", "concerning"),
    runchart.IMPROVING: (IMPROVING, "L", "Special cause: improving", "improving"),
    runchart.NEITHER: ("#6a3d9a", "!", "Special cause", "special cause"),
    runchart.COMMON: (COMMON, "&#8776;", "Common cause variation", "common"),
}
#: The class of a chart's SVG (a map's is "static-map").
SVG_CLASS = "run-chart"


def _esc(text) -> str:
    return html.escape(str(text))


def icon(name: str, size: float = 1.0, short: bool = False) -> str:
    """The variation icon (a disc with a letter, an HTML entity for "≈" so Markdown leaves it be) and its words."""
    colour, letter, words, brief = ICONS[name]
    words = brief if short else words
    return (
        f'<span class="csp-icon" style="display:inline-flex;align-items:center;gap:0.3em;white-space:nowrap">'
        f'<svg viewBox="0 0 40 40" style="width:{1.4 * size}em;height:{1.4 * size}em" aria-hidden="true">'
        f'<circle cx="20" cy="20" r="18" fill="{colour}"/><text x="20" y="28" font-size="24" font-weight="700" '
        f'text-anchor="middle" fill="#fff">{letter}</text></svg><span>{_esc(words)}</span></span>'
    )


def _nice_max(v: float) -> float:
    if v <= 0:
        return 1.0
    step = 10 ** np.floor(np.log10(v))
    for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if m * step >= v:
            return m * step
    return 10 * step


def _label(d: Drawn, x, y, text, size, anchor="start", bold=False, colour="#222222", cls="", halo=False) -> None:
    """A text at baseline (x, y), its box (Helvetica's width, 0.8 em up and 0.25 em down) kept in ``d.boxes``."""
    w = _helvetica(text, size, bold)
    x0 = {"start": x, "middle": x - w / 2, "end": x - w}[anchor]
    d.shapes.append(_text(x, y, text, size, bold, False, colour, anchor, cls, halo))
    d.boxes.append((text, (x0, y - size * 0.8, x0 + w, y + size * 0.25)))


def _fit(text: str, size: float, room: float, bold: bool = False) -> str:
    """``text`` shortened with "…" to fit ``room`` units at ``size`` (whole when it fits)."""
    if _helvetica(text, size, bold) <= room:
        return text
    while text and _helvetica(text + "…", size, bold) > room:
        text = text[:-1]
    return text.rstrip() + "…"


def _dot(x: float, y: float, r: float, sides: int = 12) -> list[tuple[float, float]]:
    return [
        (x + r * math.cos(2 * math.pi * k / sides), y + r * math.sin(2 * math.pi * k / sides)) for k in range(sides)
    ]


def _panel(
    d: Drawn,
    chart: runchart.XmR,
    box: tuple[float, float, float, float],
    font: float,
    period_start: str | None,
    small: bool,
    heading: list[tuple[str, str, bool]],
) -> None:
    """The XmR chart drawn into ``box`` (x, y, width, height) of ``d`` (:func:`run_chart`), under the
    ``heading`` lines (text, colour, bold), each shortened to the box's width."""
    bx, by, bw, bh = box
    for k, (text, colour, bold) in enumerate(heading):
        _label(
            d, bx, by + font * (1.0 + 1.2 * k), _fit(text, font, bw, bold), font, bold=bold, colour=colour, cls="title"
        )
    used = font * (1.2 * len(heading) + 0.2) if heading else 0.0
    by, bh = by + used, bh - used
    values = chart.values
    n = len(values)
    loaded = values[~np.isnan(values)]
    ymax = _nice_max(max(chart.upper, float(loaded.max()) if loaded.size else 1.0))
    ticks = (0.0, ymax) if small else (0.0, ymax / 2, ymax)
    left = max(_helvetica(f"{v:,.0f}", font) for v in ticks) + font * 0.4
    limits = [
        (v, dash, name)
        for v, dash, name in (
            (chart.mean, None, "mean"),
            (chart.upper, "dash", "upper"),
            (chart.lower, "dash", "lower"),
        )
        if 0 <= v <= ymax
    ]
    lsize = font * 0.85
    right = font * 0.5 if small else max([_helvetica(f"{nm} {v:,.0f}", lsize) for v, _, nm in limits] + [0]) + font
    top, bottom = font * 0.6, font * 1.5
    x_left, w, h = bx + left, bw - left - right, bh - top - bottom
    y_top = by + top

    def x(i):
        return x_left + (i + 0.5) * w / n

    def y(v):
        return y_top + h - v / ymax * h

    d.shapes.append(("rect", x_left, y_top, w, h, "#ffffff", None))
    i = 0
    while i < n:  # the months not loaded, shaded
        if not np.isnan(values[i]):
            i += 1
            continue
        j = i
        while j < n and np.isnan(values[j]):
            j += 1
        x0, x1 = x_left + i * w / n, x_left + j * w / n
        d.shapes.append(("rect", x0, y_top, x1 - x0, h, "#e9e9e9", None))
        size = font * 0.7
        if _helvetica("not loaded", size) < x1 - x0 - size:
            _label(d, (x0 + x1) / 2, y_top + h - font * 0.4, "not loaded", size, "middle", colour="#333333", cls="gap")
        i = j
    if period_start in chart.months:
        p0 = x_left + chart.months.index(period_start) * w / n
        d.shapes.append(("rect", p0, y_top, x_left + w - p0, h, "#fff3c4", None))
    for v in ticks:  # y axis
        d.shapes.append(("line", [(x_left, y(v)), (x_left + w, y(v))], "#cccccc", max(0.5, font * 0.04), None, "grid"))
        _label(d, x_left - font * 0.3, y(v) + font * 0.35, f"{v:,.0f}", font, "end", cls="tick")
    # year labels may end a little past the plot, never under the limits' labels nor past the panel
    _years(d, chart.months, x_left, w, y_top + h + font * 1.1, font, x_left + w + (right if small else font * 0.3))
    stroke = max(0.6, font * 0.1)
    placed: list[float] = []  # the limits' labels, moved apart (a mean near a limit would print over it)
    for v, dash, name in sorted(limits, key=lambda t: -t[0]):
        pattern = (font * 0.4, font * 0.25) if dash else None
        d.shapes.append(("line", [(x_left, y(v)), (x_left + w, y(v))], "#222222", stroke, pattern, "limit"))
        if small:
            continue
        ly = y(v) + lsize * 0.3
        if placed and ly < placed[-1] + lsize * 1.1:
            ly = placed[-1] + lsize * 1.1
        placed.append(ly)
        _label(d, x_left + w + font * 0.3, ly, f"{name} {v:,.0f}", lsize, cls="limit")
    segs, cur = [], []
    for i, v in enumerate(values):  # the series, broken at gaps
        if np.isnan(v):
            if cur:
                segs.append(cur)
            cur = []
        else:
            cur.append((x(i), y(v)))
    segs.append(cur)
    d.shapes += [("line", s, COMMON, stroke * 1.2, None, "series") for s in segs if len(s) > 1]
    special = chart.special
    for i, v in enumerate(values):
        if np.isnan(v):
            continue
        if special[i]:
            colour = ICONS[chart.variation_at(i)][0]  # as the chart's icon says it (a trend: its direction)
            r, cx, cy = font * 0.45, x(i), y(v)
            tip = f"{chart.months[i]}: {v:,.0f} (special cause: {', '.join(chart.rules_at(chart.months[i]))})"
            ring = [(cx, cy - r), (cx + r, cy), (cx, cy + r), (cx - r, cy)]
            d.shapes.append(("poly", [ring], colour, "#000000", stroke * 0.6, None, tip, "special"))
        else:
            tip = f"{chart.months[i]}: {v:,.0f}"
            d.shapes.append(("poly", [_dot(x(i), y(v), font * 0.22)], COMMON, None, 0, None, tip, "point"))


def _years(d: Drawn, months, x_left: float, w: float, baseline: float, font: float, edge: float) -> None:
    """Year labels at Januaries: every ``step``-th year so that none overlaps the next, the last year
    always (moved left to end at ``edge`` rather than cut), then from the last backwards any label that
    would touch the next one left out; a series with no January is labelled with its first month."""
    n = len(months)
    ticks = [(k, m[:4]) for k, m in enumerate(months) if m.endswith("-01")] or [(0, months[0])]
    width = max(_helvetica(t, font) for _, t in ticks)
    gap = font * 0.8
    step = max(1, math.ceil((width + gap) / (12 * w / n)))  # 12 * w / n: units between two Januaries
    chosen = ticks[::step] + ([ticks[-1]] if (len(ticks) - 1) % step else [])
    kept: list[tuple[float, str]] = []
    for k, text in reversed(chosen):
        x0 = min(x_left + k * w / n, edge - _helvetica(text, font))
        if not kept or x0 + _helvetica(text, font) + gap <= kept[-1][0]:
            kept.append((x0, text))
    for x0, text in reversed(kept):
        _label(d, x0, baseline, text, font, cls="year")


def run_chart(
    chart: runchart.XmR,
    title: str,
    width: float = 1000,
    height: float = 420,
    font: float = 24,
    period_start: str | None = None,
    small: bool = False,
    heading: str = "",
) -> Drawn:
    """An XmR chart ``width`` x ``height`` units (defaults: the slide's, font 24): points joined month to
    month (a gap breaks the line and is shaded "not loaded"), the mean (solid) and process limits
    (dashed, labelled at the right), special-cause points as large diamonds coloured by the chart's
    direction, and the period (from ``period_start``) shaded. ``small``: a small multiple: no limit
    labels, the y axis at 0 and its top only. ``heading``: a line drawn above the chart (default none)."""
    d = Drawn(width, height, title=_aria(chart, title), kind=SVG_CLASS)
    lines = [(heading, "#111111", True)] if heading else []
    _panel(d, chart, (0.0, 0.0, width, height), font, period_start, small, lines)
    return d


def _aria(chart: runchart.XmR, title: str) -> str:
    return (
        f"{title}: run chart, monthly, mean {chart.mean:,.0f}, process limits {chart.lower:,.0f} to {chart.upper:,.0f}"
    )


def multiples(charts, period_start: str | None, width: float, height: float, font: float) -> Drawn:
    """Small multiples: ``charts`` (:class:`geodata.analysis.meeting.RunChart` s) side by side, each a
    small :func:`run_chart` under its label (bold) and its variation in words, in its own column."""
    gap = font * 1.5
    pw = (width - gap * (len(charts) - 1)) / len(charts)
    d = Drawn(width, height, title="Small multiples: " + "; ".join(c.label for c in charts), kind=SVG_CLASS)
    for k, c in enumerate(charts):
        colour, _, _, words = ICONS[c.icon]
        heading = [(c.label, "#111111", True), (words, colour, False)]
        _panel(d, c.chart, (k * (pw + gap), 0.0, pw, height), font, period_start, True, heading)
    return d


def annual_bars(
    years, values, title: str, width: float = 1000, height: float = 420, font: float = 24, heading: str = ""
) -> Drawn:
    """Annual figures as labelled bars, the latest darker (a year not published: no bar, labelled "not
    published"); years as "22-23" under the bars; ``heading``: a line above them (default none)."""
    d = Drawn(width, height, title=title, kind=SVG_CLASS)
    top = font * 0.3
    if heading:
        _label(d, 0, font * 1.05, _fit(heading, font, width, True), font, bold=True, colour="#111111", cls="title")
        top += font * 1.5
    known = [v for v in values if v is not None]
    ymax = _nice_max(max(known) if known else 1.0)
    n = len(years)
    size = min(font * 0.8, font * 0.8 * (width / n * 0.95) / max(_helvetica("88,888", font * 0.8), 1))
    top += size * 1.2
    bottom = size * 1.6
    h = height - top - bottom
    for i, (yr, v) in enumerate(zip(years, values)):
        slot = width / n
        x0, bw = i * slot + slot * 0.1, slot * 0.8
        cx = x0 + bw / 2
        _label(d, cx, top + h + size * 1.2, str(yr)[2:], size, "middle", cls="year")
        if v is None:
            small = size * 0.75
            words = ["not published"] if _helvetica("not published", small) < slot * 0.95 else ["not", "published"]
            for k, word in enumerate(words):
                _label(
                    d, cx, top + h - small * 0.4 - (len(words) - 1 - k) * small * 1.1, word, small, "middle", cls="gap"
                )
            continue
        bh = v / ymax * h
        fill = "#1f4e79" if i == n - 1 else "#7f9bbf"
        d.shapes.append(
            (
                "poly",
                [[(x0, top + h - bh), (x0 + bw, top + h - bh), (x0 + bw, top + h), (x0, top + h)]],
                fill,
                None,
                0,
                None,
                f"{yr}: {v:,.0f}",
                "bar",
            )
        )
        _label(d, cx, top + h - bh - size * 0.3, f"{v:,.0f}", size, "middle", cls="value")
    return d
