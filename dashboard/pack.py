"""The meeting pack: a PDF (or printable HTML) of every priority's status for one period.

Pages: a title page (partnership, area, period, status of every priority); one
page per priority (status sentence, a static ward map with the Gi* hot spots
of its first police.uk measure, the 12-month trend, the top wards with change
and significance, what is not measured); a sources and licences page. Every
page carries "Data to <month>". Rendered offline with matplotlib (maps and
charts, no tiles) and reportlab (PDF); the figures are the ones
:mod:`geodata.status` gives the Meeting page for the same period.
"""
from __future__ import annotations

import base64
import html
import io
import warnings
from dataclasses import dataclass
from datetime import date

import matplotlib

matplotlib.use("Agg")  # no display: the pack renders on servers and in CI
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from dashboard.attributions import ATTRIBUTIONS  # noqa: E402
from dashboard.palette import GI_COLOURS, SEQUENTIAL, STATUS_COLOURS, STATUS_SYMBOLS  # noqa: E402
from geodata import disclosure  # noqa: E402
from geodata import grid as grids  # noqa: E402
from geodata.gistar import CLASS_LABELS  # noqa: E402
from geodata.hotspots import hotspot_cells  # noqa: E402
from geodata.priorities import Priorities  # noqa: E402
from geodata.status import MeasureStatus, PriorityStatus, evaluate, latest_month, span  # noqa: E402
from geodata.store import Store  # noqa: E402

