"""Charts for the meeting room as inline SVG (no JavaScript): an XmR run chart and annual bars.

Drawn for reading at a distance: few, large labels (sizes in SVG units: the SVG scales to its box
with ``preserveAspectRatio``). Colours as NHS "Making Data Count": special cause concerning orange,
improving blue, common cause grey; a special-cause point is also larger and a diamond, and the icon
carries a letter and words, so colour is never the only cue. Every text is escaped.
"""

from __future__ import annotations

import html

import numpy as np

from geodata.methods import runchart

CONCERNING, IMPROVING, COMMON = "#c05600", "#0060a8", "#595959"
#: The variation icon of a run chart: (colour, letter, words).
ICONS = {
    runchart.CONCERNING: (CONCERNING, "H", "Special cause: concerning", "concerning"),
    runchart.IMPROVING: (IMPROVING, "L", "Special cause: improving", "improving"),
    runchart.NEITHER: ("#6a3d9a", "!", "Special cause", "special cause"),
    runchart.COMMON: (COMMON, "&#8776;", "Common cause variation", "common"),
}


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


def run_chart(
    chart: runchart.XmR,
    title: str,
    width: int = 1000,
    height: int = 420,
    font: int = 24,
    period_start: str | None = None,
    small: bool = False,
) -> str:
    """An XmR chart as SVG: points joined month to month (a gap breaks the line and is shaded
    "not loaded"), the mean (solid) and process limits (dashed, labelled), special-cause points
    as large diamonds coloured by the chart's direction, and the period (from ``period_start``) shaded.
    ``small``: a small multiple: no limit labels, the y axis at 0 and its top only."""
    values = chart.values
    n = len(values)
    left, right, top, bottom = font * 3.2, (font * 0.5 if small else font * 4.2), font * 0.6, font * 1.6
    w, h = width - left - right, height - top - bottom
    loaded = values[~np.isnan(values)]
    ymax = _nice_max(max(chart.upper, float(loaded.max()) if loaded.size else 1.0))
    ymin = 0.0

    def x(i):
        return left + (i + 0.5) * w / n

    def y(v):
        return top + h - (v - ymin) / (ymax - ymin) * h

    out = [f'<rect x="{left}" y="{top}" width="{w}" height="{h}" fill="#fff"/>']
    # gaps (not loaded) and the period
    i = 0
    while i < n:
        if np.isnan(values[i]):
            j = i
            while j < n and np.isnan(values[j]):
                j += 1
            x0, x1 = left + i * w / n, left + j * w / n
            out.append(f'<rect x="{x0:.1f}" y="{top}" width="{x1 - x0:.1f}" height="{h}" fill="#e9e9e9"/>')
            if x1 - x0 > font * 3.2:
                out.append(
                    f'<text x="{(x0 + x1) / 2:.1f}" y="{top + h - font * 0.4:.1f}" font-size="{font * 0.7:.0f}"'
                    f' text-anchor="middle" fill="#333">not loaded</text>'
                )
            i = j
        else:
            i += 1
    if period_start in chart.months:
        p0 = left + chart.months.index(period_start) * w / n
        out.append(f'<rect x="{p0:.1f}" y="{top}" width="{left + w - p0:.1f}" height="{h}" fill="#fff3c4"/>')
    # axes: y ticks at 0, ymax/2, ymax; x labels at each January
    for v in (0, ymax) if small else (0, ymax / 2, ymax):
        out.append(
            f'<line x1="{left}" x2="{left + w}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#ccc"/>'
            f'<text x="{left - font * 0.3:.1f}" y="{y(v) + font * 0.35:.1f}" font-size="{font}" '
            f'text-anchor="end" fill="#222">{v:,.0f}</text>'
        )
    years = [(k, m[:4]) for k, m in enumerate(chart.months) if m.endswith("-01")]
    step = max(1, int(np.ceil(len(years) * font * 2.8 / w)))
    for k, yr in years[::step]:
        out.append(
            f'<text x="{left + k * w / n:.1f}" y="{top + h + font * 1.1:.1f}" font-size="{font}" '
            f'fill="#222">{yr}</text>'
        )
    # mean and limits
    for v, dash, name in (
        (chart.mean, "", "mean"),
        (chart.upper, "10 6", "upper limit"),
        (chart.lower, "10 6", "lower limit"),
    ):
        if ymin <= v <= ymax:
            out.append(
                f'<line x1="{left}" x2="{left + w}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#222" '
                f'stroke-width="2.5" stroke-dasharray="{dash}"/>'
                + (
                    ""
                    if small
                    else f'<text x="{left + w + 6}" y="{y(v) + font * 0.35:.1f}" '
                    f'font-size="{font * 0.8:.0f}" fill="#222">{name.split()[0]} {v:,.0f}</text>'
                )
            )
    # the series, broken at gaps
    segs, cur = [], []
    for i, v in enumerate(values):
        if np.isnan(v):
            if cur:
                segs.append(cur)
            cur = []
        else:
            cur.append(f"{x(i):.1f},{y(v):.1f}")
    if cur:
        segs.append(cur)
    out += [f'<polyline points="{" ".join(s)}" fill="none" stroke="{COMMON}" stroke-width="3"/>' for s in segs]
    special = chart.special
    high_is_bad = chart.lower_is_better
    for i, v in enumerate(values):
        if np.isnan(v):
            continue
        if special[i]:
            colour = (
                ICONS[runchart.NEITHER][0]
                if high_is_bad is None
                else (CONCERNING if (v > chart.mean) == bool(high_is_bad) else IMPROVING)
            )
            r = font * 0.45
            out.append(
                f'<path d="M{x(i):.1f},{y(v) - r:.1f}L{x(i) + r:.1f},{y(v):.1f}L{x(i):.1f},{y(v) + r:.1f}'
                f'L{x(i) - r:.1f},{y(v):.1f}Z" fill="{colour}" stroke="#000" stroke-width="1.5">'
                f"<title>{_esc(chart.months[i])}: {v:,.0f} (special cause: "
                f"{_esc(', '.join(chart.rules_at(chart.months[i])))})</title></path>"
            )
        else:
            out.append(
                f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="{font * 0.22:.1f}" fill="{COMMON}">'
                f"<title>{_esc(chart.months[i])}: {v:,.0f}</title></circle>"
            )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height}" '
        f'preserveAspectRatio="xMidYMid meet" aria-label="{_esc(title)}: run chart, monthly, mean '
        f'{chart.mean:,.0f}, process limits {chart.lower:,.0f} to {chart.upper:,.0f}" '
        f'font-family="sans-serif">{"".join(out)}</svg>'
    )


