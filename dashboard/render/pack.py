"""The meeting pack: a PDF (or printable HTML) of the meeting's slides for one period.

The same design as the Meeting page (:mod:`geodata.analysis.meeting`): page 1 the overview (every
priority: status with symbol and word, the latest number, its change, the run chart's variation)
and the priorities not measured yet; then one page per measured priority (status sentence once,
headline number and change, the XmR run chart with its baseline stated, small multiples per crime
type, outcome shares, a static ward map with the Gi* hot spots of a police.uk measure and the top
wards, what is not measured; DEFRA's annual figures where no monthly source covers the period); the
sources and licences follow on the last page. Every page carries "Data to <month>". Rendered
offline: run charts with matplotlib's object API (no pyplot), the ward maps by
:mod:`dashboard.render.staticmap` (vector in the PDF), and reportlab (PDF).
"""

from __future__ import annotations

import base64
import html
import io
import re
import textwrap
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import shapely
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from dashboard.attributions import ATTRIBUTIONS  # noqa: E402
from dashboard.render import staticmap
from dashboard.render.palette import STATUS_COLOURS, STATUS_SYMBOLS
from geodata import basemap
from geodata.analysis import (  # noqa: E402
    PUBLIC,
    meeting,  # noqa: E402
)
from geodata.analysis.actions import for_meeting  # noqa: E402
from geodata.analysis.hotspots_for import measure_hotspots  # noqa: E402
from geodata.analysis.status import MeasureStatus, PriorityStatus, evaluate, latest_month, span  # noqa: E402
from geodata.methods import disclosure, runchart
from geodata.methods.pvalue import format_p  # noqa: E402
from geodata.priorities import Priorities  # noqa: E402
from geodata.store import Store  # noqa: E402

FORMATS = ("pdf", "html")
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
    # (priority id, measure index, "trend"|"multiples"|"annual") -> PNG; (..., "map") -> the drawn map
    images: dict[tuple[str, int, str], bytes | staticmap.Drawn]
    slides: meeting.Slides
    actions: dict = field(default_factory=dict)  # priority id -> open actions (actions.for_meeting, partners')


def _figure(w: float, h: float) -> Figure:
    """A matplotlib figure ``w`` x ``h`` inches on the Agg canvas (the object API: no pyplot, no global state)."""
    fig = Figure(figsize=(w, h))
    FigureCanvasAgg(fig)
    return fig


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return buf.getvalue()


#: Run-chart colours as the Meeting page's (NHS Making Data Count: orange concerning, blue improving).
_RC = {
    runchart.CONCERNING: "#c05600",
    runchart.IMPROVING: "#0060a8",
    runchart.NEITHER: "#6a3d9a",
    runchart.COMMON: "#595959",
}


def _runchart_axes(ax, rc: meeting.RunChart, period_start: str | None, small: bool = False) -> None:
    """An XmR chart on ``ax``: points month to month (gaps shaded "not loaded"), mean and process
    limits, special-cause points as large diamonds, the period shaded."""
    c = rc.chart
    x = np.arange(len(c.values))
    for i in np.flatnonzero(np.isnan(c.values)):
        ax.axvspan(i - 0.5, i + 0.5, color="#e9e9e9", lw=0)
    if period_start in c.months:
        ax.axvspan(c.months.index(period_start) - 0.5, len(x) - 0.5, color="#fff3c4", lw=0)
    ax.plot(x, c.values, color="#595959", lw=1.5, marker="o", ms=2.5)
    for v, style, name in ((c.mean, "-", "mean"), (c.upper, "--", "upper limit"), (c.lower, "--", "lower limit")):
        if v >= 0:
            ax.axhline(v, color="#222222", ls=style, lw=1)
            if not small:
                ax.text(  # on white: the line must not strike through its own label
                    len(x) - 0.3,
                    v,
                    f" {name} {v:,.0f}",
                    va="center",
                    fontsize=7,
                    bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5},
                )
    special = c.special & ~np.isnan(c.values)
    for i in np.flatnonzero(special):
        bad = (c.values[i] > c.mean) == bool(c.lower_is_better)
        ax.plot(
            i, c.values[i], marker="D", ms=6, mec="black", color=_RC[runchart.CONCERNING if bad else runchart.IMPROVING]
        )
    jans = [i for i, m in enumerate(c.months) if m.endswith("-01")]
    if small and len(jans) > 2:  # a small multiple: the first and last year only (every year merged into one)
        jans = [jans[0], jans[-1]]
    ax.set_xticks(jans, [c.months[i][:4] for i in jans], fontsize=6 if small else 7)
    ax.set_ylim(bottom=0)
    ax.tick_params(axis="y", labelsize=6 if small else 7)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title(  # a small multiple's title on two short lines, inside its own column (they ran together)
        f"{textwrap.shorten(rc.label, 22, placeholder='…')}\n{rc.icon}" if small else f"Per month: {rc.icon}",
        fontsize=7 if small else 9,
        loc="left",
        color=_RC[rc.icon],
    )


