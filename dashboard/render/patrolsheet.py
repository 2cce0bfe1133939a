"""The printable patrol sheet: an overview page (every zone on one map, one line per zone: incidents,
trend, what mostly, the busiest streets; then the method's parameters), then one page per zone with
its map (:mod:`dashboard.render.staticmap`: ward outlines and names, the zone outlines, the zone's
streets and places labelled, other named police.uk map points for orientation), counts and trend.

Built when asked (:func:`build`; the patrol planner builds it on a button, not on every view) and
written as HTML (:func:`to_html`, images inline, a page break before each zone) or PDF
(:func:`to_pdf`, A4, reportlab). Every text from data is escaped.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass
from datetime import date

from dashboard.render import staticmap
from geodata import places as place_rules
from geodata.analysis.patrol_zones import NO_DAY_OR_TIME
from geodata.methods.pvalue import p_clause
from loaders.coords import bng_to_wgs84


@dataclass(frozen=True)
class ZonePage:
    """One zone's page: heading, fact lines, street rows, place rows (with their flags), the map PNG."""

    heading: str
    facts: tuple[str, ...]
    streets: tuple[tuple[str, str], ...]
    places: tuple[tuple[str, str, str, str], ...]
    map_png: bytes


@dataclass(frozen=True)
class Sheet:
    """The title, intro and method; the overview (map PNG of every zone, a row per zone: zone,
    incidents, trend, mostly, busiest streets); a page per zone."""

    title: str
    intro: str
    method: tuple[str, ...]
    pages: tuple[ZonePage, ...]
    overview: tuple[tuple[str, str, str, str, str], ...] = ()
    overview_png: bytes = b""


#: The columns of an overview row.
OVERVIEW_COLUMNS = ("Zone", "Incidents", "Trend", "Mostly", "Busiest streets")
#: Streets named on a zone's overview line.
OVERVIEW_STREETS = 3


def _short_trend(z) -> str:
    if z["previous"] != z["previous"]:
        return "no comparison"
    return "new" if z["previous"] == 0 else f"{z['change_pct']:+.0f}% ({p_clause(z['p'])})"


def overview_rows(zones) -> tuple[tuple[str, str, str, str, str], ...]:
    """One line per zone (:data:`OVERVIEW_COLUMNS`): its number, incidents, trend against the months
    before, its top crime type and its :data:`OVERVIEW_STREETS` busiest streets."""
    return tuple(
        (
            str(int(z["zone"])),
            f"{int(z['incidents']):,}",
            _short_trend(z),
            z["top_categories"][0][0] if z["top_categories"] else "",
            ", ".join(s for s, *_ in z["streets"][:OVERVIEW_STREETS]),
        )
        for _, z in zones.iterrows()
    )


def _trend(z, before: str) -> str:
    if z["previous"] != z["previous"]:  # NaN: the months before are not all loaded
        return f"no comparison: the months before ({before}) are not all loaded"
    change = "new (none before)" if z["previous"] == 0 else f"{z['change_pct']:+.0f}%"
    return f"{int(z['incidents'])} against {int(z['previous'])} in {before}: {change} (change test, {p_clause(z['p'])})"


def _labels(z, street_points) -> list[staticmap.Label]:
    """The zone's streets (bold), places (italic; flagged in red) and, for orientation, every other
    named police.uk map point (grey), busiest first."""
    labels = [staticmap.Label(x, y, f"{s} ({n})", "street", 1e6 + n) for s, n, x, y in z["streets"]]
    labels += [
        staticmap.Label(
            x, y, f"{p} ({n})" + (" [recorded here?]" if flag else ""), "flagged" if flag else "place", 1e6 + n
        )
        for p, n, x, y, _, _, flag in z["places"]
    ]
    if street_points is not None and len(street_points):
        named = street_points[street_points["location_text"].map(place_rules.is_street).astype(bool)]
        shown = {s for s, *_ in z["streets"]}
        names = named["location_text"].map(place_rules.bare)
        busiest = named.assign(name=names).sort_values("incidents", ascending=False).drop_duplicates("name")
        labels += [
            staticmap.Label(float(r.x), float(r.y), str(r.name), "context", float(r.incidents))
            for r in busiest.itertuples()
            if r.name not in shown
        ]
    return labels