def annual_bars(years, values, title: str, width: int = 1000, height: int = 420, font: int = 24) -> str:
    """Annual figures as labelled bars (a year not published: no bar, labelled "not published")."""
    known = [v for v in values if v is not None]
    ymax = _nice_max(max(known) if known else 1.0)
    left, top, bottom = font * 0.5, font * 1.4, font * 1.6
    w, h = width - 2 * left, height - top - bottom
    n = len(years)
    out = []
    for i, (yr, v) in enumerate(zip(years, values)):
        x0, bw = left + i * w / n + w / n * 0.1, w / n * 0.8
        out.append(
            f'<text x="{x0 + bw / 2:.1f}" y="{top + h + font * 1.1:.1f}" font-size="{font * 0.8:.0f}" '
            f'text-anchor="middle" fill="#222">{_esc(yr[2:])}</text>'
        )
        if v is None:
            out.append(
                f'<text x="{x0 + bw / 2:.1f}" y="{top + h - 4}" font-size="{font * 0.6:.0f}" '
                f'text-anchor="middle" fill="#333">not published</text>'
            )
            continue
        bh = v / ymax * h
        fill = "#1f4e79" if i == n - 1 else "#7f9bbf"
        out.append(
            f'<rect x="{x0:.1f}" y="{top + h - bh:.1f}" width="{bw:.1f}" height="{bh:.1f}" fill="{fill}">'
            f"<title>{_esc(yr)}: {v:,.0f}</title></rect>"
            f'<text x="{x0 + bw / 2:.1f}" y="{top + h - bh - font * 0.25:.1f}" font-size="{font * 0.8:.0f}" '
            f'text-anchor="middle" fill="#222">{v:,.0f}</text>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height}" '
        f'preserveAspectRatio="xMidYMid meet" aria-label="{_esc(title)}" font-family="sans-serif">'
        f"{''.join(out)}</svg>"
    )