def _runchart_png(rc: meeting.RunChart, period_start: str) -> bytes:
    fig = _figure(7.2, 2.4)
    ax = fig.subplots()
    _runchart_axes(ax, rc, period_start)
    return _png(fig)


def _multiples_png(charts, period_start: str) -> bytes:
    fig = _figure(7.6, 2.0)
    axes = fig.subplots(1, len(charts))
    for ax, rc in zip(np.atleast_1d(axes), charts):
        _runchart_axes(ax, rc, period_start, small=True)
    fig.tight_layout()
    return _png(fig)


def _annual_png(a: meeting.Annual) -> bytes:
    fig = _figure(7.2, 2.6)
    ax = fig.subplots()
    vals = [np.nan if v is None else v for v in a.values]
    ax.bar(range(len(vals)), vals, color=["#7f9bbf"] * (len(vals) - 1) + ["#1f4e79"])
    for i, v in enumerate(vals):
        ax.text(
            i,
            0 if np.isnan(v) else v,
            "not published" if np.isnan(v) else f"{v:,.0f}",
            ha="center",
            va="bottom",
            fontsize=7,
        )
    ax.set_xticks(range(len(vals)), [y[2:] for y in a.years], fontsize=7)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title(a.label + " (annual)", fontsize=9, loc="left")
    return _png(fig)


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
                images[(pid, i, "trend")] = _runchart_png(part.chart, m.current.start)
            if part.multiples:
                images[(pid, i, "multiples")] = _multiples_png(part.multiples, m.current.start)
            images[(pid, i, "map")] = _ward_map(store, m, streets)  # withheld: the public ward counts
        if ps.annual is not None:
            images[(pid, 0, "annual")] = _annual_png(ps.annual)
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


#: Widths (mm) of the top wards' columns beside the map (178 - MAP_MM = 120 mm in all).
_WARD_WIDTHS = {"Ward": 30, "Period": 11, "Compared": 14, "Before": 11, "Change": 13, "p (adj.)": 14, "Test": 27}


def _grid_of_wards(m: MeasureStatus) -> _Grid:
    rows = _ward_rows(m)
    return _Grid(_plain(rows), [_WARD_WIDTHS[h] for h in rows[0]], small=True)


def _status_word(status: str) -> str:
    return f"{STATUS_SYMBOLS[status]} {status.upper()}"


def _coloured(status: str) -> str:
    """The status as inline markup: symbol and word, bold, in its colour (never the colour alone)."""
    return f'<font color="{STATUS_COLOURS[status]}"><b>{html.escape(_status_word(status))}</b></font>'


_ARROWS = {meeting.UP: "↑", meeting.DOWN: "↓", meeting.SAME: "→", None: "–"}


# ------------------------------------------------------------------------------------ the document
# The pack is written once as a list of blocks (:func:`_document`), then drawn as PDF or HTML, so the
# two formats cannot drift apart. Text in a block is inline markup: every piece of data or config is
# escaped (html.escape) before it is put in; the only tags are the pack's own <b>, <i> and
# <font color="#rrggbb">.
@dataclass(frozen=True)
class _Text:
    markup: str
    style: str = "body"  # "title", "subtitle", "heading", "body" or "note"


@dataclass(frozen=True)
class _Picture:
    key: tuple[str, int, str]  # in Pack.images
    width_mm: float
    height_mm: float | None = None  # None: from the image's own aspect ratio


