"""The meeting pack: a PDF (or printable HTML) of the meeting's slides for one period.

The same design as the Meeting page (:mod:`geodata.analysis.meeting`): page 1 the overview (every
priority: status with symbol and word, the latest number, its change, the run chart's variation)
and the priorities not measured yet; then one page per measured priority (status sentence once,
headline number and change, the XmR run chart with its baseline stated, small multiples per crime
type, outcome shares, a static ward map with the Gi* hot spots of a police.uk measure and the top
wards, what is not measured; DEFRA's annual figures where no monthly source covers the period); the
sources and licences follow on the last page. Every page carries "Data to <month>". Built here as
blocks of :mod:`dashboard.render.document` (which writes the PDF, reportlab, and the HTML), offline:
the run charts by :mod:`dashboard.render.charts`, the ward maps by :mod:`dashboard.render.staticmap`,
both vector in the PDF (their text extractable) and SVG in the HTML.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import shapely

from dashboard.attributions import ATTRIBUTIONS  # noqa: E402
from dashboard.render import charts, staticmap
from dashboard.render.document import Beside, Grid, PageBreak, Picture, Space, Text, Together, plain
from dashboard.render.document import render as render_blocks
from dashboard.render.palette import STATUS_COLOURS, STATUS_SYMBOLS
from geodata import basemap
from geodata.analysis import (  # noqa: E402
    PUBLIC,
    meeting,  # noqa: E402
)
from geodata.analysis.actions import for_meeting  # noqa: E402
from geodata.analysis.hotspots_for import measure_hotspots  # noqa: E402
from geodata.analysis.status import MeasureStatus, PriorityStatus, evaluate, latest_month, span  # noqa: E402
from geodata.methods import disclosure
from geodata.methods.pvalue import format_p  # noqa: E402
from geodata.priorities import Priorities  # noqa: E402
from geodata.store import Store  # noqa: E402

#: Width of a priority's ward map on the page (mm), beside its top wards: every ward named at 5.2 pt.
MAP_MM = 58
#: Wards listed per measure in the pack.
TOP_WARDS = 8


@dataclass
class Pack:
    """What the pack shows, computed once, rendered as PDF or HTML."""

    title: str
    area: str
    period: str
    data_to: str
    results: list[PriorityStatus]
    # (priority id, measure index, "trend"|"multiples"|"annual"|"map") -> the chart or map drawn as shapes
    images: dict[tuple[str, int, str], staticmap.Drawn]
    slides: meeting.Slides
    actions: dict = field(default_factory=dict)  # priority id -> open actions (actions.for_meeting, partners')


#: Sizes on the page (mm) and type (pt) of the run charts: the trend, the small multiples, the annual bars.
TREND_MM, MULTIPLES_MM, ANNUAL_MM, CHART_FONT = (180, 40), (180, 34), (180, 60), 7.0
_PT = 72 / 25.4  # points a millimetre


def _ward_map(store: Store, m: MeasureStatus, streets) -> staticmap.Drawn:
    """The measure's ward map (:func:`dashboard.render.staticmap.draw`, in points, every ward named) with
    the Gi* hot spots of a points measure (cells hot at 95% or more, outlined and hatched) and the roads of
    ``streets`` (the offline base map, read once per pack; None: none)."""
    areas = store.areas("ward")
    table = m.wards.set_index("ward_code")["current"]
    cells, caption = None, "Incidents in the period by ward"
    if m.current.count:  # the pack's audience: the public (disclosure control, module docstring of build)
        found, why_not = measure_hotspots(store, m.measure, m.current.start, m.current.end, PUBLIC)
        if why_not:
            caption = why_not
        if found is not None:
            cells, caption = found.cells, f"Wards, and Gi* hot spots ({found.grid.cell_size:g} m cells, 95%+)"
    return staticmap.draw(
        (areas.codes, areas.names, shapely.simplify(areas.geometries, 20)),
        width=MAP_MM * 72 / 25.4,
        values={c: (None if v != v else int(v)) for c, v in table.items()},
        legend_title="incidents in the period",
        cells=cells,
        caption=caption,
        title=f"{m.measure.label}: {caption}",
        font=5.2,
        basemap=streets,
    )


def build(
    store: Store, priorities: Priorities, end: str | None = None, window: int | None = None, compare: str | None = None
) -> Pack:
    """Compute every figure and image of the pack (same arguments as :func:`geodata.analysis.status.evaluate`).

    The pack is for the meeting, so sensitive (council) sources are under disclosure control
    (the PUBLIC audience): every figure of their measures, and their ward map, is made from the public
    cells (:mod:`geodata.methods.disclosure`), with the rule stated beside them; they get no run chart."""
    end = end or latest_month(store, priorities)
    results = evaluate(store, priorities, end, window, compare, PUBLIC)
    deck = meeting.slides(store, priorities, end, window, compare, PUBLIC, results)
    images = {}
    streets = basemap.load(store.config.map_streets) if store.config.map_streets else None  # once, every map
    for ps in deck.priorities:
        pid = ps.priority.id
        for i, part in enumerate(ps.parts):
            m = part.status
            if part.chart is not None:
                rc = part.chart
                images[(pid, i, "trend")] = charts.run_chart(
                    rc.chart,
                    rc.label,
                    *(v * _PT for v in TREND_MM),
                    CHART_FONT,
                    m.current.start,
                    heading=f"Per month: {charts.ICONS[rc.icon][2]}",
                )
            if part.multiples:
                w, h = (v * _PT for v in MULTIPLES_MM)
                images[(pid, i, "multiples")] = charts.multiples(
                    part.multiples, m.current.start, w, h, CHART_FONT - 0.5
                )
            images[(pid, i, "map")] = _ward_map(store, m, streets)  # withheld: the public ward counts
        if ps.annual is not None:
            a = ps.annual
            w, h = (v * _PT for v in ANNUAL_MM)
            images[(pid, 0, "annual")] = charts.annual_bars(
                a.years, a.values, a.label, w, h, CHART_FONT, a.label + " (annual)"
            )
    periods = sorted(
        {span(m.current.start, m.current.end) for r in results for m in r.measures if m.current.count is not None}
    ) or [end]
    data_to = max([r.data_to for r in results if r.data_to] or [end])
    plan = for_meeting(store, partner=True, today=date.today())  # the meeting's paper: the partners' view
    return Pack(
        priorities.partnership, store.config.area_name, "; ".join(periods), data_to, results, images, deck, plan
    )


def _ward_rows(m: MeasureStatus) -> list[list[str]]:
    """The top wards: the period's count, and the change on the months compared (the status' own)."""
    rows = [["Ward", "Period", "Compared", "Before", "Change", "p (adj.)", "Test"]]
    tested = "change" in m.wards.columns
    for _, w in m.wards.head(TOP_WARDS).iterrows():
        if tested:
            pct = "" if np.isnan(w["pct_change"]) else f"{w['pct_change']:+.0f}%"
            rows.append(
                [
                    str(w["ward_name"]),
                    str(int(w["current"])),
                    str(int(w["compared"])),
                    str(int(w["previous"])),
                    pct,
                    format_p(w["p_adj"]),
                    str(w["change"]),
                ]
            )
        elif m.current.count is not None:
            rows.append([str(w["ward_name"]), str(int(w["current"])), "", "", "", "", "not judged"])
    # a column empty on every row is left out (as common.table does on the pages): no comparison, no test
    keep = [j for j in range(len(rows[0])) if len(rows) == 1 or any(r[j] for r in rows[1:])]
    return [[r[j] for j in keep] for r in rows]


#: Widths (mm) of the top wards' columns beside the map (document.TEXT_MM - 2 - MAP_MM = 120 mm in all).
#: Each at least its bold 8 pt header and the cell padding: "Compared" (16.1 mm) was broken "Compar ed" in 14.
_WARD_WIDTHS = {"Ward": 29, "Period": 12, "Compared": 17, "Before": 12, "Change": 13, "p (adj.)": 12, "Test": 25}


def _grid_of_wards(m: MeasureStatus) -> Grid:
    rows = _ward_rows(m)
    return Grid(plain(rows), [_WARD_WIDTHS[h] for h in rows[0]], small=True)


def _status_word(status: str) -> str:
    return f"{STATUS_SYMBOLS[status]} {status.upper()}"


def _coloured(status: str) -> str:
    """The status as inline markup: symbol and word, bold, in its colour (never the colour alone)."""
    return f'<font color="{STATUS_COLOURS[status]}"><b>{html.escape(_status_word(status))}</b></font>'


_ARROWS = {meeting.UP: "↑", meeting.DOWN: "↓", meeting.SAME: "→", None: "–"}


# The pack is written once as blocks (:mod:`dashboard.render.document`), drawn as PDF or HTML there.
def _document(pack: Pack) -> list:
    """The pack's pages as blocks (module docstring): the overview page, one page per measured
    priority, the sources and the method after the last priority."""
    esc = html.escape
    deck = pack.slides
    blocks: list = [
        Space(30),
        Text(esc(pack.title), "title"),
        # one title: the area only when the partnership's name does not already say it (it was there twice)
        *([] if pack.area in pack.title else [Text(esc(pack.area), "subtitle")]),
        Text(f"Priorities meeting pack. Period: {esc(pack.period)}. Data to {esc(pack.data_to)}."),
        Text(f"Produced {date.today():%d %B %Y} by CSP Hotspots."),
    ]
    summary = [["Priority", "Status", "Latest", "Change", "Run chart"]]
    for row in deck.overview.rows:
        latest = ("" if row.number is None else f"<b>{esc(row.number)}</b> ") + esc(row.number_of)
        summary.append(
            [
                esc(f"{row.priority.id} {row.priority.title}"),
                _coloured(row.status),
                latest,
                esc(f"{_ARROWS[row.direction]} {row.change}" if row.number else ""),
                esc(row.icon or ""),
            ]
        )
    blocks += [Grid(summary, [38, 25, 55, 35, 27]), Text(esc(deck.comparison)), Text(esc(deck.overview.rule))]
    if deck.not_measured:
        blocks.append(Text("Not measured yet", "heading"))
        blocks += [
            Text(f"<b>{esc(p.id)} {esc(p.title)}</b>: would be measured by: {esc(' '.join(lines))}")
            for p, lines in deck.not_measured.entries
        ]
    for ps in deck.priorities:
        r, pid = ps.result, ps.priority.id
        blocks += [
            PageBreak(),
            Text(esc(f"{pid} {r.priority.title}"), "title"),
            Text(f"<i>{esc(r.priority.wording)}</i>"),
            Text(f"{_coloured(r.status)}: {esc(r.sentence)}"),
        ]
        if ps.unmeasured:  # beside the status it qualifies (after the map it ran onto a page of its own)
            blocks.append(Text("<b>Not measured:</b> " + esc(" ".join(ps.unmeasured))))
        for i, part in enumerate(ps.parts):
            m, h = part.status, part.headline
            blocks += [
                Text(esc(m.measure.label), "heading"),
                Text(
                    f"<b>{esc(h.number)}</b> in {esc(h.period)}. {esc(_ARROWS[h.direction])} {esc(h.text.rstrip('.'))}."
                ),
            ]
            if m.withheld:
                blocks.append(Text(esc(disclosure.NOTE)))
            if part.chart is not None:
                note = part.chart.baseline_note + " Shaded: the period; grey: not loaded; diamonds: special cause."
                blocks += [Picture(pack.images[(pid, i, "trend")], TREND_MM[0]), Text(esc(note), "note")]
            if part.multiples:
                blocks.append(Picture(pack.images[(pid, i, "multiples")], MULTIPLES_MM[0]))
            if part.outcomes:
                shares = part.outcomes.shares
                blocks.append(
                    Text(
                        "<b>What happened</b> (latest police.uk outcome of "
                        f"{part.outcomes.with_outcome:,} crimes; recent months lag): "
                        + esc("; ".join(f"{g} {100 * (shares[g] or 0):.0f}%" for g in shares))
                    )
                )
            blocks.append(
                Beside(
                    Picture(pack.images[(pid, i, "map")], MAP_MM),
                    _grid_of_wards(m),
                )
            )
        if ps.annual is not None:
            a = ps.annual
            year, value = a.shown
            blocks += [
                Text(f"<b>{value:,.0f}</b> fly-tipping incidents in {esc(year)} (annual). {esc(a.note)}"),
                Picture(pack.images[(pid, 0, "annual")], ANNUAL_MM[0]),
            ]
        if pack.actions.get(pid):  # the action plan: open actions, as the partners' slide lists them
            rows = [["Open action", "Owner", "Status", "Next review"]]
            rows += [
                [f"<b>{esc(x.id)}</b> {esc(x.what)}", esc(x.owner), esc(x.status)]
                + [esc(x.review.isoformat()) + (" <b>REVIEW OVERDUE</b>" if x.overdue else "")]
                for x in pack.actions[pid]
            ]
            blocks += [Text("Actions (includes actions not marked public)", "heading"), Grid(rows, [80, 40, 25, 35])]
    # the sources follow the last priority, kept together (a page of their own when they do not fit)
    sources_page = [Text("Sources and licences", "heading")]
    sources_page += [Text(f"<b>{esc(name)}</b>: {esc(text)}") for name, text in ATTRIBUTIONS]
    reading = [Text("How to read this pack", "heading")]
    reading += [Text(f"<b>{esc(head)}.</b> {esc(text)}") for head, text in meeting.READING]
    blocks.append(Together([*reading, *sources_page, Text(esc(METHOD))]))
    return blocks


#: The methods, stated on the pack's last page.
METHOD = (
    "Method: counts are incidents assigned to a ward of the area. Change tests: quasi-Poisson rate ratio, the "
    "dispersion estimated from the monthly counts compared (Pearson chi-square / residual df, never below 1; "
    "at 1 the exact Poisson E-test, Krishnamoorthy & Thomson 2004); ward tests adjusted by Benjamini-Hochberg. "
    "Hot spots: Gi* "
    "(Getis & Ord 1992) on a square grid, adjacent cells, its p exact (the permutation distribution of the "
    "neighbourhood sum, computed, not the normal approximation), Benjamini-Hochberg adjusted. Run charts: XmR "
    "(NHS Making Data Count). Months a source has "
    "not loaded are never counted as zero."
)


def _footing(pack: Pack) -> str:
    return f"{pack.title}: meeting pack, {pack.period}. Data to {pack.data_to}."


def render(pack: Pack, fmt: str = "pdf") -> bytes:
    """The pack as PDF (A4 portrait, "Data to <month>" and the page number on every page) or as one
    self-contained printable HTML page, a ``<section>`` per PDF page (:mod:`dashboard.render.document`)."""
    return render_blocks(_document(pack), f"{pack.title}: meeting pack", _footing(pack), fmt)