FORMATS = ("pdf", "html")
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
    images: dict[tuple[str, int, str], bytes]  # (priority id, measure index, "map"|"trend") -> PNG


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _trend_png(m: MeasureStatus) -> bytes:
    fig, ax = plt.subplots(figsize=(6.2, 2.2))
    counts = [np.nan if c is None else c for c in m.series["count"]]
    x = np.arange(len(counts))
    in_period = [m.current.start <= mo <= m.current.end for mo in m.series["month"]]
    ax.bar(x, counts, color=[SEQUENTIAL[3] if p else "#9aa5c4" for p in in_period])
    for i, c in enumerate(counts):
        if np.isnan(c):
            ax.text(i, 0, "not\nloaded", ha="center", va="bottom", fontsize=6, color="#555555")
    ax.set_xticks(x, [mo[2:] for mo in m.series["month"]], fontsize=7)
    ax.set_ylabel("incidents per month", fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title("Last 12 months (dark: the period)", fontsize=9, loc="left")
    return _png(fig)


def _map_png(store: Store, m: MeasureStatus) -> bytes:
    wards = store.areas("ward").to_geodataframe()
    table = m.wards.set_index("ward_code")
    wards["current"] = wards["code"].map(table["current"]).astype("float64")
    fig, ax = plt.subplots(figsize=(4.6, 4.6))
    wards.plot(ax=ax, column="current", cmap="viridis_r", edgecolor="#333333", linewidth=0.6, legend=True,
               legend_kwds={"label": "incidents in the period", "shrink": 0.6})
    if m.measure.source == "police.uk" and m.current.count:
        incidents = store.incidents(start=m.current.start, end=m.current.end,
                                    **m.measure.filters()).dropna(subset=["x", "y"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", grids.FineGridWarning)
            cells, grid = hotspot_cells(incidents, store.boundary())
        for cls in (3, 2):
            sel = cells[cells["gi_class"] == cls]
            if len(sel):
                sel.plot(ax=ax, color=GI_COLOURS[cls], edgecolor="none", label=CLASS_LABELS[cls])
        ax.set_title(f"Wards, and Gi* hot spots ({grid.cell_size:g} m cells, 95%+)", fontsize=8, loc="left")
    ax.set_axis_off()
    return _png(fig)


def build(store: Store, priorities: Priorities, end: str | None = None, window: int | None = None,
          compare: str | None = None) -> Pack:
    """Compute every figure and image of the pack (same arguments as :func:`geodata.status.evaluate`).

    The pack is for the meeting, so sensitive (council) sources are under disclosure control
    (``exact=False``): every figure, map and trend of their measures is made from the public cells
    (:mod:`geodata.disclosure`), with the rule stated beside them."""
    end = end or latest_month(store)
    results = evaluate(store, priorities, end, window, compare, exact=False)
    images = {}
    for r in results:
        for i, m in enumerate(r.measures):
            if m.current.count is not None:
                images[(r.priority.id, i, "trend")] = _trend_png(m)
                images[(r.priority.id, i, "map")] = _map_png(store, m)
    periods = sorted({span(m.current.start, m.current.end) for r in results for m in r.measures
                      if m.current.count is not None}) or [end]
    data_to = max([r.data_to for r in results if r.data_to] or [end])
    return Pack(priorities.partnership, store.config.area_name, "; ".join(periods), data_to, results, images)


def _ward_rows(m: MeasureStatus) -> list[list[str]]:
    rows = [["Ward", "Period", "Before", "Change", "p (adjusted)", "Test"]]
    tested = "change" in m.wards.columns
    for _, w in m.wards.head(TOP_WARDS).iterrows():
        if tested:
            pct = "" if np.isnan(w["pct_change"]) else f"{w['pct_change']:+.0f}%"
            rows.append([str(w["ward_name"]), str(int(w["current"])), str(int(w["previous"])), pct,
                         f"{w['p_adj']:.2f}", str(w["change"])])
        elif m.current.count is not None:
            rows.append([str(w["ward_name"]), str(int(w["current"])), "no data", "", "", ""])
    return rows


def _status_line(r: PriorityStatus) -> str:
    return f"{STATUS_SYMBOLS[r.status]} {r.status.upper()}"


# ---------------------------------------------------------------------------------------------- PDF
def to_pdf(pack: Pack) -> bytes:
    """The pack as PDF (A4 portrait), with "Data to <month>" and the page number on every page."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Image, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    body, h1, h2 = styles["BodyText"], styles["Title"], styles["Heading2"]
    esc = html.escape

    def footer(canvas, doc):
        canvas.saveState()
        canvas.setFont("Helvetica", 8)
        canvas.drawString(15 * mm, 10 * mm, f"{pack.title}: meeting pack, {pack.period}. Data to {pack.data_to}.")
        canvas.drawRightString(195 * mm, 10 * mm, f"Page {doc.page}")
        canvas.restoreState()

    def table(rows, widths=None):
        t = Table(rows, colWidths=widths, repeatRows=1)
        t.setStyle(TableStyle([("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 8), ("FONT", (0, 1), (-1, -1),
                               "Helvetica", 8), ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8"))]))
        return t

    story = [Spacer(1, 30 * mm), Paragraph(esc(pack.title), h1), Paragraph(esc(pack.area), styles["Heading3"]),
             Paragraph(f"Priorities meeting pack. Period: {esc(pack.period)}. Data to {esc(pack.data_to)}.", body),
             Paragraph(f"Produced {date.today():%d %B %Y} by CSP Hotspots.", body), Spacer(1, 8 * mm)]
    summary = [["Priority", "Status", "Why"]]
    for r in pack.results:
        summary.append([Paragraph(esc(f"{r.priority.id} {r.priority.title}"), body),
                        Paragraph(f'<font color="{STATUS_COLOURS[r.status]}"><b>{esc(_status_line(r))}</b></font>',
                                  body), Paragraph(esc(r.sentence), body)])
    story += [table(summary, [45 * mm, 28 * mm, 107 * mm]), PageBreak()]
    for r in pack.results:
        story += [Paragraph(esc(f"{r.priority.id} {r.priority.title}"), h1),
                  Paragraph(f"<i>{esc(r.priority.wording)}</i>", body),
                  Paragraph(f'<font color="{STATUS_COLOURS[r.status]}"><b>{esc(_status_line(r))}</b></font>: '
                            f"{esc(r.sentence)}", body)]
        for i, m in enumerate(r.measures):
            story.append(Paragraph(esc(m.measure.label), h2))
            if m.current.count is None:
                story.append(Paragraph(esc(m.sentence), body))
                continue
            if m.withheld:
                story.append(Paragraph(esc(disclosure.NOTE), body))
            story.append(Paragraph(esc(
                f"{m.current.count} in {span(m.current.start, m.current.end)}; {m.previous.phrase(m.current)}; "
                f"{m.year_earlier.phrase(m.current)}."), body))
            story.append(Table([[Image(io.BytesIO(pack.images[(r.priority.id, i, "map")]), 70 * mm, 70 * mm),
                                 table(_ward_rows(m))]], colWidths=[72 * mm, 108 * mm]))
            story.append(Image(io.BytesIO(pack.images[(r.priority.id, i, "trend")]), 160 * mm, 57 * mm))
        if r.priority.gaps:
            story.append(Paragraph("Not measured", h2))
            story += [Paragraph(esc(f"{g.what}: {g.why}."), body) for g in r.priority.gaps]
        story.append(PageBreak())
    story += [Paragraph("Sources and licences", h1)]
    story += [Paragraph(f"<b>{esc(name)}</b>: {esc(text)}", body) for name, text in ATTRIBUTIONS]
    story.append(Paragraph(esc(
        "Method: counts are incidents assigned to a ward of the area. Change tests: two-sided Poisson E-test "
        "(Krishnamoorthy & Thomson 2004); ward tests adjusted by Benjamini-Hochberg. Hot spots: Gi* "
        "(Getis & Ord 1992) on a square grid, adjacent cells, Benjamini-Hochberg adjusted. Months a source has "
        "not loaded are never counted as zero."), body))
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm,
                            bottomMargin=18 * mm, title=f"{pack.title}: meeting pack", author="CSP Hotspots")
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()


# --------------------------------------------------------------------------------------------- HTML
_CSS = """body{font-family:sans-serif;max-width:190mm;margin:auto;color:#111}section{page-break-after:always}
table{border-collapse:collapse;font-size:10pt}td,th{border:1px solid #999;padding:2px 6px;text-align:left}
footer{font-size:9pt;color:#444;border-top:1px solid #999;margin-top:1em}img{max-width:100%}
@media print{footer{position:running(footer)}}"""


def to_html(pack: Pack) -> str:
    """The pack as one self-contained printable HTML page (images inline, no external request)."""
    esc = html.escape
    foot = f"<footer>{esc(pack.title)}: meeting pack, {esc(pack.period)}. Data to {esc(pack.data_to)}.</footer>"

    def img(key):
        return f'<img alt="" src="data:image/png;base64,{base64.b64encode(pack.images[key]).decode()}">'

    def rows_html(rows):
        head, *rest = rows
        return ("<table><tr>" + "".join(f"<th>{esc(h)}</th>" for h in head) + "</tr>"
                + "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in rest)
                + "</table>")

    summary = [["Priority", "Status", "Why"]] + [[f"{r.priority.id} {r.priority.title}", _status_line(r),
                                                   r.sentence] for r in pack.results]
    parts = [f"<section><h1>{esc(pack.title)}</h1><h2>{esc(pack.area)}</h2><p>Priorities meeting pack. Period: "
             f"{esc(pack.period)}. Data to {esc(pack.data_to)}.</p>{rows_html(summary)}{foot}</section>"]
    for r in pack.results:
        out = [f"<section><h1>{esc(r.priority.id)} {esc(r.priority.title)}</h1><p><i>{esc(r.priority.wording)}</i>"
               f'</p><p><b style="color:{STATUS_COLOURS[r.status]}">{esc(_status_line(r))}</b>: {esc(r.sentence)}</p>']
        for i, m in enumerate(r.measures):
            out.append(f"<h2>{esc(m.measure.label)}</h2>")
            if m.current.count is None:
                out.append(f"<p>{esc(m.sentence)}</p>")
                continue
            if m.withheld:
                out.append(f"<p>{esc(disclosure.NOTE)}</p>")
            out.append(f"<p>{esc(str(m.current.count))} in {esc(span(m.current.start, m.current.end))}; "
                       f"{esc(m.previous.phrase(m.current))}; {esc(m.year_earlier.phrase(m.current))}.</p>")
            out.append(img((r.priority.id, i, "map")) + rows_html(_ward_rows(m)) + img((r.priority.id, i, "trend")))
        if r.priority.gaps:
            out.append("<h2>Not measured</h2>" + "".join(f"<p>{esc(g.what)}: {esc(g.why)}.</p>"
                                                         for g in r.priority.gaps))
        parts.append("".join(out) + foot + "</section>")
    parts.append("<section><h1>Sources and licences</h1>" + "".join(
        f"<p><b>{esc(n)}</b>: {esc(t)}</p>" for n, t in ATTRIBUTIONS) + foot + "</section>")
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{esc(pack.title)}: meeting pack'
            f"</title><style>{_CSS}</style></head><body>{''.join(parts)}</body></html>")


def render(pack: Pack, fmt: str = "pdf") -> bytes:
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
    return to_pdf(pack) if fmt == "pdf" else to_html(pack).encode("utf-8")
