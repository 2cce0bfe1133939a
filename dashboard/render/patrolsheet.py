"""The printable patrol sheet: an overview page (every zone on a map of the district, every ward named;
one line per zone: incidents, trend, what mostly, the busiest streets; then the method's parameters),
then one page per zone with its map (:mod:`dashboard.render.staticmap`: ward outlines and names, the
zone outlines, the zone's streets and places labelled, other named police.uk map points for
orientation, the offline roads), counts and trend.

Built when asked (:func:`build`; the patrol planner builds it on a button, not on every view) as blocks
of :mod:`dashboard.render.document` (:func:`blocks`), written as PDF (:func:`to_pdf`, A4, the maps
vector so their ward and street names are text) or HTML (:func:`to_html`, the maps inline SVG, a
section per printed page). Every text from data is escaped.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date

from dashboard.attributions import SOURCES_CREDIT
from dashboard.render import document, staticmap
from dashboard.render.document import Grid, PageBreak, Picture, Text, plain
from geodata import places as place_rules
from geodata.analysis.patrol_zones import NO_DAY_OR_TIME
from geodata.methods.pvalue import p_clause
from loaders.coords import bng_to_wgs84


@dataclass(frozen=True)
class ZonePage:
    """One zone's page: heading, fact lines, street rows, place rows (with their flags), the map."""

    heading: str
    facts: tuple[str, ...]
    streets: tuple[tuple[str, str], ...]
    places: tuple[tuple[str, str, str, str], ...]
    map: staticmap.Drawn


@dataclass(frozen=True)
class Sheet:
    """The title, intro, method and footing; the overview (the map of every zone, a row per zone: zone,
    incidents, trend, mostly, busiest streets); a page per zone."""

    title: str
    intro: str
    method: tuple[str, ...]
    pages: tuple[ZonePage, ...]
    overview: tuple[tuple[str, str, str, str, str], ...] = ()
    overview_map: staticmap.Drawn | None = None
    footing: str = ""


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


def zone_map(z, zones, wards, labels, caption: str, streets=None) -> staticmap.Drawn:
    """Zone ``z``'s map (:func:`dashboard.render.staticmap.draw`, in points): ward outlines and names,
    every zone outlined (``z`` bold), the labels, and the roads, rail and water of ``streets``
    (:class:`geodata.basemap.Basemap`, with the OpenStreetMap attribution) when given; the sources' credit
    (:data:`dashboard.attributions.SOURCES_CREDIT`) at its foot."""
    x0, y0, x1, y1 = z.geometry.bounds
    return staticmap.draw(
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
        credit=SOURCES_CREDIT,
    )


def build(
    area: str, found, wards, *, categories, period: str, before: str, confidence: str, ranked_by: str, base_map=None
) -> Sheet:
    """The sheet for ``found`` (:class:`geodata.analysis.patrol_zones.PatrolZones` with zones):
    ``wards`` a GeoDataFrame (code, name, geometry, EPSG:27700) for the maps; ``base_map`` the offline base
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
        f"Sources: {SOURCES_CREDIT}" + (f" Roads: {staticmap.OSM}, ODbL." if base_map is not None else ""),
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
        drawn = zone_map(
            z, zones, wards, _labels(z, found.street_points), f"Zone {int(z['zone'])}: {cats}, {period}", base_map
        )
        pages.append(
            ZonePage(f"Zone {int(z['zone'])}: {int(z['incidents'])} incidents", facts, streets, place_rows, drawn)
        )
    overview = staticmap.draw(  # the whole district: where the zones are, every ward named
        (wards["code"], wards["name"], wards.geometry.to_numpy()),
        zones=(zones["zone"].to_numpy(), zones.geometry.to_numpy()),
        caption=f"All zones: {cats}, {period}",
        title=f"All zones: {cats}, {period}",
        width=7.0 * 72,
        height=5.6 * 72,
        font=9,
        basemap=base_map,
        credit=SOURCES_CREDIT,
    )
    intro = (
        f"{cats}, {period}. Ranked by {ranked_by}. Produced {date.today():%d %B %Y} by CSP Hotspots. {NO_DAY_OR_TIME}"
    )
    title = f"Patrol sheet: {area}"
    footing = f"{title}: {cats}, {period}."
    return Sheet(title, intro, method, tuple(pages), overview_rows(zones), overview, footing)


#: Streets listed on a zone's page (all of them are in the GPX download).
PAGE_STREETS = 10


def blocks(sheet: Sheet) -> list:
    """The sheet's pages as document blocks: the overview (intro, the map of every zone, a line per
    zone, the method), then a page per zone (its map, facts, streets and places)."""
    esc = html.escape
    out: list = [Text(esc(sheet.title), "title"), Text(esc(sheet.intro), "small")]
    if sheet.overview_map is not None and sheet.overview:
        out += [
            Text("All zones", "heading"),
            Picture(sheet.overview_map, 168),
            Grid(plain([list(OVERVIEW_COLUMNS), *map(list, sheet.overview)]), [11, 17, 35, 42, 75], small=True),
        ]
    out += [Text("Method", "subtitle"), *(Text(esc(m), "small") for m in sheet.method)]
    if not sheet.pages:
        out.append(Text("No zone for this choice."))
    for p in sheet.pages:
        out += [PageBreak(), Text(esc(p.heading), "heading"), Picture(p.map, 150)]
        out += [Text(esc(f), "small") for f in p.facts]
        out.append(
            Grid(
                plain([["Street (police.uk)", "Incidents"], *map(list, p.streets[:PAGE_STREETS])]),
                [120, 25],
                small=True,
            )
        )
        if len(p.streets) > PAGE_STREETS:
            more = len(p.streets) - PAGE_STREETS
            out.append(Text(esc(f"... and {more} more streets (all in the GPX download)."), "small"))
        if p.places:
            head = ["Place (not a street)", "Incidents", "Nearest named street", "Note"]
            out.append(Grid(plain([head, *map(list, p.places)]), [45, 17, 45, 63], small=True))
    return out


def to_html(sheet: Sheet) -> str:
    """The sheet as one self-contained HTML page (the maps inline SVG), a section per printed page."""
    return document.to_html(blocks(sheet), sheet.title, sheet.footing)


def to_pdf(sheet: Sheet) -> bytes:
    """The sheet as an A4 PDF: the overview page, then one page per zone; the maps vector (names as text)."""
    return document.to_pdf(blocks(sheet), sheet.title, sheet.footing)