def zone_map(z, zones, wards, labels, caption: str, streets=None):
    """Zone ``z``'s map (PNG, and what :func:`dashboard.render.staticmap.png` drew): ward outlines and names,
    every zone outlined (``z`` bold), the labels, and the roads, rail and water of ``streets``
    (:class:`geodata.basemap.Basemap`, with the OpenStreetMap attribution) when given."""
    x0, y0, x1, y1 = z.geometry.bounds
    return staticmap.png(
        wards=(wards["code"], wards["name"], wards.geometry.to_numpy()),
        extent=(x0, y0, x1, y1),
        pad=120.0,
        zones=(zones["zone"].to_numpy(), zones.geometry.to_numpy()),
        highlight=int(z["zone"]),
        labels=labels,
        caption=caption,
        title=f"Zone {int(z['zone'])} map",
        width=7.0 * 72,
        height=6.2 * 72,
        font=9,
        basemap=streets,
    )


def build(
    area: str, found, wards, *, categories, period: str, before: str, confidence: str, ranked_by: str, base_map=None
) -> Sheet:
    """The sheet for ``found`` (:class:`geodata.analysis.patrol_zones.PatrolZones` with zones):
    ``wards`` a GeoDataFrame (code, name, geometry, EPSG:27700) for the maps; ``streets`` the offline base
    map drawn under them (:func:`zone_map`; default none)."""
    zones, grid = found.zones, found.grid
    cats = ", ".join(categories) if categories else "all crime types"
    method = (
        f"Gi* hot spots on {grid.shape} cells of {grid.cell_size:g} m (the 8 touching cells as neighbours), "
        f"Benjamini-Hochberg adjusted; cells hot at {confidence} confidence grouped where they touch.",
        *(n for n in found.notes if n != NO_DAY_OR_TIME),
        f"Hot spot test: {zones.attrs.get('note', '')}.",
        "Locations are police.uk anonymised map points (the centre of a street, or a public place or premises "
        "named by its type), not addresses. A place such as 'Supermarket' is listed beside the nearest named "
        "street; 'Police Station' may mark where a crime was recorded, not where it was committed.",
    )
    pages = []
    for _, z in zones.iterrows():
        lon, lat = bng_to_wgs84(z["centre_x"], z["centre_y"])
        harm = "" if z["harm"] != z["harm"] else f"; harm {z['harm']:,.1f}"
        facts = (
            f"{int(z['incidents'])} incidents{harm} in {period}; {z['area_km2']:.2f} km² "
            f"({int(z['cells'])} cells of {grid.cell_size:g} m).",
            f"Trend: {_trend(z, before)}.",
            "By month: " + ", ".join(f"{m} {n}" for m, n in z["months"]) + ".",
            "Mostly: " + ", ".join(f"{c} ({n})" for c, n in z["top_categories"]) + ".",
            f"Centre {lat:.5f}, {lon:.5f} (BNG {z['centre_x']:.0f}, {z['centre_y']:.0f}).",
        )
        streets = tuple((s, str(n)) for s, n, *_ in z["streets"])
        place_rows = tuple(
            (p, str(n), f"{near} ({d:.0f} m)" if near else "no named street loaded", flag)
            for p, n, _, _, near, d, flag in z["places"]
        )
        png, _drawn = zone_map(
            z, zones, wards, _labels(z, found.street_points), f"Zone {int(z['zone'])}: {cats}, {period}", base_map
        )
        pages.append(
            ZonePage(f"Zone {int(z['zone'])}: {int(z['incidents'])} incidents", facts, streets, place_rows, png)
        )
    overview, _drawn = staticmap.png(
        wards=(wards["code"], wards["name"], wards.geometry.to_numpy()),
        extent=tuple(zones.total_bounds),
        pad=400.0,
        zones=(zones["zone"].to_numpy(), zones.geometry.to_numpy()),
        caption=f"All zones: {cats}, {period}",
        title=f"All zones: {cats}, {period}",
        width=7.0 * 72,
        height=5.0 * 72,
        font=9,
        basemap=base_map,
    )
    intro = (
        f"{cats}, {period}. Ranked by {ranked_by}. Produced {date.today():%d %B %Y} by CSP Hotspots. {NO_DAY_OR_TIME}"
    )
    return Sheet(f"Patrol sheet: {area}", intro, method, tuple(pages), overview_rows(zones), overview)


