"""The one document model: the meeting pack (:mod:`dashboard.render.pack`), the patrol sheet
(:mod:`dashboard.render.patrolsheet`) and the partnership's reports (:mod:`dashboard.render.reports`)
are written as a list of blocks, then drawn here as an A4 PDF (:func:`to_pdf`, reportlab) or as one
self-contained printable HTML page (:func:`to_html`), so the two formats cannot drift apart.

Blocks: :class:`Text` (title, subtitle, heading, body, note or small), :class:`Grid` (a table, the first
row its header), :class:`Picture` (a map or chart drawn as shapes, :class:`dashboard.render.staticmap.Drawn`:
a vector drawing in the PDF, so its names are text a reader can search and extract, and inline SVG in
the HTML), :class:`Beside` (a picture with a table beside it), :class:`Together` (blocks kept on one
page), :class:`Space` and :class:`PageBreak`. Every page carries the document's footing (its period and
"Data to <month>") and, in the PDF, its page number.

Text in a block is inline markup: every piece of data or config is escaped (:func:`plain`,
``html.escape``) by the builder before it is put in; the only tags are the builders' own ``<b>``,
``<i>`` and ``<font color="#rrggbb">``.
"""

from __future__ import annotations

import html
import io
import re
from dataclasses import dataclass

from dashboard.render.staticmap import Drawn

FORMATS = ("pdf", "html")
#: The A4 page's text width (mm): 210 less 15 mm margins.
TEXT_MM = 180


@dataclass(frozen=True)
class Text:
    markup: str
    style: str = "body"  # "title", "subtitle", "heading", "body", "note" (italic) or "small"


@dataclass(frozen=True)
class Picture:
    drawn: Drawn  # a map (dashboard.render.staticmap) or a chart (dashboard.render.charts)
    width_mm: float  # the height follows from the drawing's proportions


@dataclass(frozen=True)
class Grid:
    rows: list[list[str]]  # the first row is the header; cells are inline markup
    widths_mm: list[float] | None = None
    small: bool = False  # a dense table: smaller type in the PDF


@dataclass(frozen=True)
class Beside:
    """A picture with a table beside it (a ward map and its top wards)."""

    picture: Picture
    grid: Grid


@dataclass(frozen=True)
class Together:
    """Blocks kept on one page (never a few lines left over on a page of their own)."""

    blocks: list


@dataclass(frozen=True)
class Space:
    """Blank space (PDF only: the first page's top)."""

    height_mm: float


@dataclass(frozen=True)
class PageBreak:
    pass


def plain(rows: list[list[str]]) -> list[list[str]]:
    """Table rows of plain text (from data) as escaped markup."""
    return [[html.escape(c) for c in row] for row in rows]