@dataclass(frozen=True)
class _Grid:
    rows: list[list[str]]  # the first row is the header; cells are inline markup
    widths_mm: list[float] | None = None
    small: bool = False  # a dense table (the top wards): smaller type in the PDF


@dataclass(frozen=True)
class _Beside:
    """A picture with a table beside it (the ward map and its top wards)."""

    picture: _Picture
    grid: _Grid


@dataclass(frozen=True)
class _Together:
    """Blocks kept on one page (the sources and the method: never a few lines left over on a page of their own)."""

    blocks: list


@dataclass(frozen=True)
class _PageBreak:
    pass


def _plain(rows: list[list[str]]) -> list[list[str]]:
    return [[html.escape(c) for c in row] for row in rows]


def _document(pack: Pack) -> list:
    """The pack's pages as blocks (module docstring): the overview page, one page per measured
    priority, the sources and the method after the last priority."""
    esc = html.escape
    deck = pack.slides
    blocks: list = [
        _Text(esc(pack.title), "title"),
        # one title: the area only when the partnership's name does not already say it (it was there twice)
        *([] if pack.area in pack.title else [_Text(esc(pack.area), "subtitle")]),
        _Text(f"Priorities meeting pack. Period: {esc(pack.period)}. Data to {esc(pack.data_to)}."),
        _Text(f"Produced {date.today():%d %B %Y} by CSP Hotspots."),
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
    blocks += [_Grid(summary, [38, 25, 55, 35, 27]), _Text(esc(deck.overview.rule))]
    if deck.not_measured:
        blocks.append(_Text("Not measured yet", "heading"))
        blocks += [
            _Text(f"<b>{esc(p.id)} {esc(p.title)}</b>: would be measured by: {esc(' '.join(lines))}")
            for p, lines in deck.not_measured.entries
        ]
    for ps in deck.priorities:
        r, pid = ps.result, ps.priority.id
        blocks += [
            _PageBreak(),
            _Text(esc(f"{pid} {r.priority.title}"), "title"),
            _Text(f"<i>{esc(r.priority.wording)}</i>"),
            _Text(f"{_coloured(r.status)}: {esc(r.sentence)}"),
        ]
        if ps.unmeasured:  # beside the status it qualifies (after the map it ran onto a page of its own)
            blocks.append(_Text("<b>Not measured:</b> " + esc(" ".join(ps.unmeasured))))
        for i, part in enumerate(ps.parts):
            m, h = part.status, part.headline
            blocks += [
                _Text(esc(m.measure.label), "heading"),
                _Text(
                    f"<b>{esc(h.number)}</b> in {esc(h.period)}. {esc(_ARROWS[h.direction])} {esc(h.text.rstrip('.'))}."
                ),
            ]
            if m.withheld:
                blocks.append(_Text(esc(disclosure.NOTE)))
            if part.chart is not None:
                note = part.chart.baseline_note + " Shaded: the period; grey: not loaded; diamonds: special cause."
                blocks += [_Picture((pid, i, "trend"), 180, 40), _Text(esc(note), "note")]
            if part.multiples:
                blocks.append(_Picture((pid, i, "multiples"), 180, 38))
            if part.outcomes:
                shares = part.outcomes.shares
                blocks.append(
                    _Text(
                        "<b>What happened</b> (latest police.uk outcome of "
                        f"{part.outcomes.with_outcome:,} crimes; recent months lag): "
                        + esc("; ".join(f"{g} {100 * (shares[g] or 0):.0f}%" for g in shares))
                    )
                )
            blocks.append(
                _Beside(
                    _Picture((pid, i, "map"), MAP_MM),
                    _grid_of_wards(m),
                )
            )
        if ps.annual is not None:
            a = ps.annual
            year, value = a.shown
            blocks += [
                _Text(f"<b>{value:,.0f}</b> fly-tipping incidents in {esc(year)} (annual). {esc(a.note)}"),
                _Picture((pid, 0, "annual"), 180, 65),
            ]
        if pack.actions.get(pid):  # the action plan: open actions, as the partners' slide lists them
            rows = [["Open action", "Owner", "Status", "Next review"]]
            rows += [
                [f"<b>{esc(x.id)}</b> {esc(x.what)}", esc(x.owner), esc(x.status)]
                + [esc(x.review.isoformat()) + (" <b>REVIEW OVERDUE</b>" if x.overdue else "")]
                for x in pack.actions[pid]
            ]
            blocks += [_Text("Actions (includes actions not marked public)", "heading"), _Grid(rows, [80, 40, 25, 35])]
    # the sources follow the last priority, kept together (a page of their own when they do not fit)
    sources_page = [_Text("Sources and licences", "heading")]
    sources_page += [_Text(f"<b>{esc(name)}</b>: {esc(text)}") for name, text in ATTRIBUTIONS]
    blocks.append(_Together([*sources_page, _Text(esc(METHOD))]))
    return blocks


#: The methods, stated on the pack's last page.
METHOD = (
    "Method: counts are incidents assigned to a ward of the area. Change tests: quasi-Poisson rate ratio, the "
    "dispersion estimated from the monthly counts compared (Pearson chi-square / residual df, never below 1; "
    "at 1 the exact Poisson E-test, Krishnamoorthy & Thomson 2004); ward tests adjusted by Benjamini-Hochberg. "
    "Hot spots: Gi* "
    "(Getis & Ord 1992) on a square grid, adjacent cells, Benjamini-Hochberg adjusted. Months a source has "
    "not loaded are never counted as zero."
)


def _footing(pack: Pack) -> str:
    return f"{pack.title}: meeting pack, {pack.period}. Data to {pack.data_to}."


# ---------------------------------------------------------------------------------------------- PDF
def to_pdf(pack: Pack) -> bytes:
    """The pack as PDF (A4 portrait), with "Data to <month>" and the page number on every page."""
    return draw_pdf(_document(pack), pack.images, f"{pack.title}: meeting pack", _footing(pack))


def draw_pdf(blocks: list, images: dict, title: str, footing: str) -> bytes:
    """``blocks`` (:func:`_document`'s kinds; pictures from ``images``) as an A4 PDF in the pack's design,
    ``footing`` and the page number on every page (the pack and the reports, :mod:`dashboard.render.reports`)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.lib.utils import ImageReader
    from reportlab.platypus import (
        Image,
        KeepTogether,
        PageBreak,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    styles = getSampleStyleSheet()
    style = {
        "title": styles["Title"],
        "subtitle": styles["Heading3"],
        "heading": styles["Heading2"],
        "body": styles["BodyText"],
        "note": styles["Italic"],
        "small": ParagraphStyle("small", parent=styles["BodyText"], fontSize=8, leading=10),
    }

    def footer(canvas, doc):
        canvas.saveState()
        canvas.setFont("Helvetica", 8)
        canvas.drawString(15 * mm, 10 * mm, footing)
        canvas.drawRightString(195 * mm, 10 * mm, f"Page {doc.page}")
        canvas.restoreState()

    def picture(b: _Picture):
        data = images[b.key]
        if isinstance(data, staticmap.Drawn):
            return data.pdf(b.width_mm * mm)  # vector: its ward names are text in the PDF
        if b.height_mm is None:
            w, h = ImageReader(io.BytesIO(data)).getSize()
            return Image(io.BytesIO(data), b.width_mm * mm, b.width_mm * mm * h / w)
        return Image(io.BytesIO(data), b.width_mm * mm, b.height_mm * mm)

    def table(b: _Grid):
        cell = style["small"] if b.small else style["body"]
        head, *rest = b.rows
        cells = [[Paragraph(f"<b>{c}</b>", cell) for c in head], *[[Paragraph(c, cell) for c in row] for row in rest]]
        t = Table(cells, colWidths=[w * mm for w in b.widths_mm] if b.widths_mm else None, repeatRows=1)
        t.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")),
                    *([("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3)] if b.small else []),
                    *(
                        [("TOPPADDING", (0, 0), (-1, -1), 1.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5)]
                        if b.small
                        else []
                    ),
                ]
            )
        )
        return t

    story: list = [Spacer(1, 30 * mm)]
    for b in blocks:
        if isinstance(b, _Together):
            story.append(KeepTogether([Paragraph(t.markup, style[t.style]) for t in b.blocks]))
        elif isinstance(b, _Text):
            story.append(Paragraph(b.markup, style[b.style]))
        elif isinstance(b, _Picture):
            story.append(picture(b))
        elif isinstance(b, _Grid):
            story += [Spacer(1, 4 * mm), table(b), Spacer(1, 3 * mm)]
        elif isinstance(b, _Beside):
            beside = Table([[picture(b.picture), table(b.grid)]], colWidths=[(MAP_MM + 2) * mm, (178 - MAP_MM) * mm])
            beside.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (0, 0), 0)]))
            story.append(beside)
        else:
            story.append(PageBreak())
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=18 * mm,
        title=title,
        author="CSP Hotspots",
    )
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()


# --------------------------------------------------------------------------------------------- HTML
_CSS = """body{font-family:sans-serif;max-width:190mm;margin:auto;color:#111}
section{page-break-after:always;break-after:page}table{border-collapse:collapse;font-size:10pt;margin:0.5em 0}
td,th{border:1px solid #999;padding:2px 6px;text-align:left;vertical-align:top}th{background:#e8e8e8}
.beside{display:flex;gap:1em;align-items:flex-start}.beside img{width:62mm}.note{font-style:italic}
footer{font-size:9pt;color:#444;border-top:1px solid #999;margin-top:1em}img{max-width:100%}"""

_HTML_TAG = {"title": "h1", "subtitle": "h3", "heading": "h2", "body": "p", "note": "p"}


def _html_markup(markup: str) -> str:
    """The blocks' inline markup in HTML: <font color> (all the pack's own: data is escaped) becomes a span."""
    return re.sub(r'<font color="(#[0-9A-Fa-f]{6})">', r'<span style="color:\1">', markup).replace("</font>", "</span>")


def to_html(pack: Pack) -> str:
    """The pack as one self-contained printable HTML page (images inline, no external request): the
    same blocks as the PDF, one ``<section>`` (printed page) per PDF page."""
    return draw_html(_document(pack), pack.images, f"{pack.title}: meeting pack", _footing(pack))


def draw_html(blocks: list, images: dict, title: str, footing: str) -> str:
    """``blocks`` as one self-contained printable HTML page in the pack's design (:func:`draw_pdf`'s twin
    for the screen and the printer: the same blocks, a ``<section>`` per page, ``footing`` on each)."""
    foot = f"<footer>{html.escape(footing)}</footer>"

    def img(b: _Picture) -> str:
        data = images[b.key]
        if isinstance(data, staticmap.Drawn):
            return f'<div style="width:{b.width_mm}mm">{data.svg()}</div>'
        return f'<img alt="" src="data:image/png;base64,{base64.b64encode(data).decode()}">'

    def table(b: _Grid) -> str:
        head, *rest = b.rows
        return (
            "<table><tr>"
            + "".join(f"<th>{_html_markup(h)}</th>" for h in head)
            + "</tr>"
            + "".join("<tr>" + "".join(f"<td>{_html_markup(c)}</td>" for c in row) + "</tr>" for row in rest)
            + "</table>"
        )

    sections, out = [], []
    flat = [x for b in blocks for x in (b.blocks if isinstance(b, _Together) else [b])]
    for b in [*flat, _PageBreak()]:
        if isinstance(b, _Text):
            tag = _HTML_TAG[b.style]
            cls = ' class="note"' if b.style == "note" else ""
            out.append(f"<{tag}{cls}>{_html_markup(b.markup)}</{tag}>")
        elif isinstance(b, _Picture):
            out.append(img(b))
        elif isinstance(b, _Grid):
            out.append(table(b))
        elif isinstance(b, _Beside):
            out.append(f'<div class="beside">{img(b.picture)}{table(b.grid)}</div>')
        else:
            sections.append(f"<section>{''.join(out)}{foot}</section>")
            out = []
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}'
        f"</title><style>{_CSS}</style></head><body>{''.join(sections)}</body></html>"
    )


def render(pack: Pack, fmt: str = "pdf") -> bytes:
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
    return to_pdf(pack) if fmt == "pdf" else to_html(pack).encode("utf-8")