def to_html(sheet: Sheet) -> str:
    """The sheet as one HTML page: the overview (intro, the map of every zone, a line per zone, the method),
    then a section per zone starting a new printed page."""
    esc = html.escape
    blocks = []
    overview = ""
    if sheet.overview:
        overview = (
            "<h2>All zones</h2>"
            f'<img alt="Map of all zones" src="data:image/png;base64,{base64.b64encode(sheet.overview_png).decode()}">'
            + "<table><tr>"
            + "".join(f"<th>{c}</th>" for c in OVERVIEW_COLUMNS)
            + "</tr>"
            + "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in sheet.overview)
            + "</table>"
        )
    for p in sheet.pages:
        places = (
            (
                "<h3>Places (police.uk place labels, not streets)</h3><table><tr><th>Place</th><th>Incidents</th>"
                "<th>Nearest named street</th><th>Note</th></tr>"
                + "".join(
                    f"<tr><td>{esc(a)}</td><td>{b}</td><td>{esc(c)}</td><td>{esc(d)}</td></tr>"
                    for a, b, c, d in p.places
                )
                + "</table>"
            )
            if p.places
            else ""
        )
        blocks.append(
            f'<section class="zone"><h2>{esc(p.heading)}</h2>'
            f'<img alt="Map of {esc(p.heading)}" src="data:image/png;base64,{base64.b64encode(p.map_png).decode()}">'
            + "".join(f"<p>{esc(f)}</p>" for f in p.facts)
            + "<h3>Streets</h3><table><tr><th>Street (police.uk)</th><th>Incidents</th></tr>"
            + "".join(f"<tr><td>{esc(s)}</td><td>{n}</td></tr>" for s, n in p.streets)
            + "</table>"
            + places
            + "</section>"
        )
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{esc(sheet.title)}</title>'
        "<style>body{font-family:sans-serif;max-width:180mm;margin:auto}table{border-collapse:collapse}"
        "td,th{border:1px solid #999;padding:2px 8px;text-align:left}img{width:100%}"
        "section.zone{page-break-before:always}</style></head>"
        f'<body><section class="overview"><h1>{esc(sheet.title)}</h1><p>{esc(sheet.intro)}</p>'
        + overview
        + "<h3>Method</h3><ul>"
        + "".join(f"<li>{esc(m)}</li>" for m in sheet.method)
        + "</ul></section>"
        + ("".join(blocks) or "<p>No zone for this choice.</p>")
        + "</body></html>"
    )


def to_pdf(sheet: Sheet) -> bytes:
    """The sheet as an A4 PDF: a first page with the overview (every zone on one map, a line per zone) and
    the method, then one page per zone with its map."""
    import io

    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Image, PageBreak, Paragraph, SimpleDocTemplate, Table, TableStyle

    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=7.5, leading=9)
    esc = html.escape

    def table(rows, widths):
        t = Table([[Paragraph(esc(c), small) for c in row] for row in rows], colWidths=widths, repeatRows=1)
        t.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")),
                ]
            )
        )
        return t

    story = [Paragraph(esc(sheet.title), styles["Title"]), Paragraph(esc(sheet.intro), small)]
    if sheet.overview:
        story += [
            Paragraph("All zones", styles["Heading2"]),
            Image(io.BytesIO(sheet.overview_png), width=168 * mm, height=120 * mm),
            table([OVERVIEW_COLUMNS, *sheet.overview], [11 * mm, 17 * mm, 35 * mm, 42 * mm, 75 * mm]),
        ]
    story += [Paragraph("Method", styles["Heading3"])] + [Paragraph(esc(m), small) for m in sheet.method]
    for p in sheet.pages:
        story += [
            PageBreak(),
            Paragraph(esc(p.heading), styles["Heading2"]),
            Image(io.BytesIO(p.map_png), width=150 * mm, height=133 * mm),
        ]
        story += [Paragraph(esc(f), small) for f in p.facts]
        story.append(table([("Street (police.uk)", "Incidents"), *p.streets[:10]], [120 * mm, 25 * mm]))
        if len(p.streets) > 10:
            story.append(
                Paragraph(esc(f"... and {len(p.streets) - 10} more streets (all in the GPX and HTML)."), small)
            )
        if p.places:
            story.append(
                table(
                    [("Place (not a street)", "Incidents", "Nearest named street", "Note"), *p.places],
                    [45 * mm, 17 * mm, 45 * mm, 63 * mm],
                )
            )
    buf = io.BytesIO()
    SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=sheet.title,
    ).build(story)
    return buf.getvalue()