# ---------------------------------------------------------------------------------------------- PDF
def to_pdf(blocks: list, title: str, footing: str) -> bytes:
    """``blocks`` as an A4 portrait PDF (15 mm margins), ``footing`` and the page number on every page;
    ``title`` the PDF's title."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
    from reportlab.platypus import PageBreak as RLPageBreak

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

    def table(b: Grid):
        cell = style["small"] if b.small else style["body"]
        head, *rest = b.rows
        cells = [[Paragraph(f"<b>{c}</b>", cell) for c in head], *[[Paragraph(c, cell) for c in row] for row in rest]]
        t = Table(cells, colWidths=[w * mm for w in b.widths_mm] if b.widths_mm else None, repeatRows=1, hAlign="LEFT")
        dense = [("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3)]
        dense += [("TOPPADDING", (0, 0), (-1, -1), 1.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5)]
        t.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    *(dense if b.small else []),
                ]
            )
        )
        return t

    def flow(b) -> list:
        if isinstance(b, Together):
            return [KeepTogether([f for x in b.blocks for f in flow(x)])]
        if isinstance(b, Text):
            return [Paragraph(b.markup, style[b.style])]
        if isinstance(b, Picture):
            return [Spacer(1, 2 * mm), b.drawn.pdf(b.width_mm * mm)]  # vector: its text is text in the PDF
        if isinstance(b, Grid):
            return [Spacer(1, 4 * mm), table(b), Spacer(1, 3 * mm)]
        if isinstance(b, Beside):
            pw = b.picture.width_mm
            beside = Table(
                [[b.picture.drawn.pdf(pw * mm), table(b.grid)]], colWidths=[(pw + 2) * mm, (TEXT_MM - 2 - pw) * mm]
            )
            beside.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (0, 0), 0)]))
            return [beside]
        if isinstance(b, Space):
            return [Spacer(1, b.height_mm * mm)]
        return [RLPageBreak()]

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
    doc.build([f for b in blocks for f in flow(b)], onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()


# --------------------------------------------------------------------------------------------- HTML
_CSS = """body{font-family:sans-serif;max-width:190mm;margin:auto;color:#111}
section{page-break-after:always;break-after:page}table{border-collapse:collapse;font-size:10pt;margin:0.5em 0}
td,th{border:1px solid #999;padding:2px 6px;text-align:left;vertical-align:top}th{background:#e8e8e8}
.beside{display:flex;gap:1em;align-items:flex-start}.note{font-style:italic}.small{font-size:9pt}
.picture{max-width:100%}footer{font-size:9pt;color:#444;border-top:1px solid #999;margin-top:1em}"""

_HTML_TAG = {"title": "h1", "subtitle": "h3", "heading": "h2", "body": "p", "note": "p", "small": "p"}


def _html_markup(markup: str) -> str:
    """Inline markup in HTML: <font color> (all the builders' own: data is escaped) becomes a span."""
    return re.sub(r'<font color="(#[0-9A-Fa-f]{6})">', r'<span style="color:\1">', markup).replace("</font>", "</span>")


def to_html(blocks: list, title: str, footing: str) -> str:
    """``blocks`` as one self-contained printable HTML page (pictures as inline SVG, no external request):
    a ``<section>`` per PDF page (split at each :class:`PageBreak`), ``footing`` under each."""
    foot = f"<footer>{html.escape(footing)}</footer>"

    def picture(b: Picture) -> str:
        return f'<div class="picture" style="width:{b.width_mm}mm">{b.drawn.svg()}</div>'

    def table(b: Grid) -> str:
        head, *rest = b.rows
        return (
            "<table><tr>"
            + "".join(f"<th>{_html_markup(h)}</th>" for h in head)
            + "</tr>"
            + "".join("<tr>" + "".join(f"<td>{_html_markup(c)}</td>" for c in row) + "</tr>" for row in rest)
            + "</table>"
        )

    sections, out = [], []
    flat = [x for b in blocks for x in (b.blocks if isinstance(b, Together) else [b])]
    for b in [*flat, PageBreak()]:
        if isinstance(b, Text):
            tag = _HTML_TAG[b.style]
            cls = f' class="{b.style}"' if b.style in ("note", "small") else ""
            out.append(f"<{tag}{cls}>{_html_markup(b.markup)}</{tag}>")
        elif isinstance(b, Picture):
            out.append(picture(b))
        elif isinstance(b, Grid):
            out.append(table(b))
        elif isinstance(b, Beside):
            out.append(f'<div class="beside">{picture(b.picture)}{table(b.grid)}</div>')
        elif isinstance(b, PageBreak):
            sections.append(f"<section>{''.join(out)}{foot}</section>")
            out = []
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}'
        f"</title><style>{_CSS}</style></head><body>{''.join(sections)}</body></html>"
    )


def render(blocks: list, title: str, footing: str, fmt: str = "pdf") -> bytes:
    """``blocks`` as PDF or HTML (:data:`FORMATS`), as bytes."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
    return to_pdf(blocks, title, footing) if fmt == "pdf" else to_html(blocks, title, footing).encode("utf-8")
